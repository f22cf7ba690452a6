"""The intake readers on bad input: each gives a clear message naming the file, or a row with
its problem — never a traceback, never a lost row (S6); and, for any generated file,
every row is accounted for."""

from __future__ import annotations

import json
from unittest import mock

import intake_fixtures as fx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intake_fixtures import bad_input, order_report, problems_of, write

from kit.i18n import catalogue, set_lang
from kit.intake import encoding as enc
from kit.intake.readers import read

# --- bad input ------------------------------------------------------------------------

def test_wrong_encoding_names_the_file_and_the_byte(tmp_path):
    """S6: a file in no known encoding, or damaged UTF-8, is refused, naming the file and byte."""
    utf16 = write(tmp_path, "ExportOrderList_u16.csv", "订单编号,订单状态\n1,交易成功\n".encode("utf-16"))
    broken = write(tmp_path, "ExportOrderList_bad.csv", "订单编号,订单状态\n".encode("gbk") + b"1,\x80\xff\n")

    assert "ExportOrderList_u16.csv" in bad_input("intake.undecodable", utf16).message
    error = bad_input("intake.undecodable", broken)
    assert error.params["offset"] == len("订单编号,订单状态\n".encode("gbk")) + 2
    head = "订单编号,订单状态\n1,交易成功\n".encode()
    damaged = write(tmp_path, "ExportOrderList_damaged.csv", head + b"2,\xff\n")
    assert bad_input("intake.undecodable", damaged).params == {
        "file": damaged.name, "offset": len(head) + 2, "encoding": "UTF-8"}


@pytest.mark.parametrize("fault", sorted(fx.FILE_FAULTS))
def test_each_file_fault_is_refused_by_name_or_marked(tmp_path, fault):
    """S6: wrong encoding, a broken byte, no header row, a renamed column, an empty or a cut
    file: a message naming the file, or the last row marked — never a traceback."""
    orders, _ = fx.shop(4, 13)
    path = write(tmp_path, "ExportOrderList_fault.csv", fx.file_fault(fault, fx.taobao_order_cells(orders)))
    expected = fx.FILE_FAULTS[fault]

    if expected.startswith("intake."):
        assert path.name in bad_input(expected, path).message
    else:
        intake = read(path)
        assert intake.rows_in == 4 and expected in problems_of(intake)[-1]


def test_truncated_file_marks_its_last_row(tmp_path):
    """S6: a file cut in its last row (even inside a character) keeps the row, marked short_row."""
    for encoding in ("gbk", "utf-8"):
        path, _ = order_report(tmp_path, 5, encoding=encoding, truncate=True)
        intake = read(path)
        assert intake.rows_in == 5 and "short_row" in problems_of(intake)[-1]
        assert problems_of(intake)[:-1] == [[]] * 4


def test_file_cut_inside_a_quoted_field(tmp_path):
    """S6: a file ending inside a quoted message keeps its last row, marked short_row."""
    path, _ = order_report(tmp_path, 3)
    data = path.read_bytes() + '="1",x,,,,,,,,,,"未写完的留言'.encode("gbk")
    intake = read(write(tmp_path, "ExportOrderList_cut.csv", data))

    assert intake.rows_in == 4 and "short_row" in problems_of(intake)[-1]


def test_missing_header_row_and_renamed_column(tmp_path):
    """S6: no header row, or a renamed required column, is refused with the closest header."""
    path, _ = order_report(tmp_path, 3, header=False)
    error = bad_input("intake.no_header", path)
    assert path.name in error.message
    rename = {"订单编号": "订单号"}
    renamed, _ = order_report(tmp_path, 3, cells=lambda o: fx.taobao_order_cells(o).rename(rename))
    error = bad_input("intake.missing_header", renamed, format="taobao_csv")
    assert error.params["header"] == "订单编号" and error.params["closest"] == "订单号"


@pytest.mark.parametrize("fault", sorted(fx.FAULTS))
def test_bad_cells_become_problems_on_their_row(tmp_path, fault):
    """S6: a bad cell (12,50, another date format, letters in the order number …) is named, not guessed."""
    column, text, code = fx.FAULTS[fault]
    path, _ = order_report(tmp_path, 4,
                           cells=lambda o: fx.inject(fx.taobao_order_cells(o), column, text, [2]))

    intake = read(path)

    assert intake.rows_in == 4
    assert problems_of(intake) == [[], [], [f"{code}:{column.strip()}"], []]


def test_rows_with_fewer_or_more_fields(tmp_path):
    """S6: a row with fewer fields is short_row, with more is long_row; both are kept."""
    path, _ = order_report(tmp_path, 5, short_rows=(1,), long_rows=(3,))

    intake = read(path)

    assert problems_of(intake) == [[], ["short_row"], [], ["long_row"], []]
    assert json.loads(intake.rows["raw"][1])["预约门店"] is None


def test_a_stray_quote_is_read_by_the_lenient_fallback(tmp_path):
    """S6: a message with an unbalanced quote does not shift or lose rows."""
    path, orders = order_report(tmp_path, 4, cells=lambda o: fx.inject(fx.taobao_order_cells(o), "买家留言",
                                                                        '要"大号的', [1]))
    text = path.read_bytes().decode("gbk").replace('"要""大号的"', '要"大号的')
    intake = read(write(tmp_path, "ExportOrderList_stray.csv", text.encode("gbk")))

    assert intake.rows_in == 4 and intake.rows["order_no"].to_list() == orders["order_no"].to_list()
    assert intake.rows["buyer_message"][1] == '要"大号的'


def test_empty_files_are_refused_and_a_header_alone_is_no_orders(tmp_path):
    """S6: an empty file is refused by name; a header row alone reads as zero rows."""
    for data in (b"", b"\r\n \n", b"\xef\xbb\xbf"):
        assert "empty.csv" in bad_input("intake.empty_file", write(tmp_path, "empty.csv", data)).message
    header_only = write(tmp_path, "ExportOrderList0.csv", (",".join(fx.TAOBAO_46) + "\n").encode("gbk"))
    assert read(header_only).rows_in == 0


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path):
    """S6: a 2 GB export is refused at once, telling staff to split it by date."""
    big = tmp_path / "ExportOrderList_2GB.csv"
    with open(big, "wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: no disk used, nothing read

    error = bad_input("intake.too_large", big)

    assert error.params["size_mb"] == 2048.0 and "ExportOrderList_2GB.csv" in error.message
    small, _ = order_report(tmp_path, 3)
    bad_input("intake.too_large", small, max_bytes=100)


def test_file_level_mistakes_are_named(tmp_path):
    """S6: missing, repeated or mixed files and unknown formats are refused, never half-read."""
    path, _ = order_report(tmp_path, 2)
    bad_input("intake.not_found", tmp_path / "nope.csv")
    bad_input("intake.same_file", [path, path])
    bad_input("intake.no_files", [])
    bad_input("intake.unknown_format", path, format="pdf")
    jsonl = write(tmp_path, "a.jsonl", b'{"order_no": "1"}\n')
    bad_input("intake.mixed_formats", [path, jsonl])
    bad_input("intake.bad_workbook", write(tmp_path, "x.xlsx", b"PK\x03\x04 not really"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_intake_message_names_the_file(lang):
    """S6: each intake message, in both languages, tells which file (or files) it is about."""
    set_lang(lang)
    messages = {k: v for k, v in catalogue(lang).items() if k.startswith("intake.")}

    assert len(messages) >= 15
    assert [k for k, v in messages.items() if "{file" not in v and k != "intake.no_files"] == []


def test_big_order_report_is_written_whole_column(tmp_path):
    """The benchmark's generator writes a GBK 订单报表 that reads back row for row."""
    path = fx.big_order_report(2_000, tmp_path / "ExportOrderList_big.csv")

    intake = read(path)

    assert intake.rows_in == 2_000 and intake.rows["problems"].list.len().sum() == 0


# --- properties -----------------------------------------------------------------------

CELL_FAULTS = sorted(fx.FAULTS)
ROW_FAULTS = ["short_row", "long_row"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 14), seed=st.integers(0, 50), layout=st.sampled_from([46, 56, 61]),
       encoding=st.sampled_from(["gbk", "gb18030", "utf-8", "utf-8-sig"]),
       faults=st.dictionaries(st.integers(0, 13), st.sampled_from(CELL_FAULTS + ROW_FAULTS), max_size=5),
       truncate=st.booleans(), piece=st.sampled_from([None, 1, 700, 3000]),
       eol=st.sampled_from(["\n", "\r\n"]))
def test_every_row_of_an_order_report_is_accounted_for(tmp_path, n, seed, layout, encoding, faults, truncate,
                                                        piece, eol):
    """S6: for any report (any layout, encoding, line ending), read in any pieces, rows_in
    equals its data rows; each is clean or names its fault."""
    faults = {i: f for i, f in faults.items() if i < n}
    orders, _ = fx.shop(n, seed)
    cells = fx.taobao_order_cells(orders, layout)
    for i, fault in faults.items():
        if fault in fx.FAULTS:
            column, text, _ = fx.FAULTS[fault]
            cells = fx.inject(cells, column, text, [i])
    data = fx.csv_bytes(cells, encoding, truncate=truncate and n > 0, eol=eol,
                        short_rows=tuple(i for i, f in faults.items() if f == "short_row"),
                        long_rows=tuple(i for i, f in faults.items() if f == "long_row"))

    with mock.patch("kit.intake.encoding.PIECE", piece or enc.PIECE):
        intake = read(write(tmp_path, f"ExportOrderList_{seed}.csv", data))

    assert intake.rows_in == n and intake.rows["row_no"].to_list() == list(range(1, n + 1))
    assert all(list(json.loads(r))[:3] == list(fx.LAYOUTS[layout][:3]) for r in intake.rows["raw"])
    assert all(e is None or isinstance(json.loads(e), dict) for e in intake.rows["extra"])
    found = problems_of(intake)
    for i in range(n):
        fault, cut = faults.get(i), truncate and i == n - 1
        if fault is None and not cut:
            assert found[i] == [] and intake.rows["order_no"][i] == orders["order_no"][i]
        if fault in fx.FAULTS:
            column, _, code = fx.FAULTS[fault]
            assert f"{code}:{column.strip()}" in found[i] or (cut and "short_row" in found[i])
        if fault in ROW_FAULTS:
            assert fault in found[i] or (cut and "short_row" in found[i])
        if cut:
            assert "short_row" in found[i]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 8), seed=st.integers(0, 50),
       kind=st.sampled_from(["item", "tmall", "generic", "jsonl"]),
       bad=st.sets(st.integers(0, 20), max_size=3))
def test_every_row_of_other_exports_is_accounted_for(tmp_path, n, seed, kind, bad):
    """S6: item reports, Tmall workbooks, mapped CSVs and JSON Lines: nothing dropped, nothing invented."""
    orders, lines = fx.shop(n, seed)
    bad = sorted(i for i in bad if i < lines.height)
    mapping = None
    if kind == "item":
        cells = fx.inject(fx.taobao_item_cells(lines), "购买数量", "1.5", bad)
        path = write(tmp_path, "ExportOrderDetailList.csv", fx.csv_bytes(cells, "gbk", trailing_comma=True))
        code = "bad_quantity:购买数量"
    elif kind == "tmall":
        cells = fx.inject(fx.tmall_cells(orders, lines), "订单创建时间", "30/11/2026", bad)
        path = write(tmp_path, "tmall.xlsx", fx.xlsx_bytes({"订单": cells}))
        code = "bad_date:订单创建时间"
    elif kind == "generic":
        cells = fx.inject(fx.generic_cells(orders, lines), "实付金额", "12,50", bad)
        path, mapping = write(tmp_path, "export.csv", fx.csv_bytes(cells, "gb18030")), fx.GENERIC_MAPPING
        code = "bad_amount:实付金额"
    else:
        data = fx.jsonl_bytes(fx.jsonl_frame(orders, lines), bad_lines=tuple(bad))
        path = write(tmp_path, "orders.jsonl", data)
        code = "bad_json"

    intake = read(path, mapping=mapping)

    assert intake.rows_in == lines.height
    found = problems_of(intake)
    assert [i for i, f in enumerate(found) if f] == bad and all(found[i] == [code] for i in bad)

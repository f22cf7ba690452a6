"""The intake readers: every export variant reads into the Intake frame, and every bad input
gives a clear message or a row with its problem — never a traceback, never a lost row (S6)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from unittest import mock

import intake_fixtures as fx
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.errors import BadInput
from kit.i18n import catalogue, set_lang
from kit.intake import encoding as enc
from kit.intake import parse as p
from kit.intake.readers import read
from kit.intake.rows import SCHEMA

TRUTH = ["order_no", "buyer_nick", "receiver_name", "receiver_mobile", "receiver_phone", "province",
         "city", "district", "address_detail", "postcode", "payment_method", "post_fee_fen",
         "payable_fen", "paid_fen", "buyer_message", "seller_memo", "created_at", "paid_at",
         "trade_status", "carrier_name", "tracking_no"]


def write(tmp: Path, name: str, data: bytes) -> Path:
    """The bytes written to tmp/name."""
    path = tmp / name
    path.write_bytes(data)
    return path


def order_report(tmp: Path, n: int = 12, *, seed: int = 1, layout: int = 46, encoding: str = "gbk",
                 cells=None, **faults) -> tuple[Path, pl.DataFrame]:
    """An 订单报表 of n synthetic orders, and their truth."""
    orders, _ = fx.shop(n, seed)
    cells = fx.taobao_order_cells(orders, layout) if cells is None else cells(orders)
    return write(tmp, "ExportOrderList202611.csv", fx.csv_bytes(cells, encoding, **faults)), orders


def problems_of(intake) -> list[list[str]]:
    """Each row's problem codes."""
    return intake.rows["problems"].to_list()


def bad_input(key: str, *args, **kwargs) -> BadInput:
    """The BadInput that read(*args, **kwargs) raises, checked to carry `key`."""
    with pytest.raises(BadInput) as caught:
        read(*args, **kwargs)
    assert caught.value.key == key, caught.value.message
    return caught.value


# --- Taobao 订单报表 and 宝贝报表 ---------------------------------------------------------

@pytest.mark.parametrize("layout", [46, 56, 61])
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_order_report_reads_every_layout_and_encoding(tmp_path, layout, encoding):
    """S6: every order of a 46/56/61-column report in GBK, GB18030 or UTF-8 (BOM or not) is read."""
    path, orders = order_report(tmp_path, 15, layout=layout, encoding=encoding)

    intake = read(path)

    assert (intake.format, intake.sources, intake.rows_in) == ("taobao_csv", (path.name,), 15)
    assert intake.rows.columns == list(SCHEMA) and intake.rows.schema == pl.Schema(SCHEMA)
    assert problems_of(intake) == [[]] * 15
    assert intake.rows.select(TRUTH).equals(orders.select(TRUTH))
    assert set(intake.rows["row_kind"]) == {"order"} and intake.rows["row_no"].to_list() == list(range(1, 16))


def test_order_report_facts_of_real_files(tmp_path):
    """S5: ="…" order numbers, ' phones, No: waybills, amounts in 元 and quoted messages are read."""
    orders, _ = fx.shop(6, 2)
    cells = fx.taobao_order_cells(orders, 46, yuan=True)
    cells = fx.inject(cells, "买家留言", '第一行, "引号"\n第二行', [0])
    cells = fx.inject(cells, "物流单号 ", "NO：YT1234567890123", [1])
    cells = fx.inject(cells, "联系手机", "'+86 138 0013 8000", [2])
    path = write(tmp_path, "ExportOrderList.csv", fx.csv_bytes(cells, "gbk"))

    rows = read(path).rows

    assert "元" in fx.csv_bytes(cells, "gbk").decode("gbk")
    assert rows["paid_fen"].to_list() == orders["paid_fen"].to_list()
    assert rows["order_no"].to_list() == orders["order_no"].to_list()
    assert rows["buyer_message"][0] == '第一行, "引号"\n第二行'
    assert rows["tracking_no"][1] == "YT1234567890123" and rows["receiver_mobile"][2] == "13800138000"
    assert problems_of(read(path)) == [[]] * 6


def test_trailing_space_headers_are_kept_in_raw(tmp_path):
    """S6: raw keeps each header as written (six carry a trailing space) with the original text."""
    path, orders = order_report(tmp_path, 3)

    raw = json.loads(read(path).rows["raw"][0])

    assert list(raw) == list(fx.TAOBAO_46)
    assert {"收货地址 ", "联系电话 ", "订单付款时间 ", "宝贝标题 ", "宝贝种类 ", "物流单号 "} <= set(raw)
    assert raw["订单编号"] == f'="{orders["order_no"][0]}"' and raw["联系手机"].startswith("'")


def test_unknown_and_unmapped_columns_go_to_extra(tmp_path):
    """S26: what the reader does not map (宝贝标题, 店铺名称 …) stays in extra, nothing is lost."""
    path, orders = order_report(tmp_path, 3, layout=61)

    extra = json.loads(read(path).rows["extra"][0])

    assert extra["宝贝标题"] == orders["title_text"][0] and extra["店铺名称"] == "示例小店"
    assert "主订单编号" in extra and "订单编号" not in extra and "收货地址" not in extra


def test_status_texts_map_to_trade_codes(tmp_path):
    """S1: 订单状态 text becomes the trade code; unknown text is unknown_status, not a guess."""
    texts = [*fx.STATUS_TEXT.values(), "等待发货了"]
    path, _ = order_report(tmp_path, len(texts), cells=lambda o: fx.taobao_order_cells(o).with_columns(
        订单状态=pl.Series(texts)))

    intake = read(path)

    assert intake.rows["trade_status"].to_list() == [*fx.STATUS_TEXT, None]
    assert problems_of(intake)[-1] == ["unknown_status:订单状态"]


def test_amount_semantics_of_the_order_report(tmp_path):
    """S5: payable = 货款 + 邮费, total = 总金额, discount = total − payable when not negative."""
    path, _ = order_report(tmp_path, 3, cells=lambda o: fx.taobao_order_cells(o).with_columns(
        买家应付货款=pl.Series(["90.00", "90.00", "90.00"]), 买家应付邮费=pl.Series(["10.00", "10", ""]),
        总金额=pl.Series(["100.00", "120.00", "90.00"]),
        买家实际支付金额=pl.Series(["100.00", "0.00", "88.5"])))

    rows = read(path).rows.select("payable_fen", "total_fen", "discount_fen", "post_fee_fen", "paid_fen")

    assert rows.rows() == [(10000, 10000, 0, 1000, 10000), (10000, 12000, 2000, 1000, 0),
                           (9000, 9000, 0, None, 8850)]


def test_cash_on_delivery_is_read_from_the_shipping_method(tmp_path):
    """S16: 货到付款 in 运送方式 marks the order COD; everything else is online."""
    path, orders = order_report(tmp_path, 30, seed=7)

    rows = read(path).rows

    assert rows["payment_method"].to_list() == orders["payment_method"].to_list()
    assert "cod" in rows["payment_method"].to_list()


def test_item_report_alone_gives_line_rows(tmp_path):
    """S11: 宝贝报表 rows (trailing comma) are lines: title, price, quantity, sku, spec, status."""
    _, lines = fx.shop(10, 3)
    path = write(tmp_path, "ExportOrderDetailList202611.csv", fx.csv_bytes(fx.taobao_item_cells(lines), "gbk",
                                                                           trailing_comma=True))
    intake = read(path)

    assert intake.rows_in == lines.height and problems_of(intake) == [[]] * lines.height
    assert set(intake.rows["row_kind"]) == {"line"}
    cols = ["order_no", "title", "price_fen", "quantity", "sku", "spec", "line_status"]
    assert intake.rows.select(cols).equals(lines.select(cols))
    assert intake.rows["spec"].str.contains("：").any()


def test_order_and_item_reports_read_together(tmp_path):
    """S6: the order report and its item report give one Intake with order and line rows."""
    orders, lines = fx.shop(8, 4)
    a = write(tmp_path, "ExportOrderList1.csv", fx.csv_bytes(fx.taobao_order_cells(orders), "gbk"))
    b = write(tmp_path, "ExportOrderDetailList1.csv", fx.csv_bytes(fx.taobao_item_cells(lines), "gbk",
                                                                   trailing_comma=True))
    intake = read([a, b])

    assert intake.sources == (a.name, b.name) and intake.rows_in == 8 + lines.height
    kinds = intake.rows.group_by("row_kind").len().sort("row_kind").rows()
    assert kinds == [("line", lines.height), ("order", 8)]
    assert set(intake.rows.filter(pl.col("row_kind") == "line")["order_no"]) == set(orders["order_no"])


def test_gb18030_characters_outside_gbk_are_read(tmp_path):
    """S10: a GB18030-only character (𠮷) is recorded exactly."""
    path, _ = order_report(tmp_path, 2, encoding="gb18030",
                           cells=lambda o: fx.inject(fx.taobao_order_cells(o), "收货人姓名", "𠮷小明", [1]))

    assert read(path).rows["receiver_name"][1] == "𠮷小明"


# --- the parsers ----------------------------------------------------------------------

def parsed(pair: p.Pair, values: list[str]) -> list:
    """The fast parser, then the slow one where the fast one read nothing."""
    fast, slow = pair
    slow = slow if slow is not None else pl.lit(None)
    frame = pl.DataFrame({"x": values}).select(fast.alias("f"), slow.alias("s"))
    return frame.select(pl.coalesce("f", "s")).to_series().to_list()


def test_amounts_are_read_in_fen_and_a_decimal_comma_is_refused():
    """S11: 12.50, 12.5, 12, 12.50元, ￥12.50, 1,234.50 read; 12,50 or 1,23 are not guessed."""
    got = parsed(p.amount_fen(pl.col("x")), ["12.50", "12.5", "12", "12.50元", "￥12.50", "1,234.50", "12,50",
                                              "1,23", "12.505", "1e5", "", " 7 ", "-3.1"])

    assert got == [1250, 1250, 1200, 1250, 1250, 123450, None, None, None, None, None, 700, -310]


def test_dates_in_known_formats_only():
    """S6: four date formats are read; 30/11/2026 is not guessed."""
    got = parsed(p.moment(pl.col("x")), ["2026-11-30 12:34:56", "2026-11-30 12:34", "2026/11/30 12:34:56",
                                          "2026-11-30", "30/11/2026 12:34", "2026-02-30 00:00:00"])

    assert got == [datetime(2026, 11, 30, 12, 34, 56), datetime(2026, 11, 30, 12, 34),
                   datetime(2026, 11, 30, 12, 34, 56), datetime(2026, 11, 30), None, None]


def test_order_numbers_mobiles_and_waybills():
    """S5: ="351…" and '351… are digits; mobiles lose ' and +86; waybills lose No:."""
    assert parsed(p.order_no(pl.col("x")), ['="35153131473293579"', "'123", " 42 ", "3515A", "+12", ""]) == \
        ["35153131473293579", "123", "42", None, None, None]
    assert parsed(p.mobile(pl.col("x")), ["'13800138000", "+86 138-0013-8000", "138****8000", ""]) == \
        ["13800138000", "13800138000", "138****8000", None]
    waybills = ["No:YT1", "no： SF2", '="773"', ""]
    assert parsed(p.tracking_no(pl.col("x")), waybills) == ["YT1", "SF2", "773", None]


def test_taobao_addresses_split_or_are_kept_whole():
    """S14: 省 市 区 详细(邮编) splits, municipalities too; an unsplittable address stays whole."""
    texts = ["浙江省 杭州市 西湖区 文三路 90号(310000)", "北京 北京市 朝阳区 建国路1号（100000）",
             "广西壮族自治区  南宁市 青秀区 民族大道1号", "地址不详", "上海 上海市 浦东新区"]
    _, pairs = p.address(pl.col("x"), "t")
    got = pl.DataFrame({"x": texts}).select(
        pl.coalesce(pl.lit(None, pl.String), slow).alias(k) for k, (_, slow) in pairs.items())

    assert got.rows() == [("浙江省", "杭州市", "西湖区", "文三路 90号", "310000"),
                          ("北京市", "北京市", "朝阳区", "建国路1号", "100000"),
                          ("广西壮族自治区", "南宁市", "青秀区", "民族大道1号", None),
                          (None, None, None, "地址不详", None),
                          (None, None, None, "上海 上海市 浦东新区", None)]


def test_bad_address_is_a_problem_with_the_text_kept(tmp_path):
    """S21: an address that does not split is bad_address, its text kept for pre-sales."""
    path, _ = order_report(tmp_path, 3, cells=lambda o: fx.inject(fx.taobao_order_cells(o), "收货地址 ",
                                                                   "地址不详", [1]))

    intake = read(path)

    assert problems_of(intake) == [[], ["bad_address:收货地址"], []]
    assert intake.rows["address_detail"][1] == "地址不详" and intake.rows["province"][1] is None


# --- Tmall XLSX, generic CSV / XLSX, JSON Lines ---------------------------------------------

def tmall(tmp: Path, sheets: dict[str, pl.DataFrame], name: str = "tmall.xlsx", **kw) -> Path:
    """A Tmall-style workbook written to tmp."""
    return write(tmp, name, fx.xlsx_bytes(sheets, **kw))


def test_tmall_xlsx_gives_order_lines_with_order_totals(tmp_path):
    """S5: per-line Tmall rows carry lines and the same order totals on every row of an order."""
    orders, lines = fx.shop(10, 5)
    intake = read(tmall(tmp_path, {"订单列表": fx.tmall_cells(orders, lines)}))

    rows = intake.rows
    assert (intake.format, intake.rows_in) == ("tmall_xlsx", lines.height)
    assert problems_of(intake) == [[]] * lines.height and set(rows["row_kind"]) == {"order_line"}
    cols = ["order_no", "sub_order_no", "title", "price_fen", "quantity", "sku", "spec", "line_discount_fen",
            "amount_fen"]
    assert rows.select(cols).equals(lines.select(cols))
    per_order = rows.group_by("order_no").agg(pl.col("payable_fen", "total_fen", "paid_fen", "trade_status")
                                              .n_unique()).drop("order_no")
    assert per_order.to_numpy().max() == 1
    got = rows.unique("order_no", keep="first", maintain_order=True)
    got = got.select("order_no", "payable_fen", "total_fen")
    assert got.equals(orders.select("order_no", "payable_fen", "total_fen"))


def test_tmall_workbook_with_several_sheets(tmp_path):
    """S6: the sheet with the order headers is read; two such sheets need sheet=, named in the message."""
    orders, lines = fx.shop(4, 6)
    cells = fx.tmall_cells(orders, lines)
    one = tmall(tmp_path, {"说明": pl.DataFrame({"导出说明": ["按子订单导出"]}), "订单": cells}, "a.xlsx")
    two = tmall(tmp_path, {"订单1": cells, "订单2": cells.head(2)}, "b.xlsx")
    none = tmall(tmp_path, {"说明": pl.DataFrame({"x": ["1"]}), "备注": pl.DataFrame({"y": ["2"]})}, "c.xlsx")

    assert read(one).rows_in == lines.height
    assert read(two, sheet="订单2").rows_in == 2
    error = bad_input("intake.sheet_ambiguous", two, format="tmall_xlsx")
    assert "订单1" in error.message and "订单2" in error.message and "b.xlsx" in error.message
    assert "说明" in bad_input("intake.sheet_none", none, format="tmall_xlsx").message
    bad_input("intake.no_sheet", one, sheet="不存在")


def test_tmall_order_number_stored_as_an_excel_number_is_bad(tmp_path):
    """S6: a 17-digit order number saved as a number lost its last digits: bad_order_no, no guess."""
    orders, lines = fx.shop(3, 8)
    path = tmall(tmp_path, {"订单": fx.tmall_cells(orders, lines)}, numeric={"订单": ["主订单编号"]})

    intake = read(path)

    assert intake.rows_in == lines.height and intake.rows["order_no"].null_count() == lines.height
    assert all(r == ["bad_order_no:主订单编号"] for r in problems_of(intake))


def test_tmall_order_state_from_its_lines(tmp_path):
    """S1b: lines partly shipped make the order SELLER_CONSIGNED_PART; closed lines are left out."""
    orders, lines = fx.shop(12, 9)
    multi = lines.group_by("order_no").len().filter(pl.col("len") >= 2)["order_no"][0]
    idx = lines.with_row_index().filter(pl.col("order_no") == multi)["index"].to_list()
    cells = fx.tmall_cells(orders, lines)
    states = [fx.STATUS_TEXT["WAIT_SELLER_SEND_GOODS"], fx.STATUS_TEXT["WAIT_BUYER_CONFIRM_GOODS"]]
    for i, text in zip(idx, states, strict=False):
        cells = fx.inject(cells, "订单状态", text, [i])

    rows = read(tmall(tmp_path, {"订单": cells})).rows.filter(pl.col("order_no") == multi)

    assert set(rows["trade_status"]) == {"SELLER_CONSIGNED_PART"}


def test_generic_csv_and_xlsx_through_a_mapping(tmp_path):
    """S10: another shop system's export is read through a column mapping, yuan into fen."""
    orders, lines = fx.shop(6, 10)
    cells = fx.generic_cells(orders, lines)
    as_csv = write(tmp_path, "export.csv", fx.csv_bytes(cells, "utf-8"))
    as_xlsx = write(tmp_path, "export.xlsx", fx.xlsx_bytes({"Sheet1": cells}))
    mapping = {**fx.GENERIC_MAPPING, "paid": fx.GENERIC_MAPPING["paid_fen"]}
    del mapping["paid_fen"]

    for path, fmt in ((as_csv, "csv"), (as_xlsx, "xlsx")):
        intake = read(path, mapping=mapping)
        assert (intake.format, intake.rows_in) == (fmt, lines.height)
        assert problems_of(intake) == [[]] * lines.height and set(intake.rows["row_kind"]) == {"order_line"}
        assert intake.rows["paid_fen"].to_list() == lines.join(orders, on="order_no")["paid_fen"].to_list()
        assert json.loads(intake.rows["extra"][0]) == {"客服备注": "无"}


def test_a_csv_that_is_not_taobao_needs_a_mapping(tmp_path):
    """S10: without a mapping an unknown CSV is refused with the way to give one."""
    orders, lines = fx.shop(2, 11)
    path = write(tmp_path, "export.csv", fx.csv_bytes(fx.generic_cells(orders, lines), "utf-8"))

    error = bad_input("intake.needs_mapping", path)

    assert "export.csv" in error.message and "--map order_no=" in error.message
    bad_input("intake.bad_mapping", path, mapping={"orderno": "订单号"})
    bad_input("intake.missing_header", path, mapping={"order_no": "单号"})


def test_json_lines_read_with_fen_yuan_and_bad_lines(tmp_path):
    """S6: JSON Lines read by canonical key; a line that does not parse is bad_json, not dropped."""
    orders, lines = fx.shop(5, 12)
    frame = fx.jsonl_frame(orders, lines)
    data = fx.jsonl_bytes(frame, bad_lines=(1,)) + b"\n   \n" + json.dumps(
        {"order_no": "9", "paid": "1.00", "paid_fen": 200}).encode() + b"\n"
    intake = read(write(tmp_path, "orders.jsonl", data))

    rows = intake.rows
    assert (intake.format, intake.rows_in) == ("jsonl", lines.height + 1)
    assert problems_of(intake)[1] == ["bad_json"] and json.loads(rows["raw"][1])["text"]
    assert problems_of(intake)[-1] == ["bad_amount:paid"]
    assert rows["paid_fen"][0] == frame["paid"].str.replace(".", "", literal=True).cast(int)[0]
    assert rows["price_fen"][0] == lines["price_fen"][0]
    assert json.loads(rows["extra"][0]) == {"channel": "直播间"}


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

"""The intake readers: every export variant reads into the Intake frame, and every bad input
gives a clear message or a row with its problem — never a traceback, never a lost row (S6)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import intake_fixtures as fx
import polars as pl
import pytest
from intake_fixtures import TRUTH, bad_input, order_report, problems_of, write

from kit.intake import parse as p
from kit.intake.readers import read
from kit.intake.rows import SCHEMA

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

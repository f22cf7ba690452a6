"""Shortages (kit.shortages, kit.outbox): what waiting orders miss per SKU and per line, for
purchasing or production (S7), with what the shop's own warehouses could transfer (S23);
the workbook; in-stock alternatives; the buyer's stockout notice, due within 24 hours
(Sundays and holidays excluded) and queued once (S20, S13); marking notices sent; roles;
two notifiers at once.

The test shop (hand-checked numbers below): three warehouses (hq and a store are the shop's
own, a supplier is not), a tea category with a price ladder around TEA-A, and six
approved orders; allocation at a fixed Thursday 15:00 serves one and backorders five.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from orders_factory import LINE_SCHEMA, make_orders, order_no

import kit
from kit import outbox, shortages, stock
from kit.allocation import allocate, deallocate
from kit.errors import BadInput, PermissionDenied
from kit.i18n import set_lang
from kit.shortages import LINE_COLUMNS, SKU_COLUMNS, alternatives, due_times
from kit.store import schema
from kit.store.frames import read_frame

STAFF = {
    "店长": "supervisor",
    "仓管小李": "warehouse",
    "客服小美": "presale",
    "客服小丽": "presale",
    "售后小王": "aftersale",
    "分析师": "analyst",
}
WAREHOUSES = [
    {"code": "hq", "name": "杭州总仓", "kind": "hq", "province": "浙江省", "city": "杭州市",
     "serves": ["浙江省", "上海市", "江苏省"]},
    {"code": "gz", "name": "广州门店", "kind": "store", "province": "广东省", "city": "广州市",
     "serves": ["广东省", "湖北省"]},
    {"code": "sup", "name": "泉州供应商", "kind": "supplier", "province": "福建省", "city": "泉州市"},
]
# sku, title, spec, category, price (fen). Around TEA-A (¥100.00, ±20 % = ±2000 fen):
# H +100, F +50 (too few in stock), B +1000, C -1000, E -2000 (on the band's edge),
# D +2500 (outside), G +200 (only the supplier holds it).
SKUS = pl.DataFrame(
    [
        ("TEA-A", "明前龙井 A", "250克", "tea", 10000),
        ("TEA-H", "明前龙井 H", "250克", "tea", 10100),
        ("TEA-F", "明前龙井 F", "", "tea", 10050),
        ("TEA-B", "明前龙井 B", "500克", "tea", 11000),
        ("TEA-C", "明前龙井 C", None, "tea", 9000),
        ("TEA-E", "明前龙井 E", "250克", "tea", 8000),
        ("TEA-D", "明前龙井 D", "250克", "tea", 12500),
        ("TEA-G", "明前龙井 G", "250克", "tea", 10200),
        ("CUP-A", "双层玻璃杯", "透明", "glass", 5900),
        ("TOWEL-A", "纯棉毛巾", "灰色", "textile", 3990),
        ("SOCK-A", "羊毛袜", "均码", "socks", 8900),
    ],
    schema=["sku", "title", "spec", "category", "price_fen"],
    orient="row",
).with_columns(weight_g=pl.lit(300))
OPENING = [  # warehouse, sku, units
    ("hq", "TEA-A", 2), ("gz", "TEA-A", 1),
    ("hq", "TEA-H", 4), ("hq", "TEA-F", 2), ("hq", "TEA-B", 5), ("hq", "TEA-C", 8),
    ("hq", "TEA-E", 6), ("hq", "TEA-D", 9), ("sup", "TEA-G", 10),
    ("hq", "TOWEL-A", 1), ("hq", "SOCK-A", 2), ("gz", "SOCK-A", 2),
]
# order (make_orders number: 1 广东, 2 北京, 3 上海, 4 四川, 5 江苏, 7 浙江) → its lines
ORDERS: dict[int, list[tuple[str, int]]] = {
    1: [("TEA-A", 3), ("CUP-A", 1)],  # TEA-A: no own warehouse holds 3 → short 1 at hq
    2: [("TEA-A", 4)],                # short 2 at hq
    3: [("CUP-A", 2)],                # none anywhere
    4: [("TOWEL-A", 3)],              # made by the shop: production
    5: [("SOCK-A", 3)],               # 2 + 2 in two warehouses: a transfer covers it (S23)
    7: [("TEA-H", 1)],                # served
}
O1, O2, O3, O4, O5, O7 = (order_no(k) for k in (1, 2, 3, 4, 5, 7))
WAITING = [O1, O2, O3, O4, O5]
STOCKOUT = datetime(2026, 12, 3, 15, 0)  # Thursday
DUE = datetime(2026, 12, 4, 15, 0)  # 24 hours later: Thursday and Friday both count (S20)


def config(**shortages_settings: Any) -> kit.config.Config:
    """The test shop's settings; towels are made by the shop (production)."""
    return kit.config.parse({
        "staff": STAFF,
        "warehouses": WAREHOUSES,
        "shortages": {"production_categories": ["textile"], **shortages_settings},
    })


def add_order(shop: kit.Shop, k: int, items: list[tuple[str, int]]) -> str:
    """One approved order (make_orders' k-th buyer and address) with these lines."""
    orders, _ = make_orders(1, start=k, stage="approved")
    no = orders["order_no"][0]
    prices = dict(zip(SKUS["sku"], SKUS.select("title", "spec", "price_fen").rows(), strict=True))
    lines = pl.DataFrame(
        [
            {"order_no": no, "line_no": i, "sub_order_no": f"{no}{i:02d}", "sku": sku,
             "title": prices[sku][0], "spec": prices[sku][1], "quantity": qty, "price_fen": prices[sku][2],
             "discount_fen": 0, "amount_fen": qty * prices[sku][2], "is_gift_item": False}
            for i, (sku, qty) in enumerate(items, 1)
        ],
        schema=LINE_SCHEMA,
    )
    shop.insert_orders(orders, lines, kind="test", source="shortages")
    return no


def build(url: str, settings: kit.config.Config | None = None) -> None:
    """The test shop on a fresh database: settings, catalogue, opening stock, orders, and one
    allocation run (at whatever clock.now() says)."""
    with kit.connect(url, actor="店长", config=settings or config()) as shop:
        shop.sync_settings()
        shop.store.insert_frame(schema.skus, SKUS)
        stock.receive_goods(
            shop, [{"warehouse_code": w, "sku": s, "quantity": q} for w, s, q in OPENING], reason="开仓"
        )
        for k, items in ORDERS.items():
            add_order(shop, k, items)
        result = allocate(shop.acting_as("仓管小李"))
    assert result.allocated == [O7]
    assert result.backordered == WAITING


class FixedClock:
    """kit.clock.now() returns `now` until moved."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
        self.now = now
        monkeypatch.setattr(kit.clock, "now", lambda: self.now)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """The shop's clock, stopped at the stockout."""
    return FixedClock(monkeypatch, STOCKOUT)


@pytest.fixture
def shop(db_url: str, clock: FixedClock) -> kit.Shop:
    """The test shop (SQLite and PostgreSQL), allocated at STOCKOUT, acting as pre-sales."""
    build(db_url)
    with kit.connect(db_url, actor="客服小美", config=config()) as opened:
        yield opened


@pytest.fixture
def lite_shop(sqlite_url: str, clock: FixedClock) -> kit.Shop:
    """The test shop on SQLite only, for what does not depend on the database."""
    build(sqlite_url)
    with kit.connect(sqlite_url, actor="客服小美", config=config()) as opened:
        yield opened


def queued(shop: kit.Shop) -> pl.DataFrame:
    """Every outbox row, oldest first."""
    with shop.store.read() as conn:
        return read_frame(conn, sa.select(schema.outbox).order_by(schema.outbox.c.notice_id))


# --- what is short (S7, S23) -----------------------------------------------------------------


def test_by_sku_sums_missing_over_orders_and_routes_it_S7_S23(shop):
    """S7/S23: per SKU the units missing over every waiting order and how many orders wait;
    `available` is what own warehouses hold (hq 2 + store 1 for TEA-A; the supplier's
    stock does not count); `to_source` is what the waiting lines want beyond that (TEA-A:
    3 + 4 wanted, 3 held → 4, although only 3 are "missing" where each line is counted);
    SOCK-A's shortage is covered by a transfer (2 + 2 held, 3 wanted → nothing to source);
    towels go to production, the rest to purchasing; most missing first."""
    frame = shortages.by_sku(shop)

    assert frame.columns == SKU_COLUMNS
    got = frame.select("sku", "category", "goes_to", "missing", "orders", "available", "to_source").rows()
    assert got == [
        ("CUP-A", "glass", "purchasing", 3, 2, 0, 3),
        ("TEA-A", "tea", "purchasing", 3, 2, 3, 4),
        ("TOWEL-A", "textile", "production", 2, 1, 1, 2),
        ("SOCK-A", "socks", "purchasing", 1, 1, 4, 0),
    ]
    assert frame["order_nos"].to_list() == [f"{O1}、{O3}", f"{O1}、{O2}", O4, O5]
    assert frame["oldest_since"].to_list() == [STOCKOUT] * 4
    assert frame["title"].to_list() == ["双层玻璃杯", "明前龙井 A", "纯棉毛巾", "羊毛袜"]


def test_goes_to_follows_the_production_categories_S7(sqlite_url, clock):
    """S7: what the shop makes itself goes to production, the rest to purchasing; the
    setting is kit.toml's [shortages] production_categories."""
    build(sqlite_url)
    made = config(production_categories=["tea", "socks"])
    with kit.connect(sqlite_url, actor="分析师", config=made) as analyst:
        routed = dict(shortages.by_sku(analyst).select("sku", "goes_to").rows())
    with kit.connect(sqlite_url, actor="分析师", config=config(production_categories=[])) as analyst:
        bought = set(shortages.by_sku(analyst)["goes_to"])

    assert routed == {"CUP-A": "purchasing", "TEA-A": "production", "TOWEL-A": "purchasing",
                      "SOCK-A": "production"}
    assert bought == {"purchasing"}


def test_lines_list_every_waiting_line_with_what_it_misses_S7(shop):
    """S7: one row per short line of a backordered order, oldest first, with the catalogue's
    title, category and price; the allocated order and lines that are not short are absent."""
    frame = shortages.lines(shop)

    assert frame.columns == LINE_COLUMNS
    assert frame.select("order_no", "line_no", "sku", "quantity", "missing").rows() == [
        (O1, 1, "TEA-A", 3, 1),
        (O1, 2, "CUP-A", 1, 1),
        (O2, 1, "TEA-A", 4, 2),
        (O3, 1, "CUP-A", 2, 2),
        (O4, 1, "TOWEL-A", 3, 2),
        (O5, 1, "SOCK-A", 3, 1),
    ]
    tea = frame.filter(pl.col("sku") == "TEA-A")
    assert tea["warehouse_code"].to_list() == ["hq", "hq"]  # hq lacks least
    assert tea.select("title", "spec", "category", "price_fen").unique().rows() == [
        ("明前龙井 A", "250克", "tea", 10000)
    ]
    assert frame.filter(pl.col("sku") == "SOCK-A")["warehouse_code"].to_list() == ["hq"]
    assert set(frame["since"]) == {STOCKOUT}
    assert frame["paid_at"].is_sorted() and frame["paid_at"].null_count() == 0


def test_an_empty_shop_gives_empty_frames_with_the_columns(sqlite_url, tmp_path):
    """Nothing waiting: both frames are empty with every column, the workbook has its three
    sheets with headers only, and notify queues nothing."""
    with kit.connect(sqlite_url, actor="店长") as shop:
        per_sku, lines = shortages.by_sku(shop), shortages.lines(shop)
        summary = shortages.export_xlsx(shop, tmp_path / "空.xlsx")
        told = shortages.notify(shop)

    assert (per_sku.height, per_sku.columns) == (0, SKU_COLUMNS)
    assert (lines.height, lines.columns) == (0, LINE_COLUMNS)
    assert per_sku.schema["missing"] == pl.Int64 and lines.schema["since"] == pl.Datetime("us")
    assert summary == {"path": str(tmp_path / "空.xlsx"), "skus": 0, "lines": 0, "purchasing": 0,
                       "production": 0}
    sheets = pl.read_excel(tmp_path / "空.xlsx", sheet_id=0, engine="calamine")
    assert list(sheets) == ["采购", "生产", "缺货明细"]
    assert [s.height for s in sheets.values()] == [0, 0, 0]
    assert len(sheets["缺货明细"].columns) == len(LINE_COLUMNS)
    assert told.height == 0 and told.columns == ["order_no", "kind", "lang", "text", "payload", "due_at"]


def test_workbook_reads_back_with_chinese_headers_and_numbers_S7(lite_shop, tmp_path):
    """S7: the XLSX has a sheet for purchasing, one for production and one with every line;
    Chinese headers; counts as numbers, prices in yuan, times as times."""
    shop = lite_shop
    path = tmp_path / "缺货.xlsx"

    summary = shortages.export_xlsx(shop, path)

    assert summary == {"path": str(path), "skus": 4, "lines": 6, "purchasing": 3, "production": 1}
    sheets = pl.read_excel(path, sheet_id=0, engine="calamine")
    assert list(sheets) == ["采购", "生产", "缺货明细"]
    buy, make, lines = sheets["采购"], sheets["生产"], sheets["缺货明细"]
    assert buy.columns == ["商家编码", "商品", "类目", "交给", "缺货数量", "等待订单数", "自有仓可用",
                           "需采购/生产", "最早缺货", "等待的订单"]
    assert buy["商家编码"].to_list() == ["CUP-A", "TEA-A", "SOCK-A"]
    assert set(buy["交给"]) == {"采购"} and make["交给"].to_list() == ["生产"]
    counts = buy.select(pl.col("缺货数量", "等待订单数", "自有仓可用", "需采购/生产").cast(pl.Int64))
    assert counts.rows() == [(3, 2, 0, 3), (3, 2, 3, 4), (1, 1, 4, 0)]
    assert make["商家编码"].to_list() == ["TOWEL-A"] and int(make["需采购/生产"][0]) == 2
    assert buy["最早缺货"].to_list() == [STOCKOUT] * 3
    assert lines.columns[:3] == ["订单编号", "行号", "商家编码"] and "单价（元）" in lines.columns
    assert lines["订单编号"].to_list() == [O1, O1, O2, O3, O4, O5]  # text, not 9.0e17
    assert lines["单价（元）"].to_list() == [100.0, 59.0, 100.0, 59.0, 39.9, 89.0]
    assert lines["缺货数量"].cast(pl.Int64).to_list() == [1, 1, 2, 2, 2, 1]


def test_workbook_in_english(lite_shop, tmp_path):
    """With English active, sheet names, headers and the routing read in English."""
    set_lang("en")
    shortages.export_xlsx(lite_shop, tmp_path / "short.xlsx")

    sheets = pl.read_excel(tmp_path / "short.xlsx", sheet_id=0, engine="calamine")
    assert list(sheets) == ["Purchasing", "Production", "Lines short"]
    assert sheets["Production"].columns[:5] == ["SKU", "Item", "Category", "Goes to", "Missing"]
    assert sheets["Production"]["Goes to"].to_list() == ["production"]


# --- alternatives (S20, S23) ----------------------------------------------------------------


ALT_SCHEMA = {"sku": pl.String, "quantity": pl.Int64, "rank": pl.Int64, "alt_sku": pl.String,
              "alt_title": pl.String, "alt_spec": pl.String, "alt_price_fen": pl.Int64,
              "alt_available": pl.Int64}


def test_alternatives_same_category_price_band_enough_stock_ranked_S20(shop):
    """S20: alternatives of the same category within ±20 % of the price, with enough units
    in own warehouses for the whole line, never the missing SKU itself, at most three,
    closest in price first (a tie: the better stocked first). Hand-ranked for TEA-A:
    for 3 units H (+100, 3 left after the served order), C (-1000, 8), B (+1000, 5);
    F (+50) holds only 2, G only at the supplier, D outside the band, E cut as fourth.
    For 4 units H drops out and E (-2000, on the band's edge) comes in. CUP-A has none."""
    wanted = pl.DataFrame({"sku": ["TEA-A", "TEA-A", "CUP-A", "TEA-A"], "quantity": [3, 4, 1, 3]})

    with shop.store.read() as conn:
        got = alternatives(conn, wanted)

    expected = pl.DataFrame(
        [
            ("TEA-A", 3, 1, "TEA-H", "明前龙井 H", "250克", 10100, 3),
            ("TEA-A", 3, 2, "TEA-C", "明前龙井 C", None, 9000, 8),
            ("TEA-A", 3, 3, "TEA-B", "明前龙井 B", "500克", 11000, 5),
            ("TEA-A", 4, 1, "TEA-C", "明前龙井 C", None, 9000, 8),
            ("TEA-A", 4, 2, "TEA-B", "明前龙井 B", "500克", 11000, 5),
            ("TEA-A", 4, 3, "TEA-E", "明前龙井 E", "250克", 8000, 6),
        ],
        schema=ALT_SCHEMA,
        orient="row",
    )
    assert got.sort("sku", "quantity", "rank").equals(expected)


def test_alternatives_band_and_limit_are_settings_S20(lite_shop):
    """A 1 % band keeps F (+50) and H (+100, on the edge) for one unit; limit 1 keeps the
    closest; an unknown SKU or nothing wanted gives an empty frame with the columns."""
    with lite_shop.store.read() as conn:
        narrow = alternatives(conn, pl.DataFrame({"sku": ["TEA-A"], "quantity": [1]}), band_percent=1)
        one = alternatives(conn, pl.DataFrame({"sku": ["TEA-A"], "quantity": [4]}), limit=1)
        unknown = alternatives(conn, pl.DataFrame({"sku": ["NO-SUCH"], "quantity": [1]}))
        nothing = alternatives(conn, pl.DataFrame({"sku": [], "quantity": []},
                                                  schema={"sku": pl.String, "quantity": pl.Int64}))

    assert narrow.select("rank", "alt_sku").rows() == [(1, "TEA-F"), (2, "TEA-H")]
    assert one.select("rank", "alt_sku").rows() == [(1, "TEA-C")]
    assert unknown.height == 0 and unknown.columns == list(ALT_SCHEMA)
    assert nothing.schema == pl.Schema(ALT_SCHEMA)


# --- stockout notices (S20, S13) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "hours", "due"),
    [
        (datetime(2026, 12, 3, 15, 0), 24, datetime(2026, 12, 4, 15, 0)),  # a weekday: a plain day
        (datetime(2026, 12, 3, 7, 0), 24, datetime(2026, 12, 4, 7, 0)),  # the clock never sleeps
        # Saturday 10:00: 14 h on Saturday, Sunday does not count, 10 h on Monday
        (datetime(2026, 12, 5, 10, 0), 24, datetime(2026, 12, 7, 10, 0)),
        (datetime(2026, 12, 6, 9, 0), 24, datetime(2026, 12, 8, 0, 0)),  # on a Sunday: from Monday 00:00
        (datetime(2026, 12, 3, 15, 0), 8, datetime(2026, 12, 3, 23, 0)),  # a shop's own setting
        # National Day: 8 h on Wed 9-30, holidays 10-01..07 do not count, 16 h on Thu 10-08
        (datetime(2026, 9, 30, 16, 0), 24, datetime(2026, 10, 8, 16, 0)),
        # a make-up Sunday (调休, 2026-09-20 is a working day): Sat 4 h, then the Sunday counts 20 h
        (datetime(2026, 9, 19, 20, 0), 24, datetime(2026, 9, 20, 20, 0)),
    ],
    ids=["weekday", "early", "saturday", "sunday", "eight-hours", "national-day", "make-up-day"],
)
def test_notice_is_due_within_24_hours_sundays_and_holidays_excluded_S20(since, hours, due):
    """S20: the buyer hears within 24 hours of the stockout, Sundays and public holidays not
    counted (make-up working days count, by kit.deadlines' calendar)."""
    got = due_times(pl.Series([since]), config(notify_within_hours=hours))

    assert got.to_list() == [due]


def test_notify_queues_one_notice_per_waiting_order_S20(shop):
    """S20: every backordered order gets one notice naming what it misses and up to three
    in-stock alternatives, due 24 hours after the stockout (Sundays and holidays
    excluded); audited; the served order gets none."""
    told = shortages.notify(shop)

    assert sorted(told["order_no"]) == WAITING
    rows = queued(shop)
    assert sorted(rows["order_no"]) == WAITING
    assert set(rows["status"]) == {"queued"} and set(rows["kind"]) == {"stockout"}
    assert set(rows["lang"]) == {"zh"} and set(rows["created_by"]) == {"客服小美"}
    assert set(rows["due_at"]) == {DUE} and set(rows["created_at"]) == {STOCKOUT}
    text = dict(rows.select("order_no", "text").rows())
    assert "“明前龙井 A（250克）”缺 2 件" in text[O2]
    assert "明前龙井 C ¥90.00、明前龙井 B（500克）¥110.00、明前龙井 E（250克）¥80.00" in text[O2]
    assert "12-04 15:00" in text[O2] and O2 in text[O2]
    assert "“明前龙井 A（250克）”缺 1 件；“双层玻璃杯（透明）”缺 1 件" in text[O1]
    assert "明前龙井 H（250克）¥101.00、明前龙井 C ¥90.00、明前龙井 B（500克）¥110.00" in text[O1]
    assert "¥" not in text[O3]  # nothing else in stock is like the cup: no offer
    payload = json.loads(rows.filter(pl.col("order_no") == O2)["payload"][0])
    assert [(p["sku"], p["missing"]) for p in payload["lines"]] == [("TEA-A", 2)]
    assert [a["alt_sku"] for a in payload["lines"][0]["_alts"]] == ["TEA-C", "TEA-B", "TEA-E"]
    with shop.store.read() as conn:
        audit = read_frame(conn, sa.select(schema.audit).where(schema.audit.c.action == "queue_notice"))
    assert sorted(audit["entity_id"]) == WAITING and set(audit["actor"]) == {"客服小美"}


def test_notice_in_english_S20(lite_shop):
    """S20: lang="en" writes the buyer's text in English, with English punctuation."""
    shop = lite_shop
    told = shortages.notify(shop, lang="en")

    text = dict(told.select("order_no", "text").rows())
    assert set(queued(shop)["lang"]) == {"en"}
    assert text[O2].startswith(f"Dear customer, we are sorry: in your order {O2},")
    assert '"明前龙井 A (250克)" is out of stock (short by 2)' in text[O2]
    assert "明前龙井 C ¥90.00, 明前龙井 B (500克) ¥110.00, 明前龙井 E (250克) ¥80.00" in text[O2]
    assert "please reply before 12-04 15:00" in text[O2]
    assert ('"明前龙井 A (250克)" is out of stock (short by 1); '
            '"双层玻璃杯 (透明)" is out of stock (short by 1)') in text[O1]
    assert not any(mark in t for t in text.values() for mark in "、；")


def test_second_notify_queues_nothing_S20(shop, clock):
    """S20: an order already told of its stockout is not told again, queued or sent."""
    shortages.notify(shop)
    first = queued(shop)
    outbox.mark_sent(shop, first["notice_id"][:2].to_list())
    clock.now = datetime(2026, 12, 4, 10, 0)

    again = shortages.notify(shop)

    assert again.height == 0
    assert queued(shop).height == first.height == 5


def test_a_queued_notice_is_withdrawn_when_the_order_is_served_S20(shop, clock):
    """S20: the goods arrive before the buyer was told: allocation serves the order and its
    queued stockout notice is withdrawn (audited with the allocation run's batch), so nobody
    tells a buyer about a stockout that is over; the other orders' notices stay queued."""
    shortages.notify(shop)
    warehouse = shop.acting_as("仓管小李")
    clock.now = datetime(2026, 12, 4, 10, 0)
    stock.receive_goods(warehouse, [{"warehouse_code": "hq", "sku": "TEA-A", "quantity": 4}], reason="到货")

    assert allocate(warehouse, order_nos=[O2]).allocated == [O2]

    rows = queued(shop)
    assert rows.filter(pl.col("order_no") == O2)["status"].to_list() == ["cancelled"]
    assert set(rows.filter(pl.col("order_no") != O2)["status"]) == {"queued"}
    with shop.store.read() as conn:
        audit = read_frame(conn, sa.select(schema.audit).where(schema.audit.c.entity_id == O2))
    withdrawn = audit.filter(pl.col("action") == "withdraw_notice")
    assert withdrawn.select("actor", "from_state", "to_state").rows() == [("仓管小李", "queued", "cancelled")]
    allocated = audit.filter((pl.col("action") == "allocate") & (pl.col("field") == "stage"))
    assert allocated["batch_id"].is_not_null().all()  # the run's batch, for the statistics


def test_order_served_then_short_again_is_told_again_S20(shop, clock):
    """S20: an order that was served and fell short again (a count found the goods missing)
    has a new stockout: it is told again, due from the new stockout; no other order is."""
    shortages.notify(shop)
    told = queued(shop).filter(pl.col("order_no") == O2)["notice_id"].to_list()
    outbox.mark_sent(shop, told)
    warehouse = shop.acting_as("仓管小李")
    clock.now = datetime(2026, 12, 4, 10, 0)  # Friday: goods arrive, the order is served
    stock.receive_goods(warehouse, [{"warehouse_code": "hq", "sku": "TEA-A", "quantity": 4}], reason="到货")
    assert allocate(warehouse, order_nos=[O2]).allocated == [O2]
    clock.now = datetime(2026, 12, 7, 11, 0)  # Monday: the tea is found damaged
    with shop.store.write() as conn:
        deallocate(conn, [O2], "盘点发现破损", warehouse.actor, at=clock.now)
    stock.count_stock(warehouse, [{"warehouse_code": "hq", "sku": "TEA-A", "on_hand": 0}], reason="破损")
    assert allocate(warehouse, order_nos=[O2]).backordered == [O2]
    clock.now = datetime(2026, 12, 7, 11, 30)

    again = shortages.notify(shop)

    assert again["order_no"].to_list() == [O2]
    assert again["due_at"].to_list() == [datetime(2026, 12, 8, 11, 0)]  # 24 hours after Monday 11:00
    rows = queued(shop).filter(pl.col("order_no") == O2)
    assert rows.select("status", "created_at").rows() == [
        ("sent", STOCKOUT), ("queued", datetime(2026, 12, 7, 11, 30))]
    assert shortages.notify(shop).height == 0


def test_notices_list_the_queue_most_urgent_first_with_overdue(lite_shop, clock):
    """kit.outbox.notices: queued ones by default, by due time; `overdue` once past due."""
    shop = lite_shop
    shortages.notify(shop)
    clock.now = datetime(2026, 12, 8, 12, 1)

    listed = outbox.notices(shop)
    only_o3 = outbox.notices(shop, order_nos=[O3], kind="stockout")

    assert listed.height == 5 and listed["overdue"].all()
    assert listed["notice_id"].is_sorted()
    assert only_o3["order_no"].to_list() == [O3]
    assert outbox.notices(shop, status="sent").height == 0
    with pytest.raises(BadInput) as bad:
        outbox.notices(shop, status="lost")
    assert bad.value.key == "outbox.bad_status"


def test_mark_sent_once_then_skipped_S13(shop, clock):
    """S13: a notice marked sent records who and when; marking it again is skipped (someone
    else already did); an unknown id is refused and nothing is marked."""
    shortages.notify(shop)
    first, second = queued(shop)["notice_id"][:2].to_list()
    clock.now = datetime(2026, 12, 3, 16, 0)

    done = outbox.mark_sent(shop, [first])
    colleague = outbox.mark_sent(shop.acting_as("客服小丽"), [first, second])

    assert done == {"sent": [first], "skipped": []}
    assert colleague == {"sent": [second], "skipped": [first]}
    rows = queued(shop).filter(pl.col("notice_id").is_in([first, second]))
    assert rows.select("status", "sent_by", "sent_at").rows() == [
        ("sent", "客服小美", datetime(2026, 12, 3, 16, 0)),
        ("sent", "客服小丽", datetime(2026, 12, 3, 16, 0)),
    ]
    with pytest.raises(BadInput) as unknown:
        outbox.mark_sent(shop, [queued(shop)["notice_id"][2], 999_999])
    assert unknown.value.key == "outbox.unknown_notice" and "999999" in unknown.value.message
    assert queued(shop)["status"].to_list() == ["sent", "sent", "queued", "queued", "queued"]
    with shop.store.read() as conn:
        audit = read_frame(conn, sa.select(schema.audit).where(schema.audit.c.action == "notice_sent"))
    assert sorted(audit["reason"].to_list()) == sorted([str(first), str(second)])


def test_queue_refuses_an_unknown_kind(lite_shop):
    """The outbox holds the kinds it knows (stockout, shipped, delayed …); anything else is a
    mistake, refused."""
    shop = lite_shop
    notice = pl.DataFrame({"order_no": [O1], "kind": ["parcel_lost"], "lang": ["zh"], "text": ["丢件"],
                           "payload": [None], "due_at": [DUE]},
                          schema_overrides={"payload": pl.String})
    with pytest.raises(BadInput) as bad, shop.store.write() as conn:
        outbox.queue(conn, notice, shop.actor, STOCKOUT)
    assert bad.value.key == "outbox.bad_kind"
    assert queued(shop).height == 0


def test_roles_analyst_reads_but_cannot_notify(lite_shop):
    """Analysts read the shortages but neither queue notices nor mark them sent; warehouse
    staff do not tell buyers either."""
    shop = lite_shop
    analyst = shop.acting_as("分析师")
    assert shortages.by_sku(analyst).height == 4
    with pytest.raises(PermissionDenied):
        shortages.notify(analyst)
    with pytest.raises(PermissionDenied):
        shortages.notify(shop.acting_as("仓管小李"))
    shortages.notify(shop)
    with pytest.raises(PermissionDenied):
        outbox.mark_sent(analyst, queued(shop)["notice_id"].to_list())
    assert set(queued(shop)["status"]) == {"queued"}


# --- two notifiers at once -------------------------------------------------------------------


def _notify(urls: list[str], actor: str, barrier: Any) -> list[int]:
    """For each database in turn: connect, wait for the other notifiers, queue the notices;
    how many this one queued in each."""
    counts = []
    for url in urls:
        with kit.connect(url, actor=actor, config=config()) as shop:
            shop.store.schema_version()  # connect before the race starts
            barrier.wait(timeout=60)
            counts.append(shortages.notify(shop).height)
    return counts


def _once_each(url: str) -> list[tuple[str, int]]:
    with kit.connect(url, actor="店长", config=config()) as shop:
        counts = queued(shop).group_by("order_no").len().sort("order_no")
    return counts.rows()


def test_threads_notifying_at_once_queue_each_notice_once_S20(db_url):
    """S20: four staff run notify at the same instant: every waiting order is told exactly
    once (PostgreSQL: an advisory lock; SQLite: the write lock)."""
    build(db_url)
    barrier = threading.Barrier(4)
    actors = ["客服小美", "客服小丽", "售后小王", "店长"]

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(lambda a: _notify([db_url], a, barrier)[0], actors))

    assert sum(counts) == 5
    assert _once_each(db_url) == [(no, 1) for no in WAITING]


def test_processes_notifying_at_once_queue_each_notice_once_S20(sqlite_url, pg_url):
    """S20: two processes (two Voilà kernels) notify at once, on SQLite and then on
    PostgreSQL: one notice per order, whoever wins."""
    urls = [sqlite_url, pg_url]
    for url in urls:
        build(url)
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(2)
        with ProcessPoolExecutor(2, mp_context=ctx) as pool:
            futures = [pool.submit(_notify, urls, actor, barrier) for actor in ("客服小美", "客服小丽")]
            counts = [f.result(timeout=120) for f in futures]

    assert [sorted(per_db) for per_db in zip(*counts, strict=True)] == [[0, 5], [0, 5]]
    for url in urls:
        assert _once_each(url) == [(no, 1) for no in WAITING]

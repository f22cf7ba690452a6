"""Shipping statistics (发货统计表, S22): every figure of kit.stats against a frame computed by
hand — parcels, on time against ship_by and hours from payment to hand-over per carrier
(S15), orders through the shop (S6, S9), exceptions, refunds and after-sales, backorders and
the backlog by age, stockout notices within 24 hours (S20) — the shop-level readers on
SQLite and PostgreSQL, the workbook, the charts, and bad input: empty periods, only
cancelled orders, shipments without weight, future dates, from after to.

The shop (built once per database, copied per test; NOW is Thu 2026-12-03 15:00):

    O1 paid 12-01 10:00, ship by 12-02 18:00, approved (audited) 12-01 10:30; S1 hq yto,
       handed over 12-01 16:00 (2 boxes, 1.2 kg), confirmed 20:00; BAG-A ×2; refund SUCCESS
    O2 paid 12-01 11:00, ship by 12-01 18:00; S2 gz zto made 12-01 12:00, handed over 12-02
       09:00 (late, never weighed); CUP-A ×1; a damaged-parcel case
    O3 paid 12-02 08:00, ship by 12-03 18:00; S3 hq yto made 12-02 10:00, handed over 14:00
       (0.5 kg), tracking status lost; TEA-A ×1, SOCK-A ×3; a return asked for
    O4 paid 12-02 09:00, cancelled
    O5 paid 12-02 12:00, ship by 12-03 12:00, approved (audited) 12:30, waiting: SCARF-A
       backordered since 13:00 (2 missing), the buyer told at 15:00 (due 12-03 13:00)
    O6 paid 11-20 10:00, S6 handed over 11-21: outside every window used
"""

from __future__ import annotations

from datetime import date, datetime, time

import polars as pl
import pytest
from fulfil_fixtures import (
    NOW,
    add_order,
    built_shops,
    catalogue,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    config,
    db_url_fixture,  # noqa: F401  (a fixture of this module)
)
from orders_factory import order_no
from polars.testing import assert_frame_equal

import kit
from kit import stats
from kit.carriers.rates import RateTable, Zone
from kit.errors import BadInput, PermissionDenied
from kit.stats import frames as fr
from kit.stats import metrics
from kit.stats.periods import window
from kit.store import schema

O1, O2, O3, O4, O5, O6 = (order_no(k) for k in range(1, 7))
WIN = window("2026-12-01", "2026-12-03")
INT, FLOAT, DATE, STR = pl.Int64, pl.Float64, pl.Date, pl.String


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A moment of 2026 (December unless said)."""
    return datetime(2026, month, day, hour, minute)


def ship(
    shipment_id: int,
    order: str,
    warehouse: str,
    carrier: str,
    made: datetime,
    handed: datetime,
    *,
    weight: int | None,
    confirmed: datetime | None = None,
    status: str = "in_transit",
) -> dict:
    """A shipments row handed over at `handed`."""
    return {
        "shipment_id": shipment_id,
        "order_no": order,
        "warehouse_code": warehouse,
        "carrier_code": carrier,
        "ship_method": "online_booking",
        "tracking_no": f"YT{shipment_id:010d}",
        "stage": "confirmed" if confirmed else "handed_over",
        "tracking_status": status,
        "weight_g": weight,
        "created_at": made,
        "packed_at": handed,
        "packed_by": "仓管小李" if shipment_id != 2 else "仓管小王",
        "handed_over_at": handed,
        "handed_over_by": "物流小张",
        "confirmed_at": confirmed,
        "updated_at": handed,
    }


def build(url: str) -> None:
    """The shop of the module docstring."""
    with kit.connect(url, actor="店长", config=config()) as shop:
        shop.sync_settings()
        shop.store.insert_frame(schema.skus, catalogue("BAG-A", "CUP-A", "SCARF-A", "SOCK-A", "TEA-A"))
        confirmed = {"stage": "confirmed", "trade_status": "WAIT_BUYER_CONFIRM_GOODS"}
        add_order(shop, 1, [("BAG-A", 2)], paid_at=at(1, 10), ship_by=at(2, 18), **confirmed)
        add_order(shop, 2, [("CUP-A", 1)], paid_at=at(1, 11), ship_by=at(1, 18), stage="handed_over")
        add_order(
            shop, 3, [("TEA-A", 1), ("SOCK-A", 3)], paid_at=at(2, 8), ship_by=at(3, 18), stage="handed_over"
        )
        add_order(shop, 4, [("CUP-A", 1)], paid_at=at(2, 9), stage="cancelled", trade_status="TRADE_CLOSED")
        add_order(shop, 5, [("SCARF-A", 2)], paid_at=at(2, 12), ship_by=at(3, 12), stage="backordered")
        add_order(
            shop, 6, [("BAG-A", 1)], paid_at=at(20, 10, month=11), ship_by=at(21, 18, month=11), **confirmed
        )
        rows = [
            ship(1, O1, "hq", "yto", at(1, 12), at(1, 16), weight=1200, confirmed=at(1, 20)),
            ship(2, O2, "gz", "zto", at(1, 12), at(2, 9), weight=None),
            ship(3, O3, "hq", "yto", at(2, 10), at(2, 14), weight=500, status="lost"),
            ship(
                6,
                O6,
                "hq",
                "yto",
                at(20, 12, month=11),
                at(21, 9, month=11),
                weight=300,
                confirmed=at(21, 10, month=11),
            ),
        ]
        with shop.store.write() as conn:
            shop.store.insert_frame(schema.shipments, pl.DataFrame(rows), conn)
            shop.store.insert_frame(
                schema.parcels,
                pl.DataFrame({"shipment_id": [1, 1], "parcel_no": [1, 2], "weight_g": [700, 500]}),
                conn,
            )
            shop.store.insert_frame(
                schema.shipment_lines,
                pl.DataFrame(
                    [
                        (1, O1, 1, "BAG-A", 2),
                        (2, O2, 1, "CUP-A", 1),
                        (3, O3, 1, "TEA-A", 1),
                        (3, O3, 2, "SOCK-A", 3),
                        (6, O6, 1, "BAG-A", 1),
                    ],
                    schema=["shipment_id", "order_no", "line_no", "sku", "quantity"],
                    orient="row",
                ),
                conn,
            )
            audit = [
                {
                    "at": moment,
                    "actor": "客服小美",
                    "role": "presale",
                    "entity": "order",
                    "entity_id": no,
                    "action": "approve",
                    "field": "stage",
                    "from_state": "new",
                    "to_state": "approved",
                }
                for no, moment in ((O1, at(1, 10, 30)), (O5, at(2, 12, 30)))
            ]
            shop.store.insert_frame(schema.audit, pl.DataFrame(audit), conn)
            conn.execute(
                schema.exception_cases.insert().values(
                    shipment_id=2,
                    order_no=O2,
                    kind="damaged",
                    state="open",
                    opened_by="售后小雅",
                    opened_at=at(3, 10),
                    updated_at=at(3, 10),
                )
            )
            conn.execute(
                schema.after_sales.insert(),
                [
                    {
                        "order_no": O1,
                        "kind": "refund",
                        "refund_status": "SUCCESS",
                        "reason": "quality",
                        "amount_fen": 1000,
                        "created_at": at(2, 9),
                        "updated_at": at(2, 9),
                    },
                    {
                        "order_no": O3,
                        "kind": "return",
                        "refund_status": "WAIT_SELLER_AGREE",
                        "reason": "lost",
                        "amount_fen": 2000,
                        "created_at": at(3, 9),
                        "updated_at": at(3, 9),
                    },
                ],
            )
            conn.execute(
                schema.backorders.insert().values(
                    order_no=O5,
                    line_no=1,
                    sku="SCARF-A",
                    quantity=2,
                    missing=2,
                    warehouse_code="hq",
                    since=at(2, 13),
                    updated_at=at(2, 13),
                )
            )
            conn.execute(
                schema.outbox.insert().values(
                    order_no=O5,
                    kind="stockout",
                    lang="zh",
                    text="您好，您订购的商品暂时缺货……",
                    status="sent",
                    due_at=at(3, 13),
                    created_at=at(2, 13),
                    created_by="system:allocation",
                    sent_at=at(2, 15),
                    sent_by="客服小美",
                )
            )


built = built_shops(build)


def analyst(url: str) -> kit.Shop:
    """The shop as the analyst (read only)."""
    return kit.connect(url, actor="分析师", config=config())


def frame(rows: list[tuple], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An expected frame, row by row."""
    return pl.DataFrame(rows, schema=schema, orient="row")


SHIPPING = {
    "period": DATE,
    "carrier_code": STR,
    "shipments": INT,
    "parcels": INT,
    "confirmed": INT,
    "timed": INT,
    "on_time": INT,
    "on_time_rate": FLOAT,
    "hours_median": FLOAT,
    "hours_p90": FLOAT,
    "weighed": INT,
    "unweighed": INT,
    "weight_kg": FLOAT,
    "priced": INT,
    "freight_fen": INT,
}
EXPECTED_SHIPPING = frame(
    [
        (date(2026, 12, 1), "yto", 1, 2, 1, 1, 1, 1.0, 6.0, 6.0, 1, 0, 1.2, 0, None),
        (date(2026, 12, 2), "yto", 1, 1, 0, 1, 1, 1.0, 6.0, 6.0, 1, 0, 0.5, 0, None),
        (date(2026, 12, 2), "zto", 1, 1, 0, 1, 0, 0.0, 22.0, 22.0, 0, 1, 0.0, 0, None),
    ],
    SHIPPING,
)
ORDER_FLOW = {
    "period": DATE,
    "paid": INT,
    "approved": INT,
    "shipped": INT,
    "confirmed": INT,
    "cancelled": INT,
}
EXPECTED_ORDERS = frame([(date(2026, 12, 1), 2, 2, 1, 1, 0), (date(2026, 12, 2), 3, 2, 2, 0, 1)], ORDER_FLOW)
EXPECTED_EXCEPTIONS = frame(
    [("yto", 2, 1, 0, 0, 0, 1, 0.5), ("zto", 1, 0, 1, 0, 0, 1, 1.0)],
    {
        "carrier_code": STR,
        "shipments": INT,
        "lost": INT,
        "damaged": INT,
        "wrong_address": INT,
        "refused": INT,
        "exceptions": INT,
        "exception_rate": FLOAT,
    },
)
EXPECTED_AFTER_SALES = frame(
    [("refund", "quality", 1, 0, 1, 1000, 1000), ("return", "lost", 1, 1, 0, 2000, 0)],
    {
        "kind": STR,
        "reason": STR,
        "cases": INT,
        "open": INT,
        "refunded": INT,
        "asked_fen": INT,
        "refunded_fen": INT,
    },
)
EXPECTED_CATEGORIES = frame(
    [("apparel", 1, 3, 1), ("bags", 1, 2, 1), ("fragile", 1, 1, 1), ("tea", 1, 1, 1)],
    {"category": STR, "shipments": INT, "units": INT, "skus": INT},
)
EXPECTED_NOTICES = frame(
    [(date(2026, 12, 2), 1, 1, 1, 0, 0, 0, 1.0)],
    {
        "period": DATE,
        "notices": INT,
        "sent": INT,
        "in_time": INT,
        "late": INT,
        "waiting": INT,
        "cancelled": INT,
        "in_time_rate": FLOAT,
    },
)
BANDS = ["under_1d", "1_3d", "3_7d", "over_7d"]
EXPECTED_BACKORDERS = frame(
    [
        (b, int(b == "1_3d"), int(b == "1_3d"), 2 * (b == "1_3d"), 26.0 if b == "1_3d" else None)
        for b in BANDS
    ],
    {"band": STR, "lines": INT, "orders": INT, "units_missing": INT, "oldest_hours": FLOAT},
)
EXPECTED_BACKLOG = frame(
    [(b, int(b == "1_3d"), int(b == "1_3d"), 27.0 if b == "1_3d" else None) for b in BANDS],
    {"band": STR, "orders": INT, "late": INT, "oldest_hours": FLOAT},
)


# --- the shop-level readers, on SQLite and PostgreSQL ----------------------------------------


def test_statistics_table_on_both_databases(db_url, clock):
    """S22, S15, S6, S20: every view of the shop's three days equals the hand-computed frame."""
    with analyst(db_url) as shop:
        table = stats.statistics(shop, "2026-12-01", "2026-12-03", by="carrier")

    views = table.views
    assert_frame_equal(views["shipping"], EXPECTED_SHIPPING)
    assert_frame_equal(views["orders"], EXPECTED_ORDERS)
    assert_frame_equal(views["exceptions"], EXPECTED_EXCEPTIONS)
    assert_frame_equal(views["after_sales"], EXPECTED_AFTER_SALES)
    assert_frame_equal(views["categories"], EXPECTED_CATEGORIES)
    assert_frame_equal(views["notices"], EXPECTED_NOTICES)
    assert_frame_equal(views["backorders"], EXPECTED_BACKORDERS)
    assert_frame_equal(views["backlog"], EXPECTED_BACKLOG)
    assert views["summary"].select("shipments", "parcels", "unweighed").row(0) == (3, 4, 1)
    assert views["staff"].select("packed_by", "shipments").rows() == [("仓管小李", 2), ("仓管小王", 1)]


def test_readers_read_each_table_once_within_the_window(db_url, clock):
    """The frames hold what the window needs (the backlog included) and nothing of November."""
    with analyst(db_url) as shop:
        frames = stats.read(shop, "2026-12-01", "2026-12-03")

    assert frames.shipments["shipment_id"].sort().to_list() == [1, 2, 3]
    assert frames.shipments.schema == pl.Schema(fr.SHIPMENTS)
    assert sorted(frames.orders["order_no"]) == [O1, O2, O3, O4, O5]
    row = frames.orders.filter(pl.col("order_no") == O2).row(0, named=True)
    assert (row["approved_at"], row["handed_over_at"], row["confirmed_at"]) == (at(1, 12), at(2, 9), None)
    assert frames.orders.filter(pl.col("order_no") == O1)["confirmed_at"].to_list() == [at(1, 20)]


def test_hours_of_payment_against_the_cutoff(db_url, clock):
    """S5b: orders paid per hour, and those handed over the same day, against a 16:00 cut-off."""
    with analyst(db_url) as shop:
        frames = stats.read(shop, "2026-12-01", "2026-12-03")

    hourly = stats.volume_by_hour(frames.orders, time(16), WIN)

    assert hourly.height == 24
    assert hourly.filter(pl.col("paid") > 0).select("hour", "paid", "shipped_same_day").rows() == [
        (8, 1, 1),
        (9, 1, 0),
        (10, 1, 1),
        (11, 1, 0),
        (12, 1, 0),
    ]
    assert hourly.filter(pl.col("hour").is_in([15, 16]))["before_cutoff"].to_list() == [True, False]
    assert hourly["same_day_rate"][0] is None


def test_shipping_record_of_one_day(db_url, clock):
    """S22: one row per parcel handed over that day: order, items, carrier, number, weight, packer, times."""
    with analyst(db_url) as shop:
        record = stats.shipping_record(shop, "2026-12-02")

    assert list(record.columns) == list(stats.table.RECORD)
    assert record.select(
        "order_no", "items", "units", "carrier_code", "tracking_no", "weight_kg", "packed_by", "on_time"
    ).rows() == [
        (O2, "双层玻璃杯×1", 1, "zto", "YT0000000002", None, "仓管小王", False),
        (O3, "明前龙井×1、羊毛袜×3", 4, "yto", "YT0000000003", 0.5, "仓管小李", True),
    ]
    assert record["handed_over_at"].to_list() == [at(2, 9), at(2, 14)]


def test_reading_needs_a_person(db_url, clock):
    """The readers check the role `read`: nobody acting is refused, analysts may read."""
    with kit.connect(db_url, config=config()) as shop, pytest.raises(PermissionDenied):
        stats.statistics(shop, "2026-12-01")


def test_future_dates_give_zeros_and_say_so(db_url, clock):
    """Bad input: a window that has not come yet is empty, with zeros, and a note; no exception."""
    with analyst(db_url) as shop:
        table = stats.statistics(shop, "2027-01-01", "2027-01-31", period="month")

    assert table.views["shipping"].height == 0
    assert table.views["shipping"].columns[:3] == ["period", "carrier_code", "warehouse_code"]
    assert table.views["summary"].select("shipments", "weighed", "weight_kg").row(0) == (0, 0, 0.0)
    assert table.views["summary"]["on_time_rate"].to_list() == [None]
    assert any("2027-01-01" in note for note in table.notes)


def test_workbook_has_a_sheet_per_view_with_headers_numbers_and_formats(db_url, clock, tmp_path):
    """S22: the XLSX opens with openpyxl: one sheet per view, Chinese headers, numbers with formats."""
    import openpyxl

    with analyst(db_url) as shop:
        table = stats.statistics(shop, "2026-12-01", "2026-12-03", by="carrier")
    path = stats.write_xlsx(table, tmp_path / "统计.xlsx")

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "汇总",
        "发货统计",
        "订单流转",
        "物流异常",
        "售后退款",
        "商品类目",
        "打包员",
        "缺货通知",
        "付款时段",
        "缺货待发",
        "待发积压",
        "说明",
    ]
    sheet = book["发货统计"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["日期", "快递公司", "发货票数", "包裹数"]
    rate, hours = headers.index("按时率") + 1, headers.index("付款到发货小时（中位数）") + 1
    assert [sheet.cell(row, rate).value for row in (2, 3, 4)] == [1.0, 1.0, 0.0]
    assert sheet.cell(2, rate).number_format == "0.0%"
    assert sheet.cell(4, hours).value == 22.0 and sheet.cell(4, hours).number_format == "0.0"
    assert sheet.cell(2, 1).value == datetime(2026, 12, 1)
    assert sheet.cell(2, headers.index("运费估算（元）") + 1).value is None  # no freight: blank, never 0
    refunds = book["售后退款"]
    assert [c.value for c in refunds[2]] == ["仅退款", "质量问题", 1, 0, 1, 10.0, 10.0]
    assert refunds.cell(2, 6).number_format == "#,##0.00"


# --- each metric on small frames ---------------------------------------------------------------


def shipments(*rows: tuple) -> pl.DataFrame:
    """SHIPMENTS from (id, order, carrier, warehouse, paid, handed, ship_by, confirmed, weight, parcels)."""
    names = [
        "shipment_id",
        "order_no",
        "carrier_code",
        "warehouse_code",
        "paid_at",
        "handed_over_at",
        "ship_by",
        "confirmed_at",
        "weight_g",
        "parcels",
    ]
    data = pl.DataFrame(list(rows), schema=names, orient="row") if rows else pl.DataFrame(schema=names)
    return fr.typed(
        data.with_columns(
            shop=pl.lit("示例小店"),
            packed_by=pl.lit("仓管小李"),
            stage=pl.lit("confirmed"),
            tracking_status=pl.lit("delivered"),
        ),
        fr.SHIPMENTS,
    )


WEEK = shipments(
    (1, "A", "yto", "hq", at(7, 9), at(7, 15), at(8, 18), at(7, 20), 1000, 1),  # Mon, 6 h, on time
    (2, "B", "yto", "hq", at(8, 9), at(9, 9), at(8, 18), None, 3000, 2),  # Tue → Wed, 24 h, late
    (3, "C", "yto", "gz", at(12, 8), at(13, 10), None, at(13, 12), None, 1),  # Sat → Sun, 26 h, no deadline
    (4, "D", "sf", "hq", at(13, 8), at(14, 8), at(14, 8), at(14, 9), 500, 1),  # Sun → Mon 12-14, at ship_by
)


def test_shipping_table_by_week_and_warehouse():
    """S15, S22: counts, on time (at ship_by counts), hour quantiles, weights per week × warehouse."""
    result = metrics.shipping_table(WEEK, "week", ["warehouse_code"])

    expected = frame(
        [
            (date(2026, 12, 7), "gz", 1, 1, 1, 0, 0, None, 26.0, 26.0, 0, 1, 0.0, 0, None),
            (date(2026, 12, 7), "hq", 2, 3, 1, 2, 1, 0.5, 15.0, 22.2, 2, 0, 4.0, 0, None),
            (date(2026, 12, 14), "hq", 1, 1, 1, 1, 1, 1.0, 24.0, 24.0, 1, 0, 0.5, 0, None),
        ],
        {"period": DATE, "warehouse_code": STR}
        | {k: v for k, v in SHIPPING.items() if k not in ("period", "carrier_code")},
    )
    assert_frame_equal(result, expected)


def test_shipping_table_by_month_and_summary():
    """One month holds the four parcels; the summary is the same row without a period."""
    month = metrics.shipping_table(WEEK, "month", ["carrier_code"])
    total = metrics.summary(WEEK)

    assert month.select("period", "carrier_code", "shipments", "on_time").rows() == [
        (date(2026, 12, 1), "sf", 1, 1),
        (date(2026, 12, 1), "yto", 3, 1),
    ]
    assert total.select("shipments", "parcels", "timed", "on_time", "hours_median", "weight_kg").row(0) == (
        4,
        5,
        3,
        2,
        24.0,
        4.5,
    )
    assert total["on_time_rate"][0] == pytest.approx(2 / 3)


def test_empty_window_gives_typed_empty_frames_and_a_row_of_zeros():
    """Bad input: an empty period: every view has its columns, the summary zeros and no NaN."""
    table = stats.compute(fr.Frames.empty(), WIN, by=["carrier"], now=NOW)

    for name in stats.VIEWS:
        frame_ = table.views[name]
        floats = [c for c, t in frame_.schema.items() if t == pl.Float64]
        assert all(frame_[c].is_nan().sum() == 0 for c in floats), name
    assert table.views["shipping"].columns[:2] == ["period", "carrier_code"]
    assert table.views["summary"].select("shipments", "parcels", "confirmed").row(0) == (0, 0, 0)
    assert table.views["backlog"]["orders"].to_list() == [0, 0, 0, 0]
    assert table.views["hourly"]["paid"].sum() == 0


def test_only_cancelled_orders_count_as_paid_and_cancelled_and_nothing_else():
    """Bad input: a period with only cancelled orders: no shipping rows, no backlog, no exception."""
    orders = fr.typed(
        pl.DataFrame(
            {
                "order_no": ["X", "Y"],
                "stage": ["cancelled", "cancelled"],
                "paid_at": [at(1, 9), at(1, 10)],
                "merged": [False, False],
            }
        ),
        fr.ORDERS,
    )
    frames = fr.Frames(
        fr.empty(fr.SHIPMENTS),
        orders,
        *[fr.empty(s) for s in (fr.LINES, fr.EXCEPTIONS, fr.AFTER_SALES, fr.BACKORDERS, fr.NOTICES)],
    )

    table = stats.compute(frames, WIN, now=NOW)

    assert_frame_equal(table.views["orders"], frame([(date(2026, 12, 1), 2, 0, 0, 0, 2)], ORDER_FLOW))
    assert table.views["shipping"].height == 0
    assert table.views["backlog"]["orders"].sum() == 0


def test_order_flow_counts_each_milestone_in_its_own_period_by_shop():
    """S6, S9: paid, approved, shipped and confirmed each counted when they happened, inside the window."""
    orders = fr.typed(
        pl.DataFrame(
            {
                "order_no": ["A", "B", "C"],
                "shop": ["甲店", "甲店", "乙店"],
                "stage": ["confirmed", "packed", "confirmed"],
                "paid_at": [at(30, 9, month=11), at(1, 9), at(2, 9)],
                "approved_at": [at(1, 8), at(1, 10), at(2, 10)],
                "handed_over_at": [at(1, 12), None, at(3, 9)],
                "confirmed_at": [at(1, 20), None, at(4, 9)],
                "merged": [False] * 3,
            }
        ),
        fr.ORDERS,
    )

    result = metrics.order_flow(orders, "day", ["shop"], WIN)

    assert_frame_equal(
        result,
        frame(
            [
                (date(2026, 12, 1), "甲店", 1, 2, 1, 1, 0),
                (date(2026, 12, 2), "乙店", 1, 1, 0, 0, 0),
                (date(2026, 12, 3), "乙店", 0, 0, 1, 0, 0),
            ],
            {"period": DATE, "shop": STR} | {k: v for k, v in ORDER_FLOW.items() if k != "period"},
        ),
    )


def test_exceptions_count_a_parcel_once_per_kind_from_cases_and_tracking():
    """S21, S15: a case and a tracking status of the same kind count once; the rate is per parcel."""
    ships = WEEK.with_columns(tracking_status=pl.Series(["lost", "refused", "delivered", "delivered"]))
    cases = fr.typed(
        pl.DataFrame(
            {"case_id": [1, 2, 3], "shipment_id": [1, 1, 4], "kind": ["lost", "wrong_address", "damaged"]}
        ),
        fr.EXCEPTIONS,
    )

    result = metrics.exceptions_by_carrier(ships, cases)

    assert_frame_equal(
        result,
        frame([("sf", 1, 0, 1, 0, 0, 1, 1.0), ("yto", 3, 1, 0, 1, 1, 2, 2 / 3)], EXPECTED_EXCEPTIONS.schema),
    )


def test_after_sales_by_reason_and_refunds():
    """S2, S3, S24d: cases by kind and reason; SUCCESS counts as refunded, with its amount."""
    cases = fr.typed(
        pl.DataFrame(
            {
                "case_id": [1, 2, 3, 4],
                "kind": ["refund", "refund", "refund", "exchange"],
                "refund_status": ["SUCCESS", "CLOSED", "WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS"],
                "reason": ["late_shipment", "late_shipment", "late_shipment", "wrong_item"],
                "amount_fen": [1500, 800, 700, 0],
                "created_at": [at(1, 9), at(2, 9), at(3, 9), at(4, 9)],
            }
        ),
        fr.AFTER_SALES,
    )

    result = metrics.after_sales_summary(cases, window=WIN)

    assert_frame_equal(
        result, frame([("refund", "late_shipment", 3, 1, 1, 3000, 1500)], EXPECTED_AFTER_SALES.schema)
    )


def test_by_category_counts_parcels_units_and_skus():
    """What went out per SKU category; a SKU missing from the catalogue counts under null."""
    lines = fr.typed(
        pl.DataFrame(
            {
                "shipment_id": [1, 1, 2, 3],
                "sku": ["T1", "T2", "T1", "X"],
                "quantity": [1, 2, 5, 1],
                "category": ["tea", "tea", "tea", None],
            }
        ),
        fr.LINES,
    )

    result = metrics.by_category(WEEK, lines)

    assert_frame_equal(result, frame([("tea", 2, 8, 2), (None, 1, 1, 1)], EXPECTED_CATEGORIES.schema))


def test_stockout_notices_within_24_hours():
    """S20: sent by due_at is in time; sent after, or unsent past due, is late; unsent not yet due waits."""
    notices = fr.typed(
        pl.DataFrame(
            {
                "notice_id": [1, 2, 3, 4, 5],
                "status": ["sent", "sent", "queued", "queued", "cancelled"],
                "created_at": [at(1, 9), at(1, 10), at(1, 11), at(3, 9), at(3, 10)],
                "due_at": [at(2, 9), at(2, 10), at(2, 11), at(4, 9), at(4, 10)],
                "sent_at": [at(1, 12), at(2, 11), None, None, None],
            }
        ),
        fr.NOTICES,
    )

    result = metrics.stockout_notices(notices, NOW, "day", WIN)

    assert_frame_equal(
        result,
        frame(
            [(date(2026, 12, 1), 3, 2, 1, 2, 0, 0, 1 / 3), (date(2026, 12, 3), 2, 0, 0, 0, 1, 1, None)],
            EXPECTED_NOTICES.schema,
        ),
    )


def test_backorders_and_backlog_by_age_as_of_a_moment():
    """S24b: what waited at `as_of`, by age band; closed before as_of is gone, closed after still counts."""
    backorders = fr.typed(
        pl.DataFrame(
            {
                "backorder_id": [1, 2, 3, 4],
                "order_no": ["A", "A", "B", "C"],
                "missing": [1, 2, 3, 4],
                "status": ["open", "open", "closed", "closed"],
                "since": [at(3, 10), at(3, 10), at(1, 9), at(1, 9)],
                "closed_at": [None, None, at(3, 12), at(3, 16)],
            }
        ),
        fr.BACKORDERS,
    )
    orders = fr.typed(
        pl.DataFrame(
            {
                "order_no": ["P", "Q", "R"],
                "stage": ["approved", "packed", "handed_over"],
                "merged": [False] * 3,
                "paid_at": [at(20, 15, month=11), at(3, 14), at(1, 9)],
                "ship_by": [at(22, 18, month=11), None, None],
                "handed_over_at": [None, None, at(2, 9)],
            }
        ),
        fr.ORDERS,
    )

    aged = metrics.backorders_by_age(backorders, NOW)
    backlog = metrics.backlog_by_age(orders, NOW)

    assert aged.select("band", "lines", "orders", "units_missing").rows() == [
        ("under_1d", 2, 1, 3),
        ("1_3d", 1, 1, 4),
        ("3_7d", 0, 0, 0),
        ("over_7d", 0, 0, 0),
    ]
    assert aged["oldest_hours"].to_list() == [5.0, 54.0, None, None]
    assert backlog.rows() == [
        ("under_1d", 1, 0, 1.0),
        ("1_3d", 0, 0, None),
        ("3_7d", 0, 0, None),
        ("over_7d", 1, 1, 312.0),
    ]


def test_freight_from_the_shops_rate_table_never_from_samples():
    """S15: contract price by carrier, origin and destination at the weighed weight; samples unused."""
    zone = Zone(
        "省内", ("浙江省",), first_weight_g=1000, first_price_fen=300, step_g=1000, step_price_fen=100, days=1
    )
    far = Zone(
        "省外", ("广东省",), first_weight_g=1000, first_price_fen=800, step_g=500, step_price_fen=300, days=2
    )
    table = RateTable("yto", "standard", "浙江省", 8000, (zone, far), max_weight_g=20000)
    ships = fr.typed(
        pl.DataFrame(
            {
                "shipment_id": [1, 2, 3, 4, 5],
                "carrier_code": ["yto", "yto", "yto", "sf", "yto"],
                "origin_province": ["浙江省", "浙江", "浙江省", "浙江省", "浙江省"],
                "province": ["浙江省", "广东", "广东省", "浙江省", "浙江省"],
                "weight_g": [2500, 1200, 3000, 800, None],
                "parcels": [1, 1, 2, 1, 1],
            }
        ),
        fr.SHIPMENTS,
    )

    priced = stats.estimate_freight(ships, stats.rate_frame([table]))

    # 2.5 kg in province: 3.00 + 2 steps; 1.2 kg far: 8.00 + 1 step of 500 g; 2 boxes of 1.5 kg far: 2 × 11.00
    assert priced["freight_fen"].to_list() == [500, 1100, 2200, None, None]
    assert stats.rate_frame([RateTable("yto", "standard", "浙江省", 8000, (zone,), sample=True)]).height == 0


def test_periods_and_dates_refused_in_words():
    """Bad input: from after to, unreadable dates, unknown periods and dimensions are BadInput (exit 2)."""
    with pytest.raises(BadInput, match="2026-12-05"):
        window("2026-12-05", "2026-12-01")
    with pytest.raises(BadInput, match="十二月一号"):
        window("十二月一号")
    with pytest.raises(BadInput):
        metrics.shipping_table(WEEK, "year")
    with pytest.raises(BadInput, match="colour"):
        stats.compute(fr.Frames.empty(), WIN, by=["colour"])
    assert window("2026/12/01", "20261203").days == 3


def test_cells_never_show_nan_or_none_as_numbers():
    """Rates in %, hours and kg with one decimal, fen in yuan, nothing as "-", bands in words."""
    from kit.stats.table import cell

    assert [
        cell("on_time_rate", 0.975),
        cell("on_time_rate", None),
        cell("hours_p90", 22.25),
        cell("freight_fen", 123456),
        cell("band", "1_3d"),
        cell("on_time", True),
    ] == ["97.5%", "-", "22.2", "1,234.56", "1–3天", "是"]


# --- charts -----------------------------------------------------------------------------------


def test_charts_build_from_real_and_empty_frames():
    """The four dashboard charts are bqplot figures; empty frames give an empty chart with a note."""
    import bqplot

    real = stats.compute(
        fr.Frames(
            WEEK,
            fr.empty(fr.ORDERS),
            *[fr.empty(s) for s in (fr.LINES, fr.EXCEPTIONS, fr.AFTER_SALES, fr.BACKORDERS, fr.NOTICES)],
        ),
        window("2026-12-01", "2026-12-31"),
        by=["carrier"],
        now=NOW,
    )
    orders = fr.typed(
        pl.DataFrame(
            {
                "order_no": ["A", "B"],
                "paid_at": [at(1, 9), at(1, 17)],
                "stage": ["approved"] * 2,
                "merged": [False] * 2,
            }
        ),
        fr.ORDERS,
    )
    hourly = metrics.volume_by_hour(orders, time(16))
    backlog = metrics.backlog_by_age(orders, NOW)

    figures = [
        stats.on_time_chart(real.views["shipping"]),
        stats.hourly_chart(hourly, time(16)),
        stats.exceptions_chart(real.views["exceptions"]),
        stats.backlog_chart(backlog),
    ]
    empties = [
        stats.on_time_chart(metrics.shipping_table(fr.empty(fr.SHIPMENTS), "day", ["carrier_code"])),
        stats.hourly_chart(metrics.volume_by_hour(fr.empty(fr.ORDERS))),
        stats.exceptions_chart(
            metrics.exceptions_by_carrier(fr.empty(fr.SHIPMENTS), fr.empty(fr.EXCEPTIONS))
        ),
        stats.backlog_chart(metrics.backlog_by_age(fr.empty(fr.ORDERS), NOW)),
    ]

    assert all(isinstance(f, bqplot.Figure) for f in figures + empties)
    assert [len(f.marks) for f in figures] == [2, 2, 1, 1]  # two carriers' lines; bars and the cut-off line
    assert all(f.marks == [] and "没有数据" in f.title for f in empties)
    assert len(stats.charts_box(real, time(16)).children) == 4

"""Pick waves, pick lists and shortages found on the shelf (kit.picking; S7, S12, S18, S23).

The test shop (hand-checked numbers below): headquarters (hq) serves 浙江/上海/江苏, a store
(gz) serves 广东/湖北. Shelf locations at hq: SOCK-A and TEA-A on A-01, CUP-A on B-02, BAG-A
has none (it must come last on a pick list although its SKU sorts first). hq holds exactly
the three cups its orders want, so a cup found missing on the shelf makes a real shortage.

Six approved orders, allocated at a fixed clock:

    order  province  carrier  ship_by          lines                        ships from
    O7     浙江       yto      Fri 10:00        CUP-A 2, TEA-A 1             hq
    O3     上海       yto      Fri 12:00        TEA-A 2, SOCK-A 1, BAG-A 1   hq
    O14    浙江       yto      Fri 15:00        SOCK-A 2                     hq
    O5     江苏       yto      Sat 10:00        SOCK-A 1                     hq
    O10    上海       sf       Fri 09:00        CUP-A 1                      hq
    O1     广东       yto      Fri 11:00        TEA-A 1                      gz
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from fulfil_fixtures import (
    NOW,
    add_order,
    assert_ledger_explains,
    built_shops,
    catalogue,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    config,
    copy_of,
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    level,
    open_shop,
    shipment_of,
    snapshot,
    table,
)
from orders_factory import order_no

import kit
from kit import picking, shortages, stock
from kit.allocation import allocate
from kit.errors import BadInput, PermissionDenied, Refused
from kit.i18n import t
from kit.picking import PLAN_COLUMNS

SKUS = catalogue("BAG-A", "CUP-A", "SOCK-A", "TEA-A")
OPENING = [("hq", "BAG-A", 5), ("hq", "CUP-A", 3), ("hq", "SOCK-A", 10), ("hq", "TEA-A", 10),
           ("gz", "TEA-A", 5)]
LOCATIONS = {("hq", "SOCK-A"): "A-01", ("hq", "TEA-A"): "A-01", ("hq", "CUP-A"): "B-02",
             ("gz", "TEA-A"): "G-01"}
FRI, SAT = date(2026, 12, 4), date(2026, 12, 5)
# make_orders number (its address decides the warehouse) → lines, ship_by, carrier
ORDERS: dict[int, tuple[list[tuple[str, int]], datetime, str]] = {
    7: ([("CUP-A", 2), ("TEA-A", 1)], datetime(2026, 12, 4, 10, 0), "yto"),
    3: ([("TEA-A", 2), ("SOCK-A", 1), ("BAG-A", 1)], datetime(2026, 12, 4, 12, 0), "yto"),
    14: ([("SOCK-A", 2)], datetime(2026, 12, 4, 15, 0), "yto"),
    5: ([("SOCK-A", 1)], datetime(2026, 12, 5, 10, 0), "yto"),
    10: ([("CUP-A", 1)], datetime(2026, 12, 4, 9, 0), "sf"),
    1: ([("TEA-A", 1)], datetime(2026, 12, 4, 11, 0), "yto"),
}
O7, O3, O14, O5, O10, O1 = ALL = [order_no(k) for k in ORDERS]


def build(url: str) -> None:
    """The test shop on a fresh database: settings, catalogue, opening stock with shelf
    locations, the six orders, and one allocation run serving them all."""
    with kit.connect(url, actor="店长", config=config()) as opened:
        open_shop(opened, SKUS, OPENING, LOCATIONS)
        for k, (items, ship_by, carrier) in ORDERS.items():
            add_order(opened, k, items, source="picking", ship_by=ship_by, carrier_code=carrier)
        result = allocate(opened.acting_as("仓管小李"))
    assert sorted(result.allocated) == sorted(ALL) and result.backordered == []


built = built_shops(build)  # built(kind) → the test shop's URL; db_url: a fresh copy per test


@pytest.fixture
def shop(db_url: str, clock: dict[str, datetime]) -> kit.Shop:
    """The test shop (SQLite and PostgreSQL), every order allocated; acting as the warehouse."""
    with kit.connect(db_url, actor="仓管小李", config=config()) as opened:
        yield opened


def stages(shop: kit.Shop, name: str) -> dict[str, str]:
    """order_no → stage of the orders, or of the shipments (one each here)."""
    return dict(table(shop, name).select("order_no", "stage").rows())


# --- plan (S12, S23) -------------------------------------------------------------------------------


def test_plan_groups_by_warehouse_carrier_and_day_and_writes_nothing_S12(shop):
    """S12/S23: the waves allocated shipments would form, one row per warehouse, carrier and
    ship-by day with the earliest deadline, shipments, orders and units; most urgent day
    first, then warehouse and carrier. Nothing is written."""
    before = snapshot(shop)

    frame = picking.plan(shop)

    assert frame.columns == PLAN_COLUMNS
    assert frame.rows() == [
        ("gz", "yto", FRI, datetime(2026, 12, 4, 11, 0), 1, 1, 1),
        ("hq", "sf", FRI, datetime(2026, 12, 4, 9, 0), 1, 1, 1),
        ("hq", "yto", FRI, datetime(2026, 12, 4, 10, 0), 3, 3, 9),
        ("hq", "yto", SAT, datetime(2026, 12, 5, 10, 0), 1, 1, 1),
    ]
    assert snapshot(shop) == before
    assert set(stages(shop, "shipments").values()) == {"allocated"}


def test_plan_filters_by_warehouse_carrier_and_deadline_S12(shop):
    """Filters: one warehouse and carrier; only shipments due before a moment (ship_by < it)."""
    hq_yto = picking.plan(shop, warehouse="hq", carrier="yto")
    assert hq_yto.select("due_day", "shipments", "units").rows() == [(FRI, 3, 9), (SAT, 1, 1)]

    urgent = picking.plan(shop, due_before=datetime(2026, 12, 4, 12, 0))  # O10 9:00, O7 10:00, O1 11:00
    assert urgent.select("warehouse_code", "carrier_code", "shipments", "units").rows() == [
        ("gz", "yto", 1, 1), ("hq", "sf", 1, 1), ("hq", "yto", 1, 3)]


def test_plan_is_open_to_every_reader_S12(shop):
    """Looking is reading: the analyst sees the plan too."""
    assert picking.plan(shop.acting_as("分析师")).height == 4


# --- start_waves (S7, S18, S23) --------------------------------------------------------------------


def _wave_of(shop: kit.Shop) -> dict[str, int | None]:
    """order_no → wave_id of its (only) shipment."""
    return dict(table(shop, "shipments").select("order_no", "wave_id").rows())


def test_start_waves_chunks_groups_and_moves_through_the_lifecycle_S18_S23(shop):
    """S18/S23: one wave per warehouse, carrier and ship-by day, at most max_shipments each
    (hq/yto/Friday's three shipments: the two most urgent, then the third); every shipment
    and its order move to picking through the lifecycle, audited as start_picking by the
    person who formed the waves; the waves table keeps who and when."""
    formed = picking.start_waves(shop, max_shipments=2)

    summary = sorted((w["warehouse_code"], w["carrier_code"], w["ship_by"], w["shipments"], w["units"])
                     for w in formed)
    assert summary == [
        ("gz", "yto", datetime(2026, 12, 4, 11, 0), 1, 1),
        ("hq", "sf", datetime(2026, 12, 4, 9, 0), 1, 1),
        ("hq", "yto", datetime(2026, 12, 4, 10, 0), 2, 7),  # O7 (3 units) and O3 (4)
        ("hq", "yto", datetime(2026, 12, 4, 15, 0), 1, 2),  # O14
        ("hq", "yto", datetime(2026, 12, 5, 10, 0), 1, 1),  # O5, the next day
    ]
    waves_of = _wave_of(shop)
    assert waves_of[O7] == waves_of[O3]
    assert len({waves_of[O7], waves_of[O14], waves_of[O5], waves_of[O10], waves_of[O1]}) == 5
    assert sorted(table(shop, "waves")["wave_id"].to_list()) == sorted(w["wave_id"] for w in formed)
    assert set(table(shop, "waves")["created_by"]) == {"仓管小李"}
    assert set(table(shop, "waves")["created_at"]) == {NOW}

    assert set(stages(shop, "shipments").values()) == {"picking"}
    assert set(stages(shop, "orders").values()) == {"picking"}
    trail = shop.audit_trail()
    started = trail.filter(pl.col("action") == "start_picking")
    assert sorted(started.filter(pl.col("entity") == "order")["entity_id"].to_list()) == sorted(ALL)
    assert started.filter(pl.col("entity") == "shipment").height == 6
    assert set(started["actor"]) == {"仓管小李"} and set(started["to_state"]) == {"picking"}

    frame = picking.wave_shipments(shop, waves_of[O7])
    assert frame["order_no"].to_list() == [O7, O3]  # by ship_by
    assert picking.waves(shop)["picking"].sum() == 6


def test_pick_list_sorted_by_location_then_sku_with_totals_and_order_lines_S12(shop):
    """S12/S23 step 3: the pick list of O7 + O3 (hq, yto, Friday morning): per item, the
    units summed over orders (TEA-A 1 + 2) and how many orders want it, sorted by shelf
    location then SKU (A-01 SOCK before A-01 TEA before B-02 CUP), the item without a
    location last although its SKU sorts first; and each order's lines."""
    picking.start_waves(shop, max_shipments=2)
    wave_id = _wave_of(shop)[O7]

    sheet = picking.pick_list(shop, wave_id)

    assert sheet.wave["wave_id"] == wave_id and sheet.wave["warehouse_name"] == "杭州总仓"
    assert sheet.totals.rows() == [
        ("A-01", "SOCK-A", "羊毛袜", "均码", 1, 1),
        ("A-01", "TEA-A", "明前龙井", "250克", 3, 2),
        ("B-02", "CUP-A", "双层玻璃杯", "透明", 2, 1),
        (None, "BAG-A", "帆布包", "米色", 1, 1),
    ]
    s3, s7 = shipment_of(shop, O3), shipment_of(shop, O7)
    assert sheet.per_order.select("order_no", "shipment_id", "location", "sku", "quantity").rows() == [
        (O3, s3, "A-01", "SOCK-A", 1),
        (O3, s3, "A-01", "TEA-A", 2),
        (O3, s3, None, "BAG-A", 1),
        (O7, s7, "A-01", "TEA-A", 1),
        (O7, s7, "B-02", "CUP-A", 2),
    ]
    with pytest.raises(BadInput):
        picking.pick_list(shop, 999_999)


def test_second_start_waves_takes_only_new_shipments_S23(shop, clock):
    """A shipment is picked in one wave only: a second run forms nothing; an order allocated
    later goes into a new wave of its own, the old waves keep their shipments."""
    first = picking.start_waves(shop)
    before = _wave_of(shop)

    assert picking.start_waves(shop) == []
    assert _wave_of(shop) == before and table(shop, "waves").height == len(first)

    late = add_order(shop.acting_as("店长"), 17, [("SOCK-A", 1)], source="picking",
                     ship_by=datetime(2026, 12, 4, 18, 0))
    assert allocate(shop).allocated == [late]
    clock["now"] = datetime(2026, 12, 3, 16, 0)
    again = picking.start_waves(shop)

    assert len(again) == 1 and again[0]["shipments"] == 1 and again[0]["units"] == 1
    after = _wave_of(shop)
    assert after[late] == again[0]["wave_id"] and again[0]["wave_id"] not in before.values()
    assert {k: v for k, v in after.items() if k != late} == before


def test_start_waves_for_chosen_shipments_only_S23(shop):
    """shipment_ids= forms the waves of those shipments only; the others stay allocated."""
    chosen = [shipment_of(shop, O10), shipment_of(shop, O5)]

    formed = picking.start_waves(shop, shipment_ids=chosen)

    assert sorted(w["shipments"] for w in formed) == [1, 1]
    shipments = stages(shop, "shipments")
    assert {o for o, s in shipments.items() if s == "picking"} == {O10, O5}
    assert stages(shop, "orders") == {o: ("picking" if o in (O10, O5) else "allocated") for o in ALL}
    assert {o for o, w in _wave_of(shop).items() if w is not None} == {O10, O5}


def test_start_waves_refuses_a_shipment_not_allocated_and_writes_nothing_S23(shop):
    """A shipment already in a wave (or none at all) cannot be put in a wave: Refused naming
    it, and the other shipment asked for is not moved either (one transaction)."""
    picking.start_waves(shop, shipment_ids=[shipment_of(shop, O10)])
    before = snapshot(shop)

    for bad in (shipment_of(shop, O10), 999_999):  # in a wave already; unknown
        with pytest.raises(Refused) as caught:
            picking.start_waves(shop, shipment_ids=[shipment_of(shop, O5), bad])

        assert caught.value.key == "picking.not_allocated"
        assert str(bad) in caught.value.message
        assert snapshot(shop) == before, bad


def test_start_waves_needs_a_warehouse_role_S23(shop):
    """Pre-sales and analysts may not form waves: PermissionDenied, nothing written."""
    before = snapshot(shop)

    for who in ("客服小美", "分析师"):
        with pytest.raises(PermissionDenied):
            picking.start_waves(shop.acting_as(who))

    assert snapshot(shop) == before


def test_start_waves_logistics_may_form_waves_and_max_must_be_positive_S23(shop):
    """S23: logistics may form waves; max_shipments below 1 is BadInput before anything happens."""
    logistics = shop.acting_as("物流小张")
    before = snapshot(shop)
    with pytest.raises(BadInput):
        picking.start_waves(logistics, max_shipments=0)
    assert snapshot(shop) == before

    assert len(picking.start_waves(logistics, warehouse="gz")) == 1
    assert stages(shop, "shipments")[O1] == "picking"


# --- report_short (S7) -----------------------------------------------------------------------------


@pytest.fixture
def picking_shop(shop: kit.Shop, clock: dict[str, datetime]) -> kit.Shop:
    """hq's yto shipments in waves (picking); O10 (sf) and O1 (gz) still allocated."""
    picking.start_waves(shop, warehouse="hq", carrier="yto")
    clock["now"] = datetime(2026, 12, 3, 16, 30)
    return shop


def test_report_short_corrects_releases_cancels_and_backorders_S7(picking_shop):
    """S7: the picker finds one of O7's two cups. The shelf level is corrected by the
    shortfall (a `count` ledger row of -1), O7's stock is released (reserved down by its
    lines), its shipment cancelled, the order backordered with what it misses (1 cup), and
    the ledger still explains every level; other orders keep their reservations."""
    shop = picking_shop
    ship7 = shipment_of(shop, O7)
    assert level(shop, "hq", "CUP-A") == (3, 3) and level(shop, "hq", "TEA-A") == (10, 3)

    result = picking.report_short(shop, ship7, "CUP-A", 1)

    assert {k: result[k] for k in ("order_no", "shipment_id", "sku", "needed", "found", "corrected",
                                   "released")} == {
        "order_no": O7, "shipment_id": ship7, "sku": "CUP-A", "needed": 2, "found": 1, "corrected": 1,
        "released": 2}
    assert level(shop, "hq", "CUP-A") == (2, 1)  # one cup gone from the shelf; O10's cup still held
    assert level(shop, "hq", "TEA-A") == (10, 2)  # O3's two teas still held
    counted = table(shop, "stock_ledger", kind="count")
    assert counted.select("warehouse_code", "sku", "on_hand_delta", "reserved_delta", "order_no",
                          "shipment_id", "actor").rows() == [("hq", "CUP-A", -1, 0, O7, ship7, "仓管小李")]
    assert "CUP-A" in counted["reason"][0] and counted["batch_id"][0] == result["batch_id"]
    released = table(shop, "stock_ledger", kind="release")
    assert sorted(released.select("sku", "reserved_delta", "order_no").rows()) == [
        ("CUP-A", -2, O7), ("TEA-A", -1, O7)]
    assert set(table(shop, "reservations", order_no=O7)["status"]) == {"released"}
    assert set(table(shop, "reservations", order_no=O3)["status"]) == {"reserved"}
    assert table(shop, "shipments", shipment_id=ship7)["stage"].to_list() == ["cancelled"]
    assert shop.order(O7).stage == "backordered"
    assert shop.order(O3).stage == "picking"
    backorders = table(shop, "backorders", order_no=O7)
    assert backorders.select("line_no", "sku", "quantity", "missing", "warehouse_code", "status").rows() == [
        (1, "CUP-A", 2, 1, "hq", "open")]
    trail = shop.audit_trail("order", O7).filter(pl.col("action") == "backorder")
    assert trail["actor"].to_list() == ["仓管小李"] and "CUP-A" in trail["reason"][0]
    assert_ledger_explains(shop)


def test_short_pick_shows_in_the_shortage_list_S7(picking_shop):
    """S7: the shortage goes to purchasing through the shortage list: O7's cup line misses 1;
    per SKU, 1 missing, 1 order, hq's one free cup counted as available."""
    shop = picking_shop
    picking.report_short(shop, shipment_of(shop, O7), "CUP-A", 1)

    lines = shortages.lines(shop)
    assert lines.select("order_no", "line_no", "sku", "quantity", "missing").rows() == [
        (O7, 1, "CUP-A", 2, 1)]
    per_sku = shortages.by_sku(shop)
    assert per_sku.select("sku", "missing", "orders", "available", "to_source").rows() == [
        ("CUP-A", 1, 1, 1, 1)]


def test_after_a_short_pick_allocation_waits_for_stock_then_serves_the_order_S7_S24b(picking_shop):
    """S7/S24b: with one free cup O7 (two cups) stays backordered at the next allocation run;
    once a cup is received, the run allocates O7 again (new shipment, backorder row done)."""
    shop = picking_shop
    picking.report_short(shop, shipment_of(shop, O7), "CUP-A", 1)

    still = allocate(shop)
    assert still.allocated == [] and still.still_short == [O7]
    assert shop.order(O7).stage == "backordered"

    stock.receive_goods(shop, [{"warehouse_code": "hq", "sku": "CUP-A", "quantity": 1}], reason="补货")
    again = allocate(shop)

    assert again.allocated == [O7]
    assert shop.order(O7).stage == "allocated"
    live = table(shop, "shipments", order_no=O7).filter(pl.col("stage") == "allocated")
    assert live.height == 1 and live["wave_id"].to_list() == [None]
    assert table(shop, "backorders", order_no=O7, status="open").height == 0
    assert level(shop, "hq", "CUP-A") == (3, 3)
    assert_ledger_explains(shop)


REFUSED_REPORTS = [  # order of the shipment (None: no such shipment), sku, found, error, message key
    (O7, "CUP-A", 2, BadInput, "picking.bad_found"),  # found them all: no shortage
    (O7, "CUP-A", 3, BadInput, "picking.bad_found"),
    (O7, "CUP-A", -1, BadInput, "picking.bad_found"),
    (O7, "SOCK-A", 0, BadInput, "picking.sku_not_in_shipment"),
    (O10, "CUP-A", 0, Refused, "picking.short_not_picking"),  # allocated, not in a wave
    (None, "CUP-A", 0, BadInput, "picking.unknown_shipment"),
]


def test_report_short_refuses_bad_reports_and_writes_nothing_S7(picking_shop):
    """A report that cannot be right (found all or more, a negative count, a SKU the
    shipment lacks, a shipment not being picked, or none at all) is refused with a clear
    message and changes nothing."""
    shop = picking_shop
    before = snapshot(shop)

    for order, sku, found, error, key in REFUSED_REPORTS:
        shipment = shipment_of(shop, order) if order else 999_999
        with pytest.raises(error) as caught:
            picking.report_short(shop, shipment, sku, found)

        assert caught.value.key == key
        assert not caught.value.message.startswith("picking.")  # a real text, not the bare key
        assert sku in caught.value.message or str(shipment) in caught.value.message
        assert snapshot(shop) == before, (order, sku, found)


def test_report_short_twice_is_refused_the_second_time_S7(picking_shop):
    """The shipment is cancelled by the first report: a second one for it is refused."""
    shop = picking_shop
    ship7 = shipment_of(shop, O7)
    picking.report_short(shop, ship7, "CUP-A", 0)
    before = snapshot(shop)

    with pytest.raises(Refused) as caught:
        picking.report_short(shop, ship7, "CUP-A", 0)

    assert caught.value.key == "picking.short_not_picking"
    assert t("shipment_stage.cancelled") in caught.value.message
    assert snapshot(shop) == before


def test_report_short_needs_the_warehouse_or_supervisor_S7(picking_shop):
    """Only the warehouse (and the supervisor) report shortages found on the shelf."""
    shop = picking_shop
    before = snapshot(shop)

    for who in ("客服小美", "分析师", "物流小张"):
        with pytest.raises(PermissionDenied):
            picking.report_short(shop.acting_as(who), shipment_of(shop, O7), "CUP-A", 1)

    assert snapshot(shop) == before


def test_pick_list_leaves_out_a_shipment_cancelled_by_a_short_pick_S7(picking_shop):
    """After the short report the wave's pick list (O7, O3, O14) no longer asks for O7's goods."""
    shop = picking_shop
    wave_id = _wave_of(shop)[O7]
    picking.report_short(shop, shipment_of(shop, O7), "CUP-A", 1)

    after = picking.pick_list(shop, wave_id)
    assert after.totals.select("location", "sku", "quantity", "orders").rows() == [
        ("A-01", "SOCK-A", 3, 2), ("A-01", "TEA-A", 2, 1), (None, "BAG-A", 1, 1)]
    assert set(after.per_order["order_no"]) == {O3, O14}


def test_short_sku_on_two_lines_is_backordered_once_S7(sqlite_url, clock):
    """S7: an order with the same cup on two lines (1 + 1); one cup is found of two, so one
    unit is missing in all: the backorder rows must add up to 1, not 2 (and the shortage
    list must not ask purchasing for two)."""
    with kit.connect(sqlite_url, actor="店长", config=config()) as shop:
        open_shop(shop, SKUS, [("hq", "CUP-A", 2)])
        no = add_order(shop, 7, [("CUP-A", 1), ("CUP-A", 1)], source="picking",
                       ship_by=datetime(2026, 12, 4, 10, 0))
        assert allocate(shop).allocated == [no]
        picking.start_waves(shop)

        picking.report_short(shop, shipment_of(shop, no), "CUP-A", 1)

        missing = table(shop, "backorders", order_no=no)["missing"].to_list()
        assert sum(missing) == 1
        assert shortages.by_sku(shop)["missing"].to_list() == [1]


def test_report_short_refuses_a_count_that_is_not_whole_units_S7(built, clock, tmp_path):
    """S7: a shelf count is whole units; 1.5 is a typing error, refused like -1 (BadInput)."""
    with (
        copy_of(built("sqlite"), tmp_path) as url,
        kit.connect(url, actor="仓管小李", config=config()) as shop,
    ):
        picking.start_waves(shop, warehouse="hq", carrier="yto")
        before = snapshot(shop)

        with pytest.raises(BadInput):
            picking.report_short(shop, shipment_of(shop, O7), "CUP-A", 1.5)

        assert snapshot(shop) == before

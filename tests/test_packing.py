"""Packing, order by order (kit.packing; S8, S24c, S25, S26): the packing sheet, the check of
what goes in the box and of its weight, closing the box (stage, stock ledger, register,
audit), the order following its parcels, double clicks and two packers at once, and the
goods going back on the shelf when a packed order is cancelled.

The test shop (fulfil_fixtures.build_gift_shop; hand-checked numbers below): headquarters (hq)
serves 浙江/上海/江苏, a store (gz) serves 广东/湖北. Three approved orders, allocated and put in
pick waves at a fixed clock:

    GIFT   (浙江)  CUP-A 1 (fragile 400 g), TSHIRT-A 2 (apparel 200 g), SCARF-A 1 (apparel
                  150 g, a gift line); buyer message "送朋友的生日礼物", no price slip (S26).
                  Items 950 g + the fragile packing 320 g (sturdier than apparel's 60) = 1270 g.
    PLAIN  (上海)  TSHIRT-A 1: 200 g + 60 g = 260 g (a small parcel: the 50 g floor applies).
    SPLIT  (浙江)  CUP-A 1 from hq, TEA-A 1 from gz (only gz holds tea): two shipments.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import polars as pl
import pytest
from fulfil_fixtures import (
    GIFT,
    GIFT_SCANS,
    PACKED_AT,
    PLAIN,
    SPLIT,
    add_order,
    assert_ledger_explains,
    build_gift_shop,
    built_shops,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    config,
    copy_of,
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    level,
    shipment_of,
    snapshot,
    table,
)
from orders_factory import order_no

import kit
from kit import packing, picking
from kit.allocation import allocate
from kit.errors import BadInput, Conflict, IllegalTransition, NeedsConfirmation, PermissionDenied, Refused
from kit.i18n import t
from kit.packing import ITEM_COLUMNS


def build(url: str) -> None:
    """The test shop on a fresh database: every order allocated and in a pick wave."""
    build_gift_shop(url, waves=True, source="packing")


built = built_shops(build)  # built(kind) → the test shop's URL; db_url: a fresh copy per test


@pytest.fixture
def shop(db_url: str, clock: dict[str, datetime]) -> kit.Shop:
    """The test shop (SQLite and PostgreSQL), acting as the warehouse packer 仓管小李."""
    clock["now"] = PACKED_AT
    with kit.connect(db_url, actor="仓管小李", config=config()) as opened:
        yield opened


def items(**skus: int) -> pl.DataFrame:
    """A shipment's items as check_items reads them (sku, quantity)."""
    return pl.DataFrame({"sku": list(skus), "quantity": list(skus.values())}).with_columns(
        pl.col("sku").str.replace("_", "-"))


# --- the packing sheet (S24c, S25, S26) -----------------------------------------------------------


def test_sheet_has_items_gifts_message_present_flag_and_expected_weight_S26_S24c(shop):
    """S26: the packer reads the buyer's message and the items, sees the gift line and that
    the parcel is a present (no price slip). S24c: the expected weight is the items' (950 g)
    plus the sturdiest category's packing material (fragile 320 g over apparel 60 g)."""
    sheet = packing.sheet(shop, shipment_of(shop, GIFT))

    assert sheet["order_no"] == GIFT and sheet["stage"] == "picking" and sheet["carrier_code"] == "yto"
    assert sheet["items"].columns == ITEM_COLUMNS
    assert sheet["items"].select("sku", "category", "quantity", "weight_g", "is_gift_item").rows() == [
        ("CUP-A", "fragile", 1, 400, False),
        ("TSHIRT-A", "apparel", 2, 200, False),
        ("SCARF-A", "apparel", 1, 150, True),
    ]
    assert sheet["gifts"] == ["羊毛围巾"]
    assert sheet["buyer_message"] == "送朋友的生日礼物"
    assert sheet["no_price_slip"] is True
    assert (sheet["items_g"], sheet["packaging_g"], sheet["expected_g"]) == (950, 320, 1270)


def test_sheet_guides_for_the_categories_present_each_once_S25(shop):
    """S25: a fragile item brings the fragile guide (the catalogue's text: polyethylene
    filler on every side); two apparel items bring the soft-goods guide once."""
    guides = packing.sheet(shop, shipment_of(shop, GIFT))["guides"]

    assert [g["guide"] for g in guides] == ["fragile", "soft"]
    assert guides[0]["text"] == t("packing.guide.fragile") and "聚乙烯" in guides[0]["text"]
    assert guides[0]["title"] == t("packing.guide_title.fragile") == "易碎品"
    assert guides[1]["text"] == t("packing.guide.soft") and "防水快递袋" in guides[1]["text"]


def test_sheet_of_a_plain_parcel_S26_S24c(shop):
    """No message, no gift, a price slip may go in; tea (gz) has no guide and its category
    is not listed: the default 100 g of packing material."""
    plain = packing.sheet(shop, shipment_of(shop, PLAIN))
    assert (plain["gifts"], plain["no_price_slip"], plain["expected_g"]) == ([], False, 260)
    assert [g["guide"] for g in plain["guides"]] == ["soft"]

    tea = packing.sheet(shop, shipment_of(shop, SPLIT, "gz"))
    assert tea["guides"] == []
    assert (tea["items_g"], tea["packaging_g"], tea["expected_g"]) == (300, 100, 400)
    with pytest.raises(BadInput):
        packing.sheet(shop, 999_999)


def test_sheet_follows_the_packing_settings_S24c_S25(shop, db_url):
    """[packing] packaging_g, default_packaging_g and guides come from kit.toml."""
    settings = config(packing={"packaging_g": {"apparel": 90}, "default_packaging_g": 70,
                               "guides": {"fragile": "jewellery"}})
    with kit.connect(db_url, actor="分析师", config=settings) as other:
        sheet = packing.sheet(other, shipment_of(shop, GIFT))
        tea = packing.sheet(other, shipment_of(shop, SPLIT, "gz"))

    assert (sheet["packaging_g"], sheet["expected_g"]) == (90, 1040)  # fragile not listed: 70 < 90
    assert [g["guide"] for g in sheet["guides"]] == ["jewellery"]
    assert (tea["packaging_g"], tea["expected_g"]) == (70, 370)
    gift, plain = shipment_of(shop, GIFT), shipment_of(shop, PLAIN)
    expected = packing.weights(shop, [gift, plain])  # the shop's own (default) settings
    assert sorted(expected.select("shipment_id", "items_g", "packaging_g", "expected_g").rows()) == sorted(
        [(gift, 950, 320, 1270), (plain, 200, 60, 260)])


# --- what goes in the box (S8) ---------------------------------------------------------------------


def test_check_items_agrees_with_exact_scans_in_any_case_and_spacing_S8():
    """S8: the scanned units equal the shipment's: nothing differs, whatever the case, the
    spaces and line ends a scanner adds, and blank scans."""
    want = items(CUP_A=1, TSHIRT_A=2)

    assert packing.check_items(want, ["CUP-A", "TSHIRT-A", "TSHIRT-A"]) == []
    assert packing.check_items(want, [" cup-a ", "tshirt-a", "Tshirt-A\n", "", "  "]) == []
    assert packing.check_items(want, {"cup-a": 1, " TSHIRT-A": 2}) == []


def test_check_items_reports_wrong_missing_and_extra_S8():
    """S8: each difference with its kind, expected and scanned units, short and over."""
    want = items(CUP_A=1, TSHIRT_A=2)

    assert packing.check_items(want, ["CUP-A", "TSHIRT-A", "TEA-A"]) == [
        {"sku": "TEA-A", "expected": 0, "scanned": 1, "kind": "wrong_item", "short": 0, "over": 1},
        {"sku": "TSHIRT-A", "expected": 2, "scanned": 1, "kind": "missing", "short": 1, "over": 0},
    ]
    assert packing.check_items(want, ["TSHIRT-A", "TSHIRT-A"]) == [
        {"sku": "CUP-A", "expected": 1, "scanned": 0, "kind": "missing", "short": 1, "over": 0}]
    assert packing.check_items(want, {"CUP-A": 3, "TSHIRT-A": 2}) == [
        {"sku": "CUP-A", "expected": 1, "scanned": 3, "kind": "extra", "short": 0, "over": 2}]
    assert packing.check_items(want, []) == [
        {"sku": "CUP-A", "expected": 1, "scanned": 0, "kind": "missing", "short": 1, "over": 0},
        {"sku": "TSHIRT-A", "expected": 2, "scanned": 0, "kind": "missing", "short": 2, "over": 0}]


@pytest.mark.parametrize("value", [-1, 1.0, True, "2", None])
def test_check_items_refuses_a_bad_quantity_in_the_mapping_S8(value):
    """In the sku → quantity form a quantity is a whole number of at least 0."""
    with pytest.raises(BadInput) as caught:
        packing.check_items(items(CUP_A=1), {"CUP-A": value})
    assert caught.value.key == "packing.bad_quantity"


# --- the weight (S8) -------------------------------------------------------------------------------


DEFAULTS = kit.config.parse({})


@pytest.mark.parametrize(
    ("weight", "expected", "key"),
    [
        (0, 300, "packing.weight_not_positive"),
        (-120, 300, "packing.weight_not_positive"),
        (50_001, 40_000, "packing.weight_over_limit"),  # the carriers' limit, even when expected
        (80_000, 300, "packing.weight_over_limit"),  # 80 kg typed for a 300 g parcel
        (3_001, 300, "packing.weight_implausible"),  # more than 10 times the expected
        (29, 300, "packing.weight_implausible"),  # less than a tenth
        ("820", 300, "packing.bad_weight"),
        (True, 300, "packing.bad_weight"),
        (float("nan"), 300, "packing.bad_weight"),
        (None, 300, "packing.bad_weight"),
    ],
)
def test_check_weight_refuses_impossible_weights_S8(weight, expected, key):
    """S8: a weight that cannot be the parcel's is a typing or scale error: BadInput."""
    with pytest.raises(BadInput) as caught:
        packing.check_weight(weight, expected, DEFAULTS)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("weight", "expected", "result"),
    [
        (1270, 1270, None),
        (1397, 1270, None),  # 10 % of 1270 = 127 g
        (1143, 1270, None),
        (1398, 1270, "warning"),
        (1142, 1270, "warning"),
        (310, 260, None),  # small parcel: 10 % is 26 g, the 50 g floor applies
        (210, 260, None),
        (311, 260, "warning"),
        (209, 260, "warning"),
        (30_000, 30_000, None),
        (3_000, 300, "warning"),  # exactly 10 times: plausible, but far off
    ],
)
def test_check_weight_tolerance_with_the_grams_floor_S8(weight, expected, result):
    """S8: within max(10 %, 50 g) of the expected weight: None; outside: "warning"."""
    assert packing.check_weight(weight, expected, DEFAULTS) == result


def test_check_weight_follows_the_packing_settings_S8():
    """[packing] tolerance_percent, tolerance_g, max_parcel_g and implausible_factor."""
    strict = kit.config.parse({"packing": {"tolerance_percent": 5, "tolerance_g": 10, "max_parcel_g": 2_000,
                                           "implausible_factor": 3}})
    assert packing.check_weight(1_050, 1_000, strict) is None
    assert packing.check_weight(1_051, 1_000, strict) == "warning"  # 10 % would accept it
    assert packing.check_weight(1_051, 1_000, DEFAULTS) is None
    assert packing.check_weight(110, 100, strict) is None  # floor 10 g
    assert packing.check_weight(111, 100, strict) == "warning"
    assert packing.check_weight(111, 100, DEFAULTS) is None  # floor 50 g
    with pytest.raises(BadInput, match=r"2\.000"):
        packing.check_weight(2_001, 1_900, strict)
    assert packing.check_weight(2_001, 1_900, DEFAULTS) is None
    with pytest.raises(BadInput) as caught:
        packing.check_weight(301, 100, strict)  # 3 times off
    assert caught.value.key == "packing.weight_implausible"


# --- closing the box (S8) --------------------------------------------------------------------------


WRONG_BOXES = {  # what the packer scanned → what the refusal says
    "wrong": (["CUP-A", "TSHIRT-A", "TSHIRT-A", "TEA-A"], ["SCARF-A 少 1 件", "TEA-A 不属于这个订单"]),
    "missing": (["CUP-A", "TSHIRT-A", "SCARF-A"], ["TSHIRT-A 少 1 件（扫描 1 件，订单 2 件）"]),
    "extra": ([*GIFT_SCANS, "CUP-A"], ["CUP-A 多 1 件（扫描 2 件，订单 1 件）"]),
}


def test_pack_refuses_a_box_that_differs_and_writes_nothing_S8(shop):
    """S8: before closing the box, quantity and type are checked again: a wrong, missing or
    extra item is refused with the differences, and nothing changes (stage, stock, register)."""
    ship = shipment_of(shop, GIFT)
    before = snapshot(shop)

    for case, (scans, says) in WRONG_BOXES.items():
        with pytest.raises(Refused) as caught:
            packing.pack(shop, ship, scans, weight_g=1270)

        assert caught.value.key == "packing.items_differ", case
        assert all(text in caught.value.message for text in says), caught.value.message
        assert GIFT in caught.value.message
        assert snapshot(shop) == before, case


def test_pack_a_weight_outside_the_tolerance_needs_the_packer_to_accept_it_S8(shop):
    """S8: 1.5 kg for an expected 1.27 kg: NeedsConfirmation and nothing written; accepted,
    the box closes and the register row carries the warning."""
    ship = shipment_of(shop, GIFT)
    before = snapshot(shop)

    with pytest.raises(NeedsConfirmation) as caught:
        packing.pack(shop, ship, GIFT_SCANS, weight_g=1500)
    assert "1.500" in caught.value.message and "1.270" in caught.value.message
    assert snapshot(shop) == before

    result = packing.pack(shop, ship, GIFT_SCANS, weight_g=1500, accept_weight=True)

    assert result["warning"] == t("packing.weight_warning", value="1.500", expected="1.270")
    entry = packing.register(shop).row(0, named=True)
    assert (entry["shipment_id"], entry["weight_g"], entry["expected_weight_g"]) == (ship, 1500, 1270)
    assert entry["warning"] == result["warning"]
    assert table(shop, "shipments", shipment_id=ship)["stage"].item() == "packed"


def test_pack_an_implausible_weight_is_refused_even_when_accepted_S8(shop):
    """A zero or wildly off weight is a typing or scale error: no accept_weight closes the box."""
    ship = shipment_of(shop, GIFT)
    before = snapshot(shop)
    for weight in (0, 15_000):
        with pytest.raises(BadInput):
            packing.pack(shop, ship, GIFT_SCANS, weight_g=weight, accept_weight=True)
    assert snapshot(shop) == before


def test_pack_closes_the_box_takes_the_goods_off_the_shelf_and_registers_it_S8(shop):
    """S8: the shipment is packed with its weight, expected weight, packer and time; a `pick`
    ledger row per line lowers on hand and reserved; its reservations are picked; the
    packer's register has the row; the lifecycle audits the shipment's and the order's
    pack; the ledger explains every level."""
    ship = shipment_of(shop, GIFT)
    assert level(shop, "hq", "TSHIRT-A") == (10, 3)

    result = packing.pack(shop, ship, ["cup-a", "TSHIRT-A", " tshirt-a", "SCARF-A"], weight_g=1300)

    assert result == {"shipment_id": ship, "order_no": GIFT, "weight_g": 1300, "expected_weight_g": 1270,
                      "warning": None, "picked_units": 4}
    row = table(shop, "shipments", shipment_id=ship).row(0, named=True)
    assert (row["stage"], row["weight_g"], row["expected_weight_g"], row["packed_by"], row["packed_at"]) == (
        "packed", 1300, 1270, "仓管小李", PACKED_AT)
    picked = table(shop, "stock_ledger", kind="pick")
    assert sorted(picked.select("warehouse_code", "sku", "on_hand_delta", "reserved_delta", "order_no",
                                "shipment_id", "actor").rows()) == [
        ("hq", "CUP-A", -1, -1, GIFT, ship, "仓管小李"),
        ("hq", "SCARF-A", -1, -1, GIFT, ship, "仓管小李"),
        ("hq", "TSHIRT-A", -2, -2, GIFT, ship, "仓管小李"),
    ]
    assert level(shop, "hq", "TSHIRT-A") == (8, 1)  # PLAIN's T-shirt still reserved
    assert level(shop, "hq", "CUP-A") == (9, 1)  # SPLIT's cup still reserved
    assert set(table(shop, "reservations", order_no=GIFT)["status"]) == {"picked"}
    assert set(table(shop, "reservations", order_no=PLAIN)["status"]) == {"reserved"}
    register = packing.register(shop)
    assert register.select("shipment_id", "order_no", "parcel_no", "weight_g", "expected_weight_g", "packer",
                           "at", "warning").rows() == [
        (ship, GIFT, 1, 1300, 1270, "仓管小李", PACKED_AT, None)]
    assert packing.register(shop, day=PACKED_AT.date(), packer="仓管小李").height == 1
    assert packing.register(shop, packer="仓管小王").height == 0
    trail = shop.audit_trail()
    packs = trail.filter(pl.col("action") == "pack").select("entity", "entity_id", "from_state", "to_state",
                                                            "actor")
    assert sorted(packs.rows()) == [("order", GIFT, "picking", "packed", "仓管小李"),
                                    ("shipment", str(ship), "picking", "packed", "仓管小李")]
    assert shop.order(GIFT).stage == "packed"
    assert_ledger_explains(shop)


def test_order_is_packed_only_when_all_its_parcels_are_S8(shop):
    """S8: SPLIT ships from hq and gz ([allocation] split); packing the hq parcel leaves the
    order picking; packing the gz parcel too moves it to packed."""
    hq, gz = shipment_of(shop, SPLIT, "hq"), shipment_of(shop, SPLIT, "gz")

    packing.pack(shop, hq, ["CUP-A"], weight_g=720)
    assert shop.order(SPLIT).stage == "picking"
    assert shop.audit_trail("order", SPLIT).filter(pl.col("action") == "pack").height == 0

    packing.pack(shop, gz, {"TEA-A": 1}, weight_g=400)
    assert shop.order(SPLIT).stage == "packed"
    assert dict(table(shop, "shipments", order_no=SPLIT).select("warehouse_code", "stage").rows()) == {
        "hq": "packed", "gz": "packed"}
    assert level(shop, "gz", "TEA-A") == (4, 0)
    assert_ledger_explains(shop)


def test_double_click_on_pack_is_a_conflict_and_writes_nothing_more_S8(shop):
    """The same box closed twice (a double click): the second is a Conflict (already
    packed), and no second ledger row, register row or audit row is written."""
    ship = shipment_of(shop, PLAIN)
    packing.pack(shop, ship, ["TSHIRT-A"], weight_g=260)
    before = snapshot(shop)

    with pytest.raises(Conflict):
        packing.pack(shop, ship, ["TSHIRT-A"], weight_g=260)

    assert snapshot(shop) == before
    assert table(shop, "pack_register").height == 1


def test_pack_refuses_a_shipment_not_picked_yet_S8(shop, clock):
    """A shipment still allocated (not in a pick wave) cannot be packed: IllegalTransition."""
    add_order(shop.acting_as("店长"), 10, [("TSHIRT-A", 1)], source="packing")  # 上海: hq
    late = order_no(10)
    assert allocate(shop).allocated == [late]
    ship = shipment_of(shop, late)
    before = snapshot(shop)

    with pytest.raises(IllegalTransition):
        packing.pack(shop, ship, ["TSHIRT-A"], weight_g=260)

    assert snapshot(shop) == before
    with pytest.raises(BadInput):
        packing.pack(shop, 999_999, ["TSHIRT-A"], weight_g=260)


def test_pack_needs_a_packing_role_S8(shop):
    """Pre-sales and analysts do not close boxes: PermissionDenied and nothing written."""
    ship = shipment_of(shop, PLAIN)
    before = snapshot(shop)

    for who in ("客服小美", "分析师"):
        with pytest.raises(PermissionDenied):
            packing.pack(shop.acting_as(who), ship, ["TSHIRT-A"], weight_g=260)

    assert snapshot(shop) == before


def test_two_packers_at_once_exactly_one_wins_S8(built, clock, tmp_path):
    """PostgreSQL, two packers scan the same box at the same moment, each on their own
    connection: exactly one closes it, the other gets Conflict; the goods leave the shelf once."""
    clock["now"] = PACKED_AT
    with copy_of(built("postgresql"), tmp_path) as url:
        with kit.connect(url, actor="店长", config=config()) as shop:
            ship = shipment_of(shop, GIFT)
        start = threading.Barrier(2)
        outcomes: dict[str, Any] = {}

        def packer(name: str) -> None:
            with kit.connect(url, actor=name, config=config()) as mine:
                start.wait(timeout=10)
                try:
                    outcomes[name] = packing.pack(mine, ship, GIFT_SCANS, weight_g=1270)
                except Exception as exc:  # the loser's error is what is checked
                    outcomes[name] = exc

        threads = [threading.Thread(target=packer, args=(name,)) for name in ("仓管小李", "仓管小王")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        won = [n for n, r in outcomes.items() if isinstance(r, dict)]
        lost = [r for r in outcomes.values() if not isinstance(r, dict)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert isinstance(lost[0], Conflict), repr(lost[0])
        with kit.connect(url, actor="店长", config=config()) as shop:
            assert table(shop, "pack_register")["packer"].to_list() == won
            assert table(shop, "stock_ledger", kind="pick").height == 3
            assert table(shop, "shipments", shipment_id=ship)["packed_by"].to_list() == won
            assert level(shop, "hq", "TSHIRT-A") == (8, 1)
            assert_ledger_explains(shop)


# --- cancelled after packing (S3, S24b) --------------------------------------------------------------


def test_cancel_after_packing_puts_the_goods_back_on_the_shelf_S8_S24b(shop):
    """The supervisor cancels a packed order: its shipment is cancelled, the picked goods go
    back on hand with `return` ledger rows, its reservations are `restocked`; levels are as
    before packing less the reservations, and the ledger explains them."""
    ship = shipment_of(shop, GIFT)
    packing.pack(shop, ship, GIFT_SCANS, weight_g=1270)
    assert level(shop, "hq", "TSHIRT-A") == (8, 1)

    shop.acting_as("店长").transition("order", GIFT, "cancel", reason="买家不要了")

    assert shop.order(GIFT).stage == "cancelled"
    assert table(shop, "shipments", shipment_id=ship)["stage"].item() == "cancelled"
    returned = table(shop, "stock_ledger", kind="return")
    got = returned.select("sku", "on_hand_delta", "reserved_delta", "shipment_id", "actor").rows()
    assert sorted(got) == [("CUP-A", 1, 0, ship, "店长"), ("SCARF-A", 1, 0, ship, "店长"),
                           ("TSHIRT-A", 2, 0, ship, "店长")]
    assert all("买家不要了" in r for r in returned["reason"])
    assert set(table(shop, "reservations", order_no=GIFT)["status"]) == {"restocked"}
    assert level(shop, "hq", "TSHIRT-A") == (10, 1)
    assert level(shop, "hq", "SCARF-A") == (10, 0)
    assert table(shop, "stock_ledger", kind="release").height == 0  # nothing was still reserved
    assert_ledger_explains(shop)


def test_cancel_a_half_packed_order_restocks_one_parcel_and_releases_the_other_S8_S24b(shop):
    """SPLIT with its hq parcel packed and its gz parcel still picking, cancelled: the cup
    goes back on hq's shelf (`return`, restocked), the tea's reservation at gz is released."""
    hq, gz = shipment_of(shop, SPLIT, "hq"), shipment_of(shop, SPLIT, "gz")
    packing.pack(shop, hq, ["CUP-A"], weight_g=720)

    shop.acting_as("店长").transition("order", SPLIT, "cancel", reason="买家不要了")

    assert set(table(shop, "shipments", order_no=SPLIT)["stage"]) == {"cancelled"}
    status = dict(table(shop, "reservations", order_no=SPLIT).select("shipment_id", "status").rows())
    assert status == {hq: "restocked", gz: "released"}
    assert table(shop, "stock_ledger", kind="return").select("sku", "on_hand_delta").rows() == [("CUP-A", 1)]
    released = table(shop, "stock_ledger", kind="release")
    assert released.select("sku", "reserved_delta").rows() == [("TEA-A", -1)]
    assert level(shop, "hq", "CUP-A") == (10, 1)  # GIFT's cup still reserved
    assert level(shop, "gz", "TEA-A") == (5, 0)
    assert_ledger_explains(shop)


def test_short_pick_is_refused_once_part_of_the_order_is_packed_S7_S24b(shop):
    """S24b: SPLIT's hq parcel is packed; a shortage reported on its gz parcel cannot turn
    the whole order into a backorder: Refused, nothing written."""
    packing.pack(shop, shipment_of(shop, SPLIT, "hq"), ["CUP-A"], weight_g=720)
    before = snapshot(shop)

    with pytest.raises(Refused) as caught:
        picking.report_short(shop, shipment_of(shop, SPLIT, "gz"), "TEA-A", 0)

    assert caught.value.key == "picking.short_part_packed"
    assert snapshot(shop) == before


def test_short_pick_on_a_split_order_cancels_both_parcels_S7_S24b(shop):
    """S7/S24b: a shortage on SPLIT's gz parcel while its hq parcel is still being picked:
    the whole order waits (backordered), both parcels are cancelled and both reservations
    released; the tea's level at gz is corrected, hq's cup is free again."""
    hq, gz = shipment_of(shop, SPLIT, "hq"), shipment_of(shop, SPLIT, "gz")

    result = picking.report_short(shop, gz, "TEA-A", 0)

    assert (result["needed"], result["corrected"], result["released"]) == (1, 1, 2)
    assert shop.order(SPLIT).stage == "backordered"
    assert dict(table(shop, "shipments", order_no=SPLIT).select("shipment_id", "stage").rows()) == {
        hq: "cancelled", gz: "cancelled"}
    assert set(table(shop, "reservations", order_no=SPLIT)["status"]) == {"released"}
    assert level(shop, "gz", "TEA-A") == (4, 0)
    assert level(shop, "hq", "CUP-A") == (10, 1)  # GIFT's cup only
    assert_ledger_explains(shop)


def test_short_pick_racing_a_pack_of_the_same_order_S7_S24b(built, clock, tmp_path, monkeypatch):
    """PostgreSQL: a packer closes SPLIT's hq parcel after the picker's shortage report on its
    gz parcel has started but before it has locked the order's parcels. The report reads the
    stages only under its locks, so it sees the closed box and is refused (short_part_packed)
    instead of cancelling it."""
    clock["now"] = PACKED_AT
    with (
        copy_of(built("postgresql"), tmp_path) as url,
        kit.connect(url, actor="仓管小李", config=config()) as shop,
    ):
        hq, gz = shipment_of(shop, SPLIT, "hq"), shipment_of(shop, SPLIT, "gz")
        real_lock = picking.short._lock_order_shipments

        def packer_finishes_meanwhile(*args: Any, **kwargs: Any) -> Any:
            with kit.connect(url, actor="仓管小王", config=config()) as packer:
                packing.pack(packer, hq, ["CUP-A"], weight_g=720)
            return real_lock(*args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr(picking.short, "_lock_order_shipments", packer_finishes_meanwhile)
            with pytest.raises(Refused) as refused:
                picking.report_short(shop, gz, "TEA-A", 0)

        assert refused.value.key == "picking.short_part_packed"
        assert table(shop, "shipments", shipment_id=hq)["stage"].item() == "packed"
        assert_ledger_explains(shop)

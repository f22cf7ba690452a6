"""Hand-over, platform confirmation and the orders that did not ship (kit.shipping; S1b, S8, S9,
S13, S18, S19, S24c, S26b).

The test shop: headquarters (hq) serves 浙江, a store (gz) serves 广东 and alone holds BAG-A.
Seven approved orders, allocated at a fixed Thursday 2026-12-03 15:00; all but OW and OF are
picked and packed (every unit scanned, the expected weight on the scale):

    order  lines               carrier  ship_by         shipments
    OA     SOCK-A 1            yto      Thu 18:00       A (hq), packed
    OB     SOCK-A 2            yto      Thu 18:00       B (hq), packed
    OC     TEA-A 1             sf       Thu 18:00       C (hq), packed
    OD     BAG-A 1, CUP-A 1    yto      Thu 18:00       D1 (gz) and D2 (hq), both packed
    OE     CUP-A 1             yto      Thu 18:00       E (hq), packed
    OW     TEA-A 2             yto      Thu 12:00       W (hq), allocated (late: not picked)
    OF     SOCK-A 1            yto      Fri 10:00       F (hq), allocated (due tomorrow)

The shop is built once per database and copied for every test (fulfil_fixtures.built_shops
and copy_of), so that each test starts from the same packed shop.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    open_shop,
    pack_all,
    snapshot,
    table,
)
from orders_factory import order_no

import kit
from kit import outbox, picking, shipping
from kit.allocation import allocate
from kit.errors import BadInput, KitError, PermissionDenied, Refused
from kit.i18n import t

SKUS = catalogue("BAG-A", "CUP-A", "SOCK-A", "TEA-A")
OPENING = [("hq", "CUP-A", 10), ("hq", "SOCK-A", 10), ("hq", "TEA-A", 10), ("gz", "BAG-A", 5)]
TODAY_18 = datetime(2026, 12, 3, 18, 0)
# name → (make_orders number: its address decides the warehouse, lines, ship_by, carrier)
ORDERS: dict[str, tuple[int, list[tuple[str, int]], datetime, str]] = {
    "OA": (7, [("SOCK-A", 1)], TODAY_18, "yto"),
    "OB": (14, [("SOCK-A", 2)], TODAY_18, "yto"),
    "OC": (21, [("TEA-A", 1)], TODAY_18, "sf"),
    "OD": (1, [("BAG-A", 1), ("CUP-A", 1)], TODAY_18, "yto"),
    "OE": (28, [("CUP-A", 1)], TODAY_18, "yto"),
    "OW": (35, [("TEA-A", 2)], datetime(2026, 12, 3, 12, 0), "yto"),
    "OF": (42, [("SOCK-A", 1)], datetime(2026, 12, 4, 10, 0), "yto"),
}
OA, OB, OC, OD, OE, OW, OF = (order_no(ORDERS[k][0]) for k in ORDERS)
UNPACKED = ("W", "F")
# tracking numbers the carriers accept (kit/carriers/data/patterns.toml)
YT1, YT2, YT3, YT4 = "YT6552380417836", "YT2285938472925", "YT7512345678901", "YT1000000000004"
SF1 = "SF1311223344556"
ZT1 = "ZT123456789012"


def shipment_ids(shop: kit.Shop) -> dict[str, int]:
    """The shipment ids by name (A … F, D1 from gz and D2 from hq, W)."""
    ids: dict[str, int] = {}
    shipments = table(shop, "shipments").select("shipment_id", "order_no", "warehouse_code")
    for sid, no, wh in shipments.rows():
        name = next(k for k in ORDERS if order_no(ORDERS[k][0]) == no)[1]
        ids[name if no != OD else f"D{1 if wh == 'gz' else 2}"] = sid
    return ids


def build(url: str) -> None:
    """Write the test shop into an empty database."""
    with kit.connect(url, actor="店长", config=config()) as boss:
        open_shop(boss, SKUS, OPENING)
        for k, items, ship_by, carrier in ORDERS.values():
            add_order(boss, k, items, source="shipping", ship_by=ship_by, carrier_code=carrier)
        warehouse = boss.acting_as("仓管小李")
        result = allocate(warehouse)
        assert sorted(result.allocated) == sorted([OA, OB, OC, OD, OE, OW, OF]), result
        ids = shipment_ids(boss)
        assert sorted(ids) == ["A", "B", "C", "D1", "D2", "E", "F", "W"]
        to_pack = sorted(v for k, v in ids.items() if k not in UNPACKED)
        picking.start_waves(warehouse, shipment_ids=to_pack)
        for sid in to_pack:
            pack_all(warehouse, sid)


built = built_shops(build)  # built(kind) → the test shop's URL; db_url: a fresh copy per test


@dataclass
class World:
    """The copied shop, the logistics clerk acting, and the shipment ids by name."""

    url: str
    shop: kit.Shop
    ids: dict[str, int]

    def as_(self, name: str) -> kit.Shop:
        return self.shop.acting_as(name)


@pytest.fixture(name="w")
def world_fixture(db_url: str, clock: dict[str, datetime]) -> Iterator[World]:
    """The test shop (SQLite and PostgreSQL), acting as the logistics clerk 物流小张."""
    with kit.connect(db_url, actor="物流小张", config=config()) as shop:
        yield World(db_url, shop, shipment_ids(shop))


def ship(w: World, name: str) -> dict[str, Any]:
    """The shipment named `name` as a dict."""
    return table(w.shop, "shipments", shipment_id=w.ids[name]).row(0, named=True)


def order(w: World, no: str) -> dict[str, Any]:
    return table(w.shop, "orders", order_no=no).row(0, named=True)


def audit(w: World, entity: str, key: Any, action: str | None = None) -> pl.DataFrame:
    trail = w.shop.audit_trail(entity, str(key))
    return trail if action is None else trail.filter(pl.col("action") == action)


# --- the sender address (S26b) -----------------------------------------------------------------


def test_hand_over_refused_until_sender_is_set_naming_section_and_file_S26b(w, tmp_path):
    """S26b: the sender address is set before the first shipment. With [shop.sender] mobile and
    detail empty, hand_over is refused (not a per-row refusal: nothing is looked at), the
    message names the empty fields, the section and the config file; nothing is written."""
    before = snapshot(w.shop)
    toml = tmp_path / "kit.toml"
    no_sender = config(sender={}, source=str(toml))
    clerk = kit.Shop(w.shop.store, no_sender, w.shop.actor)

    with pytest.raises(Refused) as refused:
        shipping.hand_over(clerk, [{"shipment_id": w.ids["A"], "tracking_no": YT1}])

    message = refused.value.message
    assert "[shop.sender]" in message and str(toml) in message
    assert "mobile" in message and "detail" in message and "S26b" in message
    assert refused.value.key == "shipping.no_sender"
    with pytest.raises(Refused, match=r"kit\.toml"):  # no file: the default name is named
        shipping.hand_over(kit.Shop(w.shop.store, config(sender={}), w.shop.actor),
                           [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    only_mobile = config(sender={"mobile": "13800000000"})
    with pytest.raises(Refused) as half:
        shipping.check_sender(only_mobile)
    assert "detail" in half.value.message and "mobile" not in half.value.params["fields"]
    assert snapshot(w.shop) == before
    shipping.check_sender(w.shop.config)  # the test shop's sender is complete


# --- hand-over (S8, S18, S24c) ------------------------------------------------------------------


def test_hand_over_by_shipment_id_records_number_options_and_audit_S8_S24c(w):
    """S8/S24c: a packed shipment handed to the courier: stage handed_over, when and by whom,
    the carrier and the number as normalised (typed with spaces, dashes, lower case), the
    buyer's options (insured value, SMS); its order follows; audit rows for both."""
    done = shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": " yt 6552-3804-17836 ",
                                        "insured_fen": 50_000, "sms_notify": True}])

    assert done == {"handed_over": [w.ids["A"]], "refused": []}
    row = ship(w, "A")
    assert (row["stage"], row["handed_over_at"], row["handed_over_by"]) == ("handed_over", NOW, "物流小张")
    assert (row["carrier_code"], row["tracking_no"]) == ("yto", YT1)
    assert (row["insured_fen"], row["sms_notify"]) == (50_000, True)
    assert order(w, OA)["stage"] == "handed_over"
    trail = audit(w, "shipment", w.ids["A"], "hand_over")
    assert trail.select("actor", "field", "from_state", "to_state").rows() == [
        ("物流小张", "stage", "packed", "handed_over")]
    assert audit(w, "order", OA, "hand_over").select("from_state", "to_state").rows() == [
        ("packed", "handed_over")]
    untouched = ship(w, "B")  # defaults of the options: not insured, no SMS
    assert (untouched["stage"], untouched["insured_fen"], untouched["sms_notify"]) == ("packed", 0, False)


def test_hand_over_by_order_number_with_its_carrier_or_another_S5_S8(w):
    """S8/S5: a row may name the order instead of the parcel (its one packed shipment); the
    carrier is the shipment's unless the row names another (noted on the shipment); options
    left out are not insured, no SMS."""
    done = shipping.hand_over(w.shop, [{"order_no": OC, "tracking_no": SF1},
                                       {"order_no": OB, "carrier_code": "ZTO", "tracking_no": ZT1}])

    assert done == {"handed_over": [w.ids["C"], w.ids["B"]], "refused": []}
    c, b = ship(w, "C"), ship(w, "B")
    assert (c["carrier_code"], c["tracking_no"], c["insured_fen"], c["sms_notify"]) == ("sf", SF1, 0, False)
    assert (b["carrier_code"], b["tracking_no"], b["stage"]) == ("zto", ZT1, "handed_over")
    assert order(w, OC)["stage"] == order(w, OB)["stage"] == "handed_over"


def test_order_follows_only_when_all_its_live_shipments_are_handed_over_S8(w):
    """S8: the order of two parcels stays packed while one is still in the warehouse, and
    moves to handed_over with the second; an order number is ambiguous while two of its
    parcels are packed (refused: use the parcel numbers), and fine once only one is."""
    ambiguous = shipping.hand_over(w.shop, [{"order_no": OD, "tracking_no": YT1}])
    assert ambiguous["handed_over"] == [] and ambiguous["refused"][0][0] == 1
    assert OD in ambiguous["refused"][0][1] and "包裹号" in ambiguous["refused"][0][1]

    shipping.hand_over(w.shop, [{"shipment_id": w.ids["D1"], "tracking_no": YT1}])
    assert ship(w, "D1")["stage"] == "handed_over" and ship(w, "D2")["stage"] == "packed"
    assert order(w, OD)["stage"] == "packed"
    assert audit(w, "order", OD, "hand_over").height == 0

    done = shipping.hand_over(w.shop, [{"order_no": OD, "tracking_no": YT2}])
    assert done == {"handed_over": [w.ids["D2"]], "refused": []}
    assert order(w, OD)["stage"] == "handed_over"
    assert audit(w, "order", OD, "hand_over").height == 1


def test_cancelled_parcel_neither_holds_its_order_back_nor_keeps_its_number_S8(w):
    """S8: only live parcels count: with D1 cancelled (its label number YT2 void), handing over
    D2 moves OD to handed_over, and YT2 may be used again; confirming D2 confirms OD."""
    shipping.assign_numbers(w.shop, [{"shipment_id": w.ids["D1"], "tracking_no": YT2}])
    w.as_("店长").transition("shipment", w.ids["D1"], "cancel", reason="买家只要杯子")

    done = shipping.hand_over(w.shop, [{"shipment_id": w.ids["D2"], "tracking_no": YT2}])

    assert done == {"handed_over": [w.ids["D2"]], "refused": []}
    assert order(w, OD)["stage"] == "handed_over"
    assert shipping.confirm(w.shop)["confirmed"] == [w.ids["D2"]]
    assert (order(w, OD)["stage"], order(w, OD)["trade_status"]) == ("confirmed", "WAIT_BUYER_CONFIRM_GOODS")


def test_number_assigned_before_packing_then_hand_over_by_number_alone_S18(w):
    """S18: the waybill is printed before packing, so the number is given to the allocated
    shipment first (assign_numbers, by the warehouse; audited); after picking and packing, the
    scanned number alone finds its parcel at the hand-over. A shipment already with the
    courier gets no new number."""
    warehouse = w.as_("仓管小李")
    assigned = shipping.assign_numbers(warehouse, [{"shipment_id": w.ids["W"], "tracking_no": YT3}])
    assert assigned == {"assigned": [w.ids["W"]], "refused": []}
    row = ship(w, "W")
    assert (row["stage"], row["tracking_no"], row["carrier_code"]) == ("allocated", YT3, "yto")
    trail = audit(w, "shipment", w.ids["W"], "assign_number")
    assert trail.select("field", "from_state", "to_state").rows() == [("tracking_no", None, YT3)]

    picking.start_waves(warehouse, shipment_ids=[w.ids["W"]])
    pack_all(warehouse, w.ids["W"])
    done = shipping.hand_over(w.shop, [{"tracking_no": YT3.lower()}])

    assert done == {"handed_over": [w.ids["W"]], "refused": []}
    row = ship(w, "W")
    assert (row["stage"], row["tracking_no"], row["handed_over_by"]) == ("handed_over", YT3, "物流小张")
    assert order(w, OW)["stage"] == "handed_over"
    again = shipping.assign_numbers(warehouse, [{"shipment_id": w.ids["W"], "tracking_no": YT4}])
    assert again["assigned"] == [] and "已交快递" in again["refused"][0][1]
    assert ship(w, "W")["tracking_no"] == YT3


def test_assign_numbers_refused_to_roles_that_do_not_print_S18(w):
    """Giving a parcel its waybill number is printing (print_documents): not for pre-sales."""
    with pytest.raises(PermissionDenied):
        shipping.assign_numbers(w.as_("客服小美"), [{"shipment_id": w.ids["W"], "tracking_no": YT3}])
    assert ship(w, "W")["tracking_no"] is None


def test_bad_rows_refused_with_row_and_reason_while_good_rows_go_through_S8(w):
    """S8: a batch (a file, a scanner session) is checked row by row: a number the carrier
    rejects (with the carrier's reason), a number twice in the batch, a number already on
    another order's parcel, an unknown shipment, a shipment not packed, an order with no
    packed shipment, a row with no key: each refused with its row number and reason; the
    good rows are handed over in the same call, the refused ones left untouched."""
    shipping.hand_over(w.shop, [{"shipment_id": w.ids["D1"], "tracking_no": YT2}])  # OD's first parcel
    rows = [
        {"shipment_id": w.ids["A"], "tracking_no": YT1},                          # 1 good
        {"shipment_id": w.ids["B"], "tracking_no": "YT655238041783"},             # 2 one digit short
        {"shipment_id": w.ids["E"], "tracking_no": YT1},                          # 3 twice in the batch
        {"shipment_id": w.ids["C"], "carrier_code": "yto", "tracking_no": YT2},   # 4 on OD's parcel
        {"shipment_id": 999_999, "tracking_no": "YT1000000000006"},               # 5 unknown shipment
        {"shipment_id": w.ids["W"], "tracking_no": YT4},                          # 6 not packed
        {"order_no": OW, "tracking_no": "YT1000000000005"},                       # 7 order not packed
        {"shipment_id": w.ids["D2"], "tracking_no": YT3},                         # 8 good
        {"tracking_no": None},                                                    # 9 no key at all
    ]
    before_b = ship(w, "B")

    done = shipping.hand_over(w.shop, rows)

    assert done["handed_over"] == [w.ids["A"], w.ids["D2"]]
    refused = dict(done["refused"])
    assert sorted(refused) == [2, 3, 4, 5, 6, 7, 9]
    assert "YT655238041783" in refused[2] and "圆通速递" in refused[2] and "YT + 13 digits" in refused[2]
    assert YT1 in refused[3] and "第 1 行" in refused[3]
    assert YT2 in refused[4] and OD in refused[4] and str(w.ids["D1"]) in refused[4]
    assert "999999" in refused[5]
    assert "待拣货" in refused[6] and OW in refused[6]
    assert OW in refused[7] and "打包" in refused[7]
    assert refused[9] == t("shipping.no_key")
    assert ship(w, "B") == before_b
    for name in ("B", "C", "E", "W"):
        assert ship(w, name)["tracking_no"] is None and ship(w, name)["stage"] in ("packed", "allocated")
    assert order(w, OD)["stage"] == "handed_over" and order(w, OA)["stage"] == "handed_over"
    assert order(w, OB)["stage"] == "packed"


def test_bad_insured_value_and_bad_file_columns_S24c(w):
    """S24c: a negative insured value is refused on its row; a value that is no number at all
    makes the whole list bad input (nothing written)."""
    done = shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1, "insured_fen": -100}])
    assert done["handed_over"] == [] and "-100" in done["refused"][0][1]
    before = snapshot(w.shop)
    with pytest.raises(BadInput):
        shipping.hand_over(w.shop, [{"shipment_id": "十二", "tracking_no": YT1}])
    assert snapshot(w.shop) == before


def test_special_carriers_none_self_and_dropship_S26b(w):
    """S26b: no logistics (virtual goods, `none`) takes no number and refuses one; a
    self-arranged carrier (`self`) and a supplier's drop-ship (`dropship`) accept free-form
    numbers (normalised); an express carrier refuses an empty number."""
    done = shipping.hand_over(w.shop, [
        {"shipment_id": w.ids["A"], "carrier_code": "none"},
        {"shipment_id": w.ids["B"], "carrier_code": "none", "tracking_no": YT1},
        {"shipment_id": w.ids["C"], "carrier_code": "self", "tracking_no": "sx-2026 0001"},
        {"shipment_id": w.ids["E"], "carrier_code": "dropship", "tracking_no": "供应商 A-17"},
        {"shipment_id": w.ids["D1"], "tracking_no": ""},
    ])

    assert done["handed_over"] == [w.ids["A"], w.ids["C"], w.ids["E"]]
    refused = dict(done["refused"])
    assert sorted(refused) == [2, 5]
    assert "无需物流" in refused[2] and YT1 in refused[2]
    assert str(w.ids["D1"]) in refused[5]
    a, c, e = ship(w, "A"), ship(w, "C"), ship(w, "E")
    assert (a["carrier_code"], a["tracking_no"], a["stage"]) == ("none", None, "handed_over")
    assert (c["carrier_code"], c["tracking_no"]) == ("self", "SX20260001")
    assert (e["carrier_code"], e["tracking_no"]) == ("dropship", "供应商A17")
    assert ship(w, "B")["carrier_code"] == "yto" and ship(w, "B")["stage"] == "packed"


def test_hand_over_refused_to_roles_that_do_not_hand_over_S8(w):
    """Handing over is the warehouse's, the logistics clerk's or the supervisor's: pre-sales
    service is refused and nothing is written."""
    before = snapshot(w.shop)
    with pytest.raises(PermissionDenied):
        shipping.hand_over(w.as_("客服小美"), [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    assert snapshot(w.shop) == before
    done = shipping.hand_over(w.as_("仓管小李"), [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    assert done["handed_over"] == [w.ids["A"]] and ship(w, "A")["handed_over_by"] == "仓管小李"


def test_hand_over_checks_the_role_before_the_rows_S8(w):
    """A role that may not hand over is refused as such, whatever the rows hold."""
    with pytest.raises(PermissionDenied):
        shipping.hand_over(w.as_("分析师"), [{"shipment_id": w.ids["A"], "tracking_no": "YT1"}])


def test_same_shipment_twice_in_one_batch_is_reported_S8(w):
    """S8: every row of a batch is accounted for: a second row for a parcel already in the
    batch (another number) is refused with its row number, not silently dropped."""
    done = shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1},
                                       {"shipment_id": w.ids["A"], "tracking_no": YT2}])
    assert done["handed_over"] == [w.ids["A"]]
    assert [r for r, _ in done["refused"]] == [2]


def test_number_alone_is_normalised_like_any_other_number_S18(w):
    """S18: the number alone finds its parcel however it was typed (dashes, spaces), the same
    normalisation as a number given with its shipment."""
    shipping.assign_numbers(w.as_("仓管小李"), [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    done = shipping.hand_over(w.shop, [{"tracking_no": "yt-6552-3804-17836"}])
    assert done == {"handed_over": [w.ids["A"]], "refused": []}


# --- double clicks and races ----------------------------------------------------------------------


def test_same_hand_over_twice_second_refused_one_audit_row_S8(w):
    """A double click: the second identical hand-over is refused (the parcel is already with the
    courier), the first one's time and person stay, one audit row."""
    first = shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    second = shipping.hand_over(w.as_("仓管小李"), [{"shipment_id": w.ids["A"], "tracking_no": YT1}],
                                now=NOW + timedelta(minutes=1))

    assert first["handed_over"] == [w.ids["A"]]
    assert second["handed_over"] == [] and [r for r, _ in second["refused"]] == [1]
    assert "已交快递" in second["refused"][0][1]
    row = ship(w, "A")
    assert (row["handed_over_at"], row["handed_over_by"]) == (NOW, "物流小张")
    assert audit(w, "shipment", w.ids["A"], "hand_over").height == 1
    assert audit(w, "order", OA, "hand_over").height == 1


def _race(w: World, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each row handed over by its own clerk (own connection, own thread) at the same moment."""
    barrier = threading.Barrier(len(rows))
    results: dict[str, Any] = {}

    def clerk(name: str) -> None:
        with kit.connect(w.url, actor="物流小张", config=config()) as own:
            barrier.wait()
            try:
                results[name] = shipping.hand_over(own, [rows[name]])
            except KitError as exc:  # pragma: no cover - reported by the caller's assertion
                results[name] = exc

    threads = [threading.Thread(target=clerk, args=(name,)) for name in rows]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert all(isinstance(r, dict) for r in results.values()), results
    return results


def test_concurrent_hand_over_of_one_number_to_two_shipments_one_wins_S8(w):
    """Two clerks scan the same waybill onto two parcels at the same moment, each through its
    own connection (two threads; on PostgreSQL the real race, serialised by the number check's
    lock): exactly one hand-over succeeds, the other row is refused because the number is now
    taken. Two clerks handing over the same parcel at once: one succeeds, one audit row."""
    results = _race(w, {name: {"shipment_id": w.ids[name], "tracking_no": YT1} for name in ("A", "B")})

    winners = [n for n, r in results.items() if r["handed_over"]]
    losers = [n for n, r in results.items() if r["refused"]]
    assert len(winners) == 1 and len(losers) == 1, results
    assert YT1 in results[losers[0]]["refused"][0][1]
    carrying = table(w.shop, "shipments", tracking_no=YT1)
    assert carrying["shipment_id"].to_list() == [w.ids[winners[0]]]
    assert ship(w, losers[0])["stage"] == "packed"

    row = {"shipment_id": w.ids["C"], "tracking_no": SF1}
    same = _race(w, {"first": row, "second": row})
    assert sorted(len(r["handed_over"]) for r in same.values()) == [0, 1], same
    assert sorted(len(r["refused"]) for r in same.values()) == [0, 1], same
    assert audit(w, "shipment", w.ids["C"], "hand_over").height == 1
    assert audit(w, "order", OC, "hand_over").height == 1


# --- confirmation on the platform (S9, S1b, S13, S24c) --------------------------------------------


def _hand_over_all(w: World) -> None:
    shipping.hand_over(w.shop, [
        {"shipment_id": w.ids["A"], "tracking_no": YT1},
        {"shipment_id": w.ids["C"], "tracking_no": SF1},
        {"shipment_id": w.ids["D1"], "tracking_no": YT2},
        {"shipment_id": w.ids["D2"], "tracking_no": YT3},
        {"shipment_id": w.ids["E"], "carrier_code": "none"},
    ])


def test_confirm_moves_shipments_orders_and_trades_and_queues_notices_S9_S1b_S13_S24c(w, clock):
    """S9/S1b: confirmed shipments get confirmed_at; an order all of whose parcels are
    confirmed is confirmed and reads WAIT_BUYER_CONFIRM_GOODS; an order with one of two
    confirmed stays handed_over and reads SELLER_CONSIGNED_PART until the second is.
    S24c/S13: each confirmed parcel with a number queues a "shipped" notice with the carrier's
    Chinese name and the number; a batches row of kind confirm lists the shipments."""
    _hand_over_all(w)
    clock["now"] = datetime(2026, 12, 3, 20, 0)

    done = shipping.confirm(w.shop, [w.ids["A"], w.ids["C"], w.ids["D1"]])

    assert done["confirmed"] == sorted([w.ids["A"], w.ids["C"], w.ids["D1"]])
    assert (done["orders"], done["refused"], done["notices"]) == (3, [], 3)
    for name in ("A", "C", "D1"):
        assert (ship(w, name)["stage"], ship(w, name)["confirmed_at"]) == ("confirmed", clock["now"])
    assert ship(w, "D2")["stage"] == "handed_over" and ship(w, "D2")["confirmed_at"] is None
    for no in (OA, OC):
        assert (order(w, no)["stage"], order(w, no)["trade_status"]) == (
            "confirmed", "WAIT_BUYER_CONFIRM_GOODS")
    assert (order(w, OD)["stage"], order(w, OD)["trade_status"]) == ("handed_over", "SELLER_CONSIGNED_PART")
    assert audit(w, "order", OD, "consign_part").height == 1

    batch = table(w.shop, "batches", batch_id=done["batch_id"]).row(0, named=True)
    assert (batch["kind"], batch["actor"], batch["lines"], batch["orders"]) == ("confirm", "物流小张", 3, 3)
    assert json.loads(batch["details"]) == {"shipments": done["confirmed"]}

    notices = outbox.notices(w.shop, kind="shipped")
    assert sorted(notices["order_no"].to_list()) == sorted([OA, OC, OD])
    assert set(notices["batch_id"]) == {done["batch_id"]} and set(notices["lang"]) == {"zh"}
    texts = dict(zip(notices["order_no"], notices["text"], strict=True))
    assert "圆通速递" in texts[OA] and YT1 in texts[OA] and OA in texts[OA]
    assert "顺丰速运" in texts[OC] and SF1 in texts[OC]
    payload = json.loads(notices.filter(pl.col("order_no") == OC)["payload"][0])
    assert payload == {"carrier": "顺丰速运", "tracking_no": SF1, "shipment_id": w.ids["C"]}

    rest = shipping.confirm(w.shop)  # every handed-over one: D2 and E (no logistics: no notice)

    assert rest["confirmed"] == sorted([w.ids["D2"], w.ids["E"]]) and rest["notices"] == 1
    assert (order(w, OD)["stage"], order(w, OD)["trade_status"]) == ("confirmed", "WAIT_BUYER_CONFIRM_GOODS")
    assert (order(w, OE)["stage"], order(w, OE)["trade_status"]) == ("confirmed", "WAIT_BUYER_CONFIRM_GOODS")
    assert outbox.notices(w.shop, kind="shipped", order_nos=[OE]).height == 0
    assert outbox.notices(w.shop, kind="shipped", order_nos=[OD]).height == 2
    assert shipping.confirm(w.shop) == {"batch_id": None, "confirmed": [], "refused": [], "orders": 0,
                                        "notices": 0}


def test_confirm_refuses_shipments_not_handed_over_and_lists_them_S9(w):
    """S9: only parcels with the courier are confirmed; the others are listed with the reason
    (a parcel still in the warehouse, numbered or not: its stage), the good ones confirmed in
    the same call."""
    _hand_over_all(w)
    shipping.assign_numbers(w.as_("仓管小李"), [{"shipment_id": w.ids["W"], "tracking_no": YT4}])

    done = shipping.confirm(w.shop, [w.ids["A"], w.ids["B"], w.ids["W"]])

    assert done["confirmed"] == [w.ids["A"]]
    refused = {int(k): why for k, why in done["refused"]}
    assert sorted(refused) == sorted([w.ids["B"], w.ids["W"]])
    assert "待拣货" in refused[w.ids["W"]]
    assert str(w.ids["B"]) in refused[w.ids["B"]] and "已打包" in refused[w.ids["B"]]
    assert ship(w, "B")["stage"] == "packed" and order(w, OB)["trade_status"] == "WAIT_SELLER_SEND_GOODS"
    assert ship(w, "W")["stage"] == "allocated" and ship(w, "W")["confirmed_at"] is None
    assert outbox.notices(w.shop, kind="shipped")["order_no"].to_list() == [OA]

    again = shipping.confirm(w.shop, [w.ids["A"]])  # a second click confirms nothing twice
    assert again["confirmed"] == [] and "已确认发货" in again["refused"][0][1]
    assert outbox.notices(w.shop, kind="shipped").height == 1
    assert audit(w, "shipment", w.ids["A"], "confirm").height == 1


def test_confirm_refused_to_the_warehouse_S9(w):
    """S9: confirming on the platform is pre-sales', logistics' or the supervisor's; the
    warehouse is refused and nothing changes."""
    _hand_over_all(w)
    before = snapshot(w.shop)
    with pytest.raises(PermissionDenied):
        shipping.confirm(w.as_("仓管小李"))
    assert snapshot(w.shop) == before
    assert shipping.confirm(w.as_("客服小美"), [w.ids["A"]])["confirmed"] == [w.ids["A"]]


def test_confirm_with_everything_refused_leaves_no_dangling_batch_S9(w):
    """A confirmation that confirmed nothing either writes no batch or one that reads back
    as empty."""
    done = shipping.confirm(w.shop, [w.ids["B"]])
    assert done["confirmed"] == []
    if done["batch_id"] is not None:
        assert shipping.confirmed_in(w.shop, done["batch_id"]).height == 0


def test_confirm_lists_refused_shipment_ids_as_numbers_S9(w):
    """The refused shipments are named by the same ids (ints) as the confirmed ones."""
    done = shipping.confirm(w.shop, [w.ids["B"]])
    assert [k for k, _ in done["refused"]] == [w.ids["B"]]


# --- the platform's batch file (S9) ---------------------------------------------------------------


def test_batch_file_is_gbk_csv_with_platform_names_and_no_numberless_rows_S9(w, tmp_path):
    """S9: the platform's batch shipping file: CSV in GBK, header 订单编号,物流公司,运单号, one
    row per confirmed parcel with a number (no logistics left out), the carrier's Chinese name
    unless [shipping] platform_carrier_names gives the platform's; confirmed_in finds the
    shipments of a batch or of a day."""
    _hand_over_all(w)
    done = shipping.confirm(w.shop)
    rows = shipping.confirmed_in(w.shop, done["batch_id"])
    assert sorted(rows["shipment_id"].to_list()) == sorted(w.ids[n] for n in ("A", "C", "D1", "D2", "E"))
    assert rows.columns == ["order_no", "shipment_id", "carrier_code", "tracking_no", "confirmed_at"]

    data = shipping.batch_file(rows, w.shop.config)
    lines = list(csv.reader(io.StringIO(data.decode("gbk"))))
    assert tuple(lines[0]) == shipping.BATCH_HEADER == ("订单编号", "物流公司", "运单号")
    assert sorted(lines[1:]) == sorted([[OA, "圆通速递", YT1], [OC, "顺丰速运", SF1],
                                        [OD, "圆通速递", YT2], [OD, "圆通速递", YT3]])
    assert data.count(b"\r\n") == 5

    named = config(shipping={"platform_carrier_names": {"yto": "圆通快递"}})
    renamed = list(csv.reader(io.StringIO(shipping.batch_file(rows, named).decode("gbk"))))
    assert sorted(r[1] for r in renamed[1:]) == ["圆通快递", "圆通快递", "圆通快递", "顺丰速运"]

    path = tmp_path / "发货.csv"
    assert shipping.write_batch_file(w.shop, path, rows) == 4
    assert path.read_bytes() == data
    with pytest.raises(PermissionDenied):
        shipping.write_batch_file(w.as_("仓管小李"), tmp_path / "x.csv", rows)

    by_day = shipping.confirmed_in(w.shop, day=NOW.date())
    assert sorted(by_day["shipment_id"].to_list()) == sorted(rows["shipment_id"].to_list())
    assert shipping.confirmed_in(w.shop, day=(NOW + timedelta(days=1)).date()).height == 0
    with pytest.raises(BadInput):
        shipping.confirmed_in(w.shop, 999_999)


# --- the 21:00 deadline (S9) ----------------------------------------------------------------------


def test_awaiting_confirmation_has_the_21_oclock_deadline_of_the_hand_over_day_S9(w):
    """S9: shipments handed over and not confirmed, with confirm_by 21:00 of their hand-over day
    ([deadlines] confirm_by) and late once it has passed; a parcel handed over yesterday is late
    today; confirmed parcels drop out."""
    yesterday = NOW - timedelta(days=1)
    shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1}], now=yesterday)
    shipping.hand_over(w.shop, [{"shipment_id": w.ids["C"], "tracking_no": SF1}],
                       now=datetime(2026, 12, 3, 10, 0))
    shipping.hand_over(w.shop, [{"shipment_id": w.ids["E"], "tracking_no": YT2}])

    evening = shipping.awaiting_confirmation(w.shop, now=datetime(2026, 12, 3, 20, 59))
    assert evening.select("shipment_id", "order_no", "confirm_by", "late").rows() == [
        (w.ids["A"], OA, datetime(2026, 12, 2, 21, 0), True),
        (w.ids["C"], OC, datetime(2026, 12, 3, 21, 0), False),
        (w.ids["E"], OE, datetime(2026, 12, 3, 21, 0), False),
    ]
    assert evening["carrier_code"].to_list() == ["yto", "sf", "yto"]
    night = shipping.awaiting_confirmation(w.shop, now=datetime(2026, 12, 3, 21, 1))
    assert night["late"].to_list() == [True, True, True]
    assert shipping.awaiting_confirmation(w.shop, yesterday.date(), now=yesterday)["shipment_id"].to_list() \
        == [w.ids["A"]]

    early = kit.Shop(w.shop.store, config(deadlines={"confirm_by": "20:00"}), w.shop.actor)
    at_half_past = shipping.awaiting_confirmation(early, now=datetime(2026, 12, 3, 20, 30))
    assert set(at_half_past["confirm_by"].dt.hour()) == {20} and at_half_past["late"].all()

    shipping.confirm(w.shop, [w.ids["A"]])
    left = shipping.awaiting_confirmation(w.shop, now=NOW)
    assert left["shipment_id"].to_list() == [w.ids["C"], w.ids["E"]]


# --- orders that did not ship (S8, S9, S19) -------------------------------------------------------


def test_unshipped_lists_orders_due_today_not_handed_over_with_newest_reason_S8_S9_S19(w, clock):
    """S8/S9: every order due by the end of today (or already late) and not with the courier is
    listed, earliest first, its reason empty until given; the newest reason is shown with who
    gave it and when; S19: each reason queues a "delayed" notice for the buyer. An order due
    tomorrow is not listed; an order handed over drops out. The call list is the same orders."""
    from kit.shipping import UNSHIPPED_COLUMNS

    shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    listed = shipping.unshipped(w.shop)

    assert listed.columns == UNSHIPPED_COLUMNS
    assert listed["order_no"].to_list() == [OW, *sorted([OB, OC, OD, OE])]
    assert listed.filter(pl.col("order_no") == OW)["hours_late"][0] == 3.0
    assert listed.filter(pl.col("order_no") == OB)["hours_late"][0] == 0.0
    assert listed["reason"].null_count() == listed.height
    assert dict(listed.select("order_no", "stage").rows())[OW] == "allocated"

    presale = w.as_("客服小美")
    done = shipping.record_reason(presale, [OW, OB], "等待调货")
    assert done == {"reasons": 2, "notices": 2}
    clock["now"] = NOW + timedelta(hours=1)
    shipping.record_reason(w.as_("仓管小李"), [OW], "买家要求改地址")

    listed = shipping.unshipped(w.shop)
    reasons = {r["order_no"]: (r["reason"], r["reason_by"], r["reason_at"])
               for r in listed.iter_rows(named=True)}
    assert reasons[OW] == ("买家要求改地址", "仓管小李", NOW + timedelta(hours=1))
    assert reasons[OB] == ("等待调货", "客服小美", NOW)
    assert reasons[OC] == (None, None, None)
    assert shipping.call_list(w.shop)["order_no"].to_list() == listed["order_no"].to_list()
    assert listed.filter(pl.col("order_no") == OW)["hours_late"][0] == 4.0

    delayed = outbox.notices(w.shop, kind="delayed")
    assert sorted(delayed["order_no"].to_list()) == sorted([OW, OB, OW])
    assert all("等待调货" in text or "买家要求改地址" in text for text in delayed["text"])
    flags = table(w.shop, "flags")
    assert flags.filter(pl.col("kind") == "not_shipped").height == 3
    assert audit(w, "order", OB, "record_not_shipped")["reason"].to_list() == ["等待调货"]

    tomorrow = shipping.unshipped(w.shop, (NOW + timedelta(days=1)).date())
    assert OF in tomorrow["order_no"].to_list()


def test_record_reason_refuses_empty_reason_shipped_and_unknown_orders_S8(w):
    """S8: a reason must say something; an order already with the courier needs none; an
    unknown order number is refused; nothing is written in each case; read-only analysts may
    not record reasons."""
    shipping.hand_over(w.shop, [{"shipment_id": w.ids["A"], "tracking_no": YT1}])
    presale = w.as_("客服小美")
    before = snapshot(w.shop)

    with pytest.raises(BadInput, match="原因"):
        shipping.record_reason(presale, [OB], "   ")
    with pytest.raises(BadInput) as shipped:
        shipping.record_reason(presale, [OB, OA], "等待调货")
    assert OA in shipped.value.message
    with pytest.raises(BadInput) as unknown:
        shipping.record_reason(presale, [OB, "123"], "等待调货")
    assert "123" in unknown.value.message
    with pytest.raises(PermissionDenied):
        shipping.record_reason(w.as_("分析师"), [OB], "等待调货")
    assert snapshot(w.shop) == before


def test_unshipped_open_to_every_reader_and_notify_can_be_skipped_S9(w):
    """Looking is reading (the analyst sees the list); a reason may be recorded without a
    notice (the buyer was phoned)."""
    assert shipping.unshipped(w.as_("分析师")).height == 6
    assert shipping.record_reason(w.as_("客服小美"), [OC], "已电话联系买家", notify=False) == {
        "reasons": 1, "notices": 0}
    assert outbox.notices(w.shop, kind="delayed").height == 0

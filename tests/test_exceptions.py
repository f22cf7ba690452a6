"""Delivery exception cases (kit.exceptions; S21, S13): a lost or damaged parcel is claimed from
the carrier and reshipped or refunded, a wrong address is corrected and the carrier told, a
refused parcel comes back into stock; every step audited, role checked and version guarded.

The test shop: headquarters (hq) holds the stock. Five orders, built at Thursday 2026-12-03
15:00; all but P packed, handed to yto and confirmed on the platform (WAIT_BUYER_CONFIRM_GOODS):

    order  lines        number            the test makes it
    L      SOCK-A 1     YT1000000000001   lost
    D      CUP-A 1      YT1000000000002   damaged
    W      SOCK-A 1     YT1000000000003   wrong address
    R      TEA-A 2      YT1000000000004   refused
    P      SOCK-A 1     -                 packed, not handed over

The shop is built once per database and copied for every test (fulfil_fixtures.built_shops).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
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
    level,
    open_shop,
    pack_all,
    ship,
    snapshot,
    table,
)
from orders_factory import order_no

import kit
from kit import aftersales, carriers, exceptions, picking, shipping, tracking
from kit.allocation import allocate
from kit.carriers import Names, Verdict, hookimpl
from kit.errors import BadInput, Conflict, GuardFailed, IllegalTransition, NotFound, PermissionDenied, Refused

SKUS = catalogue("CUP-A", "SOCK-A", "TEA-A")
OPENING = [("hq", "CUP-A", 10), ("hq", "SOCK-A", 20), ("hq", "TEA-A", 10)]
ORDERS = {
    "L": (7, [("SOCK-A", 1)]),
    "D": (14, [("CUP-A", 1)]),
    "W": (42, [("SOCK-A", 1)]),
    "R": (35, [("TEA-A", 2)]),
    "P": (49, [("SOCK-A", 1)]),
}
NO = {name: order_no(k) for name, (k, _) in ORDERS.items()}
NUMBER = {"L": "YT1000000000001", "D": "YT1000000000002", "W": "YT1000000000003", "R": "YT1000000000004"}
RESHIP_NUMBER = "YT1000000000009"
NEW_ADDRESS = {
    "receiver_name": "测试收件人",
    "receiver_mobile": "13900001111",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_detail": "文三路 100 号 2 幢",
}
TABLES = ("exception_cases", "damaged_goods", "after_sales", "shipment_lines")


def ids_by_name(shop: kit.Shop) -> dict[str, int]:
    """The shipment id of each order by name."""
    by_order = {no: name for name, no in NO.items()}
    return {
        by_order[no]: sid
        for sid, no in table(shop, "shipments").select("shipment_id", "order_no").rows()
        if no in by_order
    }


def build(url: str) -> None:
    """The test shop: every order packed; all but P handed over at NOW and confirmed."""
    with kit.connect(url, actor="店长", config=config()) as boss:
        open_shop(boss, SKUS, OPENING)
        for k, items in ORDERS.values():
            add_order(boss, k, items, source="exceptions", carrier_code="yto")
        assert sorted(allocate(boss.acting_as("仓管小李")).allocated) == sorted(NO.values())
        ids = ids_by_name(boss)
        ship(boss, {ids[n]: NUMBER[n] for n in NUMBER}, packed=[ids["P"]])


built = built_shops(build)


@dataclass
class World:
    """The copied shop, acting as the logistics clerk 物流小张, and the shipment ids by name."""

    url: str
    shop: kit.Shop
    ids: dict[str, int]
    folder: Path

    def as_(self, name: str) -> kit.Shop:
        return self.shop.acting_as(name)

    def ship(self, sid: int) -> dict[str, Any]:
        return table(self.shop, "shipments", shipment_id=sid).row(0, named=True)

    def order(self, name: str) -> dict[str, Any]:
        return table(self.shop, "orders", order_no=NO[name]).row(0, named=True)

    def trail(self, case_id: int) -> list[tuple]:
        rows = self.shop.audit_trail("exception", str(case_id))
        return rows.select("actor", "action", "from_state", "to_state").rows()

    def frozen(self) -> dict[str, list[tuple]]:
        """Every table a step writes."""
        return snapshot(self.shop) | {name: table(self.shop, name).rows() for name in TABLES}


@pytest.fixture(name="w")
def world_fixture(db_url: str, clock: dict[str, datetime], tmp_path: Path) -> Iterator[World]:
    """The test shop (SQLite and PostgreSQL), acting as the logistics clerk 物流小张."""
    with kit.connect(db_url, actor="物流小张", config=config()) as shop:
        yield World(db_url, shop, ids_by_name(shop), tmp_path)


def deliver(w: World, number: str, day: int = 6) -> dict[str, Any]:
    """The carrier's export: parcel `number` picked up Dec 4 and delivered Dec `day`."""
    path = w.folder / f"{number}.csv"
    path.write_text(
        "运单号,时间,状态,描述,地点\n"
        f"{number},2026-12-04 18:00:00,已揽收,快递员已揽收,杭州\n"
        f"{number},2026-12-0{day} 11:30:00,已签收,快件已签收，签收人：本人。,杭州\n",
        "utf-8",
    )
    return tracking.import_events(w.shop, path, "yto")


# --- lost: claim, answer, reship; the buyer confirms the new parcel (S21, S13) -----------------------


def test_lost_parcel_claimed_answered_reshipped_and_the_reship_finishes_the_trade_S21_S13(w, clock):
    """S21: a lost parcel: the case opens (the parcel reads lost, the buyer told, S13), the claim
    and the carrier's answer are recorded, the reship is a new allocated parcel linked to the
    lost one with its stock reserved; it is picked, packed, handed over and confirmed without
    the order moving back; once it is delivered the buyer's confirmation finishes the trade."""
    lost = w.ids["L"]
    case = exceptions.open_case(w.shop, lost, "lost", description="五天没有新轨迹")
    cid = case["case_id"]
    assert (case["state"], case["kind"], case["owner"], case["opened_by"]) == (
        "open",
        "lost",
        "物流小张",
        "物流小张",
    )
    assert w.ship(lost)["tracking_status"] == "lost"
    notice = table(w.shop, "outbox", kind="exception")
    assert notice["order_no"].to_list() == [NO["L"]] and NUMBER["L"] in notice["text"][0]
    assert "丢失" in notice["text"][0] and json.loads(notice["payload"][0]) == {
        "case_id": cid,
        "step": "lost",
    }

    clock["now"] = NOW + timedelta(days=1)
    claimed = exceptions.claim(
        w.shop, cid, amount_fen=8900, evidence="聊天记录截图在共享盘/理赔", expected_version=0
    )
    answered = exceptions.answer(w.shop, cid, text="同意按声明价值赔付", compensation_fen=5000)
    assert (claimed["state"], claimed["claim_fen"], claimed["evidence"]) == (
        "claimed",
        8900,
        "聊天记录截图在共享盘/理赔",
    )
    assert (answered["state"], answered["carrier_answer"], answered["compensation_fen"]) == (
        "answered",
        "同意按声明价值赔付",
        5000,
    )
    on_hand, reserved = level(w.shop, "hq", "SOCK-A")

    done = exceptions.reship(w.shop, cid)

    new = done["new_shipment_id"]
    assert (done["state"], done["resolution"], done["closed_at"]) == (
        "resolved",
        "reship",
        NOW + timedelta(days=1),
    )
    parcel = w.ship(new)
    assert (
        parcel["stage"],
        parcel["replaces_shipment_id"],
        parcel["order_no"],
        parcel["warehouse_code"],
        parcel["carrier_code"],
    ) == ("allocated", lost, NO["L"], "hq", "yto")
    assert table(w.shop, "shipment_lines", shipment_id=new).select("line_no", "sku", "quantity").rows() == [
        (1, "SOCK-A", 1)
    ]
    assert level(w.shop, "hq", "SOCK-A") == (on_hand, reserved + 1)
    assert table(w.shop, "reservations", shipment_id=new).height == 1
    assert [r[1:] for r in w.trail(cid)] == [
        ("open", None, "open"),
        ("claim", "open", "claimed"),
        ("answer", "claimed", "answered"),
        ("reship", "answered", "resolved"),
    ]
    steps = [json.loads(p)["step"] for p in table(w.shop, "outbox", kind="exception")["payload"]]
    assert steps == ["lost", "reship"]
    assert w.order("L")["stage"] == "confirmed"

    warehouse, clerk = w.as_("仓管小李"), w.shop
    picking.start_waves(warehouse, shipment_ids=[new])
    pack_all(warehouse, new)
    assert shipping.hand_over(clerk, [{"shipment_id": new, "tracking_no": RESHIP_NUMBER}])["refused"] == []
    assert shipping.confirm(clerk, [new])["refused"] == []
    assert (w.order("L")["stage"], w.order("L")["trade_status"]) == ("confirmed", "WAIT_BUYER_CONFIRM_GOODS")
    service = w.as_("售后小雅")
    assert tracking.confirm_receipt(service, [NO["L"]])["refused"] != []  # the reship is still on its way

    deliver(w, RESHIP_NUMBER)
    parcels = tracking.parcels(w.shop, [NO["L"]])
    assert parcels["shipment_id"].to_list() == [new]
    finished = tracking.confirm_receipt(service, [NO["L"]])

    assert finished["finished"] == [NO["L"]] and w.order("L")["trade_status"] == "TRADE_FINISHED"


# --- damaged: refund through after-sales (S21) -------------------------------------------------------


def test_damaged_parcel_refunded_through_an_after_sale_case_S21(w):
    """S21: a damaged parcel is refunded: a refund after-sale case (reason damaged) opened and
    refunded (SUCCESS) in the same transaction, linked both ways; the case resolved refund;
    the buyer told (S13)."""
    cid = exceptions.open_case(w.shop, w.ids["D"], "damaged", description="买家拍照：杯子碎了")["case_id"]
    assert w.ship(w.ids["D"])["tracking_status"] == "damaged"

    done = exceptions.refund(w.as_("售后小雅"), cid)

    assert (done["state"], done["resolution"]) == ("resolved", "refund")
    sale = table(w.shop, "after_sales", case_id=done["after_sale_id"]).row(0, named=True)
    assert (
        sale["kind"],
        sale["reason"],
        sale["refund_status"],
        sale["amount_fen"],
        sale["exception_id"],
        sale["shipment_id"],
        sale["order_no"],
    ) == ("refund", "damaged", "SUCCESS", 5900, cid, w.ids["D"], NO["D"])
    assert done["after_sale"]["refund_status"] == "SUCCESS"
    steps = [json.loads(p)["step"] for p in table(w.shop, "outbox", kind="exception")["payload"]]
    assert steps == ["damaged", "refund"]
    assert "59.00" in table(w.shop, "outbox", kind="exception")["text"][-1]


def test_no_reship_once_the_order_is_refunded_in_full_S21(w):
    """S21: a lost parcel is settled once: after the buyer was refunded in full (the trade closed),
    reshipping is refused in words and nothing is written."""
    cid = exceptions.open_case(w.shop, w.ids["L"], "lost")["case_id"]
    clerk = w.as_("售后小雅")
    case = aftersales.open_case(clerk, NO["L"], "refund", "lost", amount_fen=w.order("L")["paid_fen"])
    assert aftersales.agree(clerk, case["case_id"])["refund_status"] == "SUCCESS"
    assert w.order("L")["trade_status"] == "TRADE_CLOSED"
    before = w.frozen()

    with pytest.raises(Refused) as refused:
        exceptions.reship(clerk, cid)

    assert NO["L"] in refused.value.message and "交易关闭" in refused.value.message
    assert w.frozen() == before


# --- wrong address: corrected, the carrier told or a task written (S21) ---------------------------


class Redirecting:
    """A test carrier whose adapter can change a parcel's address (the optional `redirect`)."""

    code = "redir"
    name = Names("改址快递", "Redirect Express")
    capabilities = frozenset({"validate"})

    def __init__(self) -> None:
        self.asked: list[tuple[str, Any]] = []

    def validate_tracking_number(self, number: str) -> Verdict:
        """Every number is fine."""
        return Verdict(True, self.code, number, "ok")

    def redirect(self, tracking_no: str, address: Any) -> str:
        """Keep what was asked; the carrier's reference."""
        self.asked.append((tracking_no, address))
        return "改址工单 R-001"


class RedirectPlugin:
    """Registers the test carrier."""

    def __init__(self, adapter: Redirecting) -> None:
        self.adapter = adapter

    @hookimpl
    def register_carriers(self, register: Any) -> None:
        """The one test carrier."""
        register(self.adapter)


def test_wrong_address_corrected_audited_task_written_then_resolved_S21(w):
    """S21: customer service records the buyer's right address: kept beside the old one,
    written on the order, audited with the new address; yto's adapter cannot redirect, so the
    case carries a task to phone yto; the buyer told (S13); resolved as delivered."""
    service = w.as_("客服小美")
    cid = exceptions.open_case(w.shop, w.ids["W"], "wrong_address", description="快递员说地址不存在")[
        "case_id"
    ]
    before = w.order("W")
    assert w.ship(w.ids["W"])["tracking_status"] == "pending"  # not a tracking status: left alone

    done = exceptions.correct_address(service, cid, NEW_ADDRESS)

    assert done["state"] == "address_corrected" and done["address_after"] == NEW_ADDRESS
    assert done["address_before"]["receiver_name"] == before["receiver_name"]
    assert done["address_before"]["address_detail"] == before["address_detail"]
    assert "圆通" in done["task"] and "13900001111" in done["task"] and NUMBER["W"] in done["task"]
    assert done["carrier_answer"] is None
    order = w.order("W")
    assert (order["receiver_name"], order["address_detail"], order["receiver_mobile"]) == (
        "测试收件人",
        "文三路 100 号 2 幢",
        "13900001111",
    )
    reason = w.shop.audit_trail("exception", str(cid)).filter(pl.col("action") == "correct_address")[
        "reason"
    ][0]
    assert "文三路 100 号 2 幢" in reason and "139****1111" in reason
    fields = (
        w.shop.audit_trail("order", NO["W"]).filter(pl.col("action") == "correct_address")["field"].to_list()
    )
    assert "address_detail" in fields and "receiver_name" in fields
    assert "文三路" in table(w.shop, "outbox", kind="exception")["text"][-1]

    settled = exceptions.resolve(w.shop, cid, note="快递已按新地址签收")
    assert (settled["state"], settled["resolution"]) == ("resolved", "delivered")


def test_a_carrier_adapter_with_redirect_is_told_the_new_address_S21(w):
    """S21: when the parcel's carrier adapter has `redirect(tracking_no, address)`, it is called
    with the new address and its answer kept; no task is left for a person."""
    adapter = Redirecting()
    registry = carriers.load(entry_points_too=False, extra=((RedirectPlugin(adapter), "redirecting"),))
    with w.shop.store.write() as conn:
        from kit.store import schema

        sh = schema.shipments
        conn.execute(sh.update().where(sh.c.shipment_id == w.ids["W"]).values(carrier_code="redir"))
    cid = exceptions.open_case(w.shop, w.ids["W"], "wrong_address")["case_id"]

    done = exceptions.correct_address(w.shop, cid, NEW_ADDRESS, registry=registry)

    assert done["task"] is None and done["carrier_answer"] == "改址工单 R-001"
    ((number, party),) = adapter.asked
    assert number == NUMBER["W"] and (party.name, party.mobile, party.detail) == (
        "测试收件人",
        "13900001111",
        "文三路 100 号 2 幢",
    )


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"receiver_mobile": "1390000111"}, "exceptions.address_bad_mobile"),
        ({"city": " "}, "exceptions.address_missing"),
        ({"zip": "310000"}, "exceptions.address_unknown_field"),
    ],
)
def test_a_bad_address_is_refused_naming_the_field_and_nothing_is_written_S21(w, change, key):
    """S21: a mobile that is not 11 digits, a missing city or an unknown field is refused with
    what to fix; nothing changes."""
    cid = exceptions.open_case(w.shop, w.ids["W"], "wrong_address")["case_id"]
    before = w.frozen()

    with pytest.raises(BadInput) as err:
        exceptions.correct_address(w.shop, cid, NEW_ADDRESS | change)

    assert err.value.key == key
    assert w.frozen() == before


# --- refused: the parcel comes back (S21) ---------------------------------------------------------


def test_refused_parcel_comes_back_good_units_on_hand_damaged_apart_S21(w):
    """S21: a refused parcel's case waits for it (return_expected at once); on arrival the good
    unit goes back on hand with a `return` ledger row, the damaged one into damaged goods, the
    parcel reads returned, the case resolved restocked."""
    case = exceptions.open_case(w.shop, w.ids["R"], "refused")
    assert case["state"] == "return_expected"
    on_hand, reserved = level(w.shop, "hq", "TEA-A")

    done = exceptions.receive_return(w.as_("仓管小李"), case["case_id"], damaged=1)

    assert (done["state"], done["resolution"], done["units"]) == (
        "resolved",
        "restocked",
        {"good": 1, "damaged": 1},
    )
    assert level(w.shop, "hq", "TEA-A") == (on_hand + 1, reserved)
    ledger = table(w.shop, "stock_ledger", sku="TEA-A").filter(pl.col("kind") == "return")
    assert ledger["on_hand_delta"].to_list() == [1]
    bad = table(w.shop, "damaged_goods").select("warehouse_code", "sku", "quantity", "source", "shipment_id")
    assert bad.rows() == [("hq", "TEA-A", 1, f"exception:{case['case_id']}", w.ids["R"])]
    assert w.ship(w.ids["R"])["tracking_status"] == "returned"


def test_refused_parcel_back_whole_by_default_and_too_many_refused_S21(w):
    """S21: by default every unit comes back good; more units than were sent is refused."""
    cid = exceptions.open_case(w.shop, w.ids["R"], "refused")["case_id"]
    with pytest.raises(BadInput) as err:
        exceptions.receive_return(w.shop.acting_as("仓管小李"), cid, good=2, damaged=1)
    assert err.value.key == "exceptions.return_too_many"
    on_hand, _ = level(w.shop, "hq", "TEA-A")

    done = exceptions.receive_return(w.as_("仓管小李"), cid)

    assert done["units"] == {"good": 2, "damaged": 0} and level(w.shop, "hq", "TEA-A")[0] == on_hand + 2


# --- refusals ------------------------------------------------------------------------------------


def test_close_needs_a_reason_and_a_closed_case_takes_no_more_steps_S21(w):
    """A case closes with its reason (kept as the resolution); without one it is refused; a
    closed case cannot be claimed or taken."""
    cid = exceptions.open_case(w.shop, w.ids["L"], "lost")["case_id"]
    with pytest.raises(GuardFailed):
        exceptions.close(w.shop, cid, "  ")

    done = exceptions.close(w.shop, cid, "快递员找到了，已签收")

    assert (done["state"], done["resolution"]) == ("closed", "快递员找到了，已签收")
    with pytest.raises(IllegalTransition):
        exceptions.claim(w.shop, cid, amount_fen=100, evidence="x")
    with pytest.raises(IllegalTransition) as err:
        exceptions.take(w.as_("售后小雅"), cid)
    assert str(cid) in err.value.message


def test_illegal_moves_are_refused_naming_the_case_and_state_and_write_nothing_S21(w):
    """Claiming a wrong-address case, or receiving a lost parcel back, is refused with the case,
    its kind or state named; the refused call writes nothing."""
    wrong = exceptions.open_case(w.shop, w.ids["W"], "wrong_address")["case_id"]
    lost = exceptions.open_case(w.shop, w.ids["L"], "lost")["case_id"]
    before = w.frozen()

    with pytest.raises(GuardFailed) as claim_err:
        exceptions.claim(w.shop, wrong, amount_fen=100, evidence="照片")
    with pytest.raises(IllegalTransition) as return_err:
        exceptions.receive_return(w.as_("仓管小李"), lost)
    with pytest.raises(IllegalTransition):  # a refused parcel comes back: nothing to send again
        exceptions.reship(w.shop, exceptions.open_case(w.shop, w.ids["R"], "refused")["case_id"])

    assert str(wrong) in claim_err.value.message and "地址错误" in claim_err.value.message
    assert str(lost) in return_err.value.message and "待处理" in return_err.value.message
    after = w.frozen()
    assert {k: v for k, v in after.items() if k not in ("exception_cases", "audit")} == {
        k: v for k, v in before.items() if k not in ("exception_cases", "audit")
    }
    assert len(after["exception_cases"]) == len(before["exception_cases"]) + 1  # the refused case opened


def test_roles_warehouse_cannot_claim_analyst_can_do_nothing_S21(w):
    """The warehouse may not claim from the carrier; an analyst may neither open, take, claim
    nor refund; each refusal writes nothing."""
    cid = exceptions.open_case(w.shop, w.ids["L"], "lost")["case_id"]
    before = w.frozen()
    keeper, analyst = w.as_("仓管小李"), w.as_("分析师")

    with pytest.raises(PermissionDenied):
        exceptions.claim(keeper, cid, amount_fen=100, evidence="照片")
    for call in (
        lambda: exceptions.open_case(analyst, w.ids["D"], "damaged"),
        lambda: exceptions.take(analyst, cid),
        lambda: exceptions.claim(analyst, cid, amount_fen=100, evidence="照片"),
        lambda: exceptions.refund(analyst, cid),
        lambda: exceptions.open_from_alerts(analyst),
    ):
        with pytest.raises(PermissionDenied):
            call()

    assert w.frozen() == before
    assert exceptions.cases(analyst).height == 1  # reading is for everyone


def test_open_twice_unknown_and_not_handed_over_are_refused_S21(w):
    """One live case per parcel and kind (the second names the first); an unknown parcel or
    kind, and a parcel still in the warehouse, are refused."""
    first = exceptions.open_case(w.shop, w.ids["L"], "lost")["case_id"]
    with pytest.raises(Refused) as err:
        exceptions.open_case(w.shop, w.ids["L"], "lost")
    assert str(first) in err.value.message
    with pytest.raises(NotFound):
        exceptions.open_case(w.shop, 999_999, "lost")
    with pytest.raises(BadInput):
        exceptions.open_case(w.shop, w.ids["L"], "stolen")
    with pytest.raises(Refused) as err:
        exceptions.open_case(w.shop, w.ids["P"], "lost")
    assert "还没有交给快递" in err.value.message
    with pytest.raises(NotFound):
        exceptions.case(w.shop, 999_999)

    exceptions.close(w.shop, first, "误报")
    assert exceptions.open_case(w.shop, w.ids["L"], "lost")["case_id"] != first  # a closed case is no bar


# --- alerts, ownership, concurrency --------------------------------------------------------------


def test_open_from_alerts_opens_one_case_per_alert_once_S21(w):
    """S21: the lost and refused alerts each open a case (by the system job, nobody holding it
    yet); run again, nothing more opens."""
    path = w.folder / "alerts.csv"
    path.write_text(
        "运单号,时间,状态,描述,地点\n"
        f"{NUMBER['L']},2026-12-04 10:00:00,丢失,快件遗失,杭州\n"
        f"{NUMBER['R']},2026-12-05 10:00:00,拒收,收件人拒收,上海\n",
        "utf-8",
    )
    tracking.import_events(w.shop, path, "yto")
    system = w.shop.as_system("exceptions")

    done = exceptions.open_from_alerts(system)
    again = exceptions.open_from_alerts(system)

    assert (done["opened"], done["by_kind"], again["opened"], again["already"]) == (
        2,
        {"lost": 1, "refused": 1},
        0,
        2,
    )
    rows = exceptions.cases(w.shop).select("shipment_id", "kind", "state", "owner", "opened_by").rows()
    assert rows == [
        (w.ids["L"], "lost", "open", None, "system:exceptions"),
        (w.ids["R"], "refused", "return_expected", None, "system:exceptions"),
    ]


def test_take_and_age_show_in_cases_S21(w, clock):
    """Each case shows who holds it and its age in hours; taking it over is audited."""
    cid = exceptions.open_case(w.shop, w.ids["D"], "damaged", owner="售后小雅")["case_id"]
    clock["now"] = NOW + timedelta(hours=30)

    exceptions.take(w.shop, cid, expected_version=0)

    row = exceptions.cases(w.shop, open_only=True).row(0, named=True)
    assert (row["owner"], row["age_hours"], row["kind_label"], row["state_label"], row["tracking_no"]) == (
        "物流小张",
        30.0,
        "破损",
        "待处理",
        NUMBER["D"],
    )
    one = exceptions.case(w.shop, cid)
    assert [(a["action"], a["field"], a["from_state"], a["to_state"]) for a in one["audit"]] == [
        ("open", "state", None, "open"),
        ("take", "owner", "售后小雅", "物流小张"),
    ]
    assert exceptions.cases(w.shop, owner="售后小雅").height == 0


@pytest.mark.parametrize("action", ["claim", "take"])
def test_two_staff_on_one_case_exactly_one_wins_the_other_gets_conflict_S21(w, action):
    """Two clerks, each with their own connection, act on the same case from the same version at
    the same moment: exactly one wins, the other gets Conflict."""
    cid = exceptions.open_case(w.shop, w.ids["L"], "lost")["case_id"]
    start = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def act(name: str) -> None:
        with kit.connect(w.url, actor=name, config=config()) as shop:
            start.wait()
            try:
                if action == "claim":
                    exceptions.claim(shop, cid, amount_fen=100, evidence=name, expected_version=0)
                else:
                    exceptions.take(shop, cid, expected_version=0)
                outcome[name] = "won"
            except Conflict as exc:
                outcome[name] = exc

    threads = [threading.Thread(target=act, args=(n,)) for n in ("店长", "售后小雅")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    assert sorted(v == "won" for v in outcome.values()) == [False, True]
    assert exceptions.case(w.shop, cid)["version"] == 1

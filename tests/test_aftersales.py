"""After-sales service (kit.aftersales; S2, S3, S13, S21, S24d): refund only, return and refund,
exchange and repair cases walked from the buyer's request to the end, on SQLite and PostgreSQL.

The test shop: headquarters (hq) serves 浙江 and 上海. Six orders, built at a fixed Thursday
2026-12-03 15:00 (every order's payable is what its lines cost, fully paid unless COD):

    order  lines                        paid     where it stands
    A      1 CUP-A 1, 2 TEA-A 1         159.00   packed, handed over, confirmed (WAIT_BUYER_CONFIRM_GOODS)
    B      1 SOCK-A 2                   178.00   confirmed
    C      1 CUP-A 1                     59.00   confirmed
    D      1 TEA-A 2                    200.00   allocated (stock reserved), not picked
    E      1 SOCK-A 1                    89.00   picked and packed, not handed over
    F      1 TEA-A 1 (cash on delivery) 100.00   confirmed, not yet signed for by the buyer

The shop is built once per database and copied for every test (fulfil_fixtures.built_shops).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest
from fulfil_fixtures import (
    SENDER,
    add_order,
    assert_ledger_explains,
    built_shops,
    catalogue,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    config,
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    level,
    open_shop,
    pack_all,
    ship,
    table,
)
from orders_factory import order_no

import kit
from kit import aftersales, picking, shipping
from kit.allocation import allocate
from kit.errors import BadInput, Conflict, GuardFailed, IllegalTransition, NotFound, PermissionDenied, Refused
from kit.i18n import catalogue as messages
from kit.i18n import set_lang

SKUS = catalogue("CUP-A", "SOCK-A", "TEA-A", "TSHIRT-A", "SCARF-A")
OPENING = [
    ("hq", "CUP-A", 10),
    ("hq", "SOCK-A", 20),
    ("hq", "TEA-A", 10),
    ("hq", "TSHIRT-A", 5),
    ("hq", "SCARF-A", 5),
]
# name → (make_orders number: 浙江 or 上海, so hq ships it; lines; payment)
ORDERS: dict[str, tuple[int, list[tuple[str, int]], str]] = {
    "A": (7, [("CUP-A", 1), ("TEA-A", 1)], "online"),
    "B": (14, [("SOCK-A", 2)], "online"),
    "C": (21, [("CUP-A", 1)], "online"),
    "D": (28, [("TEA-A", 2)], "online"),
    "E": (35, [("SOCK-A", 1)], "online"),
    "F": (42, [("TEA-A", 1)], "cod"),
}
NO = {name: order_no(k) for name, (k, *_) in ORDERS.items()}
PRICE = {sku: row[5] for sku, row in zip(SKUS["sku"], SKUS.rows(), strict=True)}
PAID = {name: sum(PRICE[s] * q for s, q in items) for name, (_, items, _) in ORDERS.items()}
NUMBER = {
    "A": "YT2000000000001",
    "B": "YT2000000000002",
    "C": "YT2000000000003",
    "F": "YT2000000000006",
    "X": "YT2000000000009",
}
TABLES = (
    "orders",
    "shipments",
    "shipment_lines",
    "audit",
    "stock_levels",
    "stock_ledger",
    "reservations",
    "outbox",
    "after_sales",
    "after_sale_lines",
    "damaged_goods",
)


def shipment_ids(shop: kit.Shop) -> dict[str, int]:
    """The first parcel of each order, by the order's name."""
    by_order = {no: name for name, no in NO.items()}
    rows = table(shop, "shipments").sort("shipment_id")
    return {by_order[no]: sid for sid, no in rows.select("shipment_id", "order_no").rows()[::-1]}


def build(url: str) -> None:
    """Write the test shop into an empty database (see the module's docstring)."""
    with kit.connect(url, actor="店长", config=config()) as boss:
        open_shop(boss, SKUS, OPENING)
        for name, (k, items, pay) in ORDERS.items():
            add_order(
                boss,
                k,
                items,
                source="aftersales",
                carrier_code="yto",
                payment_method=pay,
                total_fen=PAID[name],
                discount_fen=0,
                payable_fen=PAID[name],
                paid_fen=0 if pay == "cod" else PAID[name],
                phone_confirmed=pay == "cod",
            )
        assert sorted(allocate(boss.acting_as("仓管小李")).allocated) == sorted(NO.values())
        ids = shipment_ids(boss)
        ship(boss, {ids[n]: NUMBER[n] for n in "ABCF"}, packed=[ids["E"]])


built = built_shops(build)  # built(kind) → the test shop's URL; db_url: a fresh copy per test


@dataclass
class World:
    """The copied shop as the after-sales clerk 售后小雅, and its parcels by order name."""

    url: str
    shop: kit.Shop
    ids: dict[str, int]

    def as_(self, name: str) -> kit.Shop:
        return self.shop.acting_as(name)

    def order(self, name: str) -> dict[str, Any]:
        return table(self.shop, "orders", order_no=NO[name]).row(0, named=True)

    def row(self, case_id: int) -> dict[str, Any]:
        return table(self.shop, "after_sales", case_id=case_id).row(0, named=True)

    def notices(self, name: str) -> list[str]:
        rows = table(self.shop, "outbox", order_no=NO[name], kind="after_sale").sort("notice_id")
        return rows.filter(pl.col("status") == "queued")["text"].to_list()

    def actions(self, case_id: int) -> list[tuple[str, str | None, str | None, str | None]]:
        trail = self.shop.audit_trail("after_sale", str(case_id))
        return trail.select("action", "field", "from_state", "to_state").rows()

    def tables(self) -> dict[str, list[tuple]]:
        return {name: table(self.shop, name).rows() for name in TABLES}


@pytest.fixture(name="w")
def world_fixture(db_url: str, clock: dict[str, datetime]) -> Any:
    """The test shop (SQLite and PostgreSQL), in Chinese, acting as the after-sales clerk."""
    set_lang("zh")
    with kit.connect(db_url, actor="售后小雅", config=config()) as shop:
        yield World(db_url, shop, shipment_ids(shop))
    set_lang(None)


def ret(line_no: int, quantity: int = 1, **more: Any) -> dict[str, Any]:
    return {"line_no": line_no, "quantity": quantity, **more}


# --- refund only -----------------------------------------------------------------------------


def test_refund_only_after_delivery_refunds_and_closes_the_trade_when_all_is_back_S3_S13(w):
    """S3: after delivery the buyer asks for part of the money (a refund-only case); agreeing
    refunds at once, the trade stays open; a second case for the rest closes the trade. Each
    step is audited and the buyer hears of it (S13)."""
    first = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=5900, note="杯口有缺口")

    assert (first["refund_status"], first["owner"], first["created_by"]) == (
        "WAIT_SELLER_AGREE",
        "售后小雅",
        "售后小雅",
    )
    assert (first["reason"], first["note"], first["version"], first["notices"]) == (
        "quality",
        "杯口有缺口",
        0,
        1,
    )
    assert aftersales.refundable(w.shop, NO["A"]) == PAID["A"] - 5900

    done = aftersales.agree(w.shop, first["case_id"], expected_version=0)

    assert (done["refund_status"], done["amount_fen"], done["order_closed"]) == ("SUCCESS", 5900, False)
    assert done["closed_at"] is not None and done["version"] == 1
    assert w.order("A")["trade_status"] == "WAIT_BUYER_CONFIRM_GOODS"
    assert w.actions(first["case_id"]) == [
        ("open", "refund_status", None, "WAIT_SELLER_AGREE"),
        ("refund", "refund_status", "WAIT_SELLER_AGREE", "SUCCESS"),
    ]
    second = aftersales.open_case(w.shop, NO["A"], "refund", "not_as_described", amount_fen=10000)

    rest = aftersales.refund(w.shop, second["case_id"])

    assert (rest["refund_status"], rest["order_closed"], rest["refunded_fen"]) == ("SUCCESS", True, PAID["A"])
    order = w.order("A")
    assert (order["trade_status"], order["stage"]) == ("TRADE_CLOSED", "confirmed")
    assert aftersales.refundable(w.shop, NO["A"]) == 0
    texts = w.notices("A")
    assert len(texts) == 4 and "售后申请（仅退款）已登记" in texts[0]
    assert "退款 59.00 元已退回" in texts[1] and "退款 100.00 元已退回" in texts[3]


def test_refund_before_shipment_cancels_fulfilment_and_gives_stock_back_S2(w):
    """S2: the seller did not ship in time and the buyer takes all the money back: the trade
    closes, the order's fulfilment is cancelled — its allocated parcel cancelled and the
    reservation released (D), its packed parcel cancelled and the goods back on hand (E)."""
    tea, sock = level(w.shop, "hq", "TEA-A"), level(w.shop, "hq", "SOCK-A")
    cases = [aftersales.open_case(w.shop, NO[n], "refund", "late_shipment", amount_fen=PAID[n]) for n in "DE"]

    done = [aftersales.agree(w.shop, c["case_id"]) for c in cases]

    assert [d["order_closed"] for d in done] == [True, True]
    for name in "DE":
        order = w.order(name)
        assert (order["trade_status"], order["stage"]) == ("TRADE_CLOSED", "cancelled")
        assert table(w.shop, "shipments", order_no=NO[name])["stage"].to_list() == ["cancelled"]
    assert table(w.shop, "reservations", order_no=NO["D"])["status"].to_list() == ["released"]
    assert level(w.shop, "hq", "TEA-A") == (tea[0], tea[1] - 2)
    assert level(w.shop, "hq", "SOCK-A") == (sock[0] + 1, sock[1])
    assert_ledger_explains(w.shop)


def test_partial_refund_before_shipment_is_a_compensation_and_the_order_ships_S2(w):
    """A part of the money back before shipment (a compensation for the delay) leaves the order
    shipping: trade, stage, parcel and reservation unchanged."""
    before = w.order("D")
    case = aftersales.open_case(w.shop, NO["D"], "refund", "late_shipment", amount_fen=1000)

    done = aftersales.refund(w.shop, case["case_id"])

    after = w.order("D")
    assert (done["refund_status"], done["order_closed"]) == ("SUCCESS", False)
    assert (after["trade_status"], after["stage"], after["version"]) == (
        before["trade_status"],
        "allocated",
        before["version"],
    )
    assert table(w.shop, "shipments", order_no=NO["D"])["stage"].to_list() == ["allocated"]
    assert table(w.shop, "reservations", order_no=NO["D"])["status"].to_list() == ["reserved"]
    assert aftersales.refundable(w.shop, NO["D"]) == PAID["D"] - 1000


# --- return and refund, exchange, repair (S24d) ----------------------------------------------


def test_return_and_refund_good_units_back_on_hand_damaged_apart_S24d(w):
    """S24d: a return of both lines is agreed (the buyer is told where to send them), the buyer
    sends them back, the warehouse checks in the cup as good (on hand again, a `return` ledger
    row) and the tea as damaged (into damaged goods, never sold); the warehouse may not refund,
    the clerk refunds everything and the trade closes."""
    cup, tea = level(w.shop, "hq", "CUP-A"), level(w.shop, "hq", "TEA-A")
    case = aftersales.open_case(
        w.shop,
        NO["A"],
        "return",
        "damaged",
        amount_fen=PAID["A"],
        lines=[ret(1), ret(2)],
        shipment_id=w.ids["A"],
    )
    cid = case["case_id"]

    agreed = aftersales.agree(w.shop, cid)
    sent = aftersales.goods_sent_back(w.shop, cid, carrier="yto", tracking_no="yt3000000000001")
    keeper = w.as_("仓管小李")
    got = aftersales.receive(
        keeper, cid, [{"line_no": 1, "good": 1, "damaged": 0}, {"line_no": 2, "good": 0, "damaged": 1}]
    )

    assert agreed["refund_status"] == "WAIT_BUYER_RETURN_GOODS"
    assert (sent["refund_status"], sent["return_tracking_no"]) == (
        "WAIT_SELLER_CONFIRM_GOODS",
        "YT3000000000001",
    )
    assert (got["refund_status"], got["received"], got["warehouse"]) == (
        "WAIT_SELLER_CONFIRM_GOODS",
        {"good": 1, "damaged": 1},
        "hq",
    )
    assert got["received_at"] is not None
    lines = aftersales.case(w.shop, cid)["lines"]
    assert lines.select("line_no", "sku", "received_good", "received_damaged").rows() == [
        (1, "CUP-A", 1, 0),
        (2, "TEA-A", 0, 1),
    ]
    assert level(w.shop, "hq", "CUP-A") == (cup[0] + 1, cup[1])
    assert level(w.shop, "hq", "TEA-A") == tea
    returned = table(w.shop, "stock_ledger").filter(pl.col("kind") == "return")
    assert returned.select("sku", "on_hand_delta").rows() == [("CUP-A", 1)]
    damaged = table(w.shop, "damaged_goods")
    assert damaged.select("warehouse_code", "sku", "quantity", "order_no", "source").rows() == [
        ("hq", "TEA-A", 1, NO["A"], f"after_sale:{cid}")
    ]
    assert_ledger_explains(w.shop)
    with pytest.raises(PermissionDenied):
        aftersales.refund(keeper, cid)

    done = aftersales.refund(w.shop, cid)

    assert (done["refund_status"], done["order_closed"]) == ("SUCCESS", True)
    assert w.order("A")["trade_status"] == "TRADE_CLOSED"
    texts = w.notices("A")
    assert SENDER["detail"] in texts[1] and SENDER["mobile"] in texts[1] and NO["A"] in texts[1]
    assert "已收到订单" in texts[2] and "2 件" in texts[2] and "159.00" in texts[3]


def test_receiving_more_than_the_case_returns_is_refused_and_writes_nothing_S24d(w):
    """The warehouse cannot check in more units than the case returns, a line it does not
    return, or nothing at all; a refused check-in leaves every table as it was."""
    case = aftersales.open_case(w.shop, NO["B"], "return", "quality", amount_fen=8900, lines=[ret(1)])
    aftersales.agree(w.shop, case["case_id"])
    keeper = w.as_("仓管小李")
    before = w.tables()

    with pytest.raises(Refused, match="只退 1 件"):
        aftersales.receive(keeper, case["case_id"], [{"line_no": 1, "good": 1, "damaged": 1}])
    with pytest.raises(BadInput, match="没有订单第 2 行"):
        aftersales.receive(keeper, case["case_id"], [{"line_no": 2, "good": 1}])
    with pytest.raises(BadInput, match="至少要有一件"):
        aftersales.receive(keeper, case["case_id"], [{"line_no": 1, "good": 0, "damaged": 0}])
    with pytest.raises(BadInput, match="0 或以上的整数"):
        aftersales.receive(keeper, case["case_id"], [{"line_no": 1, "good": -1}])

    assert w.tables() == before


def test_exchange_sends_the_new_sku_as_a_linked_parcel_picked_packed_and_handed_over_S24d(w):
    """S24d exchange: the socks come back (before the buyer gave a number) and are checked in;
    a linked parcel with the new SKU is allocated with its reservation and the case completes;
    the parcel then goes through waves, packing and the hand-over like any other, and the
    order, already shipped, does not move back."""
    before = w.order("B")
    shirts = level(w.shop, "hq", "TSHIRT-A")
    case = aftersales.open_case(w.shop, NO["B"], "exchange", "wrong_item", lines=[ret(1, new_sku="TSHIRT-A")])
    aftersales.agree(w.shop, case["case_id"])
    keeper = w.as_("仓管小李")

    done = aftersales.receive(keeper, case["case_id"], [{"line_no": 1, "good": 1}])

    sid = done["linked_shipment_id"]
    assert (done["refund_status"], done["received"]) == ("SUCCESS", {"good": 1, "damaged": 0})
    parcel = table(w.shop, "shipments", shipment_id=sid).row(0, named=True)
    assert (parcel["stage"], parcel["after_sale_id"], parcel["order_no"]) == (
        "allocated",
        case["case_id"],
        NO["B"],
    )
    assert table(w.shop, "shipment_lines", shipment_id=sid).select("line_no", "sku", "quantity").rows() == [
        (1, "TSHIRT-A", 1)
    ]
    assert table(w.shop, "reservations", shipment_id=sid).select("sku", "quantity", "status").rows() == [
        ("TSHIRT-A", 1, "reserved")
    ]
    assert level(w.shop, "hq", "TSHIRT-A") == (shirts[0], shirts[1] + 1)
    assert [a for a, *_ in w.actions(case["case_id"])] == [
        "open",
        "agree_return",
        "goods_returned",
        "receive",
        "receive",
        "complete",
    ]

    waves = picking.start_waves(keeper, shipment_ids=[sid])
    pack_all(keeper, sid)
    handed = shipping.hand_over(w.as_("物流小张"), [{"shipment_id": sid, "tracking_no": NUMBER["X"]}])

    assert [wv["shipments"] for wv in waves] == [1] and handed["refused"] == []
    assert table(w.shop, "shipments", shipment_id=sid)["stage"].to_list() == ["handed_over"]
    after = w.order("B")
    assert (after["stage"], after["trade_status"]) == (before["stage"], before["trade_status"])
    assert level(w.shop, "hq", "TSHIRT-A") == (shirts[0] - 1, shirts[1])
    assert "换货的商品已安排发出" in w.notices("B")[-1]
    assert_ledger_explains(w.shop)


def test_repair_sends_the_same_sku_back_and_completes_S24d(w):
    """S24d repair: the broken cup comes back damaged (kept apart), the same SKU goes back to
    the buyer in a linked parcel, and the case completes."""
    case = aftersales.open_case(w.shop, NO["C"], "repair", "quality", lines=[ret(1)])
    aftersales.agree(w.shop, case["case_id"])
    aftersales.goods_sent_back(w.shop, case["case_id"], tracking_no="YT3000000000003")

    done = aftersales.receive(w.as_("仓管小李"), case["case_id"], [{"line_no": 1, "damaged": 1}])

    assert done["refund_status"] == "SUCCESS" and done["closed_at"] is not None
    sid = done["linked_shipment_id"]
    assert table(w.shop, "shipment_lines", shipment_id=sid).select("sku", "quantity").rows() == [("CUP-A", 1)]
    assert table(w.shop, "damaged_goods").select("sku", "quantity").rows() == [("CUP-A", 1)]
    assert "维修的商品已安排寄回" in w.notices("C")[-1]


def test_a_return_can_be_refunded_as_soon_as_it_is_checked_in(w):
    """receive(refund=True) by the clerk refunds the return in the same step."""
    case = aftersales.open_case(w.shop, NO["C"], "return", "changed_mind", amount_fen=5900, lines=[ret(1)])
    aftersales.agree(w.shop, case["case_id"])

    done = aftersales.receive(w.shop, case["case_id"], [{"line_no": 1, "good": 1}], refund=True)

    assert (done["refund_status"], done["order_closed"], done["notices"]) == ("SUCCESS", True, 2)


# --- refuse, reopen, close; the money and the units a case may claim ---------------------------


def test_refuse_needs_a_reason_then_reopen_then_close_S13(w):
    """A refusal needs its reason and tells the buyer why; a refused case claims nothing, can be
    reopened, and closed with a reason (closed_at stamped); the buyer hears of each step."""
    case = aftersales.open_case(w.shop, NO["A"], "refund", "changed_mind", amount_fen=PAID["A"])
    cid = case["case_id"]

    with pytest.raises(GuardFailed):
        aftersales.refuse(w.shop, cid, "  ")
    refused = aftersales.refuse(w.shop, cid, "商品已拆封使用")
    assert refused["refund_status"] == "SELLER_REFUSE_BUYER"
    assert aftersales.refundable(w.shop, NO["A"]) == PAID["A"]
    reopened = aftersales.reopen(w.shop, cid)
    assert reopened["refund_status"] == "WAIT_SELLER_AGREE"
    closed = aftersales.close(w.shop, cid, "买家撤销申请")

    assert (closed["refund_status"], closed["closed_at"] is not None) == ("CLOSED", True)
    assert [a for a, *_ in w.actions(cid)] == ["open", "refuse", "reopen", "close_case"]
    texts = w.notices("A")
    assert "商品已拆封使用" in texts[1] and "重新受理" in texts[2] and "买家撤销申请" in texts[3]
    with pytest.raises(IllegalTransition):
        aftersales.refund(w.shop, cid)


def test_amount_cap_counts_every_live_case_of_the_order(w):
    """Two cases of one order together claim no more than was paid: the second is refused
    naming paid, claimed and left; a refund may lower the amount, never raise it above what is
    left; a closed case frees what it claimed; a refused case reopens only if still free."""
    first = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=10000)
    with pytest.raises(Refused) as refused:
        aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=6000)
    assert all(v in refused.value.message for v in ("159.00", "100.00", "59.00", "60.00"))
    second = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=5900)
    assert aftersales.refundable(w.shop, NO["A"]) == 0

    with pytest.raises(Refused, match=r"最多还能退 59\.00 元"):
        aftersales.refund(w.shop, second["case_id"], amount_fen=6000)
    lowered = aftersales.refund(w.shop, second["case_id"], amount_fen=3000)
    assert (lowered["amount_fen"], lowered["order_closed"]) == (3000, False)
    assert ("refund", "amount_fen", "5900", "3000") in w.actions(second["case_id"])
    aftersales.refuse(w.shop, first["case_id"], "需要照片")
    third = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=12900)
    with pytest.raises(Refused, match=r"最多还能退 0\.00 元"):
        aftersales.reopen(w.shop, first["case_id"])
    aftersales.close(w.shop, third["case_id"], "买家撤销")

    assert aftersales.reopen(w.shop, first["case_id"])["refund_status"] == "WAIT_SELLER_AGREE"
    assert aftersales.refundable(w.shop, NO["A"]) == PAID["A"] - 3000 - 10000


def test_cash_on_delivery_has_nothing_refundable_until_the_buyer_signed(w):
    """A COD order has paid nothing until the courier collected the money (TRADE_BUYER_SIGNED);
    then its payable is refundable."""
    assert aftersales.refundable(w.shop, NO["F"]) == 0
    with pytest.raises(Refused):
        aftersales.open_case(w.shop, NO["F"], "refund", "quality", amount_fen=100)

    w.as_("店长").transition("order", NO["F"], "buyer_sign")

    assert aftersales.refundable(w.shop, NO["F"]) == PAID["F"]


def test_goods_never_shipped_cannot_be_returned_and_bad_requests_are_named(w):
    """A return, exchange or repair names only units handed to the courier and not already in
    another live case; a refused request names the thing, the value and the fix, and writes
    nothing."""
    before = w.tables()
    refusals = [
        (Refused, "已发出 0 件", dict(order_no=NO["D"], kind="return", reason="quality", lines=[ret(1)])),
        (Refused, "已发出 0 件", dict(order_no=NO["E"], kind="exchange", reason="quality", lines=[ret(1)])),
        (Refused, "已发出 1 件", dict(order_no=NO["A"], kind="return", reason="quality", lines=[ret(1, 2)])),
        (BadInput, "要写明是哪些商品", dict(order_no=NO["A"], kind="repair", reason="quality")),
        (BadInput, "没有第 3 行", dict(order_no=NO["A"], kind="return", reason="quality", lines=[ret(3)])),
        (
            BadInput,
            "大于 0 的整数",
            dict(order_no=NO["A"], kind="return", reason="quality", lines=[ret(1, 0)]),
        ),
        (
            BadInput,
            "写了两次",
            dict(order_no=NO["A"], kind="return", reason="quality", lines=[ret(1), ret(1)]),
        ),
        (BadInput, "exchange（换货）", dict(order_no=NO["A"], kind="swap", reason="quality")),
        (BadInput, "changed_mind（七天无理由）", dict(order_no=NO["A"], kind="refund", reason="bored")),
        (BadInput, "不能小于 0", dict(order_no=NO["A"], kind="refund", reason="quality", amount_fen=-1)),
        (
            BadInput,
            "只有换货",
            dict(order_no=NO["A"], kind="return", reason="quality", lines=[ret(1, new_sku="TEA-A")]),
        ),
        (
            BadInput,
            "不在商品资料里",
            dict(order_no=NO["A"], kind="exchange", reason="quality", lines=[ret(1, new_sku="NOPE")]),
        ),
        (
            BadInput,
            "不是订单",
            dict(order_no=NO["A"], kind="refund", reason="quality", shipment_id=w.ids["B"]),
        ),
        (NotFound, "没有订单 NOPE", dict(order_no="NOPE", kind="refund", reason="quality")),
    ]
    for error, words, request in refusals:
        with pytest.raises(error, match=words):
            aftersales.open_case(w.shop, **request)
    assert w.tables() == before

    aftersales.open_case(w.shop, NO["A"], "return", "quality", amount_fen=5900, lines=[ret(1)])
    with pytest.raises(Refused, match="其他售后单已占 1 件"):
        aftersales.open_case(w.shop, NO["A"], "exchange", "quality", lines=[ret(1)])


def test_a_platform_refund_number_belongs_to_one_case(w):
    """The platform's refund number (退款编号) is kept on one case only."""
    aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=100, refund_id="R100")

    with pytest.raises(Refused, match="R100"):
        aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=100, refund_id="R100")


# --- who may do what ------------------------------------------------------------------------


def test_roles_warehouse_checks_goods_in_but_cannot_open_or_refund_analyst_only_reads(w):
    """The warehouse may check returned goods in but not open or refund a case; an analyst may
    do nothing but read; each refusal is PermissionDenied and writes nothing."""
    case = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=100)
    keeper, analyst = w.as_("仓管小李"), w.as_("分析师")
    before = w.tables()
    calls = [
        lambda s: aftersales.open_case(s, NO["A"], "refund", "quality", amount_fen=100),
        lambda s: aftersales.refund(s, case["case_id"]),
        lambda s: aftersales.agree(s, case["case_id"]),
        lambda s: aftersales.refuse(s, case["case_id"], "不行"),
        lambda s: aftersales.close(s, case["case_id"], "不行"),
        lambda s: aftersales.take(s, case["case_id"]),
    ]
    for call in calls:
        for who in (keeper, analyst):
            with pytest.raises(PermissionDenied):
                call(who)
    for call in (
        lambda s: aftersales.receive(s, case["case_id"], [{"line_no": 1, "good": 1}]),
        lambda s: aftersales.goods_sent_back(s, case["case_id"]),
        lambda s: aftersales.reopen(s, case["case_id"]),
    ):
        with pytest.raises(PermissionDenied):
            call(analyst)

    assert w.tables() == before
    assert aftersales.cases(analyst)["case_id"].to_list() == [case["case_id"]]


def test_taking_a_case_over_is_audited_and_a_stale_version_conflicts(w):
    """Taking a case makes the acting person its owner (audited); a clerk who read the case
    before someone else took it gets Conflict naming who changed it."""
    case = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=100)

    taken = aftersales.take(w.as_("店长"), case["case_id"], expected_version=case["version"])
    with pytest.raises(Conflict, match="店长"):
        aftersales.take(w.shop, case["case_id"], expected_version=case["version"])

    assert (taken["owner"], taken["version"]) == ("店长", 1)
    assert ("take_case", "owner", "售后小雅", "店长") in w.actions(case["case_id"])
    assert w.row(case["case_id"])["owner"] == "店长"


# --- two staff at once ---------------------------------------------------------------------


def _race(url: str, calls: list[tuple[str, Any]]) -> list[str]:
    """Run each (actor, call(shop)) in its own thread with its own connection, all at once;
    "ok", or "conflict"/"refused" with the message."""
    barrier = threading.Barrier(len(calls))

    def one(actor: str, call: Any) -> str:
        with kit.connect(url, actor=actor, config=config()) as shop:
            shop.store.schema_version()  # connected before the race starts
            barrier.wait(timeout=60)
            try:
                call(shop)
            except Conflict as exc:
                return "conflict:" + exc.message
            except Refused as exc:
                return "refused:" + exc.message
            return "ok"

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda c: one(*c), calls))


def test_two_staff_refunding_one_case_at_once_exactly_one_wins(w):
    """Two staff, each with their own connection, refund the same case read at the same version:
    one refund is made, the other gets Conflict; the case is refunded once, audited once."""
    case = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=5900)
    version = case["version"]

    results = _race(
        w.url,
        [
            (who, lambda s: aftersales.refund(s, case["case_id"], expected_version=version))
            for who in ("售后小雅", "店长")
        ],
    )

    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"]
    assert w.row(case["case_id"])["refund_status"] == "SUCCESS"
    assert [a for a, *_ in w.actions(case["case_id"])].count("refund") == 1
    assert len(w.notices("A")) == 2


def test_two_clerks_opening_cases_that_together_exceed_the_payment_exactly_one_is_accepted(w):
    """Two clerks open a case each on one order at once, each within the payment but together
    over it: the order row is locked for the check, so one is accepted and the other refused."""
    results = _race(
        w.url,
        [
            (who, lambda s: aftersales.open_case(s, NO["A"], "refund", "quality", amount_fen=10000))
            for who in ("售后小雅", "店长")
        ],
    )

    assert sorted(r.split(":")[0] for r in results) == ["ok", "refused"]
    assert table(w.shop, "after_sales", order_no=NO["A"]).height == 1


# --- reading ---------------------------------------------------------------------------------


def test_case_list_shows_labels_owner_and_age_and_filters(w, clock):
    """The case list has the documented columns with the names staff read, the owner and the
    age in hours; it filters by status, kind, order and open cases; a bad filter is named."""
    one = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=100)
    clock["now"] += timedelta(hours=5)
    two = aftersales.open_case(w.shop, NO["B"], "return", "wrong_item", amount_fen=100, lines=[ret(1, 2)])
    aftersales.agree(w.shop, one["case_id"])
    clock["now"] += timedelta(minutes=30)

    frame = aftersales.cases(w.shop)

    assert frame.columns == aftersales.CASE_COLUMNS
    assert frame.select(
        "case_id", "kind_label", "status_label", "reason_label", "units", "owner", "age_hours"
    ).rows() == [
        (one["case_id"], "仅退款", "退款成功", "质量问题", 0, "售后小雅", 5.5),
        (two["case_id"], "退货退款", "买家已申请，等待卖家同意", "发错货", 2, "售后小雅", 0.5),
    ]
    assert aftersales.cases(w.shop, open_only=True)["case_id"].to_list() == [two["case_id"]]
    assert aftersales.cases(w.shop, status="SUCCESS")["case_id"].to_list() == [one["case_id"]]
    assert aftersales.cases(w.shop, kind="return", order_no=NO["B"]).height == 1
    with pytest.raises(BadInput, match="WAIT_SELLER_AGREE"):
        aftersales.cases(w.shop, status="DONE")
    detail = aftersales.case(w.shop, two["case_id"])
    assert detail["lines"].select("line_no", "sku", "title", "quantity").rows() == [
        (1, "SOCK-A", "羊毛袜", 2)
    ]
    assert detail["audit"]["action"].to_list() == ["open"]
    assert detail["refundable_fen"] == PAID["B"] - 100 and detail["reason_label"] == "发错货"
    with pytest.raises(NotFound):
        aftersales.case(w.shop, 999)


def test_notices_in_english_and_none_when_notify_is_false_S13(w):
    """Staff working in English queue English notices; notify=False queues none. Every step has
    its template in both languages."""
    set_lang("en")
    case = aftersales.open_case(w.shop, NO["A"], "return", "quality", amount_fen=100, lines=[ret(1)])
    aftersales.agree(w.shop, case["case_id"])
    quiet = aftersales.open_case(w.shop, NO["A"], "refund", "quality", amount_fen=100, notify=False)

    assert quiet["notices"] == 0
    texts = w.notices("A")
    assert len(texts) == 2 and "registered as case" in texts[0] and "Please send the goods to" in texts[1]
    for lang in ("zh", "en"):
        assert all(f"notice.after_sale_{step}" in messages(lang) for step in aftersales.STEPS)
    assert "after_sale" in table(w.shop, "outbox")["kind"].to_list()
    assert messages("zh")["outbox_kinds.after_sale"] == "售后通知"

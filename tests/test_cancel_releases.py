"""An order that ends up cancelled gives back what its fulfilment held, in the same
transaction (kit.lifecycle.followups; S3, S20, S24b): its open shipments are cancelled,
its reserved stock is released with `release` rows in the ledger, its open backorders are
closed and its queued stockout notices withdrawn. Three ways to get there: staff cancel
the order (pre-sales may, S3), after-sales close its trade for a refund before shipment,
or a later platform export says 交易关闭 (S6 import). An order already handed over is
left alone when its trade closes.

The shop: orders come in through a Taobao export (订单报表 + 宝贝报表), are reviewed and
allocated over scarce tea; A is allocated (tea 2, cup 1), B backordered and told (S20),
C allocated (tea 1) and must stay as it is whatever happens to A and B.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import kit
from kit import lifecycle, outbox, shortages, stock
from kit.allocation import allocate
from kit.demo.exports import STATUS_TEXT, csv_bytes, taobao_item_cells, taobao_order_cells
from kit.errors import PermissionDenied
from kit.intake.importer import import_intake
from kit.intake.readers import read
from kit.store import schema
from kit.store.frames import read_frame

STAFF = {"店长": "supervisor", "仓管小李": "warehouse", "客服小美": "presale", "售后小王": "aftersale",
         "物流小张": "logistics"}
WAREHOUSES = [{"code": "hq", "name": "杭州总仓", "kind": "hq", "province": "浙江省", "city": "杭州市",
               "serves": ["浙江省", "上海市"]}]
SKUS = pl.DataFrame({"sku": ["TEA-A", "CUP-A"], "title": ["明前龙井", "双层玻璃杯"],
                     "spec": ["250克", "透明"], "category": ["tea", "glass"], "weight_g": [300, 400],
                     "price_fen": [10000, 5900]})
A, B, C, D = "3100000000000001", "3100000000000002", "3100000000000003", "3100000000000004"
# order → its lines (sku, quantity); D is unpaid: the review leaves it new
ITEMS = {A: [("TEA-A", 2), ("CUP-A", 1)], B: [("TEA-A", 4)], C: [("TEA-A", 1)], D: [("CUP-A", 1)]}
PAID = {A: datetime(2026, 12, 3, 9, 5), B: datetime(2026, 12, 3, 9, 10), C: datetime(2026, 12, 3, 9, 15),
        D: None}
OPEN = "WAIT_SELLER_SEND_GOODS"
ALLOCATED_AT = datetime(2026, 12, 3, 10, 0)
CANCELLED_AT = datetime(2026, 12, 3, 11, 0)


def export(tmp: Path, status: dict[str, str], name: str) -> list[Path]:
    """A Taobao 订单报表 and 宝贝报表 of the four orders, each in its trade status."""
    prices = dict(zip(SKUS["sku"], SKUS["price_fen"], strict=True))
    titles = dict(zip(SKUS["sku"], SKUS["title"], strict=True))
    nos = list(ITEMS)
    goods = [sum(prices[s] * q for s, q in ITEMS[no]) for no in nos]
    orders = pl.DataFrame({
        "order_no": nos,
        "buyer_nick": [f"tb测试{i}" for i in range(4)],
        "goods_fen": goods, "post_fee_fen": [0] * 4, "payable_fen": goods,
        "paid_fen": [0 if status[no] == "WAIT_BUYER_PAY" else g for no, g in zip(nos, goods, strict=True)],
        "trade_status": [status[no] for no in nos],
        "buyer_message": [None] * 4, "seller_memo": [None] * 4,
        "receiver_name": ["测试甲", "测试乙", "测试丙", "测试丁"],
        "province": ["浙江省"] * 4, "city": ["杭州市"] * 4, "district": ["西湖区"] * 4,
        "address_detail": [f"文三路 {i} 号" for i in range(1, 5)], "postcode": ["310000"] * 4,
        "payment_method": ["online"] * 4, "receiver_phone": [None] * 4,
        "receiver_mobile": [f"1380000000{i}" for i in range(1, 5)],
        "created_at": [datetime(2026, 12, 3, 9, 0)] * 4, "paid_at": [PAID[no] for no in nos],
        "title_text": ["，".join(titles[s] for s, _ in ITEMS[no]) for no in nos],
        "kinds": [len(ITEMS[no]) for no in nos], "qty_total": [sum(q for _, q in ITEMS[no]) for no in nos],
        "tracking_no": [None] * 4, "carrier_name": [None] * 4,
    }, schema_overrides={"buyer_message": pl.String, "seller_memo": pl.String, "receiver_phone": pl.String,
                         "tracking_no": pl.String, "carrier_name": pl.String,
                         "paid_at": pl.Datetime("us")}).with_columns(
        status_text=pl.col("trade_status").replace_strict(STATUS_TEXT))
    lines = pl.DataFrame([
        {"order_no": no, "title": titles[s], "price_fen": prices[s], "quantity": q, "sku": s,
         "spec": SKUS.filter(pl.col("sku") == s)["spec"][0], "line_status": status[no]}
        for no in nos for s, q in ITEMS[no]])
    folder = tmp / name
    folder.mkdir()
    files = [folder / "ExportOrderList1.csv", folder / "ExportOrderDetailList1.csv"]
    files[0].write_bytes(csv_bytes(taobao_order_cells(orders, 46), "gbk"))
    files[1].write_bytes(csv_bytes(taobao_item_cells(lines), "gbk", trailing_comma=True))
    return files


def statuses(**changed: str) -> dict[str, str]:
    """Every order's trade status: A–C paid and waiting, D unpaid, with `changed` on top."""
    return {A: OPEN, B: OPEN, C: OPEN, D: "WAIT_BUYER_PAY", **{globals()[k]: v for k, v in changed.items()}}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    """kit.clock.now() returns clock["now"]."""
    moment = {"now": ALLOCATED_AT}
    monkeypatch.setattr(kit.clock, "now", lambda: moment["now"])
    return moment


@pytest.fixture
def shop(db_url: str, tmp_path: Path, clock: dict[str, datetime]) -> kit.Shop:
    """The shop (SQLite and PostgreSQL): imported and reviewed orders, A and C allocated,
    B backordered with its stockout notice queued. Acting as the supervisor."""
    config = kit.config.parse({"staff": STAFF, "warehouses": WAREHOUSES})
    with kit.connect(db_url, actor="店长", config=config) as opened:
        opened.sync_settings()
        opened.store.insert_frame(schema.skus, SKUS)
        stock.receive_goods(opened, [{"warehouse_code": "hq", "sku": "TEA-A", "quantity": 5},
                                     {"warehouse_code": "hq", "sku": "CUP-A", "quantity": 1}], reason="开仓")
        summary = import_intake(opened, read(export(tmp_path, statuses(), "first")), review=True)
        assert sorted(summary.review.approved) == [A, B, C]
        result = allocate(opened.acting_as("仓管小李"))
        assert (result.allocated, result.backordered) == ([A, C], [B])
        assert shortages.notify(opened.acting_as("客服小美"))["order_no"].to_list() == [B]
        clock["now"] = CANCELLED_AT
        yield opened


def table(shop: kit.Shop, name: str, **where: Any) -> pl.DataFrame:
    """A table's rows (those whose columns equal `where`), in key order."""
    t = schema.metadata.tables[name]
    stmt = sa.select(t).where(*(t.c[k] == v for k, v in where.items())).order_by(*t.primary_key.columns)
    with shop.store.read() as conn:
        return read_frame(conn, stmt)


def levels(shop: kit.Shop) -> dict[str, tuple[int, int]]:
    """sku → (on hand, reserved) at hq."""
    rows = table(shop, "stock_levels").iter_rows(named=True)
    return {r["sku"]: (r["on_hand"], r["reserved"]) for r in rows}


def assert_ledger_explains(shop: kit.Shop) -> None:
    """Every level is the sum of its ledger rows."""
    with shop.store.read() as conn:
        assert stock.ledger_differences(conn).to_dicts() == []


def by_cancel(shop: kit.Shop, tmp_path: Path) -> tuple[str, str]:
    """Pre-sales cancel A and B (S3: the buyer changed their mind before shipment)."""
    presale = shop.staff_member("客服小美")
    with shop.store.write() as conn:
        result = lifecycle.apply_many(conn, "order", [A, B], "cancel", presale, reason="买家不要了")
    assert result.refused == []
    return "客服小美", "买家不要了"


def by_close(shop: kit.Shop, tmp_path: Path) -> tuple[str, str]:
    """After-sales close A's and B's trades: refunded before shipment."""
    aftersale = shop.staff_member("售后小王")
    with shop.store.write() as conn:
        result = lifecycle.apply_many(conn, "order", [A, B], "close", aftersale, reason="未发货退款")
    assert result.refused == []
    return "售后小王", "未发货退款"


def by_import(shop: kit.Shop, tmp_path: Path) -> tuple[str, str]:
    """The next export says 交易关闭 for A and B, 交易被淘宝关闭 for unpaid D; C still waits."""
    files = export(tmp_path, statuses(A="TRADE_CLOSED", B="TRADE_CLOSED", D="TRADE_CLOSED_BY_TAOBAO"),
                   "later")
    summary = import_intake(shop, read(files))
    assert summary.balanced and summary.orders["updated"] == 3
    return "system:import:店长", "平台"


@pytest.mark.parametrize("path", [by_cancel, by_close, by_import], ids=["cancel", "close", "import"])
def test_cancelled_order_gives_back_its_fulfilment_S3_S20_S24b(shop, tmp_path, path):
    """Whichever way A and B end up cancelled: A's shipment is cancelled and its stock
    released (ledger `release` rows, reserved back down, ledger explains every level), B's
    open backorders are closed and its queued notice withdrawn; C keeps its shipment and
    reservation; nothing is short any more."""
    assert levels(shop) == {"TEA-A": (5, 3), "CUP-A": (1, 1)}
    actor, why = path(shop, tmp_path)

    orders = dict(table(shop, "orders").select("order_no", "stage").rows())
    assert orders == {A: "cancelled", B: "cancelled", C: "allocated",
                      D: "cancelled" if path is by_import else "new"}
    shipments = dict(table(shop, "shipments").select("order_no", "stage").rows())
    assert shipments == {A: "cancelled", C: "allocated"}
    reservations = table(shop, "reservations").select("order_no", "line_no", "sku", "quantity", "status")
    assert reservations.rows() == [(A, 1, "TEA-A", 2, "released"), (A, 2, "CUP-A", 1, "released"),
                                   (C, 1, "TEA-A", 1, "reserved")]
    released = table(shop, "stock_ledger", kind="release")
    assert released.select("order_no", "line_no", "sku", "on_hand_delta", "reserved_delta").rows() == [
        (A, 1, "TEA-A", 0, -2), (A, 2, "CUP-A", 0, -1)]
    assert set(released["actor"]) == {actor} and set(released["at"]) == {CANCELLED_AT}
    assert all(why in r for r in released["reason"])
    assert levels(shop) == {"TEA-A": (5, 1), "CUP-A": (1, 0)}
    assert_ledger_explains(shop)
    backorders = table(shop, "backorders", order_no=B)
    assert set(backorders["status"]) == {"closed"} and set(backorders["closed_at"]) == {CANCELLED_AT}
    assert table(shop, "backorders", status="open").height == 0
    assert table(shop, "outbox").select("order_no", "status").rows() == [(B, "cancelled")]
    assert outbox.notices(shop).height == 0
    assert shortages.lines(shop).height == 0 and shortages.by_sku(shop).height == 0
    trail = shop.audit_trail("shipment")
    assert trail.filter(pl.col("action") == "cancel")["actor"].to_list() == [actor]


def test_import_closes_the_trades_and_cancels_the_unpaid_order_S6(shop, tmp_path):
    """The platform's word: A and B 交易关闭 (trade closed, stage cancelled); D, never paid,
    交易被淘宝关闭 — cancelled with nothing to give back."""
    by_import(shop, tmp_path)

    trades = dict(table(shop, "orders").select("order_no", "trade_status").rows())
    assert trades == {A: "TRADE_CLOSED", B: "TRADE_CLOSED", C: OPEN, D: "TRADE_CLOSED_BY_TAOBAO"}
    actions = shop.audit_trail("order").filter(pl.col("entity_id") == D)["action"].to_list()
    assert "close_by_platform" in actions


def test_presale_cancels_an_allocated_order_alone_S3(shop):
    """S3: pre-sales cancel an allocated order on the buyer's word; the shipment cancel it
    brings is theirs too (pre-sales may cancel shipments), and only that order is touched."""
    shop.acting_as("客服小美").transition("order", C, "cancel", reason="买家要求取消")

    assert shop.order(C).stage == "cancelled"
    assert dict(table(shop, "shipments").select("order_no", "stage").rows()) == {A: "allocated",
                                                                                 C: "cancelled"}
    assert levels(shop) == {"TEA-A": (5, 2), "CUP-A": (1, 1)}
    assert table(shop, "stock_ledger", kind="release")["actor"].to_list() == ["客服小美"]
    assert table(shop, "outbox")["status"].to_list() == ["queued"]  # B still waits to be told
    assert_ledger_explains(shop)


def test_presale_may_not_close_a_trade(shop):
    """Closing a trade (a refund) is after-sales' or the supervisor's: pre-sales are refused
    and nothing is released."""
    with pytest.raises(PermissionDenied), shop.store.write() as conn:
        lifecycle.apply_many(conn, "order", [A], "close", shop.staff_member("客服小美"), reason="退款")

    assert shop.order(A).stage == "allocated"
    assert levels(shop) == {"TEA-A": (5, 3), "CUP-A": (1, 1)}


def test_follow_ups_share_the_cancel_transaction(shop):
    """All in one transaction: when the caller's transaction fails after the cancel, the
    shipment, reservations, backorders and notice are as they were."""
    before = {name: table(shop, name).rows() for name in
              ("orders", "shipments", "reservations", "stock_levels", "stock_ledger", "backorders", "outbox")}

    presale = shop.staff_member("客服小美")
    with pytest.raises(RuntimeError), shop.store.write() as conn:
        lifecycle.apply_many(conn, "order", [A, B], "cancel", presale, reason="买家不要了")
        raise RuntimeError("the caller's next step failed")

    after = {name: table(shop, name).rows() for name in before}
    assert after == before


def _hand_over(shop: kit.Shop, order: str) -> None:
    """Pick, pack and hand the order and its shipment to the carrier (logistics)."""
    staff = shop.staff_member("物流小张")
    with shop.store.write() as conn:
        ids = read_frame(conn, sa.select(schema.shipments.c.shipment_id)
                         .where(schema.shipments.c.order_no == order))["shipment_id"].to_list()
        for action in ("start_picking", "pack", "hand_over"):
            assert lifecycle.apply_many(conn, "order", [order], action, staff).refused == []
            assert lifecycle.apply_many(conn, "shipment", ids, action, staff).refused == []


@pytest.mark.parametrize("how", ["close", "import"])
def test_close_after_hand_over_leaves_the_shipment_alone_S24b(shop, tmp_path, how):
    """An order already handed over whose trade closes (refund after it left, or the
    platform says 交易关闭) stays handed over: its shipment, reservation and stock are not
    touched by the follow-up; that is the after-sale's business."""
    _hand_over(shop, C)
    before = {name: table(shop, name).rows() for name in ("shipments", "reservations", "stock_levels",
                                                          "stock_ledger", "backorders")}

    if how == "close":
        with shop.store.write() as conn:
            lifecycle.apply_many(conn, "order", [C], "close", shop.staff_member("售后小王"), reason="退款")
    else:
        import_intake(shop, read(export(tmp_path, statuses(C="TRADE_CLOSED"), "later")))

    order = shop.order(C)
    assert (order.trade_status, order.stage) == ("TRADE_CLOSED", "handed_over")
    assert {name: table(shop, name).rows() for name in before} == before
    assert_ledger_explains(shop)

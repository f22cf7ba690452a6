"""The import: every input row ends new, updated, unchanged or quarantined, and the counts
add up (S6: no order duplicated, none missed); later exports move orders forward through
the lifecycle; what the lifecycle refuses waits for a person (S10, S24a)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import kit
from kit.intake import importer
from kit.intake.importer import import_intake
from kit.intake.rows import SCHEMA, Intake, conform
from kit.store import schema

PAID = datetime(2026, 11, 30, 9, 30)


def order_row(no: str, row_no: int, **over: Any) -> dict[str, Any]:
    """An order-level input row as a Taobao order report gives it."""
    row = {
        "source": "ExportOrderList.csv", "row_no": row_no, "row_kind": "order", "problems": [],
        "order_no": no, "buyer_nick": f"tb{no[-4:]}", "receiver_name": "测试甲",
        "receiver_mobile": "13800000001", "province": "浙江省", "city": "杭州市", "district": "西湖区",
        "address_detail": "文三路 1 号", "postcode": "310000", "payment_method": "online",
        "total_fen": 5000, "discount_fen": 0, "post_fee_fen": 0, "payable_fen": 5000, "paid_fen": 5000,
        "created_at": datetime(2026, 11, 30, 9, 0), "paid_at": PAID,
        "trade_status": "WAIT_SELLER_SEND_GOODS", "extra": '{"店铺名称":"示例小店"}',
    }
    row.update(over)
    row["raw"] = json.dumps({"订单编号": f'="{no}"', "行": str(row_no)}, ensure_ascii=False)
    return row


def line_row(no: str, row_no: int, **over: Any) -> dict[str, Any]:
    """An item-level input row as a Taobao item report gives it."""
    row = {"source": "ExportOrderDetailList.csv", "row_no": row_no, "row_kind": "line", "problems": [],
           "order_no": no, "sku": "CUP-1", "title": "玻璃杯", "spec": "颜色分类：透明", "quantity": 2,
           "price_fen": 2500, "amount_fen": 5000}
    row.update(over)
    row["raw"] = json.dumps({"订单编号": f'="{no}"', "标题": row["title"]}, ensure_ascii=False)
    return row


def intake(*rows: dict[str, Any]) -> Intake:
    """An intake of these rows, as a reader would return it."""
    frame = pl.DataFrame(list(rows), schema={k: v for k, v in SCHEMA.items()
                                             if any(k in r for r in rows)})
    return Intake(conform(frame), "taobao_csv", tuple(dict.fromkeys(r["source"] for r in rows)))


@pytest.fixture
def shop(db_url):
    """A shop on a fresh database (SQLite and PostgreSQL), acting as pre-sales."""
    config = kit.config.parse({"staff": {"客服小美": "presale", "店长": "supervisor"}})
    with kit.connect(db_url, actor="客服小美", config=config) as shop:
        yield shop


def test_new_orders_and_lines_are_imported_and_counted_S6(shop):
    """Two orders and their three lines: five rows, five new, counts balance."""
    summary = import_intake(shop, intake(
        order_row("1001", 1), order_row("1002", 2, total_fen=7000, payable_fen=7000, paid_fen=7000),
        line_row("1001", 1), line_row("1002", 2), line_row("1002", 3, sku="TEA-1", title="龙井",
                                                           quantity=1, price_fen=2000, amount_fen=2000)))

    assert summary.balanced and summary.rows_in == 5
    assert summary.rows == {"new": 5, "updated": 0, "unchanged": 0, "quarantined": 0}
    assert summary.orders["new"] == 2
    assert shop.lines(["1002"])["line_no"].to_list() == [1, 2]
    assert shop.order("1001").stage == "new"
    extra = shop.orders().filter(pl.col("order_no") == "1001")["extra"][0]
    assert json.loads(extra) == {"店铺名称": "示例小店"}


def test_reimporting_the_same_file_changes_nothing_S6(shop):
    """The same export twice: the second time every row is an unchanged duplicate."""
    rows = (order_row("1001", 1), line_row("1001", 1),
            order_row("1003", 2, order_no=None))  # one row quarantined both times
    import_intake(shop, intake(*rows))
    before = shop.orders().select("order_no", "version", "updated_at")

    again = import_intake(shop, intake(*rows))

    assert again.rows == {"new": 0, "updated": 0, "unchanged": 2, "quarantined": 1}
    assert shop.orders().select("order_no", "version", "updated_at").equals(before)
    with shop.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.quarantine)).scalar() == 1


def test_duplicate_row_in_one_file_is_counted_not_imported_twice_S6(shop):
    """An order row repeated in the export is new once and an unchanged duplicate once."""
    summary = import_intake(shop, intake(order_row("1001", 1), order_row("1001", 2)))

    assert summary.rows == {"new": 1, "updated": 0, "unchanged": 1, "quarantined": 0}
    assert shop.orders().height == 1


def test_unreadable_row_quarantines_its_whole_order_with_the_original_text_S6(shop):
    """A bad amount in one line keeps the whole order out, with row, column and text named."""
    summary = import_intake(shop, intake(
        order_row("1001", 1), line_row("1001", 1),
        line_row("1001", 2, price_fen=None, problems=["bad_amount:价格"])))

    assert summary.rows["quarantined"] == 3 and summary.balanced
    assert shop.orders().height == 0
    with shop.store.read() as conn:
        stmt = sa.select(schema.quarantine).order_by(schema.quarantine.c.row_no)
        kept = conn.execute(stmt).mappings().all()
    assert {r["order_no"] for r in kept} == {"1001"}
    assert "第 2 行" in kept[-1]["message"] and "价格" in kept[-1]["message"]
    assert json.loads(kept[-1]["raw"])["标题"] == "玻璃杯"


def test_later_export_moves_the_trade_status_through_the_lifecycle(shop):
    """Closed on the platform: the order's trade closes and its unshipped fulfilment is cancelled."""
    import_intake(shop, intake(order_row("1001", 1), line_row("1001", 1)))

    summary = import_intake(shop, intake(order_row("1001", 1, trade_status="TRADE_CLOSED")))

    order = shop.order("1001")
    assert (order.trade_status, order.stage) == ("TRADE_CLOSED", "cancelled")
    assert summary.rows["updated"] == 1
    trail = shop.audit_trail("order", "1001")
    assert set(trail["action"]) >= {"close"}
    assert trail.filter(pl.col("action") == "close")["actor"][0] == "system:import:客服小美"


def test_payment_arriving_later_updates_the_order(shop):
    """An order exported unpaid then paid: paid, with the amounts and time recorded."""
    unpaid = order_row("1001", 1, trade_status="WAIT_BUYER_PAY", paid_fen=0, paid_at=None)
    import_intake(shop, intake(unpaid))

    summary = import_intake(shop, intake(order_row("1001", 1)))

    order = shop.order("1001")
    assert order.trade_status == "WAIT_SELLER_SEND_GOODS"
    assert (order.payment.paid_fen, order.paid_at) == (5000, PAID)
    assert sorted(summary.changes["fields"][0]) == ["paid_at", "paid_fen", "trade_status"]


def test_status_going_backwards_is_flagged_for_a_person(shop):
    """A later export cannot unfinish a trade: the row waits for a person, nothing changes."""
    import_intake(shop, intake(order_row("1001", 1, trade_status="TRADE_FINISHED")))

    summary = import_intake(shop, intake(order_row("1001", 1)))

    assert shop.order("1001").trade_status == "TRADE_FINISHED"
    assert summary.rows["quarantined"] == 1 and summary.flagged == 1
    with shop.store.read() as conn:
        flag = conn.execute(sa.select(schema.flags)).mappings().one()
    assert flag["order_no"] == "1001" and flag["status"] == "open"


def test_address_change_after_handover_is_flagged_not_applied(shop):
    """An address changed after the parcel left is not applied silently."""
    import_intake(shop, intake(order_row("1001", 1)))
    with shop.store.write() as conn:
        conn.execute(sa.update(schema.orders).values(stage="handed_over"))

    summary = import_intake(shop, intake(order_row("1001", 1, address_detail="文三路 99 号")))

    assert shop.order("1001").address.detail == "文三路 1 号"
    assert summary.flagged == 1


def test_address_change_before_review_is_applied_and_audited(shop):
    """Before the parcel leaves, the export's new address is applied with the old one audited."""
    import_intake(shop, intake(order_row("1001", 1)))

    import_intake(shop, intake(order_row("1001", 1, address_detail="文三路 99 号")))

    trail = shop.audit_trail("order", "1001").filter(pl.col("field") == "address_detail")
    assert shop.order("1001").address.detail == "文三路 99 号"
    assert (trail["from_state"][0], trail["to_state"][0]) == ("文三路 1 号", "文三路 99 号")


def test_item_report_after_the_order_report_fills_the_lines(shop):
    """Importing the order report, then the item report, gives the order its lines."""
    import_intake(shop, intake(order_row("1001", 1)))

    summary = import_intake(shop, intake(line_row("1001", 1), line_row("1009", 2)))

    assert shop.lines(["1001"]).height == 1
    assert summary.rows == {"new": 0, "updated": 1, "unchanged": 0, "quarantined": 1}
    assert summary.reasons == {"orphan_line": 1}


def test_rows_of_one_order_that_disagree_are_quarantined(shop):
    """Per-line rows of one order with two different addresses are not guessed between."""
    one = order_row("1001", 1, row_kind="order_line", sku="A", title="甲", quantity=1, price_fen=5000,
                    amount_fen=5000)
    two = {**one, "row_no": 2, "address_detail": "别的地址", "sku": "B"}

    summary = import_intake(shop, intake(one, two))

    assert summary.rows["quarantined"] == 2
    assert summary.reasons == {"inconsistent_order": 2}


def test_order_number_of_another_shop_is_quarantined(shop):
    """The same number under another shop is never merged into this one."""
    import_intake(shop, intake(order_row("1001", 1)))

    summary = import_intake(shop, intake(order_row("1001", 1)), shop_name="别的店")

    assert summary.reasons == {"order_no_taken": 1}


def test_historical_orders_do_not_enter_the_review_queue(shop):
    """Orders already shipped or closed on the platform are imported done, not as new work."""
    import_intake(shop, intake(order_row("1001", 1, trade_status="TRADE_FINISHED"),
                               order_row("1002", 2, trade_status="TRADE_CLOSED")))

    assert shop.order("1001").stage == "confirmed"
    assert shop.order("1002").stage == "cancelled"


def test_missing_required_field_is_quarantined(shop):
    """A new order without a receiver is not stored half-empty."""
    summary = import_intake(shop, intake(order_row("1001", 1, receiver_name=None)))

    assert summary.reasons == {"missing_field": 1}


def test_interrupted_import_leaves_nothing(shop, monkeypatch):
    """One import is one transaction: a failure at the end writes nothing at all."""
    def broken(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_quarantine", broken)
    with pytest.raises(RuntimeError):
        import_intake(shop, intake(order_row("1001", 1), line_row("1001", 1)))

    assert shop.orders().height == 0
    assert shop.audit_trail("batch").height == 0


def test_analyst_may_not_import(shop):
    """Registering orders needs a role that may (S6): an analyst is refused."""
    analyst = kit.Shop(shop.store, shop.config, kit.models.StaffMember("分析师", kit.models.Role.ANALYST))

    with pytest.raises(kit.errors.PermissionDenied):
        import_intake(analyst, intake(order_row("1001", 1)))


def test_an_intake_is_imported_once(shop):
    """The importer takes an intake's original text: importing it twice says to read again."""
    once = intake(order_row("1001", 1))
    import_intake(shop, once)

    with pytest.raises(kit.errors.BadInput, match=r"ExportOrderList\.csv"):
        import_intake(shop, once)

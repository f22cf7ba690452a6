"""Field edits go through the lifecycle too: role-checked, stage-checked, version-guarded and
audited with the old value kept (S24a: errors are fixed with the buyer; S16: COD phone
confirmation is recorded with who and when)."""

from __future__ import annotations

import polars as pl
import pytest
from orders_factory import make_orders

import kit
from kit import lifecycle
from kit.errors import BadInput, Conflict, GuardFailed, IllegalTransition, PermissionDenied
from kit.models import Role, StaffMember

PRESALE = StaffMember("客服小美", Role.PRESALE)
WAREHOUSE = StaffMember("仓管老周", Role.WAREHOUSE)


@pytest.fixture
def shop(tmp_path):
    """A shop with four orders: two new, one packed, one handed over; COD for the first."""
    shop = kit.connect(str(tmp_path / "kit.db"), actor="店长")
    for start, stage, method in ((1, "new", "cod"), (2, "new", "online"), (3, "packed", "online"),
                                 (4, "handed_over", "online")):
        shop.insert_orders(*make_orders(1, start=start, stage=stage, payment_method=method),
                           kind="test", source="edits")
    yield shop
    shop.close()


def order_no(shop: kit.Shop, n: int) -> str:
    """The n-th order's number (1-based, in insertion order)."""
    return shop.orders().sort("batch_id")["order_no"][n - 1]


def test_address_fix_before_handover_keeps_the_old_value_S24a(shop):
    """S24a: a wrong address fixed with the buyer is changed, and the audit keeps the old one."""
    no = order_no(shop, 3)
    before = shop.order(no).address.detail

    with shop.store.write() as conn:
        lifecycle.edit(conn, no, {"address_detail": "文一西路 969 号 3 幢"}, PRESALE, reason="买家来电更正")

    trail = shop.audit_trail("order", no).filter(pl.col("action") == "edit_address").row(0, named=True)
    assert shop.order(no).address.detail == "文一西路 969 号 3 幢"
    assert (trail["field"], trail["from_state"], trail["actor"]) == ("address_detail", before, "客服小美")
    assert shop.order(no).version == 1


def test_address_cannot_change_after_the_parcel_left(shop):
    """Once handed over, the address is not edited: that is a wrong-address case."""
    no = order_no(shop, 4)

    with pytest.raises(IllegalTransition, match="地址错误"), shop.store.write() as conn:
        lifecycle.edit(conn, no, {"address_detail": "新地址"}, PRESALE)


def test_warehouse_may_not_edit_the_address(shop):
    """A role outside the edit's roles is refused, naming the person."""
    with pytest.raises(PermissionDenied, match="仓管老周"), shop.store.write() as conn:
        lifecycle.edit(conn, order_no(shop, 2), {"province": "江苏省"}, WAREHOUSE)


def test_phone_confirmation_records_who_and_when_then_allows_approval_S16(shop):
    """S16: the COD order is released only after pre-sales confirms by phone; who and when are kept."""
    no = order_no(shop, 1)
    with pytest.raises(GuardFailed):
        shop.transition("order", no, "approve")

    with shop.store.write() as conn:
        lifecycle.edit(conn, no, {"phone_confirmed": True}, PRESALE)
    shop.transition("order", no, "approve")

    row = shop.orders().filter(pl.col("order_no") == no).row(0, named=True)
    assert (row["phone_confirmed_by"], row["stage"]) == ("客服小美", "approved")
    assert row["phone_confirmed_at"] is not None


def test_edit_on_a_stale_version_is_a_conflict(shop):
    """Editing what someone else changed since it was read gives Conflict."""
    no = order_no(shop, 2)
    with shop.store.write() as conn:
        lifecycle.edit(conn, no, {"seller_memo": "加急"}, PRESALE)

    with pytest.raises(Conflict), shop.store.write() as conn:
        lifecycle.edit(conn, no, {"seller_memo": "不急"}, PRESALE, expected_version=0)


def test_unknown_or_mixed_fields_are_refused(shop):
    """Only the listed fields are editable, one group at a time."""
    with pytest.raises(BadInput, match="paid_fen"), shop.store.write() as conn:
        lifecycle.edit(conn, order_no(shop, 2), {"paid_fen": 1}, PRESALE)
    with pytest.raises(BadInput), shop.store.write() as conn:
        lifecycle.edit(conn, order_no(shop, 2), {"seller_memo": "x", "province": "y"}, PRESALE)


def test_merge_marks_the_order_it_ships_with(shop):
    """合单: an open order can be merged into another, audited."""
    first, second = order_no(shop, 1), order_no(shop, 2)

    with shop.store.write() as conn:
        lifecycle.edit(conn, second, {"merged_into": first}, PRESALE, reason="同一买家同一地址")

    assert shop.orders().filter(pl.col("order_no") == second)["merged_into"][0] == first


def test_split_assigns_lines_to_parts_and_is_audited(tmp_path):
    """拆单: lines moved to part 2 ship separately; the audit names each line."""
    with kit.connect(str(tmp_path / "kit.db"), actor="店长") as shop:
        orders, lines = make_orders(1)  # an order of two lines
        shop.insert_orders(orders, lines, kind="test", source="split")
        no = orders["order_no"][0]

        with shop.store.write() as conn:
            change = lifecycle.split_lines(conn, no, {2: 2}, PRESALE, reason="预售商品晚到")
        with pytest.raises(BadInput), shop.store.write() as conn:
            lifecycle.split_lines(conn, no, {9: 2}, PRESALE)

        assert shop.lines([no])["ship_part"].to_list() == [1, 2]
        assert change.changes == (("line 2.ship_part", "1", "2"),)

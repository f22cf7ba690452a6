"""The lifecycle contract: every allowed change applies and is audited, forbidden ones are
refused with a clear message, roles are checked, guards hold (S16), audit is atomic."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from orders_factory import make_orders

import kit
from kit import lifecycle
from kit.errors import Conflict, GuardFailed, IllegalTransition, NotFound, PermissionDenied
from kit.models import HUMAN_ROLES, Role, StaffMember
from kit.store import schema

SUPERVISOR = StaffMember("主管甲", Role.SUPERVISOR)


def actor_for(tr: lifecycle.Transition) -> StaffMember:
    """A staff member whose role may perform the transition (a person when one may)."""
    human = sorted(r for r in tr.roles if r is not Role.SYSTEM)
    role = human[0] if human else Role.SYSTEM
    return StaffMember(f"员工-{role}", role)


def new_shop(url: str) -> kit.Shop:
    """A shop on an empty database, acting as the default supervisor."""
    return kit.connect(url, actor="店长")


def add_order(shop: kit.Shop, *, stage: str = "new", trade_status: str = "WAIT_SELLER_SEND_GOODS",
              payment_method: str = "online", start: int = 1, **overrides: object) -> str:
    """Register one order in the given state; return its number."""
    orders, lines = make_orders(1, stage=stage, trade_status=trade_status,
                                payment_method=payment_method, start=start)
    if overrides:
        orders = orders.with_columns(*[pl.lit(v).alias(k) for k, v in overrides.items()])
    shop.insert_orders(orders, lines, kind="test", source="test_lifecycle")
    return orders["order_no"][0]


def add_shipment(shop: kit.Shop, order_no: str, stage: str) -> int:
    """A shipment of the order in the given stage; return its id."""
    now = kit.clock.now()
    with shop.store.write() as conn:
        w = schema.warehouses
        if conn.execute(sa.select(w.c.code).where(w.c.code == "hq")).first() is None:
            conn.execute(w.insert().values(code="hq", name="总仓", kind="hq", province="浙江省"))
        return conn.execute(schema.shipments.insert().values(
            order_no=order_no, warehouse_code="hq", carrier_code="yto", ship_method="online_booking",
            stage=stage, created_at=now, updated_at=now,
        ).returning(schema.shipments.c.shipment_id)).scalar_one()


# the kind of case each action's guard accepts (the others take the first kind of their entity)
CASE_KIND = {("after_sale", "agree_return"): "return", ("after_sale", "complete"): "exchange",
             ("exception", "correct_address"): "wrong_address", ("exception", "receive_return"): "refused"}


def add_case(shop: kit.Shop, order_no: str, refund_status: str, kind: str = "refund") -> int:
    """An after-sale case of the order in the given refund status; return its id."""
    now = kit.clock.now()
    with shop.store.write() as conn:
        return conn.execute(schema.after_sales.insert().values(
            order_no=order_no, kind=kind, refund_status=refund_status, reason="quality",
            amount_fen=1000, created_at=now, updated_at=now,
        ).returning(schema.after_sales.c.case_id)).scalar_one()


def add_exception(shop: kit.Shop, order_no: str, state: str, kind: str = "lost") -> int:
    """A delivery exception case of the order's new shipment in the given state; return its id."""
    shipment_id = add_shipment(shop, order_no, "confirmed")
    now = kit.clock.now()
    with shop.store.write() as conn:
        return conn.execute(schema.exception_cases.insert().values(
            shipment_id=shipment_id, order_no=order_no, kind=kind, state=state, opened_by="测试",
            opened_at=now, updated_at=now,
        ).returning(schema.exception_cases.c.case_id)).scalar_one()


def record_in(shop: kit.Shop, tr: lifecycle.Transition, state: str, n: int) -> str | int:
    """A record of the transition's entity whose field is `state` (and passes its guards)."""
    if tr.entity == "order":
        if tr.field == "stage":
            return add_order(shop, stage=state, start=n)
        return add_order(shop, trade_status=state, start=n)
    order_no = add_order(shop, stage="allocated", start=n)
    if tr.entity == "shipment":
        return add_shipment(shop, order_no, state)
    if tr.entity == "exception":
        return add_exception(shop, order_no, state, CASE_KIND.get((tr.entity, tr.action), "lost"))
    return add_case(shop, order_no, state, CASE_KIND.get((tr.entity, tr.action), "refund"))


ALLOWED = [(tr, src) for tr in lifecycle.TRANSITIONS for src in sorted(tr.sources)]


@pytest.fixture(scope="module")
def shared_shop(tmp_path_factory: pytest.TempPathFactory) -> kit.Shop:
    """One SQLite shop for the many small transition tests of this module."""
    path = tmp_path_factory.mktemp("lifecycle") / "kit.db"
    return new_shop(str(path))


@pytest.mark.parametrize(("tr", "source"), ALLOWED,
                         ids=[f"{t.entity}.{t.action}:{s}" for t, s in ALLOWED])
def test_every_allowed_transition_changes_state_and_writes_audit(shared_shop, tr, source, request):
    """Each row of the transition table, from each of its sources, applies and is audited."""
    n = 10_000 + ALLOWED.index((tr, source)) * 10
    key = record_in(shared_shop, tr, source, n)
    actor = actor_for(tr)
    table, key_col = schema.ENTITY_TABLES[tr.entity]

    with shared_shop.store.write() as conn:
        change = lifecycle.apply(conn, tr.entity, key, tr.action, actor, reason="测试原因")

    with shared_shop.store.read() as conn:
        row = conn.execute(sa.select(table).where(table.c[key_col] == key)).mappings().one()
        trail = conn.execute(sa.select(schema.audit).where(
            schema.audit.c.entity == tr.entity, schema.audit.c.entity_id == str(key),
            schema.audit.c.action == tr.action)).mappings().all()
    assert row[tr.field] == tr.target
    assert row["version"] == 1
    assert change.changes[0] == (tr.field, source, tr.target)
    assert [(a["field"], a["from_state"], a["to_state"]) for a in trail] == list(change.changes)
    assert {a["actor"] for a in trail} == {actor.name}
    assert {a["role"] for a in trail} == {str(actor.role)}


FORBIDDEN = [
    ("order", "approve", "stage", "confirmed"),
    ("order", "hand_over", "stage", "new"),
    ("order", "confirm", "stage", "packed"),
    ("order", "pack", "stage", "approved"),
    ("order", "cancel", "stage", "handed_over"),
    ("order", "start_picking", "stage", "backordered"),
    ("order", "finish", "trade_status", "WAIT_BUYER_PAY"),
    ("order", "pay", "trade_status", "TRADE_FINISHED"),
    ("order", "buyer_sign", "trade_status", "WAIT_SELLER_SEND_GOODS"),
    ("shipment", "confirm", "stage", "allocated"),
    ("shipment", "hand_over", "stage", "picking"),
    ("after_sale", "refund", "refund_status", "CLOSED"),
    ("after_sale", "goods_returned", "refund_status", "WAIT_SELLER_AGREE"),
    ("exception", "claim", "state", "resolved"),
    ("exception", "receive_return", "state", "open"),
]


@pytest.mark.parametrize(("entity", "action", "field", "state"), FORBIDDEN)
def test_forbidden_transition_names_record_state_and_change(shared_shop, entity, action, field, state):
    """An illegal change raises IllegalTransition naming the record, its state and the change."""
    tr = lifecycle.transition(entity, action)
    key = record_in(shared_shop, tr, state, 50_000 + FORBIDDEN.index((entity, action, field, state)) * 10)

    with pytest.raises(IllegalTransition) as info, shared_shop.store.write() as conn:
        lifecycle.apply(conn, entity, key, action, actor_for(tr), reason="测试")

    message = info.value.message
    assert str(key) in message
    assert kit.i18n.t(f"action.{action}") in message
    assert lifecycle.label(entity, field, state) in message
    assert shared_shop.audit_trail(entity, str(key)).filter(pl.col("action") == action).height == 0


ROLE_CASES = [(tr, role) for tr in lifecycle.TRANSITIONS for role in sorted(HUMAN_ROLES)
              if role not in tr.roles]


@pytest.mark.parametrize(("tr", "role"), ROLE_CASES,
                         ids=[f"{t.entity}.{t.action}:{r}" for t, r in ROLE_CASES])
def test_role_without_permission_is_refused_before_anything_changes(shared_shop, tr, role):
    """A role outside the transition's roles gets PermissionDenied naming person and role."""
    key = record_in(shared_shop, tr, sorted(tr.sources)[0],
                    200_000 + ROLE_CASES.index((tr, role)) * 10)
    person = StaffMember("无权限员工", role)

    with pytest.raises(PermissionDenied) as info, shared_shop.store.write() as conn:
        lifecycle.apply(conn, tr.entity, key, tr.action, person, reason="测试")

    assert "无权限员工" in info.value.message
    assert role.label in info.value.message
    assert shared_shop.audit_trail(tr.entity, str(key)).filter(pl.col("action") == tr.action).height == 0


def test_analyst_may_change_nothing():
    """The analyst role is read-only: it appears in no transition."""
    assert all(Role.ANALYST not in tr.roles for tr in lifecycle.TRANSITIONS)


def test_online_order_not_fully_paid_is_not_approved_S16(shared_shop):
    """S16: online payment ships only once the full amount is confirmed."""
    order_no = add_order(shared_shop, start=300_001, paid_fen=100)

    with pytest.raises(GuardFailed) as info:
        shared_shop.transition("order", order_no, "approve")

    assert "1.00" in info.value.message
    assert shared_shop.order(order_no).stage == "new"


def test_cod_order_needs_phone_confirmation_before_approval_S16(shared_shop):
    """S16: cash on delivery is released only after customer service confirms by phone."""
    unconfirmed = add_order(shared_shop, start=300_011, payment_method="cod", phone_confirmed=False)
    confirmed = add_order(shared_shop, start=300_021, payment_method="cod", phone_confirmed=True)

    with pytest.raises(GuardFailed, match="电话确认"):
        shared_shop.transition("order", unconfirmed, "approve")
    shared_shop.transition("order", confirmed, "approve")

    assert shared_shop.order(unconfirmed).stage == "new"
    assert shared_shop.order(confirmed).stage == "approved"


def test_closed_trade_is_not_picked_or_handed_over(shared_shop):
    """A trade closed on the platform (refunded) cannot go on to the courier."""
    order_no = add_order(shared_shop, start=300_031, stage="packed", trade_status="TRADE_CLOSED")

    with pytest.raises(GuardFailed):
        shared_shop.transition("order", order_no, "hand_over")


def test_hold_needs_a_reason_and_keeps_it(shared_shop):
    """Holding an order needs a reason; the reasons stay on the order until approval."""
    order_no = add_order(shared_shop, start=300_041)

    with pytest.raises(GuardFailed):
        shared_shop.transition("order", order_no, "hold", reason="  ")
    shared_shop.transition("order", order_no, "hold", reason="地址不完整")

    assert shared_shop.order(order_no).hold_reasons == ("地址不完整",)
    shared_shop.transition("order", order_no, "approve")
    assert shared_shop.order(order_no).hold_reasons == ()


def test_platform_confirmation_moves_trade_status_too_S1b(shared_shop):
    """S1b: after confirmation the trade reads 'seller shipped, awaiting buyer confirmation'."""
    order_no = add_order(shared_shop, start=300_051, stage="handed_over")

    change = shared_shop.transition("order", order_no, "confirm")

    order = shared_shop.order(order_no)
    assert (order.stage, order.trade_status) == ("confirmed", "WAIT_BUYER_CONFIRM_GOODS")
    assert ("trade_status", "WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS") in change.changes
    trail = shared_shop.audit_trail("order", order_no).filter(pl.col("action") == "confirm")
    assert sorted(trail["field"].to_list()) == ["stage", "trade_status"]


def test_closing_a_trade_cancels_unshipped_fulfilment(shared_shop):
    """A trade closed before shipment cancels the shop's fulfilment of it."""
    order_no = add_order(shared_shop, start=300_061, stage="allocated")

    shared_shop.as_system("sync").transition("order", order_no, "close", reason="买家退款")

    order = shared_shop.order(order_no)
    assert (order.trade_status, order.stage) == ("TRADE_CLOSED", "cancelled")


def test_unknown_record_and_unknown_action_are_reported(shared_shop):
    """A missing order and an action the entity lacks each get their own clear error."""
    with pytest.raises(NotFound, match="999999"):
        shared_shop.transition("order", "999999", "approve")
    with pytest.raises(kit.errors.BadInput, match="fly"):
        shared_shop.transition("order", "999999", "fly")


def test_nobody_acting_may_change_nothing(shared_shop):
    """A shop opened without an actor can read but not change a state."""
    order_no = add_order(shared_shop, start=300_071)
    anonymous = kit.Shop(shared_shop.store, shared_shop.config)

    with pytest.raises(PermissionDenied):
        anonymous.transition("order", order_no, "approve")


def test_offered_transitions_follow_role_and_state():
    """transitions_for tells a UI which buttons a role may see in a state."""
    offered = {tr.action for tr in lifecycle.transitions_for("order", "new", Role.PRESALE)}

    assert offered == {"approve", "hold", "cancel"}
    assert lifecycle.transitions_for("order", "new", Role.ANALYST) == []


def _sabotage_audit(store: kit.store.Store) -> None:
    """Make every audit insert fail, as a full disk or a lost connection would."""
    with store.write() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("CREATE TRIGGER audit_down BEFORE INSERT ON audit "
                                 "BEGIN SELECT RAISE(ABORT, 'audit down'); END")
        else:
            conn.exec_driver_sql("CREATE FUNCTION audit_down() RETURNS trigger AS $$ BEGIN "
                                 "RAISE EXCEPTION 'audit down'; END $$ LANGUAGE plpgsql")
            conn.exec_driver_sql("CREATE TRIGGER audit_down BEFORE INSERT ON audit "
                                 "FOR EACH ROW EXECUTE FUNCTION audit_down()")


def test_state_change_and_audit_commit_together(db_url):
    """When the audit row cannot be written, the state change is rolled back with it."""
    shop = new_shop(db_url)
    order_no = add_order(shop)
    _sabotage_audit(shop.store)

    with pytest.raises(sa.exc.DBAPIError):
        shop.transition("order", order_no, "approve")

    order = shop.order(order_no)
    assert (order.stage, order.version) == ("new", 0)
    shop.close()


def test_state_change_rolls_back_with_the_callers_transaction(db_url):
    """A transition inside a transaction that fails later leaves neither state nor audit."""
    shop = new_shop(db_url)
    order_no = add_order(shop)

    with pytest.raises(RuntimeError), shop.store.write() as conn:
        lifecycle.apply(conn, "order", order_no, "approve", SUPERVISOR)
        raise RuntimeError("later step failed")

    assert shop.order(order_no).stage == "new"
    assert shop.audit_trail("order", order_no).height == 0
    shop.close()


def test_stale_version_is_a_conflict(tmp_path: Path):
    """Acting on what one saw: a changed version gives Conflict naming who changed it."""
    shop = new_shop(str(tmp_path / "kit.db"))
    order_no = add_order(shop)
    seen = shop.order(order_no).version
    shop.transition("order", order_no, "hold", reason="核对地址")

    with pytest.raises(Conflict) as info:
        shop.transition("order", order_no, "approve", expected_version=seen)

    assert "店长" in info.value.message
    assert shop.order(order_no).stage == "held"

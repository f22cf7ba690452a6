"""The only place an order, a shipment or an after-sale case changes state.

Each change is a row of TRANSITIONS: which entity and field it moves, from which states
to which, who may do it, and the guards that must hold. `apply` checks the actor's role,
the state and the guards, writes the change as one guarded UPDATE (the record's version
must still be the one read) and the audit rows in the same transaction. When two people
act on one record at once, exactly one UPDATE matches; the other raises Conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput, Conflict, GuardFailed, IllegalTransition, NotFound, PermissionDenied
from kit.i18n import t
from kit.models import RefundStatus, Role, ShipmentStage, StaffMember, Stage, TradeStatus
from kit.store.schema import ENTITY_TABLES, audit

__all__ = ["TRANSITIONS", "Change", "Transition", "apply", "transition", "transitions_for"]

Row = Mapping[str, Any]
Guard = Callable[[Row], tuple[str, dict[str, Any]] | None]
Effect = Callable[[Row, str | None, datetime], dict[str, Any]]

# --- guards: each returns None when the rule holds, else (message key, values) ---------

PAYABLE_STATES = {TradeStatus.WAIT_SELLER_SEND_GOODS, TradeStatus.SELLER_CONSIGNED_PART}


def paid_or_cod_confirmed(row: Row) -> tuple[str, dict[str, Any]] | None:
    """S16: online orders ship once fully paid; COD orders once confirmed by phone."""
    if row["trade_status"] not in PAYABLE_STATES:
        return "guard.trade_not_shippable", {"trade_status": TradeStatus(row["trade_status"]).label}
    if row["payment_method"] == "cod":
        if not row["phone_confirmed"]:
            return "guard.cod_not_confirmed", {}
    elif row["paid_fen"] < row["payable_fen"]:
        return "guard.not_fully_paid", {
            "paid": f"{row['paid_fen'] / 100:.2f}",
            "payable": f"{row['payable_fen'] / 100:.2f}",
        }
    return None


def trade_still_shippable(row: Row) -> tuple[str, dict[str, Any]] | None:
    """A closed or already-shipped trade is not picked, packed or handed over again."""
    if row["trade_status"] not in PAYABLE_STATES:
        return "guard.trade_not_shippable", {"trade_status": TradeStatus(row["trade_status"]).label}
    return None


# --- effects: other columns written in the same UPDATE ---------------------------------


def add_hold_reason(row: Row, reason: str | None, _now: datetime) -> dict[str, Any]:
    """Append the reason to the order's hold reasons, one per line."""
    reasons = [r for r in (row.get("hold_reasons") or "").split("\n") if r]
    if reason and reason not in reasons:
        reasons.append(reason)
    return {"hold_reasons": "\n".join(reasons)}


def clear_hold_reasons(_row: Row, _reason: str | None, _now: datetime) -> dict[str, Any]:
    """Approval resolves every hold reason (the audit keeps them)."""
    return {"hold_reasons": None}


def stamp(column: str) -> Effect:
    """An effect that records the moment of the change in `column`."""

    def effect(_row: Row, _reason: str | None, now: datetime) -> dict[str, Any]:
        return {column: now}

    effect.__name__ = f"stamp_{column}"
    return effect


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One allowed change: entity.field goes from one of `sources` to `target`."""

    entity: str
    action: str
    field: str
    sources: frozenset[str]
    target: str
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    needs_reason: bool = False
    also: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # field → {from: to}
    effects: tuple[Effect, ...] = ()


P, A, W, L, S, SYS = (Role.PRESALE, Role.AFTERSALE, Role.WAREHOUSE, Role.LOGISTICS,
                      Role.SUPERVISOR, Role.SYSTEM)
ST, TS, SS, RS = Stage, TradeStatus, ShipmentStage, RefundStatus
PRE_SHIPMENT = {ST.NEW, ST.HELD, ST.APPROVED, ST.BACKORDERED, ST.ALLOCATED, ST.PICKING, ST.PACKED}
OPEN_TRADE = {TS.WAIT_BUYER_PAY, TS.PAID_FORBID_CONSIGN, TS.WAIT_SELLER_SEND_GOODS,
              TS.SELLER_CONSIGNED_PART, TS.WAIT_BUYER_CONFIRM_GOODS, TS.TRADE_BUYER_SIGNED}


def _t(entity: str, action: str, fld: str, sources: set, target: str, roles: set, **kw: Any) -> Transition:
    return Transition(entity, action, fld, frozenset(str(s) for s in sources), str(target),
                      frozenset(roles), **kw)


TRANSITIONS: tuple[Transition, ...] = (
    # order fulfilment stage (the shop's own work)
    _t("order", "approve", "stage", {ST.NEW, ST.HELD}, ST.APPROVED, {P, S, SYS},
       guards=(paid_or_cod_confirmed,), effects=(clear_hold_reasons,)),
    _t("order", "hold", "stage", {ST.NEW, ST.APPROVED}, ST.HELD, {P, A, S, SYS},
       needs_reason=True, effects=(add_hold_reason,)),
    _t("order", "allocate", "stage", {ST.APPROVED, ST.BACKORDERED}, ST.ALLOCATED, {A, W, S, SYS},
       guards=(trade_still_shippable,)),
    _t("order", "backorder", "stage", {ST.APPROVED, ST.PICKING}, ST.BACKORDERED, {W, S, SYS},
       needs_reason=True),
    _t("order", "deallocate", "stage", {ST.ALLOCATED}, ST.APPROVED, {W, S, SYS}),
    _t("order", "start_picking", "stage", {ST.ALLOCATED}, ST.PICKING, {W, L, S},
       guards=(trade_still_shippable,)),
    _t("order", "pack", "stage", {ST.PICKING}, ST.PACKED, {W, L, A, S},
       guards=(trade_still_shippable,)),
    _t("order", "hand_over", "stage", {ST.PACKED}, ST.HANDED_OVER, {L, W, S},
       guards=(trade_still_shippable,)),
    _t("order", "confirm", "stage", {ST.HANDED_OVER}, ST.CONFIRMED, {P, L, S, SYS},
       also={"trade_status": {TS.WAIT_SELLER_SEND_GOODS: TS.WAIT_BUYER_CONFIRM_GOODS,
                              TS.SELLER_CONSIGNED_PART: TS.WAIT_BUYER_CONFIRM_GOODS}}),
    _t("order", "cancel", "stage", PRE_SHIPMENT, ST.CANCELLED, {P, A, S, SYS}, needs_reason=True),
    # order trade status (the platform's view; mostly synchronised, sometimes set by staff)
    _t("order", "pay", "trade_status", {TS.WAIT_BUYER_PAY}, TS.WAIT_SELLER_SEND_GOODS, {S, SYS}),
    _t("order", "pay_forbid_consign", "trade_status", {TS.WAIT_BUYER_PAY},
       TS.PAID_FORBID_CONSIGN, {S, SYS}),
    _t("order", "allow_consign", "trade_status", {TS.PAID_FORBID_CONSIGN},
       TS.WAIT_SELLER_SEND_GOODS, {S, SYS}),
    _t("order", "consign_part", "trade_status", {TS.WAIT_SELLER_SEND_GOODS},
       TS.SELLER_CONSIGNED_PART, {P, L, S, SYS}),
    _t("order", "consign", "trade_status", {TS.WAIT_SELLER_SEND_GOODS, TS.SELLER_CONSIGNED_PART},
       TS.WAIT_BUYER_CONFIRM_GOODS, {P, L, S, SYS}),
    _t("order", "buyer_sign", "trade_status", {TS.WAIT_BUYER_CONFIRM_GOODS},
       TS.TRADE_BUYER_SIGNED, {A, L, S, SYS}),
    _t("order", "finish", "trade_status", {TS.WAIT_BUYER_CONFIRM_GOODS, TS.TRADE_BUYER_SIGNED},
       TS.TRADE_FINISHED, {A, S, SYS}),
    _t("order", "close", "trade_status", OPEN_TRADE, TS.TRADE_CLOSED, {A, S, SYS},
       needs_reason=True, also={"stage": {s: ST.CANCELLED for s in PRE_SHIPMENT}}),
    _t("order", "close_by_platform", "trade_status", {TS.WAIT_BUYER_PAY},
       TS.TRADE_CLOSED_BY_TAOBAO, {SYS}, also={"stage": {s: ST.CANCELLED for s in PRE_SHIPMENT}}),
    # shipment stage
    _t("shipment", "start_picking", "stage", {SS.ALLOCATED}, SS.PICKING, {W, L, S}),
    _t("shipment", "pack", "stage", {SS.PICKING}, SS.PACKED, {W, L, A, S}),
    _t("shipment", "hand_over", "stage", {SS.PACKED}, SS.HANDED_OVER, {L, W, S},
       effects=(stamp("handed_over_at"),)),
    _t("shipment", "confirm", "stage", {SS.HANDED_OVER}, SS.CONFIRMED, {P, L, S, SYS},
       effects=(stamp("confirmed_at"),)),
    _t("shipment", "cancel", "stage", {SS.ALLOCATED, SS.PICKING, SS.PACKED}, SS.CANCELLED,
       {W, L, A, S, SYS}, needs_reason=True),
    # after-sale case (Taobao's refund codes)
    _t("after_sale", "agree_return", "refund_status", {RS.WAIT_SELLER_AGREE},
       RS.WAIT_BUYER_RETURN_GOODS, {A, S}),
    _t("after_sale", "goods_returned", "refund_status", {RS.WAIT_BUYER_RETURN_GOODS},
       RS.WAIT_SELLER_CONFIRM_GOODS, {A, W, S, SYS}),
    _t("after_sale", "refund", "refund_status",
       {RS.WAIT_SELLER_AGREE, RS.WAIT_SELLER_CONFIRM_GOODS}, RS.SUCCESS, {A, S}),
    _t("after_sale", "refuse", "refund_status",
       {RS.WAIT_SELLER_AGREE, RS.WAIT_SELLER_CONFIRM_GOODS}, RS.SELLER_REFUSE_BUYER, {A, S},
       needs_reason=True),
    _t("after_sale", "reopen", "refund_status", {RS.SELLER_REFUSE_BUYER}, RS.WAIT_SELLER_AGREE,
       {A, S, SYS}),
    _t("after_sale", "close", "refund_status",
       {RS.WAIT_SELLER_AGREE, RS.WAIT_BUYER_RETURN_GOODS, RS.WAIT_SELLER_CONFIRM_GOODS,
        RS.SELLER_REFUSE_BUYER}, RS.CLOSED, {A, S, SYS}, needs_reason=True),
)

_BY_KEY: dict[tuple[str, str], Transition] = {(t.entity, t.action): t for t in TRANSITIONS}


def transition(entity: str, action: str) -> Transition:
    """The transition named `action` of `entity`; BadInput when there is none."""
    try:
        return _BY_KEY[(entity, action)]
    except KeyError:
        known = ", ".join(a for (e, a) in _BY_KEY if e == entity)
        raise BadInput("lifecycle.unknown_action", entity=entity, action=action, known=known) from None


def transitions_for(entity: str, state: str, role: Role | None = None) -> list[Transition]:
    """The changes possible from `state` (for `role`, if given): what a UI may offer."""
    return [
        tr for tr in TRANSITIONS
        if tr.entity == entity and state in tr.sources and (role is None or role in tr.roles)
    ]


# --- applying a change ----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What one applied transition changed."""

    entity: str
    key: str
    action: str
    changes: tuple[tuple[str, str, str], ...]  # (field, from, to)
    version: int
    at: datetime


def _label(entity: str, fld: str, state: str) -> str:
    prefix = {"stage": f"{entity}_stage" if entity == "shipment" else "stage"}.get(fld, fld)
    return t(f"{prefix}.{state}")


def _last_change(conn: sa.Connection, entity: str, key: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(audit.c.actor, audit.c.at, audit.c.action)
        .where(audit.c.entity == entity, audit.c.entity_id == key)
        .order_by(audit.c.audit_id.desc())
        .limit(1)
    ).mappings().first()
    if row is None:
        return {"by": "?", "at": "?"}
    return {"by": row["actor"], "at": row["at"].strftime("%H:%M:%S")}


def apply(
    conn: sa.Connection,
    entity: str,
    key: str | int,
    action: str,
    actor: StaffMember,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Apply one transition inside the caller's write transaction, with its audit rows."""
    tr = transition(entity, action)
    action_label = t(f"action.{action}")
    if not actor.active or actor.role not in tr.roles:
        raise PermissionDenied(
            "lifecycle.permission_denied", actor=actor.name, role=Role(actor.role).label,
            action=action_label, allowed="、".join(sorted(r.label for r in tr.roles if r is not SYS)),
        )
    if tr.needs_reason and not (reason and reason.strip()):
        raise GuardFailed("lifecycle.reason_required", action=action_label)
    table, key_col = ENTITY_TABLES[entity]
    key_value = int(key) if entity != "order" else str(key)
    entity_label = t(f"entity.{entity}")
    row = conn.execute(sa.select(table).where(table.c[key_col] == key_value)).mappings().first()
    if row is None:
        raise NotFound("lifecycle.not_found", entity=entity_label, key=key)
    if expected_version is not None and row["version"] != expected_version:
        raise Conflict("lifecycle.conflict_changed", entity=entity_label, key=key,
                       state=_label(entity, tr.field, row[tr.field]),
                       **_last_change(conn, entity, str(key)))
    current = row[tr.field]
    if current not in tr.sources:
        if current == tr.target:
            raise Conflict("lifecycle.conflict_already", entity=entity_label, key=key,
                           state=_label(entity, tr.field, current), action=action_label,
                           **_last_change(conn, entity, str(key)))
        raise IllegalTransition(
            "lifecycle.illegal", entity=entity_label, key=key, action=action_label,
            state=_label(entity, tr.field, current), target=_label(entity, tr.field, tr.target),
            allowed="、".join(_label(entity, tr.field, s) for s in sorted(tr.sources)),
        )
    for guard in tr.guards:
        refusal = guard(row)
        if refusal is not None:
            msg_key, params = refusal
            raise GuardFailed(msg_key, entity=entity_label, key=key, action=action_label, **params)

    moment = now or clock.now()
    changes = [(tr.field, current, tr.target)]
    for fld, mapping in tr.also.items():
        before = row[fld]
        if before in mapping and mapping[before] != before:
            changes.append((fld, before, str(mapping[before])))
    values: dict[str, Any] = {fld: to for fld, _, to in changes}
    for effect in tr.effects:
        values.update(effect(row, reason, moment))
    values.update(version=row["version"] + 1, updated_at=moment)
    guard_clause = [table.c[key_col] == key_value, table.c.version == row["version"]]
    guard_clause += [table.c[fld] == before for fld, before, _ in changes]
    result = conn.execute(sa.update(table).where(*guard_clause).values(**values))
    if result.rowcount != 1:
        latest = conn.execute(sa.select(table).where(table.c[key_col] == key_value)).mappings().first()
        raise Conflict("lifecycle.conflict_changed", entity=entity_label, key=key,
                       state=_label(entity, tr.field, latest[tr.field]) if latest else "?",
                       **_last_change(conn, entity, str(key)))
    conn.execute(audit.insert(), [
        {"at": moment, "actor": actor.name, "role": str(actor.role), "entity": entity,
         "entity_id": str(key), "action": action, "field": fld, "from_state": before,
         "to_state": to, "reason": reason}
        for fld, before, to in changes
    ])
    return Change(entity, str(key), action, tuple(changes), row["version"] + 1, moment)

"""Field edits that are not state changes (address, phone, memo, present flag, carrier, the
COD phone confirmation): the same role check, version guard and audit as a transition,
with the old value kept in the audit row (S24a: errors fixed with the buyer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput, Conflict, IllegalTransition, NotFound
from kit.i18n import t
from kit.lifecycle.apply import Change, check_role, label, last_changes
from kit.models import Role, StaffMember, Stage
from kit.store.schema import ENTITY_TABLES, audit, order_lines

P, A, W, L, S = Role.PRESALE, Role.AFTERSALE, Role.WAREHOUSE, Role.LOGISTICS, Role.SUPERVISOR
BEFORE_ALLOCATION = frozenset(str(s) for s in (Stage.NEW, Stage.HELD, Stage.APPROVED))
BEFORE_HANDOVER = frozenset(str(s) for s in (Stage.NEW, Stage.HELD, Stage.APPROVED, Stage.BACKORDERED,
                                             Stage.ALLOCATED, Stage.PICKING, Stage.PACKED))


@dataclass(frozen=True)
class EditRule:
    """Which columns an edit group may change, who may, and in which stages."""

    group: str
    columns: tuple[str, ...]
    roles: frozenset[Role]
    stages: frozenset[str] | None  # None: in any stage


EDITS: tuple[EditRule, ...] = (
    EditRule("address", ("receiver_name", "receiver_mobile", "receiver_phone", "province", "city",
                         "district", "address_detail", "postcode"), frozenset({P, A, S}), BEFORE_HANDOVER),
    EditRule("memo", ("seller_memo",), frozenset({P, A, W, L, S}), None),
    EditRule("present", ("no_price_slip",), frozenset({P, A, S}), BEFORE_HANDOVER),
    EditRule("carrier", ("carrier_code",), frozenset({P, L, S}), BEFORE_HANDOVER),
    EditRule("phone_confirmation", ("phone_confirmed",), frozenset({P, S}),
             frozenset({str(Stage.NEW), str(Stage.HELD)})),
    EditRule("merge", ("merged_into",), frozenset({P, A, S}), BEFORE_ALLOCATION),
)
_BY_COLUMN = {c: rule for rule in EDITS for c in rule.columns}


def rule_for(columns: list[str]) -> EditRule:
    """The one edit group that holds all these columns; BadInput otherwise."""
    rules = {_BY_COLUMN.get(c) for c in columns}
    if None in rules or len(rules) != 1:
        unknown = [c for c in columns if c not in _BY_COLUMN] or columns
        raise BadInput("lifecycle.edit_unknown", fields=", ".join(unknown),
                       known=", ".join(sorted(_BY_COLUMN)))
    return rules.pop()  # type: ignore[return-value]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def edit(
    conn: sa.Connection, key: str, values: dict[str, Any], actor: StaffMember, *,
    reason: str | None = None, expected_version: int | None = None, now: datetime | None = None,
) -> Change:
    """Change some fields of one order inside the caller's write transaction, audited."""
    rule = rule_for(list(values))
    action_label = t(f"edit.{rule.group}")
    check_role(actor, rule.roles, action_label)
    table, key_col = ENTITY_TABLES["order"]
    stmt = sa.select(table).where(table.c[key_col] == key)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    entity_label = t("entity.order")
    if row is None:
        raise NotFound("lifecycle.not_found", entity=entity_label, key=key)
    if expected_version is not None and row["version"] != expected_version:
        raise Conflict("lifecycle.conflict_changed", entity=entity_label, key=key,
                       state=label("order", "stage", row["stage"]),
                       **last_changes(conn, "order", [key]).get(key, {"by": "?", "at": "?"}))
    if rule.stages is not None and row["stage"] not in rule.stages:
        raise IllegalTransition("lifecycle.edit_not_now", entity=entity_label, key=key,
                                action=action_label, state=label("order", "stage", row["stage"]))
    moment = now or clock.now()
    changed = {c: v for c, v in values.items() if row[c] != v}
    extra: dict[str, Any] = {}
    if rule.group == "phone_confirmation":
        extra = {"phone_confirmed_by": actor.name if values["phone_confirmed"] else None,
                 "phone_confirmed_at": moment if values["phone_confirmed"] else None}
    if not changed:
        return Change("order", key, f"edit_{rule.group}", (), row["version"], moment)
    result = conn.execute(
        sa.update(table).where(table.c[key_col] == key, table.c.version == row["version"])
        .values(**changed, **extra, version=row["version"] + 1, updated_at=moment))
    if result.rowcount != 1:
        raise Conflict("lifecycle.conflict_changed", entity=entity_label, key=key, state="?",
                       **last_changes(conn, "order", [key]).get(key, {"by": "?", "at": "?"}))
    trail = [(c, _text(row[c]), _text(v)) for c, v in changed.items()]
    conn.execute(audit.insert(), [
        {"at": moment, "actor": actor.name, "role": str(actor.role), "entity": "order",
         "entity_id": key, "action": f"edit_{rule.group}", "field": c, "from_state": old,
         "to_state": new, "reason": reason}
        for c, old, new in trail
    ])
    return Change("order", key, f"edit_{rule.group}", tuple(trail), row["version"] + 1, moment)


SPLIT_ROLES = frozenset({P, A, S})


def split_lines(
    conn: sa.Connection, key: str, parts: dict[int, int], actor: StaffMember, *,
    reason: str | None = None, expected_version: int | None = None, now: datetime | None = None,
) -> Change:
    """Assign order lines to ship parts (拆单: part 2 ships separately), before allocation."""
    check_role(actor, SPLIT_ROLES, t("edit.split"))
    table, key_col = ENTITY_TABLES["order"]
    stmt = sa.select(table.c.stage, table.c.version).where(table.c[key_col] == key)
    row = conn.execute(stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt).first()
    entity_label = t("entity.order")
    if row is None:
        raise NotFound("lifecycle.not_found", entity=entity_label, key=key)
    if expected_version is not None and row.version != expected_version:
        raise Conflict("lifecycle.conflict_changed", entity=entity_label, key=key,
                       state=label("order", "stage", row.stage),
                       **last_changes(conn, "order", [key]).get(key, {"by": "?", "at": "?"}))
    if row.stage not in BEFORE_ALLOCATION:
        raise IllegalTransition("lifecycle.edit_not_now", entity=entity_label, key=key,
                                action=t("edit.split"), state=label("order", "stage", row.stage))
    lines = {r.line_no: r.ship_part for r in conn.execute(
        sa.select(order_lines.c.line_no, order_lines.c.ship_part).where(order_lines.c.order_no == key))}
    unknown = sorted(set(parts) - set(lines))
    bad = sorted(p for p in parts.values() if p < 1)
    if unknown or bad:
        raise BadInput("lifecycle.split_bad", key=key, lines=", ".join(map(str, unknown or bad)))
    moment = now or clock.now()
    trail = [(f"line {n}.ship_part", str(lines[n]), str(p)) for n, p in sorted(parts.items())
             if lines[n] != p]
    for n, p in parts.items():
        conn.execute(sa.update(order_lines).where(order_lines.c.order_no == key,
                                                  order_lines.c.line_no == n).values(ship_part=p))
    conn.execute(sa.update(table).where(table.c[key_col] == key)
                 .values(version=row.version + 1, updated_at=moment))
    if trail:
        conn.execute(audit.insert(), [
            {"at": moment, "actor": actor.name, "role": str(actor.role), "entity": "order",
             "entity_id": key, "action": "split", "field": f, "from_state": old, "to_state": new,
             "reason": reason} for f, old, new in trail])
    return Change("order", key, "split", tuple(trail), row.version + 1, moment)

"""Applying transitions: one record or a hundred thousand, by the same whole-column code.

Inside the caller's write transaction: the actor's role is checked once, the records
are read (locked FOR UPDATE on PostgreSQL; SQLite's write lock is already held), every
state and guard is checked on the whole frame, the accepted rows are written by one
UPDATE per row guarded by the version read, and the audit rows by one bulk insert.
A refused row is reported with the error staff would see; `apply` raises it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from kit import clock
from kit.errors import Conflict, GuardFailed, IllegalTransition, KitError, NotFound, PermissionDenied
from kit.i18n import t
from kit.lifecycle import followups
from kit.lifecycle.table import Transition, transition
from kit.models import Role, StaffMember
from kit.store.frames import insert_frame, read_by_keys, read_frame, update_frame
from kit.store.schema import ENTITY_TABLES, audit

__all__ = [
    "BulkResult",
    "Change",
    "Planned",
    "apply",
    "apply_many",
    "audit_rows",
    "check_role",
    "label",
    "last_changes",
    "plan_many",
    "read_rows",
]

CHUNK = 5_000  # keys per IN (...) list
_ERRORS: dict[str, type[KitError]] = {
    "lifecycle.not_found": NotFound,
    "lifecycle.conflict_changed": Conflict,
    "lifecycle.conflict_already": Conflict,
    "lifecycle.illegal": IllegalTransition,
    "lifecycle.reason_required": GuardFailed,
}


_LABELS = {("shipment", "stage"): "shipment_stage", ("exception", "state"): "exception_state"}


@dataclass(frozen=True)
class Change:
    """What one applied transition changed."""

    entity: str
    key: str
    action: str
    changes: tuple[tuple[str, str, str], ...]  # (field, from, to)
    version: int
    at: datetime


@dataclass(frozen=True)
class BulkResult:
    """What a bulk transition did: the audit rows written, and each refused key with why."""

    action: str
    applied: pl.DataFrame  # key, version, plus one (field, from_state, to_state) audit row each
    refused: list[tuple[str, KitError]]
    at: datetime

    @property
    def keys_applied(self) -> list[str]:
        """The keys that changed, once each."""
        return self.applied["key"].unique(maintain_order=True).to_list()


def label(entity: str, field: str, state: str) -> str:
    """A state's name for staff (shipment stages have their own names)."""
    prefix = _LABELS.get((entity, field), field)
    return t(f"{prefix}.{state}")


def check_role(actor: StaffMember, roles: Iterable[Role], action_label: str) -> None:
    """PermissionDenied unless the actor is active and holds one of the roles."""
    roles = frozenset(roles)
    if not actor.active or actor.role not in roles:
        raise PermissionDenied(
            "lifecycle.permission_denied",
            actor=actor.name,
            role=Role(actor.role).label,
            action=action_label,
            allowed="、".join(sorted(r.label for r in roles if r is not Role.SYSTEM)),
        )


def read_rows(conn: sa.Connection, entity: str, keys: list[Any]) -> pl.DataFrame:
    """The records with these keys, locked for the transaction on PostgreSQL (in key order)."""
    table, key_col = ENTITY_TABLES[entity]
    if conn.dialect.name != "postgresql":  # SQLite: the write transaction already holds the lock
        return read_by_keys(conn, table, [c.name for c in table.columns], key_col, keys)
    # the keys travel as one array parameter (= ANY), not one placeholder each; locked in key order
    array = sa.bindparam("_keys", value=list(keys), type_=postgresql.ARRAY(table.c[key_col].type))
    stmt = (
        sa.select(table)
        .where(table.c[key_col] == sa.any_(array))
        .order_by(table.c[key_col])
        .with_for_update()
    )
    return read_frame(conn, stmt)


def last_changes(conn: sa.Connection, entity: str, keys: list[str]) -> dict[str, dict[str, str]]:
    """Who last changed each record and when (HH:MM:SS), for conflict messages."""
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(keys), CHUNK):
        rows = conn.execute(
            sa.select(audit.c.entity_id, audit.c.actor, audit.c.at)
            .where(audit.c.entity == entity, audit.c.entity_id.in_(keys[start : start + CHUNK]))
            .order_by(audit.c.audit_id)
        )
        for key, actor, at in rows:
            found[key] = {"by": actor, "at": at.strftime("%H:%M:%S")}
    return found


def _requests(entity: str, keys: Any, reason: str | None, expected_version: int | None) -> pl.DataFrame:
    """Keys (a list, a Series, or a frame with key / reason / expected_version) as one frame."""
    key_dtype = pl.String() if entity == "order" else pl.Int64()
    if isinstance(keys, pl.DataFrame) and "_reason" in keys.columns:  # already a request frame
        return keys
    if isinstance(keys, pl.DataFrame):
        frame = keys.rename({c: f"_{c}" for c in ("reason", "expected_version") if c in keys.columns})
    else:
        frame = pl.DataFrame({"key": list(keys) if not isinstance(keys, pl.Series) else keys})
    if "_reason" not in frame.columns:
        frame = frame.with_columns(pl.lit(reason, dtype=pl.String).alias("_reason"))
    if "_expected_version" not in frame.columns:
        frame = frame.with_columns(pl.lit(expected_version, dtype=pl.Int64).alias("_expected_version"))
    return frame.select(pl.col("key").cast(key_dtype), "_reason", "_expected_version").unique(
        "key", keep="first", maintain_order=True
    )


def _refusals(tr: Transition) -> pl.Expr:
    """Per row, the message key of the first rule it breaks, or null."""
    state = pl.col(tr.field)
    elsewhere = ~state.is_in(list(tr.sources))
    refusal = (
        pl.when(pl.col("_found").is_null())
        .then(pl.lit("lifecycle.not_found"))
        .when(pl.col("_expected_version").is_not_null() & (pl.col("_expected_version") != pl.col("version")))
        .then(pl.lit("lifecycle.conflict_changed"))
        .when(elsewhere & (state == tr.target))
        .then(pl.lit("lifecycle.conflict_already"))
        .when(elsewhere)
        .then(pl.lit("lifecycle.illegal"))
    )
    if tr.needs_reason:
        refusal = refusal.when(pl.col("_reason").fill_null("").str.strip_chars() == "").then(
            pl.lit("lifecycle.reason_required")
        )
    for i in range(len(tr.guards)):  # the guards' own columns, computed beforehand
        refusal = refusal.when(pl.col(f"_g{i}").is_not_null()).then(pl.col(f"_g{i}"))
    return refusal.otherwise(pl.lit(None, dtype=pl.String))


def _error(tr: Transition, row: dict[str, Any], last: dict[str, str]) -> KitError:
    """The error staff see for one refused row."""
    key, entity_label, action_label = row["key"], t(f"entity.{tr.entity}"), t(f"action.{tr.action}")
    code = row["_refusal"]
    state = label(tr.entity, tr.field, row[tr.field]) if row.get(tr.field) else "?"
    common = {"entity": entity_label, "key": key, "action": action_label, "state": state}
    if code == "lifecycle.illegal":
        return IllegalTransition(
            code,
            target=label(tr.entity, tr.field, tr.target),
            allowed="、".join(label(tr.entity, tr.field, s) for s in sorted(tr.sources)),
            **common,
        )
    if code in _ERRORS:
        return _ERRORS[code](code, **common, **last.get(str(key), {"by": "?", "at": "?"}))
    broken = next(g for i, g in enumerate(tr.guards) if row[f"_g{i}"] == code)
    return GuardFailed(code, **common, **broken.params(row))


@dataclass(frozen=True)
class Planned:
    """A transition decided on rows in memory, not yet written: the rows with their new values,
    the audit rows, and the refusals."""

    entity: str
    action: str
    rows: pl.DataFrame  # accepted records, every column holding its new value
    columns: list[str]  # the columns the change writes
    trail: pl.DataFrame  # key, version, field, from_state, to_state, reason
    refused: list[tuple[str, KitError]]
    at: datetime

    def audit_rows(self, actor: StaffMember) -> pl.DataFrame:
        """The trail as rows of the audit table."""
        return audit_rows(
            self.trail.rename({"key": "entity_id"}).drop("version"), actor, self.at, self.entity, self.action
        )


def audit_rows(
    changes: pl.DataFrame, actor: StaffMember, at: datetime, entity: str, action: str
) -> pl.DataFrame:
    """Rows of the audit table for a frame of changes: `entity_id`, and any of `field`,
    `from_state`, `to_state`, `reason`, `batch_id` (the others stay empty)."""
    optional = [c for c in ("field", "from_state", "to_state", "reason", "batch_id") if c in changes.columns]
    return changes.select(
        pl.lit(at, dtype=pl.Datetime("us")).alias("at"),
        pl.lit(actor.name).alias("actor"),
        pl.lit(str(actor.role)).alias("role"),
        pl.lit(entity).alias("entity"),
        pl.col("entity_id").cast(pl.String),
        pl.lit(action).alias("action"),
        *optional,
    )


def plan_many(
    entity: str,
    keys: Any,
    action: str,
    actor: StaffMember,
    rows: pl.DataFrame,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    last: dict[str, dict[str, str]] | None = None,
) -> Planned:
    """Decide a transition on records held in memory: role, states, guards, new values, audit.

    `rows` are the records as they stand (read in the caller's transaction, or about to be
    inserted); nothing is written. `last` names who last changed each record, for
    conflict messages.
    """
    tr = transition(entity, action)
    check_role(actor, tr.roles, t(f"action.{action}"))
    _, key_col = ENTITY_TABLES[entity]
    requests = _requests(entity, keys, reason, expected_version)
    joined = requests.join(
        rows.with_columns(pl.lit(True).alias("_found")),
        left_on="key",
        right_on=key_col,
        how="left",
        maintain_order="left",
    )
    joined = joined.with_columns(*[g.refusal().alias(f"_g{i}") for i, g in enumerate(tr.guards)])
    joined = joined.with_columns(_refusals(tr).alias("_refusal"))
    refused = [
        (str(r["key"]), _error(tr, r, last or {}))
        for r in joined.filter(pl.col("_refusal").is_not_null()).iter_rows(named=True)
    ]
    ok = joined.filter(pl.col("_refusal").is_null())
    moment = now or clock.now()
    new_values: dict[str, pl.Expr] = {tr.field: pl.lit(tr.target)}
    for fld, mapping in tr.also.items():
        new_values[fld] = pl.col(fld).replace(dict(mapping))
    for effect in tr.effects:
        new_values |= effect(moment)
    new_values |= {"version": pl.col("version") + 1, "updated_at": pl.lit(moment, dtype=pl.Datetime("us"))}
    written = ok.with_columns(*[expr.alias(f"_new_{c}") for c, expr in new_values.items()])
    changed = [tr.field, *tr.also]
    trail = pl.concat(
        [
            written.filter(pl.col(f) != pl.col(f"_new_{f}")).select(
                pl.col("key").cast(pl.String),
                pl.col("_new_version").alias("version"),
                pl.lit(f).alias("field"),
                pl.col(f).alias("from_state"),
                pl.col(f"_new_{f}").alias("to_state"),
                pl.col("_reason").alias("reason"),
            )
            for f in changed
        ]
    )
    kept = [c for c in rows.columns if c != key_col]
    result = written.select(
        pl.col("key").alias(key_col),
        *[pl.col(f"_new_{c}").alias(c) if c in new_values else pl.col(c) for c in kept],
        pl.col("version").alias("_old_version"),
    )
    return Planned(entity, action, result, list(new_values), trail, refused, moment)


def apply_many(
    conn: sa.Connection,
    entity: str,
    keys: Any,
    action: str,
    actor: StaffMember,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    rows: pl.DataFrame | None = None,
) -> BulkResult:
    """Apply one transition to many records at once; refused records are listed, not raised.

    `rows`, when given, are the records as the caller read them in this same transaction
    (locked FOR UPDATE on PostgreSQL), so they are not read twice.
    """
    tr = transition(entity, action)
    check_role(actor, tr.roles, t(f"action.{action}"))
    table, key_col = ENTITY_TABLES[entity]
    requests = _requests(entity, keys, reason, expected_version)
    if rows is None:
        rows = read_rows(conn, entity, requests["key"].to_list())
    else:  # the caller's rows, and any requested record they lack
        missing = requests.filter(~pl.col("key").is_in(rows[key_col].implode()))["key"].to_list()
        if missing:
            rows = pl.concat([rows, read_rows(conn, entity, missing)], how="vertical_relaxed")
    conflicted = requests.join(rows, left_on="key", right_on=key_col).filter(
        ~pl.col(tr.field).is_in(list(tr.sources))
        | (pl.col("_expected_version").is_not_null() & (pl.col("_expected_version") != pl.col("version")))
    )
    last = last_changes(conn, entity, [str(k) for k in conflicted["key"].to_list()])
    planned = plan_many(entity, requests, action, actor, rows, now=now, last=last)
    if planned.rows.height:
        changed_rows = update_frame(
            conn,
            table,
            planned.rows.select(*planned.columns, key_col, "_old_version"),
            key_col,
            guard="version",
        )
        if changed_rows != planned.rows.height:  # rows are locked: only a bug gets here
            raise Conflict(
                "lifecycle.conflict_changed", entity=t(f"entity.{entity}"), key="…", state="?", by="?", at="?"
            )
        insert_frame(conn, audit, planned.audit_rows(actor))
        followups.after(conn, entity, planned.trail, actor, planned.at)
    return BulkResult(action, planned.trail.drop("reason"), planned.refused, planned.at)


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
    result = apply_many(
        conn, entity, [key], action, actor, reason=reason, expected_version=expected_version, now=now
    )
    if result.refused:
        raise result.refused[0][1]
    rows = result.applied
    return Change(
        entity,
        str(key),
        action,
        tuple(zip(rows["field"], rows["from_state"], rows["to_state"], strict=True)),
        int(rows["version"][0]),
        result.at,
    )

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

from kit import clock
from kit.errors import Conflict, GuardFailed, IllegalTransition, KitError, NotFound, PermissionDenied
from kit.i18n import t
from kit.lifecycle.table import Transition, transition
from kit.models import Role, StaffMember
from kit.store.frames import insert_frame, read_frame
from kit.store.schema import ENTITY_TABLES, audit

__all__ = ["BulkResult", "Change", "apply", "apply_many", "check_role", "label", "last_changes", "read_rows"]

CHUNK = 5_000  # keys per IN (...) list
_ERRORS: dict[str, type[KitError]] = {
    "lifecycle.not_found": NotFound,
    "lifecycle.conflict_changed": Conflict,
    "lifecycle.conflict_already": Conflict,
    "lifecycle.illegal": IllegalTransition,
    "lifecycle.reason_required": GuardFailed,
}


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
    prefix = "shipment_stage" if (entity, field) == ("shipment", "stage") else field
    return t(f"{prefix}.{state}")


def check_role(actor: StaffMember, roles: Iterable[Role], action_label: str) -> None:
    """PermissionDenied unless the actor is active and holds one of the roles."""
    roles = frozenset(roles)
    if not actor.active or actor.role not in roles:
        raise PermissionDenied(
            "lifecycle.permission_denied", actor=actor.name, role=Role(actor.role).label,
            action=action_label,
            allowed="、".join(sorted(r.label for r in roles if r is not Role.SYSTEM)),
        )


def read_rows(conn: sa.Connection, entity: str, keys: list[Any]) -> pl.DataFrame:
    """The records with these keys, locked for the transaction on PostgreSQL (in key order)."""
    table, key_col = ENTITY_TABLES[entity]
    frames = []
    for start in range(0, max(len(keys), 1), CHUNK):
        stmt = sa.select(table).where(table.c[key_col].in_(keys[start:start + CHUNK]))
        if conn.dialect.name == "postgresql":
            stmt = stmt.order_by(table.c[key_col]).with_for_update()
        frames.append(read_frame(conn, stmt))
    return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]


def last_changes(conn: sa.Connection, entity: str, keys: list[str]) -> dict[str, dict[str, str]]:
    """Who last changed each record and when (HH:MM:SS), for conflict messages."""
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(keys), CHUNK):
        rows = conn.execute(
            sa.select(audit.c.entity_id, audit.c.actor, audit.c.at)
            .where(audit.c.entity == entity, audit.c.entity_id.in_(keys[start:start + CHUNK]))
            .order_by(audit.c.audit_id)
        )
        for key, actor, at in rows:
            found[key] = {"by": actor, "at": at.strftime("%H:%M:%S")}
    return found


def _requests(entity: str, keys: Any, reason: str | None, expected_version: int | None) -> pl.DataFrame:
    """Keys (a list, a Series, or a frame with key / reason / expected_version) as one frame."""
    key_dtype = pl.String() if entity == "order" else pl.Int64()
    if isinstance(keys, pl.DataFrame):
        frame = keys.rename({c: f"_{c}" for c in ("reason", "expected_version") if c in keys.columns})
    else:
        frame = pl.DataFrame({"key": list(keys) if not isinstance(keys, pl.Series) else keys})
    if "_reason" not in frame.columns:
        frame = frame.with_columns(pl.lit(reason, dtype=pl.String).alias("_reason"))
    if "_expected_version" not in frame.columns:
        frame = frame.with_columns(pl.lit(expected_version, dtype=pl.Int64).alias("_expected_version"))
    return frame.select(pl.col("key").cast(key_dtype), "_reason", "_expected_version").unique(
        "key", keep="first", maintain_order=True)


def _refusals(tr: Transition) -> pl.Expr:
    """Per row, the message key of the first rule it breaks, or null."""
    state = pl.col(tr.field)
    elsewhere = ~state.is_in(list(tr.sources))
    refusal = (
        pl.when(pl.col("_found").is_null()).then(pl.lit("lifecycle.not_found"))
        .when(pl.col("_expected_version").is_not_null()
              & (pl.col("_expected_version") != pl.col("version"))).then(pl.lit("lifecycle.conflict_changed"))
        .when(elsewhere & (state == tr.target)).then(pl.lit("lifecycle.conflict_already"))
        .when(elsewhere).then(pl.lit("lifecycle.illegal"))
    )
    if tr.needs_reason:
        refusal = refusal.when(pl.col("_reason").fill_null("").str.strip_chars() == "").then(
            pl.lit("lifecycle.reason_required"))
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
        return IllegalTransition(code, target=label(tr.entity, tr.field, tr.target),
                                 allowed="、".join(label(tr.entity, tr.field, s) for s in sorted(tr.sources)),
                                 **common)
    if code in _ERRORS:
        return _ERRORS[code](code, **common, **last.get(str(key), {"by": "?", "at": "?"}))
    broken = next(g for i, g in enumerate(tr.guards) if row[f"_g{i}"] == code)
    return GuardFailed(code, **common, **broken.params(row))


def apply_many(
    conn: sa.Connection, entity: str, keys: Any, action: str, actor: StaffMember, *,
    reason: str | None = None, expected_version: int | None = None, now: datetime | None = None,
) -> BulkResult:
    """Apply one transition to many records at once; refused records are listed, not raised."""
    tr = transition(entity, action)
    check_role(actor, tr.roles, t(f"action.{action}"))
    table, key_col = ENTITY_TABLES[entity]
    requests = _requests(entity, keys, reason, expected_version)
    rows = read_rows(conn, entity, requests["key"].to_list()).with_columns(pl.lit(True).alias("_found"))
    joined = requests.join(rows, left_on="key", right_on=key_col, how="left", maintain_order="left")
    joined = joined.with_columns(*[g.refusal().alias(f"_g{i}") for i, g in enumerate(tr.guards)])
    joined = joined.with_columns(_refusals(tr).alias("_refusal"))
    refused_rows = joined.filter(pl.col("_refusal").is_not_null())
    last = last_changes(conn, entity, [str(k) for k in refused_rows.filter(
        pl.col("_refusal").str.starts_with("lifecycle.conflict"))["key"].to_list()])
    refused = [(str(r["key"]), _error(tr, r, last)) for r in refused_rows.iter_rows(named=True)]

    ok = joined.filter(pl.col("_refusal").is_null())
    moment = now or clock.now()
    if ok.height == 0:
        return BulkResult(action, pl.DataFrame(schema={"key": pl.String, "version": pl.Int64,
                                                       "field": pl.String, "from_state": pl.String,
                                                       "to_state": pl.String}), refused, moment)
    new_values: dict[str, pl.Expr] = {tr.field: pl.lit(tr.target)}
    for fld, mapping in tr.also.items():
        new_values[fld] = pl.col(fld).replace(dict(mapping))
    for effect in tr.effects:
        new_values |= effect(moment)
    written = ok.with_columns(
        *[expr.alias(f"_new_{c}") for c, expr in new_values.items()],
        (pl.col("version") + 1).alias("_new_version"),
        pl.lit(moment, dtype=pl.Datetime("us")).alias("_new_updated_at"),
    )
    columns = [*new_values, "version", "updated_at"]
    stmt = (sa.update(table)
            .where(table.c[key_col] == sa.bindparam("k_"), table.c.version == sa.bindparam("v_"))
            .values({c: sa.bindparam(f"n_{c}") for c in columns}))
    params = written.select(pl.col("key").alias("k_"), pl.col("version").alias("v_"),
                            *[pl.col(f"_new_{c}").alias(f"n_{c}") for c in columns]).to_dicts()
    result = conn.execute(stmt, params)
    if result.rowcount not in (-1, len(params)):  # rows are locked: only a bug gets here
        raise Conflict("lifecycle.conflict_changed", entity=t(f"entity.{entity}"), key="…",
                       state="?", by="?", at="?")
    changed = [tr.field, *[f for f in tr.also]]
    trail = pl.concat([
        written.filter(pl.col(f) != pl.col(f"_new_{f}")).select(
            pl.col("key").cast(pl.String), pl.col("_new_version").alias("version"),
            pl.lit(f).alias("field"), pl.col(f).alias("from_state"),
            pl.col(f"_new_{f}").alias("to_state"), pl.col("_reason").alias("reason"))
        for f in changed
    ])
    insert_frame(conn, audit, trail.select(
        pl.lit(moment, dtype=pl.Datetime("us")).alias("at"), pl.lit(actor.name).alias("actor"),
        pl.lit(str(actor.role)).alias("role"), pl.lit(entity).alias("entity"),
        pl.col("key").alias("entity_id"), pl.lit(action).alias("action"),
        "field", "from_state", "to_state", "reason"))
    return BulkResult(action, trail.drop("reason"), refused, moment)


def apply(
    conn: sa.Connection, entity: str, key: str | int, action: str, actor: StaffMember, *,
    reason: str | None = None, expected_version: int | None = None, now: datetime | None = None,
) -> Change:
    """Apply one transition inside the caller's write transaction, with its audit rows."""
    result = apply_many(conn, entity, [key], action, actor, reason=reason,
                        expected_version=expected_version, now=now)
    if result.refused:
        raise result.refused[0][1]
    rows = result.applied
    return Change(entity, str(key), action,
                  tuple(zip(rows["field"], rows["from_state"], rows["to_state"], strict=True)),
                  int(rows["version"][0]), result.at)

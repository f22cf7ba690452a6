"""What every step of a delivery exception case shares: the case read and locked in the write
transaction, a lifecycle change with the case's own columns written beside it, audit rows for
what is not a state change, and the buyer's notice (S13)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import outbox
from kit.errors import Conflict, IllegalTransition, NotFound
from kit.i18n import current_lang, t
from kit.lifecycle import Change, apply_many, audit_rows, label
from kit.lifecycle.apply import last_changes, read_rows
from kit.models import ExceptionState, ShipmentStage, StaffMember
from kit.store import schema
from kit.store.frames import insert_frame

__all__ = [
    "HANDED",
    "LIVE",
    "as_dict",
    "audit_one",
    "check_live",
    "check_version",
    "lock_case",
    "queue_notice",
    "step",
    "touch",
]

XS = ExceptionState
LIVE = (str(XS.OPEN), str(XS.CLAIMED), str(XS.ANSWERED), str(XS.ADDRESS_CORRECTED), str(XS.RETURN_EXPECTED))
HANDED = (str(ShipmentStage.HANDED_OVER), str(ShipmentStage.CONFIRMED))  # with the courier
_US = pl.Datetime("us")


def lock_case(conn: sa.Connection, case_id: int) -> pl.DataFrame:
    """The case's row, locked for the transaction (PostgreSQL; SQLite holds the write lock);
    NotFound naming the case when there is none."""
    rows = read_rows(conn, "exception", [int(case_id)])
    if rows.height == 0:
        raise NotFound("exceptions.not_found", case_id=case_id)
    return rows


def check_version(conn: sa.Connection, row: dict[str, Any], expected_version: int | None) -> None:
    """Conflict naming who changed the case last, when it is no longer at `expected_version`."""
    if expected_version is not None and int(row["version"]) != int(expected_version):
        last = last_changes(conn, "exception", [str(row["case_id"])]).get(
            str(row["case_id"]), {"by": "?", "at": "?"}
        )
        raise Conflict(
            "lifecycle.conflict_changed",
            entity=t("entity.exception"),
            key=row["case_id"],
            state=label("exception", "state", row["state"]),
            **last,
        )


def check_live(row: dict[str, Any], action: str) -> None:
    """IllegalTransition naming the case and its state when it is resolved or closed."""
    if row["state"] not in LIVE:
        raise IllegalTransition(
            "exceptions.not_live",
            case_id=row["case_id"],
            state=label("exception", "state", row["state"]),
            action=t(f"action.{action}"),
        )


def step(
    conn: sa.Connection,
    rows: pl.DataFrame,
    action: str,
    actor: StaffMember,
    at: datetime,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    values: dict[str, Any] | None = None,
) -> Change:
    """Apply the lifecycle change `action` to the locked case (role, state, kind, version,
    audit), then write the case's own `values` guarded by the version it now has."""
    case_id = int(rows["case_id"][0])
    result = apply_many(
        conn,
        "exception",
        [case_id],
        action,
        actor,
        reason=reason,
        expected_version=expected_version,
        now=at,
        rows=rows,
    )
    if result.refused:
        raise result.refused[0][1]
    version = int(result.applied["version"][0])
    if values:
        ec = schema.exception_cases
        conn.execute(ec.update().where(ec.c.case_id == case_id, ec.c.version == version).values(**values))
    applied = result.applied
    return Change(
        "exception",
        str(case_id),
        action,
        tuple(zip(applied["field"], applied["from_state"], applied["to_state"], strict=True)),
        version,
        at,
    )


def touch(conn: sa.Connection, row: dict[str, Any], values: dict[str, Any], at: datetime) -> int:
    """Write columns of a locked case that are not its state, with its version raised (the
    version guard keeps a second writer out); returns the new version."""
    ec = schema.exception_cases
    version = int(row["version"]) + 1
    done = conn.execute(
        ec.update()
        .where(ec.c.case_id == int(row["case_id"]), ec.c.version == int(row["version"]))
        .values(**values, version=version, updated_at=at)
    ).rowcount
    if done != 1:  # the row is locked: only a bug gets here
        raise Conflict(
            "lifecycle.conflict_changed",
            entity=t("entity.exception"),
            key=row["case_id"],
            state=label("exception", "state", row["state"]),
            by="?",
            at="?",
        )
    return version


def audit_one(
    conn: sa.Connection,
    actor: StaffMember,
    at: datetime,
    entity: str,
    key: Any,
    action: str,
    field: str | None,
    before: Any,
    after: Any,
    reason: str | None = None,
) -> None:
    """One audit row (who, role, when, from, to, why) in the caller's transaction."""
    frame = pl.DataFrame(
        {
            "entity_id": [str(key)],
            "field": [field],
            "from_state": [None if before is None else str(before)],
            "to_state": [None if after is None else str(after)],
            "reason": [reason],
        },
        schema={
            "entity_id": pl.String,
            "field": pl.String,
            "from_state": pl.String,
            "to_state": pl.String,
            "reason": pl.String,
        },
    )
    insert_frame(conn, schema.audit, audit_rows(frame, actor, at, entity, action))


def queue_notice(
    conn: sa.Connection,
    actor: StaffMember,
    at: datetime,
    rows: pl.DataFrame,
    step_name: str,
    **columns: Any,
) -> int:
    """Queue one `exception` notice per row of `rows` (order_no, case_id, …) from the template
    notice.exception_<step_name>, its {names} filled from `columns` (column names or
    expressions), due within the hour (S13)."""
    from kit.i18n import message_expr

    if rows.height == 0:
        return 0
    lang = current_lang()
    frame = rows.select(
        pl.col("order_no").cast(pl.String),
        pl.lit("exception").alias("kind"),
        pl.lit(lang).alias("lang"),
        message_expr(f"notice.exception_{step_name}", lang, **columns).alias("text"),
        pl.struct(pl.col("case_id").cast(pl.Int64), pl.lit(step_name).alias("step"))
        .struct.json_encode()
        .alias("payload"),
        pl.lit(at + outbox.SOON, _US).alias("due_at"),
    )
    return outbox.queue(conn, frame, actor, at)


def as_dict(conn: sa.Connection, case_id: int) -> dict[str, Any]:
    """The case's row as it stands in the transaction, its addresses as dicts, with labels."""
    ec = schema.exception_cases
    row = dict(conn.execute(sa.select(ec).where(ec.c.case_id == int(case_id))).mappings().one())
    for col in ("address_before", "address_after"):
        row[col] = json.loads(row[col]) if row[col] else None
    row["kind_label"] = t(f"exception_kind.{row['kind']}")
    row["state_label"] = label("exception", "state", row["state"])
    return row

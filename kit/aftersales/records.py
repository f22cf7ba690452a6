"""One after-sale case as a record: read and locked with its order, its version checked, its
non-state columns written (owner, return parcel, received, amount) with the version raised and an
audit row, and turned into the dict the service functions return.

Locks are always taken in the same order, the order row first and then the case, so that two
staff working on cases of one order wait for each other instead of deadlocking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit.errors import Conflict, NotFound
from kit.i18n import t
from kit.lifecycle import audit_rows, label
from kit.lifecycle.apply import last_changes, read_rows
from kit.models import StaffMember
from kit.store import schema
from kit.store.frames import insert_frame, read_frame

__all__ = [
    "audit_fields",
    "case_dict",
    "case_lines",
    "check_version",
    "lock_case",
    "lock_order",
    "write_case",
]


def lock_order(conn: sa.Connection, order_no: str) -> dict[str, Any]:
    """The order row, locked for the transaction (FOR UPDATE on PostgreSQL); NotFound if none."""
    rows = read_rows(conn, "order", [str(order_no)])
    if rows.height == 0:
        raise NotFound("aftersales.unknown_order", order_no=order_no)
    return rows.row(0, named=True)


def lock_case(conn: sa.Connection, case_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(order, case) rows, both locked: the order first, then the case; NotFound if no case."""
    a = schema.after_sales
    order_no = conn.execute(sa.select(a.c.order_no).where(a.c.case_id == int(case_id))).scalar()
    if order_no is None:
        raise NotFound("aftersales.unknown_case", case_id=case_id)
    order = lock_order(conn, order_no)
    case = read_rows(conn, "after_sale", [int(case_id)]).row(0, named=True)
    return order, case


def check_version(conn: sa.Connection, case: dict[str, Any], expected_version: int | None) -> None:
    """Conflict, naming who changed the case and when, unless it still has `expected_version`
    (None: any version)."""
    if expected_version is None or int(expected_version) == int(case["version"]):
        return
    last = last_changes(conn, "after_sale", [str(case["case_id"])]).get(str(case["case_id"]), {})
    raise Conflict(
        "lifecycle.conflict_changed",
        entity=t("entity.after_sale"),
        key=case["case_id"],
        state=label("after_sale", "refund_status", case["refund_status"]),
        by=last.get("by", "?"),
        at=last.get("at", "?"),
    )


def audit_fields(
    conn: sa.Connection,
    actor: StaffMember,
    at: datetime,
    case_id: int,
    action: str,
    changes: list[tuple[str, Any, Any]],
    reason: str | None = None,
) -> None:
    """One audit row per (field, before, after) of the case, under `action`."""
    if not changes:
        return
    frame = pl.DataFrame(
        {
            "entity_id": [str(case_id)] * len(changes),
            "field": [c[0] for c in changes],
            "from_state": [None if c[1] is None else str(c[1]) for c in changes],
            "to_state": [None if c[2] is None else str(c[2]) for c in changes],
            "reason": [reason] * len(changes),
        },
        schema={
            "entity_id": pl.String,
            "field": pl.String,
            "from_state": pl.String,
            "to_state": pl.String,
            "reason": pl.String,
        },
    )
    insert_frame(conn, schema.audit, audit_rows(frame, actor, at, "after_sale", action))


def write_case(
    conn: sa.Connection,
    actor: StaffMember,
    at: datetime,
    case_id: int,
    action: str,
    values: dict[str, Any],
    *,
    audited: tuple[str, ...] = (),
    reason: str | None = None,
    bump: bool = True,
) -> int:
    """Write columns of the (locked) case, raise its version (unless `bump` is false: a
    transition of this same transaction raised it already) and audit the columns named in
    `audited` (before → after) under `action`; returns the version."""
    a = schema.after_sales
    before = conn.execute(sa.select(a).where(a.c.case_id == int(case_id))).mappings().one()
    version = int(before["version"])
    new_version = version + 1 if bump else version
    done = conn.execute(
        a.update()
        .where(a.c.case_id == int(case_id), a.c.version == version)
        .values(**values, version=new_version, updated_at=at)
    ).rowcount
    if done != 1:  # the row is locked: only a bug gets here
        raise Conflict(
            "lifecycle.conflict_changed",
            entity=t("entity.after_sale"),
            key=case_id,
            state="?",
            by="?",
            at="?",
        )
    audit_fields(
        conn,
        actor,
        at,
        case_id,
        action,
        [(c, before[c], values[c]) for c in audited if before[c] != values[c]],
        reason,
    )
    return new_version


def case_lines(conn: sa.Connection, case_id: int) -> pl.DataFrame:
    """The case's lines: line_no, sku, quantity, new_sku, received_good, received_damaged."""
    al = schema.after_sale_lines
    stmt = (
        sa.select(
            al.c.line_no, al.c.sku, al.c.quantity, al.c.new_sku, al.c.received_good, al.c.received_damaged
        )
        .where(al.c.case_id == int(case_id))
        .order_by(al.c.line_no)
    )
    return read_frame(conn, stmt).with_columns(pl.col("line_no").cast(pl.Int64))


def case_dict(conn: sa.Connection, case_id: int, **extra: Any) -> dict[str, Any]:
    """The case as it stands in this transaction (every column of after_sales), with `extra`."""
    a = schema.after_sales
    row = conn.execute(sa.select(a).where(a.c.case_id == int(case_id))).mappings().one()
    return {**dict(row), **extra}

"""Reservations: stock promised to order lines. `reserve`, `release` and `pick` are the
primitives allocation, shortages, cancellations and picking build on; each moves stock
through the ledger (kit.stock.ledger.post) in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from kit.errors import BadInput, Conflict
from kit.i18n import t
from kit.models import StaffMember
from kit.stock.ledger import post, reservation_moves
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys, read_frame, update_frame

__all__ = [
    "RESERVATION_COLUMNS",
    "STATUSES",
    "open_reservations",
    "pick",
    "release",
    "reservation_rows",
    "reserve",
    "restock",
]

STATUSES = ("reserved", "picked", "released", "restocked")
RESERVATION_COLUMNS = [
    "reservation_id",
    "order_no",
    "line_no",
    "warehouse_code",
    "sku",
    "quantity",
    "shipment_id",
    "status",
    "created_at",
    "updated_at",
    "batch_id",
]


def reservation_rows(lines: pl.DataFrame, at: datetime, batch_id: int | None) -> pl.DataFrame:
    """Rows of `reservations` (status reserved) for order_no, line_no, warehouse_code, sku,
    quantity and optional shipment_id."""
    ship = pl.col("shipment_id").cast(pl.Int64) if "shipment_id" in lines.columns else pl.lit(None, pl.Int64)
    return lines.select(
        pl.col("order_no").cast(pl.String),
        pl.col("line_no").cast(pl.Int64),
        pl.col("warehouse_code").cast(pl.String),
        pl.col("sku").cast(pl.String),
        pl.col("quantity").cast(pl.Int64),
        ship.alias("shipment_id"),
        pl.lit("reserved").alias("status"),
        pl.lit(at, pl.Datetime("us")).alias("created_at"),
        pl.lit(at, pl.Datetime("us")).alias("updated_at"),
        pl.lit(batch_id, pl.Int64).alias("batch_id"),
    )


def reserve(
    conn: sa.Connection,
    lines: pl.DataFrame,
    actor: StaffMember,
    *,
    at: datetime,
    batch_id: int | None = None,
    reason: str | None = None,
) -> pl.DataFrame:
    """Reserve stock for order lines, all or nothing: order_no, line_no, warehouse_code, sku,
    quantity (whole units above zero), optional shipment_id. Refused names the items that
    lack stock. Returns the reservation rows written."""
    number = pl.col("quantity").cast(pl.Float64)  # 1.5 would be cut to 1 below: refused like 0
    bad = lines.filter(number.is_null() | (number <= 0) | (number != number.floor()))
    if bad.height:
        row = bad.row(0, named=True)
        raise BadInput(
            "stock.bad_reservation", order_no=row["order_no"], line_no=row["line_no"], value=row["quantity"]
        )
    rows = reservation_rows(lines, at, batch_id)
    post(
        conn,
        reservation_moves(rows, reason),
        actor,
        at=at,
        batch_id=batch_id,
    )
    insert_frame(conn, schema.reservations, rows)
    return rows


def open_reservations(
    conn: sa.Connection,
    *,
    order_nos: list[str] | None = None,
    shipment_ids: list[int] | None = None,
    status: str = "reserved",
) -> pl.DataFrame:
    """Reservations in `status` (reserved by default) of these orders or these shipments,
    locked for the transaction on PostgreSQL (a second release of the same order waits,
    then finds nothing left to release)."""
    rv = schema.reservations
    if order_nos is not None:
        column, keys = "order_no", [str(k) for k in order_nos]
    elif shipment_ids is not None:
        column, keys = "shipment_id", [int(k) for k in shipment_ids]
    else:
        raise ValueError("open_reservations needs order_nos or shipment_ids")
    if conn.dialect.name != "postgresql":  # SQLite: the write transaction holds the lock
        return read_by_keys(conn, rv, RESERVATION_COLUMNS, column, keys).filter(pl.col("status") == status)
    array = sa.bindparam("_keys", value=keys, type_=postgresql.ARRAY(rv.c[column].type))
    stmt = (
        sa.select(*(rv.c[c] for c in RESERVATION_COLUMNS))
        .where(rv.c[column] == sa.any_(array), rv.c.status == status)
        .order_by(rv.c.reservation_id)
        .with_for_update()
    )
    return read_frame(conn, stmt)


def _finish(
    conn: sa.Connection, held: pl.DataFrame, status: str, at: datetime, was: str = "reserved"
) -> None:
    """Mark reservations released, picked or restocked (one guarded bulk update: still `was`)."""
    changed = update_frame(
        conn,
        schema.reservations,
        held.select(
            "reservation_id",
            pl.lit(status).alias("status"),
            pl.lit(at, pl.Datetime("us")).alias("updated_at"),
            pl.lit(was).alias("_old_status"),
        ),
        "reservation_id",
        guard="status",
    )
    if changed != held.height:  # rows are locked: only a bug gets here
        raise Conflict("stock.changed_meanwhile", rows=held.height - changed)


def release(
    conn: sa.Connection,
    order_nos: list[str] | pl.Series,
    reason: str,
    actor: StaffMember,
    *,
    at: datetime,
    batch_id: int | None = None,
    lines: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Give back the stock reserved for these orders (cancelled, refunded, deallocated, moved to
    another warehouse): each open reservation becomes `released` and a `release` ledger row
    lowers `reserved`. `lines` (order_no, line_no) limits it to some lines. Order and shipment
    states are the caller's (kit.lifecycle). Returns the reservations released."""
    if not (reason or "").strip():
        raise BadInput("stock.reason_required", action=t("stock.action_release_stock"))
    held = open_reservations(conn, order_nos=list(order_nos))
    if lines is not None:
        held = held.join(
            lines.select(pl.col("order_no").cast(pl.String), pl.col("line_no").cast(pl.Int64)),
            on=["order_no", "line_no"],
            how="semi",
        )
    return _settle(conn, held, "release", (0, -1), "released", actor, at=at, batch_id=batch_id, reason=reason)


def pick(
    conn: sa.Connection,
    shipment_ids: list[int],
    actor: StaffMember,
    *,
    at: datetime,
    batch_id: int | None = None,
) -> pl.DataFrame:
    """The goods of these shipments leave the shelf: their reservations become `picked` and a
    `pick` ledger row lowers both on_hand and reserved. Returns the reservations picked."""
    held = open_reservations(conn, shipment_ids=list(shipment_ids))
    return _settle(conn, held, "pick", (-1, -1), "picked", actor, at=at, batch_id=batch_id)


def restock(
    conn: sa.Connection,
    shipment_ids: list[int],
    reason: str,
    actor: StaffMember,
    *,
    at: datetime,
    batch_id: int | None = None,
) -> pl.DataFrame:
    """Goods picked for these (cancelled) shipments go back on the shelf: each `picked`
    reservation becomes `restocked` and a `return` ledger row raises on_hand. Returns them."""
    held = open_reservations(conn, shipment_ids=list(shipment_ids), status="picked")
    return _settle(
        conn,
        held,
        "return",
        (1, 0),
        "restocked",
        actor,
        at=at,
        batch_id=batch_id,
        reason=reason,
        was="picked",
    )


def _settle(
    conn: sa.Connection,
    held: pl.DataFrame,
    kind: str,
    signs: tuple[int, int],
    status: str,
    actor: StaffMember,
    *,
    at: datetime,
    batch_id: int | None,
    reason: str | None = None,
    was: str = "reserved",
) -> pl.DataFrame:
    """Move the stock of these reservations by one ledger row each of `kind` (on_hand and
    reserved change by `signs` × quantity) and mark them `status`; returns them."""
    if held.height == 0:
        return held
    on_hand, reserved = signs
    post(
        conn,
        held.select(
            "warehouse_code",
            "sku",
            pl.lit(kind).alias("kind"),
            (pl.col("quantity") * on_hand).alias("on_hand_delta"),
            (pl.col("quantity") * reserved).alias("reserved_delta"),
            "order_no",
            "line_no",
            "shipment_id",
            pl.lit(reason, pl.String).alias("reason"),
        ),
        actor,
        at=at,
        batch_id=batch_id,
    )
    _finish(conn, held, status, at, was=was)
    return held


def summary(frame: pl.DataFrame) -> dict[str, Any]:
    """Lines and units in a frame of reservations, for messages and JSON."""
    return {"lines": frame.height, "units": int(frame["quantity"].sum()) if frame.height else 0}

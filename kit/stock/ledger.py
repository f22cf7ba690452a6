"""The stock ledger: every change of stock is a row (receipt, reservation, release, pick,
return, transfer, count), written in the same transaction as the change, so every level
can be rebuilt from the ledger; plus who may change stock, and each run's batch row.

`post` is the one general way to move stock: it locks the rows (fixed order), checks that
nothing would go below zero or reserve more than is on hand, applies the whole frame with
one guarded statement (kit.stock.levels.add_to_levels) and writes the ledger rows.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit.errors import PermissionDenied, Refused
from kit.i18n import t
from kit.lifecycle import check_role
from kit.models import StaffMember
from kit.permissions import ACTIONS
from kit.stock.levels import KEY, add_to_levels, ensure_levels, lock_levels
from kit.store import schema
from kit.store.frames import insert_frame, read_frame

__all__ = [
    "KINDS",
    "ledger_differences",
    "ledger_rows",
    "new_batch",
    "permit",
    "post",
    "rebuild_levels",
    "record_opening_balances",
    "reservation_moves",
]

KINDS = ("receipt", "reservation", "release", "pick", "return", "transfer", "count")
"""What a ledger row records: goods received, reserved for an order line, a reservation
given back, goods picked for a shipment (leave on hand and reserved), goods returned by a
buyer, a transfer between warehouses (two rows, out and in), a stock count's correction."""

_OPTIONAL = {"order_no": pl.String, "line_no": pl.Int64, "shipment_id": pl.Int64, "reason": pl.String}
MAX_LISTED = 5  # refusals name this many items, then "…"


def permit(actor: StaffMember | None, action: str) -> StaffMember:
    """The actor when their role may perform the stock `action` of kit.permissions.ACTIONS;
    PermissionDenied otherwise (labels come from the [stock] messages)."""
    label = t(f"stock.action_{action}")
    if actor is None:
        raise PermissionDenied("permission.no_actor", action=label)
    check_role(actor, ACTIONS[action], label)
    return actor


def new_batch(
    conn: sa.Connection,
    kind: str,
    source: str,
    actor: StaffMember,
    at: datetime,
    *,
    lines: int = 0,
    orders: int = 0,
    details: dict[str, Any] | None = None,
) -> int:
    """A batches row for one import, movement or allocation run, with its audit row; its id."""
    batch_id = conn.execute(
        schema.batches.insert()
        .values(
            kind=kind,
            source=source,
            actor=actor.name,
            role=str(actor.role),
            at=at,
            orders=orders,
            lines=lines,
            details=json.dumps(details, ensure_ascii=False) if details else None,
        )
        .returning(schema.batches.c.batch_id)
    ).scalar_one()
    conn.execute(
        schema.audit.insert().values(
            at=at,
            actor=actor.name,
            role=str(actor.role),
            entity="batch",
            entity_id=str(batch_id),
            action=kind,
            reason=source,
            batch_id=batch_id,
        )
    )
    return int(batch_id)


def ledger_rows(moves: pl.DataFrame, actor: str, at: datetime, batch_id: int | None) -> pl.DataFrame:
    """Rows of stock_ledger for a frame of moves (warehouse_code, sku, kind, on_hand_delta,
    reserved_delta, and any of order_no, line_no, shipment_id, reason)."""
    return moves.select(
        pl.lit(at, pl.Datetime("us")).alias("at"),
        pl.col("warehouse_code").cast(pl.String),
        pl.col("sku").cast(pl.String),
        pl.col("kind").cast(pl.String),
        *[
            (pl.col(c).cast(pl.Int64).fill_null(0) if c in moves.columns else pl.lit(0, pl.Int64)).alias(c)
            for c in ("on_hand_delta", "reserved_delta")
        ],
        *[
            (pl.col(c).cast(d) if c in moves.columns else pl.lit(None, d)).alias(c)
            for c, d in _OPTIONAL.items()
        ],
        pl.lit(actor).alias("actor"),
        pl.lit(batch_id, pl.Int64).alias("batch_id"),
    )


def reservation_moves(reservations: pl.DataFrame, reason: str | None = None) -> pl.DataFrame:
    """The `reservation` ledger moves of reservation rows (warehouse_code, sku, quantity,
    order_no, line_no, shipment_id): reserved goes up by each row's quantity."""
    return reservations.select(
        "warehouse_code",
        "sku",
        pl.lit("reservation").alias("kind"),
        pl.col("quantity").alias("reserved_delta"),
        "order_no",
        "line_no",
        "shipment_id",
        pl.lit(reason, pl.String).alias("reason"),
    )


def _listed(rows: pl.DataFrame) -> str:
    """'hq/SKU-1 (on hand 2, reserved 1, change -3)' for the first few refused items."""
    parts = [
        t(
            "stock.item_state",
            warehouse=r["warehouse_code"],
            sku=r["sku"],
            on_hand=r["on_hand"],
            reserved=r["reserved"],
            on_hand_delta=r["d_on"],
            reserved_delta=r["d_res"],
        )
        for r in rows.head(MAX_LISTED).iter_rows(named=True)
    ]
    return "；".join(parts) + ("…" if rows.height > MAX_LISTED else "")


def post(
    conn: sa.Connection,
    moves: pl.DataFrame,
    actor: StaffMember,
    *,
    at: datetime,
    batch_id: int | None = None,
    create: bool = False,
) -> pl.DataFrame:
    """Apply stock moves and write their ledger rows, all or nothing, in the caller's transaction.

    `moves`: warehouse_code, sku, kind, on_hand_delta and/or reserved_delta, optionally
    order_no, line_no, shipment_id, reason. The rows are locked in a fixed order and
    checked; if any item would go below zero or reserve more than is on hand, Refused names
    it and nothing is written. `create` makes missing stock rows first (receipts, counts,
    transfers in). Returns the ledger rows written.
    """
    rows = ledger_rows(moves, actor.name, at, batch_id)
    if rows.height == 0:
        return rows
    if create:
        ensure_levels(conn, rows.filter(pl.col("on_hand_delta") > 0))
    deltas = rows.group_by(KEY).agg(
        pl.col("on_hand_delta").sum().alias("d_on"), pl.col("reserved_delta").sum().alias("d_res")
    )
    fresh = lock_levels(conn, deltas)
    checked = deltas.join(fresh, on=KEY, how="left").with_columns(
        pl.col("on_hand").fill_null(0), pl.col("reserved").fill_null(0)
    )
    after_on, after_res = pl.col("on_hand") + pl.col("d_on"), pl.col("reserved") + pl.col("d_res")
    bad = checked.filter((after_on < 0) | (after_res < 0) | (after_res > after_on)).sort(KEY)
    if bad.height:
        raise Refused("stock.would_go_negative", count=bad.height, items=_listed(bad))
    add_to_levels(conn, rows)
    insert_frame(conn, schema.stock_ledger, rows)
    return rows


def rebuild_levels(conn: sa.Connection) -> pl.DataFrame:
    """The stock levels as the ledger tells them: warehouse_code, sku, on_hand, reserved."""
    lg = schema.stock_ledger
    return read_frame(
        conn,
        sa.select(
            lg.c.warehouse_code,
            lg.c.sku,
            sa.func.sum(lg.c.on_hand_delta).label("on_hand"),
            sa.func.sum(lg.c.reserved_delta).label("reserved"),
        ).group_by(lg.c.warehouse_code, lg.c.sku),
    )


def ledger_differences(conn: sa.Connection) -> pl.DataFrame:
    """Items whose level differs from the ledger's sum (empty when every unit is accounted
    for): warehouse_code, sku, on_hand, reserved, ledger_on_hand, ledger_reserved."""
    levels = read_frame(
        conn,
        sa.select(
            schema.stock_levels.c.warehouse_code,
            schema.stock_levels.c.sku,
            schema.stock_levels.c.on_hand,
            schema.stock_levels.c.reserved,
        ),
    )
    ledger = rebuild_levels(conn).rename({"on_hand": "ledger_on_hand", "reserved": "ledger_reserved"})
    both = levels.join(ledger, on=KEY, how="full", coalesce=True).with_columns(
        pl.col("on_hand", "reserved", "ledger_on_hand", "ledger_reserved").fill_null(0).cast(pl.Int64)
    )
    return both.filter(
        (pl.col("on_hand") != pl.col("ledger_on_hand")) | (pl.col("reserved") != pl.col("ledger_reserved"))
    ).sort(KEY)


OPEN_SHIPMENT_STAGES = ("allocated", "picking", "packed")


def record_opening_balances(
    conn: sa.Connection, actor: str, at: datetime, batch_id: int | None = None
) -> dict[str, int]:
    """Account in the ledger for stock written without it (a database from before the ledger,
    the demo's seeded stock): open shipments' lines not yet reserved get a reservation row
    and a `reservation` ledger row each; what levels still hold beyond the ledger becomes one
    `receipt` (on hand) and one `reservation` (reserved) row per item, reason "opening
    balance". Levels are not changed. Returns the rows written per kind."""
    sl, sh, rv = schema.shipment_lines, schema.shipments, schema.reservations
    open_lines = read_frame(
        conn,
        sa.select(sl.c.order_no, sl.c.line_no, sh.c.warehouse_code, sl.c.sku, sl.c.quantity, sl.c.shipment_id)
        .join(sh, sh.c.shipment_id == sl.c.shipment_id)
        .where(sh.c.stage.in_(OPEN_SHIPMENT_STAGES)),
    )
    have = read_frame(conn, sa.select(rv.c.order_no, rv.c.line_no).where(rv.c.status != "released"))
    todo = open_lines.join(have, on=["order_no", "line_no"], how="anti")
    reason = t("stock.opening_balance")
    if todo.height:
        insert_frame(
            conn,
            rv,
            todo.with_columns(
                pl.lit("reserved").alias("status"),
                pl.lit(at, pl.Datetime("us")).alias("created_at"),
                pl.lit(at, pl.Datetime("us")).alias("updated_at"),
                pl.lit(batch_id, pl.Int64).alias("batch_id"),
            ),
        )
        insert_frame(
            conn,
            schema.stock_ledger,
            ledger_rows(
                reservation_moves(todo, reason),
                actor,
                at,
                batch_id,
            ),
        )
    gaps = ledger_differences(conn)
    rest = pl.concat(
        [
            gaps.select(
                *KEY,
                pl.lit("receipt").alias("kind"),
                (pl.col("on_hand") - pl.col("ledger_on_hand")).alias("on_hand_delta"),
                pl.lit(0, pl.Int64).alias("reserved_delta"),
            ),
            gaps.select(
                *KEY,
                pl.lit("reservation").alias("kind"),
                pl.lit(0, pl.Int64).alias("on_hand_delta"),
                (pl.col("reserved") - pl.col("ledger_reserved")).alias("reserved_delta"),
            ),
        ]
    ).filter((pl.col("on_hand_delta") != 0) | (pl.col("reserved_delta") != 0))
    insert_frame(
        conn,
        schema.stock_ledger,
        ledger_rows(rest.with_columns(pl.lit(reason).alias("reason")), actor, at, batch_id),
    )
    return {
        "reservations": todo.height,
        "receipt": rest.filter(pl.col("kind") == "receipt").height,
        "reservation": todo.height + rest.filter(pl.col("kind") == "reservation").height,
    }

"""Goods that come back from a buyer (S21 refused parcels, S24d returns): what is fit to sell
goes back on hand with a `return` row in the stock ledger; what is not goes to the damaged
goods (table damaged_goods), kept apart from the stock levels so it is never sold."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa

from kit.models import StaffMember
from kit.stock.movements import receive
from kit.store import schema
from kit.store.frames import insert_frame, read_frame

__all__ = ["DAMAGED_COLUMNS", "damaged_goods", "take_back"]

DAMAGED_COLUMNS = ["entry_id", "warehouse_code", "sku", "quantity", "order_no", "shipment_id", "source",
                   "reason", "at", "actor"]


def take_back(
    conn: sa.Connection,
    items: pl.DataFrame,
    actor: StaffMember,
    *,
    at: datetime,
    source: str,
    reason: str | None = None,
) -> dict[str, int]:
    """Goods back from a buyer, in the caller's transaction: `items` has warehouse_code, sku,
    good, damaged (whole units, zero or more) and optionally order_no, shipment_id. Good units
    go back on hand (`return` ledger rows), damaged ones into damaged_goods marked with
    `source` (after_sale:ID, exception:ID). Returns the units of each."""
    optional = [c for c in ("order_no", "shipment_id") if c in items.columns]
    good = items.filter(pl.col("good") > 0)
    if good.height:
        receive(
            conn,
            good.select("warehouse_code", "sku", pl.col("good").alias("quantity"), *optional),
            actor,
            at=at,
            reason=reason or source,
            kind="return",
        )
    damaged = items.filter(pl.col("damaged") > 0)
    if damaged.height:
        insert_frame(
            conn,
            schema.damaged_goods,
            damaged.select(
                pl.col("warehouse_code").cast(pl.String),
                pl.col("sku").cast(pl.String),
                pl.col("damaged").cast(pl.Int64).alias("quantity"),
                *(pl.col(c) for c in optional),
                pl.lit(source).alias("source"),
                pl.lit(reason, pl.String).alias("reason"),
                pl.lit(at, pl.Datetime("us")).alias("at"),
                pl.lit(actor.name).alias("actor"),
            ),
        )
    return {"good": int(good["good"].sum()) if good.height else 0,
            "damaged": int(damaged["damaged"].sum()) if damaged.height else 0}


def damaged_goods(conn: sa.Connection, *, warehouse: str | None = None) -> pl.DataFrame:
    """Every damaged-goods entry (DAMAGED_COLUMNS), newest first."""
    dg = schema.damaged_goods
    stmt = sa.select(*(dg.c[c] for c in DAMAGED_COLUMNS)).order_by(dg.c.entry_id.desc())
    if warehouse:
        stmt = stmt.where(dg.c.warehouse_code == warehouse)
    return read_frame(conn, stmt)

"""Writing one allocation batch back, in one transaction: the stock reserved with ONE guarded
bulk update, the shipments and their lines, the reservations and their ledger rows, the
orders moved by kit.lifecycle (allocated, or backordered with what they miss), and the
backorders table kept up to date."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import numpy as np
import polars as pl
import sqlalchemy as sa

from kit.allocation.problem import Batch
from kit.i18n import message_expr
from kit.lifecycle import Planned
from kit.models import ShipmentStage, ShipMethod, StaffMember
from kit.stock.ledger import ledger_rows, reservation_moves
from kit.stock.levels import KEY, add_to_levels
from kit.stock.reservations import reservation_rows
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys, update_frame

__all__ = ["served_lines", "write_backorders", "write_orders", "write_shipments", "write_stock"]

DROPSHIP_CARRIER, NO_LOGISTICS_CARRIER = "dropship", "none"


def served_lines(batch: Batch, warehouse: np.ndarray, served: np.ndarray) -> pl.DataFrame:
    """The lines of served orders with the warehouse chosen for each (warehouse_code, kind)."""
    codes, kinds = batch.warehouses["code"], batch.warehouses["kind"]
    mask = served[batch.problem.host]
    chosen = pl.Series("_wh", warehouse[mask])
    return batch.lines.filter(pl.Series(mask)).with_columns(
        codes.gather(chosen).alias("warehouse_code"), kinds.gather(chosen).alias("warehouse_kind")
    )


def write_stock(conn: sa.Connection, lines: pl.DataFrame) -> pl.DataFrame:
    """Reserve the served lines' stock: ONE guarded bulk update of stock_levels (the caller
    has locked and checked the rows). Returns what each item took."""
    need = lines.group_by(KEY).agg(pl.col("quantity").sum().alias("reserved_delta"))
    add_to_levels(conn, need)
    return need


def _new_ids(conn: sa.Connection, n: int) -> np.ndarray:
    """n fresh shipment ids: from the sequence on PostgreSQL (other runs draw from it too);
    after the highest on SQLite (the write transaction is exclusive)."""
    if n == 0:
        return np.zeros(0, np.int64)
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('shipments', 'shipment_id')) "
            f"FROM generate_series(1, {int(n)})"
        ).all()
        return np.array([r[0] for r in rows], np.int64)
    top = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(schema.shipments.c.shipment_id), 0))
    ).scalar_one()
    return np.arange(top + 1, top + 1 + n, dtype=np.int64)


def write_shipments(
    conn: sa.Connection, lines: pl.DataFrame, orders: pl.DataFrame, default_carrier: str, at: datetime
) -> pl.DataFrame:
    """One shipment per order (its host, for merged orders), ship part and warehouse, stage
    allocated, with its lines. Carrier: the order's, else the shop's default (S5); a
    supplier drop-ships (S17, S23 step 3). Returns the lines with their shipment_id."""
    weights = read_by_keys(conn, schema.skus, ["sku", "weight_g"], "sku", lines["sku"].unique().to_list())
    parts = (
        lines.join(weights, on="sku", how="left")
        .group_by("host_no", "ship_part", "warehouse_code", "warehouse_kind")
        .agg((pl.col("quantity") * pl.col("weight_g")).sum().alias("expected_weight_g"))
        .sort("host_no", "ship_part", "warehouse_code")
    )
    parts = parts.with_columns(pl.Series("shipment_id", _new_ids(conn, parts.height)))
    carrier = orders.select(
        pl.col("order_no").alias("host_no"),
        pl.col("carrier_code").fill_null(default_carrier).alias("_carrier"),
    )
    parts = parts.join(carrier, on="host_no", how="left").with_columns(
        pl.when(pl.col("warehouse_kind") == "supplier")
        .then(pl.lit(DROPSHIP_CARRIER))
        .otherwise(pl.col("_carrier").fill_null(default_carrier))
        .alias("carrier_code")
    )
    method = (
        pl.when(pl.col("carrier_code") == DROPSHIP_CARRIER)
        .then(pl.lit(str(ShipMethod.SELF_ARRANGED)))
        .when(pl.col("carrier_code") == NO_LOGISTICS_CARRIER)
        .then(pl.lit(str(ShipMethod.NO_LOGISTICS)))
        .otherwise(pl.lit(str(ShipMethod.ONLINE_BOOKING)))
    )
    stamp = pl.lit(at, pl.Datetime("us"))
    insert_frame(
        conn,
        schema.shipments,
        parts.select(
            "shipment_id",
            pl.col("host_no").alias("order_no"),
            "warehouse_code",
            "carrier_code",
            method.alias("ship_method"),
            pl.lit(str(ShipmentStage.ALLOCATED)).alias("stage"),
            pl.lit("pending").alias("tracking_status"),
            pl.col("expected_weight_g").cast(pl.Int64),
            stamp.alias("created_at"),
            pl.lit(0, pl.Int64).alias("version"),
            stamp.alias("updated_at"),
        ),
    )
    lines = lines.join(
        parts.select("host_no", "ship_part", "warehouse_code", "shipment_id"),
        on=["host_no", "ship_part", "warehouse_code"],
    )
    insert_frame(
        conn, schema.shipment_lines, lines.select("shipment_id", "order_no", "line_no", "sku", "quantity")
    )
    return lines


def write_reservations(
    conn: sa.Connection, lines: pl.DataFrame, actor: StaffMember, at: datetime, batch_id: int | None
) -> None:
    """A reservation row and a `reservation` ledger row per served line."""
    rows = reservation_rows(lines, at, batch_id)
    insert_frame(conn, schema.reservations, rows)
    insert_frame(
        conn,
        schema.stock_ledger,
        ledger_rows(
            reservation_moves(rows),
            actor.name,
            at,
            batch_id,
        ),
    )


_PG_ORDERS = """
UPDATE orders o SET stage = k.stage, version = k.version, updated_at = k.updated_at
FROM unnest(%s::text[], %s::text[], %s::int[], %s::timestamp[], %s::int[])
     AS k(no, stage, version, updated_at, old)
WHERE o.order_no = k.no AND o.version = k.old
"""


def write_orders(
    conn: sa.Connection, planned: Planned, keys: pl.Series, actor: StaffMember, batch_id: int | None = None
) -> int:
    """Write a planned transition for the orders among `keys`, with its audit rows; the rows
    are locked, so every guarded update must land. Returns the orders changed."""
    rows = planned.rows.filter(pl.col("order_no").is_in(keys.implode()))
    if rows.height == 0:
        return 0
    trail = planned.trail.filter(pl.col("key").is_in(keys.implode()))
    cols = ["order_no", "stage", "version", "updated_at", "_old_version"]
    if conn.dialect.name == "postgresql" and set(planned.columns) == {"stage", "version", "updated_at"}:
        cur = conn.connection.driver_connection.cursor()
        try:
            cur.execute(_PG_ORDERS, tuple(rows[c].to_list() for c in cols))
            changed = cur.rowcount
        finally:
            cur.close()
    else:
        changed = update_frame(
            conn,
            schema.orders,
            rows.select(*planned.columns, "order_no", "_old_version"),
            "order_no",
            guard="version",
        )
    if changed != rows.height:  # rows are locked: only a bug gets here
        raise RuntimeError(f"{rows.height - changed} locked orders changed under an allocation run")
    rows = (
        replace(planned, trail=trail)
        .audit_rows(actor)
        .with_columns(pl.lit(batch_id, pl.Int64).alias("batch_id"))
    )
    insert_frame(conn, schema.audit, rows)
    return changed


def backorder_reasons(short: pl.DataFrame) -> pl.DataFrame:
    """Per order, the text staff read on a backordered order: each SKU and what it misses."""
    item = (
        pl.when(pl.col("warehouse_code").is_null())
        .then(message_expr("allocation.missing_item", sku="sku", missing="missing"))
        .otherwise(
            message_expr(
                "allocation.missing_item_at", sku="sku", warehouse="warehouse_code", missing="missing"
            )
        )
    )
    return (
        short.sort("order_no", "line_no")
        .group_by("order_no", maintain_order=True)
        .agg(item.str.join("、").alias("_items"))
        .select(
            pl.col("order_no").alias("key"),
            message_expr("allocation.backorder_reason", items="_items").alias("reason"),
        )
    )


def write_backorders(
    conn: sa.Connection, short: pl.DataFrame, allocated: pl.Series, at: datetime, batch_id: int | None
) -> None:
    """Keep `backorders` current: open rows for the lines short now (updated in place when
    already open), rows of allocated orders marked allocated, rows no longer short closed."""
    bo = schema.backorders
    touched = pl.concat([short["order_no"], allocated]).unique().to_list()
    old = read_by_keys(conn, bo, ["backorder_id", "order_no", "line_no", "status"], "order_no", touched)
    old = old.filter(pl.col("status") == "open")
    stamp = pl.lit(at, pl.Datetime("us"))
    matched = old.join(short, on=["order_no", "line_no"], how="inner")
    done = old.join(short, on=["order_no", "line_no"], how="anti").with_columns(
        pl.when(pl.col("order_no").is_in(allocated.implode()))
        .then(pl.lit("allocated"))
        .otherwise(pl.lit("closed"))
        .alias("_new")
    )
    if matched.height:
        update_frame(
            conn,
            bo,
            matched.select("backorder_id", "missing", "warehouse_code", stamp.alias("updated_at")),
            "backorder_id",
        )
    if done.height:
        update_frame(
            conn,
            bo,
            done.select(
                "backorder_id",
                pl.col("_new").alias("status"),
                stamp.alias("updated_at"),
                stamp.alias("closed_at"),
            ),
            "backorder_id",
        )
    fresh = short.join(old, on=["order_no", "line_no"], how="anti")
    insert_frame(
        conn,
        bo,
        fresh.select(
            "order_no",
            "line_no",
            "sku",
            "quantity",
            "missing",
            "warehouse_code",
            pl.lit("open").alias("status"),
            stamp.alias("since"),
            stamp.alias("updated_at"),
            pl.lit(batch_id, pl.Int64).alias("batch_id"),
        ),
    )

"""One allocation batch read from the database and turned into arrays for the decision:
the orders (locked), their lines in priority order, the warehouses and their nearness,
pins, drop-ship SKUs, and a snapshot of available stock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from kit.allocation.decide import DROPSHIP, PINNED, REGULAR, Problem
from kit.allocation.policy import AllocationPolicy
from kit.allocation.ranking import province_index, scores
from kit.models import Stage
from kit.stock.levels import lock_skus
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

__all__ = ["ORDER_COLUMNS", "WAITING", "Batch", "lock_orders", "read_batch"]

WAITING = (str(Stage.APPROVED), str(Stage.BACKORDERED))
ORDER_COLUMNS = [
    "order_no",
    "stage",
    "trade_status",
    "version",
    "updated_at",
    "province",
    "carrier_code",
    "paid_at",
    "created_at",
    "merged_into",
]


@dataclass
class Batch:
    """A batch ready to decide: the arrays, and the frames to write the decision back."""

    problem: Problem
    orders: pl.DataFrame  # ORDER_COLUMNS + host_no (the order it ships with)
    lines: pl.DataFrame  # order_no, line_no, sku, quantity, ship_part, host_no, line index order
    warehouses: pl.DataFrame  # code, kind, …; row i is warehouse id i
    skus: pl.Series  # sku id i is skus[i]
    base: np.ndarray  # the availability snapshot (never used up)
    own: np.ndarray
    suppliers: np.ndarray


def lock_orders(conn: sa.Connection, order_nos: list[str]) -> pl.DataFrame:
    """The orders among `order_nos` still waiting for allocation (approved or backordered),
    locked for the transaction; on PostgreSQL an order another run holds is skipped."""
    o = schema.orders
    if conn.dialect.name != "postgresql":  # SQLite: the write transaction holds the lock
        return read_by_keys(conn, o, ORDER_COLUMNS, "order_no", order_nos).filter(
            pl.col("stage").is_in(WAITING)
        )
    array = sa.bindparam("_keys", value=list(order_nos), type_=postgresql.ARRAY(sa.Text()))
    stmt = (
        sa.select(*(o.c[c] for c in ORDER_COLUMNS))
        .where(o.c.order_no == sa.any_(array), o.c.stage.in_(WAITING))
        .order_by(o.c.order_no)
        .with_for_update(skip_locked=True)
    )
    return read_frame(conn, stmt)


def _priority(orders: pl.DataFrame) -> pl.DataFrame:
    """Orders with their host (a merged order ships with its host when the host is in the
    batch) and the host's rank: first paid, first served."""
    ranked = orders.sort(pl.col("paid_at").fill_null(pl.col("created_at")), "order_no").with_row_index(
        "_rank"
    )
    present = ranked["order_no"].implode()
    ranked = ranked.with_columns(
        pl.when(pl.col("merged_into").is_in(present))
        .then(pl.col("merged_into"))
        .otherwise(pl.col("order_no"))
        .alias("host_no"),
        province_index(ranked["province"]).alias("_prov"),
    )
    host = ranked.select(
        pl.col("order_no").alias("host_no"),
        pl.col("_rank").alias("_host_rank"),
        pl.col("_prov").alias("_host_prov"),
    )
    return ranked.join(host, on="host_no", how="left").drop("_rank", "_prov")


def _runs(*keys: pl.Expr) -> pl.Expr:
    """0, 1, 2, … numbering the runs of equal keys in a sorted frame."""
    changed = pl.any_horizontal([k.ne_missing(k.shift(1)) for k in keys])
    return changed.cast(pl.Int64).cum_sum() - 1


def read_batch(conn: sa.Connection, orders: pl.DataFrame, policy: AllocationPolicy) -> Batch:
    """Read the lines, warehouses, pins and stock of these (locked) orders into a Batch."""
    orders = _priority(orders)
    lines = read_by_keys(
        conn,
        schema.order_lines,
        ["order_no", "line_no", "sku", "quantity", "ship_part"],
        "order_no",
        orders["order_no"].to_list(),
    )
    lines = lines.join(orders.select("order_no", "host_no", "_host_rank", "_host_prov"), on="order_no")
    warehouses = read_frame(conn, sa.select(schema.warehouses).order_by(schema.warehouses.c.code))
    near = scores(warehouses)
    codes = warehouses["code"]
    supplier = (warehouses["kind"] == "supplier").to_numpy()
    own, suppliers = np.flatnonzero(~supplier), np.flatnonzero(supplier)
    skus = lines["sku"].unique().sort()
    # Every stock row the batch may use is locked now, in (warehouse, sku) order: a row locked
    # later, when the batch decides again, would be taken out of order and could close a
    # deadlock cycle with a staff member's stock move (kit.stock.levels).
    stock = lock_skus(conn, skus.to_list())
    wh_id = {c: i for i, c in enumerate(codes.to_list())}
    sku_ids = pl.DataFrame({"sku": skus}).with_row_index("sku_id")
    stock = stock.join(sku_ids, on="sku").with_columns(
        pl.col("warehouse_code").replace_strict(wh_id, return_dtype=pl.Int64).alias("wh_id")
    )
    n_skus = max(skus.len(), 1)
    base = np.zeros(len(codes) * n_skus, np.int64)
    base[(stock["wh_id"] * n_skus + stock["sku_id"]).to_numpy()] = (
        stock["on_hand"] - stock["reserved"]
    ).to_numpy()
    pins = read_frame(conn, sa.select(schema.sku_pins.c.sku, schema.sku_pins.c.warehouse_code))
    pins = pins.with_columns(
        pl.col("warehouse_code").replace_strict(wh_id, return_dtype=pl.Int64).alias("pin")
    )
    dropped = (
        stock.filter(pl.col("wh_id").is_in(suppliers.tolist()))["sku"].unique()
        if policy.dropship
        else pl.Series("sku", [], pl.String)
    )
    lines = (
        lines.join(sku_ids, on="sku")
        .join(pins.select("sku", "pin"), on="sku", how="left")
        .sort("_host_rank", "ship_part", "order_no", "line_no")
        .with_columns(
            _runs(pl.col("_host_rank")).alias("host"),
            _runs(pl.col("_host_rank"), pl.col("ship_part")).alias("group"),
            pl.col("_host_prov").alias("province"),
            pl.when(pl.col("pin").is_not_null())
            .then(PINNED)
            .when(pl.col("sku").is_in(dropped.implode()))
            .then(DROPSHIP)
            .otherwise(REGULAR)
            .alias("kind"),
        )
    )
    rank = np.asarray(near.to_numpy())  # (provinces + 1) × warehouses
    problem = Problem(
        host=lines["host"].to_numpy(),
        group=lines["group"].to_numpy(),
        sku=lines["sku_id"].to_numpy(),
        qty=lines["quantity"].to_numpy(),
        province=lines["province"].to_numpy(),
        kind=lines["kind"].to_numpy(),
        pin=lines["pin"].fill_null(-1).to_numpy(),
        avail=base.copy(),
        n_skus=n_skus,
        own_rank=own[np.argsort(rank[:, own], axis=1, kind="stable")],
        supplier_rank=suppliers[np.argsort(rank[:, suppliers], axis=1, kind="stable")],
        score=rank,
    )
    return Batch(
        problem,
        orders,
        lines.select("order_no", "line_no", "sku", "quantity", "ship_part", "host_no"),
        warehouses,
        skus,
        base,
        own,
        suppliers,
    )

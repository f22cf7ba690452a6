"""A shortage found on the shelf at picking goes back to the stock flow (S7): the level is
corrected, the order's stock released and the order backordered with what it misses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput, Refused
from kit.i18n import t
from kit.lifecycle import apply_many
from kit.lifecycle.apply import read_rows
from kit.lifecycle.followups import cancel_shipments
from kit.models import ShipmentStage
from kit.permissions import require
from kit.shop import Shop
from kit.stock.ledger import new_batch, post
from kit.stock.levels import lock_skus
from kit.stock.reservations import release
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

__all__ = ["report_short"]


def report_short(
    shop: Shop, shipment_id: int, sku: str, found: int, *, reason: str | None = None
) -> dict[str, Any]:
    """A shortage found at picking (S7): only `found` of the units this shipment needs of `sku`
    are on the shelf. The level is corrected by the shortfall (a `count` ledger row), the
    order's open shipments are cancelled and their stock released, and the order is
    backordered with what it misses, for the shortage list and the next allocation run."""
    actor = require(shop.actor, "report_short_pick")
    if isinstance(found, bool) or not isinstance(found, int):
        raise BadInput("picking.bad_found_type", sku=sku, found=found)
    moment = clock.now()
    with shop.store.write() as conn:
        order_no = conn.execute(
            sa.select(schema.shipments.c.order_no).where(schema.shipments.c.shipment_id == int(shipment_id))
        ).scalar()
        if order_no is None:
            raise BadInput("picking.unknown_shipment", shipment_id=shipment_id)
        # Lock the order's shipments, then the order (the order packing and hand-over keep), and
        # only then read the stages: a parcel packed meanwhile is seen, not cancelled.
        others = _lock_order_shipments(conn, order_no)
        read_rows(conn, "order", [order_no])
        ship = others.filter(pl.col("shipment_id") == int(shipment_id)).row(0, named=True)
        if ship["stage"] != str(ShipmentStage.PICKING):
            raise Refused(
                "picking.short_not_picking",
                shipment_id=shipment_id,
                stage=t(f"shipment_stage.{ship['stage']}"),
            )
        lines = read_by_keys(
            conn, schema.shipment_lines, ["line_no", "sku", "quantity"], "shipment_id", [int(shipment_id)]
        )
        needed_rows = lines.filter(pl.col("sku").str.to_uppercase() == sku.strip().upper())
        needed = int(needed_rows["quantity"].sum()) if needed_rows.height else 0
        if needed == 0:
            raise BadInput("picking.sku_not_in_shipment", shipment_id=shipment_id, sku=sku)
        sku = needed_rows["sku"][0]
        if not 0 <= found < needed:
            raise BadInput("picking.bad_found", sku=sku, found=found, needed=needed, needed_less=needed - 1)
        warehouse = ship["warehouse_code"]
        gone = others.filter(
            pl.col("stage").is_in(
                [str(ShipmentStage.PACKED), str(ShipmentStage.HANDED_OVER), str(ShipmentStage.CONFIRMED)]
            )
        )
        if gone.height:
            raise Refused("picking.short_part_packed", order_no=order_no, shipment_id=gone["shipment_id"][0])
        why = reason or t("picking.short_reason", sku=sku, found=found, needed=needed)
        batch_id = new_batch(conn, "short_pick", f"shipment {shipment_id}", actor, moment, lines=1)
        moved = apply_many(conn, "order", [order_no], "backorder", actor, reason=why, now=moment)
        if moved.refused:
            raise moved.refused[0][1]
        held = read_by_keys(conn, schema.reservations, ["sku"], "order_no", [order_no])
        lock_skus(conn, sorted({sku, *held["sku"].to_list()}))  # then its stock, as every writer does
        cancel_shipments(conn, [order_no], actor, why, moment)
        released = release(conn, [order_no], why, actor, at=moment, batch_id=batch_id)
        level = conn.execute(
            sa.select(schema.stock_levels.c.on_hand, schema.stock_levels.c.reserved).where(
                schema.stock_levels.c.warehouse_code == warehouse, schema.stock_levels.c.sku == sku
            )
        ).one()
        shortfall = needed - int(found)
        corrected = min(shortfall, int(level.on_hand) - int(level.reserved))
        if corrected > 0:
            post(
                conn,
                pl.DataFrame(
                    {
                        "warehouse_code": [warehouse],
                        "sku": [sku],
                        "kind": ["count"],
                        "on_hand_delta": [-corrected],
                        "order_no": [order_no],
                        "shipment_id": [int(shipment_id)],
                        "reason": [why],
                    }
                ),
                actor,
                at=moment,
                batch_id=batch_id,
            )
        short = _spread(needed_rows, shortfall).with_columns(
            pl.lit(order_no).alias("order_no"), pl.lit(warehouse).alias("warehouse_code")
        )
        _open_backorders(conn, short, moment, batch_id)
    return {
        "order_no": order_no,
        "shipment_id": int(shipment_id),
        "sku": sku,
        "needed": needed,
        "found": int(found),
        "corrected": max(corrected, 0),
        "released": released.height,
        "batch_id": batch_id,
    }


def _spread(lines: pl.DataFrame, shortfall: int) -> pl.DataFrame:
    """The shortfall of one SKU spread over its lines, the last lines first (line_no, sku,
    quantity, missing): two lines of one SKU short by one unit miss one unit between them."""
    ordered = lines.sort("line_no", descending=True).with_columns(pl.col("quantity").cast(pl.Int64))
    left = (shortfall - (pl.col("quantity").cum_sum() - pl.col("quantity"))).clip(0)
    return (
        ordered.with_columns(pl.min_horizontal(pl.col("quantity"), left).alias("missing"))
        .filter(pl.col("missing") > 0)
        .select(pl.col("line_no").cast(pl.Int64), "sku", "quantity", "missing")
        .sort("line_no")
    )


def _lock_order_shipments(conn: sa.Connection, order_no: str) -> pl.DataFrame:
    """The order's shipments (id, stage, warehouse), locked in id order on PostgreSQL."""
    sh = schema.shipments
    stmt = (
        sa.select(sh.c.shipment_id, sh.c.stage, sh.c.warehouse_code)
        .where(sh.c.order_no == order_no)
        .order_by(sh.c.shipment_id)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return read_frame(conn, stmt)


def _open_backorders(conn: sa.Connection, short: pl.DataFrame, at: datetime, batch_id: int) -> None:
    """Open backorder rows for the lines found short (one open row per line: updated in place)."""
    from kit.allocation.write import write_backorders  # allocation builds on picking's neighbours

    write_backorders(conn, short, pl.Series("order_no", [], pl.String), at, batch_id)

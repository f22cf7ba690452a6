"""A parcel sent after the first one: a reship for a lost or damaged parcel (S21,
kit.exceptions) or the outbound parcel of an exchange or repair (S24d, kit.aftersales).

`send_again` writes it in the caller's transaction as an allocated shipment of the same order
with its own lines and reservations, linked to what it replaces or serves, and audits its
creation. From there it is picked, packed, handed over and confirmed like any parcel; the
order, already shipped, does not move back (kit.lifecycle.rollup moves only orders still in
the stage before).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa

from kit.errors import BadInput, Refused
from kit.lifecycle import audit_rows
from kit.models import ShipmentStage, StaffMember, TradeStatus
from kit.stock.reservations import reserve
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys

__all__ = ["CLOSED_TRADES", "send_again"]

CLOSED_TRADES = (str(TradeStatus.TRADE_CLOSED), str(TradeStatus.TRADE_CLOSED_BY_TAOBAO))


def send_again(
    conn: sa.Connection,
    actor: StaffMember,
    *,
    order_no: str,
    lines: pl.DataFrame,
    warehouse_code: str,
    carrier_code: str,
    ship_method: str,
    at: datetime,
    reason: str,
    replaces: int | None = None,
    after_sale_id: int | None = None,
) -> int:
    """A new allocated shipment of `order_no` with `lines` (line_no, sku, quantity: the order
    line each unit answers to, and the SKU sent, which an exchange may change), its stock
    reserved in `warehouse_code` (Refused naming the items when there is not enough), linked
    to the shipment it `replaces` or the after-sale case it serves; its id. Refused for an
    order whose trade is closed (refunded in full, or closed by the platform)."""
    if lines.height == 0:
        raise BadInput("linked.no_lines", order_no=order_no)
    trade = conn.execute(
        sa.select(schema.orders.c.trade_status).where(schema.orders.c.order_no == order_no)
    ).scalar()
    if trade in CLOSED_TRADES:  # refunded in full, or closed by the platform: nothing is owed
        raise Refused("linked.trade_closed", order_no=order_no, status=TradeStatus(trade).label)
    lines = lines.select(pl.col("line_no").cast(pl.Int64), pl.col("sku").cast(pl.String),
                         pl.col("quantity").cast(pl.Int64))
    weights = read_by_keys(conn, schema.skus, ["sku", "weight_g"], "sku", lines["sku"].unique().to_list())
    expected = lines.join(weights, on="sku", how="left").select(
        (pl.col("quantity") * pl.col("weight_g").fill_null(0)).sum()
    ).item()
    shipment_id = conn.execute(
        schema.shipments.insert()
        .values(
            order_no=order_no,
            warehouse_code=warehouse_code,
            carrier_code=carrier_code,
            ship_method=ship_method,
            stage=str(ShipmentStage.ALLOCATED),
            tracking_status="pending",
            expected_weight_g=int(expected or 0),
            created_at=at,
            version=0,
            updated_at=at,
            replaces_shipment_id=replaces,
            after_sale_id=after_sale_id,
        )
        .returning(schema.shipments.c.shipment_id)
    ).scalar_one()
    shipment_id = int(shipment_id)
    insert_frame(
        conn,
        schema.shipment_lines,
        lines.select(
            pl.lit(shipment_id, pl.Int64).alias("shipment_id"),
            pl.lit(order_no).alias("order_no"),
            "line_no",
            "sku",
            "quantity",
        ),
    )
    reserve(
        conn,
        lines.with_columns(
            pl.lit(order_no).alias("order_no"),
            pl.lit(warehouse_code).alias("warehouse_code"),
            pl.lit(shipment_id, pl.Int64).alias("shipment_id"),
        ),
        actor,
        at=at,
        reason=reason,
    )
    insert_frame(
        conn,
        schema.audit,
        audit_rows(
            pl.DataFrame(
                {
                    "entity_id": [str(shipment_id)],
                    "field": ["stage"],
                    "from_state": [None],
                    "to_state": [str(ShipmentStage.ALLOCATED)],
                    "reason": [reason],
                },
                schema={"entity_id": pl.String, "field": pl.String, "from_state": pl.String,
                        "to_state": pl.String, "reason": pl.String},
            ),
            actor,
            at,
            "shipment",
            "send_again",
        ),
    )
    return shipment_id

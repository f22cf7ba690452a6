"""What a transition sets going in the same transaction: an order that ends up cancelled
(cancelled by staff, or its trade closed by a refund or by the platform before it
shipped) gives back everything its fulfilment held (S3, S20, S24b):

- its open shipments (allocated, picking, packed) are cancelled through the lifecycle;
- the stock reserved for it is released, with `release` rows in the stock ledger;
- its open backorders are closed, and stockout notices still queued for it are withdrawn.

The stock and outbox code is imported here lazily: kit.stock builds on kit.lifecycle.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa

from kit.models import ShipmentStage, StaffMember, Stage
from kit.store import schema
from kit.store.frames import read_by_keys

__all__ = ["OPEN_SHIPMENT_STAGES", "after", "cancel_fulfilment", "cancel_shipments"]

OPEN_SHIPMENT_STAGES = (str(ShipmentStage.ALLOCATED), str(ShipmentStage.PICKING), str(ShipmentStage.PACKED))


def after(conn: sa.Connection, entity: str, trail: pl.DataFrame, actor: StaffMember, at: datetime) -> None:
    """Run the follow-ups of the changes in `trail` (key, field, from_state, to_state, reason)."""
    if entity != "order" or trail.height == 0:
        return
    cancelled = trail.filter((pl.col("field") == "stage") & (pl.col("to_state") == str(Stage.CANCELLED)))
    if cancelled.height:
        reason = next((r for r in cancelled["reason"].to_list() if r), None)
        cancel_fulfilment(conn, cancelled["key"].unique().to_list(), actor, reason, at)


def cancel_fulfilment(
    conn: sa.Connection, order_nos: list[str], actor: StaffMember, reason: str | None, at: datetime
) -> dict[str, int]:
    """Cancel these (cancelled) orders' open shipments, release their reservations, close
    their backorders and withdraw their queued notices. Returns what it did, by kind."""
    from kit.i18n import t
    from kit.outbox import withdraw
    from kit.stock.reservations import release

    why = reason or t("stock.order_cancelled")
    open_ids = cancel_shipments(conn, order_nos, actor, why, at)
    released = release(conn, order_nos, why, actor, at=at)
    bo = schema.backorders
    closed = (
        read_by_keys(conn, bo, ["backorder_id", "status"], "order_no", order_nos)
        .filter(pl.col("status") == "open")["backorder_id"]
        .to_list()
    )
    if closed:
        conn.execute(
            bo.update()
            .where(bo.c.backorder_id.in_(closed))
            .values(status="closed", updated_at=at, closed_at=at)
        )
    queued = withdraw(conn, order_nos, actor, at, reason=why)
    return {
        "shipments": len(open_ids),
        "reservations": released.height,
        "backorders": len(closed),
        "notices": queued,
    }


def cancel_shipments(
    conn: sa.Connection, order_nos: list[str], actor: StaffMember, reason: str, at: datetime
) -> list[int]:
    """Cancel these orders' open shipments (allocated, picking, packed) through the lifecycle;
    goods already taken off the shelf for them (packed: reservations `picked`) go back on
    hand with a `return` ledger row. Returns the shipment ids cancelled."""
    from kit.lifecycle.apply import apply_many
    from kit.stock.reservations import restock

    shipments = read_by_keys(conn, schema.shipments, ["shipment_id", "stage"], "order_no", order_nos)
    open_ids = shipments.filter(pl.col("stage").is_in(OPEN_SHIPMENT_STAGES))["shipment_id"].to_list()
    if open_ids:
        apply_many(conn, "shipment", open_ids, "cancel", actor, reason=reason, now=at)
        restock(conn, open_ids, reason, actor, at=at)
    return [int(i) for i in open_ids]

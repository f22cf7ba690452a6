"""Orders as frames: bulk insert with their lines, queries, and counts per state."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit.errors import BadInput, NotFound
from kit.models import (
    Order,
    OrderLine,
    ShipmentStage,
    StaffMember,
    Stage,
    TrackingStatus,
    TradeStatus,
)
from kit.store import schema
from kit.store.frames import check_columns, insert_frame, read_frame

ORDER_DEFAULTS: dict[str, Any] = {
    "stage": str(Stage.NEW),
    "version": 0,
}


def insert_orders(
    conn: sa.Connection,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    *,
    actor: StaffMember,
    kind: str,
    source: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> int:
    """Insert orders and their lines as one batch with its audit row; return the batch id.

    Whole frames, three statements: the batch row, the orders, the lines. The batch's
    audit row records who registered how many orders from where.
    """
    orders = orders.with_columns(
        *[pl.lit(v).alias(k) for k, v in ORDER_DEFAULTS.items() if k not in orders.columns],
        pl.lit(now).alias("updated_at"),
    )
    check_columns(schema.orders, orders.with_columns(pl.lit(0).alias("batch_id")))
    check_columns(schema.order_lines, lines)
    batch_id = conn.execute(
        schema.batches.insert()
        .values(kind=kind, source=source, actor=actor.name, role=str(actor.role), at=now,
                orders=orders.height, lines=lines.height,
                details=json.dumps(details, ensure_ascii=False) if details else None)
        .returning(schema.batches.c.batch_id)
    ).scalar_one()
    try:
        insert_frame(conn, schema.orders, orders.with_columns(pl.lit(batch_id).alias("batch_id")))
        insert_frame(conn, schema.order_lines, lines)
    except sa.exc.IntegrityError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise BadInput("orders.integrity", source=source, detail=detail) from None
    conn.execute(schema.audit.insert().values(
        at=now, actor=actor.name, role=str(actor.role), entity="batch", entity_id=str(batch_id),
        action="insert_orders", to_state=str(orders.height), reason=source, batch_id=batch_id,
    ))
    return batch_id


def status_counts(conn: sa.Connection) -> dict[str, Any]:
    """Orders per trade status and per fulfilment stage, and shipments per stage."""
    o, s = schema.orders, schema.shipments

    def counts(table: sa.Table, column: str, states: list[str]) -> dict[str, int]:
        rows = conn.execute(sa.select(table.c[column], sa.func.count()).group_by(table.c[column]))
        found = {k: int(n) for k, n in rows}
        return {state: found.pop(state, 0) for state in states} | found

    by_trade = counts(o, "trade_status", [str(x) for x in TradeStatus])
    by_stage = counts(o, "stage", [str(x) for x in Stage])
    by_shipment = counts(s, "stage", [str(x) for x in ShipmentStage])
    return {
        "orders": sum(by_trade.values()),
        "trade_status": by_trade,
        "stage": by_stage,
        "shipments_total": sum(by_shipment.values()),
        "shipments": by_shipment,
        "tracking_status": counts(s, "tracking_status", [str(x) for x in TrackingStatus]),
    }


def orders_frame(
    conn: sa.Connection,
    *,
    stage: str | list[str] | None = None,
    trade_status: str | list[str] | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Orders (without lines) as a frame, filtered by stage and trade status."""
    o = schema.orders
    stmt = sa.select(o).order_by(o.c.paid_at, o.c.order_no)
    for column, wanted in (("stage", stage), ("trade_status", trade_status)):
        if wanted is not None:
            stmt = stmt.where(o.c[column].in_([wanted] if isinstance(wanted, str) else wanted))
    if limit is not None:
        stmt = stmt.limit(limit)
    return read_frame(conn, stmt)


def lines_frame(conn: sa.Connection, order_nos: list[str] | None = None) -> pl.DataFrame:
    """Order lines as a frame, for some orders or all."""
    ol = schema.order_lines
    stmt = sa.select(ol).order_by(ol.c.order_no, ol.c.line_no)
    if order_nos is not None:
        stmt = stmt.where(ol.c.order_no.in_(order_nos))
    return read_frame(conn, stmt)


def load_order(conn: sa.Connection, order_no: str) -> Order:
    """One order with its lines; NotFound when there is none."""
    stmt = sa.select(schema.orders).where(schema.orders.c.order_no == order_no)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise NotFound("orders.not_found", order_no=order_no)
    lines = conn.execute(
        sa.select(schema.order_lines).where(schema.order_lines.c.order_no == order_no)
        .order_by(schema.order_lines.c.line_no)
    ).mappings()
    return Order.from_row(row, tuple(OrderLine.from_row(r) for r in lines))

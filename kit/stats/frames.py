"""The columns the statistics need, read from the database into polars once: one query per
table (a join or a grouped subquery inside it where that saves a second read), never a query
per row. Each reader returns a frame with the documented schema, empty but typed when the
window holds nothing; the metrics in kit.stats.metrics take these frames and nothing else,
so that a benchmark or a notebook can feed them frames of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from kit.models import ShipmentStage, Stage
from kit.stats.periods import Window
from kit.store import schema
from kit.store.frames import read_frame

_US = pl.Datetime("us")
STR, INT, TIME = pl.String(), pl.Int64(), _US

SHIPMENTS: dict[str, pl.DataType] = {
    "shipment_id": INT,
    "order_no": STR,
    "shop": STR,
    "warehouse_code": STR,
    "carrier_code": STR,
    "stage": STR,
    "tracking_status": STR,
    "tracking_no": STR,
    "weight_g": INT,
    "parcels": INT,
    "created_at": TIME,
    "packed_at": TIME,
    "packed_by": STR,
    "handed_over_at": TIME,
    "handed_over_by": STR,
    "confirmed_at": TIME,
    "paid_at": TIME,
    "ship_by": TIME,
    "origin_province": STR,
    "province": STR,
}
"""One row per parcel handed over (a shipment: one or more boxes): who, where, when, how heavy."""

ORDERS: dict[str, pl.DataType] = {
    "order_no": STR,
    "shop": STR,
    "platform": STR,
    "stage": STR,
    "trade_status": STR,
    "paid_at": TIME,
    "ship_by": TIME,
    "approved_at": TIME,
    "handed_over_at": TIME,
    "confirmed_at": TIME,
    "merged": pl.Boolean(),
}
"""One row per order with its milestones: paid, approved, first parcel handed over, all confirmed."""

LINES: dict[str, pl.DataType] = {
    "shipment_id": INT,
    "sku": STR,
    "quantity": INT,
    "category": STR,
    "title": STR,
}
"""What each shipment carries, with the SKU's category."""

EXCEPTIONS: dict[str, pl.DataType] = {
    "case_id": INT,
    "shipment_id": INT,
    "kind": STR,
    "state": STR,
    "opened_at": TIME,
}
"""Delivery exception cases (S21) of the shipments handed over in the window."""

AFTER_SALES: dict[str, pl.DataType] = {
    "case_id": INT,
    "order_no": STR,
    "kind": STR,
    "refund_status": STR,
    "reason": STR,
    "amount_fen": INT,
    "created_at": TIME,
    "closed_at": TIME,
}
"""After-sale cases (refund, return, exchange, repair) opened in the window."""

BACKORDERS: dict[str, pl.DataType] = {
    "backorder_id": INT,
    "order_no": STR,
    "sku": STR,
    "warehouse_code": STR,
    "missing": INT,
    "status": STR,
    "since": TIME,
    "closed_at": TIME,
}
"""Order lines waiting for stock (S24b) that were open at some moment of the window."""

NOTICES: dict[str, pl.DataType] = {
    "notice_id": INT,
    "order_no": STR,
    "status": STR,
    "created_at": TIME,
    "due_at": TIME,
    "sent_at": TIME,
}
"""Stockout notices to buyers (S20) queued in the window: due within 24 working hours."""


def typed(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """The frame with exactly these columns in this order and these types (missing ones null)."""
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in columns.items()
        ]
    )


def empty(columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with these columns."""
    return pl.DataFrame(schema=columns)


def _in(column: sa.ColumnElement, win: Window) -> sa.ColumnElement:
    return sa.and_(column >= win.start, column < win.end)


def read_shipments(conn: sa.Connection, win: Window) -> pl.DataFrame:
    """SHIPMENTS handed over in the window, with their order's shop, payment and deadline, the
    warehouse's province and the count of boxes (a shipment without parcel rows is one box)."""
    s, o, w, p = schema.shipments, schema.orders, schema.warehouses, schema.parcels
    boxes = (
        sa.select(p.c.shipment_id, sa.func.count().label("boxes"))
        .where(p.c.shipment_id.in_(sa.select(s.c.shipment_id).where(_in(s.c.handed_over_at, win))))
        .group_by(p.c.shipment_id)
        .subquery()
    )
    stmt = (
        sa.select(
            s.c.shipment_id,
            s.c.order_no,
            o.c.shop,
            s.c.warehouse_code,
            s.c.carrier_code,
            s.c.stage,
            s.c.tracking_status,
            s.c.tracking_no,
            s.c.weight_g,
            sa.func.coalesce(boxes.c.boxes, 1).label("parcels"),
            s.c.created_at,
            s.c.packed_at,
            s.c.packed_by,
            s.c.handed_over_at,
            s.c.handed_over_by,
            s.c.confirmed_at,
            o.c.paid_at,
            o.c.ship_by,
            w.c.province.label("origin_province"),
            o.c.province,
        )
        .select_from(
            s.join(o, o.c.order_no == s.c.order_no)
            .outerjoin(w, w.c.code == s.c.warehouse_code)
            .outerjoin(boxes, boxes.c.shipment_id == s.c.shipment_id)
        )
        .where(_in(s.c.handed_over_at, win), s.c.stage != ShipmentStage.CANCELLED.value)
    )
    return typed(read_frame(conn, stmt), SHIPMENTS)


def read_orders(conn: sa.Connection, win: Window) -> pl.DataFrame:
    """ORDERS with a milestone in the window, and every paid order still waiting for its first
    hand-over at the window's start (the backlog).

    approved_at is the first audited approval; an order that went past approval without one
    (imported or generated already approved) counts as approved when its first shipment was
    made, the latest moment it can have been approved at. handed_over_at is its first parcel's
    hand-over, confirmed_at the moment its last parcel was confirmed (null until all are).
    """
    o, s, a = schema.orders, schema.shipments, schema.audit
    approvals = (
        sa.select(a.c.entity_id.label("order_no"), sa.func.min(a.c.at).label("at"))
        .where(a.c.entity == "order", a.c.field == "stage", a.c.to_state == Stage.APPROVED.value)
        .group_by(a.c.entity_id)
        .subquery()
    )
    live = s.c.stage != ShipmentStage.CANCELLED.value
    ships = (
        sa.select(
            s.c.order_no,
            sa.func.min(s.c.created_at).label("first_made"),
            sa.func.min(s.c.handed_over_at).label("handed"),
            sa.case(
                (sa.func.count(s.c.confirmed_at) == sa.func.count(), sa.func.max(s.c.confirmed_at))
            ).label("confirmed"),
        )
        .where(live)
        .group_by(s.c.order_no)
        .subquery()
    )
    before_review = o.c.stage.in_([Stage.NEW.value, Stage.HELD.value])
    approved = sa.func.coalesce(approvals.c.at, sa.case((~before_review, ships.c.first_made)))
    waiting = sa.and_(
        o.c.paid_at < win.end,
        o.c.stage != Stage.CANCELLED.value,
        sa.or_(ships.c.handed.is_(None), ships.c.handed >= win.start),
    )
    stmt = (
        sa.select(
            o.c.order_no,
            o.c.shop,
            o.c.platform,
            o.c.stage,
            o.c.trade_status,
            o.c.paid_at,
            o.c.ship_by,
            sa.type_coerce(approved, sa.DateTime).label("approved_at"),
            sa.type_coerce(ships.c.handed, sa.DateTime).label("handed_over_at"),
            sa.type_coerce(ships.c.confirmed, sa.DateTime).label("confirmed_at"),
            o.c.merged_into.is_not(None).label("merged"),
        )
        .select_from(
            o.outerjoin(approvals, approvals.c.order_no == o.c.order_no).outerjoin(
                ships, ships.c.order_no == o.c.order_no
            )
        )
        .where(
            sa.or_(
                _in(o.c.paid_at, win),
                _in(approved, win),
                _in(ships.c.handed, win),
                _in(ships.c.confirmed, win),
                waiting,
            )
        )
    )
    return typed(read_frame(conn, stmt), ORDERS)


def read_lines(conn: sa.Connection, win: Window) -> pl.DataFrame:
    """LINES of the shipments handed over in the window, with each SKU's category."""
    sl, s, k = schema.shipment_lines, schema.shipments, schema.skus
    stmt = (
        sa.select(sl.c.shipment_id, sl.c.sku, sl.c.quantity, k.c.category, k.c.title)
        .select_from(sl.join(s, s.c.shipment_id == sl.c.shipment_id).outerjoin(k, k.c.sku == sl.c.sku))
        .where(_in(s.c.handed_over_at, win), s.c.stage != ShipmentStage.CANCELLED.value)
    )
    return typed(read_frame(conn, stmt), LINES)


def read_exceptions(conn: sa.Connection, win: Window) -> pl.DataFrame:
    """EXCEPTIONS of the parcels handed over in the window, whenever the case was opened."""
    e, s = schema.exception_cases, schema.shipments
    stmt = (
        sa.select(e.c.case_id, e.c.shipment_id, e.c.kind, e.c.state, e.c.opened_at)
        .select_from(e.join(s, s.c.shipment_id == e.c.shipment_id))
        .where(_in(s.c.handed_over_at, win))
    )
    return typed(read_frame(conn, stmt), EXCEPTIONS)


def read_after_sales(conn: sa.Connection, win: Window) -> pl.DataFrame:
    """AFTER_SALES opened in the window."""
    a = schema.after_sales
    stmt = sa.select(
        a.c.case_id,
        a.c.order_no,
        a.c.kind,
        a.c.refund_status,
        a.c.reason,
        a.c.amount_fen,
        a.c.created_at,
        a.c.closed_at,
    ).where(_in(a.c.created_at, win))
    return typed(read_frame(conn, stmt), AFTER_SALES)


def read_backorders(conn: sa.Connection, win: Window) -> pl.DataFrame:
    """BACKORDERS begun before the window's end and not closed before its start."""
    b = schema.backorders
    stmt = sa.select(
        b.c.backorder_id,
        b.c.order_no,
        b.c.sku,
        b.c.warehouse_code,
        b.c.missing,
        b.c.status,
        b.c.since,
        b.c.closed_at,
    ).where(b.c.since < win.end, sa.or_(b.c.closed_at.is_(None), b.c.closed_at >= win.start))
    return typed(read_frame(conn, stmt), BACKORDERS)


def read_notices(conn: sa.Connection, win: Window) -> pl.DataFrame:
    """NOTICES of kind stockout queued in the window (S20)."""
    n = schema.outbox
    stmt = sa.select(n.c.notice_id, n.c.order_no, n.c.status, n.c.created_at, n.c.due_at, n.c.sent_at).where(
        n.c.kind == "stockout", _in(n.c.created_at, win)
    )
    return typed(read_frame(conn, stmt), NOTICES)


@dataclass(frozen=True)
class Frames:
    """Everything the statistics table is computed from, for one window."""

    shipments: pl.DataFrame
    orders: pl.DataFrame
    lines: pl.DataFrame
    exceptions: pl.DataFrame
    after_sales: pl.DataFrame
    backorders: pl.DataFrame
    notices: pl.DataFrame

    @classmethod
    def empty(cls) -> Frames:
        """Frames with no rows (a shop that has recorded nothing yet)."""
        return cls(
            empty(SHIPMENTS),
            empty(ORDERS),
            empty(LINES),
            empty(EXCEPTIONS),
            empty(AFTER_SALES),
            empty(BACKORDERS),
            empty(NOTICES),
        )


def read_all(conn: sa.Connection, win: Window) -> Frames:
    """Every frame of the window, read in the caller's transaction (one snapshot): seven queries."""
    return Frames(
        read_shipments(conn, win),
        read_orders(conn, win),
        read_lines(conn, win),
        read_exceptions(conn, win),
        read_after_sales(conn, win),
        read_backorders(conn, win),
        read_notices(conn, win),
    )

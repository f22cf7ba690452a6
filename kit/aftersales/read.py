"""Reading after-sale cases: the list staff work from, one case with its lines and audit trail,
and what an order still has refundable.

`cases` columns (CASE_COLUMNS):

    case_id, order_no           the case and its order
    kind, kind_label            refund / return / exchange / repair, and its name for staff
    refund_status, status_label Taobao's refund code, and its name
    reason, reason_label        the reason code (kit.models.AfterSaleReason), and its name
    amount_fen                  the money asked for (or refunded, once SUCCESS)
    units                       units of the order's lines the case returns, exchanges or repairs
    owner, created_by           who holds the case, who opened it
    created_at, updated_at      when it was opened, last changed
    age_hours                   hours since it was opened (now − created_at), one decimal
    shipment_id, refund_id      the parcel it is about, the platform's refund number
    return_carrier, return_tracking_no, received_at
                                the buyer's parcel back, and when the goods were checked in
    linked_shipment_id          the exchange's or repair's parcel to the buyer
    exception_id                the delivery exception it settles (kit.exceptions)
    note, closed_at, version    the buyer's words, when it ended, its version (expected_version)
"""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.aftersales.limits import refundable_in
from kit.aftersales.records import case_lines
from kit.errors import BadInput, NotFound
from kit.models import AfterSaleKind, AfterSaleReason, RefundStatus
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

__all__ = ["CASE_COLUMNS", "OPEN_STATUSES", "case", "cases", "refundable"]

# waiting for someone: the seller to agree, the buyer to send the goods, the seller to check them
OPEN_STATUSES = (
    str(RefundStatus.WAIT_SELLER_AGREE),
    str(RefundStatus.WAIT_BUYER_RETURN_GOODS),
    str(RefundStatus.WAIT_SELLER_CONFIRM_GOODS),
)
CASE_COLUMNS = [
    "case_id",
    "order_no",
    "kind",
    "kind_label",
    "refund_status",
    "status_label",
    "reason",
    "reason_label",
    "amount_fen",
    "units",
    "owner",
    "created_by",
    "created_at",
    "updated_at",
    "age_hours",
    "shipment_id",
    "refund_id",
    "return_carrier",
    "return_tracking_no",
    "received_at",
    "linked_shipment_id",
    "exception_id",
    "note",
    "closed_at",
    "version",
]
_US = pl.Datetime("us")


def _labels(frame: pl.DataFrame) -> pl.DataFrame:
    """The kind, status and reason names beside their codes (an unknown code stays as it is)."""
    names = {
        "kind": {str(k): k.label for k in AfterSaleKind},
        "refund_status": {str(s): s.label for s in RefundStatus},
        "reason": {str(r): r.label for r in AfterSaleReason},
    }
    outs = {"kind": "kind_label", "refund_status": "status_label", "reason": "reason_label"}
    return frame.with_columns(
        pl.col(c).replace_strict(m, default=pl.col(c), return_dtype=pl.String).alias(outs[c])
        for c, m in names.items()
    )


def _check_choice(value: str | None, allowed: list[str], key: str) -> None:
    if value is not None and value not in allowed:
        raise BadInput(key, value=value, expected="、".join(allowed))


def cases(
    shop: Shop,
    *,
    status: str | list[str] | None = None,
    kind: str | None = None,
    order_no: str | None = None,
    open_only: bool = False,
) -> pl.DataFrame:
    """After-sale cases (CASE_COLUMNS), oldest first: of a status (or several), a kind, an order,
    or only those waiting for someone (open_only: OPEN_STATUSES)."""
    require(shop.actor, "read")
    statuses = [status] if isinstance(status, str) else list(status or [])
    for s in statuses:
        _check_choice(s, [str(x) for x in RefundStatus], "aftersales.bad_status")
    _check_choice(kind, [str(k) for k in AfterSaleKind], "aftersales.bad_kind_filter")
    a, al = schema.after_sales, schema.after_sale_lines
    units = (
        sa.select(al.c.case_id, sa.func.sum(al.c.quantity).label("units")).group_by(al.c.case_id).subquery()
    )
    stmt = (
        sa.select(a, sa.func.coalesce(units.c.units, 0).label("units"))
        .outerjoin(units, units.c.case_id == a.c.case_id)
        .order_by(a.c.created_at, a.c.case_id)
    )
    if statuses:
        stmt = stmt.where(a.c.refund_status.in_(statuses))
    if open_only:
        stmt = stmt.where(a.c.refund_status.in_(OPEN_STATUSES))
    if kind is not None:
        stmt = stmt.where(a.c.kind == kind)
    if order_no is not None:
        stmt = stmt.where(a.c.order_no == str(order_no))
    with shop.store.read() as conn:
        frame = read_frame(conn, stmt)
    now = clock.now()
    frame = _labels(frame).with_columns(
        pl.col("units").cast(pl.Int64),
        ((pl.lit(now, _US) - pl.col("created_at").cast(_US)).dt.total_seconds() / 3600)
        .round(1)
        .alias("age_hours"),
    )
    return frame.select(CASE_COLUMNS)


def case(shop: Shop, case_id: int) -> dict[str, Any]:
    """One case: its columns with the labels, `lines` (a frame: line_no, sku, title, quantity,
    new_sku, received_good, received_damaged), `audit` (its audit trail, oldest first) and what
    its order still has refundable (refundable_fen)."""
    require(shop.actor, "read")
    a, au = schema.after_sales, schema.audit
    with shop.store.read() as conn:
        row = conn.execute(sa.select(a).where(a.c.case_id == int(case_id))).mappings().first()
        if row is None:
            raise NotFound("aftersales.unknown_case", case_id=case_id)
        titles = read_by_keys(conn, schema.order_lines, ["line_no", "title"], "order_no", [row["order_no"]])
        lines = (
            case_lines(conn, int(case_id))
            .join(titles.with_columns(pl.col("line_no").cast(pl.Int64)), on="line_no", how="left")
            .select("line_no", "sku", "title", "quantity", "new_sku", "received_good", "received_damaged")
        )
        trail = read_frame(
            conn,
            sa.select(
                au.c.at,
                au.c.actor,
                au.c.role,
                au.c.action,
                au.c.field,
                au.c.from_state,
                au.c.to_state,
                au.c.reason,
            )
            .where(au.c.entity == "after_sale", au.c.entity_id == str(int(case_id)))
            .order_by(au.c.audit_id),
        )
        order = (
            conn.execute(sa.select(schema.orders).where(schema.orders.c.order_no == row["order_no"]))
            .mappings()
            .one()
        )
        room = refundable_in(conn, order)
    labelled = _labels(pl.DataFrame([dict(row)], infer_schema_length=None)).row(0, named=True)
    return {
        **dict(row),
        **{k: labelled[k] for k in ("kind_label", "status_label", "reason_label")},
        "lines": lines,
        "audit": trail,
        "refundable_fen": room["refundable"],
    }


def refundable(shop: Shop, order_no: str) -> int:
    """The fen the order still has refundable: paid, minus every live case of it (not CLOSED,
    not SELLER_REFUSE_BUYER)."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        order = (
            conn.execute(sa.select(schema.orders).where(schema.orders.c.order_no == str(order_no)))
            .mappings()
            .first()
        )
        if order is None:
            raise NotFound("aftersales.unknown_order", order_no=order_no)
        return refundable_in(conn, order)["refundable"]

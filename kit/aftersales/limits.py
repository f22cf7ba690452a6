"""What an after-sale case may claim: the money still refundable on its order, and the units
still returnable (shipped, and not already in another live return, exchange or repair case).

    paid        orders.paid_fen; a cash-on-delivery order has paid its payable only once the
                buyer signed (TRADE_BUYER_SIGNED, TRADE_FINISHED), before that nothing
    taken       the amounts of the order's other cases that are still live (not CLOSED, not
                SELLER_REFUSE_BUYER): asked for, agreed or refunded
    refundable  paid − taken, never below zero

The checks run on the order row locked by the caller (kit.aftersales.cases.lock_order: FOR UPDATE
on PostgreSQL; SQLite's write transaction is exclusive), so two clerks opening cases at once
are checked one after the other and cannot together exceed what was paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit.errors import BadInput, Refused
from kit.i18n import t
from kit.models import AfterSaleKind, PaymentMethod, RefundStatus, ShipmentStage, TradeStatus
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

__all__ = [
    "DEAD",
    "RETURNING",
    "SHIPPED",
    "check_amount",
    "check_lines",
    "check_new_skus",
    "check_refund_id",
    "check_shipment",
    "line_frame",
    "paid_fen",
    "refundable_in",
    "refunded_fen",
    "yuan",
]

DEAD = (str(RefundStatus.CLOSED), str(RefundStatus.SELLER_REFUSE_BUYER))  # cases that claim nothing
RETURNING = (str(AfterSaleKind.RETURN), str(AfterSaleKind.EXCHANGE), str(AfterSaleKind.REPAIR))
MONEY = (str(AfterSaleKind.REFUND), str(AfterSaleKind.RETURN))
SHIPPED = (str(ShipmentStage.HANDED_OVER), str(ShipmentStage.CONFIRMED))
SIGNED = (str(TradeStatus.TRADE_BUYER_SIGNED), str(TradeStatus.TRADE_FINISHED))
_LINE_SCHEMA = {"line_no": pl.Int64, "quantity": pl.Int64, "new_sku": pl.String}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, for messages (12345 → "123.45")."""
    return f"{fen / 100:.2f}"


def paid_fen(order: Mapping[str, Any]) -> int:
    """What the buyer has paid for this order (a row of `orders`)."""
    if order["payment_method"] == str(PaymentMethod.COD):
        return int(order["payable_fen"]) if order["trade_status"] in SIGNED else 0
    return int(order["paid_fen"] or 0)


def _cases(conn: sa.Connection, order_no: str) -> pl.DataFrame:
    """The order's cases: case_id, kind, refund_status, amount_fen."""
    return read_by_keys(
        conn, schema.after_sales, ["case_id", "kind", "refund_status", "amount_fen"], "order_no", [order_no]
    )


def refundable_in(
    conn: sa.Connection, order: Mapping[str, Any], *, exclude: int | None = None
) -> dict[str, int]:
    """paid, taken (by the live cases other than `exclude`) and refundable (fen) of this order."""
    cases = _cases(conn, order["order_no"]).filter(
        ~pl.col("refund_status").is_in(DEAD) & (pl.col("case_id") != (exclude if exclude is not None else -1))
    )
    paid = paid_fen(order)
    taken = int(cases["amount_fen"].sum()) if cases.height else 0
    return {"paid": paid, "taken": taken, "refundable": max(paid - taken, 0)}


def refunded_fen(conn: sa.Connection, order_no: str) -> int:
    """The money refunded on this order: its refund and return cases in SUCCESS."""
    cases = _cases(conn, order_no).filter(
        (pl.col("refund_status") == str(RefundStatus.SUCCESS)) & pl.col("kind").is_in(MONEY)
    )
    return int(cases["amount_fen"].sum()) if cases.height else 0


def check_amount(
    conn: sa.Connection, order: Mapping[str, Any], amount: int, *, exclude: int | None = None
) -> dict[str, int]:
    """Refused when `amount` is more than the order still has refundable (other live cases
    counted); returns paid, taken and refundable."""
    room = refundable_in(conn, order, exclude=exclude)
    if amount > room["refundable"]:
        raise Refused(
            "aftersales.over_refundable",
            order_no=order["order_no"],
            amount=yuan(amount),
            paid=yuan(room["paid"]),
            taken=yuan(room["taken"]),
            left=yuan(room["refundable"]),
        )
    return room


def _whole(value: Any) -> int | None:
    """A whole number, or None when the value is not one (1.5, "two", True)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) else None


def line_frame(lines: Any, order_no: str) -> pl.DataFrame:
    """The lines a case names (list of dicts or a frame: line_no, quantity, optional new_sku)
    as a frame; BadInput naming the line when a number is not a whole number above zero, or a
    line comes twice."""
    if lines is None:
        return pl.DataFrame(schema=_LINE_SCHEMA)
    rows = lines.to_dicts() if isinstance(lines, pl.DataFrame) else [dict(r) for r in lines]
    out: list[dict[str, Any]] = []
    for row in rows:
        line_no, quantity = _whole(row.get("line_no")), _whole(row.get("quantity"))
        if line_no is None:
            raise BadInput("aftersales.bad_line_no", order_no=order_no, value=row.get("line_no"))
        if quantity is None or quantity <= 0:
            raise BadInput(
                "aftersales.bad_quantity", order_no=order_no, line_no=line_no, value=row.get("quantity")
            )
        if any(r["line_no"] == line_no for r in out):
            raise BadInput("aftersales.line_twice", order_no=order_no, line_no=line_no)
        new_sku = str(row.get("new_sku") or "").strip() or None
        out.append({"line_no": line_no, "quantity": quantity, "new_sku": new_sku})
    return pl.DataFrame(out, schema=_LINE_SCHEMA)


def _shipped(conn: sa.Connection, order_no: str) -> pl.DataFrame:
    """line_no, shipped: units of each order line in parcels handed over or confirmed."""
    sl, sh = schema.shipment_lines, schema.shipments
    stmt = (
        sa.select(sl.c.line_no, sa.func.sum(sl.c.quantity).label("shipped"))
        .join(sh, sh.c.shipment_id == sl.c.shipment_id)
        .where(sl.c.order_no == order_no, sh.c.stage.in_(SHIPPED))
        .group_by(sl.c.line_no)
    )
    return read_frame(conn, stmt).select(pl.col("line_no").cast(pl.Int64), pl.col("shipped").cast(pl.Int64))


def _in_cases(conn: sa.Connection, order_no: str, exclude: int | None) -> pl.DataFrame:
    """line_no, taken: units of each order line in the order's other live returning cases."""
    al, a = schema.after_sale_lines, schema.after_sales
    stmt = (
        sa.select(al.c.line_no, sa.func.sum(al.c.quantity).label("taken"))
        .join(a, a.c.case_id == al.c.case_id)
        .where(a.c.order_no == order_no, a.c.kind.in_(RETURNING), a.c.refund_status.not_in(DEAD))
        .group_by(al.c.line_no)
    )
    if exclude is not None:
        stmt = stmt.where(a.c.case_id != exclude)
    return read_frame(conn, stmt).select(pl.col("line_no").cast(pl.Int64), pl.col("taken").cast(pl.Int64))


def check_lines(
    conn: sa.Connection, order_no: str, kind: str, wanted: pl.DataFrame, *, exclude: int | None = None
) -> pl.DataFrame:
    """The case's lines with their SKU (line_no, sku, quantity, new_sku), checked: each is a line
    of the order; a return, exchange or repair names only units shipped (handed over or
    confirmed) and not in another live returning case; a refund names no more than ordered."""
    ordered = read_by_keys(conn, schema.order_lines, ["line_no", "sku", "quantity"], "order_no", [order_no])
    ordered = ordered.select(pl.col("line_no").cast(pl.Int64), "sku", pl.col("quantity").alias("ordered"))
    rows = wanted.join(ordered, on="line_no", how="left", maintain_order="left")
    unknown = rows.filter(pl.col("sku").is_null())
    if unknown.height:
        raise BadInput(
            "aftersales.unknown_line",
            order_no=order_no,
            line_no=unknown["line_no"][0],
            lines="、".join(str(n) for n in ordered["line_no"].sort().to_list()),
        )
    if kind in RETURNING:
        rows = (
            rows.join(_shipped(conn, order_no), on="line_no", how="left", maintain_order="left")
            .join(_in_cases(conn, order_no, exclude), on="line_no", how="left", maintain_order="left")
            .with_columns(pl.col("shipped").fill_null(0), pl.col("taken").fill_null(0))
        )
        over = rows.filter(pl.col("quantity") > pl.col("shipped") - pl.col("taken"))
        if over.height:
            row = over.row(0, named=True)
            raise Refused(
                "aftersales.not_shipped",
                order_no=order_no,
                line_no=row["line_no"],
                sku=row["sku"],
                shipped=row["shipped"],
                taken=row["taken"],
                left=max(row["shipped"] - row["taken"], 0),
                quantity=row["quantity"],
                kind=t(f"after_sale_kind.{kind}"),
            )
    else:
        over = rows.filter(pl.col("quantity") > pl.col("ordered"))
        if over.height:
            row = over.row(0, named=True)
            raise BadInput(
                "aftersales.over_ordered",
                order_no=order_no,
                line_no=row["line_no"],
                sku=row["sku"],
                ordered=row["ordered"],
                quantity=row["quantity"],
            )
    return rows.select("line_no", "sku", "quantity", "new_sku")


def check_shipment(conn: sa.Connection, order_no: str, shipment_id: int | None) -> None:
    """BadInput unless the shipment (when named) is a parcel of the order."""
    if shipment_id is None:
        return
    sh = schema.shipments
    owner = conn.execute(sa.select(sh.c.order_no).where(sh.c.shipment_id == int(shipment_id))).scalar()
    if owner != order_no:
        raise BadInput("aftersales.unknown_shipment", shipment_id=shipment_id, order_no=order_no)


def check_refund_id(conn: sa.Connection, refund_id: str | None) -> None:
    """Refused when the platform's refund number already belongs to a case."""
    if not refund_id:
        return
    a = schema.after_sales
    other = conn.execute(sa.select(a.c.case_id).where(a.c.refund_id == refund_id)).scalar()
    if other is not None:
        raise Refused("aftersales.refund_id_used", refund_id=refund_id, case_id=other)


def check_new_skus(conn: sa.Connection, kind: str, lines: pl.DataFrame) -> None:
    """new_sku only on an exchange, and only a SKU of the catalogue."""
    named = lines.filter(pl.col("new_sku").is_not_null())
    if named.height == 0:
        return
    if kind != str(AfterSaleKind.EXCHANGE):
        raise BadInput(
            "aftersales.new_sku_not_exchange", kind=t(f"after_sale_kind.{kind}"), sku=named["new_sku"][0]
        )
    wanted = named["new_sku"].unique().sort().to_list()
    known = set(read_by_keys(conn, schema.skus, ["sku"], "sku", wanted)["sku"].to_list())
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise BadInput("aftersales.unknown_sku", sku=unknown[0])

"""Settling a delivery exception with a refund (S21): the buyer gets their money back through
kit.aftersales (a refund case opened and refunded in the same transaction, linked both ways),
instead of a reship. Lost, damaged and refused parcels can be refunded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.exceptions.handling import shipment_lines, yuan
from kit.exceptions.records import as_dict, lock_case, queue_notice, step
from kit.i18n import t
from kit.models import AfterSaleReason, ExceptionKind
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import read_by_keys

__all__ = ["REFUND_REASONS", "parcel_value_fen", "refund"]

REFUND_REASONS = {  # the after-sale reason code of each kind's refund
    str(ExceptionKind.LOST): str(AfterSaleReason.LOST),
    str(ExceptionKind.DAMAGED): str(AfterSaleReason.DAMAGED),
    str(ExceptionKind.REFUSED): str(AfterSaleReason.REFUSED_DELIVERY),
    str(ExceptionKind.WRONG_ADDRESS): str(AfterSaleReason.LOST),  # the lifecycle refuses it first
}


def parcel_value_fen(conn: sa.Connection, order_no: str, shipment_id: int) -> int:
    """What the goods of a parcel were paid (each unit at its order line's amount per unit)."""
    lines = shipment_lines(conn, shipment_id)
    paid = read_by_keys(
        conn, schema.order_lines, ["order_no", "line_no", "quantity", "amount_fen"], "order_no", [order_no]
    )
    value = (
        lines.join(
            paid.select("line_no", pl.col("quantity").alias("_q"), "amount_fen"), on="line_no", how="left"
        )
        .select((pl.col("quantity") * pl.col("amount_fen").fill_null(0) / pl.col("_q").fill_null(1)).sum())
        .item()
    )
    return round(value or 0)


def refund(
    shop: Shop,
    case_id: int,
    *,
    amount_fen: int | None = None,
    expected_version: int | None = None,
    notify: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """S21: refund the buyer instead of reshipping, in one transaction: a refund case in
    kit.aftersales (reason lost, damaged or refused_delivery; `amount_fen`, by default what the
    parcel's goods were paid) opened and refunded (SUCCESS), its id kept in `after_sale_id`;
    the case resolved with resolution refund; the buyer told (S13). Returns the case with the
    after-sale case as `after_sale`."""
    from kit.aftersales.cases import open_in, refund_in

    actor = require(shop.actor, "read")
    moment = now or clock.now()
    with shop.store.write() as conn:
        rows = lock_case(conn, case_id)
        row = rows.row(0, named=True)
        change = step(
            conn,
            rows,
            "refund",
            actor,
            moment,
            expected_version=expected_version,
            reason=t("exceptions.refund_reason", case_id=case_id),
            values={"resolution": "refund"},
        )
        amount = (
            parcel_value_fen(conn, row["order_no"], row["shipment_id"]) if amount_fen is None else amount_fen
        )
        after_sale_id = open_in(
            conn,
            actor,
            moment,
            order_no=row["order_no"],
            kind="refund",
            reason=REFUND_REASONS[row["kind"]],
            amount_fen=amount,
            shipment_id=int(row["shipment_id"]),
            exception_id=int(case_id),
            note=t("exceptions.refund_note", case_id=case_id, kind=t(f"exception_kind.{row['kind']}")),
        )
        after_sale = refund_in(conn, actor, moment, after_sale_id)
        ec = schema.exception_cases
        conn.execute(
            ec.update()
            .where(ec.c.case_id == int(case_id), ec.c.version == change.version)
            .values(after_sale_id=after_sale_id)
        )
        notices = 0
        if notify:
            told = rows.select("order_no", "case_id").with_columns(
                pl.lit(yuan(after_sale["amount_fen"])).alias("_amount")
            )
            notices = queue_notice(conn, actor, moment, told, "refund", order_no="order_no", amount="_amount")
        return as_dict(conn, case_id) | {"after_sale": after_sale, "notices": notices}

"""The buyer's side of the parcel (S4, S3, S16): confirming receipt finishes the trade, a
cash-on-delivery parcel delivered is signed for by the buyer, and the platform's automatic
confirmation N days after delivery.

    confirm_receipt   the buyer confirmed receipt (确认收货): WAIT_BUYER_CONFIRM_GOODS or
                      TRADE_BUYER_SIGNED → TRADE_FINISHED; refused, naming the order and each
                      parcel's tracking status, unless every parcel of the order is delivered.
                      A COD order not yet marked signed is signed first (both audited).
    mark_signed       a COD order whose every parcel is delivered → TRADE_BUYER_SIGNED (the
                      courier collected the money). Storing events does this by itself when
                      the carrier reports the last parcel delivered (kit.tracking.record), so
                      this is for parcels the kit cannot follow (a courier's word, a phone call).
    auto_confirm      orders delivered more than [tracking] auto_confirm_days ago and still
                      awaiting the buyer → TRADE_FINISHED by the system actor
                      `system:auto_confirm`, as the platform does.

Every change goes through kit.lifecycle (roles, states, audit in the same transaction).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.i18n import t
from kit.lifecycle import apply_many, check_role, transition
from kit.models import PaymentMethod, Role, StaffMember, TrackingStatus, TradeStatus
from kit.permissions import require
from kit.shop import Shop
from kit.stock.ledger import new_batch
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame
from kit.tracking.parcels import order_parcels

__all__ = ["AUTO_CONFIRMER", "auto_confirm", "confirm_receipt", "mark_signed", "parcels"]

AUTO_CONFIRMER = StaffMember("system:auto_confirm", Role.SYSTEM)
WAITING = (str(TradeStatus.WAIT_BUYER_CONFIRM_GOODS), str(TradeStatus.TRADE_BUYER_SIGNED))
_DELIVERED = str(TrackingStatus.DELIVERED)


def parcels(shop: Shop, order_nos: list[str]) -> pl.DataFrame:
    """Every parcel of these orders with its tracking status (kit.tracking.parcels.order_parcels):
    order_no, shipment_id, carrier_code, tracking_no, status, delivered_at."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        return order_parcels(conn, sorted({str(n) for n in order_nos}))


def _parcel_list(rows: pl.DataFrame) -> str:
    """One order's parcels for a message: "YT…：运输中；YT…：已签收"."""
    return "；".join(
        t(
            "tracking.parcel_state",
            number=number or t("tracking.no_number"),
            status=t(f"tracking_status.{status}"),
        )
        for number, status in rows.select("tracking_no", "status").iter_rows()
    )


def _refusals(
    conn: sa.Connection, keys: list[str], action: str
) -> tuple[pl.DataFrame, dict[str, str], pl.DataFrame]:
    """The orders (order_no, payment_method, trade_status), the refused ones with why (unknown,
    no parcel shipped, not every parcel delivered), and every parcel of them."""
    orders = read_by_keys(
        conn, schema.orders, ["order_no", "payment_method", "trade_status"], "order_no", keys
    )
    parcels = order_parcels(conn, keys)
    refused: dict[str, str] = {}
    for key in sorted(set(keys) - set(orders["order_no"].to_list())):
        refused[key] = t("tracking.unknown_order", order_no=key)
    for (key,), rows in parcels.group_by("order_no"):
        if not rows["status"].eq(_DELIVERED).all():
            refused[str(key)] = t(
                f"tracking.{action}_not_delivered", order_no=key, parcels=_parcel_list(rows)
            )
    for key in sorted(set(orders["order_no"].to_list()) - set(parcels["order_no"].to_list())):
        refused[key] = t("tracking.no_parcels", order_no=key)
    return orders, refused, parcels


def _keys(order_nos: list[str] | str) -> list[str]:
    """Order numbers, trimmed, once each, in order."""
    items = [order_nos] if isinstance(order_nos, str) else order_nos
    return list(dict.fromkeys(str(n).strip() for n in items if str(n).strip()))


def confirm_receipt(shop: Shop, order_nos: list[str] | str, *, now: datetime | None = None) -> dict[str, Any]:
    """S4: the buyers of these orders confirmed receipt: each order whose every parcel is
    delivered finishes (TRADE_FINISHED; a COD one is marked signed first), in one transaction.
    Returns finished and signed order numbers, and refused [(order_no, why)]: an order not
    delivered is named with its parcels' tracking status; a trade in another state gets the
    lifecycle's refusal."""
    actor = require(shop.actor, "read")
    check_role(actor, transition("order", "finish").roles, t("action.finish"))
    keys = _keys(order_nos)
    moment = now or clock.now()
    with shop.store.write() as conn:
        orders, refused, _ = _refusals(conn, keys, "confirm")
        ok = [k for k in keys if k not in refused]
        unsigned = orders.filter(
            pl.col("order_no").is_in(ok)
            & (pl.col("payment_method") == str(PaymentMethod.COD))
            & (pl.col("trade_status") == str(TradeStatus.WAIT_BUYER_CONFIRM_GOODS))
        )["order_no"].to_list()
        signed = apply_many(conn, "order", unsigned, "buyer_sign", actor, now=moment) if unsigned else None
        done = apply_many(conn, "order", ok, "finish", actor, now=moment) if ok else None
    refused |= {k: str(e) for k, e in (done.refused if done else [])}
    return {
        "finished": done.keys_applied if done else [],
        "signed": signed.keys_applied if signed else [],
        "refused": [(k, refused[k]) for k in keys if k in refused],
    }


def mark_signed(shop: Shop, order_nos: list[str] | str, *, now: datetime | None = None) -> dict[str, Any]:
    """S16/S3: these cash-on-delivery orders were delivered and paid to the courier: each whose
    every parcel is delivered → TRADE_BUYER_SIGNED. Refused: not COD (an online order is
    finished by the buyer's confirmation), not delivered, or a trade in another state."""
    actor = require(shop.actor, "read")
    check_role(actor, transition("order", "buyer_sign").roles, t("action.buyer_sign"))
    keys = _keys(order_nos)
    moment = now or clock.now()
    with shop.store.write() as conn:
        orders, refused, _ = _refusals(conn, keys, "sign")
        online = orders.filter(pl.col("payment_method") != str(PaymentMethod.COD))["order_no"].to_list()
        refused |= {k: t("tracking.not_cod", order_no=k) for k in online}
        ok = [k for k in keys if k not in refused]
        done = apply_many(conn, "order", ok, "buyer_sign", actor, now=moment) if ok else None
    refused |= {k: str(e) for k, e in (done.refused if done else [])}
    return {
        "signed": done.keys_applied if done else [],
        "refused": [(k, refused[k]) for k in keys if k in refused],
    }


def auto_confirm(shop: Shop, *, now: datetime | None = None) -> dict[str, Any]:
    """S4, as the platform does: orders awaiting the buyer (WAIT_BUYER_CONFIRM_GOODS or
    TRADE_BUYER_SIGNED) whose last parcel was delivered more than [tracking] auto_confirm_days
    ago → TRADE_FINISHED by `system:auto_confirm`, with the reason, in one transaction (the
    batch row names who ran it). Orders whose delivery time is not known (no delivery scan)
    are left to the platform. Returns the batch id, the orders waiting, finished and refused."""
    actor = require(shop.actor, "auto_confirm")
    days = shop.config.tracking["auto_confirm_days"]
    moment = now or clock.now()
    o = schema.orders
    with shop.store.write() as conn:
        waiting = read_frame(conn, sa.select(o.c.order_no).where(o.c.trade_status.in_(WAITING)))["order_no"]
        parcels = order_parcels(conn, waiting.to_list())
        whole = parcels.group_by("order_no").agg(
            (pl.col("status") == _DELIVERED).all().alias("_all"),
            pl.col("delivered_at").null_count().alias("_unknown"),
            pl.col("delivered_at").max().alias("delivered_at"),
        )
        due = (
            whole.filter(
                pl.col("_all")
                & (pl.col("_unknown") == 0)
                & (pl.col("delivered_at") <= moment - timedelta(days=days))
            )["order_no"]
            .sort()
            .to_list()
        )
        batch_id = new_batch(
            conn,
            "auto_confirm",
            "kit track --auto-confirm",
            actor,
            moment,
            orders=len(due),
            details={"days": days, "waiting": waiting.len()},
        )
        done = (
            apply_many(
                conn,
                "order",
                due,
                "finish",
                AUTO_CONFIRMER,
                now=moment,
                reason=t("tracking.auto_confirm_reason", days=days),
            )
            if due
            else None
        )
    return {
        "batch_id": batch_id,
        "days": days,
        "waiting": waiting.len(),
        "finished": done.keys_applied if done else [],
        "refused": [(k, str(e)) for k, e in done.refused] if done else [],
    }

"""Parcels that need a person (S21): one alert per shipment with the courier whose trade is
still open, the most pressing kind first:

    lost, damaged, refused, delivery_failed, returned   the parcel's status says so
                                                        (returned: on its way back, or back)
    signed_by_other   delivered, and the delivery scan names a signer who is not the receiver
                      ("签收人：门卫"; "本人", the receiver's name, or a masked form of it such
                      as "张*" count as the receiver), or says it was left with someone
                      (代收, 代签, 快递柜, 驿站)
    stuck             on its way (picked up, in transit, out for delivery, returning) and no
                      new scan for [tracking] stuck_days
    not_picked_up     handed to the courier [tracking] not_picked_up_hours ago and no scan
                      beyond awaiting pickup

Each alert: shipment, order, carrier, number, kind, since (when it began) and a detail line
in the staff's language.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput
from kit.i18n import current_lang, message_expr, t
from kit.models import TrackingStatus, TradeStatus
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import read_frame
from kit.tracking.parcels import (
    FOLLOWED,
    MOVING,
    NO_PARCEL,
    number_status,
    read_events,
    shipment_numbers,
    shipment_status,
)

__all__ = ["ALERT_COLUMNS", "ALERT_KINDS", "alerts", "signer_expr"]

_T = TrackingStatus
ALERT_KINDS = (
    "lost",
    "damaged",
    "refused",
    "delivery_failed",
    "returned",
    "signed_by_other",
    "stuck",
    "not_picked_up",
)
ALERT_COLUMNS: dict[str, pl.DataType] = {
    "shipment_id": pl.Int64(),
    "order_no": pl.String(),
    "carrier_code": pl.String(),
    "tracking_no": pl.String(),
    "kind": pl.String(),
    "since": pl.Datetime("us"),
    "detail": pl.String(),
}
CLOSED = (
    str(TradeStatus.TRADE_FINISHED),
    str(TradeStatus.TRADE_CLOSED),
    str(TradeStatus.TRADE_CLOSED_BY_TAOBAO),
)
SELF_WORDS = ("本人", "本人签收", "收件人", "收件人本人", "收件人签收", "self", "recipient", "addressee")
_SIGNER = r"(?:签收人|签收者|签收人员)\s*(?:[:：是为])?\s*([^\s，,。；;！!（）()]+)"
_SIGNED_BY = r"(?i)signed\s+by\s*:?\s*([^,.;]+?)\s*(?:[,.;]|$)"
_LEFT_WITH = r"(代收|代签|快递柜|驿站|丰巢)"
_BY_STATUS = {
    str(_T.LOST): "lost",
    str(_T.DAMAGED): "damaged",
    str(_T.REFUSED): "refused",
    str(_T.DELIVERY_FAILED): "delivery_failed",
    str(_T.RETURNING): "returned",
    str(_T.RETURNED): "returned",
}


def signer_expr(description: pl.Expr) -> pl.Expr:
    """Who signed for a parcel, as a delivery scan's text names them (null: not named)."""
    return pl.coalesce(
        description.str.extract(_SIGNER).str.strip_chars(),
        description.str.extract(_SIGNED_BY).str.strip_chars(),
        description.str.extract(_LEFT_WITH),
    )


def _is_receiver(signer: pl.Expr, receiver: pl.Expr) -> pl.Expr:
    """Whether a named signer is the receiver: 本人 and the like, the receiver's own name (or a
    text holding it), or a masked form of it (张* for 张三)."""
    bare = signer.str.replace_all(r"[*＊]", "")
    masked = signer.str.contains(r"[*＊]") & (bare != "") & receiver.str.starts_with(bare)
    return (
        signer.str.to_lowercase().is_in(SELF_WORDS)
        | (signer == receiver)
        | signer.str.contains(receiver, literal=True)
        | masked
    ).fill_null(False)


def _followed(conn: sa.Connection) -> pl.DataFrame:
    """Shipments with the courier (not `none`) of orders still open, with the receiver's name."""
    sh, o = schema.shipments, schema.orders
    stmt = (
        sa.select(
            sh.c.shipment_id,
            sh.c.order_no,
            sh.c.carrier_code,
            sh.c.tracking_no,
            sh.c.tracking_status,
            sh.c.handed_over_at,
            o.c.receiver_name,
        )
        .select_from(sh.join(o, sh.c.order_no == o.c.order_no))
        .where(sh.c.stage.in_(FOLLOWED), sh.c.carrier_code != NO_PARCEL, o.c.trade_status.not_in(CLOSED))
        .order_by(sh.c.shipment_id)
    )
    return read_frame(conn, stmt)


def alerts(shop: Shop, *, now: datetime | None = None, kinds: list[str] | None = None) -> pl.DataFrame:
    """The parcels that need a person now (ALERT_COLUMNS), one row per shipment, the most
    pressing kind first (ALERT_KINDS order), oldest first within a kind; only `kinds`, if given."""
    require(shop.actor, "read")
    wanted = list(kinds) if kinds else list(ALERT_KINDS)
    odd = [k for k in wanted if k not in ALERT_KINDS]
    if odd:
        raise BadInput("tracking.bad_alert_kind", kind=odd[0], expected="、".join(ALERT_KINDS))
    moment = now or clock.now()
    settings = shop.config.tracking
    with shop.store.read() as conn:
        ships = _followed(conn)
        numbers = shipment_numbers(conn, ships)
        stats = number_status(read_events(conn, numbers["tracking_no"].to_list()))
    state = shipment_status(numbers, stats)
    rows = ships.join(state, on="shipment_id", how="left", maintain_order="left").with_columns(
        pl.coalesce("status", "tracking_status").alias("_status"),
        signer_expr(pl.col("description").fill_null("")).alias("signer"),
    )
    rows = rows.with_columns(
        (pl.col("signer").is_not_null() & ~_is_receiver(pl.col("signer"), pl.col("receiver_name"))).alias(
            "_other"
        )
    )
    stuck_before = moment - timedelta(days=settings["stuck_days"])
    pickup_before = moment - timedelta(hours=settings["not_picked_up_hours"])
    status = pl.col("_status")
    kind = (
        pl.when(status.is_in(list(_BY_STATUS)))
        .then(status.replace_strict(_BY_STATUS, default=None))
        .when((status == str(_T.DELIVERED)) & pl.col("_other"))
        .then(pl.lit("signed_by_other"))
        .when(status.is_in(MOVING) & (pl.col("last_at") <= stuck_before))
        .then(pl.lit("stuck"))
        .when(
            ~pl.col("moved").fill_null(False)
            & (pl.col("handed_over_at") <= pickup_before)
            & ~status.is_in([str(_T.DELIVERED), *MOVING])
        )
        .then(pl.lit("not_picked_up"))
        .otherwise(None)
    )
    found = rows.with_columns(kind.alias("kind")).filter(pl.col("kind").is_in(wanted))
    lang = current_lang()
    labels = {str(s): t(f"tracking_status.{s}", lang=lang) for s in TrackingStatus}
    found = found.with_columns(
        status.replace_strict(labels, default=status).alias("_label"),
        pl.col("description").fill_null("-").alias("_text"),
        ((pl.lit(moment) - pl.col("handed_over_at")).dt.total_hours()).cast(pl.Int64).alias("_hours"),
        ((pl.lit(moment) - pl.col("last_at")).dt.total_days()).cast(pl.Int64).alias("_days"),
    )
    detail = (
        pl.when(pl.col("kind") == "not_picked_up")
        .then(message_expr("tracking.alert_not_picked_up", lang, hours="_hours"))
        .when(pl.col("kind") == "stuck")
        .then(message_expr("tracking.alert_stuck", lang, days="_days", status="_label", text="_text"))
        .when(pl.col("kind") == "signed_by_other")
        .then(message_expr("tracking.alert_signed_by_other", lang, signer="signer", text="_text"))
        .otherwise(message_expr("tracking.alert_status", lang, status="_label", text="_text"))
    )
    since = (
        pl.when(pl.col("kind") == "not_picked_up")
        .then("handed_over_at")
        .when(pl.col("kind") == "stuck")
        .then("last_at")
        .when(pl.col("kind") == "signed_by_other")
        .then("status_at")
        .otherwise(pl.coalesce("since", "status_at", "handed_over_at"))
    )
    order = {k: i for i, k in enumerate(ALERT_KINDS)}
    out = found.select(
        "shipment_id",
        "order_no",
        "carrier_code",
        pl.coalesce("number", "tracking_no").alias("tracking_no"),
        "kind",
        since.alias("since"),
        detail.alias("detail"),
        pl.col("kind").replace_strict(order, return_dtype=pl.Int64).alias("_rank"),
    )
    return out.sort("_rank", "since", "shipment_id", nulls_last=True).drop("_rank").cast(ALERT_COLUMNS)  # type: ignore[arg-type]

"""Orders that did not ship (S8, S9, S19): every order due today (or already late) and not handed
over must carry its reason; pre-sales staff phone those buyers (the call list), and the buyer
gets a "delayed" notice through the outbox. A reason is a `flags` row of kind not_shipped,
kept with who gave it and when; the newest reason of an order is the one shown."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock, outbox
from kit.deadlines.lists import BEFORE_HAND_OVER
from kit.errors import BadInput
from kit.i18n import current_lang, message_expr
from kit.lifecycle.guards import PAYABLE_STATES
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys, read_frame

__all__ = ["UNSHIPPED_COLUMNS", "call_list", "record_reason", "unshipped"]

KIND = "not_shipped"
UNSHIPPED_COLUMNS = [
    "order_no",
    "stage",
    "ship_by",
    "hours_late",
    "receiver_name",
    "receiver_mobile",
    "buyer_nick",
    "payment_method",
    "reason",
    "reason_by",
    "reason_at",
]
_US = pl.Datetime("us")


def unshipped(shop: Shop, day: date | None = None, *, now: datetime | None = None) -> pl.DataFrame:
    """Orders due by the end of `day` (today) and not handed over, earliest first, with their
    newest not-shipped reason (UNSHIPPED_COLUMNS; reason empty: still to be given, S8)."""
    require(shop.actor, "read")
    moment = now or clock.now()
    until = datetime.combine(day or moment.date(), time()) + timedelta(days=1)
    o, f = schema.orders, schema.flags
    with shop.store.read() as conn:
        frame = read_frame(
            conn,
            sa.select(
                o.c.order_no,
                o.c.stage,
                o.c.ship_by,
                o.c.receiver_name,
                o.c.receiver_mobile,
                o.c.buyer_nick,
                o.c.payment_method,
            )
            .where(o.c.stage.in_(BEFORE_HAND_OVER), o.c.trade_status.in_(PAYABLE_STATES), o.c.ship_by < until)
            .order_by(o.c.ship_by, o.c.order_no),
        )
        reasons = read_by_keys(
            conn,
            f,
            ["order_no", "kind", "message", "created_by", "created_at"],
            "order_no",
            frame["order_no"].to_list(),
        )
    newest = (
        reasons.filter(pl.col("kind") == KIND)
        .sort("created_at")
        .group_by("order_no")
        .agg(pl.all().last())
        .select(
            "order_no",
            pl.col("message").alias("reason"),
            pl.col("created_by").alias("reason_by"),
            pl.col("created_at").alias("reason_at"),
        )
    )
    return (
        frame.join(newest, on="order_no", how="left", maintain_order="left")
        .with_columns(
            (
                ((pl.lit(moment, _US) - pl.col("ship_by")).dt.total_minutes() / 60)
                .round(1)
                .clip(lower_bound=0)
            ).alias("hours_late")
        )
        .select(UNSHIPPED_COLUMNS)
    )


def call_list(shop: Shop, day: date | None = None, *, now: datetime | None = None) -> pl.DataFrame:
    """S9: the buyers pre-sales staff phone today: orders due that did not ship, with the reason."""
    require(shop.actor, "read")
    return unshipped(shop, day, now=now).filter(
        pl.col("receiver_mobile").is_not_null() | pl.col("receiver_name").is_not_null()
    )


def record_reason(
    shop: Shop, order_nos: list[str], reason: str, *, notify: bool = True, now: datetime | None = None
) -> dict[str, Any]:
    """Give the reason these orders did not ship today (S8), and queue a "delayed" notice for each
    buyer (S19: any delay is announced). Returns how many reasons and notices were written."""
    actor = require(shop.actor, "record_not_shipped")
    text = (reason or "").strip()
    if not text:
        raise BadInput("shipping.reason_required")
    keys = sorted({str(k) for k in order_nos})
    moment = now or clock.now()
    with shop.store.write() as conn:
        known = read_by_keys(conn, schema.orders, ["order_no", "stage"], "order_no", keys)
        unknown = sorted(set(keys) - set(known["order_no"].to_list()))
        if unknown:
            raise BadInput("shipping.unknown_order", order_no=unknown[0])
        gone = known.filter(~pl.col("stage").is_in(BEFORE_HAND_OVER))
        if gone.height:
            raise BadInput("shipping.already_shipped", order_no=gone["order_no"][0])
        rows = pl.DataFrame({"order_no": keys}).with_columns(
            pl.lit(KIND).alias("kind"),
            pl.lit(text).alias("message"),
            pl.lit(json.dumps({"day": moment.date().isoformat()})).alias("details"),
            pl.lit("open").alias("status"),
            pl.lit(moment, _US).alias("created_at"),
            pl.lit(actor.name).alias("created_by"),
        )
        insert_frame(conn, schema.flags, rows)
        insert_frame(
            conn,
            schema.audit,
            rows.select(
                pl.lit(moment, _US).alias("at"),
                pl.lit(actor.name).alias("actor"),
                pl.lit(str(actor.role)).alias("role"),
                pl.lit("order").alias("entity"),
                pl.col("order_no").alias("entity_id"),
                pl.lit("record_not_shipped").alias("action"),
                pl.lit(text).alias("reason"),
            ),
        )
        notices = 0
        if notify:
            lang = current_lang()
            notices = outbox.queue(
                conn,
                rows.select(
                    "order_no",
                    pl.lit("delayed").alias("kind"),
                    pl.lit(lang).alias("lang"),
                    message_expr("notice.delayed", lang, order_no="order_no", reason=pl.lit(text)).alias(
                        "text"
                    ),
                    pl.lit(json.dumps({"reason": text}, ensure_ascii=False)).alias("payload"),
                    pl.lit(moment + outbox.SOON, _US).alias("due_at"),
                ),
                actor,
                moment,
            )
    return {"reasons": len(keys), "notices": notices}

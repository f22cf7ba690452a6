"""Stockout notices (S20): every order waiting for stock gets one notice in the outbox that
tells the buyer what is missing and offers up to three in-stock alternatives of the same
category and price band, due within the shop's working hours of the stockout (24 by
default). An order already told since its stockout began is not told twice; a new
stockout (after the order was served and fell short again) is told again."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit.config import Config
from kit.deadlines.calendar import calendar_for
from kit.deadlines.rules import add_open_hours
from kit.i18n import message_expr
from kit.models import StaffMember
from kit.outbox import queue
from kit.shortages.alternatives import alternatives
from kit.store import schema
from kit.store.frames import read_by_keys

__all__ = ["due_times", "queue_stockout_notices", "stockout_notices"]

_US = pl.Datetime("us")
NOTICE_WEEKDAYS = (1, 2, 3, 4, 5, 6)  # S20: Sundays (and public holidays) do not count
WHOLE_DAY_US = 86_400_000_000
# How the buyer's text lists alternatives (、) and items (；): Chinese punctuation has no
# place in an English notice.
_SEPARATORS = {"zh": ("、", "；"), "en": (", ", "; ")}


def due_times(since: pl.Series, config: Config) -> pl.Series:
    """When the buyer must have heard of a stockout that began at `since` (S20): after the
    shop's notify_within_hours (24), counted around the clock on every day but Sundays and
    public holidays (make-up working days count, by kit.deadlines' calendar)."""
    hours = config.shortages["notify_within_hours"]
    return add_open_hours(since.cast(_US), hours, NOTICE_WEEKDAYS, 0, WHOLE_DAY_US,
                          calendar_for(config.calendar)).alias("due_at")


def _money(fen: pl.Expr) -> pl.Expr:
    """¥12.30 from fen, whole-column."""
    return pl.format("¥{}.{}", fen // 100, (fen % 100).cast(pl.String).str.zfill(2))


def stockout_notices(conn: sa.Connection, lines: pl.DataFrame, config: Config, lang: str) -> pl.DataFrame:
    """The notices to queue for these shortage lines (kit.shortages.report.shortage_lines):
    order_no, kind, lang, text, payload, due_at; orders already told since their stockout
    began are left out."""
    if lines.height == 0:
        return pl.DataFrame(
            schema={
                "order_no": pl.String,
                "kind": pl.String,
                "lang": pl.String,
                "text": pl.String,
                "payload": pl.String,
                "due_at": _US,
            }
        )
    began = lines.group_by("order_no").agg(pl.col("since").min())
    told = read_by_keys(
        conn,
        schema.outbox,
        ["order_no", "kind", "status", "created_at"],
        "order_no",
        began["order_no"].to_list(),
    ).filter((pl.col("kind") == "stockout") & pl.col("status").is_in(["queued", "sent"]))
    already = began.join(told, on="order_no").filter(pl.col("created_at") >= pl.col("since"))
    todo = lines.join(already.select("order_no").unique(), on="order_no", how="anti")
    if todo.height == 0:
        return stockout_notices(conn, todo, config, lang)
    settings = config.shortages
    listed, parts = _SEPARATORS.get(lang, _SEPARATORS["zh"])
    alts = alternatives(
        conn,
        todo.select("sku", "quantity"),
        limit=settings["alternatives"],
        band_percent=settings["price_band_percent"],
    )
    item = (
        pl.when(pl.col("spec").is_not_null() & (pl.col("spec") != ""))
        .then(message_expr("notice.stockout_item_spec", lang, title="title", spec="spec", missing="missing"))
        .otherwise(message_expr("notice.stockout_item", lang, title="title", missing="missing"))
    )
    offers = (
        alts.with_columns(
            pl.when(pl.col("alt_spec").is_not_null() & (pl.col("alt_spec") != ""))
            .then(
                message_expr(
                    "notice.alternative_spec",
                    lang,
                    title="alt_title",
                    spec="alt_spec",
                    price=_money(pl.col("alt_price_fen")),
                )
            )
            .otherwise(
                message_expr(
                    "notice.alternative", lang, title="alt_title", price=_money(pl.col("alt_price_fen"))
                )
            )
            .alias("_offer")
        )
        .group_by("sku", "quantity", maintain_order=True)
        .agg(
            pl.col("_offer").str.join(listed),
            pl.struct("alt_sku", "alt_title", "alt_price_fen").alias("_alts"),
        )
    )
    per_line = (
        todo.with_columns(pl.col("title").fill_null(pl.col("sku")))
        .with_columns(item.alias("_item"))
        .join(offers, on=["sku", "quantity"], how="left")
    )
    orders = (
        per_line.sort("order_no", "line_no")
        .group_by("order_no", maintain_order=True)
        .agg(
            pl.col("since").min(),
            pl.col("_item").str.join(parts).alias("items"),
            pl.col("_offer").drop_nulls().str.join(parts).alias("offers"),
            pl.struct("line_no", "sku", "missing", pl.col("_alts")).alias("_payload"),
        )
    )
    orders = orders.with_columns(due_times(orders["since"], config))
    offer_text = (
        pl.when(pl.col("offers") != "")
        .then(message_expr("notice.stockout_offers", lang, offers="offers"))
        .otherwise(pl.lit(""))
    )
    text = message_expr(
        "notice.stockout",
        lang,
        order_no="order_no",
        items="items",
        offers=offer_text,
        due=pl.col("due_at").dt.strftime("%m-%d %H:%M"),
    )
    payload = [
        json.dumps({"lines": p}, ensure_ascii=False, default=_plain) for p in orders["_payload"].to_list()
    ]
    return orders.select(
        "order_no",
        pl.lit("stockout").alias("kind"),
        pl.lit(lang).alias("lang"),
        text.alias("text"),
        pl.Series("payload", payload, pl.String),
        "due_at",
    )


def _plain(value: Any) -> Any:
    """JSON for values json does not know (none expected beyond numbers and text)."""
    return str(value)


def queue_stockout_notices(
    conn: sa.Connection,
    lines: pl.DataFrame,
    config: Config,
    lang: str,
    actor: StaffMember,
    at: datetime,
    batch_id: int | None = None,
) -> pl.DataFrame:
    """Build and queue the stockout notices for these lines; returns the notices queued."""
    notices = stockout_notices(conn, lines, config, lang)
    queue(conn, notices, actor, at, batch_id)
    return notices

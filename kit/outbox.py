"""The outbox: notices to buyers (S13, S20), queued with their text and due time, marked
sent once a person or a channel has told the buyer. The kit writes what to say and by
when; sending (the platform's messages, SMS) is left to staff or a later adapter.

    >>> from kit import outbox
    >>> outbox.notices(shop, status="queued")          # what the buyers still need to hear
    >>> outbox.mark_sent(shop, [12, 13])               # told, by the acting staff member
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput
from kit.lifecycle import audit_rows
from kit.models import StaffMember
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys, read_frame

__all__ = [
    "ASKING",
    "KINDS",
    "STATUSES",
    "ask",
    "export_csv",
    "mark_sent",
    "notices",
    "queue",
    "send",
    "withdraw",
]

# stockout (S20), shipped with the tracking number (S24c), delayed (S19), address check and COD
# confirmation (S16, S24a), delivered (kit.tracking, S13); each step of an after-sale case
# (kit.aftersales) and of a delivery exception (kit.exceptions), S13
KINDS = ("stockout", "shipped", "delayed", "address_check", "cod_confirm", "delivered", "after_sale",
         "exception")
STATUSES = ("queued", "sent", "cancelled")
ASKING = ("address_check", "cod_confirm")  # notices staff send on their own (S16, S24a)
SOON = timedelta(hours=1)  # shipped, delayed and asking notices are due within the hour (S13)
_US = pl.Datetime("us")


def _audit(
    conn: sa.Connection,
    notices: pl.DataFrame,
    actor: StaffMember,
    at: datetime,
    action: str,
    *,
    from_state: str | None,
    to_state: pl.Expr,
    reason: pl.Expr,
    batch_id: int | None = None,
) -> None:
    """One audit row (entity order, field notice) per notice of the frame (order_no, …)."""
    insert_frame(
        conn,
        schema.audit,
        audit_rows(
            notices.select(
                pl.col("order_no").alias("entity_id"),
                pl.lit("notice").alias("field"),
                pl.lit(from_state, pl.String).alias("from_state"),
                to_state.alias("to_state"),
                reason.cast(pl.String).alias("reason"),
                pl.lit(batch_id, pl.Int64).alias("batch_id"),
            ),
            actor,
            at,
            "order",
            action,
        ),
    )


def queue(
    conn: sa.Connection, notices: pl.DataFrame, actor: StaffMember, at: datetime, batch_id: int | None = None
) -> int:
    """Queue notices (order_no, kind, lang, text, payload, due_at) in the caller's transaction,
    each with an audit row; returns how many."""
    if notices.height == 0:
        return 0
    unknown = notices.filter(~pl.col("kind").is_in(KINDS))
    if unknown.height:
        raise BadInput("outbox.bad_kind", kind=unknown["kind"][0], expected="、".join(KINDS))
    rows = notices.select(
        pl.col("order_no").cast(pl.String),
        "kind",
        "lang",
        "text",
        pl.col("payload").cast(pl.String),
        pl.lit("queued").alias("status"),
        pl.col("due_at").cast(_US),
        pl.lit(at, _US).alias("created_at"),
        pl.lit(actor.name).alias("created_by"),
        pl.lit(batch_id, pl.Int64).alias("batch_id"),
    )
    insert_frame(conn, schema.outbox, rows)
    _audit(
        conn,
        rows,
        actor,
        at,
        "queue_notice",
        from_state=None,
        to_state=pl.col("kind"),
        reason=pl.lit(None, pl.String),
        batch_id=batch_id,
    )
    return rows.height


def withdraw(
    conn: sa.Connection,
    order_nos: list[str],
    actor: StaffMember,
    at: datetime,
    kind: str | None = None,
    *,
    reason: str | None = None,
) -> int:
    """Withdraw the notices still queued for these orders (of one kind, or all), in the caller's
    transaction, with an audit row each: the order was cancelled, or is no longer short."""
    ob = schema.outbox
    queued = read_by_keys(
        conn, ob, ["notice_id", "order_no", "kind", "status"], "order_no", order_nos
    ).filter((pl.col("status") == "queued") & (pl.lit(True) if kind is None else pl.col("kind") == kind))
    if queued.height == 0:
        return 0
    conn.execute(
        ob.update()
        .where(ob.c.notice_id.in_(queued["notice_id"].to_list()), ob.c.status == "queued")
        .values(status="cancelled")
    )
    _audit(
        conn,
        queued,
        actor,
        at,
        "withdraw_notice",
        from_state="queued",
        to_state=pl.lit("cancelled"),
        reason=pl.lit(reason, pl.String),
    )
    return queued.height


def notices(
    shop: Shop, *, status: str | None = "queued", kind: str | None = None, order_nos: list[str] | None = None
) -> pl.DataFrame:
    """Notices in the outbox (queued by default), the most urgent first, with how late they are."""
    require(shop.actor, "read")
    if status is not None and status not in STATUSES:
        raise BadInput("outbox.bad_status", status=status, expected="、".join(STATUSES))
    ob = schema.outbox
    stmt = sa.select(ob).order_by(ob.c.due_at, ob.c.notice_id)
    if status is not None:
        stmt = stmt.where(ob.c.status == status)
    if kind is not None:
        stmt = stmt.where(ob.c.kind == kind)
    if order_nos is not None:
        stmt = stmt.where(ob.c.order_no.in_(list(order_nos)))
    with shop.store.read() as conn:
        frame = read_frame(conn, stmt)
    now = clock.now()
    return frame.with_columns(
        (pl.col("status") == "queued").and_(pl.col("due_at") < pl.lit(now, _US)).alias("overdue")
    )


def mark_sent(shop: Shop, notice_ids: list[int]) -> dict[str, list[int]]:
    """Mark queued notices sent by the acting staff member: {"sent": […], "skipped": […]}
    (skipped: not queued any more — already sent by someone else, or withdrawn)."""
    actor = require(shop.actor, "notify_buyers")
    ids = sorted({int(i) for i in notice_ids})
    ob = schema.outbox
    moment = clock.now()
    with shop.store.write() as conn:
        rows = read_frame(
            conn, sa.select(ob.c.notice_id, ob.c.order_no, ob.c.status).where(ob.c.notice_id.in_(ids))
        )
        unknown = sorted(set(ids) - set(rows["notice_id"].to_list()))
        if unknown:
            raise BadInput("outbox.unknown_notice", notice_id=unknown[0])
        sent = (
            conn.execute(
                ob.update()
                .where(ob.c.notice_id.in_(ids), ob.c.status == "queued")
                .values(status="sent", sent_at=moment, sent_by=actor.name)
                .returning(ob.c.notice_id)
            )
            .scalars()
            .all()
        )
        done = rows.filter(pl.col("notice_id").is_in(list(sent)))
        _audit(
            conn,
            done,
            actor,
            moment,
            "notice_sent",
            from_state="queued",
            to_state=pl.lit("sent"),
            reason=pl.col("notice_id"),
        )
    return {"sent": sorted(sent), "skipped": sorted(set(ids) - set(sent))}


def send(
    shop: Shop, *, kind: str | None = None, limit: int | None = None, registry: Any = None
) -> dict[str, Any]:
    """Offer queued notices to the notifier plugins (the `send_notice` hook: SMS, e-mail,
    platform message), the most urgent first; each one a plugin sent is marked sent by
    "plugin:NAME". Without a notifier they stay queued (export_csv). Returns sent ids, how
    many are left, and (notice_id, plugin, error) for notifiers that failed. `registry`: the
    plugins to ask (default: those installed, kit.carriers.for_config)."""
    from kit.carriers import for_config

    actor = require(shop.actor, "notify_buyers")
    registry = registry or for_config(shop.config)
    queued = notices(shop, status="queued", kind=kind)
    if limit is not None:
        queued = queued.head(limit)
    if queued.height == 0 or not registry.notifiers:
        return {"sent": [], "left": queued.height, "errors": [], "notifiers": registry.notifiers}
    o = schema.orders
    with shop.store.read() as conn:
        who = read_by_keys(
            conn,
            o,
            ["order_no", "receiver_mobile", "buyer_nick", "platform"],
            "order_no",
            queued["order_no"].unique().to_list(),
        )
    sent: list[tuple[int, str]] = []
    errors: list[tuple[int, str, str]] = []
    for notice in queued.join(who, on="order_no", how="left", maintain_order="left").iter_rows(named=True):
        offered = {
            k: notice[k]
            for k in (
                "notice_id",
                "order_no",
                "kind",
                "lang",
                "text",
                "receiver_mobile",
                "buyer_nick",
                "platform",
            )
        }
        plugin, failed = registry.send_notice(offered)
        errors += [(notice["notice_id"], name, error) for name, error in failed]
        if plugin is not None:
            sent.append((int(notice["notice_id"]), plugin))
    done = _mark(shop, actor, sent)
    return {
        "sent": done,
        "left": queued.height - len(done),
        "errors": errors,
        "notifiers": registry.notifiers,
    }


def _mark(shop: Shop, actor: StaffMember, sent: list[tuple[int, str]]) -> list[int]:
    """Mark notices sent by the plugins that sent them (still queued only), with audit rows."""
    ob = schema.outbox
    moment = clock.now()
    done: list[int] = []
    with shop.store.write() as conn:
        for notice_id, plugin in sent:
            hit = conn.execute(
                ob.update()
                .where(ob.c.notice_id == notice_id, ob.c.status == "queued")
                .values(status="sent", sent_at=moment, sent_by=f"plugin:{plugin}")
                .returning(ob.c.order_no)
            ).scalar()
            if hit is not None:
                done.append(notice_id)
                _audit(
                    conn,
                    pl.DataFrame({"order_no": [hit], "notice_id": [notice_id]}),
                    actor,
                    moment,
                    "notice_sent",
                    from_state="queued",
                    to_state=pl.lit("sent"),
                    reason=pl.lit(f"plugin:{plugin}"),
                )
    return done


def export_csv(shop: Shop, path: str, *, kind: str | None = None) -> int:
    """Write the queued notices (notice_id, order_no, kind, due_at, text) to a UTF-8 CSV with a BOM
    (Excel opens it) for staff who send them by hand; the number of notices written."""
    frame = notices(shop, status="queued", kind=kind).select(
        "notice_id", "order_no", "kind", "due_at", "text"
    )
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        out.write(frame.write_csv())
    return frame.height


def ask(shop: Shop, order_nos: list[str], kind: str) -> int:
    """Queue a notice asking these orders' buyers to check their address or expect the COD
    confirmation call (S24a, S16), from the template of `kind`, due now; how many were queued."""
    from kit.i18n import current_lang, message_expr

    actor = require(shop.actor, "notify_buyers")
    if kind not in ASKING:
        raise BadInput("outbox.bad_kind", kind=kind, expected="、".join(ASKING))
    keys = sorted({str(k) for k in order_nos})
    moment = clock.now()
    lang = current_lang()
    with shop.store.write() as conn:
        known = read_by_keys(conn, schema.orders, ["order_no"], "order_no", keys)["order_no"].to_list()
        unknown = sorted(set(keys) - set(known))
        if unknown:
            raise BadInput("outbox.unknown_order", order_no=unknown[0])
        frame = pl.DataFrame({"order_no": keys}, schema={"order_no": pl.String}).select(
            "order_no",
            pl.lit(kind).alias("kind"),
            pl.lit(lang).alias("lang"),
            message_expr(f"notice.{kind}", lang, order_no="order_no").alias("text"),
            pl.lit(None, pl.String).alias("payload"),
            pl.lit(moment + SOON, _US).alias("due_at"),
        )
        return queue(conn, frame, actor, moment)

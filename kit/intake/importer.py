"""Importing an intake in one transaction: new orders and lines, field updates, trade status
moves through the lifecycle, flags for a person, quarantined rows with their original text.

Every input row ends in exactly one of new, updated, unchanged (duplicate) or
quarantined, and the summary proves it: rows_in = new + updated + unchanged + quarantined.
Interrupted, the import leaves nothing half-written (S6, S10).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock, lifecycle
from kit import review as review_service
from kit.i18n import t
from kit.intake.classify import LINE_KEY, STORED, Classified, classify, may_be_held
from kit.intake.messages import quarantine_message
from kit.intake.quarantine import resolve_imported
from kit.intake.rows import Intake
from kit.models import Role, StaffMember, TradeStatus
from kit.permissions import require
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys

OUTCOMES = ("new", "updated", "unchanged", "quarantined")
SHIPPED = {str(s) for s in (TradeStatus.WAIT_BUYER_CONFIRM_GOODS, TradeStatus.TRADE_BUYER_SIGNED,
                            TradeStatus.TRADE_FINISHED)}
CLOSED = {str(TradeStatus.TRADE_CLOSED), str(TradeStatus.TRADE_CLOSED_BY_TAOBAO)}


@dataclass(frozen=True)
class ImportSummary:
    """What one import did, row by row and order by order."""

    batch_id: int
    format: str
    sources: tuple[str, ...]
    rows_in: int
    rows: dict[str, int]           # outcome -> input rows
    orders: dict[str, int]         # outcome -> orders
    flagged: int                   # changes left for a person to decide
    changes: pl.DataFrame = field(repr=False)  # order_no, fields (list of changed fields)
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine reason code -> rows
    review: Any = None             # kit.review.ReviewResult of the new orders, when reviewed

    @property
    def balanced(self) -> bool:
        """True when every input row ended in exactly one outcome."""
        return self.rows_in == sum(self.rows[o] for o in OUTCOMES)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        return {
            "batch_id": self.batch_id, "format": self.format, "sources": list(self.sources),
            "rows_in": self.rows_in, **{o: self.rows[o] for o in OUTCOMES},
            "balanced": self.balanced, "orders": self.orders, "flagged": self.flagged,
            "quarantine_reasons": self.reasons,
            "changes": [{"order_no": r["order_no"], "fields": r["fields"]}
                        for r in self.changes.iter_rows(named=True)],
            **({"review": self.review.to_dict()} if self.review is not None else {}),
        }


@cache
def _status_graph() -> dict[str, list[tuple[str, str]]]:
    """Trade status moves the kit's own jobs may make: from -> [(action, to)]."""
    graph: dict[str, list[tuple[str, str]]] = {}
    for tr in lifecycle.TRANSITIONS:
        if tr.entity == "order" and tr.field == "trade_status" and Role.SYSTEM in tr.roles:
            for source in sorted(tr.sources):
                graph.setdefault(source, []).append((tr.action, tr.target))
    return graph


def status_path(source: str, target: str) -> list[str] | None:
    """The shortest list of lifecycle actions taking a trade from one status to another."""
    queue, seen = deque([(source, [])]), {source}
    while queue:
        state, path = queue.popleft()
        if state == target:
            return path
        for action, nxt in _status_graph().get(state, []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, [*path, action]))
    return None


def _initial_stage() -> pl.Expr:
    """A new order's stage from its trade status: shipped ones are done, closed ones cancelled."""
    return (pl.when(pl.col("trade_status").is_in(list(SHIPPED))).then(pl.lit("confirmed"))
            .when(pl.col("trade_status").is_in(list(CLOSED))).then(pl.lit("cancelled"))
            .otherwise(pl.lit("new")))


def _new_rows(plan: Classified, platform: str, shop: str, batch_id: int,
              moment: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The new orders and lines as rows of their tables."""
    orders = plan.new_orders.with_columns(
        pl.lit(platform).alias("platform"), pl.lit(shop).alias("shop"),
        _initial_stage().alias("stage"), pl.lit(batch_id).alias("batch_id"),
        pl.lit(0).alias("version"), pl.lit(moment, dtype=pl.Datetime("us")).alias("updated_at"),
        pl.col("discount_fen").fill_null(0), pl.col("post_fee_fen").fill_null(0),
        pl.col("paid_fen").fill_null(0), pl.lit(None, dtype=pl.String).alias("hold_reasons"),
        pl.lit(False).alias("phone_confirmed"), pl.lit(False).alias("no_price_slip"),
    )
    lines = plan.new_lines.select(
        "order_no", "line_no", "sub_order_no", pl.col("sku").fill_null(""),
        pl.col("title").fill_null(""), "spec", "quantity",
        pl.col("price_fen").fill_null(0), pl.col("line_discount_fen").fill_null(0).alias("discount_fen"),
        pl.col("amount_fen").fill_null(pl.col("price_fen").fill_null(0) * pl.col("quantity")),
        (pl.col("price_fen").fill_null(0) == 0).alias("is_gift_item"),  # a free line is a gift (S5)
    )
    # In key order, the primary-key index grows at its end instead of at random pages.
    return orders.sort("order_no"), lines.sort("order_no", "line_no")


def _write_updates(conn: sa.Connection, plan: Classified, actor: StaffMember, batch_id: int,
                   moment: datetime) -> None:
    if plan.updates.height == 0:
        return
    typed = plan.incoming.filter(pl.col("order_no").is_in(plan.updates["order_no"].unique().implode()))
    patterns = plan.updates.group_by("order_no").agg(pl.col("field").sort().alias("fields"))
    for fields_changed, group in patterns.group_by("fields"):
        columns = list(fields_changed[0])
        values = typed.filter(pl.col("order_no").is_in(group["order_no"].implode())).select(
            pl.col("order_no").alias("k_"), *[pl.col(c).alias(f"n_{c}") for c in columns])
        conn.execute(
            sa.update(schema.orders).where(schema.orders.c.order_no == sa.bindparam("k_"))
            .values({**{c: sa.bindparam(f"n_{c}") for c in columns},
                     "version": schema.orders.c.version + 1, "updated_at": moment}),
            values.to_dicts())
    insert_frame(conn, schema.audit, lifecycle.audit_rows(plan.updates.select(
        pl.col("order_no").alias("entity_id"), "field", pl.col("old").alias("from_state"),
        pl.col("new").alias("to_state"), pl.lit(batch_id).alias("batch_id")),
        actor, moment, "order", "import_update"))


def _move_statuses(conn: sa.Connection, plan: Classified, system: StaffMember,
                   moment: datetime) -> list[dict[str, Any]]:
    """Walk each trade status forward through the lifecycle; return what it refused."""
    refused: list[dict[str, Any]] = []
    for (source, target), group in plan.moves.group_by(["from_status", "to_status"]):
        keys = group["order_no"].to_list()
        path = status_path(source, target)
        if path is None:
            refused += [{"order_no": k, "kind": "status_not_allowed", "field": "trade_status",
                         "old": source, "new": target,
                         "message": t("import.status_not_allowed", order_no=k,
                                      old=TradeStatus(source).label, new=TradeStatus(target).label)}
                        for k in keys]
            continue
        reason = t("import.platform_says", status=TradeStatus(target).label)
        for action in path:
            result = lifecycle.apply_many(conn, "order", keys, action, system, reason=reason, now=moment)
            refused += [{"order_no": k, "kind": "status_refused", "field": "trade_status",
                         "old": source, "new": target, "message": error.message}
                        for k, error in result.refused]
            keys = result.keys_applied
    return refused


def _flags(conn: sa.Connection, plan: Classified, refused_moves: list[dict[str, Any]],
           actor: StaffMember, batch_id: int, moment: datetime) -> int:
    rows = [
        {"order_no": r["order_no"], "kind": r["kind"],
         "message": t(f"import.flag_{r['kind']}", order_no=r["order_no"], field=r["field"]),
         "details": json.dumps({"field": r["field"], "old": r["old"], "new": r["new"]}, ensure_ascii=False)}
        for r in plan.refused.iter_rows(named=True)
    ] + [{"order_no": r["order_no"], "kind": r["kind"], "message": r["message"],
          "details": json.dumps({k: r[k] for k in ("field", "old", "new")}, ensure_ascii=False)}
         for r in refused_moves]
    if rows:
        conn.execute(schema.flags.insert(), [
            {**r, "batch_id": batch_id, "status": "open", "created_at": moment, "created_by": actor.name}
            for r in rows])
    return len(rows)


def _quarantine(conn: sa.Connection, rows: pl.DataFrame, raw: pl.Series, batch_id: int,
                moment: datetime) -> None:
    bad = rows.filter(pl.col("outcome") == "quarantined")
    if bad.height == 0:
        return
    bad = bad.with_columns(raw.gather(bad["_i"]).alias("raw"))
    if bad["raw"].null_count():  # may_be_held() must cover every row classify() holds back
        raise AssertionError("quarantined rows without their original text")
    open_raw = {r for (r,) in conn.execute(
        sa.select(schema.quarantine.c.raw).where(schema.quarantine.c.status == "open",
                                                 schema.quarantine.c.source.in_(bad["source"].unique().to_list())))}
    fresh = [r for r in bad.iter_rows(named=True) if r["raw"] not in open_raw]  # re-import adds nothing
    if fresh:
        conn.execute(schema.quarantine.insert(), [
            {"batch_id": batch_id, "source": r["source"], "row_no": r["row_no"], "row_kind": r["row_kind"],
             "order_no": r["order_no"], "reasons": "\n".join(r["reasons"]),
             "message": quarantine_message(r["row_no"], r["reasons"], r["raw"]), "raw": r["raw"],
             "status": "open", "created_at": moment}
            for r in fresh])


def import_intake(shop: Any, intake: Intake, *, platform: str | None = None,
                  shop_name: str | None = None, review: bool = False,
                  now: datetime | None = None) -> ImportSummary:
    """Import what a reader read, as the shop's acting person, in one transaction.

    With `review`, the new orders are reviewed before they are written (kit.review rules,
    kit.lifecycle decisions, audited as the review job): stored approved or held.
    """
    actor = require(shop.actor, "insert_orders")
    system = StaffMember(f"system:import:{actor.name}", Role.SYSTEM)
    platform = platform or shop.config.platform
    shop_name = shop_name or shop.config.shop_name
    moment = now or clock.now()
    raw = intake.take_raw()
    keys = intake.rows["order_no"].drop_nulls().unique().to_list()
    with shop.store.write() as conn:
        stored = read_by_keys(conn, schema.orders, ["order_no", "platform", "shop", "stage", *STORED],
                              "order_no", keys)
        stored_lines = read_by_keys(conn, schema.order_lines, ["order_no", "line_no", *LINE_KEY],
                                    "order_no", keys)
        # Only rows that may end in quarantine keep their original text: the rest is let go
        # before classifying and writing, which is most of an intake's memory.
        kept = may_be_held(intake.rows, stored["order_no"])
        raw = pl.repeat(None, len(raw), dtype=pl.String, eager=True).scatter(kept, raw.gather(kept)) \
            if len(kept) < len(raw) else raw
        plan = classify(intake.rows, stored, stored_lines, platform, shop_name)
        batch_id = conn.execute(schema.batches.insert().values(
            kind="import", source=", ".join(intake.sources), actor=actor.name, role=str(actor.role),
            at=moment, orders=plan.new_orders.height, lines=plan.new_lines.height,
        ).returning(schema.batches.c.batch_id)).scalar_one()
        orders, lines = _new_rows(plan, platform, shop_name, batch_id, moment)
        reviewed = None
        if review:  # decided before the write: each new order is stored once, approved or held
            orders, trail, reviewed = review_service.review_unstored(
                conn, shop.config, actor, orders, lines, now=moment)
        insert_frame(conn, schema.orders, orders)
        insert_frame(conn, schema.order_lines, lines)
        if reviewed is not None:
            insert_frame(conn, schema.audit, trail)
        _write_updates(conn, plan, actor, batch_id, moment)
        refused_moves = _move_statuses(conn, plan, system, moment)
        rows = _requarantine_refused(plan, refused_moves)
        flagged = _flags(conn, plan, refused_moves, actor, batch_id, moment)
        resolve_imported(conn, rows.filter(
            (pl.col("outcome") != "quarantined") & pl.col("order_no").is_not_null()).select(
            "order_no", "row_kind"), batch_id, actor.name, moment)
        _quarantine(conn, rows, raw, batch_id, moment)
        summary = _summary(batch_id, intake, plan, rows, flagged, reviewed)
        conn.execute(sa.update(schema.batches).where(schema.batches.c.batch_id == batch_id).values(
            details=json.dumps({k: v for k, v in summary.to_dict().items() if k != "changes"},
                               ensure_ascii=False)))
        conn.execute(schema.audit.insert().values(
            at=moment, actor=actor.name, role=str(actor.role), entity="batch", entity_id=str(batch_id),
            action="import", to_state=str(summary.rows["new"]), reason=", ".join(intake.sources),
            batch_id=batch_id))
    return summary


def _requarantine_refused(plan: Classified, refused_moves: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows whose only change the lifecycle refused wait for a person: quarantined, not updated."""
    if not refused_moves:
        return plan.rows
    others = set(plan.updates["order_no"].to_list()) | set(plan.new_lines["order_no"].to_list())
    only = [r["order_no"] for r in refused_moves if r["order_no"] not in others]
    hit = pl.col("order_no").is_in(only) & (pl.col("outcome") == "updated")
    return plan.rows.with_columns(
        pl.when(hit).then(pl.lit("quarantined")).otherwise(pl.col("outcome")).alias("outcome"),
        pl.when(hit).then(pl.concat_list([pl.col("reasons"), pl.lit(["change_refused"])]))
        .otherwise(pl.col("reasons")).alias("reasons"))


def _summary(batch_id: int, intake: Intake, plan: Classified, rows: pl.DataFrame,
             flagged: int, reviewed: Any = None) -> ImportSummary:
    counts = dict(rows.group_by("outcome").len().iter_rows())
    per_order = rows.filter(pl.col("order_no").is_not_null()).group_by("order_no").agg(
        pl.col("outcome").first())
    order_counts = dict(per_order.group_by("outcome").len().iter_rows())
    changes = pl.concat([
        plan.updates.select("order_no", "field"),
        plan.moves.select("order_no", pl.lit("trade_status").alias("field")),
    ]).group_by("order_no", maintain_order=True).agg(
        pl.col("field").unique(maintain_order=True).alias("fields"))
    reasons = rows.filter(pl.col("outcome") == "quarantined").select(
        pl.col("reasons").list.eval(pl.element().str.split(":").list.first())).explode("reasons")
    return ImportSummary(
        batch_id, intake.format, intake.sources, intake.rows_in,
        {o: int(counts.get(o, 0)) for o in OUTCOMES}, {o: int(order_counts.get(o, 0)) for o in OUTCOMES},
        flagged, changes, dict(reasons.group_by("reasons").len().sort("reasons").iter_rows()),
        reviewed,
    )

"""Order review (审单): rules over the whole frame of new orders; all pass → approved, any
fail → held with every reason listed, so people decide only what needs a person.

Each rule is a small function over the review context returning the orders it stops, with
a reason code. S11: product, quantity, price and availability are checked; S16: online
orders only when fully paid, COD only after the phone confirmation; S26: the buyer's
message is read by a person, and a present never carries a price slip (the order gets
`no_price_slip`); S6: possible duplicates and mergeable orders are shown, not shipped twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock, lifecycle
from kit.config import Config
from kit.errors import BadInput, GuardFailed
from kit.i18n import t
from kit.lifecycle.guards import PAYABLE_STATES
from kit.models import Role, StaffMember
from kit.permissions import require
from kit.review.rules import (
    ADDRESS_KEY,
    OPEN_STAGES,
    REASONS,
    RULES,
    ReviewContext,
    context,
    describe,
    describe_expr,
    is_present,
    reasons,
)
from kit.store import schema
from kit.store.frames import insert_frame, read_frame

__all__ = [
    "REASONS",
    "RULES",
    "ReviewContext",
    "ReviewResult",
    "add_to_blacklist",
    "cod_call_list",
    "confirm_phone",
    "context",
    "describe",
    "describe_expr",
    "held_orders",
    "is_present",
    "merge",
    "reasons",
    "review_in",
    "review_unstored",
    "run",
]


@dataclass(frozen=True)
class ReviewResult:
    """What a review run did."""

    reviewed: int
    approved: list[str]
    held: pl.DataFrame        # order_no, reasons
    presents: list[str]       # orders newly marked no_price_slip (S26)
    refused: list[tuple[str, str]]  # order_no, message: changes the lifecycle refused

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return {"reviewed": self.reviewed, "approved": len(self.approved), "held": self.held.height,
                "presents": len(self.presents),
                "held_orders": [{"order_no": r["order_no"], "reasons": r["reasons"]}
                                for r in self.held.iter_rows(named=True)],
                "refused": [{"order_no": k, "message": m} for k, m in self.refused]}


def run(shop: Any, *, order_nos: list[str] | None = None, recheck: bool = False,
        now: datetime | None = None) -> ReviewResult:
    """Review the new orders (and, with recheck, the held ones): approve or hold each."""
    person = require(shop.actor, "run_review")
    with shop.store.write() as conn:
        return review_in(conn, shop.config, person, order_nos=order_nos, recheck=recheck, now=now)


def review_in(conn: sa.Connection, config: Config, person: StaffMember, *,
              order_nos: list[str] | None = None, recheck: bool = False,
              now: datetime | None = None) -> ReviewResult:
    """The review inside the caller's write transaction, acting as the review job for `person`."""
    system = StaffMember(f"system:review:{person.name}", Role.SYSTEM)
    moment = now or clock.now()
    o = schema.orders
    stages = ["new", "held"] if recheck else ["new"]
    stmt = sa.select(o).where(o.c.stage.in_(stages), o.c.trade_status.in_(PAYABLE_STATES))
    if order_nos is not None:
        stmt = stmt.where(o.c.order_no.in_(order_nos))
    if conn.dialect.name == "postgresql":  # lock them: the approvals below act on these rows
        stmt = stmt.order_by(o.c.order_no).with_for_update()
    orders = read_frame(conn, stmt)
    ctx = context(conn, orders, config)
    found = reasons(ctx)
    presents = _mark_presents(conn, orders, config, system, moment)
    passing = orders.filter(~pl.col("order_no").is_in(found["order_no"].implode()))["order_no"]
    unchanged = orders.filter(~pl.col("order_no").is_in(presents))  # rows as read, still current
    approved = lifecycle.apply_many(conn, "order", passing, "approve", system, now=moment,
                                    rows=unchanged.filter(pl.col("order_no").is_in(passing.implode())))
    coded = found.join(orders.select("order_no", "stage", "hold_reasons"), on="order_no").with_columns(
        pl.col("reasons").list.eval(pl.lit("review.") + pl.element()).list.join("\n").alias("codes"))
    to_hold = coded.filter(pl.col("stage") == "new").select(
        pl.col("order_no").alias("key"), pl.col("codes").alias("reason"))
    held = lifecycle.apply_many(conn, "order", to_hold, "hold", system, now=moment,
                                rows=unchanged.filter(pl.col("order_no").is_in(to_hold["key"].implode())))
    _refresh_reasons(conn, coded.filter(pl.col("stage") == "held"), system, moment)
    refused = [(k, e.message) for k, e in (*approved.refused, *held.refused)]
    return ReviewResult(orders.height, approved.keys_applied, found, presents, refused)


def _refresh_reasons(conn: sa.Connection, still_held: pl.DataFrame, actor: StaffMember,
                     moment: datetime) -> None:
    """On a recheck, a held order's rule reasons become today's; reasons typed by people stay."""
    typed = (pl.col("hold_reasons").fill_null("").str.split("\n")
             .list.eval(pl.element().filter((pl.element() != "") & ~pl.element().str.starts_with("review."))))
    fresh = still_held.with_columns(
        pl.concat_list([typed, pl.col("codes").str.split("\n")]).list.join("\n").alias("new_reasons")
    ).filter(pl.col("new_reasons") != pl.col("hold_reasons").fill_null(""))
    if fresh.height == 0:
        return
    conn.execute(sa.update(schema.orders).where(schema.orders.c.order_no == sa.bindparam("k_"))
                 .values(hold_reasons=sa.bindparam("n_"), version=schema.orders.c.version + 1,
                         updated_at=moment),
                 fresh.select(pl.col("order_no").alias("k_"), pl.col("new_reasons").alias("n_")).to_dicts())
    insert_frame(conn, schema.audit, lifecycle.audit_rows(fresh.select(
        pl.col("order_no").alias("entity_id"), pl.lit("hold_reasons").alias("field"),
        pl.col("hold_reasons").alias("from_state"), pl.col("new_reasons").alias("to_state")),
        actor, moment, "order", "recheck"))


def _mark_presents(conn: sa.Connection, orders: pl.DataFrame, config: Config, actor: StaffMember,
                   moment: datetime) -> list[str]:
    """S26: orders whose message says present get no_price_slip, audited, in one statement."""
    marked = orders.filter(is_present(config) & ~pl.col("no_price_slip"))["order_no"].to_list()
    for start in range(0, len(marked), 5000):
        chunk = marked[start:start + 5000]
        conn.execute(sa.update(schema.orders).where(schema.orders.c.order_no.in_(chunk))
                     .values(no_price_slip=True, version=schema.orders.c.version + 1, updated_at=moment))
    if marked:
        insert_frame(conn, schema.audit, _present_trail(marked, actor, moment))
    return marked


def _present_trail(order_nos: list[str], actor: StaffMember, moment: datetime) -> pl.DataFrame:
    """Audit rows for orders marked no_price_slip because their message says present (S26)."""
    return lifecycle.audit_rows(pl.DataFrame({"entity_id": order_nos}, schema={"entity_id": pl.String})
                                .with_columns(field=pl.lit("no_price_slip"), from_state=pl.lit("False"),
                                              to_state=pl.lit("True"),
                                              reason=pl.lit(t("review.present_detected"))),
                                actor, moment, "order", "edit_present")


def confirm_phone(shop: Any, order_no: str, *, expected_version: int | None = None) -> ReviewResult:
    """S16: pre-sales confirmed the COD order by phone; record who and when, and review it again,
    in one transaction."""
    person = require(shop.actor, "read")
    with shop.store.write() as conn:
        lifecycle.edit(conn, order_no, {"phone_confirmed": True}, person, expected_version=expected_version)
        return review_in(conn, shop.config, person, order_nos=[order_no], recheck=True)


def add_to_blacklist(shop: Any, kind: str, value: str, reason: str) -> None:
    """Blacklist a buyer nick, a mobile or a full address; later reviews hold their orders."""
    actor = require(shop.actor, "manage_blacklist")
    if kind not in ("buyer_nick", "mobile", "address"):
        raise BadInput("review.bad_blacklist_kind", kind=kind)
    with shop.store.write() as conn:
        conn.execute(schema.blacklist.insert().values(kind=kind, value=value.strip(), reason=reason,
                                                      actor=actor.name, at=clock.now(), active=True))


def held_orders(shop: Any) -> pl.DataFrame:
    """The held orders with their reasons in words, oldest payment first: the review desk's list."""
    o = schema.orders
    with shop.store.read() as conn:
        frame = read_frame(conn, sa.select(o).where(o.c.stage == "held").order_by(o.c.paid_at))
    return frame.with_columns(describe_expr().alias("reasons"))


def cod_call_list(shop: Any) -> pl.DataFrame:
    """S16: COD orders waiting for pre-sales to confirm them by phone, oldest first."""
    o = schema.orders
    placed = sa.func.coalesce(o.c.paid_at, o.c.created_at)
    with shop.store.read() as conn:
        return read_frame(conn, sa.select(o.c.order_no, o.c.receiver_name, o.c.receiver_mobile,
                                          o.c.receiver_phone, o.c.payable_fen, o.c.created_at,
                                          o.c.paid_at, o.c.stage, o.c.version)
                          .where(o.c.payment_method == "cod", ~o.c.phone_confirmed,
                                 o.c.stage.in_(["new", "held"]),
                                 o.c.trade_status.in_(PAYABLE_STATES)).order_by(placed))


def merge(shop: Any, order_nos: list[str], into: str, *, reason: str | None = None,
          versions: dict[str, int] | None = None) -> list[str]:
    """合单 (S6): orders of one buyer to one address ship with `into`; checked, then audited."""
    actor = require(shop.actor, "read")
    o = schema.orders
    wanted = list(dict.fromkeys([into, *order_nos]))
    with shop.store.write() as conn:
        rows = read_frame(conn, sa.select(o).where(o.c.order_no.in_(wanted)))
        missing = sorted(set(wanted) - set(rows["order_no"].to_list()))
        if missing:
            raise BadInput("review.merge_missing", orders=", ".join(missing))
        if into in order_nos or len(wanted) < 2:
            raise BadInput("review.merge_self", order_no=into)
        if rows.select(ADDRESS_KEY).unique().height != 1:
            raise GuardFailed("review.merge_other_address", into=into)
        if rows.filter(pl.col("merged_into").is_not_null()).height or rows.filter(
                ~pl.col("stage").is_in(OPEN_STAGES)).height:
            raise GuardFailed("review.merge_not_open", into=into)
        for no in wanted[1:]:  # the few orders staff selected
            lifecycle.edit(conn, no, {"merged_into": into}, actor, reason=reason,
                           expected_version=(versions or {}).get(no))
    return wanted[1:]


def review_unstored(conn: sa.Connection, config: Config, person: StaffMember, orders: pl.DataFrame,
                    lines: pl.DataFrame, *, now: datetime | None = None
                    ) -> tuple[pl.DataFrame, pl.DataFrame, ReviewResult]:
    """Review orders about to be stored (an import): the same rules and lifecycle decisions as
    `run`, made before the write, so each order is stored once, already approved or held.

    `orders` and `lines` are rows of the `orders` and `order_lines` tables. Returns the orders
    as they are to be stored, the audit rows of the decisions, and what was decided.
    """
    system = StaffMember(f"system:review:{person.name}", Role.SYSTEM)
    moment = now or clock.now()
    todo = (pl.col("stage") == "new") & pl.col("trade_status").is_in(PAYABLE_STATES)
    candidates = orders.filter(todo)
    ctx = context(conn, candidates, config,
                  lines=lines.filter(pl.col("order_no").is_in(candidates["order_no"].implode())))
    found = reasons(ctx)
    present = todo & is_present(config) & ~pl.col("no_price_slip")
    presents = orders.filter(present)["order_no"].to_list()
    orders = orders.with_columns((pl.col("no_price_slip") | present).alias("no_price_slip"))
    passing = candidates.filter(~pl.col("order_no").is_in(found["order_no"].implode()))["order_no"]
    approve = lifecycle.plan_many("order", passing, "approve", system, orders, now=moment)
    hold = lifecycle.plan_many("order", found.select(
        pl.col("order_no").alias("key"),
        pl.col("reasons").list.eval(pl.lit("review.") + pl.element()).list.join("\n").alias("reason")),
        "hold", system, orders, now=moment)
    decided = pl.concat([approve.rows, hold.rows], how="vertical_relaxed").drop("_old_version")
    stored = pl.concat([orders.filter(~pl.col("order_no").is_in(decided["order_no"].implode())),
                        decided.select(orders.columns)], how="vertical_relaxed")
    marked = _present_trail(presents, system, moment)
    trail = pl.concat([marked, approve.audit_rows(system), hold.audit_rows(system)], how="vertical_relaxed")
    result = ReviewResult(candidates.height, approve.rows["order_no"].to_list(), found, presents,
                          [(k, e.message) for k, e in (*approve.refused, *hold.refused)])
    return stored, trail, result

"""Allocation runs: one batch in the caller's transaction (`allocate_batch`: lock, decide,
guarded write, redo on a lost race), the shop-level run over every waiting order in
batches (`allocate`), and giving an allocation back (`deallocate`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock, lifecycle
from kit.allocation.decide import Decision, decide
from kit.allocation.policy import AllocationPolicy
from kit.allocation.problem import WAITING, Batch, lock_orders, read_batch
from kit.allocation.write import (
    backorder_reasons,
    served_lines,
    write_backorders,
    write_orders,
    write_reservations,
    write_shipments,
    write_stock,
)
from kit.errors import KitError
from kit.i18n import t
from kit.models import StaffMember, Stage
from kit.outbox import withdraw
from kit.shop import Shop
from kit.stock.ledger import new_batch, permit
from kit.stock.reservations import release
from kit.store import schema
from kit.store.frames import read_frame

__all__ = ["AllocationResult", "allocate", "allocate_batch", "backorders", "deallocate"]

RETRIES = 3  # a batch PostgreSQL aborted as a deadlock victim is run again this often
_RETRY_STATES = ("40P01", "40001")  # deadlock detected, serialization failure


@dataclass
class AllocationResult:
    """What a run did: orders allocated, newly backordered, still short, left waiting (lost
    a race; the next run tries again), refused by the lifecycle; shipments and reserved
    lines and units; the lines short; decision time apart from the whole."""

    allocated: list[str] = field(default_factory=list)
    backordered: list[str] = field(default_factory=list)
    still_short: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    refused: list[tuple[str, KitError]] = field(default_factory=list)
    shipments: int = 0
    lines: int = 0
    units: int = 0
    batches: int = 0
    decide_seconds: float = 0.0
    seconds: float = 0.0
    short: pl.DataFrame = field(default_factory=pl.DataFrame)

    def add(self, other: AllocationResult) -> None:
        """Fold another batch's result into this one."""
        for name in ("allocated", "backordered", "still_short", "waiting", "refused"):
            getattr(self, name).extend(getattr(other, name))
        for name in ("shipments", "lines", "units", "batches", "decide_seconds", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.short = (
            pl.concat([self.short, other.short], how="diagonal_relaxed") if self.short.width else other.short
        )

    def to_dict(self) -> dict[str, Any]:
        """Counts and keys for --json."""
        return {
            "allocated": len(self.allocated),
            "backordered": len(self.backordered),
            "still_short": len(self.still_short),
            "waiting": len(self.waiting),
            "refused": [{"order_no": k, **e.to_dict()} for k, e in self.refused],
            "shipments": self.shipments,
            "lines": self.lines,
            "units": self.units,
            "batches": self.batches,
            "decide_seconds": round(self.decide_seconds, 3),
            "seconds": round(self.seconds, 3),
            "short": self.short.to_dicts() if self.short.height <= 1000 else self.short.height,
        }


def _short_lines(batch: Batch, decision: Decision) -> pl.DataFrame:
    """Lines of unserved orders that miss units: order_no, line_no, sku, quantity, missing,
    warehouse_code (null: short everywhere together), host_no."""
    codes = dict(enumerate(batch.warehouses["code"].to_list()))
    return (
        batch.lines.with_columns(
            pl.Series("missing", decision.missing, pl.Int64),
            pl.Series("_at", decision.missing_at, pl.Int64)
            .replace_strict(codes, default=None, return_dtype=pl.String)
            .alias("warehouse_code"),
        )
        .filter(pl.col("missing") > 0)
        .select("order_no", "line_no", "sku", "quantity", "missing", "warehouse_code", "host_no")
    )


def allocate_batch(
    conn: sa.Connection,
    order_nos: list[str],
    actor: StaffMember,
    policy: AllocationPolicy,
    *,
    default_carrier: str,
    at: datetime,
    batch_id: int | None = None,
) -> AllocationResult:
    """Allocate these orders (those still approved or backordered) in the caller's write
    transaction: lock the orders, then every stock row of their SKUs in a fixed order,
    decide on arrays, and write everything with one guarded stock update (see kit.allocation)."""
    start = time.perf_counter()
    result = AllocationResult(batches=1)
    orders = lock_orders(conn, order_nos)
    if orders.height == 0:
        return result
    planned = lifecycle.plan_many("order", orders["order_no"], "allocate", actor, orders, now=at)
    result.refused = planned.refused
    orders = orders.filter(pl.col("order_no").is_in(planned.rows["order_no"].implode()))
    batch = read_batch(conn, orders, policy)
    clock_start = time.perf_counter()
    decision = decide(batch.problem, policy, batch.own)
    result.decide_seconds = time.perf_counter() - clock_start
    lines = served_lines(batch, decision.warehouse, decision.served)
    write_stock(conn, lines)
    lines = write_shipments(conn, lines, orders, default_carrier, at)
    write_reservations(conn, lines, actor, at, batch_id)
    allocated = lines["order_no"].unique()
    write_orders(conn, planned, allocated, actor, batch_id)
    short = _short_lines(batch, decision)
    members = batch.orders.filter(pl.col("host_no").is_in(short["host_no"].implode()))
    reasons = backorder_reasons(short.drop("order_no").rename({"host_no": "order_no"}))
    requests = (
        members.filter(pl.col("stage") == str(Stage.APPROVED))
        .join(reasons.rename({"key": "host_no"}), on="host_no")
        .select(pl.col("order_no").alias("key"), "reason")
    )
    if requests.height:
        backorder = lifecycle.plan_many("order", requests, "backorder", actor, orders, now=at)
        write_orders(conn, backorder, requests["key"], actor, batch_id)
        result.refused += backorder.refused
    write_backorders(conn, short.drop("host_no"), allocated, at, batch_id)
    withdraw(
        conn, allocated.to_list(), actor, at, "stockout", reason=t("outbox.served")
    )  # S20: no longer short
    result.allocated = allocated.sort().to_list()
    result.backordered = requests["key"].sort().to_list()
    result.still_short = (
        members.filter(pl.col("stage") == str(Stage.BACKORDERED))["order_no"].sort().to_list()
    )
    result.waiting = batch.orders.filter(
        ~pl.col("order_no").is_in(allocated.implode())
        & ~pl.col("order_no").is_in(members["order_no"].implode())
    )["order_no"].to_list()
    result.shipments = lines["shipment_id"].n_unique()
    result.lines, result.units = lines.height, int(lines["quantity"].sum())
    result.short = short.drop("host_no")
    result.seconds = time.perf_counter() - start
    return result


def _candidates(conn: sa.Connection, order_nos: list[str] | None, limit: int | None) -> pl.DataFrame:
    """Orders waiting for allocation, first paid first (order_no, and `_group`: its host's
    position). An order merged into another (合单) comes with the waiting orders it ships
    with, even beyond `order_nos` or `limit`, and next to them, so no batch parts them."""
    o = schema.orders
    waiting = read_frame(
        conn,
        sa.select(o.c.order_no, o.c.merged_into)
        .where(o.c.stage.in_(WAITING))
        .order_by(sa.func.coalesce(o.c.paid_at, o.c.created_at), o.c.order_no),
    ).with_row_index("_rank")
    waiting = waiting.with_columns(
        pl.when(pl.col("merged_into").is_in(waiting["order_no"].implode()))
        .then(pl.col("merged_into"))
        .otherwise(pl.col("order_no"))
        .alias("_host")
    )
    chosen = waiting if order_nos is None else waiting.filter(pl.col("order_no").is_in(list(order_nos)))
    if limit is not None:
        chosen = chosen.head(limit)
    rank = waiting.select(pl.col("order_no").alias("_host"), pl.col("_rank").alias("_group"))
    return (
        waiting.filter(pl.col("_host").is_in(chosen["_host"].implode()))
        .join(rank, on="_host")
        .sort("_group", "_rank")
        .select("order_no", "_group")
    )


def _batches(todo: pl.DataFrame, size: int) -> list[list[str]]:
    """The orders in batches of about `size`, a merged group never cut in two."""
    first = todo.with_row_index("_i").group_by("_group").agg(pl.col("_i").min().alias("_start"))
    cut = todo.join(first, on="_group", how="left", maintain_order="left")["_start"] // size
    return [g["order_no"].to_list() for _, g in todo.group_by(cut.alias("_batch"), maintain_order=True)]


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    """A deadlock or serialization failure: PostgreSQL rolled the batch back; run it again."""
    return getattr(exc.orig, "sqlstate", None) in _RETRY_STATES


def allocate(
    shop: Shop,
    *,
    policy: AllocationPolicy | None = None,
    order_nos: list[str] | None = None,
    limit: int | None = None,
    progress: Any = None,
) -> AllocationResult:
    """Allocate every approved (and backordered) order, or those named, in batches of
    policy.batch_orders orders, each batch one transaction with its own batch row. Merged
    orders (合单) are allocated with the waiting orders they ship with."""
    actor = permit(shop.actor, "run_allocation")
    policy = policy or AllocationPolicy.from_mapping(shop.config.allocation)
    with shop.store.read() as conn:
        todo = _candidates(conn, order_nos, limit)
    total = AllocationResult()
    for chunk in _batches(todo, policy.batch_orders):
        for attempt in range(RETRIES):
            try:
                with shop.store.write() as conn:
                    at = clock.now()
                    batch_id = new_batch(
                        conn,
                        "allocation",
                        "kit allocate",
                        actor,
                        at,
                        details={"strategy": policy.strategy, "split": policy.split},
                    )
                    result = allocate_batch(
                        conn,
                        chunk,
                        actor,
                        policy,
                        default_carrier=shop.config.default_carrier,
                        at=at,
                        batch_id=batch_id,
                    )
                    conn.execute(
                        sa.update(schema.batches)
                        .where(schema.batches.c.batch_id == batch_id)
                        .values(
                            orders=len(result.allocated),
                            lines=result.lines,
                            details=json.dumps(
                                {k: v for k, v in result.to_dict().items() if k != "short"}
                                | {"strategy": policy.strategy, "split": policy.split},
                                ensure_ascii=False,
                            ),
                        )
                    )
                break
            except sa.exc.DBAPIError as exc:
                if not _retryable(exc) or attempt == RETRIES - 1:
                    raise
        total.add(result)
        if progress is not None:
            progress(len(chunk))
    return total


def deallocate(
    conn: sa.Connection, order_nos: list[str], reason: str, actor: StaffMember, *, at: datetime
) -> lifecycle.BulkResult:
    """Give allocated orders back (allocated → approved): their allocated shipments are
    cancelled and their reservations released, in the caller's transaction. Orders that
    are not allocated are refused in the result, untouched. A merged order (合单) shares its
    host's shipment, so the allocated orders of its merged group are given back with it."""
    o = schema.orders
    named = list(dict.fromkeys(str(k) for k in order_nos))
    hosts = (
        read_frame(conn, sa.select(o.c.order_no, o.c.merged_into).where(o.c.order_no.in_(named)))
        .select(pl.coalesce("merged_into", "order_no").alias("host"))["host"]
        .to_list()
    )
    group = read_frame(
        conn,
        sa.select(o.c.order_no).where(
            sa.or_(o.c.order_no.in_(hosts), o.c.merged_into.in_(hosts)), o.c.stage == str(Stage.ALLOCATED)
        ),
    )["order_no"].to_list()
    order_nos = named + sorted(set(group) - set(named))
    result = lifecycle.apply_many(conn, "order", order_nos, "deallocate", actor, reason=reason, now=at)
    done = result.keys_applied
    if done:
        sh = schema.shipments
        ids = read_frame(
            conn, sa.select(sh.c.shipment_id).where(sh.c.order_no.in_(done), sh.c.stage == "allocated")
        )["shipment_id"].to_list()
        if ids:
            lifecycle.apply_many(conn, "shipment", ids, "cancel", actor, reason=reason, now=at)
        release(conn, done, reason, actor, at=at)
    return result


def backorders(conn: sa.Connection, *, status: str | None = "open") -> pl.DataFrame:
    """Backordered lines and what they miss (open ones by default), oldest first, with the
    order's stage: what shortages, buyer notices and purchasing work from (S7, S20)."""
    bo, o = schema.backorders, schema.orders
    stmt = (
        sa.select(bo, o.c.stage, o.c.paid_at)
        .join(o, o.c.order_no == bo.c.order_no)
        .order_by(bo.c.since, bo.c.order_no, bo.c.line_no)
    )
    if status is not None:
        stmt = stmt.where(bo.c.status == status)
    return read_frame(conn, stmt)

"""Workload (issue 6): batch confirmation of N shipments handed over to the couriers — their
tracking numbers checked by the carriers' adapters, shipments and orders moved to confirmed
with their audit rows, "shipped" notices queued — on SQLite and PostgreSQL.

kit   — kit.shipping.confirm(shop), what `kit ship --confirm` runs: in one transaction every
        handed-over shipment's tracking number checked by its carrier's adapter, the shipments
        through kit.lifecycle.apply_many (read and locked, states checked on the whole frame,
        one version-guarded UPDATE per row in one executemany, audit rows in bulk), the orders
        following (kit.lifecycle.rollup.follow_shipments: their shipments read, stage and
        trade_status through apply_many), one "shipped" notice per shipment in the outbox with
        its audit row, and the batches row. Should confirm not check the numbers itself (as
        before the check moved into it), the kit's run checks them first as the hand-over does
        (kit.shipping.handover._verdicts over the whole batch) and the notes say so.
floor — what the issue names the floor: read the handed-over shipments' ids, then ONE
        executemany UPDATE of those rows (stage, confirmed_at, version) in one transaction.
naive — what an ERP written one row at a time does: per shipment one transaction that reads
        the shipment and its order (FOR UPDATE on PostgreSQL), checks their states in Python,
        updates the shipment and the order (version-guarded), inserts an audit row for each,
        and commits. It checks no tracking number and queues no notice, both of which the kit
        does, so naive/kit is on the low side.

A fourth way, "floor, all rows", reads what the kit reads and writes every row the kit writes
(shipments, orders with their trade status, four audit rows per order, the outbox, the batch)
in bulk with no checks: how close the kit comes to its own I/O.

Each way runs in a process of its own on a fresh copy of the same database, built once per
backend by benchmarks.confirmation_data (the SQLite copy is kept in benchmarks/.data; the
PostgreSQL template database is dropped after the run). The kit's run also records where its
time goes (see `breakdown`).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

import kit.lifecycle.rollup
import kit.outbox
import kit.shipping
from benchmarks import confirmation_data
from benchmarks import databases as db
from benchmarks.harness import Measure, Result, kit_commit
from kit import carriers
from kit.carriers.builtin.express import NAMES
from kit.config import Config
from kit.shipping import handover
from kit.shop import Shop
from kit.store import Store, schema
from kit.store.frames import read_frame

WORKLOAD = ("Confirmation: shipments handed over, tracking numbers checked by the carriers' adapters, "
            "confirmed with their orders, audit and shipped notices")
NAIVE_ORDERS = 100_000  # all of them: about 25 s on SQLite, 1-4 minutes on PostgreSQL
TARGETS = {"SQLite": 5, "PostgreSQL": 20}  # issue 6: naive/kit at least this
DEFAULTS_ORDERS = 10_000  # naive with SQLite's default settings: one fsync per commit
# the modules (kit.shipping.confirm and kit.lifecycle.apply name functions too)
CONFIRM = importlib.import_module("kit.shipping.confirm")
APPLY = importlib.import_module("kit.lifecycle.apply")
STAMP = datetime(2026, 11, 30, 20, 30)  # the floors' and naive's confirmation time
SHOP = db.Template("confirmation", "confirm", "handed-over shipments", confirmation_data.build)

# The kit's steps timed in the measured run: label -> (module, name); a name looked up at call
# time in that module, so wrapping it there changes nothing else. Steps nest: time spent in a
# lifecycle step is also counted under the confirm step it ran in (see `_Steps`).
TOP = {
    "check numbers": (CONFIRM, "_bad_numbers"),
    "shipments: lifecycle": (CONFIRM, "apply_many"),
    "batch row": (CONFIRM, "new_batch"),
    "read confirmed rows": (CONFIRM, "confirmed_rows"),
    "orders follow": (CONFIRM, "follow_shipments"),
    "build notices": (CONFIRM, "_shipped_notices"),
    "queue notices": (kit.outbox, "queue"),
    "carrier registry": (carriers, "for_config"),
}
INNER = {
    "read + lock": (APPLY, "read_rows"),
    "plan": (APPLY, "plan_many"),
    "update rows": (APPLY, "update_frame"),
    "insert audit": (APPLY, "insert_frame"),
    "read shipments/orders": (kit.lifecycle.rollup, "read_by_keys"),
}


# --- kit -------------------------------------------------------------------------------------


def confirm_checks_numbers() -> bool:
    """Whether kit.shipping.confirm itself checks the tracking numbers with the adapters."""
    return "validate_tracking_number" in inspect.getsource(CONFIRM)


class _Steps:
    """Wall time per step: top-level steps of confirm, and the lifecycle steps inside each."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.stack: list[str] = []

    def wrap(self, label: str, fn: Callable[..., Any], top: bool) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label if top or not self.stack else f"{self.stack[0]} › {label}"
            if top:
                self.stack.append(label)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                if not top or len(self.stack) == 1:  # a nested top step counts once, in its parent
                    self.totals[name] += time.perf_counter() - start
                if top:
                    self.stack.pop()

        return timed

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        self.stack.append(label)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[label] += time.perf_counter() - start
            self.stack.pop()

    def install(self) -> None:
        for table, top in ((TOP, True), (INNER, False)):
            for label, (module, name) in table.items():
                if hasattr(module, name):  # a step the kit no longer has is left out
                    setattr(module, name, self.wrap(label, getattr(module, name), top))


def check_as_handover(shop: Shop) -> int:
    """The hand-over's number check (kit.shipping.handover._verdicts) over every handed-over
    shipment, as one batch: the shipments refused."""
    sh = schema.shipments
    registry = carriers.for_config(shop.config)
    with shop.store.read() as conn:
        rows = read_frame(conn, sa.select(
            sh.c.shipment_id, sh.c.carrier_code.label("_code"), sh.c.tracking_no
        ).where(sh.c.stage == "handed_over"))
    return sum(1 for _, why in handover._verdicts(rows, registry) if why is not None)


def kit_way(url: str, report: str) -> None:
    """kit.shipping.confirm(shop) as `kit ship --confirm` runs it (with the hand-over's number
    check first when confirm has none); what each step took goes to `report` (JSON)."""
    steps = _Steps()
    steps.install()
    checks = confirm_checks_numbers()
    start = time.perf_counter()
    shop = Shop(Store.open(url), Config(), confirmation_data.ACTOR)
    opened = time.perf_counter()
    bad_before = None
    if not checks:
        with steps.step("check numbers (as hand-over)"):
            bad_before = check_as_handover(shop)
    began = time.perf_counter()
    result = kit.shipping.confirm(shop)
    confirmed = time.perf_counter()
    shop.close()
    inner = {k: v for k, v in steps.totals.items() if "›" in k}
    top = {k: v for k, v in steps.totals.items() if "›" not in k}
    top["open the store"] = opened - start
    top["commit and the rest"] = (confirmed - began) - sum(
        v for k, v in top.items() if k not in ("check numbers (as hand-over)", "open the store"))
    Path(report).write_text(json.dumps({
        "total_s": confirmed - start, "confirm_s": confirmed - began, "confirm_checks_numbers": checks,
        "refused_before": bad_before, "steps": top, "inner": inner,
        "confirmed": len(result["confirmed"]), "orders": result["orders"],
        "refused": len(result["refused"]), "notices": result["notices"],
    }), "utf-8")


# --- floor -----------------------------------------------------------------------------------

HANDED = "SELECT shipment_id FROM shipments WHERE stage = 'handed_over' ORDER BY shipment_id"
FLOOR_UPDATE = ("UPDATE shipments SET stage = 'confirmed', confirmed_at = ?, version = version + 1 "
                "WHERE shipment_id = ?")


def floor_way(url: str) -> None:
    """Read the handed-over shipments' ids; one executemany UPDATE (stage, confirmed_at,
    version) of those rows in one transaction."""
    if url.startswith("sqlite"):
        con = db.sqlite_connection(url)
        at = db.sqlite_time(STAMP)
        ids = con.execute(HANDED).fetchall()
        con.execute("BEGIN IMMEDIATE")
        con.executemany(FLOOR_UPDATE, [(at, i) for (i,) in ids])
        con.execute("COMMIT")
        con.close()
        return
    with db.pg_cursor(url) as cur:
        ids = cur.execute(HANDED).fetchall()
        cur.executemany(FLOOR_UPDATE.replace("?", "%s"), [(STAMP, i) for (i,) in ids])


READ_ALL = ("SELECT s.shipment_id, s.order_no, s.carrier_code, s.tracking_no, o.trade_status "
            "FROM shipments s JOIN orders o ON o.order_no = s.order_no "
            "WHERE s.stage = 'handed_over' ORDER BY s.shipment_id")
READ_SCHEMA = {"shipment_id": pl.Int64, "order_no": pl.String, "carrier_code": pl.String,
               "tracking_no": pl.String, "trade_status": pl.String}
AUDIT = ["at", "actor", "role", "entity", "entity_id", "action", "field", "from_state", "to_state",
         "batch_id"]
OUTBOX = ["order_no", "kind", "lang", "text", "payload", "status", "due_at", "created_at", "created_by",
          "batch_id"]
_PG_SHIPMENTS = """UPDATE shipments s SET stage = 'confirmed', confirmed_at = %s, updated_at = %s,
version = s.version + 1 FROM unnest(%s::bigint[]) AS k(id) WHERE s.shipment_id = k.id"""
_PG_ORDERS = """UPDATE orders o SET stage = 'confirmed', trade_status = 'WAIT_BUYER_CONFIRM_GOODS',
version = o.version + 1, updated_at = %s FROM unnest(%s::text[]) AS k(no) WHERE o.order_no = k.no"""


def _rows_written(rows: pl.DataFrame, batch_id: int) -> dict[str, pl.DataFrame]:
    """The audit and outbox rows the kit writes for these shipments, with no checks."""
    names = {code: name.zh for code, name in NAMES.items()}
    at = pl.lit(STAMP, pl.Datetime("us"))
    common = [at.alias("at"), pl.lit("floor").alias("actor"), pl.lit("system").alias("role")]

    def audit(entity: str, key: str, action: str, fld: str, old: Any, new: Any) -> pl.DataFrame:
        return rows.select(*common, pl.lit(entity).alias("entity"),
                           pl.col(key).cast(pl.String).alias("entity_id"), pl.lit(action).alias("action"),
                           pl.lit(fld).alias("field"),
                           old.alias("from_state"), new.alias("to_state"),
                           pl.lit(batch_id if action == "queue_notice" else None, pl.Int64).alias("batch_id"))

    carrier = pl.col("carrier_code").replace_strict(names, default=pl.col("carrier_code"))
    audit_rows = pl.concat([
        audit("shipment", "shipment_id", "confirm", "stage", pl.lit("handed_over"), pl.lit("confirmed")),
        audit("order", "order_no", "confirm", "stage", pl.lit("handed_over"), pl.lit("confirmed")),
        audit("order", "order_no", "confirm", "trade_status", pl.col("trade_status"),
              pl.lit("WAIT_BUYER_CONFIRM_GOODS")),
        audit("order", "order_no", "queue_notice", "notice", pl.lit(None, pl.String), pl.lit("shipped")),
    ])
    outbox = rows.select(
        "order_no", pl.lit("shipped").alias("kind"), pl.lit("zh").alias("lang"),
        pl.format("亲，您的订单 {} 已发货，{} 运单号 {}，可随时查询物流进度。", "order_no", carrier,
                  "tracking_no").alias("text"),
        pl.struct(carrier.alias("carrier"), "tracking_no", "shipment_id").struct.json_encode()
        .alias("payload"),
        pl.lit("queued").alias("status"), at.alias("due_at"), at.alias("created_at"),
        pl.lit("floor").alias("created_by"), pl.lit(batch_id, pl.Int64).alias("batch_id"))
    return {"audit": audit_rows.select(AUDIT), "outbox": outbox.select(OUTBOX)}


def floor_all_rows_way(url: str) -> None:
    """Read what the kit reads, write every row the kit writes (shipments, orders with their trade
    status, four audit rows per order, the outbox, the batch) in bulk, with no checks."""
    batch = ("INSERT INTO batches (kind, source, actor, role, at, orders, lines) "
             "VALUES ('confirm', 'floor', 'floor', 'system', ?, ?, ?) RETURNING batch_id")
    if url.startswith("sqlite"):
        con = db.sqlite_connection(url)
        con.execute("BEGIN IMMEDIATE")
        rows = pl.DataFrame(con.execute(READ_ALL).fetchall(), schema=READ_SCHEMA, orient="row")
        at = db.sqlite_time(STAMP)
        batch_id = con.execute(batch, (at, rows.height, rows.height)).fetchone()[0]
        con.executemany("UPDATE shipments SET stage = 'confirmed', confirmed_at = ?, updated_at = ?, "
                        "version = version + 1 WHERE shipment_id = ?",
                        rows.select(pl.lit(at).alias("c"), pl.lit(at).alias("u"), "shipment_id").iter_rows())
        con.executemany("UPDATE orders SET stage = 'confirmed', trade_status = 'WAIT_BUYER_CONFIRM_GOODS', "
                        "version = version + 1, updated_at = ? WHERE order_no = ?",
                        rows.select(pl.lit(at), "order_no").iter_rows())
        for table, frame in _rows_written(rows, batch_id).items():
            db.insert_rows(con, table, frame)
        con.execute("COMMIT")
        con.close()
        return
    with db.pg_cursor(url) as cur:
        rows = db.copy_out(cur, READ_ALL, READ_SCHEMA)
        cur.execute("SELECT 1 FROM shipments WHERE stage = 'handed_over' FOR UPDATE")
        batch_id = cur.execute(batch.replace("?", "%s"), (STAMP, rows.height, rows.height)).fetchone()[0]
        cur.execute(_PG_SHIPMENTS, (STAMP, STAMP, rows["shipment_id"].to_list()))
        cur.execute(_PG_ORDERS, (STAMP, rows["order_no"].to_list()))
        for table, frame in _rows_written(rows, batch_id).items():
            db.copy_in(cur, table, frame)


# --- naive -----------------------------------------------------------------------------------


def naive_way(url: str, n: int, defaults: bool = False) -> None:
    """One transaction per shipment, row at a time (see the module's docstring); `defaults`:
    SQLite with the driver's settings (rollback journal, synchronous=FULL), as a plain script."""
    raw = db.RowAtATime(url, defaults=defaults)
    q, lock = raw.q, raw.lock
    cur = raw.con.cursor()
    todo = cur.execute(f"SELECT shipment_id FROM shipments WHERE stage = 'handed_over' "
                       f"ORDER BY shipment_id LIMIT {int(n)}").fetchall()
    cur.close()
    if not raw.sqlite:
        raw.con.commit()
    cur = raw.con.cursor()
    read_shipment = q("SELECT stage, version, order_no FROM shipments WHERE shipment_id = ?") + lock
    read_order = q("SELECT stage, trade_status, version FROM orders WHERE order_no = ?") + lock
    set_shipment = q("UPDATE shipments SET stage = 'confirmed', confirmed_at = ?, version = ?, "
                     "updated_at = ? WHERE shipment_id = ? AND version = ?")
    set_order = q("UPDATE orders SET stage = 'confirmed', trade_status = 'WAIT_BUYER_CONFIRM_GOODS', "
                  "version = ?, updated_at = ? WHERE order_no = ? AND version = ?")
    audit = q("INSERT INTO audit (at, actor, role, entity, entity_id, action, field, from_state, to_state) "
              "VALUES (?, 'naive', 'system', ?, ?, 'confirm', 'stage', ?, 'confirmed')")
    for (shipment_id,) in todo:
        now = datetime.now()
        at = db.sqlite_time(now) if raw.sqlite else now
        raw.begin(cur)
        stage, version, order_no = cur.execute(read_shipment, (shipment_id,)).fetchone()
        if stage != "handed_over":
            raw.commit(cur)
            continue
        o_stage, trade, o_version = cur.execute(read_order, (order_no,)).fetchone()
        cur.execute(set_shipment, (at, version + 1, at, shipment_id, version))
        if cur.rowcount != 1:
            raise RuntimeError(f"naive: shipment {shipment_id} changed under a locked row")
        cur.execute(audit, (at, "shipment", str(shipment_id), stage))
        if o_stage == "handed_over" and trade in ("WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART"):
            cur.execute(set_order, (o_version + 1, at, order_no, o_version))
            cur.execute(audit, (at, "order", order_no, o_stage))
        raw.commit(cur)
    raw.con.close()


# --- the run ---------------------------------------------------------------------------------


def written(url: str) -> dict[str, int]:
    """What a way left in its copy: shipments and orders confirmed, audit rows of confirmation
    and notices, notices queued."""
    queries = {
        "shipments": "SELECT count(*) FROM shipments WHERE stage = 'confirmed' AND confirmed_at IS NOT NULL",
        "orders": "SELECT count(*) FROM orders WHERE stage = 'confirmed'",
        "audit": "SELECT count(*) FROM audit WHERE action IN ('confirm', 'queue_notice')",
        "notices": "SELECT count(*) FROM outbox WHERE kind = 'shipped'",
    }
    if url.startswith("sqlite"):
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        out = {k: con.execute(sql).fetchone()[0] for k, sql in queries.items()}
        con.close()
        return out
    with db.pg_cursor(url) as cur:
        return {k: cur.execute(sql).fetchone()[0] for k, sql in queries.items()}


def _measure(data: db.Copies, way: str, rows: int, target: Callable[..., None], args: Callable[[str], tuple],
             repeat: int, left: dict[str, dict[str, int]]) -> Measure:
    """`repeat` runs of a way, each in its own process on its own fresh copy; what each left is kept."""
    def keep(url: str, one: Measure) -> None:
        left[way] = written(url)
        print(f"confirmation {data.name}: {way} {one.median:.2f} s, left {left[way]}")

    return data.measure(way, rows, target, args, repeat, after=keep)


def breakdown(report: dict[str, Any]) -> str:
    """Where the kit's time went, as one line for the notes."""
    total = report["total_s"]
    parts = sorted(report["steps"].items(), key=lambda kv: -kv[1])
    shown = []
    for label, seconds in parts:
        if seconds < 0.005 * total:
            continue
        inner = sorted(((k.split(" › ", 1)[1], v) for k, v in report["inner"].items()
                        if k.startswith(label + " › ") and v >= 0.005 * total), key=lambda kv: -kv[1])
        within = f" [{', '.join(f'{k} {v:.2f} s' for k, v in inner)}]" if inner else ""
        shown.append(f"{label} {seconds:.2f} s ({seconds / total:.0%}){within}")
    return f"{total:.2f} s in all — " + ", ".join(shown)


def measure(data: db.Copies, n: int, naive_n: int, repeat: int, folder: Path) -> Result:
    """The four ways on one backend."""
    report = folder / f"kit-{data.name}.json"
    left: dict[str, dict[str, int]] = {}
    measures = {
        "kit": _measure(data, "kit", n, kit_way, lambda url: (url, str(report)), repeat, left),
        "floor": _measure(data, "floor", n, floor_way, lambda url: (url,), repeat, left),
        "floor_all": _measure(data, "floor, all rows", n, floor_all_rows_way, lambda url: (url,), repeat,
                              left),
        "naive": _measure(data, "naive", naive_n, naive_way, lambda url: (url, naive_n), 1, left),
    }
    if isinstance(data, db.SqliteData):
        small = min(n, DEFAULTS_ORDERS)
        measures["naive_defaults"] = _measure(data, "naive, driver defaults", small, naive_way,
                                              lambda url: (url, small, True), 1, left)
    kit_report = json.loads(report.read_text("utf-8"))
    print(f"confirmation {data.name}: {json.dumps(kit_report, ensure_ascii=False)}")
    own_io = measures["kit"].per_row_us / measures["floor_all"].per_row_us
    rows_left = "; ".join(f"{way}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
                          for way, counts in left.items())
    checked = ("numbers checked inside kit.shipping.confirm" if kit_report["confirm_checks_numbers"]
               else "numbers checked first as the hand-over does (confirm has no check)")
    result = Result(WORKLOAD, data.name, measures)
    kit_floor, naive_kit = result.ratio("kit", "floor"), result.ratio("naive", "kit")
    wanted = TARGETS[data.name]
    defaults = (f"; naive with the driver's defaults / kit = {result.ratio('naive_defaults', 'kit'):.1f}x"
                if "naive_defaults" in measures else "")
    io_floor = result.ratio("floor_all", "floor")
    reach = (": the orders, audit rows and notices the kit writes besides the shipments put 2x of the "
             "issue's floor out of reach of any implementation that writes them" if io_floor > 2 else "")
    result.notes = [
        f"{data.name}: issue 6 targets — kit/floor at most 2x: "
        f"{'met' if kit_floor <= 2 else 'missed'} ({kit_floor:.2f}x); naive/kit at least {wanted}x: "
        f"{'met' if naive_kit >= wanted else 'missed'} ({naive_kit:.1f}x){defaults}. Floor, all rows / "
        f"floor = {io_floor:.1f}x{reach}.",
        data.load_note(own_io),
        f"{data.name}: {n:,} shipments → {kit_report['confirmed']:,} confirmed, {kit_report['orders']:,} "
        f"orders, {kit_report['refused']:,} refused, {kit_report['notices']:,} notices; {checked}. "
        f"Rows each way left (last run): {rows_left}.",
        f"{data.name}: kit time (its last run): {breakdown(kit_report)}.",
    ]
    return result


def run(n: int = 100_000, naive_n: int = NAIVE_ORDERS, postgres_url: str | None = None,
        repeat: int = 3) -> list[Result]:
    """Measure the ways on SQLite and, when a URL is given, on PostgreSQL; naive on the first
    `naive_n` shipments."""
    checks = confirm_checks_numbers()
    results = db.on_backends(SHOP, n, postgres_url,
                             lambda data, folder: measure(data, n, min(n, naive_n), repeat, folder))
    timed = ("kit.shipping.confirm(shop) alone: it checks every number with its carrier's adapter "
             "(validate_tracking_number) before the lifecycle" if checks else
             "the hand-over's number check (kit.shipping.handover._verdicts over all handed-over "
             "shipments, read in one query) and then kit.shipping.confirm(shop)")
    common = [
        f"Kit at commit {kit_commit()}. Data: benchmarks.confirmation_data ({n:,} orders, one "
        "shipment each, handed over to yto 35%, zto 20%, sto, yunda, sf 10% each, jd, ems (UPU S10 "
        "with check digit), jt 5% each, every number valid; the orders' audit trail so far, 8 rows "
        "each). Each way runs in its own process on a fresh copy; kit and floors "
        f"{repeat} time(s), median; naive once, on all shipments or on the first ones by id as "
        "the table's rows say (then per-row ratios: its time per shipment does not depend on how "
        "many it confirms), with the kit's connection settings (SQLite WAL, synchronous=NORMAL).",
        f"Kit timed: opening the store, {timed}; then the shipments to confirmed, the orders to "
        "confirmed with trade status WAIT_BUYER_CONFIRM_GOODS, audit rows (shipment stage; order "
        "stage and trade status; one per notice), one shipped notice per shipment in the outbox, "
        "the batches row, all in one transaction.",
        "Floor (the issue's): read the handed-over shipments' ids, one executemany UPDATE of "
        "stage, confirmed_at, version on those rows, one transaction (psycopg's executemany on "
        "PostgreSQL). It checks no number and writes no order, audit or notice.",
        "Floor, all rows: the kit's reads (shipments joined to orders) and every row it writes, "
        "with no checks, in bulk (SQLite: executemany in one transaction; PostgreSQL: "
        "UPDATE … FROM unnest(arrays) and COPY).",
        "Naive: per shipment, one transaction: read the shipment and its order (FOR UPDATE on "
        "PostgreSQL), check their states in Python, version-guarded UPDATE of each, one audit "
        "row each, COMMIT. No number check and no notice: less work than the kit does. naive/kit "
        "is against naive with the kit's connection settings; \"naive, driver defaults\" (SQLite "
        "only: rollback journal, synchronous=FULL, a disk flush per commit, as a plain script "
        f"runs) on the first {min(n, DEFAULTS_ORDERS):,} shipments shows what a script written "
        "this way pays with the driver's defaults.",
    ]
    for r in results:
        r.notes = common + r.notes
    return results

"""Workload: allocate N approved orders (about 1.5 lines each) over 50,000 SKUs in 10
warehouses, reserve their stock and give them ship-by deadlines, from the database and back
into it, on SQLite and PostgreSQL.

kit   — kit.allocation.allocate(shop) with the default policy (nearest warehouse, split,
        drop-ship, 100,000 orders per transaction: lock the orders, read lines, warehouses
        and stock into arrays, decide, lock and check the stock rows, one guarded stock
        update, shipments and their lines, reservations and their ledger rows, the orders'
        transitions with audit rows, backorders), then kit.deadlines.assign(shop), what
        `kit deadlines --assign` runs (ship_by for every order, one bulk update).
floor — read the approved orders' lines and every stock level into frames and bulk-write
        one reservation row per line (to the first warehouse holding its SKU): the I/O any
        allocator must do, with no decisions. Fastest means the drivers offer: PostgreSQL
        COPY both ways (CSV), SQLite one executemany in one transaction.
naive — what an ERP does, one transaction per order: lock the order, read its lines, lock
        its SKUs' stock rows, choose the nearest warehouse holding the whole order (else
        each line from the nearest holding it, else backorder), then per line a guarded
        UPDATE of the stock row and INSERTs of the shipment line, reservation and ledger
        row, the shipment, the order's new stage with its ship_by, an audit row, COMMIT
        (on the first orders, by payment time: per-order ratios).

Each way runs in a process of its own on a fresh copy of the same database, built once per
backend by benchmarks.allocation_data (the SQLite copy is kept in benchmarks/.data; the
PostgreSQL template database is dropped after the run), so its time and peak memory are
its own. The kit's run also records where its time goes (see `breakdown`).
"""

from __future__ import annotations

import functools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks import allocation_data
from benchmarks import databases as db
from benchmarks.harness import Result, kit_commit
from kit.store import Store

WORKLOAD = ("Allocation: approved orders over 50,000 SKUs in 10 warehouses, allocated, reserved "
            "and given ship-by deadlines, from the database and back")
NAIVE_ORDERS = 20_000
SHOP = db.Template("allocation", "alloc", "orders", allocation_data.build)

# The kit's steps timed in the measured run (names in kit.allocation.run, looked up at call
# time, so wrapping them there changes nothing else): label -> names.
STEPS = {
    "find orders": ["_candidates"],
    "lock orders": ["lock_orders"],
    "lifecycle plan": ["plan_many"],
    "read batch": ["read_batch"],
    "decide": ["decide"],
    "write stock": ["write_stock"],
    "write shipments": ["write_shipments"],
    "write reservations + ledger": ["write_reservations"],
    "write transitions + audit": ["write_orders"],
    "write backorders": ["write_backorders", "backorder_reasons", "_short_lines"],
    "withdraw notices": ["withdraw"],
    "batch rows": ["new_batch"],
}


# --- kit -------------------------------------------------------------------------------------


def _timer(totals: dict[str, float], label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - start

    return timed


def kit_way(url: str, report: str) -> None:
    """kit.allocation.allocate then kit.deadlines.assign, as `kit allocate` and `kit deadlines
    --assign` run them; what each step took goes to `report` (JSON)."""
    from kit import lifecycle
    from kit.allocation import allocate
    from kit.allocation import run as alloc_run
    from kit.config import Config
    from kit.deadlines import assign
    from kit.shop import Shop

    steps: dict[str, float] = defaultdict(float)
    for label, names in STEPS.items():
        for name in names:
            target = lifecycle if name == "plan_many" else alloc_run
            if hasattr(target, name):  # a step the kit no longer has is left out
                setattr(target, name, _timer(steps, label, getattr(target, name)))
    shop = Shop(Store.open(url), Config(), allocation_data.ACTOR)
    start = time.perf_counter()
    result = allocate(shop)
    allocated = time.perf_counter()
    done = assign(shop)
    finished = time.perf_counter()
    shop.close()
    steps["commit and the rest"] = (allocated - start) - sum(steps.values())
    Path(report).write_text(json.dumps({
        "allocate_s": allocated - start, "deadlines_s": finished - allocated,
        "steps": dict(steps), "ship_by": done.height,
        **{k: v for k, v in result.to_dict().items() if k not in ("short", "refused")},
        "refused": len(result.refused),
    }), "utf-8")


# --- floor -----------------------------------------------------------------------------------

LINES_SQL = ("SELECT l.order_no, l.line_no, l.sku, l.quantity FROM order_lines l "
             "JOIN orders o ON o.order_no = l.order_no WHERE o.stage = 'approved'")
STOCK_SQL = "SELECT warehouse_code, sku, on_hand, reserved FROM stock_levels"
LINE_SCHEMA = {"order_no": pl.String, "line_no": pl.Int64, "sku": pl.String, "quantity": pl.Int64}
STOCK_SCHEMA = {"warehouse_code": pl.String, "sku": pl.String, "on_hand": pl.Int64, "reserved": pl.Int64}


def _reservations(lines: pl.DataFrame, stock: pl.DataFrame, stamp: str) -> pl.DataFrame:
    """One reservation row per line, at the first warehouse holding its SKU (no decision)."""
    first = stock.sort("warehouse_code").unique("sku", keep="first").select("sku", "warehouse_code")
    return lines.join(first, on="sku", how="left").select(
        "order_no", "line_no", pl.col("warehouse_code").fill_null("hq"), "sku", "quantity",
        pl.lit("reserved").alias("status"), pl.lit(stamp).alias("created_at"),
        pl.lit(stamp).alias("updated_at"))


def floor_way(url: str) -> None:
    """Read lines and stock into frames, bulk-write one reservation row per line."""
    stamp = "2026-11-30 18:00:00.000000"
    if url.startswith("sqlite"):
        con = db.sqlite_connection(url)
        lines = pl.DataFrame(con.execute(LINES_SQL).fetchall(), schema=LINE_SCHEMA, orient="row")
        stock = pl.DataFrame(con.execute(STOCK_SQL).fetchall(), schema=STOCK_SCHEMA, orient="row")
        rows = _reservations(lines, stock, stamp)
        con.execute("BEGIN")
        db.insert_rows(con, "reservations", rows)
        con.execute("COMMIT")
        con.close()
        return
    with db.pg_cursor(url) as cur:
        lines, stock = db.copy_out(cur, LINES_SQL, LINE_SCHEMA), db.copy_out(cur, STOCK_SQL, STOCK_SCHEMA)
        db.copy_in(cur, "reservations", _reservations(lines, stock, stamp))


ORDERS_SQL = "SELECT order_no, version, paid_at FROM orders WHERE stage = 'approved'"
ORDER_SCHEMA = {"order_no": pl.String, "version": pl.Int64, "paid_at": pl.Datetime("us")}
_PG_LEVELS = """UPDATE stock_levels l SET reserved = LEAST(l.on_hand, l.reserved + k.d)
FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS k(w, s, d)
WHERE l.warehouse_code = k.w AND l.sku = k.s"""
_PG_STAGES = """UPDATE orders o
SET stage = 'allocated', version = o.version + 1, updated_at = %s, ship_by = k.b
FROM unnest(%s::text[], %s::timestamp[]) AS k(no, b) WHERE o.order_no = k.no"""


def _all_rows(lines: pl.DataFrame, stock: pl.DataFrame, orders: pl.DataFrame, first_id: int,
              stamp: datetime) -> dict[str, pl.DataFrame]:
    """Every row the kit writes, with no decision: each line from the first warehouse holding
    its SKU, one shipment per order and warehouse, ship_by = paid_at + 72 hours."""
    at = pl.lit(stamp, pl.Datetime("us"))
    placed = _reservations(lines, stock, "").drop("status", "created_at", "updated_at")
    parts = placed.select("order_no", "warehouse_code").unique().sort("order_no", "warehouse_code")
    parts = parts.with_row_index("shipment_id", offset=first_id).with_columns(
        pl.col("shipment_id").cast(pl.Int64))
    placed = placed.join(parts, on=["order_no", "warehouse_code"])
    return {
        "shipments": parts.select(
            "shipment_id", "order_no", "warehouse_code", pl.lit("yto").alias("carrier_code"),
            pl.lit("online_booking").alias("ship_method"), pl.lit("allocated").alias("stage"),
            pl.lit("pending").alias("tracking_status"), at.alias("created_at"),
            pl.lit(0).alias("version"), at.alias("updated_at")),
        "shipment_lines": placed.select("shipment_id", "order_no", "line_no", "sku", "quantity"),
        "reservations": placed.select(
            "order_no", "line_no", "warehouse_code", "sku", "quantity", "shipment_id",
            pl.lit("reserved").alias("status"), at.alias("created_at"), at.alias("updated_at")),
        "stock_ledger": placed.select(
            at.alias("at"), "warehouse_code", "sku", pl.lit("reservation").alias("kind"),
            pl.lit(0).alias("on_hand_delta"), pl.col("quantity").alias("reserved_delta"), "order_no",
            "line_no", "shipment_id", pl.lit("floor").alias("actor")),
        "audit": orders.select(
            at.alias("at"), pl.lit("floor").alias("actor"), pl.lit("system").alias("role"),
            pl.lit("order").alias("entity"), pl.col("order_no").alias("entity_id"),
            pl.lit("allocate").alias("action"), pl.lit("stage").alias("field"),
            pl.lit("approved").alias("from_state"), pl.lit("allocated").alias("to_state")),
        "levels": placed.group_by("warehouse_code", "sku").agg(pl.col("quantity").sum().alias("d")),
        "orders": orders.select("order_no", (pl.col("paid_at") + timedelta(hours=72)).alias("ship_by")),
    }


def floor_all_rows_way(url: str) -> None:
    """The floor's reads, then every row the kit writes (shipments and their lines,
    reservations, ledger, stock levels, the orders' stage with ship_by in one update, an audit
    row per order) in bulk, with no decision: how close the kit comes to its own I/O."""
    stamp = datetime(2026, 11, 30, 18)
    tables = ("shipments", "shipment_lines", "reservations", "stock_ledger", "audit")
    if url.startswith("sqlite"):
        con = db.sqlite_connection(url)
        lines = pl.DataFrame(con.execute(LINES_SQL).fetchall(), schema=LINE_SCHEMA, orient="row")
        stock = pl.DataFrame(con.execute(STOCK_SQL).fetchall(), schema=STOCK_SCHEMA, orient="row")
        orders = pl.DataFrame(con.execute(ORDERS_SQL).fetchall(), orient="row",
                              schema={**ORDER_SCHEMA, "paid_at": pl.String})
        orders = orders.with_columns(pl.col("paid_at").str.to_datetime(time_unit="us"))
        first = con.execute("SELECT coalesce(max(shipment_id), 0) + 1 FROM shipments").fetchone()[0]
        rows = {k: db.sqlite_times(v) for k, v in _all_rows(lines, stock, orders, first, stamp).items()}
        con.execute("BEGIN")
        for table in tables:
            db.insert_rows(con, table, rows[table])
        con.executemany("UPDATE stock_levels SET reserved = min(on_hand, reserved + ?) "
                        "WHERE warehouse_code = ? AND sku = ?",
                        rows["levels"].select("d", "warehouse_code", "sku").iter_rows())
        con.executemany("UPDATE orders SET stage = 'allocated', version = version + 1, updated_at = ?, "
                        "ship_by = ? WHERE order_no = ?",
                        rows["orders"].select(pl.lit(str(stamp)), "ship_by", "order_no").iter_rows())
        con.execute("COMMIT")
        con.close()
        return
    with db.pg_cursor(url) as cur:
        frames = [db.copy_out(cur, sql, schema) for sql, schema in
                  ((LINES_SQL, LINE_SCHEMA), (STOCK_SQL, STOCK_SCHEMA), (ORDERS_SQL, ORDER_SCHEMA))]
        first = cur.execute("SELECT coalesce(max(shipment_id), 0) + 1 FROM shipments").fetchone()[0]
        rows = _all_rows(*frames, first, stamp)
        for table in tables:
            db.copy_in(cur, table, rows[table])
        levels = rows["levels"]
        cur.execute(_PG_LEVELS, (levels["warehouse_code"].to_list(), levels["sku"].to_list(),
                                 levels["d"].to_list()))
        cur.execute(_PG_STAGES, (stamp, rows["orders"]["order_no"].to_list(),
                                 rows["orders"]["ship_by"].to_list()))


# --- naive -----------------------------------------------------------------------------------


def _nearness() -> tuple[list[str], dict[str, list[str]]]:
    """Warehouse codes, and per province the codes nearest first (kit.allocation.ranking's
    table, as an ERP would keep it in a settings table)."""
    from kit.allocation.ranking import scores
    from kit.regions import PROVINCES

    warehouses = allocation_data.warehouses()
    table = scores(warehouses)
    codes = warehouses["code"].to_list()
    order = {p: [codes[i] for i in sorted(range(len(codes)), key=lambda i: table.row(k)[i])]
             for k, p in enumerate(PROVINCES)}
    return codes, order


def _choose(lines: list[tuple], free: dict[tuple[str, str], int], near: list[str]) -> list[str] | None:
    """The warehouse of each line: the nearest holding the whole order, else per line the
    nearest holding it; None when some line is short everywhere."""
    for code in near:
        if all(free.get((code, sku), 0) >= qty for _, sku, qty in lines):
            return [code] * len(lines)
    chosen, left = [], dict(free)
    for _, sku, qty in lines:
        code = next((c for c in near if left.get((c, sku), 0) >= qty), None)
        if code is None:
            return None
        left[(code, sku)] -= qty
        chosen.append(code)
    return chosen


def naive_way(url: str, n: int) -> None:
    """One transaction per order, row at a time (see the module's docstring)."""
    _, nearest = _nearness()
    raw = db.RowAtATime(url)
    q, lock = raw.q, raw.lock
    cur = raw.con.cursor()
    todo = cur.execute(f"SELECT order_no FROM orders WHERE stage = 'approved' "
                       f"ORDER BY paid_at, order_no LIMIT {int(n)}").fetchall()
    for (order_no,) in todo:
        now = datetime.now()
        raw.begin(cur)
        row = cur.execute(q("SELECT stage, version, province, paid_at FROM orders WHERE order_no = ?") + lock,
                          (order_no,)).fetchone()
        if row[0] != "approved":
            raw.commit(cur)
            continue
        _, version, province, paid_at = row
        paid = datetime.fromisoformat(paid_at) if isinstance(paid_at, str) else paid_at
        ship_by = paid + timedelta(hours=72)
        lines = cur.execute(q("SELECT line_no, sku, quantity FROM order_lines WHERE order_no = ? "
                              "ORDER BY line_no"), (order_no,)).fetchall()
        skus = sorted({sku for _, sku, _ in lines})
        stock = cur.execute(q(f"SELECT warehouse_code, sku, on_hand, reserved FROM stock_levels "
                              f"WHERE sku IN ({', '.join('?' * len(skus))}) "
                              f"ORDER BY warehouse_code, sku") + lock, skus).fetchall()
        free = {(w, s): on - res for w, s, on, res in stock}
        chosen = _choose(lines, free, nearest.get(province, nearest["浙江省"]))
        if chosen is None:
            cur.execute(q("UPDATE orders SET stage = 'backordered', version = ?, updated_at = ?, ship_by = ? "
                          "WHERE order_no = ? AND version = ?"),
                        (version + 1, now, ship_by, order_no, version))
            for line_no, sku, qty in lines:
                missing = max(qty - max((v for (w, s), v in free.items() if s == sku), default=0), 0)
                cur.execute(q("INSERT INTO backorders (order_no, line_no, sku, quantity, missing, status, "
                              "since, updated_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)"),
                            (order_no, line_no, sku, qty, missing, now, now))
            stage = "backordered"
        else:
            shipments: dict[str, int] = {}
            for code in dict.fromkeys(chosen):
                weight = sum(q_ for (_, _, q_), c in zip(lines, chosen, strict=True) if c == code) * 500
                cur.execute(q("INSERT INTO shipments (order_no, warehouse_code, carrier_code, ship_method, "
                              "stage, tracking_status, expected_weight_g, created_at, version, updated_at) "
                              "VALUES (?, ?, 'yto', 'online_booking', 'allocated', 'pending', ?, ?, 0, ?) "
                              "RETURNING shipment_id"), (order_no, code, weight, now, now))
                shipments[code] = cur.fetchone()[0]
            for (line_no, sku, qty), code in zip(lines, chosen, strict=True):
                cur.execute(q("UPDATE stock_levels SET reserved = reserved + ? WHERE warehouse_code = ? "
                              "AND sku = ? AND on_hand - reserved >= ?"), (qty, code, sku, qty))
                if cur.rowcount != 1:
                    raise RuntimeError(f"naive: {code}/{sku} changed under a locked row")
                sid = shipments[code]
                cur.execute(q("INSERT INTO shipment_lines (shipment_id, order_no, line_no, sku, quantity) "
                              "VALUES (?, ?, ?, ?, ?)"), (sid, order_no, line_no, sku, qty))
                cur.execute(q("INSERT INTO reservations (order_no, line_no, warehouse_code, sku, quantity, "
                              "shipment_id, status, created_at, updated_at) "
                              "VALUES (?, ?, ?, ?, ?, ?, 'reserved', ?, ?)"),
                            (order_no, line_no, code, sku, qty, sid, now, now))
                cur.execute(q("INSERT INTO stock_ledger (at, warehouse_code, sku, kind, on_hand_delta, "
                              "reserved_delta, order_no, line_no, shipment_id, actor) "
                              "VALUES (?, ?, ?, 'reservation', 0, ?, ?, ?, ?, 'naive')"),
                            (now, code, sku, qty, order_no, line_no, sid))
            cur.execute(q("UPDATE orders SET stage = 'allocated', version = ?, updated_at = ?, ship_by = ? "
                          "WHERE order_no = ? AND version = ?"),
                        (version + 1, now, ship_by, order_no, version))
            stage = "allocated"
        cur.execute(q("INSERT INTO audit (at, actor, role, entity, entity_id, action, field, from_state, "
                      "to_state) VALUES (?, 'naive', 'system', 'order', ?, ?, 'stage', 'approved', ?)"),
                    (now, order_no, "allocate" if stage == "allocated" else "backorder", stage))
        raw.commit(cur)
    raw.con.close()


# --- the run ---------------------------------------------------------------------------------


def breakdown(report: dict[str, Any]) -> str:
    """Where the kit's time went, as one line for the notes."""
    total = report["allocate_s"] + report["deadlines_s"]
    parts = sorted(report["steps"].items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{k} {v:.1f} s ({v / total:.0%})" for k, v in parts if v >= 0.005 * total)
    return (f"allocate {report['allocate_s']:.1f} s in {report['batches']} transactions — {shown}; "
            f"deadlines.assign {report['deadlines_s']:.1f} s ({report['deadlines_s'] / total:.0%})")


def measure(data: db.Copies, n: int, naive_n: int, repeat: int, folder: Path) -> Result:
    """The three ways on one backend."""
    lines = data.scalar("SELECT count(*) FROM order_lines")
    report = folder / f"kit-{data.name}.json"
    measures = {
        "kit": data.measure("kit", n, kit_way, lambda url: (url, str(report)), repeat),
        "floor": data.measure("floor", n, floor_way, lambda url: (url,), repeat),
        "floor_all": data.measure("floor, all rows", n, floor_all_rows_way, lambda url: (url,), repeat),
        "naive": data.measure("naive", naive_n, naive_way, lambda url: (url, naive_n)),
    }
    kit_report = json.loads(report.read_text("utf-8"))
    print(f"allocation {data.name}: {json.dumps(kit_report, ensure_ascii=False)}")
    own_io = measures["kit"].per_row_us / measures["floor_all"].per_row_us
    return Result(WORKLOAD, data.name, measures, notes=[
        data.load_note(own_io),
        f"{data.name}: {n:,} orders, {lines:,} lines"
        f" → {kit_report['allocated']:,} allocated ({kit_report['shipments']:,} shipments, "
        f"{kit_report['lines']:,} reservations), {kit_report['backordered']:,} backordered; "
        f"kit time: {breakdown(kit_report)}.",
    ])


def run(n: int = 1_000_000, naive_n: int = NAIVE_ORDERS, postgres_url: str | None = None,
        repeat: int = 1) -> list[Result]:
    """Measure the three ways on SQLite and, when a URL is given, on PostgreSQL."""
    naive_n = min(naive_n, n)
    results = db.on_backends(SHOP, n, postgres_url,
                             lambda data, folder: measure(data, n, naive_n, repeat, folder))
    common = [
        f"Kit at commit {kit_commit()}. Data: benchmarks.allocation_data (10 warehouses: "
        "headquarters, 7 stores, 2 drop-ship suppliers; 50,000 SKUs with skewed popularity; "
        "stock short for one SKU in eight). "
        f"Naive runs once on the first {naive_n:,} orders by payment time (per-order ratios), "
        "with the kit's connection settings (SQLite WAL, synchronous=NORMAL).",
        "Floor: read the approved orders' lines and every stock level into frames, write one "
        "reservation row per line in one transaction (PostgreSQL: COPY … TO/FROM STDOUT as CSV; "
        "SQLite: one executemany); it decides nothing and writes no shipments, ledger, "
        "transitions, audit or deadlines, all of which kit and naive write.",
        "Floor, all rows: the same reads, then every row the kit writes, in bulk and with no "
        "decision (shipments and their lines, reservations, ledger rows, the stock update, each "
        "order's stage and ship_by in ONE update, an audit row per order): how close the kit "
        "comes to its own I/O. kit/floor above is against the reservation-only floor.",
    ]
    for r in results:
        r.notes = common + r.notes
    return results

"""Workload: bulk-insert N orders with their lines, on SQLite and PostgreSQL.

kit   — Shop.insert_orders: the batch row, the orders and lines frames, the audit row.
floor — the same order and line rows with one DBAPI executemany each, one commit.
naive — one INSERT per order and its lines, each order committed on its own (on a sample).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import sqlalchemy as sa

import kit
from benchmarks.harness import Result, timed
from kit import clock
from kit.config import Config
from kit.demo import generate
from kit.models import Role, StaffMember
from kit.store import Store, resolve_url

WORKLOAD = "Bulk insert of orders with their lines"


def _prepared(
    orders: pl.DataFrame, lines: pl.DataFrame, sqlite: bool
) -> tuple[list[str], list[tuple], list[str], list[tuple]]:
    """The exact rows the kit writes, as DBAPI tuples (SQLite wants text times, int booleans)."""
    full = orders.with_columns(pl.lit(0).alias("version"), pl.lit(clock.now()).alias("updated_at"))
    if "stage" not in full.columns:
        full = full.with_columns(pl.lit("new").alias("stage"))
    frames = [full, lines]
    if sqlite:
        frames = [
            f.with_columns(
                *[pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S.%6f") for c, t in f.schema.items()
                  if isinstance(t, pl.Datetime)],
                *[pl.col(c).cast(pl.Int64) for c, t in f.schema.items() if t == pl.Boolean],
            )
            for f in frames
        ]
    return frames[0].columns, frames[0].rows(), frames[1].columns, frames[1].rows()


def _insert_sql(table: str, columns: list[str], style: str) -> str:
    marks = ", ".join("?" if style == "qmark" else "%s" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


class Backend:
    """A database to insert into, emptied before every run."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    def reset(self) -> None:
        """An empty kit schema."""
        raise NotImplementedError

    def raw(self):
        """A raw DBAPI connection."""
        raise NotImplementedError


class SqliteBackend(Backend):
    """A new SQLite file per run (WAL, as the kit opens it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        super().__init__("SQLite", "")

    def reset(self) -> None:
        self.count += 1
        self.url = str(self.folder / f"bench{self.count}.db")
        Store.open(self.url).close()

    def raw(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.url, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA foreign_keys=ON")
        return con


class PostgresBackend(Backend):
    """One PostgreSQL database, truncated before every run."""

    def __init__(self, url: str) -> None:
        super().__init__("PostgreSQL", url)
        Store.open(url).close()

    def reset(self) -> None:
        engine = sa.create_engine(resolve_url(self.url))
        with engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE order_lines, orders, batches, audit RESTART IDENTITY CASCADE")
        engine.dispose()

    def raw(self):
        import psycopg

        return psycopg.connect(resolve_url(self.url).set(drivername="postgresql")
                               .render_as_string(hide_password=False))


def _commit(con, cur, style: str) -> None:
    if style == "qmark":
        cur.execute("COMMIT")  # the sqlite3 connection is in autocommit; BEGIN was explicit
    else:
        con.commit()


def _floor(backend: Backend, cols, rows, lcols, lrows) -> Callable[[], None]:
    style = "qmark" if isinstance(backend, SqliteBackend) else "format"

    def run() -> None:
        con = backend.raw()
        cur = con.cursor()
        if style == "qmark":
            cur.execute("BEGIN")
        cur.executemany(_insert_sql("orders", cols, style), rows)
        cur.executemany(_insert_sql("order_lines", lcols, style), lrows)
        _commit(con, cur, style)
        con.close()

    return run


def _naive(backend: Backend, cols, rows, lcols, lrows) -> Callable[[], None]:
    style = "qmark" if isinstance(backend, SqliteBackend) else "format"
    by_order: dict[str, list[tuple]] = {}
    key = lcols.index("order_no")
    for line in lrows:
        by_order.setdefault(line[key], []).append(line)
    okey = cols.index("order_no")

    def run() -> None:
        con = backend.raw()
        cur = con.cursor()
        for row in rows:
            if style == "qmark":
                cur.execute("BEGIN")
            cur.execute(_insert_sql("orders", cols, style), row)
            for line in by_order.get(row[okey], []):
                cur.execute(_insert_sql("order_lines", lcols, style), line)
            _commit(con, cur, style)
        con.close()

    return run


def run(n: int = 100_000, naive_n: int = 10_000, postgres_url: str | None = None,
        repeat: int = 3) -> list[Result]:
    """Measure the three ways on SQLite and, when a URL is given, on PostgreSQL."""
    demo = generate(orders=n, seed=7, today=date(2026, 11, 30))
    orders, lines = demo.orders, demo.order_lines
    sample = orders.head(naive_n)
    sample_lines = lines.filter(pl.col("order_no").is_in(sample["order_no"].implode()))
    results = []
    with tempfile.TemporaryDirectory(prefix="kit-bench-") as folder:
        backends: list[Backend] = [SqliteBackend(Path(folder))]
        if postgres_url:
            backends.append(PostgresBackend(postgres_url))
        for backend in backends:
            sqlite = isinstance(backend, SqliteBackend)
            cols, rows, lcols, lrows = _prepared(orders, lines, sqlite)
            scols, srows, slcols, slrows = _prepared(sample, sample_lines, sqlite)

            def kit_run(b: Backend = backend) -> None:
                shop = kit.Shop(Store.open(b.url), Config(), StaffMember("bench", Role.SYSTEM))
                shop.insert_orders(orders, lines, kind="bench", source="benchmark")
                shop.close()

            measures = {
                "kit": timed("kit", n, kit_run, repeat=repeat, setup=backend.reset),
                "floor": timed("floor", n, _floor(backend, cols, rows, lcols, lrows),
                               repeat=repeat, setup=backend.reset),
                "naive": timed("naive", naive_n, _naive(backend, scols, srows, slcols, slrows),
                               repeat=1, setup=backend.reset),
            }
            results.append(Result(WORKLOAD, backend.name, measures, notes=[
                f"{n:,} orders with {lines.height:,} lines from the demo generator; "
                f"naive runs once on the first {naive_n:,} orders (per-row ratios)."
            ]))
    return results

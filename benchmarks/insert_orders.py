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
from benchmarks.databases import pg_dsn
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

    def raw(self, tuned: bool = True) -> sqlite3.Connection:
        """The kit's settings when tuned; the driver's defaults (what a plain script gets) if not."""
        con = sqlite3.connect(self.url, isolation_level=None)
        con.execute("PRAGMA foreign_keys=ON")
        if tuned:
            con.execute("PRAGMA synchronous=NORMAL")
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

    def raw(self, tuned: bool = True):
        import psycopg

        return psycopg.connect(pg_dsn(self.url))


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
        con = backend.raw(tuned=False)
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


class KitPath:
    """The kit's real code path: a Shop on the backend, opened before the clock starts."""

    def __init__(self, backend: Backend, orders: pl.DataFrame, lines: pl.DataFrame) -> None:
        self.backend, self.orders, self.lines = backend, orders, lines
        self.shop: kit.Shop | None = None

    def setup(self) -> None:
        """Empty the database and open the shop on it."""
        self.close()
        self.backend.reset()
        self.shop = kit.Shop(Store.open(self.backend.url), Config(), StaffMember("bench", Role.SYSTEM))

    def run(self) -> None:
        """Register the orders as one batch."""
        assert self.shop is not None
        self.shop.insert_orders(self.orders, self.lines, kind="bench", source="benchmark")

    def close(self) -> None:
        """Release the shop's connections."""
        if self.shop is not None:
            self.shop.close()
            self.shop = None


def measure(backend: Backend, orders: pl.DataFrame, lines: pl.DataFrame, sample: pl.DataFrame,
            sample_lines: pl.DataFrame, repeat: int) -> Result:
    """The three ways on one backend."""
    sqlite = isinstance(backend, SqliteBackend)
    full = _prepared(orders, lines, sqlite)
    small = _prepared(sample, sample_lines, sqlite)
    path = KitPath(backend, orders, lines)
    try:
        measures = {
            "kit": timed("kit", orders.height, path.run, repeat=repeat, setup=path.setup),
            "floor": timed("floor", orders.height, _floor(backend, *full), repeat=repeat,
                           setup=backend.reset),
            "naive": timed("naive", sample.height, _naive(backend, *small), repeat=1,
                           setup=backend.reset),
        }
    finally:
        path.close()
    return Result(WORKLOAD, backend.name, measures, notes=[
        f"{orders.height:,} orders with {lines.height:,} lines from the demo generator; naive runs "
        f"once on the first {sample.height:,} orders (per-row ratios), with the driver's default "
        "settings, as a plain script would (SQLite: synchronous=FULL).",
        "On PostgreSQL the kit writes with COPY, which beats the executemany floor.",
    ])


def run(n: int = 100_000, naive_n: int = 10_000, postgres_url: str | None = None,
        repeat: int = 3) -> list[Result]:
    """Measure the three ways on SQLite and, when a URL is given, on PostgreSQL."""
    demo = generate(orders=n, seed=7, today=date(2026, 11, 30))
    orders, lines = demo.orders, demo.order_lines
    sample = orders.head(naive_n)
    sample_lines = lines.filter(pl.col("order_no").is_in(sample["order_no"].implode()))
    with tempfile.TemporaryDirectory(prefix="kit-bench-") as folder:
        backends: list[Backend] = [SqliteBackend(Path(folder))]
        if postgres_url:
            backends.append(PostgresBackend(postgres_url))
        return [measure(b, orders, lines, sample, sample_lines, repeat) for b in backends]

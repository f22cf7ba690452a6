"""The databases the workloads that run on copies use (allocation, confirmation): a shop built
once per backend (an SQLite file kept in benchmarks/.data, or a PostgreSQL template database
dropped after the run), a fresh copy of it for every run of a way, each way in a process of
its own on its own copy; and the raw connections, bulk reads and bulk writes the floors and the
naive ways are written with.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from benchmarks.harness import Measure, Result, isolated
from kit.store import Store, resolve_url
from kit.store.migrations import latest_version

DATA = Path(__file__).parent / ".data"
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%6f"  # how SQLAlchemy stores DateTime in SQLite (what the kit reads back)


# --- the shop, built once per backend, copied for each run ------------------------------------


@dataclass(frozen=True)
class Template:
    """What a workload's benchmark shop is called and how it is built."""

    workload: str  # the SQLite file's stem and the messages' prefix ("allocation")
    short: str  # in the PostgreSQL databases' and the temporary folder's names ("alloc")
    what: str  # what n counts, for the message ("orders")
    build: Callable[[str, int], None]  # writes the shop of n into an empty database at a URL

    def build_apart(self, url: str, n: int) -> None:
        """Build the shop in a process of its own, so that the parent running the ways stays small."""
        # on Linux a child's peak memory (ru_maxrss) starts at its parent's
        took = isolated("build", n, self.build, (url, n))
        print(f"{self.workload}: built {n:,} {self.what} in {took.median:.0f} s ({took.peak_mb:,.0f} MB)")


class Copies:
    """A shop built once on one backend, copied afresh for every run of a way."""

    name = ""

    def __init__(self) -> None:
        self.loads: dict[str, list[float]] = {}  # way -> load average as each run began

    def fresh(self) -> str:
        """A new copy of the shop; its URL."""
        raise NotImplementedError

    def discard(self, url: str) -> None:
        """Remove a copy."""
        raise NotImplementedError

    def close(self) -> None:
        """Drop what the run made and need not keep."""

    def scalar(self, sql: str) -> Any:
        """One value read from the shop itself (not a copy)."""
        raise NotImplementedError

    def measure(self, way: str, rows: int, target: Callable[..., None], args: Callable[[str], tuple],
                repeat: int = 1, after: Callable[[str, Measure], None] | None = None) -> Measure:
        """`repeat` runs of a way, each in its own process on its own fresh copy."""
        # `after` sees the copy a run left (and its time) before the copy is discarded
        measure = Measure(way, rows)
        peaks = []
        for _ in range(repeat):
            url = self.fresh()
            self.loads.setdefault(way, []).append(os.getloadavg()[0])
            try:
                one = isolated(way, rows, target, args(url))
                if after is not None:
                    after(url, one)
            finally:
                self.discard(url)
            measure.seconds += one.seconds
            peaks.append(one.peak_mb)
        measure.peak_mb = max(peaks)
        return measure

    def load_note(self, own_io: float) -> str:
        """The note on kit / floor, all rows and the machine's load as each way started."""
        loads = ", ".join(f"{way} {max(v):.1f}" for way, v in self.loads.items())
        return (f"{self.name}: kit / floor, all rows = {own_io:.2f}x. Machine load as each way started "
                f"(1-minute average, {os.cpu_count()} cores; the benchmark itself adds about 1): {loads}.")


class SqliteData(Copies):
    """The benchmark shop in an SQLite file (kept in benchmarks/.data), copied for each run."""

    name = "SQLite"

    def __init__(self, shop: Template, n: int, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        DATA.mkdir(exist_ok=True)
        self.template = DATA / f"{shop.workload}-{n}-v{latest_version()}.db"
        if not self.template.exists():
            building = self.template.with_suffix(".building")
            for old in DATA.glob(building.name + "*"):
                old.unlink()
            shop.build_apart(f"sqlite:///{building}", n)
            con = sqlite3.connect(building)
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to copy
            con.close()
            building.rename(self.template)

    def fresh(self) -> str:
        """A new copy of the shop; its URL."""
        path = self.folder / f"run-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def discard(self, url: str) -> None:
        """Remove a copy."""
        path = Path(url.removeprefix("sqlite:///"))
        for p in path.parent.glob(path.name + "*"):
            p.unlink()

    def close(self) -> None:
        """Nothing to drop: the template stays for the next run."""

    def scalar(self, sql: str) -> Any:
        """One value read from the template file."""
        con = sqlite3.connect(self.template)
        value = con.execute(sql).fetchone()[0]
        con.close()
        return value


class PostgresData(Copies):
    """The benchmark shop in a template database; each run gets a file copy of it."""

    name = "PostgreSQL"

    def __init__(self, shop: Template, n: int, admin_url: str) -> None:
        super().__init__()
        self.admin = resolve_url(admin_url)
        self.engine = sa.create_engine(self.admin, isolation_level="AUTOCOMMIT")
        self.template = f"kit_bench_{shop.short}_{n}_{uuid.uuid4().hex[:6]}"
        self._sql(f'CREATE DATABASE "{self.template}"')
        try:
            shop.build_apart(self._url(self.template), n)
        except BaseException:
            self.close()
            raise
        self.engine.dispose()  # no connection may stay on the template while it is copied

    def _url(self, name: str) -> str:
        return self.admin.set(database=name).render_as_string(hide_password=False)

    def _sql(self, statement: str) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql(statement)

    def fresh(self) -> str:
        """A new copy of the shop (a file-level copy of the template); its URL."""
        name = f"kit_bench_run_{uuid.uuid4().hex[:8]}"
        self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
        return self._url(name)

    def discard(self, url: str) -> None:
        """Drop a copy."""
        self._sql(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        """Drop the template."""
        self._sql(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.engine.dispose()

    def scalar(self, sql: str) -> Any:
        """One value read from the template database (the connection closed before any copy)."""
        with Store.open(self._url(self.template)) as store, store.read() as conn:
            return conn.execute(sa.text(sql)).scalar_one()


def on_backends(shop: Template, n: int, postgres_url: str | None,
                measure: Callable[[Copies, Path], Result]) -> list[Result]:
    """`measure` on SQLite and, when a URL is given, on PostgreSQL, each on the shop built there."""
    results = []
    with tempfile.TemporaryDirectory(prefix=f"kit-bench-{shop.short}-") as name:
        folder = Path(name)
        makers: list[Callable[[], Copies]] = [lambda: SqliteData(shop, n, folder)]
        if postgres_url:
            makers.append(lambda: PostgresData(shop, n, postgres_url))
        for make in makers:
            data = make()
            try:
                results.append(measure(data, folder))
            finally:
                data.close()
    return results


# --- raw connections ---------------------------------------------------------------------------


def pg_dsn(url: str) -> str:
    """A kit URL as the connection string psycopg takes."""
    return resolve_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_connection(url: str) -> sqlite3.Connection:
    """A raw SQLite connection in autocommit with the kit's settings (kit.store.engine)."""
    # WAL, synchronous=NORMAL (a commit does not wait for the disk), foreign keys on
    con = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    return con


@contextmanager
def pg_cursor(url: str) -> Iterator[Any]:
    """A psycopg cursor on a copy, its transaction committed when the block ends."""
    import psycopg

    with psycopg.connect(pg_dsn(url)) as con, con.cursor() as cur:
        yield cur


def sqlite_time(at: datetime) -> str:
    """A time as SQLAlchemy stores DateTime in SQLite (what the kit reads back)."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def sqlite_times(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its Datetime columns as the text SQLAlchemy stores in SQLite."""
    return frame.with_columns(pl.col(pl.Datetime).dt.strftime(SQLITE_TIME))


class RowAtATime:
    """The naive ways' connection: SQL written with ? marks, a transaction per item."""

    def __init__(self, url: str, *, defaults: bool = False) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:  # defaults: the driver's settings (rollback journal, synchronous=FULL)
            self.con = (sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None) if defaults
                        else sqlite_connection(url))
            self.mark, self.lock = "?", ""
        else:
            import psycopg

            self.con = psycopg.connect(pg_dsn(url))
            self.mark, self.lock = "%s", " FOR UPDATE"

    def q(self, sql: str) -> str:
        """The statement with this driver's placeholders."""
        return sql.replace("?", self.mark)

    def begin(self, cur: Any) -> None:
        """Open the item's transaction (psycopg opens one by itself)."""
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")

    def commit(self, cur: Any) -> None:
        """Commit the item's transaction."""
        if self.sqlite:
            cur.execute("COMMIT")  # the connection is in autocommit; BEGIN was explicit
        else:
            self.con.commit()


# --- bulk reads and writes -------------------------------------------------------------------


def copy_out(cur: Any, sql: str, schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of a query through PostgreSQL's COPY … TO STDOUT (CSV), as a frame of `schema`."""
    buffer = io.BytesIO()
    with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema_overrides=schema)


def copy_in(cur: Any, table: str, frame: pl.DataFrame) -> None:
    """A frame into a PostgreSQL table through COPY … FROM STDIN (CSV)."""
    with cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(frame.write_csv(include_header=False))


def insert_rows(con: sqlite3.Connection, table: str, frame: pl.DataFrame) -> None:
    """A frame into an SQLite table with one executemany, its times as the kit stores them."""
    frame = sqlite_times(frame)
    con.executemany(f"INSERT INTO {table} ({', '.join(frame.columns)}) "
                    f"VALUES ({', '.join('?' * frame.width)})", frame.iter_rows())

"""Opening a database: checks that change nothing on disk, then one engine per store.

SQLite runs in WAL mode with foreign keys on; write transactions start with
BEGIN IMMEDIATE so two writers queue for the lock instead of deadlocking on upgrade.
PostgreSQL runs at READ COMMITTED; every state change is a guarded UPDATE, so the
second of two concurrent writers finds the guard false and reports a conflict.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from kit.errors import StoreError
from kit.store.urls import DEFAULT_SQLITE_PATH, mask_url, sqlite_path

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000


def precheck_sqlite(url: sa.URL) -> int | None:
    """Read an existing SQLite file without writing to it; return its schema version.

    Raises StoreError for a missing directory, a file that is not SQLite, or a damaged one.
    """
    path = sqlite_path(url)
    if path is None:
        return None
    shown = str(path)
    if not path.exists():
        if path.parent == DEFAULT_SQLITE_PATH.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        if not path.parent.is_dir():
            raise StoreError("store.sqlite_no_directory", path=shown, directory=str(path.parent))
        return None
    if path.is_dir():
        raise StoreError("store.sqlite_is_directory", path=shown)
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise StoreError("store.sqlite_corrupt", path=shown, detail="not an SQLite file")
    if not head:
        return None  # an empty file is a new database
    # With no WAL file beside it, read the file as immutable: SQLite then creates no
    # -wal/-shm companions, so a refused database is left exactly as it was found.
    mode = "mode=ro" if Path(f"{path}-wal").exists() else "immutable=1"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "kit_schema" not in names:
                return None
            return conn.execute("SELECT max(version) FROM kit_schema").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError("store.sqlite_corrupt", path=shown, detail=str(exc)) from None


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (the pysqlite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("kit_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: sa.URL) -> sa.Engine:
    """An engine for the URL with the kit's connection settings."""
    if url.get_backend_name() == "sqlite":
        if sqlite_path(url):
            engine = sa.create_engine(
                url,
                connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
                pool_size=8,
                max_overflow=16,
            )
        else:  # one shared in-memory database
            engine = sa.create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=sa.pool.StaticPool
            )
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5, "application_name": "fahuo-kit"},
    )


def probe(engine: sa.Engine) -> None:
    """Connect once, turning driver errors into a StoreError that names the database."""
    shown = mask_url(engine.url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except ModuleNotFoundError as exc:
        raise StoreError("store.driver_missing", url=shown, module=exc.name or "?") from None
    except sa.exc.OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if engine.url.get_backend_name() == "sqlite":
            raise StoreError("store.sqlite_corrupt", path=str(sqlite_path(engine.url)),
                             detail=detail) from None
        raise StoreError("store.unreachable", url=shown, detail=detail) from None
    except sa.exc.DBAPIError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError("store.unreachable", url=shown, detail=detail) from None


"""The store: the one shared record of the shop, on SQLite by default or PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
import sqlalchemy as sa

from kit.errors import StoreError
from kit.store import migrations, schema
from kit.store.engine import create_engine, precheck_sqlite, probe
from kit.store.frames import insert_frame, read_frame
from kit.store.urls import mask_url, resolve_url, sqlite_path

__all__ = ["Store", "mask_url", "resolve_url", "schema"]


class Store:
    """A database holding the kit's schema; open with Store.open(url)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.url = engine.url

    @classmethod
    def open(
        cls,
        url: str | sa.URL | None = None,
        *,
        migrate: bool = True,
        migration_list: list[migrations.Migration] | None = None,
    ) -> Store:
        """Open the database, checking it first, and create or upgrade its schema.

        Nothing is written when the URL is unknown, the server unreachable, the SQLite
        file damaged, or the schema newer than this kit.
        """
        parsed = url if isinstance(url, sa.URL) else resolve_url(url)
        shown = mask_url(parsed)
        if parsed.get_backend_name() == "sqlite":
            migrations.check_version(precheck_sqlite(parsed), shown, migration_list)
        try:
            engine = create_engine(parsed)
        except ModuleNotFoundError as exc:
            raise StoreError("store.driver_missing", url=shown, module=exc.name or "?") from None
        probe(engine)
        store = cls(engine)
        with store.read() as conn:
            version = migrations.current_version(conn)
        migrations.check_version(version, shown, migration_list)
        latest = migrations.latest_version(migration_list)
        if version != latest:
            if not migrate:
                engine.dispose()
                raise StoreError("store.needs_upgrade", url=shown, version=version, latest=latest)
            store.upgrade(migration_list)
        return store

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @property
    def shown_url(self) -> str:
        """The URL without its password."""
        return mask_url(self.url)

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection in a read transaction (a consistent snapshot on SQLite WAL)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A connection in a write transaction: committed on success, rolled back on error."""
        with self.engine.connect().execution_options(kit_write=True) as conn, conn.begin():
            yield conn

    def upgrade(self, migration_list: list[migrations.Migration] | None = None) -> list[int]:
        """Bring the schema to the newest version under the write lock; return versions applied."""
        with self.write() as conn:
            if self.dialect == "postgresql":
                # One upgrader at a time across processes; released at commit.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
            return migrations.upgrade(conn, self.shown_url, migration_list)

    def schema_version(self) -> int | None:
        """The schema version stored in the database."""
        with self.read() as conn:
            return migrations.current_version(conn)

    def frame(self, stmt: sa.Select | sa.TextClause, conn: sa.Connection | None = None) -> pl.DataFrame:
        """Run a query and return the rows as a polars DataFrame."""
        if conn is not None:
            return read_frame(conn, stmt)
        with self.read() as own:
            return read_frame(own, stmt)

    def insert_frame(self, table: sa.Table, frame: pl.DataFrame, conn: sa.Connection | None = None) -> int:
        """Insert a frame's rows into a table in one statement; return the count."""
        if conn is not None:
            return insert_frame(conn, table, frame)
        with self.write() as own:
            return insert_frame(own, table, frame)

    @property
    def sqlite_file(self) -> str | None:
        """The SQLite file path, if this store is one."""
        path = sqlite_path(self.url)
        return str(path) if path else None

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.shown_url!r})"

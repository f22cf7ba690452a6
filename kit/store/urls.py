"""Which database a URL (or a bare file path) names, and how to show it without secrets."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from kit.errors import StoreError

DEFAULT_SQLITE_PATH = Path("var") / "kit.db"
SUPPORTED = "sqlite:///PATH, postgresql://USER:PASSWORD@HOST/DB"

_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def resolve_url(url: str | None = None) -> sa.URL:
    """The database URL to use: the argument, else KIT_DATABASE_URL, else ./var/kit.db."""
    text = (url or os.environ.get("KIT_DATABASE_URL") or "").strip()
    if not text:
        return sa.make_url(f"sqlite+pysqlite:///{DEFAULT_SQLITE_PATH}")
    if "://" not in text:
        # A bare path is an SQLite file: `--db shop.db` is what people type.
        return sa.make_url(f"sqlite+pysqlite:///{text}")
    scheme = text.split("://", 1)[0].lower()
    if scheme not in _DRIVERS:
        raise StoreError("store.unknown_scheme", scheme=scheme, expected=SUPPORTED)
    try:
        parsed = sa.make_url(text)
    except sa.exc.ArgumentError as exc:
        raise StoreError("store.bad_url", url=mask_url(text), detail=str(exc)) from None
    return parsed.set(drivername=_DRIVERS[scheme])


def mask_url(url: sa.URL | str) -> str:
    """The URL with its password hidden, fit for messages and logs."""
    if isinstance(url, str):
        try:
            url = sa.make_url(url)
        except sa.exc.ArgumentError:
            return "<unparseable URL>"
    return url.render_as_string(hide_password=True)


def sqlite_path(url: sa.URL) -> Path | None:
    """The file of an SQLite URL, or None for memory databases and other dialects."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)

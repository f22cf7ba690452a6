"""Shared fixtures: a fresh SQLite or PostgreSQL database per test, and the skip-or-fail
rule for what the machine lacks (KIT_REQUIRE_POSTGRES / KIT_REQUIRE_BROWSER)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kit.i18n import set_lang
from kit.store import resolve_url

CHROMIUM = "/usr/bin/chromium"


def _required(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")


def skip_or_fail(reason: str, require_var: str) -> None:
    """Skip with the reason, or fail when the environment says the thing is required."""
    if _required(require_var):
        pytest.fail(f"{reason} ({require_var}=1 is set)")
    pytest.skip(reason)


def postgres_admin_url() -> str | None:
    """KIT_TEST_POSTGRES_URL: a database on a server where tests may create databases."""
    return os.environ.get("KIT_TEST_POSTGRES_URL") or None


@pytest.fixture(autouse=True)
def _chinese_by_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in the default language, whatever the shell says."""
    monkeypatch.delenv("KIT_LANG", raising=False)
    monkeypatch.delenv("KIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("KIT_CONFIG", raising=False)
    monkeypatch.delenv("KIT_ACTOR", raising=False)
    set_lang(None)
    yield
    set_lang(None)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A new SQLite file URL in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'kit.db'}"


def new_pg_database(admin: str) -> tuple[str, sa.Engine, str]:
    name = f"kit_t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(resolve_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = resolve_url(admin).set(database=name).render_as_string(hide_password=False)
    return url, engine, name


def drop_pg_database(engine: sa.Engine, name: str) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test."""
    admin = postgres_admin_url()
    if admin is None:
        skip_or_fail("PostgreSQL not available: set KIT_TEST_POSTGRES_URL", "KIT_REQUIRE_POSTGRES")
    try:
        url, engine, name = new_pg_database(admin)
    except sa.exc.OperationalError as exc:
        skip_or_fail(f"PostgreSQL at KIT_TEST_POSTGRES_URL unreachable: {exc.orig}",
                     "KIT_REQUIRE_POSTGRES")
    yield url
    drop_pg_database(engine, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a new SQLite file and on a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kit.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, or skip/fail by KIT_REQUIRE_BROWSER."""
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        skip_or_fail("Debian's chromium is not installed", "KIT_REQUIRE_BROWSER")
    try:
        import playwright  # noqa: F401
    except ImportError:
        skip_or_fail("playwright (Python) is not installed", "KIT_REQUIRE_BROWSER")
    return path

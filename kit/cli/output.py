"""How every command speaks: one JSON object on stdout with --json, words on stderr,
and the exit codes of the contract (0 ok, 1 refused by a rule, 2 bad usage or input)."""

from __future__ import annotations

import functools
import json
import sys
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from kit.errors import KitError
from kit.i18n import t


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def emit_json(payload: dict[str, Any]) -> None:
    """Print one JSON object on stdout."""
    click.echo(json.dumps(payload, ensure_ascii=False, default=_default, sort_keys=False))


def display_width(text: str) -> int:
    """Columns the text takes on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """The text padded with spaces to `width` terminal columns."""
    return text + " " * max(0, width - display_width(text))


class _Silent:
    """A progress bar that shows nothing (--json, or not a terminal)."""

    def update(self, steps: int) -> None:
        """Ignore progress."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def progress_bar(length: int, label: str, as_json: bool) -> Any:
    """A progress bar on stderr when it is a terminal and output is not JSON; else silence."""
    if as_json or not sys.stderr.isatty():
        return _Silent()
    return click.progressbar(length=length, label=label, file=sys.stderr)


def say(message: str) -> None:
    """A message for the person at the terminal, on stderr."""
    click.echo(message, err=True)


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--db, --json, --config and --as on a subcommand, and the contract's error handling."""

    @click.option("--db", "db", metavar="URL", envvar="KIT_DATABASE_URL", default=None,
                  help="Database URL or SQLite file (default ./var/kit.db).")
    @click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
    @click.option("--config", "config_path", metavar="FILE", default=None,
                  help="kit.toml to use (default ./kit.toml, or KIT_CONFIG).")
    @click.option("--as", "actor", metavar="NAME", envvar="KIT_ACTOR", default=None,
                  help="Staff member acting (for commands that change things).")
    @functools.wraps(func)
    def wrapper(*args: Any, as_json: bool, **kwargs: Any) -> Any:
        try:
            return func(*args, as_json=as_json, **kwargs)
        except KitError as exc:
            say(t("cli.error", message=exc.message))
            if as_json:
                emit_json({"ok": False, **exc.to_dict()})
            sys.exit(exc.exit_code)

    return wrapper

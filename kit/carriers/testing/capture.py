"""Catching what an adapter logs, prints or writes to stderr, and the secrets it must not show."""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator
from typing import Any

SECRET_KEY = re.compile(r"key|secret|token|password|passwd", re.IGNORECASE)


def secrets_of(settings: Any, key: str = "") -> dict[str, str]:
    """Every setting whose key says key, secret, token or password, by dotted key (values of 4+ chars)."""
    if isinstance(settings, dict):
        return {k: v for name, value in settings.items()
                for k, v in secrets_of(value, f"{key}.{name}".lstrip(".")).items()}
    return {key: str(settings)} if SECRET_KEY.search(key) and len(str(settings)) >= 4 else {}


@contextlib.contextmanager
def captured_output() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG or above, printed or written to stderr, while inside."""
    buffer, root, manager = io.StringIO(), logging.getLogger(), logging.root.manager
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [root, *(lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger))]
    levels, disabled = {lg: lg.level for lg in loggers}, manager.disable
    closed = [lg for lg in loggers if not lg.propagate]
    logging.disable(logging.NOTSET)
    for lg in loggers:
        if lg is root or lg.level > logging.DEBUG:
            lg.setLevel(logging.DEBUG)
    for lg in (root, *closed):
        lg.addHandler(handler)
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        for lg in (root, *closed):
            lg.removeHandler(handler)
        for lg, level in levels.items():
            lg.setLevel(level)
        logging.disable(disabled)

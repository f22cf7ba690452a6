"""The message catalogue: every user-facing text, in Chinese (default) and English."""

from __future__ import annotations

import os
import string
import tomllib
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "catalogue", "current_lang", "message_expr", "set_lang", "t"]

LANGUAGES = ("zh", "en")
_override: str | None = None


def current_lang() -> str:
    """The active language: set_lang() if called, else KIT_LANG, else zh."""
    lang = _override or os.environ.get("KIT_LANG", "zh").strip().lower() or "zh"
    # "zh_CN.UTF-8" and "en-US" are accepted as their language.
    lang = lang.replace("-", "_").split("_")[0].split(".")[0]
    return lang if lang in LANGUAGES else "zh"


def set_lang(lang: str | None) -> None:
    """Choose the language for this process (None goes back to KIT_LANG)."""
    global _override
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    _override = lang


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, keyed by dotted name (e.g. ``stage.new``): the main file
    ``kit/messages/<lang>.toml`` and each capability's own ``kit/messages/<lang>/*.toml``."""
    folder = resources.files("kit.messages")
    out: dict[str, str] = {}
    _flatten("", tomllib.loads(folder.joinpath(f"{lang}.toml").read_text("utf-8")), out)
    part_folder = folder.joinpath(lang)
    parts = sorted((p for p in part_folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name) \
        if part_folder.is_dir() else []
    for part in parts:
        more: dict[str, str] = {}
        _flatten("", tomllib.loads(part.read_text("utf-8")), more)
        clash = sorted(set(more) & set(out))
        if clash:
            raise ValueError(f"message {clash[0]!r} of {lang}/{part.name} is already defined")
        out |= more
    return out


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, /, lang: str | None = None, **params: Any) -> str:
    """The message ``key`` in the active language, with ``{name}`` filled from params."""
    messages = catalogue(lang or current_lang())
    template = messages[key]
    return string.Formatter().vformat(template, (), _Missing(params))


def message_expr(key: str, /, lang: str | None = None, **columns: Any) -> Any:
    """The message ``key`` as a polars expression, each ``{name}`` filled from a column name
    or an expression: a message for every row of a frame at once."""
    import polars as pl  # only frame code needs it

    template = catalogue(lang or current_lang())[key]
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    plain = template
    for name in set(names):
        plain = plain.replace("{" + name + "}", "{}")
    return pl.format(plain, *[pl.col(c) if isinstance(c := columns[name], str) else c for name in names])

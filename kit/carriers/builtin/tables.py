"""The kit's sample contract rate tables (kit/carriers/data/rates), registered as a plugin.

Made-up 2026 prices from Zhejiang for yto (the default, S5), sf (standard and express),
zto, yunda, sto, jd, ems, jt and deppon, each covering every mainland province. They are
samples: a shop sets `[carriers] rate_tables = "folder"` in kit.toml and its own tables
replace them (kit.carriers.quoting.tables_in_force).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

from kit.carriers.hookspecs import hookimpl
from kit.carriers.rate_files import load_folder
from kit.carriers.rates import RateTable


@cache
def sample_tables() -> tuple[RateTable, ...]:
    """The sample tables, loaded and validated once, each marked as a sample."""
    folder = resources.files("kit.carriers").joinpath("data", "rates")
    return tuple(replace(table, sample=True) for table in load_folder(folder))


@hookimpl
def rate_tables(register: Callable[[Any], None]) -> None:
    """Register every sample table."""
    for table in sample_tables():
        register(table)

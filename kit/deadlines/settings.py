"""The [deadlines] and [calendar.YYYY] settings of kit.toml, checked: times "HH:MM", counts,
weekdays, and the holidays and make-up working days (调休) a shop adds for a year.

kit.config declares the keys (types, defaults, meaning) and calls the readers here for
what a type check cannot see: 25:00 is text but no time of day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from kit.errors import ConfigError

__all__ = ["DEFAULTS", "LEGACY_KEYS", "POLICIES", "CalendarYear", "DeadlineSettings",
           "move_legacy_keys", "read_calendar", "read_deadlines"]

POLICIES = ("taobao", "tmall", "mall", "working_hours")
CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")  # 00:00 to 23:59
LEGACY_KEYS = {"shop.deadline_policy": "deadlines.policy"}  # old name, still read
DEFAULTS: dict[str, Any] = {
    "policy": "taobao",
    "taobao_hours": 72,             # S1: within 3 days
    "tmall_cutoff": "16:00",        # S5b
    "mall_cutoff": "17:00",         # S19
    "mall_ship_by": "18:00",        # S19: shipping before 18:00
    "shipping_weekdays": [1, 2, 3, 4, 5, 6],  # S19: Monday to Saturday
    "within_working_hours": 24,
    "workday_start": "09:00",
    "workday_end": "18:00",
    "working_weekdays": [1, 2, 3, 4, 5],
    "at_risk_hours": 4,
    "confirm_by": "21:00",          # S9
    "refund_after_hours": 0,        # S2: the platform lets the buyer ask at once
}
_MINIMUM = {"at_risk_hours": 0, "refund_after_hours": 0}  # other counts start at 1


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


_TIMES = {name: _hhmm(value) for name, value in DEFAULTS.items()
          if isinstance(value, str) and CLOCK_TIME.fullmatch(value)}


@dataclass(frozen=True)
class DeadlineSettings:
    """The [deadlines] section: the ship-by policy and its thresholds (S1, S2, S5b, S9, S19)."""

    policy: str = DEFAULTS["policy"]
    taobao_hours: int = DEFAULTS["taobao_hours"]
    tmall_cutoff: time = _TIMES["tmall_cutoff"]
    mall_cutoff: time = _TIMES["mall_cutoff"]
    mall_ship_by: time = _TIMES["mall_ship_by"]
    shipping_weekdays: tuple[int, ...] = tuple(DEFAULTS["shipping_weekdays"])
    within_working_hours: int = DEFAULTS["within_working_hours"]
    workday_start: time = _TIMES["workday_start"]
    workday_end: time = _TIMES["workday_end"]
    working_weekdays: tuple[int, ...] = tuple(DEFAULTS["working_weekdays"])
    at_risk_hours: int = DEFAULTS["at_risk_hours"]
    confirm_by: time = _TIMES["confirm_by"]
    refund_after_hours: int = DEFAULTS["refund_after_hours"]


@dataclass(frozen=True)
class CalendarYear:
    """A [calendar.YYYY] table: the year's public holidays and make-up working days (调休)."""

    year: int
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()


def move_legacy_keys(data: dict[str, Any]) -> dict[str, Any]:
    """kit.toml data with old keys moved to their new place (shop.deadline_policy -> deadlines.policy);
    both given with different values is refused, naming both."""
    data = dict(data)
    for old, new in LEGACY_KEYS.items():
        (old_section, old_name), (new_section, new_name) = old.split("."), new.split(".")
        section = data.get(old_section)
        if not isinstance(section, dict) or old_name not in section:
            continue
        value = section[old_name]
        data[old_section] = {k: v for k, v in section.items() if k != old_name}
        target = data.get(new_section, {})
        if not isinstance(target, dict):
            continue  # the type check of the new section reports it
        if new_name in target and target[new_name] != value:
            raise ConfigError("deadlines.legacy_conflict", key=old, value=repr(value), new_key=new,
                              new_value=repr(target[new_name]))
        data[new_section] = {**target, new_name: value}
    return data


def read_deadlines(values: dict[str, Any]) -> DeadlineSettings:
    """[deadlines] after the type check: times "HH:MM" (25:00 refused), counts, weekdays 1 to 7."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        key = f"deadlines.{name}"
        if isinstance(DEFAULTS[name], str) and name != "policy":
            if not CLOCK_TIME.fullmatch(value):
                raise ConfigError("deadlines.bad_time", key=key, value=repr(value))
            value = _hhmm(value)
        elif isinstance(DEFAULTS[name], list):
            if not value or len(set(value)) != len(value) or any(
                    isinstance(d, bool) or not 1 <= d <= 7 for d in value):
                raise ConfigError("deadlines.bad_weekdays", key=key, value=repr(value))
            value = tuple(sorted(value))
        elif isinstance(DEFAULTS[name], int) and value < _MINIMUM.get(name, 1):
            raise ConfigError("deadlines.too_small", key=key, value=repr(value),
                              low=_MINIMUM.get(name, 1))
        out[name] = value
    for early, late in (("workday_start", "workday_end"), ("mall_cutoff", "mall_ship_by")):
        if out[early] > out[late] or (early == "workday_start" and out[early] == out[late]):
            raise ConfigError("deadlines.bad_order", key=f"deadlines.{early}", value=repr(values[early]),
                              other=f"deadlines.{late}", other_value=repr(values[late]))
    return DeadlineSettings(**out)


def read_calendar(data: Any) -> dict[int, CalendarYear]:
    """[calendar.YYYY] tables: holidays and workdays (调休) as dates of that year, none in both."""
    if not isinstance(data, dict):
        raise ConfigError("config.bad_type", key="calendar", value=repr(data), expected="table")
    out: dict[int, CalendarYear] = {}
    for year_text, table in data.items():
        key = f"calendar.{year_text}"
        if not re.fullmatch(r"(19|20|21)[0-9]{2}", str(year_text)):
            raise ConfigError("deadlines.bad_year", key=key)
        if not isinstance(table, dict):
            raise ConfigError("config.bad_type", key=key, value=repr(table), expected="table")
        unknown = sorted(set(table) - {"holidays", "workdays"})
        if unknown:
            raise ConfigError("config.unknown_key", key=f"{key}.{unknown[0]}", expected="holidays, workdays")
        year = int(year_text)
        holidays, workdays = (_dates(f"{key}.{name}", table.get(name, []), year)
                              for name in ("holidays", "workdays"))
        both = sorted(set(holidays) & set(workdays))
        if both:
            raise ConfigError("deadlines.both_lists", key=key, value=both[0].isoformat())
        out[year] = CalendarYear(year, holidays, workdays)
    return out


def _dates(key: str, values: Any, year: int) -> tuple[date, ...]:
    """A list of dates of `year`, written "YYYY-MM-DD" or as TOML dates (2027-01-01)."""
    if not isinstance(values, list):
        raise ConfigError("config.bad_type", key=key, value=repr(values), expected="list of dates")
    out = set()
    for value in values:
        day = value if isinstance(value, date) and not isinstance(value, time) else None
        if hasattr(day, "hour"):  # a TOML date-time is not a day
            day = None
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                day = None
        if day is None or day.year != year:
            raise ConfigError("deadlines.bad_date", key=key, value=repr(value), year=year)
        out.add(day)
    return tuple(sorted(out))

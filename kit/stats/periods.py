"""The window a statistics table covers (from one day to another, both included), the
periods it is cut into (day, week, month) and the dimensions it can be broken down by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import polars as pl

from kit.errors import BadInput

PERIODS = ("day", "week", "month")
_EVERY = {"day": "1d", "week": "1w", "month": "1mo"}  # weeks start on Monday
# --by NAME → the shipments' column it groups by
DIMENSIONS = {"carrier": "carrier_code", "warehouse": "warehouse_code", "shop": "shop", "staff": "packed_by"}


@dataclass(frozen=True)
class Window:
    """From the first day's midnight to the midnight after the last day (end excluded)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first moment inside the window."""
        return datetime.combine(self.first, time())

    @property
    def end(self) -> datetime:
        """The first moment after the window."""
        return datetime.combine(self.last + timedelta(days=1), time())

    @property
    def days(self) -> int:
        """Days covered, both ends included."""
        return (self.last - self.first).days + 1

    def holds(self, column: str) -> pl.Expr:
        """True where the time in `column` falls inside the window (null times: false)."""
        c = pl.col(column)
        return (c >= self.start) & (c < self.end) & c.is_not_null()


def read_day(text: str | date, what: str = "--from") -> date:
    """A day from 2026-03-01 (or 2026/03/01, 20260301); BadInput naming the text otherwise."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    cleaned = str(text).strip()
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    raise BadInput("stats.bad_day", option=what, value=cleaned)


def window(first: str | date, last: str | date | None = None) -> Window:
    """The window from `first` to `last` (default: the same day); BadInput when first is after last."""
    start = read_day(first, "--from")
    end = read_day(last, "--to") if last is not None else start
    if start > end:
        raise BadInput("stats.from_after_to", first=start.isoformat(), last=end.isoformat())
    return Window(start, end)


def check_period(period: str | None) -> str | None:
    """The period name when it is one of PERIODS (or None: the whole window at once)."""
    if period is not None and period not in PERIODS:
        raise BadInput("stats.bad_period", value=period, expected="、".join(PERIODS))
    return period


def period_of(column: str, period: str | None) -> pl.Expr:
    """The first day of the period a time falls in, as a Date column named `period`."""
    check_period(period)
    c = pl.col(column)
    if period == "day" or period is None:
        return c.dt.date().alias("period")
    return c.dt.truncate(_EVERY[period]).dt.date().alias("period")


def dimensions(by: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """The shipments' columns for --by carrier,warehouse,… (names or column names); BadInput otherwise."""
    if by is None:
        return []
    names = [b.strip() for b in (by.split(",") if isinstance(by, str) else by) if b and b.strip()]
    columns = []
    for name in names:
        column = DIMENSIONS.get(name, name if name in DIMENSIONS.values() else None)
        if column is None:
            raise BadInput("stats.bad_dimension", value=name, expected="、".join(DIMENSIONS))
        if column not in columns:
            columns.append(column)
    return columns

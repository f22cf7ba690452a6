"""The shop's calendar: public holidays and make-up working days (调休) by year, from the
chinese-calendar package and kit.toml's [calendar.YYYY] tables, as a table of days.

The package carries the State Council's yearly notices (2004–2026 in 1.11.0). A year it
does not know is never guessed: the shop adds it as `[calendar.2027]` with `holidays`
and `workdays` lists, or upgrades the package. A kit.toml table replaces the package's
data for its year, so a shop can also correct or pre-empt it.

Open days for a set of weekdays are ((weekday in the set) and not a holiday) or a make-up
working day: a holiday that falls on a Saturday is closed, a make-up Sunday is open. Each
set's open days are one sorted date column, built once; deadlines find days in it with
searchsorted, whole columns at once.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import polars as pl

from kit.deadlines.settings import CalendarYear
from kit.errors import ConfigError

__all__ = ["Calendar", "calendar_for", "package_calendar"]


@cache
def package_calendar() -> tuple[str, dict[int, CalendarYear]]:
    """chinese-calendar's version and its holidays and make-up working days, by year."""
    import chinese_calendar
    from chinese_calendar import constants

    years: dict[int, tuple[list[date], list[date]]] = {}
    for day in constants.holidays:
        years.setdefault(day.year, ([], []))[0].append(day)
    for day in constants.workdays:
        years.setdefault(day.year, ([], []))[1].append(day)
    return (getattr(chinese_calendar, "__version__", "?"),
            {y: CalendarYear(y, tuple(sorted(h)), tuple(sorted(w))) for y, (h, w) in years.items()})


class Calendar:
    """Holidays and make-up working days for the years known: the package's, then kit.toml's."""

    def __init__(self, years: dict[int, CalendarYear], package: str = "?",
                 package_years: tuple[int, int] | None = None) -> None:
        self.years = dict(sorted(years.items()))
        self.package = package
        self.package_years = package_years or (min(years, default=0), max(years, default=0))
        self._open: dict[tuple[int, ...], pl.Series] = {}
        holidays = [d for y in self.years.values() for d in y.holidays]
        workdays = [d for y in self.years.values() for d in y.workdays]
        dates = pl.concat([pl.date_range(date(y, 1, 1), date(y, 12, 31), eager=True) for y in self.years]
                          or [pl.Series([], dtype=pl.Date)])
        self.days = pl.DataFrame({"date": dates}).with_columns(
            weekday=pl.col("date").dt.weekday(),
            holiday=pl.col("date").is_in(pl.Series(holidays, dtype=pl.Date).implode()),
            makeup=pl.col("date").is_in(pl.Series(workdays, dtype=pl.Date).implode()),
        )

    def open_days(self, weekdays: tuple[int, ...]) -> pl.Series:
        """The sorted days open for work on these weekdays (1 = Monday), over every known year."""
        if weekdays not in self._open:
            frame = self.days.filter((pl.col("weekday").is_in(list(weekdays)) & ~pl.col("holiday"))
                                     | pl.col("makeup"))
            self._open[weekdays] = frame["date"]
        return self._open[weekdays]

    def is_open(self, day: date, weekdays: tuple[int, ...]) -> bool:
        """Whether one day is open on these weekdays (raises for a year not known)."""
        self.check(pl.Series([day]), pl.Series([day]))
        return bool(self.open_days(weekdays).is_in([day]).any())

    def check(self, since: pl.Series, until: pl.Series) -> None:
        """Refuse when a row's span from `since` to `until` (a null `until`: past the last day
        known) touches a year that neither the package nor kit.toml knows."""
        years = since.dt.year()
        known = set(self.years)
        starting = sorted(y for y in years.drop_nulls().unique().to_list() if y not in known)
        if starting:
            raise self.missing(since.filter(years == starting[0]).min())
        gap = {y: _next_unknown(y, known) for y in years.drop_nulls().unique().to_list()}
        if not gap:
            return
        first_gap = years.replace_strict(gap, return_dtype=pl.Int32, default=None)
        crossing = since.is_not_null() & (until.is_null() | (until.dt.year() >= first_gap))
        if crossing.any():
            raise self.missing(date(first_gap.filter(crossing).min(), 1, 1))

    def missing(self, day: Any) -> ConfigError:
        """The error for a day of a year without holiday data: add [calendar.YYYY] or upgrade."""
        first, last = self.package_years
        return ConfigError("deadlines.calendar_missing", date=day.isoformat(), year=day.year,
                           version=self.package, first=first, last=last)


def _next_unknown(year: int, known: set[int]) -> int:
    """The first year after `year` that the calendar does not know."""
    year += 1
    while year in known:
        year += 1
    return year


@cache
def _cached(tables: tuple[tuple[int, CalendarYear], ...]) -> Calendar:
    version, years = package_calendar()
    span = (min(years), max(years))
    return Calendar({**years, **dict(tables)}, version, span)


def calendar_for(tables: dict[int, CalendarYear] | None = None) -> Calendar:
    """The calendar for kit.toml's [calendar.YYYY] tables over the package's years, built once."""
    return _cached(tuple(sorted((tables or {}).items())))

"""The ship-by policies as whole-column computations: a frame of orders in, a ship_by column out.

Times are the shop's naive local time (Asia/Shanghai, see kit.clock); no policy loops
over orders. The clock starts when the order may ship: `paid_at` for online payment, the
phone confirmation (`phone_confirmed_at`, S16) for cash on delivery, which S19 counts as
"paid (or COD-confirmed)"; a COD order not yet confirmed has no deadline.

    taobao         paid_at + taobao_hours (S1: 72); calendar hours, the platform's clock
                   does not stop for holidays.
    tmall          paid before tmall_cutoff (16:00): the same day, else the next calendar
                   day; "a day" ends at 23:59:59 (S5b). Calendar days: S5b names no
                   exception, where S19 names Sundays and holidays.
    mall           paid or COD-confirmed before mall_cutoff (17:00) on a shipping day:
                   that day, else the next shipping day; due at mall_ship_by (18:00).
                   Shipping days are shipping_weekdays (Monday to Saturday) minus public
                   holidays plus make-up working days (S19). A Saturday 17:30 payment is
                   due Monday 18:00; the seed's "within 24 hours, Sundays and holidays
                   excluded" is this same next-shipping-day rule.
    working_hours  within_working_hours counted only inside workday_start..workday_end on
                   working days (working_weekdays minus holidays plus make-up days).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import polars as pl

from kit.deadlines.calendar import Calendar, calendar_for
from kit.deadlines.settings import DeadlineSettings

__all__ = ["add_open_hours", "clock_start", "deadline_for", "ship_by"]

_US = pl.Datetime("us")


def _us(moment: time) -> int:
    """Microseconds since midnight."""
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond


def clock_start(frame: pl.DataFrame) -> pl.Series:
    """When each order's deadline clock starts: paid_at, or the COD phone confirmation (S16, S19)."""
    paid = frame["paid_at"].cast(_US)
    if "payment_method" not in frame.columns:
        return paid.alias("start")
    confirmed = (frame["phone_confirmed_at"].cast(_US) if "phone_confirmed_at" in frame.columns
                 else pl.Series([None] * frame.height, dtype=_US))
    cod = frame["payment_method"] == "cod"
    return pl.select(
        pl.when(cod.not_()).then(paid)
        .when(confirmed.is_not_null()).then(pl.max_horizontal(paid, confirmed))
        .alias("start")
    ).to_series()


def ship_by(frame: pl.DataFrame, policy: DeadlineSettings, calendar: Calendar | None = None) -> pl.Series:
    """The ship-by time of each order under the policy (null where the clock has not started).

    `frame` holds paid_at and, for COD orders, payment_method and phone_confirmed_at.
    `calendar` defaults to chinese-calendar's data; the mall and working_hours policies
    raise ConfigError naming the first day of a year it does not know.
    """
    start = clock_start(frame)
    if policy.policy == "taobao":
        out = start + timedelta(hours=policy.taobao_hours)
    elif policy.policy == "tmall":
        out = _day_by_cutoff(start, policy.tmall_cutoff).cast(_US) + timedelta(days=1, seconds=-1)
    elif policy.policy == "mall":
        out = _mall(start, policy, calendar or calendar_for())
    elif policy.policy == "working_hours":
        out = _working_hours(start, policy, calendar or calendar_for())
    else:  # kit.config refuses other names; a hand-built DeadlineSettings may not
        raise ValueError(f"unknown deadline policy {policy.policy!r}")
    return out.cast(_US).alias("ship_by")


def _day_by_cutoff(start: pl.Series, cutoff: time) -> pl.Series:
    """The start's day when before the cut-off, else the day after (paid at 16:00 sharp: after)."""
    day = start.dt.date()
    return pl.select(pl.when(start.dt.time() < cutoff).then(day)
                     .otherwise(day + timedelta(days=1))).to_series()


def _positions(days: pl.Series, wanted: pl.Series) -> pl.Series:
    """Index of the first of the sorted `days` on or after each wanted date (len: past the end;
    null for null)."""
    filled = wanted.fill_null(days[0]) if days.len() else wanted
    found = days.search_sorted(filled, side="left").cast(pl.Int64)
    return pl.select(pl.when(wanted.is_not_null()).then(found)).to_series()


def _at(days: pl.Series, index: pl.Series) -> pl.Series:
    """days[index], null where the index is past the end (or null)."""
    n = days.len()
    if n == 0:
        return pl.Series([None] * index.len(), dtype=pl.Date)
    got = days.gather(index.clip(0, n - 1).fill_null(0))
    return pl.select(pl.when(index.is_not_null() & (index < n)).then(got)).to_series()


def _mall(start: pl.Series, policy: DeadlineSettings, calendar: Calendar) -> pl.Series:
    """S19: the first shipping day on or after (start's day, or the next one after the cut-off)."""
    days = calendar.open_days(policy.shipping_weekdays)
    wanted = _day_by_cutoff(start, policy.mall_cutoff)
    found = _at(days, _positions(days, wanted))
    calendar.check(start.dt.date(), found)
    return found.cast(_US) + timedelta(microseconds=_us(policy.mall_ship_by))


def _working_hours(start: pl.Series, policy: DeadlineSettings, calendar: Calendar) -> pl.Series:
    """The working_hours policy: within_working_hours inside each working day's window."""
    return add_open_hours(start, policy.within_working_hours, policy.working_weekdays,
                          _us(policy.workday_start), _us(policy.workday_end), calendar)


def add_open_hours(start: pl.Series, hours: int, weekdays: tuple[int, ...] | list[int], begin_us: int,
                   end_us: int, calendar: Calendar) -> pl.Series:
    """`hours` counted only inside begin..end (microseconds after midnight; 0..86_400_000_000
    for the whole day) on open days: `weekdays` (1 = Monday) minus public holidays plus
    make-up working days. On a line that counts only each open day's window, end to end,
    a moment's place is (index of its open day) x window + time into the window; add the
    hours and map back. A deadline that lands exactly on a window's end stays on that day
    (18:00), not the next morning."""
    days = calendar.open_days(weekdays)
    window = end_us - begin_us
    day = start.dt.date()
    index = _positions(days, day)
    exact = _at(days, index) == day
    into = (start - day.cast(_US)).dt.total_microseconds()
    inside = pl.select(pl.when(exact).then((into - begin_us).clip(0, window)).otherwise(0)).to_series()
    target = index * window + inside + hours * 3_600_000_000
    last_day = (target - 1) // window
    found = _at(days, last_day)
    calendar.check(day, found)
    offset = target - last_day * window
    return (found.cast(_US).dt.epoch("us") + begin_us + offset).cast(_US)


def deadline_for(moment: datetime, policy: DeadlineSettings, calendar: Calendar | None = None,
                 payment_method: str = "online") -> datetime | None:
    """One order's ship-by time (for a person asking about one order; lists use ship_by)."""
    frame = pl.DataFrame({"paid_at": [moment], "payment_method": [payment_method],
                          "phone_confirmed_at": [moment if payment_method == "cod" else None]},
                         schema={"paid_at": _US, "payment_method": pl.String, "phone_confirmed_at": _US})
    return ship_by(frame, policy, calendar)[0]

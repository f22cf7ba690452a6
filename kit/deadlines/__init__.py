"""Ship-by deadlines: the shop's policy turns each order's payment time into `ship_by`, and
the lists staff work from (due today, overdue, at risk, refund-eligible, unconfirmed).

    >>> from kit import deadlines
    >>> deadlines.assign(shop)                       # ship_by for orders lacking it
    >>> deadlines.due_today(shop)                    # a polars frame, earliest first
    >>> deadlines.ship_by(frame, shop.config.deadlines, deadlines.calendar_for(shop.config.calendar))

The policy is `[deadlines] policy` in kit.toml (`shop.deadline_policy`, its old name,
still works): taobao (S1, 72 hours), tmall (S5b, 16:00 cut-off, same calendar day),
mall (S19, 17:00 cut-off, ship by 18:00 on the next shipping day, Sundays and public
holidays excluded) or working_hours (N working hours inside a working day). Holidays
and make-up working days (调休) come from chinese-calendar plus kit.toml's
`[calendar.YYYY]` tables; a year neither knows is refused, never guessed (S19).

Times are stored as the shop's naive local time (Asia/Shanghai, kit.clock), as in the
rest of the kit: China has one zone and no daylight saving, and the cut-offs are
written in local time. kit.deadlines.rules says how each policy reads its rule,
kit.deadlines.lists what each list holds.
"""

from kit.deadlines.calendar import Calendar, calendar_for
from kit.deadlines.lists import (
    BEFORE_HAND_OVER,
    BEFORE_PACKED,
    assign,
    at_risk,
    confirm_by,
    confirm_deadline,
    due_today,
    overdue,
    refund_eligible,
)
from kit.deadlines.rules import clock_start, deadline_for, ship_by
from kit.deadlines.settings import POLICIES, CalendarYear, DeadlineSettings

__all__ = [
    "BEFORE_HAND_OVER",
    "BEFORE_PACKED",
    "POLICIES",
    "Calendar",
    "CalendarYear",
    "DeadlineSettings",
    "assign",
    "at_risk",
    "calendar_for",
    "clock_start",
    "confirm_by",
    "confirm_deadline",
    "deadline_for",
    "due_today",
    "overdue",
    "refund_eligible",
    "ship_by",
]

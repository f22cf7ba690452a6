"""The shop's clock: local wall-clock time in the shop's time zone, stored without a zone.

China has had one time zone and no daylight saving since 1991, so a naive local time is
unambiguous, matches what platform exports contain, and is what cut-off rules (16:00,
17:00, 21:00) are written in. Times that arrive with a zone are converted on the way in.
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


def shop_zone() -> ZoneInfo:
    """The shop's time zone (KIT_TIMEZONE, else Asia/Shanghai)."""
    return ZoneInfo(os.environ.get("KIT_TIMEZONE") or DEFAULT_TIMEZONE)


def now() -> datetime:
    """The current local time of the shop, naive, to the microsecond."""
    return datetime.now(shop_zone()).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    """A zone-aware time as the shop's naive local time; naive times are taken as local."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(shop_zone()).replace(tzinfo=None)

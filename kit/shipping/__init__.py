"""Ship and confirm (S8, S9, S1b, S24c, S26b): hand packed parcels to the courier with their
tracking numbers, confirm them on the platform by 21:00 with the platform's batch file, tell
the buyers, and give every order due today that did not ship its reason and a phone call.

    >>> from kit import shipping
    >>> shipping.hand_over(shop, [{"shipment_id": 41, "tracking_no": "YT1234567890123"}])
    >>> shipping.awaiting_confirmation(shop)          # handed over, not confirmed, 21:00 deadline
    >>> done = shipping.confirm(shop)                 # confirm all, queue "shipped" notices
    >>> shipping.write_batch_file(shop, "发货.csv", shipping.confirmed_in(shop, done["batch_id"]))
    >>> shipping.unshipped(shop)                      # due today, not shipped, with reasons
    >>> shipping.record_reason(shop, ["1001"], "等待买家确认地址")
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import sqlalchemy as sa

from kit.deadlines.lists import confirm_deadline
from kit.permissions import require
from kit.shipping.confirm import (
    BATCH_HEADER,
    batch_file,
    carrier_names,
    confirm,
    confirmed_in,
    confirmed_rows,
    write_batch_file,
)
from kit.shipping.handover import HANDOVER_COLUMNS, assign_numbers, check_sender, hand_over, requests_frame
from kit.shipping.unshipped import UNSHIPPED_COLUMNS, call_list, record_reason, unshipped
from kit.shop import Shop
from kit.store import schema

__all__ = [
    "BATCH_HEADER",
    "HANDOVER_COLUMNS",
    "UNSHIPPED_COLUMNS",
    "assign_numbers",
    "awaiting_confirmation",
    "batch_file",
    "call_list",
    "carrier_names",
    "check_sender",
    "confirm",
    "confirmed_in",
    "confirmed_rows",
    "hand_over",
    "in_stage",
    "record_reason",
    "requests_frame",
    "unshipped",
    "write_batch_file",
]


def awaiting_confirmation(
    shop: Shop, day: date | None = None, *, now: datetime | None = None
) -> pl.DataFrame:
    """S9: shipments handed over and not yet confirmed on the platform, with the 21:00 deadline
    of their hand-over day (confirm_by) and whether it has passed (late)."""
    return confirm_deadline(shop, day, now)


def in_stage(shop: Shop, stage: str) -> int:
    """How many shipments are in `stage` now (one COUNT over the stage index)."""
    require(shop.actor, "read")
    sh = schema.shipments
    with shop.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(sh.c.stage == str(stage))).scalar_one())

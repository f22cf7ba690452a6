"""After the hand-over (S21, S4, S13): follow every parcel through its carrier's events, see
the parcels that need a person, and let the buyer's confirmation finish the trade.

    >>> from kit import tracking
    >>> tracking.pull(shop)                                  # ask the carriers that can track
    >>> tracking.import_events(shop, "圆通轨迹.csv", "yto")   # or a carrier's CSV export
    >>> tracking.alerts(shop)                                # not picked up, stuck, refused, …
    >>> tracking.parcels(shop, ["1001"])                     # each parcel's status
    >>> tracking.confirm_receipt(shop, ["1001"])             # the buyer confirmed: TRADE_FINISHED
    >>> tracking.mark_signed(shop, ["1002"])                 # COD delivered: TRADE_BUYER_SIGNED
    >>> tracking.auto_confirm(shop)                          # [tracking] auto_confirm_days after delivery

Events are stored once (same carrier, number, time and description), times as the shop's
local time; each shipment's tracking status is that of its latest event; see docs/tracking.md.
"""

from kit.tracking.alerts import ALERT_COLUMNS, ALERT_KINDS, alerts
from kit.tracking.follow import PULL_BATCH, events_frame, import_events, pull, record_events
from kit.tracking.parcels import FINAL
from kit.tracking.receipt import auto_confirm, confirm_receipt, mark_signed, parcels
from kit.tracking.words import EVENT_COLUMNS, HEADERS, STATUS_WORDS, read_csv

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_KINDS",
    "EVENT_COLUMNS",
    "FINAL",
    "HEADERS",
    "PULL_BATCH",
    "STATUS_WORDS",
    "alerts",
    "auto_confirm",
    "confirm_receipt",
    "events_frame",
    "import_events",
    "mark_signed",
    "parcels",
    "pull",
    "read_csv",
    "record_events",
]

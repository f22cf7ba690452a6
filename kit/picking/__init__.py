"""Pick waves and pick lists (S7, S12, S18, S23): allocated shipments are grouped into waves by
warehouse, carrier and ship-by day; each wave has a pick list sorted by shelf location then
SKU, with totals and the lines of each order. Starting a wave moves its shipments and their
orders to `picking` through kit.lifecycle. A shortage found on the shelf goes back to the
stock flow (S7): the shelf's level is corrected, the order's stock released and the order
backordered, so that the shortage list and the next allocation run see it.

    >>> from kit import picking
    >>> picking.plan(shop)                       # the waves allocated shipments would form
    >>> waves = picking.start_waves(shop)        # form them: shipments and orders → picking
    >>> picking.pick_list(shop, waves[0]["wave_id"]).totals
"""

from kit.picking.short import report_short
from kit.picking.waves import (
    NO_LOCATION,
    PLAN_COLUMNS,
    PickList,
    pick_list,
    plan,
    start_waves,
    wave_shipments,
    waves,
)

__all__ = [
    "NO_LOCATION",
    "PLAN_COLUMNS",
    "PickList",
    "pick_list",
    "plan",
    "report_short",
    "start_waves",
    "wave_shipments",
    "waves",
]

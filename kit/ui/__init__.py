"""Widgets and view models for notebooks and Voilà dashboards; no business rule lives here.

A dashboard is one or two cells::

    from kit.ui import status_dashboard
    status_dashboard()

View models (`traitlets.HasTraits`) call the Shop's services and hold what to show;
widgets take a view model and draw it. Every action runs through
`ShopModel.attempt()`, so errors reach the staff as sentences from the message
catalogue, never as tracebacks.
"""

from __future__ import annotations

import logging

from kit.ui.review_desk import ReviewDesk, ReviewDeskModel, review_desk
from kit.ui.session import ShopModel, describe_error, open_shop
from kit.ui.shipping_desk import ShippingDeskModel, shipping_desk
from kit.ui.shipping_view import ShippingDesk
from kit.ui.status import StatusBoard, StatusModel, status_dashboard
from kit.ui.stock_desk import StockDeskModel, stock_desk
from kit.ui.stock_view import StockDesk
from kit.ui.warehouse_desk import WarehouseDeskModel, warehouse_desk
from kit.ui.warehouse_view import WarehouseDesk
from kit.ui.widgets import KpiGroup, KpiTile, MessageArea

__all__ = [
    "KpiGroup",
    "KpiTile",
    "MessageArea",
    "ReviewDesk",
    "ReviewDeskModel",
    "ShippingDesk",
    "ShippingDeskModel",
    "ShopModel",
    "StatusBoard",
    "StatusModel",
    "StockDesk",
    "StockDeskModel",
    "WarehouseDesk",
    "WarehouseDeskModel",
    "describe_error",
    "open_shop",
    "review_desk",
    "shipping_desk",
    "status_dashboard",
    "stock_desk",
    "warehouse_desk",
]

# A library's logger stays silent until the application configures logging: in a kernel,
# Python's last-resort handler would print to stderr, which the page shows.
logging.getLogger("kit.ui").addHandler(logging.NullHandler())

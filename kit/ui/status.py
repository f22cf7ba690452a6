"""The status board: the shop's counts per trade status, fulfilment stage and shipment stage.

`StatusModel` holds what `Shop.status()` returns and the message to show; `StatusBoard`
draws it as KPI tiles with a refresh button and a message area. The building blocks
(`KpiTile`, `KpiGroup`, `MessageArea`) live in kit.ui.widgets for the other desks too.

CSS classes that browser tests rely on (contract of this page): `kit-status` (root),
`kit-kpi` (every tile), `kit-kpi-orders`, `kit-kpi-shipments`, `kit-kpi-stage-<stage>`,
`kit-kpi-trade-<TRADE_STATUS>`, `kit-kpi-shipment-<stage>`, `kit-kpi-value` (the number
inside a tile), `kit-message`, `kit-refresh`, `kit-updated`.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

import ipywidgets as widgets
from traitlets import Dict, Instance

from kit import clock
from kit.i18n import t
from kit.models import ShipmentStage, Stage, TradeStatus
from kit.shop import Shop
from kit.ui.session import ShopModel
from kit.ui.widgets import STYLE, DeskHeader, KpiGroup, KpiTile, MessageArea

__all__ = [
    "StatusBoard",
    "StatusModel",
    "status_dashboard",
]

class StatusModel(ShopModel):
    """What the status board shows: `Shop.status()` as last read, and when it was read."""

    counts = Dict(help="Shop.status() as last read")
    updated_at = Instance(datetime, allow_none=True, help="when the counts were read (shop time)")

    def refresh(self) -> bool:
        """Read the counts again; False (and a message) when that failed."""
        return self.attempt(self._read) is not None

    def _read(self) -> dict[str, Any]:
        counts = self.require_shop().status()
        self.counts = counts
        self.updated_at = clock.now()
        self.clear_message()
        return counts


class StatusBoard(widgets.VBox):
    """The status page: total orders, each stage and trade status, shipments, refresh, message."""

    def __init__(self, model: StatusModel) -> None:
        self.model = model
        style = widgets.HTML(STYLE, layout=widgets.Layout(display="none"))
        self.updated = widgets.HTML()
        self.updated.add_class("kit-updated")
        self.refresh_button = widgets.Button(description=t("ui.refresh"), icon="refresh",
                                             tooltip=t("ui.refresh_tooltip"))
        self.refresh_button.add_class("kit-refresh")
        self.refresh_button.on_click(model.callback(model.refresh))
        header = self.header = DeskHeader(t("ui.status_title"), [self.updated, self.refresh_button])
        self.title, self.subtitle = header.title, header.subtitle
        self.message = MessageArea(model)

        self.orders_tile = KpiTile(t("ui.total_orders"), "kit-kpi-orders")
        self.shipments_tile = KpiTile(t("ui.total_shipments"), "kit-kpi-shipments")
        totals = widgets.Box([self.orders_tile, self.shipments_tile])
        totals.add_class("kit-kpi-row")
        self.stages = KpiGroup(t("ui.by_stage"), "kit-kpi-stage",
                               {str(s): s.label for s in Stage})
        self.trade = KpiGroup(t("ui.by_trade_status"), "kit-kpi-trade",
                              {str(s): s.label for s in TradeStatus})
        self.shipments = KpiGroup(t("ui.by_shipment_stage"), "kit-kpi-shipment",
                                  {str(s): s.label for s in ShipmentStage})

        super().__init__([style, header, self.message, totals,
                          self.stages, self.trade, self.shipments])
        self.add_class("kit-status")
        model.observe(self._show_counts, names="counts")
        model.observe(self._show_updated, names="updated_at")
        model.observe(self._show_shop, names="shop")
        model.observe(self._show_busy, names="busy")
        self._show_counts()
        self._show_updated()
        self._show_shop()

    def _show_counts(self, _change: object = None) -> None:
        counts = self.model.counts
        if not counts:  # never read: dashes, not zeros that would look like an empty shop
            for tile in (self.orders_tile, self.shipments_tile):
                tile.number = None
            for group in (self.stages, self.trade, self.shipments):
                group.show(None)
            return
        self.orders_tile.number = int(counts.get("orders", 0))
        shipments = counts.get("shipments", {})
        self.shipments_tile.number = int(counts.get("shipments_total", 0))
        self.stages.show(counts.get("stage", {}))
        self.trade.show(counts.get("trade_status", {}))
        self.shipments.show(shipments)

    def _show_updated(self, _change: object = None) -> None:
        moment = self.model.updated_at
        text = (t("ui.updated_at", time=moment.strftime("%Y-%m-%d %H:%M:%S"))
                if moment else t("ui.not_updated"))
        self.updated.value = escape(text)

    def _show_shop(self, _change: object = None) -> None:
        self.header.show(self.model.shop)

    def _show_busy(self, _change: object = None) -> None:
        self.refresh_button.disabled = self.model.busy


def status_dashboard(shop: Shop | None = None) -> StatusBoard:
    """The status page for a dashboard cell: open the shop (unless given), read, draw."""
    model = StatusModel(shop)
    model.refresh()
    return StatusBoard(model)

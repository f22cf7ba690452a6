"""The stock desk's widgets: header with its buttons, tiles, the list switch and its tables,
the receipt form, the workbook download and the message area. They draw a
`StockDeskModel` (kit.ui.stock_desk) and call its methods; none decides anything.

CSS classes (stable, for browser tests): `kit-stock` (root), `kit-refresh`,
`kit-action-allocate`, `kit-action-notify`, `kit-action-export`, `kit-kpi-stock-<name>`
(skus, low, short, waiting, notices), `kit-stock-view`, `kit-stock-table-<view>` (levels,
low, shortages, waiting), `kit-form-receive` with `kit-receive-warehouse`,
`kit-receive-sku`, `kit-receive-quantity`, `kit-receive-reason`, `kit-receive-save`;
`kit-download`; `kit-confirm…` of kit.ui.review_forms.Confirmation; `kit-message`.
"""

from __future__ import annotations

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.desk_page import DeskPage
from kit.ui.parts import button, choice, desk_style, form, show, text_box
from kit.ui.stock_desk import VIEWS, StockDeskModel

__all__ = ["StockDesk"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TILES = ("skus", "low", "short", "waiting", "notices")
DESK_STYLE = desk_style("kit-stock", """
<style>
.kit-stock .kit-action-allocate { background: #2563eb; color: #fff; }
</style>
""")


class StockDesk(DeskPage):
    """The 库存 page: who acts, tiles, one list at a time, receipt form, download, messages."""

    def __init__(self, model: StockDeskModel) -> None:
        self.allocate_button = button(t("stock_desk.button_allocate"), "kit-action-allocate", "random")
        self.allocate_button.on_click(
            lambda _b: self.confirm.ask(t("stock_desk.ask_allocate"), lambda _r: model.allocate())
        )
        self.notify_button = button(t("stock_desk.button_notify"), "kit-action-notify", "envelope")
        self.notify_button.on_click(
            lambda _b: self.confirm.ask(t("stock_desk.ask_notify"), lambda _r: model.notify())
        )
        self.export_button = button(t("stock_desk.button_export"), "kit-action-export", "download")
        self.export_button.on_click(lambda _b: model.export())
        super().__init__(model, "stock_desk", "stock", DESK_STYLE, TILES, VIEWS,
                         [self.allocate_button, self.notify_button, self.export_button])
        self.receive_form = self._receive_form()
        self.children = [
            self.style_sheet,
            self.header,
            self.message,
            self.confirm,
            self.kpis,
            self.switch,
            *self.tables.values(),
            self.download,
            self.receive_form,
        ]
        model.observe(self._show_allowed, names=["allowed", "shop"])
        model.observe(self._show_download, names="workbook")
        model.observe(self._show_warehouses, names="warehouses")
        self._show_allowed()
        self._show_warehouses()

    def _receive_form(self) -> widgets.Box:
        self.warehouse = choice(t("stock_desk.col_warehouse"), "kit-receive-warehouse", "180px")
        self.sku = text_box(t("shortages.col_sku"), "kit-receive-sku", "160px")
        self.quantity = text_box(t("stock_desk.quantity"), "kit-receive-quantity", "90px")
        self.reason = text_box(t("stock_desk.reason"), "kit-receive-reason", "200px")
        save = button(t("stock_desk.button_receive"), "kit-receive-save", "plus")
        save.on_click(self._receive)
        return form("kit-form-receive", [self.warehouse, self.sku, self.quantity, self.reason, save],
                    t("stock_desk.receive_title"))

    def _receive(self, _button: object = None) -> None:
        if self.model.receive(
            self.warehouse.value or "", self.sku.value, self.quantity.value, self.reason.value
        ):
            self.sku.value = self.quantity.value = self.reason.value = ""

    def _show_allowed(self, _change: object = None) -> None:
        allowed = set(self.model.allowed)
        show(self.allocate_button, "run_allocation" in allowed)
        show(self.notify_button, "notify_buyers" in allowed)
        show(self.receive_form, "receive_stock" in allowed)
        show(self.export_button, "read" in allowed)
        self.header.show(self.model.shop)

    def _show_warehouses(self, _change: object = None) -> None:
        codes, chosen = list(self.model.warehouses), self.warehouse.value
        self.warehouse.options = codes
        # a new Dropdown selects nothing (the browser shows it blank): keep the choice, else the first
        self.warehouse.value = chosen if chosen in codes else (codes[0] if codes else None)

    def _show_download(self, _change: object = None) -> None:
        name = self.model.workbook_name
        self.download.show(self.model.workbook, name, XLSX, t("stock_desk.download", name=name))

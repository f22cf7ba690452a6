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

import base64
from html import escape

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.review_forms import Confirmation
from kit.ui.stock_desk import VIEWS, StockDeskModel
from kit.ui.table import OrderTable
from kit.ui.widgets import STYLE, DeskHeader, KpiGroup, MessageArea

__all__ = ["StockDesk"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DESK_STYLE = (
    STYLE.replace(".kit-status", ".kit-stock")
    + """
<style>
.kit-stock .kit-form { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; margin: 6px 0;
  background: #fafafa; flex-flow: row wrap; align-items: center; }
.kit-stock .kit-form .widget-button { width: auto; min-width: 72px; margin-left: 6px; }
.kit-stock .kit-header .widget-button { width: auto; min-width: 84px; margin-left: 6px; }
.kit-stock .kit-action-allocate { background: #2563eb; color: #fff; }
.kit-stock .kit-confirm { align-items: center; background: #fffbeb; border: 1px solid #fcd34d;
  border-radius: 6px; padding: 6px 10px; margin: 4px 0; }
.kit-stock .kit-confirm .widget-button { width: auto; min-width: 72px; margin-left: 6px; }
.kit-stock .kit-download a { font-size: 14px; color: #1d4ed8; }
.kit-stock .kit-table-count { font-size: 13px; color: #4b5563; margin: 0 10px; }
.kit-stock .kit-table-pager .widget-button { width: auto; min-width: 72px; }
</style>
"""
)


def _button(label: str, css: str, icon: str = "") -> widgets.Button:
    button = widgets.Button(description=label, icon=icon)
    button.add_class(css)
    return button


class StockDesk(widgets.VBox):
    """The 库存 page: who acts, tiles, one list at a time, receipt form, download, messages."""

    def __init__(self, model: StockDeskModel) -> None:
        self.model = model
        style = widgets.HTML(DESK_STYLE, layout=widgets.Layout(display="none"))
        self.refresh_button = _button(t("ui.refresh"), "kit-refresh", "refresh")
        self.refresh_button.on_click(model.callback(model.refresh))
        self.allocate_button = _button(t("stock_desk.button_allocate"), "kit-action-allocate", "random")
        self.allocate_button.on_click(
            lambda _b: self.confirm.ask(t("stock_desk.ask_allocate"), lambda _r: model.allocate())
        )
        self.notify_button = _button(t("stock_desk.button_notify"), "kit-action-notify", "envelope")
        self.notify_button.on_click(
            lambda _b: self.confirm.ask(t("stock_desk.ask_notify"), lambda _r: model.notify())
        )
        self.export_button = _button(t("stock_desk.button_export"), "kit-action-export", "download")
        self.export_button.on_click(lambda _b: model.export())
        self.header = DeskHeader(
            t("stock_desk.title"),
            [self.refresh_button, self.allocate_button, self.notify_button, self.export_button],
        )
        self.confirm = Confirmation()
        self.message = MessageArea(model)
        self.kpis = KpiGroup(
            t("stock_desk.kpis"),
            "kit-kpi-stock",
            {k: t(f"stock_desk.kpi_{k}") for k in ("skus", "low", "short", "waiting", "notices")},
        )
        self.switch = widgets.ToggleButtons(
            options=[(t(f"stock_desk.view_{v}"), v) for v in VIEWS], value=model.view
        )
        self.switch.add_class("kit-stock-view")
        self.switch.observe(self._switched, names="value")
        self.tables = {}
        for view in VIEWS:
            table = OrderTable(model.tables[view], placeholder=t("stock_desk.search"), texts="stock_desk")
            table.add_class(f"kit-stock-table-{view}")
            self.tables[view] = table
        self.download = widgets.HTML()
        self.download.add_class("kit-download")
        self.receive_form = self._receive_form()
        super().__init__(
            [
                style,
                self.header,
                self.message,
                self.confirm,
                self.kpis,
                self.switch,
                *self.tables.values(),
                self.download,
                self.receive_form,
            ]
        )
        self.add_class("kit-stock")
        model.observe(self._show_counts, names="counts")
        model.observe(self._show_allowed, names=["allowed", "shop"])
        model.observe(self._show_view, names="view")
        model.observe(self._show_download, names="workbook")
        model.observe(self._show_warehouses, names="warehouses")
        self._show_counts()
        self._show_allowed()
        self._show_view()
        self._show_warehouses()

    def _receive_form(self) -> widgets.Box:
        self.warehouse = widgets.Dropdown(
            description=t("stock_desk.col_warehouse"), layout=widgets.Layout(width="180px")
        )
        self.warehouse.add_class("kit-receive-warehouse")
        self.sku = widgets.Text(placeholder=t("shortages.col_sku"), layout=widgets.Layout(width="160px"))
        self.sku.add_class("kit-receive-sku")
        self.quantity = widgets.Text(
            placeholder=t("stock_desk.quantity"), layout=widgets.Layout(width="90px")
        )
        self.quantity.add_class("kit-receive-quantity")
        self.reason = widgets.Text(placeholder=t("stock_desk.reason"), layout=widgets.Layout(width="200px"))
        self.reason.add_class("kit-receive-reason")
        save = _button(t("stock_desk.button_receive"), "kit-receive-save", "plus")
        save.on_click(self._receive)
        title = widgets.HTML(f"<b>{escape(t('stock_desk.receive_title'))}</b>")
        form = widgets.HBox([title, self.warehouse, self.sku, self.quantity, self.reason, save])
        form.add_class("kit-form")
        form.add_class("kit-form-receive")
        return form

    def _receive(self, _button: object = None) -> None:
        if self.model.receive(
            self.warehouse.value or "", self.sku.value, self.quantity.value, self.reason.value
        ):
            self.sku.value = self.quantity.value = self.reason.value = ""

    def _switched(self, change: dict) -> None:
        self.model.view = change["new"]

    def _show_view(self, _change: object = None) -> None:
        self.switch.value = self.model.view
        for view, table in self.tables.items():
            table.layout.display = None if view == self.model.view else "none"

    def _show_counts(self, _change: object = None) -> None:
        self.kpis.show(self.model.counts or None)

    def _show_allowed(self, _change: object = None) -> None:
        allowed = set(self.model.allowed)
        for name, button in (("run_allocation", self.allocate_button), ("notify_buyers", self.notify_button)):
            button.layout.display = None if name in allowed else "none"
        self.receive_form.layout.display = None if "receive_stock" in allowed else "none"
        self.header.show(self.model.shop)

    def _show_warehouses(self, _change: object = None) -> None:
        codes, chosen = list(self.model.warehouses), self.warehouse.value
        self.warehouse.options = codes
        # a new Dropdown selects nothing (the browser shows it blank): keep the choice, else the first
        self.warehouse.value = chosen if chosen in codes else (codes[0] if codes else None)

    def _show_download(self, _change: object = None) -> None:
        data = self.model.workbook
        if not data:
            self.download.value = ""
            return
        encoded = base64.b64encode(data).decode("ascii")
        name = escape(self.model.workbook_name)
        self.download.value = (
            f'<a download="{name}" href="data:{XLSX};base64,{encoded}">'
            f"{escape(t('stock_desk.download', name=self.model.workbook_name))}</a>"
        )

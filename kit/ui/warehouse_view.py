"""The warehouse desk's widgets: header, tiles, the wave form, the switchable lists, the wave
row with its PDFs, the packing station with the short-pick form (kit.ui.packing_view), the PDF
download and the message area. They draw a `WarehouseDeskModel` (kit.ui.warehouse_desk) and
call its methods; none decides anything.

CSS classes (stable, for browser tests): `kit-warehouse` (root), `kit-refresh`,
`kit-kpi-warehouse-<name>` (to_wave, waves, picking, packed_today), `kit-form-waves` with
`kit-waves-warehouse`, `kit-waves-max`, `kit-action-waves`; `kit-warehouse-view`,
`kit-warehouse-table-<view>` (plan, waves, register, shipments); `kit-wave-choice`,
`kit-print-picklist`, `kit-print-wave`; `kit-pack` (the packing station) and `kit-form-short`
with theirs, listed in kit.ui.packing_view; `kit-download` (an `<a download>` with a
data:application/pdf URI); `kit-confirm…` of kit.ui.review_forms.Confirmation; `kit-message`.
"""

from __future__ import annotations

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.desk_page import DeskPage
from kit.ui.packing_view import PACK_STYLE, PackingStation, sheet_html
from kit.ui.parts import Choices, button, choice, desk_style, form, section, show, text_box
from kit.ui.warehouse_desk import VIEWS, WarehouseDeskModel

__all__ = ["PDF", "WarehouseDesk", "sheet_html"]

PDF = "application/pdf"
TILES = ("to_wave", "waves", "picking", "packed_today")
DESK_STYLE = desk_style("kit-warehouse", """
<style>
.kit-warehouse .kit-action-waves { background: #2563eb; color: #fff; }
</style>
""" + PACK_STYLE)


class WarehouseDesk(DeskPage):
    """The 仓库作业 page: waves and pick lists, the packing station, short picks, downloads."""

    def __init__(self, model: WarehouseDeskModel) -> None:
        super().__init__(model, "warehouse_desk", "warehouse", DESK_STYLE, TILES, VIEWS)
        self.wave_form = self._wave_form()
        self.wave_row = self._wave_row()
        self.station = PackingStation(model, self.confirm)
        self.tables["shipments"] = self.station.table
        for name in PackingStation.PARTS:  # the station's parts, as the desk's own attributes
            setattr(self, name, getattr(self.station, name))
        self.children = [
            self.style_sheet, self.header, self.message, self.confirm, self.download, self.kpis,
            section(t("warehouse_desk.waves_title")), self.wave_form, self.switch,
            *self.lists.tables.values(), self.wave_row,
            section(t("warehouse_desk.pack_title")), self.station, self.station.short_form,
        ]
        model.observe(self._show_allowed, names=["allowed", "shop"])
        model.observe(self._show_download, names=["document", "document_name"])
        model.observe(self._show_warehouses, names="warehouses")
        model.observe(self._show_waves, names=["wave_choices", "wave_id"])
        self._show_warehouses()
        self._show_waves()
        self._show_allowed()

    # --- building --------------------------------------------------------------------------

    def _wave_form(self) -> widgets.Box:
        self.warehouse = choice(t("warehouse_desk.col_warehouse"), "kit-waves-warehouse", "220px")
        self.max_shipments = text_box(t("warehouse_desk.max_shipments"), "kit-waves-max", "90px", value="200",
                                      description=t("warehouse_desk.max_shipments"))
        self.max_shipments.layout.width = "190px"
        self.waves_button = button(t("warehouse_desk.button_waves"), "kit-action-waves", "list-ol")
        self.waves_button.on_click(self._ask_waves)
        return form("kit-form-waves", [self.warehouse, self.max_shipments, self.waves_button])

    def _wave_row(self) -> widgets.Box:
        self.wave_choice = Choices(t("warehouse_desk.wave_choice"), "kit-wave-choice", "520px",
                                   self._wave_picked)
        self.picklist_button = button(t("warehouse_desk.button_picklist"), "kit-print-picklist", "file")
        self.picklist_button.on_click(lambda _b: self.model.print_pick_list())
        self.wave_docs_button = button(t("warehouse_desk.button_wave_documents"), "kit-print-wave", "print")
        self.wave_docs_button.on_click(lambda _b: self.model.print_wave())
        return form("kit-wave-row", [self.wave_choice, self.picklist_button, self.wave_docs_button])

    # --- actions ---------------------------------------------------------------------------

    def _ask_waves(self, _button: object = None) -> None:
        warehouse = self.warehouse.value or ""
        scope = (t("warehouse_desk.scope_one", warehouse=warehouse) if warehouse
                 else t("warehouse_desk.scope_all"))
        self.confirm.ask(t("warehouse_desk.ask_waves", scope=scope, max=self.max_shipments.value.strip()),
                         lambda _r: self.model.form_waves(warehouse or None, self.max_shipments.value))

    def _wave_picked(self, wave_id: int) -> None:
        if wave_id != self.model.wave_id:
            self.model.wave_id = wave_id

    # --- drawing ---------------------------------------------------------------------------

    def _show_allowed(self, _change: object = None) -> None:
        allowed = set(self.model.allowed)
        show(self.wave_form, "plan_waves" in allowed)
        show(self.picklist_button, "print_documents" in allowed)
        show(self.wave_docs_button, "print_documents" in allowed)
        self.header.show(self.model.shop)

    def _show_warehouses(self, _change: object = None) -> None:
        chosen = self.warehouse.value
        options = [(t("warehouse_desk.all_warehouses"), ""), *[(c, c) for c in self.model.warehouses]]
        self.warehouse.options = options
        self.warehouse.value = chosen if chosen in [v for _, v in options] else ""

    def _show_waves(self, _change: object = None) -> None:
        self.wave_choice.offer(self.model.wave_choices, self.model.wave_id)
        self.picklist_button.disabled = self.wave_docs_button.disabled = self.model.wave_id is None

    def _show_download(self, _change: object = None) -> None:
        name = self.model.document_name
        self.download.show(self.model.document, name, PDF, t("warehouse_desk.download", name=name))

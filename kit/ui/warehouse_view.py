"""The warehouse desk's widgets: header, tiles, the wave form, the switchable lists, the wave
row with its PDFs, the packing station (scan field, packing sheet, check, weight, print
buttons), the short-pick form, the PDF download and the message area. They draw a
`WarehouseDeskModel` (kit.ui.warehouse_desk) and call its methods; none decides anything.

CSS classes (stable, for browser tests): `kit-warehouse` (root), `kit-refresh`,
`kit-kpi-warehouse-<name>` (to_wave, waves, picking, packed_today), `kit-form-waves` with
`kit-waves-warehouse`, `kit-waves-max`, `kit-action-waves`; `kit-warehouse-view`,
`kit-warehouse-table-<view>` (plan, waves, register, shipments); `kit-wave-choice`,
`kit-print-picklist`, `kit-print-wave`; `kit-pack` (the packing station) with
`kit-pack-shipment`, `kit-scan` (a keyboard-wedge scanner types into it and presses Enter),
`kit-pack-sheet` (inside: `kit-pack-present`, `kit-pack-guides`, `kit-pack-items`),
`kit-pack-check` (`kit-check-ok` / `kit-check-differ`), `kit-scan-undo`, `kit-scan-clear`,
`kit-form-pack` with `kit-pack-weight`, `kit-action-pack`, `kit-action-accept-weight`;
`kit-form-print` with `kit-pack-tracking`, `kit-action-assign`, `kit-print-label`,
`kit-print-note`, `kit-print-warranty`; `kit-form-short` with `kit-short-sku`,
`kit-short-found`, `kit-short-reason`, `kit-short-save`; `kit-download` (an `<a download>`
with a data:application/pdf URI); `kit-confirm…` of kit.ui.review_forms.Confirmation;
`kit-message`.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.review_forms import Confirmation
from kit.ui.table import OrderTable
from kit.ui.warehouse_desk import VIEWS, WarehouseDeskModel
from kit.ui.widgets import STYLE, DeskHeader, KpiGroup, MessageArea

__all__ = ["PDF", "WarehouseDesk"]

PDF = "application/pdf"
TILES = ("to_wave", "waves", "picking", "packed_today")
DESK_STYLE = (
    STYLE.replace(".kit-status", ".kit-warehouse")
    + """
<style>
.kit-warehouse .kit-form { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; margin: 6px 0;
  background: #fafafa; flex-flow: row wrap; align-items: center; }
.kit-warehouse .kit-form .widget-button { width: auto; min-width: 72px; margin-left: 6px; }
.kit-warehouse .kit-header .widget-button { width: auto; min-width: 84px; margin-left: 6px; }
.kit-warehouse .kit-action-waves, .kit-warehouse .kit-action-pack { background: #2563eb; color: #fff; }
.kit-warehouse .kit-action-accept-weight { background: #d97706; color: #fff; }
.kit-warehouse .kit-confirm { align-items: center; background: #fffbeb; border: 1px solid #fcd34d;
  border-radius: 6px; padding: 6px 10px; margin: 4px 0; }
.kit-warehouse .kit-confirm .widget-button { width: auto; min-width: 72px; margin-left: 6px; }
.kit-warehouse .kit-download a { font-size: 14px; color: #1d4ed8; }
.kit-warehouse .kit-table-count { font-size: 13px; color: #4b5563; margin: 0 10px; }
.kit-warehouse .kit-table-pager .widget-button { width: auto; min-width: 72px; }
.kit-warehouse .kit-pack { border: 1px solid #c7d2fe; border-radius: 8px; padding: 8px 12px;
  background: #f8faff; margin: 6px 0; }
.kit-warehouse .kit-scan input { font-size: 16px; border: 2px solid #2563eb; }
.kit-warehouse .widget-html.kit-pack-sheet, .kit-warehouse .widget-html.kit-pack-check { height: auto; }
.kit-warehouse .kit-pack-sheet .widget-html-content,
.kit-warehouse .kit-pack-check .widget-html-content { line-height: 1.5; }
.kit-warehouse .kit-sheet-head { font-size: 15px; font-weight: 600; }
.kit-warehouse .kit-sheet-line { font-size: 13px; color: #374151; }
.kit-warehouse .kit-pack-present { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca;
  border-radius: 6px; padding: 4px 8px; margin: 4px 0; font-weight: 600; }
.kit-warehouse .kit-pack-guides { background: #fffbeb; border: 1px solid #fcd34d; border-radius: 6px;
  padding: 4px 8px; margin: 4px 0; font-size: 13px; }
.kit-warehouse table.kit-pack-items { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
.kit-warehouse table.kit-pack-items th, .kit-warehouse table.kit-pack-items td {
  border: 1px solid #e5e7eb; padding: 2px 8px; text-align: left; }
.kit-warehouse table.kit-pack-items th { background: #f3f4f6; }
.kit-warehouse tr.kit-line-ok td { background: #ecfdf5; }
.kit-warehouse tr.kit-line-differ td { background: #fef2f2; }
.kit-warehouse .kit-check-ok .widget-html-content { color: #065f46; font-weight: 600; }
.kit-warehouse .kit-check-differ .widget-html-content { color: #991b1b; font-weight: 600; }
</style>
"""
)


def _button(label: str, css: str, icon: str = "") -> widgets.Button:
    button = widgets.Button(description=label, icon=icon)
    button.add_class(css)
    return button


def _text(placeholder: str, css: str, width: str, **kwargs: Any) -> widgets.Text:
    box = widgets.Text(placeholder=placeholder, layout=widgets.Layout(width=width), **kwargs)
    box.add_class(css)
    return box


def _show(widget: widgets.Widget, shown: bool) -> None:
    widget.layout.display = None if shown else "none"


def _form(css: str, children: list[widgets.Widget], title: str | None = None) -> widgets.Box:
    heading = [widgets.HTML(f"<b>{escape(title)}</b>")] if title else []
    form = widgets.HBox([*heading, *children])
    form.add_class("kit-form")
    form.add_class(css)
    return form


def _section(title: str) -> widgets.HTML:
    return widgets.HTML(f'<div class="kit-section-title">{escape(title)}</div>')


class WarehouseDesk(widgets.VBox):
    """The 仓库作业 page: waves and pick lists, the packing station, short picks, downloads."""

    def __init__(self, model: WarehouseDeskModel) -> None:
        self.model = model
        self._syncing = False
        style = widgets.HTML(DESK_STYLE, layout=widgets.Layout(display="none"))
        self.refresh_button = _button(t("ui.refresh"), "kit-refresh", "refresh")
        self.refresh_button.on_click(model.callback(model.refresh))
        self.header = DeskHeader(t("warehouse_desk.title"), [self.refresh_button])
        self.message = MessageArea(model)
        self.confirm = Confirmation()
        self.download = widgets.HTML()
        self.download.add_class("kit-download")
        self.kpis = KpiGroup(t("warehouse_desk.kpis"), "kit-kpi-warehouse",
                             {k: t(f"warehouse_desk.kpi_{k}") for k in TILES})
        self.wave_form = self._wave_form()
        self.switch = widgets.ToggleButtons(
            options=[(t(f"warehouse_desk.view_{v}"), v) for v in VIEWS], value=model.view)
        self.switch.add_class("kit-warehouse-view")
        self.switch.observe(self._switched, names="value")
        self.tables = {}
        for view in (*VIEWS, "shipments"):
            table = OrderTable(model.tables[view], placeholder=t("warehouse_desk.search"),
                               texts="warehouse_desk")
            table.add_class(f"kit-warehouse-table-{view}")
            self.tables[view] = table
        self.wave_row = self._wave_row()
        self.station = self._station()
        self.short_form = self._short_form()
        super().__init__([
            style, self.header, self.message, self.confirm, self.download, self.kpis,
            _section(t("warehouse_desk.waves_title")), self.wave_form, self.switch,
            *(self.tables[v] for v in VIEWS), self.wave_row,
            _section(t("warehouse_desk.pack_title")), self.station, self.short_form,
        ])
        self.add_class("kit-warehouse")
        model.observe(self._show_counts, names="counts")
        model.observe(self._show_allowed, names=["allowed", "shop"])
        model.observe(self._show_view, names="view")
        model.observe(self._show_download, names=["document", "document_name"])
        model.observe(self._show_warehouses, names="warehouses")
        model.observe(self._show_waves, names=["wave_choices", "wave_id"])
        model.observe(self._show_shipments, names=["shipment_choices", "shipment_id"])
        model.observe(self._show_sheet, names=["sheet", "scans", "differences"])
        model.observe(self._show_accept, names="needs_accept")
        model.tables["shipments"].observe(self._row_picked, names="selected")
        self._show_counts()
        self._show_view()
        self._show_warehouses()
        self._show_waves()
        self._show_shipments()
        self._show_sheet()
        self._show_accept()
        self._show_allowed()

    # --- building --------------------------------------------------------------------------

    def _wave_form(self) -> widgets.Box:
        self.warehouse = widgets.Dropdown(description=t("warehouse_desk.col_warehouse"),
                                          layout=widgets.Layout(width="220px"))
        self.warehouse.add_class("kit-waves-warehouse")
        self.max_shipments = _text(t("warehouse_desk.max_shipments"), "kit-waves-max", "90px", value="200",
                                   description=t("warehouse_desk.max_shipments"))
        self.max_shipments.layout.width = "190px"
        self.waves_button = _button(t("warehouse_desk.button_waves"), "kit-action-waves", "list-ol")
        self.waves_button.on_click(self._ask_waves)
        return _form("kit-form-waves", [self.warehouse, self.max_shipments, self.waves_button])

    def _wave_row(self) -> widgets.Box:
        self.wave_choice = widgets.Dropdown(description=t("warehouse_desk.wave_choice"),
                                            layout=widgets.Layout(width="520px"))
        self.wave_choice.add_class("kit-wave-choice")
        self.wave_choice.observe(self._wave_picked, names="value")
        self.picklist_button = _button(t("warehouse_desk.button_picklist"), "kit-print-picklist", "file")
        self.picklist_button.on_click(lambda _b: self.model.print_pick_list())
        self.wave_docs_button = _button(t("warehouse_desk.button_wave_documents"), "kit-print-wave", "print")
        self.wave_docs_button.on_click(lambda _b: self.model.print_wave())
        return _form("kit-wave-row", [self.wave_choice, self.picklist_button, self.wave_docs_button])

    def _station(self) -> widgets.Box:
        model = self.model
        self.shipment_choice = widgets.Dropdown(description=t("warehouse_desk.shipment_choice"),
                                                layout=widgets.Layout(width="480px"))
        self.shipment_choice.add_class("kit-pack-shipment")
        self.shipment_choice.observe(self._shipment_picked, names="value")
        self.scan = _text(t("warehouse_desk.scan_placeholder"), "kit-scan", "460px", continuous_update=False)
        self.scan.observe(self._scanned, names="value")
        self.sheet = widgets.HTML()
        self.sheet.add_class("kit-pack-sheet")
        self.check = widgets.HTML()
        self.check.add_class("kit-pack-check")
        self.undo_button = _button(t("warehouse_desk.button_undo"), "kit-scan-undo", "undo")
        self.undo_button.on_click(lambda _b: model.undo_scan())
        self.clear_button = _button(t("warehouse_desk.button_clear"), "kit-scan-clear", "eraser")
        self.clear_button.on_click(lambda _b: model.clear_scans())
        self.scan_row = widgets.HBox([self.scan, self.undo_button, self.clear_button])
        self.scan_row.add_class("kit-scan-row")
        self.weight = _text(t("warehouse_desk.weight_placeholder"), "kit-pack-weight", "160px",
                            continuous_update=False)
        self.weight.observe(self._weighed, names="value")
        self.pack_button = _button(t("warehouse_desk.button_pack"), "kit-action-pack", "archive")
        self.pack_button.on_click(lambda _b: self._pack(accept_weight=False))
        self.accept_button = _button(t("warehouse_desk.button_accept"), "kit-action-accept-weight", "check")
        self.accept_button.on_click(lambda _b: self._pack(accept_weight=True))
        self.pack_form = _form("kit-form-pack", [self.weight, self.pack_button, self.accept_button],
                               t("warehouse_desk.weigh_title"))
        self.tracking = _text(t("warehouse_desk.tracking_placeholder"), "kit-pack-tracking", "220px",
                              continuous_update=False)
        self.tracking.observe(self._tracking_scanned, names="value")
        self.assign_button = _button(t("warehouse_desk.button_assign"), "kit-action-assign", "barcode")
        self.assign_button.on_click(self._assign_clicked)
        self.label_button = _button(t("warehouse_desk.button_label"), "kit-print-label", "print")
        self.label_button.on_click(lambda _b: model.print_label())
        self.note_button = _button(t("warehouse_desk.button_note"), "kit-print-note", "print")
        self.note_button.on_click(lambda _b: model.print_note())
        self.warranty_button = _button(t("warehouse_desk.button_warranty"), "kit-print-warranty", "print")
        self.warranty_button.on_click(lambda _b: model.print_warranty())
        self.print_form = _form("kit-form-print", [self.tracking, self.assign_button, self.label_button,
                                                   self.note_button, self.warranty_button],
                                t("warehouse_desk.print_title"))
        station = widgets.VBox([self.tables["shipments"], self.shipment_choice, self.scan_row, self.sheet,
                                self.check, self.pack_form, self.print_form])
        station.add_class("kit-pack")
        return station

    def _short_form(self) -> widgets.Box:
        self.short_sku = widgets.Dropdown(description=t("warehouse_desk.col_sku"),
                                          layout=widgets.Layout(width="240px"))
        self.short_sku.add_class("kit-short-sku")
        self.short_found = _text(t("warehouse_desk.short_found"), "kit-short-found", "100px")
        self.short_reason = _text(t("warehouse_desk.short_reason"), "kit-short-reason", "220px")
        save = _button(t("warehouse_desk.button_short"), "kit-short-save", "exclamation-triangle")
        save.on_click(self._ask_short)
        return _form("kit-form-short", [self.short_sku, self.short_found, self.short_reason, save],
                     t("warehouse_desk.short_title"))

    # --- actions ---------------------------------------------------------------------------

    def _ask_waves(self, _button: object = None) -> None:
        warehouse = self.warehouse.value or ""
        scope = (t("warehouse_desk.scope_one", warehouse=warehouse) if warehouse
                 else t("warehouse_desk.scope_all"))
        self.confirm.ask(t("warehouse_desk.ask_waves", scope=scope, max=self.max_shipments.value.strip()),
                         lambda _r: self.model.form_waves(warehouse or None, self.max_shipments.value))

    def _ask_short(self, _button: object = None) -> None:
        model, sku, found = self.model, self.short_sku.value, self.short_found.value
        if model.shipment_id is None or not sku:
            model.report_short(sku, found, self.short_reason.value)  # says what is missing
            return
        self.confirm.ask(
            t("warehouse_desk.ask_short", shipment_id=model.shipment_id, sku=sku, found=found.strip()),
            lambda _r: self._report_short(sku, found))

    def _report_short(self, sku: str, found: str) -> None:
        if self.model.report_short(sku, found, self.short_reason.value):
            self.short_found.value = self.short_reason.value = ""

    def _assign(self) -> None:
        if self.model.assign_number(self.tracking.value):
            self.tracking.value = ""

    def _pack(self, *, accept_weight: bool) -> None:
        if self.model.pack(self.weight.value, accept_weight=accept_weight):
            self.weight.value = ""  # the next parcel is weighed anew

    def _assign_clicked(self, _button: object = None) -> None:
        # Leaving the field sends its value first, which assigns it (see _tracking_scanned):
        # the click then has nothing left to do, unless nothing was typed at all.
        if self.tracking.value.strip() or not self.model.sheet.get("tracking_no"):
            self._assign()

    def _scanned(self, change: dict) -> None:
        code = change["new"]
        if not code:
            return
        self.model.scan(code)
        self.scan.value = ""  # ready for the next scan

    def _tracking_scanned(self, change: dict) -> None:
        if change["new"].strip():
            self._assign()

    def _weighed(self, _change: dict) -> None:
        self.model.needs_accept = False  # a new weight is checked again by the next pack

    def _switched(self, change: dict) -> None:
        self.model.view = change["new"]

    def _wave_picked(self, change: dict) -> None:
        if not self._syncing and change["new"] is not None and change["new"] != self.model.wave_id:
            self.model.wave_id = change["new"]

    def _shipment_picked(self, change: dict) -> None:
        if not self._syncing and change["new"] is not None and change["new"] != self.model.shipment_id:
            self.model.open_shipment(change["new"])

    def _row_picked(self, change: dict) -> None:
        picked = change["new"]
        if picked and int(picked[0]) != self.model.shipment_id:
            self.model.open_shipment(int(picked[0]))

    # --- drawing ---------------------------------------------------------------------------

    def _show_view(self, _change: object = None) -> None:
        self.switch.value = self.model.view
        for view in VIEWS:
            _show(self.tables[view], view == self.model.view)

    def _show_counts(self, _change: object = None) -> None:
        self.kpis.show(self.model.counts or None)

    def _show_allowed(self, _change: object = None) -> None:
        allowed = set(self.model.allowed)
        _show(self.wave_form, "plan_waves" in allowed)
        _show(self.scan_row, "pack" in allowed)
        _show(self.pack_form, "pack" in allowed)
        _show(self.print_form, "print_documents" in allowed)
        _show(self.picklist_button, "print_documents" in allowed)
        _show(self.wave_docs_button, "print_documents" in allowed)
        _show(self.short_form, "report_short_pick" in allowed)
        self.header.show(self.model.shop)

    def _show_warehouses(self, _change: object = None) -> None:
        chosen = self.warehouse.value
        options = [(t("warehouse_desk.all_warehouses"), ""), *[(c, c) for c in self.model.warehouses]]
        self.warehouse.options = options
        self.warehouse.value = chosen if chosen in [v for _, v in options] else ""

    def _show_waves(self, _change: object = None) -> None:
        self._syncing = True
        try:
            self.wave_choice.options = list(self.model.wave_choices)
            ids = [w for _, w in self.model.wave_choices]
            self.wave_choice.value = self.model.wave_id if self.model.wave_id in ids else None
        finally:
            self._syncing = False
        self.picklist_button.disabled = self.wave_docs_button.disabled = self.model.wave_id is None

    def _show_shipments(self, _change: object = None) -> None:
        self._syncing = True
        try:
            self.shipment_choice.options = list(self.model.shipment_choices)
            ids = [s for _, s in self.model.shipment_choices]
            self.shipment_choice.value = self.model.shipment_id if self.model.shipment_id in ids else None
        finally:
            self._syncing = False
        opened = self.model.shipment_id is not None
        for button in (self.pack_button, self.assign_button, self.label_button, self.note_button,
                       self.warranty_button, self.undo_button, self.clear_button):
            button.disabled = not opened

    def _show_accept(self, _change: object = None) -> None:
        _show(self.accept_button, self.model.needs_accept)

    def _show_download(self, _change: object = None) -> None:
        data, name = self.model.document, self.model.document_name
        if not data:
            self.download.value = ""
            return
        encoded = base64.b64encode(data).decode("ascii")
        self.download.value = (f'<a download="{escape(name)}" href="data:{PDF};base64,{encoded}">'
                               f"{escape(t('warehouse_desk.download', name=name))}</a>")

    def _show_sheet(self, _change: object = None) -> None:
        sheet = self.model.sheet
        if not sheet:
            self.sheet.value = f"<div class='kit-sheet-line'>{escape(t('warehouse_desk.no_shipment'))}</div>"
            self.check.value = ""
            self.short_sku.options = []
            return
        self.sheet.value = sheet_html(sheet, self.model.scanned_units(), self.model.differences)
        skus = list(dict.fromkeys(str(r["sku"]) for r in sheet["items"]))
        chosen = self.short_sku.value
        self.short_sku.options = skus
        self.short_sku.value = chosen if chosen in skus else (skus[0] if skus else None)
        self.weight.placeholder = t("warehouse_desk.weight_expected", expected_g=sheet.get("expected_g", 0))
        self._show_check()

    def _show_check(self) -> None:
        sheet, diffs = self.model.sheet, self.model.differences
        units = sum(int(r["quantity"]) for r in sheet["items"])
        if sheet.get("stage") != "picking":
            text, ok = t("warehouse_desk.check_closed", stage=sheet.get("stage_label", "")), None
        elif not diffs:
            text, ok = t("warehouse_desk.check_ok", units=units), True
        elif not self.model.scans:
            text, ok = t("warehouse_desk.check_waiting", units=units), None
        else:
            text = t("warehouse_desk.check_differ",
                     differences="；".join(t(f"packing.diff_{d['kind']}", **d) for d in diffs))
            ok = False
        self.check.value = f'<div role="status">{escape(text)}</div>'
        for css, on in (("kit-check-ok", ok is True), ("kit-check-differ", ok is False)):
            if on:
                self.check.add_class(css)
            else:
                self.check.remove_class(css)


def _row(cells: list[Any], css: str, sku: str) -> str:
    tds = "".join(f"<td>{escape(str(c))}</td>" for c in cells)
    return f"<tr class='kit-pack-line {css}' data-sku='{escape(sku)}'>{tds}</tr>"


def _line(css: str, text: str) -> str:
    return f"<div class='{css}'>{escape(text)}</div>"


def sheet_html(sheet: dict[str, Any], scanned: dict[str, int], diffs: list[dict[str, Any]]) -> str:
    """The packing sheet of one parcel (S8, S25, S26): who and how, then each SKU with its units
    expected and scanned, and any scanned SKU that is not in the order."""
    w = "warehouse_desk."
    head = t(w + "sheet_head", shipment_id=sheet["shipment_id"], order_no=sheet["order_no"],
             receiver=sheet.get("receiver_name") or "", carrier=sheet.get("carrier", ""),
             stage=sheet.get("stage_label", ""))
    facts = [t(w + "tracking", tracking_no=sheet["tracking_no"]) if sheet.get("tracking_no")
             else t(w + "no_tracking"),
             t(w + "expected", expected_g=sheet.get("expected_g", 0), items_g=sheet.get("items_g", 0),
               packaging_g=sheet.get("packaging_g", 0))]
    if sheet.get("insured_fen"):
        facts.append(t(w + "insured", amount=f"{sheet['insured_fen'] / 100:.2f}"))
    if sheet.get("sms_notify"):
        facts.append(t(w + "sms"))
    lines = [_line("kit-sheet-head", head), _line("kit-sheet-line", "　".join(facts))]
    for field in ("buyer_message", "seller_memo"):
        if sheet.get(field):
            lines.append(_line("kit-sheet-line", t(w + field, text=sheet[field])))
    if sheet.get("no_price_slip"):
        lines.append(_line("kit-pack-present", "⚠ " + t(w + "present")))
    if sheet.get("gifts"):
        lines.append(_line("kit-sheet-line", t(w + "gifts", titles="、".join(sheet["gifts"]))))
    if sheet.get("guides"):
        guides = "".join(f"<div class='kit-guide-{escape(g['guide'])}'><b>{escape(g['title'])}</b>："
                         f"{escape(g['text'])}</div>" for g in sheet["guides"])
        lines.append(f"<div class='kit-pack-guides'><div><b>{escape(t(w + 'guides_title'))}</b></div>"
                     f"{guides}</div>")
    heads = [t(w + c) for c in ("col_sku", "col_title", "col_spec", "col_expected_units", "col_scanned",
                                "col_state")]
    rows = ["<tr>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + "</tr>"]
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for item in sheet["items"]:
        by_sku.setdefault(str(item["sku"]).upper(), []).append(item)
    packing_now = sheet.get("stage") == "picking"  # a closed box has nothing to count
    for sku, items in by_sku.items():
        need, got = sum(int(i["quantity"]) for i in items), scanned.get(sku, 0)
        gift = any(i.get("is_gift_item") for i in items)
        title = (items[0].get("title") or "") + (f"（{t(w + 'gift')}）" if gift else "")
        css = "kit-line-ok" if got == need else ("kit-line-differ" if got else "")
        counted = [got, _state(need, got)] if packing_now else ["", ""]
        rows.append(_row([items[0]["sku"], title, items[0].get("spec") or "", need, *counted],
                         css if packing_now else "", str(items[0]["sku"])))
    for diff in diffs:
        if diff["kind"] == "wrong_item":
            rows.append(_row([diff["sku"], "", "", 0, diff["scanned"], t(w + "state_wrong")],
                             "kit-line-differ kit-line-wrong", diff["sku"]))
    lines.append(f"<table class='kit-pack-items'>{''.join(rows)}</table>")
    return "".join(lines)


def _state(need: int, got: int) -> str:
    if got == need:
        return t("warehouse_desk.state_ok")
    if got < need:
        return t("warehouse_desk.state_short", n=need - got)
    return t("warehouse_desk.state_over", n=got - need)

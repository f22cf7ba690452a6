"""The packing station's widgets on the warehouse desk: the chosen wave's parcels, the scan field,
the packing sheet, the check, the weight and pack buttons, the waybill number and print buttons,
and the short-pick form. They draw a `PackingStationModel` (kit.ui.packing_station) and call its
methods; none decides anything. kit.ui.warehouse_view places them on the desk's page.

CSS classes (stable, for browser tests): `kit-pack` (the station) with
`kit-warehouse-table-shipments`, `kit-pack-shipment`, `kit-scan` (a keyboard-wedge scanner
types into it and presses Enter), `kit-pack-sheet` (inside: `kit-pack-present`,
`kit-pack-guides`, `kit-pack-items`), `kit-pack-check` (`kit-check-ok` / `kit-check-differ`),
`kit-scan-undo`, `kit-scan-clear`, `kit-form-pack` with `kit-pack-weight`, `kit-action-pack`,
`kit-action-accept-weight`; `kit-form-print` with `kit-pack-tracking`, `kit-action-assign`,
`kit-print-label`, `kit-print-note`, `kit-print-warranty`; `kit-form-short` with
`kit-short-sku`, `kit-short-found`, `kit-short-reason`, `kit-short-save`.
"""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.packing_station import PackingStationModel
from kit.ui.parts import Choices, button, choice, form, list_table, show, text_box
from kit.ui.review_forms import Confirmation

__all__ = ["PACK_STYLE", "PackingStation", "sheet_html"]

PACK_STYLE = """
<style>
.kit-warehouse .kit-action-pack { background: #2563eb; color: #fff; }
.kit-warehouse .kit-action-accept-weight { background: #d97706; color: #fff; }
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


class PackingStation(widgets.VBox):
    """The packing station (`kit-pack`): the wave's parcels, scan, sheet, check, weigh and pack,
    number and print; it makes the short-pick form too (`short_form`), which the desk places."""

    PARTS = ("shipment_choice", "scan", "sheet", "check", "undo_button", "clear_button", "scan_row",
             "weight", "pack_button", "accept_button", "pack_form", "tracking", "assign_button",
             "label_button", "note_button", "warranty_button", "print_form", "short_form", "short_sku",
             "short_found", "short_reason")  # what the desk shows as its own attributes too

    def __init__(self, model: PackingStationModel, confirm: Confirmation) -> None:
        self.model, self.confirm = model, confirm
        self.table = list_table(model.tables["shipments"], "warehouse_desk", "kit-warehouse-table-shipments")
        self.shipment_choice = Choices(t("warehouse_desk.shipment_choice"), "kit-pack-shipment", "480px",
                                       self._shipment_picked)
        self.scan = text_box(t("warehouse_desk.scan_placeholder"), "kit-scan", "460px",
                             continuous_update=False)
        self.scan.observe(self._scanned, names="value")
        self.sheet = widgets.HTML()
        self.sheet.add_class("kit-pack-sheet")
        self.check = widgets.HTML()
        self.check.add_class("kit-pack-check")
        self.undo_button = button(t("warehouse_desk.button_undo"), "kit-scan-undo", "undo")
        self.undo_button.on_click(lambda _b: model.undo_scan())
        self.clear_button = button(t("warehouse_desk.button_clear"), "kit-scan-clear", "eraser")
        self.clear_button.on_click(lambda _b: model.clear_scans())
        self.scan_row = widgets.HBox([self.scan, self.undo_button, self.clear_button])
        self.scan_row.add_class("kit-scan-row")
        self.pack_form = self._pack_form()
        self.print_form = self._print_form()
        self.short_form = self._short_form()
        super().__init__([self.table, self.shipment_choice, self.scan_row, self.sheet, self.check,
                          self.pack_form, self.print_form])
        self.add_class("kit-pack")
        model.observe(self._show_allowed, names=["allowed", "shop"])
        model.observe(self._show_shipments, names=["shipment_choices", "shipment_id"])
        model.observe(self._show_sheet, names=["sheet", "scans", "differences"])
        model.observe(self._show_accept, names="needs_accept")
        model.tables["shipments"].observe(self._row_picked, names="selected")
        self._show_shipments()
        self._show_sheet()
        self._show_accept()
        self._show_allowed()

    # --- building --------------------------------------------------------------------------

    def _pack_form(self) -> widgets.Box:
        self.weight = text_box(t("warehouse_desk.weight_placeholder"), "kit-pack-weight", "160px",
                               continuous_update=False)
        self.weight.observe(self._weighed, names="value")
        self.pack_button = button(t("warehouse_desk.button_pack"), "kit-action-pack", "archive")
        self.pack_button.on_click(lambda _b: self._pack(accept_weight=False))
        self.accept_button = button(t("warehouse_desk.button_accept"), "kit-action-accept-weight", "check")
        self.accept_button.on_click(lambda _b: self._pack(accept_weight=True))
        return form("kit-form-pack", [self.weight, self.pack_button, self.accept_button],
                    t("warehouse_desk.weigh_title"))

    def _print_form(self) -> widgets.Box:
        model = self.model
        self.tracking = text_box(t("warehouse_desk.tracking_placeholder"), "kit-pack-tracking", "220px",
                                 continuous_update=False)
        self.tracking.observe(self._tracking_scanned, names="value")
        self.assign_button = button(t("warehouse_desk.button_assign"), "kit-action-assign", "barcode")
        self.assign_button.on_click(self._assign_clicked)
        self.label_button = button(t("warehouse_desk.button_label"), "kit-print-label", "print")
        self.label_button.on_click(lambda _b: model.print_label())
        self.note_button = button(t("warehouse_desk.button_note"), "kit-print-note", "print")
        self.note_button.on_click(lambda _b: model.print_note())
        self.warranty_button = button(t("warehouse_desk.button_warranty"), "kit-print-warranty", "print")
        self.warranty_button.on_click(lambda _b: model.print_warranty())
        return form("kit-form-print", [self.tracking, self.assign_button, self.label_button,
                                       self.note_button, self.warranty_button],
                    t("warehouse_desk.print_title"))

    def _short_form(self) -> widgets.Box:
        self.short_sku = choice(t("warehouse_desk.col_sku"), "kit-short-sku", "240px")
        self.short_found = text_box(t("warehouse_desk.short_found"), "kit-short-found", "100px")
        self.short_reason = text_box(t("warehouse_desk.short_reason"), "kit-short-reason", "220px")
        save = button(t("warehouse_desk.button_short"), "kit-short-save", "exclamation-triangle")
        save.on_click(self._ask_short)
        return form("kit-form-short", [self.short_sku, self.short_found, self.short_reason, save],
                    t("warehouse_desk.short_title"))

    # --- actions ---------------------------------------------------------------------------

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

    def _shipment_picked(self, shipment_id: int) -> None:
        if shipment_id != self.model.shipment_id:
            self.model.open_shipment(shipment_id)

    def _row_picked(self, change: dict) -> None:
        picked = change["new"]
        if picked and int(picked[0]) != self.model.shipment_id:
            self.model.open_shipment(int(picked[0]))

    # --- drawing ---------------------------------------------------------------------------

    def _show_allowed(self, _change: object = None) -> None:
        allowed = set(self.model.allowed)
        show(self.scan_row, "pack" in allowed)
        show(self.pack_form, "pack" in allowed)
        show(self.print_form, "print_documents" in allowed)
        show(self.short_form, "report_short_pick" in allowed)

    def _show_shipments(self, _change: object = None) -> None:
        self.shipment_choice.offer(self.model.shipment_choices, self.model.shipment_id)
        opened = self.model.shipment_id is not None
        for each in (self.pack_button, self.assign_button, self.label_button, self.note_button,
                     self.warranty_button, self.undo_button, self.clear_button):
            each.disabled = not opened

    def _show_accept(self, _change: object = None) -> None:
        show(self.accept_button, self.model.needs_accept)

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

"""The shipping desk's widgets: header with its buttons, the sender warning (S26b), the 21:00
countdown (S9), tiles, the scan field with its log, the list switch and its tables, the reason
form, the batch-file download and the message area. They draw a `ShippingDeskModel`
(kit.ui.shipping_desk) and call its methods; none decides anything.

CSS classes (stable, for browser tests): `kit-shipping` (root), `kit-refresh`,
`kit-action-confirm`, `kit-action-batch`, `kit-shipping-sender` (the missing sender address),
`kit-shipping-countdown` with `kit-countdown-soon` / `kit-countdown-late`,
`kit-kpi-shipping-<name>` (packed, awaiting, late, unshipped, no_reason, confirmed),
`kit-form-scan` with `kit-shipping-scan` (the scan field) and `kit-shipping-scanlog` (its
`kit-scan-ok` / `kit-scan-refused` lines), `kit-shipping-view`, `kit-shipping-table-<view>`
(awaiting, unshipped, calls, confirmed), `kit-form-reason` with `kit-reason-text` and
`kit-reason-save`; `kit-download` (the batch file link); `kit-confirm…` of
kit.ui.review_forms.Confirmation; `kit-message`.
"""

from __future__ import annotations

from html import escape

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.desk_page import DeskPage
from kit.ui.parts import button, desk_style, form, heading, show, text_box
from kit.ui.shipping_desk import KPIS, VIEWS, ShippingDeskModel

__all__ = ["REASONS", "ShippingDesk"]

SOON_MINUTES = 60  # the countdown turns amber this close to the deadline
REASONS = ("reason_stock", "reason_address", "reason_buyer", "reason_carrier")  # suggestions
DESK_STYLE = desk_style(
    "kit-shipping",
    """
<style>
.kit-shipping .widget-html.kit-form-title { width: auto; white-space: nowrap; margin-right: 8px; }
.kit-shipping .kit-action-confirm { background: #16a34a; color: #fff; }
.kit-shipping .widget-html.kit-shipping-sender { width: auto; height: auto; margin: 6px 0; }
.kit-shipping .kit-shipping-sender .widget-html-content { background: #fef2f2; border: 2px solid #dc2626;
  color: #991b1b; padding: 10px 14px; border-radius: 6px; font-size: 15px; font-weight: 600;
  line-height: 1.5; white-space: normal; }
.kit-shipping .widget-html.kit-shipping-countdown { width: auto; height: auto; margin: 6px 0; }
.kit-shipping .kit-shipping-countdown .widget-html-content { background: #f0fdf4; border: 1px solid #bbf7d0;
  color: #166534; padding: 8px 12px; border-radius: 6px; font-size: 15px; line-height: 1.5; }
.kit-shipping .kit-countdown-soon .widget-html-content { background: #fffbeb; border-color: #fcd34d;
  color: #92400e; }
.kit-shipping .kit-countdown-late .widget-html-content { background: #fef2f2; border-color: #fecaca;
  color: #991b1b; font-weight: 600; }
.kit-shipping .kit-shipping-scan input { font-size: 18px; height: 36px; font-family: monospace; }
.kit-shipping .kit-form-scan .widget-text { width: 420px; }
.kit-shipping .kit-hint { font-size: 13px; color: #6b7280; line-height: 1.5; margin-left: 10px; }
.kit-shipping .kit-shipping-scanlog .widget-html-content { font-size: 13px; line-height: 1.6; }
.kit-shipping .kit-shipping-scanlog ul { margin: 2px 0 4px; padding-left: 18px; }
.kit-shipping .kit-scan-ok { color: #166534; }
.kit-shipping .kit-scan-refused { color: #991b1b; }
</style>
""",
)


def _duration(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    return t("shipping_desk.hours_minutes", hours=hours, minutes=rest) if hours else t(
        "shipping_desk.minutes", minutes=rest
    )


class ShippingDesk(DeskPage):
    """The 发货确认 page: who acts, sender warning, countdown, tiles, scan field, lists, download."""

    def __init__(self, model: ShippingDeskModel) -> None:
        self.confirm_button = button(t("shipping_desk.button_confirm"), "kit-action-confirm", "check")
        self.confirm_button.on_click(self._ask_confirm)
        self.batch_button = button(t("shipping_desk.button_batch"), "kit-action-batch", "download")
        self.batch_button.on_click(lambda _b: model.download_today())
        super().__init__(model, "shipping_desk", "shipping", DESK_STYLE, KPIS, VIEWS,
                         [self.confirm_button, self.batch_button])
        self.sender = widgets.HTML()
        self.sender.add_class("kit-shipping-sender")
        self.countdown = widgets.HTML()
        self.countdown.add_class("kit-shipping-countdown")
        self.scan_form = self._scan_form()
        self.reason_form = self._reason_form()
        self.children = [
            self.style_sheet,
            self.header,
            self.sender,
            self.countdown,
            self.message,
            self.confirm,
            self.scan_form,
            self.download,
            self.kpis,
            self.switch,
            *self.tables.values(),
            self.reason_form,
        ]
        model.observe(self._show_allowed, names=["allowed", "shop", "sender_problem", "view"])
        model.observe(self._show_countdown, names=["minutes_left", "deadline", "counts"])
        model.observe(self._show_scans, names="scans")
        model.observe(self._show_download, names="batch")
        self._show_allowed()
        self._show_countdown()
        self._show_scans()
        self._show_download()

    # --- parts -----------------------------------------------------------------------------

    def _scan_form(self) -> widgets.Box:
        title = heading(t("shipping_desk.scan_title"), "kit-form-title")
        # continuous_update=False: the value arrives when the scanner's Enter comes (or on leaving)
        self.scan = text_box(t("shipping_desk.scan_placeholder"), "kit-shipping-scan",
                             continuous_update=False)
        self.scan.observe(self._scanned, names="value")
        hint = widgets.HTML(f'<div class="kit-hint">{escape(t("shipping_desk.scan_hint"))}</div>')
        self.scan_log = widgets.HTML()
        self.scan_log.add_class("kit-shipping-scanlog")
        line = widgets.HBox([title, self.scan, hint], layout=widgets.Layout(align_items="center"))
        return form("kit-form-scan", [line, self.scan_log], box=widgets.VBox)

    def _reason_form(self) -> widgets.Box:
        title = heading(t("shipping_desk.reason_title"), "kit-form-title")
        self.reason = widgets.Combobox(
            placeholder=t("shipping_desk.reason_placeholder"),
            options=[t(f"shipping_desk.{k}") for k in REASONS],
            ensure_option=False,
            layout=widgets.Layout(width="360px"),
        )
        self.reason.add_class("kit-reason-text")
        self.reason_save = button(t("shipping_desk.button_reason"), "kit-reason-save", "pencil")
        self.reason_save.on_click(self._save_reason)
        return form("kit-form-reason", [title, self.reason, self.reason_save])

    # --- actions ---------------------------------------------------------------------------

    def _scanned(self, change: dict) -> None:
        text = (change["new"] or "").strip()
        if not text:
            return
        try:
            self.model.scan(text)
        finally:
            self.scan.value = ""  # ready for the next parcel, whatever this one gave

    def _ask_confirm(self, _button: object = None) -> None:
        ids = self.model.to_confirm()
        if not ids:
            self.model.show_info(t("shipping_desk.nothing_to_confirm"))
            return
        self.confirm.ask(t("shipping_desk.ask_confirm", count=len(ids)), lambda _r: self.model.confirm(ids))

    def _save_reason(self, _button: object = None) -> None:
        if self.model.record_reason(self.reason.value):
            self.reason.value = ""

    # --- drawing ---------------------------------------------------------------------------

    def _show_allowed(self, _change: object = None) -> None:
        model = self.model
        allowed = set(model.allowed)
        show(self.confirm_button, "confirm" in allowed)
        show(self.batch_button, "export_confirmation" in allowed)
        show(self.scan_form, "hand_over" in allowed)
        self.scan.disabled = bool(model.sender_problem) or model.shop is None
        show(self.reason_form, "record_not_shipped" in allowed and model.view in ("unshipped", "calls"))
        problem = model.sender_problem
        self.sender.value = f'<div role="alert">{escape(problem)}</div>' if problem else ""
        show(self.sender, bool(problem))
        self.header.show(model.shop)

    def _show_countdown(self, _change: object = None) -> None:
        model = self.model
        for css in ("kit-countdown-soon", "kit-countdown-late"):
            self.countdown.remove_class(css)
        if model.minutes_left is None or model.deadline is None or model.read_at is None:
            self.countdown.value = ""
            show(self.countdown, False)
            return
        left, waiting = model.minutes_left, int((model.counts or {}).get("awaiting", 0))
        params = {"deadline": f"{model.deadline:%H:%M}", "duration": _duration(left), "count": waiting,
                  "time": f"{model.read_at:%H:%M}"}
        if left > 0:
            text = t("shipping_desk.countdown", **params)
            if left <= SOON_MINUTES and waiting:
                self.countdown.add_class("kit-countdown-soon")
        else:
            text = t("shipping_desk.countdown_past", **params)
            if waiting:
                self.countdown.add_class("kit-countdown-late")
        self.countdown.value = f'<div role="timer">{escape(text)}</div>'
        show(self.countdown, True)

    def _show_scans(self, _change: object = None) -> None:
        scans = self.model.scans
        if not scans:
            self.scan_log.value = ""
            return
        items = "".join(
            f'<li class="{"kit-scan-ok" if s["ok"] else "kit-scan-refused"}">'
            f'{"✓" if s["ok"] else "✗"} <code>{escape(s["text"])}</code>　{escape(s["message"])}</li>'
            for s in scans
        )
        self.scan_log.value = f"<ul>{items}</ul>"

    def _show_download(self, _change: object = None) -> None:
        name = t("shipping_desk.file_name")
        words = t("shipping_desk.download", name=name, note=self.model.batch_note)
        self.download.show(self.model.batch, name, "text/csv", words)

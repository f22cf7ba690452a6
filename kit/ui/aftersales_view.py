"""The exceptions and after-sales desk's widgets: header, tiles, the list switch and its tables,
the selected row's summary with the buttons its state offers (amount and text fields for the
actions that need them), the refund import and the message area. They draw an
`AfterSalesDeskModel` (kit.ui.aftersales_desk) and call its methods; none decides anything.

CSS classes (stable, for browser tests): `kit-aftersales` (root), `kit-refresh`,
`kit-kpi-aftersales-<name>` (alerts, exceptions_open, exceptions_mine, cases_open, cases_goods,
oldest_hours), `kit-aftersales-view`, `kit-aftersales-table-<view>` (exceptions, cases, alerts),
`kit-form-case` with `kit-case-summary`, `kit-case-amount`, `kit-case-text`, `kit-case-address`
(`kit-address-<field>`: the buyer's right address) and one button `kit-case-<action>` per action
(take, claim, answer, reship, refund, correct_address, resolve, receive_return,
close_case, agree, refuse, goods_returned, receive, reopen, open_exception, open_from_alerts);
`kit-form-import` with `kit-import-refunds` (the file upload); `kit-confirm…` of
kit.ui.review_forms.Confirmation; `kit-message`.
"""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.aftersales_desk import (
    ADDRESS_FIELDS,
    ALERT_ACTIONS,
    CASE_ACTIONS,
    EXCEPTION_ACTIONS,
    KPIS,
    VIEWS,
    AfterSalesDeskModel,
)
from kit.ui.desk_page import DeskPage
from kit.ui.parts import button, desk_style, form, heading, show, text_box

__all__ = ["AfterSalesDesk"]

ACTIONS = tuple(dict.fromkeys((*EXCEPTION_ACTIONS, *CASE_ACTIONS, *ALERT_ACTIONS)))
NEEDS_AMOUNT = {"claim", "answer", "refund"}
NEEDS_TEXT = {"claim", "answer", "resolve", "close_case", "refuse", "goods_returned"}
ASK_FIRST = {"reship", "refund", "close_case", "refuse", "agree", "open_from_alerts"}  # money, stock, closing
ICONS = {
    "take": "hand-paper-o",
    "claim": "file-text-o",
    "answer": "comment",
    "reship": "truck",
    "refund": "cny",
    "resolve": "check",
    "receive_return": "download",
    "close_case": "times",
    "agree": "thumbs-up",
    "refuse": "ban",
    "goods_returned": "undo",
    "receive": "download",
    "reopen": "repeat",
    "open_exception": "exclamation-triangle",
    "correct_address": "map-marker",
    "open_from_alerts": "list",
}
DESK_STYLE = desk_style(
    "kit-aftersales",
    """
<style>
.kit-aftersales .widget-html.kit-case-summary { width: 100%; height: auto; }
.kit-aftersales .kit-case-summary .widget-html-content { font-size: 14px; line-height: 1.6;
  white-space: normal; }
.kit-aftersales .kit-case-refund, .kit-aftersales .kit-case-reship { background: #2563eb; color: #fff; }
.kit-aftersales .kit-case-close_case, .kit-aftersales .kit-case-refuse { background: #fef2f2; }
</style>
""",
)


class AfterSalesDesk(DeskPage):
    """The 异常与售后 page: tiles, the three lists, the selected case's actions, the refund import."""

    def __init__(self, model: AfterSalesDeskModel) -> None:
        super().__init__(model, "aftersales_desk", "aftersales", DESK_STYLE, KPIS, VIEWS)
        self.case_form = self._case_form()
        self.import_form = self._import_form()
        self.children = [
            self.style_sheet,
            self.header,
            self.message,
            self.confirm,
            self.kpis,
            self.switch,
            *self.tables.values(),
            self.case_form,
            self.import_form,
        ]
        model.observe(self._show_offers, names=["offered", "chosen", "view"])
        model.observe(self._show_allowed, names=["allowed", "shop"])
        self._show_offers()
        self._show_allowed()

    # --- parts -----------------------------------------------------------------------------

    def _case_form(self) -> widgets.Box:
        self.summary = widgets.HTML()
        self.summary.add_class("kit-case-summary")
        self.amount = text_box(t("aftersales_desk.amount_placeholder"), "kit-case-amount", "130px")
        self.text = text_box(t("aftersales_desk.text_placeholder"), "kit-case-text", "340px")
        self.buttons: dict[str, widgets.Button] = {}
        for action in ACTIONS:
            made = button(t(f"aftersales_desk.button_{action}"), f"kit-case-{action}", ICONS.get(action, ""))
            made.on_click(lambda _b, a=action: self._clicked(a))
            self.buttons[action] = made
        fields = widgets.HBox([self.amount, self.text], layout=widgets.Layout(align_items="center"))
        self.address = {
            f: text_box(
                t(f"aftersales_desk.address_{f}"),
                f"kit-address-{f}",
                "300px" if f == "address_detail" else "130px",
            )
            for f in ADDRESS_FIELDS
        }
        self.address_row = widgets.HBox(
            list(self.address.values()), layout=widgets.Layout(flex_flow="row wrap")
        )
        self.address_row.add_class("kit-case-address")
        row = widgets.HBox(list(self.buttons.values()), layout=widgets.Layout(flex_flow="row wrap"))
        return form("kit-form-case", [self.summary, fields, self.address_row, row], box=widgets.VBox)

    def _import_form(self) -> widgets.Box:
        self.upload = widgets.FileUpload(
            accept=".csv,.xlsx", multiple=False, description=t("aftersales_desk.button_import")
        )
        self.upload.add_class("kit-import-refunds")
        self.upload.observe(self._uploaded, names="value")
        title = heading(t("aftersales_desk.import_title"))
        return form("kit-form-import", [title, self.upload])

    # --- actions ---------------------------------------------------------------------------

    def _clicked(self, action: str) -> None:
        amount, text = self.amount.value, self.text.value

        address = {f: box.value for f, box in self.address.items()} if action == "correct_address" else None

        def run(_r: object = None) -> None:
            if self.model.act(action, amount, text, address):
                self.amount.value = self.text.value = ""
                for box in self.address.values():
                    box.value = ""

        if action in ASK_FIRST:
            self.confirm.ask(
                t("aftersales_desk.ask", action=t(f"aftersales_desk.button_{action}"), what=self._what()), run
            )
        else:
            run()

    def _uploaded(self, change: dict) -> None:
        files: Any = change["new"]
        if not files:
            return
        first = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = first.get("name", "refunds.csv") if isinstance(first, dict) else first.name
        content = first.get("content") if isinstance(first, dict) else first.content
        self.model.import_refunds(name, bytes(content))

    # --- drawing ---------------------------------------------------------------------------

    def _what(self) -> str:
        row, view = self.model.chosen, self.model.view
        if view == "alerts":
            return (
                t("aftersales_desk.what_alerts")
                if not row
                else t(
                    "aftersales_desk.what_shipment", shipment_id=row["shipment_id"], order_no=row["order_no"]
                )
            )
        return t(
            "aftersales_desk.what_case", case_id=row.get("case_id", "?"), order_no=row.get("order_no", "?")
        )

    def _show_offers(self, _change: object = None) -> None:
        offered = set(self.model.offered)
        for action, made in self.buttons.items():
            show(made, action in offered)
        show(self.amount, bool(offered & NEEDS_AMOUNT))
        show(self.text, bool(offered & NEEDS_TEXT))
        show(self.address_row, "correct_address" in offered)
        row = self.model.chosen
        if row:
            self.summary.value = f"<div>{escape(self._what())}</div>"
        else:
            self.summary.value = f"<div>{escape(t('aftersales_desk.select_one'))}</div>"
        show(self.case_form, bool(offered) or self.model.view != "alerts")

    def _show_allowed(self, _change: object = None) -> None:
        show(self.import_form, "import_refunds" in set(self.model.allowed))
        self.header.show(self.model.shop)

"""The review desk's widgets: header and tiles, the held-orders panel with its action bar, forms
and order detail, and the COD call panel (the reconciliation panel is kit.ui.reconcile_panel). They draw a
`ReviewDeskModel` and call its methods; none of them decides anything about an order.

CSS classes (stable, for browser tests): `kit-review-held`, `kit-review-cod`,
`kit-review-reconcile` (the three panels), `kit-stage-switch`, `kit-action-<name>` on every
action button (approve, hold, cancel, recheck, address, merge, split, confirm-phone),
`kit-confirm` with `kit-confirm-question`, `kit-confirm-reason`, `kit-confirm-yes`,
`kit-confirm-no`; `kit-form-address`, `kit-form-merge`, `kit-form-split`, `kit-form-save`;
`kit-order-detail` with `kit-reasons`; the reconciliation panel's are in kit.ui.reconcile_panel.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import polars as pl

from kit.i18n import t
from kit.models import PaymentMethod, Role, Stage
from kit.ui.parts import button, desk_style, show, text_box
from kit.ui.reconcile_panel import RECONCILE_STYLE, ReconcilePanel
from kit.ui.table import KEY, OrderTable
from kit.ui.widgets import DeskHeader, KpiTile, MessageArea

if TYPE_CHECKING:
    from kit.ui.review_desk import ReviewDeskModel

__all__ = ["ADDRESS_FIELDS", "CodPanel", "Confirmation", "HeldPanel", "ReviewDesk"]

ADDRESS_FIELDS = ("receiver_name", "receiver_mobile", "receiver_phone", "province", "city", "district",
                  "address_detail", "postcode")
DESK_STYLE = desk_style("kit-review", RECONCILE_STYLE + """
<style>
.kit-review .kit-hint { font-size: 13px; color: #6b7280; line-height: 1.5; margin: 4px 0; }
.kit-review .kit-toolbar { flex-flow: row wrap; align-items: center; margin: 6px 0; }
.kit-review .kit-toolbar .widget-button { width: auto; min-width: 84px; margin-right: 6px; }
.kit-review .kit-action-approve { background: #16a34a; color: #fff; }
.kit-review .kit-action-cancel { color: #b91c1c; }
.kit-review .kit-confirm { align-items: center; background: #fffbeb; border: 1px solid #fcd34d;
  border-radius: 6px; padding: 6px 10px; margin: 4px 0; flex-flow: row wrap; }
.kit-review .kit-confirm-question { font-size: 14px; margin-right: 10px; }
.kit-review .kit-form { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; margin: 6px 0;
  background: #fafafa; }
.kit-review .kit-form .widget-button { width: auto; min-width: 72px; margin-right: 6px; }
.kit-review .kit-order-detail { border-top: 1px solid #e5e7eb; margin-top: 6px; padding-top: 4px; }
.kit-review .kit-order-detail .widget-html-content { line-height: 1.5; font-size: 13px; }
.kit-review .kit-order-detail table { border-collapse: collapse; }
.kit-review .kit-order-detail th { color: #6b7280; font-weight: normal; text-align: left; vertical-align: top;
  white-space: nowrap; padding: 2px 16px 2px 0; }
.kit-review .kit-order-detail td { white-space: pre-wrap; padding: 2px 0; vertical-align: top; }
.kit-review .kit-reasons { margin: 0; padding-left: 18px; color: #9a3412; }
.kit-review .kit-table-empty .widget-html-content { color: #6b7280; font-size: 13px; }
</style>
""", forms=False)


def _html(text: str, css: str) -> widgets.HTML:
    widget = widgets.HTML(f"<div>{escape(text)}</div>")
    widget.add_class(css)
    return widget


class Confirmation(widgets.HBox):
    """The confirmation step of an action: its question, a reason box when needed, yes and no."""

    def __init__(self) -> None:
        self.question = _html("", "kit-confirm-question")
        self.reason = text_box(t("review_desk.reason_placeholder"), "kit-confirm-reason", "340px")
        self.yes = button(t("review_desk.confirm_yes"), "kit-confirm-yes", button_style="primary")
        self.no = button(t("review_desk.confirm_no"), "kit-confirm-no")
        self.yes.on_click(self._yes)
        self.no.on_click(lambda _b: self.close_question())
        self._then: Callable[[str], object] | None = None
        super().__init__([self.question, self.reason, self.yes, self.no])
        self.add_class("kit-confirm")
        self.close_question()

    def ask(self, question: str, then: Callable[[str], object], *, reason: bool = False) -> None:
        """Show the question; `then(reason)` runs when the person clicks yes."""
        self.question.value = f"<div>{escape(question)}</div>"
        self.reason.value = ""
        show(self.reason, reason)
        self._then = then
        show(self, True)

    def close_question(self) -> None:
        """Hide the question without acting."""
        self._then = None
        show(self, False)

    def _yes(self, _button: object = None) -> None:
        then, reason = self._then, self.reason.value.strip()
        self.close_question()
        if then is not None:
            then(reason)


class ActionBar(widgets.VBox):
    """The held-orders actions; each asks for confirmation, then calls one model method."""

    MOVES = ("approve", "hold", "cancel", "recheck")
    FORMS = ("address", "merge", "split")

    def __init__(self, model: ReviewDeskModel, forms: FormArea) -> None:
        self.model, self.forms = model, forms
        self.buttons = {name: button(t(f"review_desk.button_{name}"), f"kit-action-{name}")
                        for name in (*self.MOVES, *self.FORMS)}
        for name in self.MOVES:
            self.buttons[name].on_click(lambda _b, n=name: self._ask(n))
        for name in self.FORMS:
            self.buttons[name].on_click(model.callback(lambda n=name: forms.open_form(n)))
        self.confirm = Confirmation()
        row = widgets.HBox(list(self.buttons.values()))
        row.add_class("kit-toolbar")
        super().__init__([row, self.confirm])
        for trait in ("allowed", "busy"):
            model.observe(self._draw, names=trait)
        model.orders.observe(self._draw, names="selected")
        self._draw()

    def _ask(self, name: str) -> None:
        keys = list(self.model.orders.selected)
        if not keys:
            self.model.show_info(t("review_desk.nothing_selected"))
            return
        action = getattr(self.model, name)
        needs_reason = name in ("hold", "cancel")
        question = t("review_desk.confirm_question", count=len(keys),
                     action=t(f"review_desk.button_{name}"))

        def then(reason: str) -> None:
            if needs_reason:
                self.model.attempt(action, reason, keys)
            else:
                self.model.attempt(action, keys)

        self.confirm.ask(question, then, reason=needs_reason)

    def _draw(self, _change: object = None) -> None:
        allowed, count = set(self.model.allowed), len(self.model.orders.selected)
        for name, each in self.buttons.items():
            show(each, name in allowed)
            each.disabled = self.model.busy or count == 0
        if not allowed & set(self.buttons):
            show(self.confirm, False)


class FormArea(widgets.VBox):
    """Where the address, merge and split forms open, one at a time, for the selected orders."""

    def __init__(self, model: ReviewDeskModel) -> None:
        self.model = model
        super().__init__([])
        model.orders.observe(lambda _c: self.close_form(), names="rows")

    def open_form(self, name: str) -> None:
        """Open one form for the current selection (or say what to select first)."""
        selected = self.model.orders.selected_rows()
        wanted = 2 if name == "merge" else 1
        if (name == "merge" and selected.height < 2) or (name != "merge" and selected.height != 1):
            key = "review_desk.select_two" if wanted == 2 else "review_desk.select_one"
            self.model.show_info(t(key, action=t(f"review_desk.button_{name}")))
            return
        reason = widgets.Text(description=t("review_desk.reason"), layout=widgets.Layout(width="420px"))
        reason.add_class("kit-form-reason")
        body, save = getattr(self, f"_{name}")(selected.row(0, named=True), selected, reason)
        save_button = button(t("review_desk.save"), "kit-form-save", button_style="primary")
        save_button.on_click(self.model.callback(lambda: save() and self.close_form()))
        close = button(t("review_desk.close"), "kit-form-close")
        close.on_click(lambda _b: self.close_form())
        form = widgets.VBox([_html(t(f"review_desk.button_{name}"), "kit-section-title"), *body, reason,
                             widgets.HBox([save_button, close])])
        form.add_class("kit-form")
        form.add_class(f"kit-form-{name}")
        self.children = (form,)

    def close_form(self) -> None:
        """Close whatever form is open."""
        self.children = ()

    def _address(self, row: dict[str, Any], _rows: pl.DataFrame,
                 reason: widgets.Text) -> tuple[list, Callable]:
        fields = {f: widgets.Text(value=str(row.get(f) or ""), description=t(f"review_desk.field_{f}"),
                                  layout=widgets.Layout(width="380px")) for f in ADDRESS_FIELDS}
        grid = widgets.GridBox(list(fields.values()),
                               layout=widgets.Layout(grid_template_columns="repeat(2, 390px)"))
        no = row["order_no"]
        return [grid], lambda: self.model.edit_address(no, {f: w.value for f, w in fields.items()},
                                                       reason.value)

    def _merge(self, row: dict[str, Any], rows: pl.DataFrame, reason: widgets.Text) -> tuple[list, Callable]:
        keys = rows["order_no"].to_list()
        into = widgets.Dropdown(options=keys, value=keys[0], description=t("review_desk.merge_into"))
        return [into], lambda: self.model.merge(into.value, keys, reason.value)

    def _split(self, row: dict[str, Any], _rows: pl.DataFrame, reason: widgets.Text) -> tuple[list, Callable]:
        lines = self.model.lines if self.model.lines is not None else pl.DataFrame(
            schema={"line_no": pl.Int64, "title": pl.String, "quantity": pl.Int64, "ship_part": pl.Int64})
        parts = list(range(1, max(lines.height, 2) + 1))
        choices = {}
        for line in lines.iter_rows(named=True):  # the lines of one order
            label = t("review_desk.split_line", line_no=line["line_no"], title=line["title"],
                      quantity=line["quantity"])
            choices[line["line_no"]] = widgets.Dropdown(
                options=[(t("review_desk.part_option", part=p), p) for p in parts],
                value=int(line.get("ship_part") or 1), description=label,
                style={"description_width": "360px"}, layout=widgets.Layout(width="520px"))
        no = row["order_no"]
        return list(choices.values()), lambda: self.model.split(
            no, {n: w.value for n, w in choices.items()}, reason.value)


class OrderDetail(widgets.HTML):
    """The one selected order: every reason in full, the buyer's message, present flag, lines."""

    def __init__(self, model: ReviewDeskModel) -> None:
        super().__init__()
        self.model = model
        self.add_class("kit-order-detail")
        model.orders.observe(self._draw, names="selected")
        model.observe(self._draw, names="lines")
        self._draw()

    def _draw(self, _change: object = None) -> None:
        model, selected = self.model, self.model.orders.selected
        if len(selected) != 1:
            text = (t("review_desk.detail_many", count=len(selected)) if selected
                    else t("review_desk.detail_none"))
            self.value = f'<div class="kit-hint">{escape(text)}</div>'
            return
        row = model.orders.selected_rows().row(0, named=True)
        shown = model.orders.rows.filter(pl.col(KEY) == selected[0])
        cells = shown.row(0, named=True) if shown.height else {}
        street = row.get("address_detail") if model.sees_phones else "****"
        phone = cells.get(t("review_desk.col_mobile"), "")
        items: list[tuple[str, str]] = [
            ("detail_stage", Stage(row["stage"]).label),
            ("detail_payment",
             f"{PaymentMethod(row['payment_method']).label}　¥{row['payable_fen'] / 100:,.2f}"),
            ("detail_receiver", f"{cells.get(t('review_desk.col_receiver'), '')}　{phone}"),
            ("detail_address", f"{cells.get(t('review_desk.col_region'), '')} {street or ''}"),
            ("detail_message", row.get("buyer_message") or "—"),
            ("detail_memo", row.get("seller_memo") or "—"),
        ]
        if row.get("no_price_slip"):
            items.append(("detail_present", t("review_desk.present_yes")))
        if row.get("merged_into"):
            items.append(("detail_merged", row["merged_into"]))
        if model.lines is not None:
            items.append(("detail_lines", "\n".join(
                t("review_desk.line_item", title=r["title"], spec=r["spec"] or "", quantity=r["quantity"])
                for r in model.lines.iter_rows(named=True))))  # one order's lines
        reasons = "".join(f"<li>{escape(r)}</li>" for r in row.get("reasons") or [])
        body = "".join(f"<tr><th>{escape(t('review_desk.' + k))}</th><td>{escape(v)}</td></tr>"
                       for k, v in items)
        title = escape(t("review_desk.detail_title", order_no=row["order_no"]))
        self.value = (f'<div class="kit-section-title">{title}</div><table>'
                      f'<tr><th>{escape(t("review_desk.detail_reasons"))}</th>'
                      f'<td><ul class="kit-reasons">{reasons or "<li>—</li>"}</ul></td></tr>{body}</table>')


class HeldPanel(widgets.VBox):
    """挂起订单: the order list (held, approved or new), its actions, forms and the order's detail."""

    def __init__(self, model: ReviewDeskModel) -> None:
        lists = model.traits()["stage"].values  # the stages the model can list, held first
        self.switch = widgets.ToggleButtons(options=[(Stage(s).label, s) for s in lists], value=model.stage)
        self.switch.add_class("kit-stage-switch")
        self.switch.observe(lambda c: setattr(model, "stage", c["new"]), names="value")
        self.table = OrderTable(model.orders)
        self.forms = FormArea(model)
        self.actions = ActionBar(model, self.forms)
        self.detail = OrderDetail(model)
        super().__init__([self.switch, self.table, self.actions, self.forms, self.detail])
        self.add_class("kit-review-held")


class CodPanel(widgets.VBox):
    """货到付款电话确认 (S16): whom to call; after the call, "phone confirmed" releases the order."""

    def __init__(self, model: ReviewDeskModel) -> None:
        self.model = model
        self.hint = _html(t("review_desk.cod_hint"), "kit-hint")
        self.table = OrderTable(model.calls)
        self.button = button(t("review_desk.button_confirm_phone"), "kit-action-confirm-phone",
                             button_style="success")
        self.button.on_click(lambda _b: self._ask())
        self.confirm = Confirmation()
        bar = widgets.HBox([self.button])
        bar.add_class("kit-toolbar")
        super().__init__([self.hint, self.table, bar, self.confirm])
        self.add_class("kit-review-cod")
        for trait in ("allowed", "busy"):
            model.observe(self._draw, names=trait)
        model.calls.observe(self._draw, names="selected")
        self._draw()

    def _ask(self) -> None:
        keys = list(self.model.calls.selected)
        question = t("review_desk.confirm_question", count=len(keys),
                     action=t("review_desk.button_confirm_phone"))
        self.confirm.ask(question, lambda _reason: self.model.confirm_phone(keys))

    def _draw(self, _change: object = None) -> None:
        show(self.button, "confirm_phone" in self.model.allowed)
        self.button.disabled = self.model.busy or not self.model.calls.selected


class ReviewDesk(widgets.VBox):
    """The review desk page: title, who acts, tiles, message area and three tabs."""

    def __init__(self, model: ReviewDeskModel) -> None:
        self.model = model
        style = widgets.HTML(DESK_STYLE, layout=widgets.Layout(display="none"))
        self.run_review = button(t("review_desk.run_review"), "kit-run-review", icon="play",
                                 tooltip=t("review_desk.run_review_tooltip"))
        self.run_review.on_click(model.callback(model.run_review))
        self.refresh_button = button(t("ui.refresh"), "kit-refresh", icon="refresh",
                                     tooltip=t("review_desk.refresh_tooltip"))
        self.refresh_button.on_click(model.callback(model.refresh))
        header = self.header = DeskHeader(t("review_desk.title"), [self.run_review, self.refresh_button])
        self.title, self.subtitle = header.title, header.subtitle
        self.message = MessageArea(model)
        self.tiles = {name: KpiTile(t(f"review_desk.tile_{name}"), f"kit-kpi-review-{name}")
                      for name in ("held", "cod", "new")}
        tiles = widgets.Box(list(self.tiles.values()))
        tiles.add_class("kit-kpi-row")
        self.held, self.cod, self.reconcile = HeldPanel(model), CodPanel(model), ReconcilePanel(model)
        self.tabs = widgets.Tab([self.held, self.cod, self.reconcile])
        for i, name in enumerate(("tab_held", "tab_cod", "tab_reconcile")):
            self.tabs.set_title(i, t(f"review_desk.{name}"))
        self.tabs.add_class("kit-review-tabs")
        super().__init__([style, header, self.message, tiles, self.tabs])
        self.add_class("kit-review")
        model.observe(self._draw_counts, names="counts")
        model.observe(self._draw_shop, names=["shop", "allowed"])
        model.observe(self._draw_busy, names=["busy", "allowed"])
        self._draw_counts()
        self._draw_shop()
        self._draw_busy()

    def _draw_counts(self, _change: object = None) -> None:
        for name, tile in self.tiles.items():
            tile.number = self.model.counts.get(name) if self.model.counts else None

    def _draw_shop(self, _change: object = None) -> None:
        shop, model = self.model.shop, self.model
        notes = []
        if shop is not None and shop.actor is None:
            notes.append(t("review_desk.no_actor"))
        elif shop is not None and not model.allowed:
            notes.append(t("review_desk.read_only", role=Role(shop.actor.role).label))
        if shop is not None and not model.sees_phones:
            notes.append(t("review_desk.masked_note"))
        self.header.show(shop, *notes)

    def _draw_busy(self, _change: object = None) -> None:
        show(self.run_review, "run_review" in self.model.allowed)
        self.run_review.disabled = self.refresh_button.disabled = self.model.busy

"""The skeleton the desk pages with switchable lists share (warehouse, shipping, stock): the hidden
style sheet, the refresh button, the title line with who acts, the message area, the
confirmation step, the download link, the tiles kept to the model's counts, and the toggle that
picks one of the lists with a table for each. A desk adds its own parts and lays them all out.

CSS classes (stable, for browser tests): `kit-<css>` on the page, `kit-refresh`,
`kit-kpi-<css>-<name>` on the tiles, `kit-<css>-view` on the toggle and `kit-<css>-table-<view>`
on the tables, `kit-download` on the link; `kit-confirm…` of kit.ui.review_forms.Confirmation
and `kit-message` of kit.ui.widgets.MessageArea.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.parts import button, list_table, show
from kit.ui.review_forms import Confirmation
from kit.ui.session import DeskModel
from kit.ui.widgets import DeskHeader, KpiGroup, MessageArea

__all__ = ["DeskPage", "DownloadLink", "ViewSwitch"]


class ViewSwitch:
    """A desk's switchable lists: the toggle that picks one (`<css>-view`) and a table for each
    view (`<css>-table-<view>`), the one the model's `view` names shown."""

    def __init__(self, model: DeskModel, texts: str, css: str, views: Sequence[str]) -> None:
        self.model = model
        self.toggle = widgets.ToggleButtons(options=[(t(f"{texts}.view_{v}"), v) for v in views],
                                           value=model.view)
        self.toggle.add_class(f"{css}-view")
        self.toggle.observe(self._switched, names="value")
        self.tables = {view: list_table(model.tables[view], texts, f"{css}-table-{view}") for view in views}
        model.observe(self._show, names="view")
        self._show()

    def _switched(self, change: dict) -> None:
        self.model.view = change["new"]

    def _show(self, _change: object = None) -> None:
        self.toggle.value = self.model.view
        for view, table in self.tables.items():
            show(table, view == self.model.view)


class DownloadLink(widgets.HTML):
    """The link to the file a desk made (`kit-download`): an `<a download>` with a data: URI."""

    def __init__(self) -> None:
        super().__init__()
        self.add_class("kit-download")

    def show(self, data: bytes, name: str, mime: str, words: str) -> None:
        """Link to `data` as the file `name` of type `mime`, saying `words`; empty without data."""
        if not data:
            self.value = ""
            return
        encoded = base64.b64encode(data).decode("ascii")
        self.value = f'<a download="{escape(name)}" href="data:{mime};base64,{encoded}">{escape(words)}</a>'


class DeskPage(widgets.VBox):
    """Base of a desk page with switchable lists: it makes the parts every such desk has (see the
    module's note); the desk makes its own, then sets `children` in the order it shows them."""

    def __init__(self, model: DeskModel, texts: str, css: str, style: str, tiles: Sequence[str],
                 views: Sequence[str], buttons: Sequence[widgets.Widget] = ()) -> None:
        self.model = model
        self.style_sheet = widgets.HTML(style, layout=widgets.Layout(display="none"))
        self.refresh_button = button(t("ui.refresh"), "kit-refresh", "refresh")
        self.refresh_button.on_click(model.callback(model.refresh))
        self.header = DeskHeader(t(f"{texts}.title"), [self.refresh_button, *buttons])
        self.message = MessageArea(model)
        self.confirm = Confirmation()
        self.download = DownloadLink()
        self.kpis = KpiGroup(t(f"{texts}.kpis"), f"kit-kpi-{css}", {k: t(f"{texts}.kpi_{k}") for k in tiles})
        self.lists = ViewSwitch(model, texts, f"kit-{css}", views)
        self.switch, self.tables = self.lists.toggle, dict(self.lists.tables)
        super().__init__()
        self.add_class(f"kit-{css}")
        model.observe(self._show_counts, names="counts")
        self._show_counts()

    def _show_counts(self, _change: object = None) -> None:
        self.kpis.show(self.model.counts or None)

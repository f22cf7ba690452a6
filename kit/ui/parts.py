"""Small parts the desk pages are built from: their shared CSS, buttons, text boxes, dropdowns
(one that follows the model's choices), titled forms, section titles and list tables. Each
makes one widget with the CSS class the caller names; none decides anything. The skeleton of
a desk page is kit.ui.desk_page.

CSS classes: the callers'; `kit-form` on every form and `kit-section-title` on a section's title.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import ipywidgets as widgets

from kit.i18n import t
from kit.ui.table import OrderTable, TableModel
from kit.ui.widgets import STYLE

__all__ = [
    "FORM_STYLE", "LIST_STYLE", "Choices", "button", "choice", "desk_style", "form", "heading", "list_table",
    "section", "show", "text_box",
]

LIST_STYLE = """
<style>
.kit-status .kit-confirm .widget-button { width: auto; min-width: 72px; margin-left: 6px; }
.kit-status .kit-table-count { font-size: 13px; color: #4b5563; margin: 0 10px; }
.kit-status .kit-table-pager .widget-button { width: auto; min-width: 72px; }
</style>
"""
FORM_STYLE = """
<style>
.kit-status .kit-form { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; margin: 6px 0;
  background: #fafafa; flex-flow: row wrap; align-items: center; }
.kit-status .kit-form .widget-button { width: auto; min-width: 72px; margin-left: 6px; }
.kit-status .kit-header .widget-button { width: auto; min-width: 84px; margin-left: 6px; }
.kit-status .kit-confirm { align-items: center; background: #fffbeb; border: 1px solid #fcd34d;
  border-radius: 6px; padding: 6px 10px; margin: 4px 0; }
.kit-status .kit-download a { font-size: 14px; color: #1d4ed8; }
</style>
"""


def desk_style(root: str, own: str, *, forms: bool = True) -> str:
    """A desk's CSS: the status board's, the lists' (and the row forms') under `.root`, then its own."""
    return (STYLE + LIST_STYLE + (FORM_STYLE if forms else "")).replace(".kit-status", f".{root}") + own


def button(label: str, css: str, icon: str = "", **kwargs: Any) -> widgets.Button:
    """A button with this label, CSS class and Font Awesome icon (and any other Button settings)."""
    made = widgets.Button(description=label, icon=icon, **kwargs)
    made.add_class(css)
    return made


def text_box(placeholder: str, css: str, width: str | None = None, **kwargs: Any) -> widgets.Text:
    """A text box with this placeholder, CSS class and width (and any other Text settings)."""
    box = widgets.Text(placeholder=placeholder, layout=widgets.Layout(width=width), **kwargs)
    box.add_class(css)
    return box


def choice(description: str, css: str, width: str) -> widgets.Dropdown:
    """An empty dropdown with this description, CSS class and width."""
    dropdown = widgets.Dropdown(description=description, layout=widgets.Layout(width=width))
    dropdown.add_class(css)
    return dropdown


def show(widget: widgets.DOMWidget, shown: bool) -> None:
    """Show the widget, or hide it (display: none)."""
    widget.layout.display = None if shown else "none"


def heading(title: str, css: str | None = None) -> widgets.HTML:
    """A form's title in bold (with this CSS class, when given)."""
    made = widgets.HTML(f"<b>{escape(title)}</b>")
    if css:
        made.add_class(css)
    return made


def form(css: str, children: Sequence[widgets.Widget], title: str | None = None,
         box: type[widgets.Box] = widgets.HBox) -> widgets.Box:
    """A form: its children in a row (or in `box`), after its bold title when given; `kit-form` and `css`."""
    made = box([*([heading(title)] if title else []), *children])
    made.add_class("kit-form")
    made.add_class(css)
    return made


def section(title: str) -> widgets.HTML:
    """A section's title between the parts of a page."""
    return widgets.HTML(f'<div class="kit-section-title">{escape(title)}</div>')


def list_table(model: TableModel, texts: str, css: str) -> OrderTable:
    """A desk's table of one list, searched and paged with the words of the `texts` messages."""
    table = OrderTable(model, placeholder=t(f"{texts}.search"), texts=texts)
    table.add_class(css)
    return table


class Choices(widgets.Dropdown):
    """A dropdown of (label, value) choices the model offers; `picked(value)` runs when the person
    picks one, not while the model's choices are being shown."""

    def __init__(self, description: str, css: str, width: str, picked: Callable[[Any], object]) -> None:
        super().__init__(description=description, layout=widgets.Layout(width=width))
        self.add_class(css)
        self._picked = picked
        self._syncing = False
        self.observe(self._changed, names="value")

    def offer(self, choices: Sequence[tuple[str, Any]], chosen: Any) -> None:
        """Show these choices with `chosen` selected (nothing when it is not one of them)."""
        self._syncing = True
        try:
            self.options = list(choices)
            self.value = chosen if chosen in [v for _, v in choices] else None
        finally:
            self._syncing = False

    def _changed(self, change: dict) -> None:
        if not self._syncing and change["new"] is not None:
            self._picked(change["new"])

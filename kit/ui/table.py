"""A paged order table: a polars frame filtered, sorted and paged in polars; the grid holds one page.

`TableModel` (traitlets) holds the whole frame a desk read from a service, the search text,
the choice filters, the grid's header transforms, the page and the selected keys;
`OrderTable` draws it: a search box, an ipydatagrid `DataGrid` with one page of rows
(row selection: click, shift-click, ctrl-click) and a pager. What the grid's header menus
ask (sort, filter) is applied in polars to the whole frame, so a sort holds for every
page, not only for the rows the browser holds.

CSS classes (stable, for browser tests): `kit-table` (root), `kit-table-search`,
`kit-table-grid`, `kit-table-pager`, `kit-table-prev`, `kit-table-next`, `kit-table-count`,
`kit-table-empty`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as widgets
import pandas as pd
import polars as pl
from ipydatagrid import DataGrid, TextRenderer
from traitlets import Dict, HasTraits, Instance, Int, List, Unicode, observe

from kit.i18n import t

__all__ = ["Column", "Frame", "OrderTable", "TableModel"]

KEY = "_key"  # the row key (order number) inside the shown frame; never drawn
ROW_PX, HEADER_PX = 30, 34
SCROLLBAR_PX = 18  # room for a horizontal scroll bar, so the last row is never hidden under it
FONT = '13px "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
GRID_STYLE = {
    "background_color": "#ffffff", "grid_line_color": "#eef0f3", "void_color": "#ffffff",
    "header_background_color": "#f3f4f6", "header_grid_line_color": "#e5e7eb",
    "selection_fill_color": "rgba(37, 99, 235, 0.14)", "selection_border_color": "#2563eb",
    "header_selection_fill_color": "rgba(37, 99, 235, 0.10)",
    "header_selection_border_color": "#2563eb",
}


class Frame(Instance):
    """A polars DataFrame trait: every new frame notifies (frames compare cell by cell, not as a bool)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(pl.DataFrame, **kwargs)

    def set(self, obj: HasTraits, value: Any) -> None:
        """Store the frame and notify observers unless it is the very same object."""
        new = self._validate(obj, value)
        old = obj._trait_values.get(self.name, self.default_value)
        obj._trait_values[self.name] = new
        if new is not old:
            obj._notify_trait(self.name, old, new)


@dataclass(frozen=True)
class Column:
    """One shown column: its header, the polars expression that computes it, its width in pixels."""

    label: str
    expr: pl.Expr
    width: int = 120
    number_format: str | None = None  # d3-format for numeric columns, e.g. ",.2f"


def _value(value: Any, numeric: bool) -> Any:
    return float(value) if numeric else str(value)


def header_filter(transform: Mapping[str, Any], dtype: pl.DataType) -> pl.Expr | None:
    """A grid header filter as a polars condition on the shown column; None when not understood."""
    column, op, value = transform.get("column"), transform.get("operator"), transform.get("value")
    if column is None:
        return None
    col, numeric = pl.col(column), dtype.is_numeric()
    text = col.cast(pl.String).fill_null("")
    try:
        if op in ("<", ">", "<=", ">=", "=", "!="):
            v = _value(value, numeric)
            return {"<": col < v, ">": col > v, "<=": col <= v, ">=": col >= v,
                    "=": col == v, "!=": col != v}[op]
        if op in ("empty", "notempty"):
            blank = col.is_null() | (text == "")
            return blank if op == "empty" else ~blank
        if op == "in":
            return col.is_in([_value(v, numeric) for v in value])
        if op == "between":
            return col.is_between(_value(value[0], numeric), _value(value[1], numeric))
        if op in ("contains", "stringContains", "!contains"):
            hit = text.str.contains(str(value), literal=True)
            return ~hit if op == "!contains" else hit
        if op == "startswith":
            return text.str.starts_with(str(value))
        if op == "endswith":
            return text.str.ends_with(str(value))
        if op == "isOnSameDay":
            return text.str.starts_with(str(value)[:10])
    except (TypeError, ValueError, IndexError):
        return None
    return None


class TableModel(HasTraits):
    """The rows a table shows: the whole frame, its filters and sort, one page, the selected keys."""

    frame = Frame(help="every row as the service returned it")
    query = Unicode("", help="search text: rows whose searched columns contain it")
    choices = Dict(help="column label → value the column must equal ('' or None: any)")
    transforms = List(Dict(), help="the grid header's sort and filter transforms")
    page = Int(0, help="the shown page, from 0")
    page_size = Int(15, help="rows per page")
    total = Int(0, help="rows left after the filters")
    rows = Frame(help="the shown page: the key and one column per label")
    selected = List(Unicode(), help="the keys (order numbers) selected in the table")

    def __init__(self, columns: Sequence[Column], *, key: str = "order_no",
                 search: Sequence[str] = (), page_size: int = 15,
                 frame: pl.DataFrame | None = None) -> None:
        self.columns = tuple(columns)
        self.key = key
        self.search = tuple(search)
        self._shown = pl.DataFrame(schema={KEY: pl.String})
        super().__init__(page_size=page_size)
        self.frame = frame if frame is not None else pl.DataFrame(schema={key: pl.String})

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Show other columns (e.g. masked or not) computed from the same frame."""
        self.columns = tuple(columns)
        self._frame_changed()

    @property
    def pages(self) -> int:
        """How many pages the filtered rows fill (at least one)."""
        return max(1, math.ceil(self.total / self.page_size))

    @observe("frame")
    def _frame_changed(self, _change: object = None) -> None:
        frame = self.frame
        if frame.height == 0 and frame.width <= 1:  # nothing read yet: no columns to compute from
            self._shown = pl.DataFrame(schema={KEY: pl.String, **{c.label: pl.String for c in self.columns}})
        else:
            self._shown = frame.select(pl.col(self.key).cast(pl.String).alias(KEY),
                                       *[c.expr.alias(c.label) for c in self.columns])
        self._recompute()

    @observe("query", "choices", "transforms", "page_size")
    def _filters_changed(self, _change: object = None) -> None:
        self.page = 0
        self._recompute()

    @observe("page")
    def _page_changed(self, _change: object = None) -> None:
        self._recompute()

    def filtered(self) -> pl.LazyFrame:
        """The shown frame after search, choices and header transforms, sorted (lazy, all pages)."""
        view = self._shown.lazy()
        schema = self._shown.schema
        if self.query.strip():
            needle = self.query.strip().lower()
            view = view.filter(pl.any_horizontal(
                pl.col(c).cast(pl.String).fill_null("").str.to_lowercase().str.contains(needle, literal=True)
                for c in (*self.search, KEY) if c in schema))
        for label, value in self.choices.items():
            if value not in ("", None) and label in schema:
                view = view.filter(pl.col(label) == value)
        for tr in self.transforms:
            if tr.get("type") == "filter" and tr.get("column") in schema:
                condition = header_filter(tr, schema[tr["column"]])
                if condition is not None:
                    view = view.filter(condition)
            elif tr.get("type") == "sort" and tr.get("column") in schema:
                view = view.sort(tr["column"], descending=bool(tr.get("desc")), nulls_last=True,
                                 maintain_order=True)
        return view

    def _recompute(self) -> None:
        rows = self.filtered().collect()
        self.total = rows.height
        page = min(max(self.page, 0), self.pages - 1)
        if page != self.page:
            self.page = page  # observed: computes again for the clamped page
            return
        self.rows = rows.slice(page * self.page_size, self.page_size)
        self.selected = []

    def select(self, keys: Sequence[str]) -> None:
        """Select these keys (those not in the frame are left out)."""
        known = set(self._shown[KEY].to_list()) if self._shown.height else set()
        self.selected = [k for k in dict.fromkeys(keys) if k in known]

    def selected_rows(self) -> pl.DataFrame:
        """The full rows of the frame whose keys are selected, in selection order."""
        order = pl.DataFrame({self.key: self.selected}, schema={self.key: pl.String})
        return order.join(self.frame, on=self.key, how="left", maintain_order="left")

    def next_page(self) -> None:
        """Show the next page (stays on the last)."""
        self.page = min(self.page + 1, self.pages - 1)

    def previous_page(self) -> None:
        """Show the previous page (stays on the first)."""
        self.page = max(self.page - 1, 0)


def _pandas(rows: pl.DataFrame) -> pd.DataFrame:
    """One page as the pandas frame DataGrid wants (no pyarrow: a page is a few dozen rows)."""
    shown = rows.drop(KEY)
    return pd.DataFrame({c: shown[c].to_list() for c in shown.columns}, columns=shown.columns)


class OrderTable(widgets.VBox):
    """Search box, one page of rows in a DataGrid (row selection), pager and selection count."""

    def __init__(self, model: TableModel, *, placeholder: str | None = None,
                 texts: str = "review_desk") -> None:
        self.model = model
        self.texts = texts  # the catalogue section with page_of, selected and no_rows (orders by default)
        self._syncing = False
        self.search = widgets.Text(placeholder=placeholder or t("review_desk.search"),
                                   continuous_update=False, layout=widgets.Layout(width="320px"))
        self.search.add_class("kit-table-search")
        self.search.observe(self._search_typed, names="value")
        renderers = {c.label: TextRenderer(font=FONT, format=c.number_format, horizontal_alignment="right")
                     for c in model.columns if c.number_format}
        self.grid = DataGrid(
            _pandas(model.rows), selection_mode="row", header_visibility="column",
            base_row_size=ROW_PX, base_column_header_size=HEADER_PX, grid_style=GRID_STYLE,
            default_renderer=TextRenderer(font=FONT, vertical_alignment="center"),
            header_renderer=TextRenderer(font=f"600 {FONT}", background_color="#f3f4f6"),
            renderers=renderers, column_widths={c.label: c.width for c in model.columns},
            layout=widgets.Layout(width="100%"))
        self.grid.add_class("kit-table-grid")
        self.grid.observe(self._grid_selected, names="selections")
        self.grid.observe(self._header_changed, names="_transforms")  # ipydatagrid's header menus
        self.empty = widgets.HTML()
        self.empty.add_class("kit-table-empty")
        self.prev = widgets.Button(description=t("review_desk.previous_page"), icon="chevron-left")
        self.prev.add_class("kit-table-prev")
        self.prev.on_click(lambda _b: model.previous_page())
        self.next = widgets.Button(description=t("review_desk.next_page"), icon="chevron-right")
        self.next.add_class("kit-table-next")
        self.next.on_click(lambda _b: model.next_page())
        self.count = widgets.HTML()
        self.count.add_class("kit-table-count")
        pager = widgets.HBox([self.prev, self.count, self.next], layout=widgets.Layout(align_items="center"))
        pager.add_class("kit-table-pager")
        super().__init__([self.search, self.grid, self.empty, pager])
        self.add_class("kit-table")
        model.observe(self._show_rows, names="rows")
        model.observe(self._show_selection, names="selected")
        self._show_rows()

    def _search_typed(self, change: Mapping[str, Any]) -> None:
        self.model.query = change["new"]

    def _header_changed(self, change: Mapping[str, Any]) -> None:
        self.model.transforms = list(change["new"])

    def _show_rows(self, _change: object = None) -> None:
        model = self.model
        rows = model.rows
        self._syncing = True
        try:
            self.grid.data = _pandas(rows)
            self.grid.clear_selection()
        finally:
            self._syncing = False
        self.grid.layout.height = f"{HEADER_PX + ROW_PX * max(rows.height, 1) + SCROLLBAR_PX}px"
        self.empty.value = (f"<div>{escape(t(f'{self.texts}.no_rows'))}</div>" if rows.height == 0 else "")
        self.empty.layout.display = None if rows.height == 0 else "none"
        self.prev.disabled = model.page <= 0
        self.next.disabled = model.page >= model.pages - 1
        self._show_selection()

    def _show_count(self) -> None:
        model = self.model
        text = t(f"{self.texts}.page_of", page=model.page + 1, pages=model.pages, total=model.total)
        if model.selected:
            text += "　" + t(f"{self.texts}.selected", count=len(model.selected))
        self.count.value = escape(text)

    def _grid_selected(self, _change: object = None) -> None:
        """Rows picked in the browser become the model's selected keys (in the grid's view order)."""
        if self._syncing:
            return
        keys = self.model.rows[KEY].to_list()
        visible = list(self.grid._visible_rows or range(len(keys)))  # view row → data row
        picked: list[str] = []
        for rect in self.grid.selections:
            for r in range(rect["r1"], rect["r2"] + 1):
                if r < len(visible) and visible[r] < len(keys):
                    picked.append(keys[visible[r]])
        self._syncing = True
        try:
            self.model.selected = list(dict.fromkeys(picked))
        finally:
            self._syncing = False

    def _show_selection(self, _change: object = None) -> None:
        """Keys selected in Python (a notebook, a test) are highlighted in the grid too."""
        self._show_count()
        if self._syncing:
            return
        keys = self.model.rows[KEY].to_list()
        visible = list(self.grid._visible_rows or range(len(keys)))
        where = {keys[d]: v for v, d in enumerate(visible) if d < len(keys)}
        last = max(len(self.model.columns) - 1, 0)
        rects = [{"r1": where[k], "r2": where[k], "c1": 0, "c2": last}
                 for k in self.model.selected if k in where]
        self._syncing = True
        try:
            self.grid.selections = rects
        finally:
            self._syncing = False

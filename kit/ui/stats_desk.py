"""The 统计 statistics wall (supervisor and everyone who reads; S22, S15, S6, S9, S20): the shipping
statistics table of a window by day, week or month and by carrier, warehouse, shop or packer,
its headline numbers as tiles, each view as a list, the four charts (on time by carrier, orders
by hour of payment against the cut-off, exceptions per carrier, the backlog by age), and the
whole table as an Excel workbook.

`StatsDeskModel` reads through kit.stats (one call: `statistics`) and writes the workbook with
kit.stats.export; it decides nothing itself. Values are shown as kit.stats.table shows them on
screen (rates in %, hours with one decimal, yuan; "-" where there is nothing to count). CSS classes
are listed in kit.ui.stats_view.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from traitlets import Bytes, Enum, Instance, Unicode

from kit import clock
from kit import stats as service
from kit.i18n import t
from kit.models import Role
from kit.shipping import carrier_names
from kit.shop import Shop
from kit.stats.table import cell, header, kind_of
from kit.ui.session import DeskModel
from kit.ui.table import Column, TableModel

__all__ = ["BY_CHOICES", "KPIS", "VIEWS", "StatsDeskModel", "stats_desk", "view_columns"]

VIEWS = ("shipping", "orders", "exceptions", "after_sales", "categories", "notices", "backorders")
KPIS = ("shipments", "on_time_pct", "hours_median", "exceptions", "refunds", "backorders")
BY_CHOICES = ("carrier,warehouse", "carrier", "warehouse", "shop", "staff", "")  # the breakdowns offered
DAYS = 7  # the window shown first: the last week, today included
_ROW = "_row"  # the lists' key: the row's number in its view


def _width(column: str) -> int:
    """A column as wide as its header (13 px a CJK character, 7 px others, 30 px padding) or its values."""
    label = header(column)
    need = sum(13 if ord(c) > 0x2E80 else 7 for c in label) + 30
    least = {"text": 110, "date": 100, "time": 130}.get(kind_of(column), 80)
    return max(need, least)


def view_columns(frame: pl.DataFrame, carriers: dict[str, str] | None = None) -> list[Column]:
    """The list's columns for a view: counts as numbers, carriers by their names, everything else
    as the screen shows it."""
    columns = []
    for name in frame.columns:
        if name == _ROW:
            continue
        if name == "carrier_code" and carriers:
            named = pl.col(name).replace_strict(carriers, default=pl.col(name), return_dtype=pl.String)
            columns.append(Column(header(name), named.fill_null("-"), _width(name)))
            continue
        if kind_of(name) == "count" and frame.schema[name].is_integer():
            columns.append(Column(header(name), pl.col(name).fill_null(0), _width(name), ",d"))
            continue
        shown = pl.col(name).map_elements(lambda v, c=name: cell(c, v), return_dtype=pl.String)
        columns.append(Column(header(name), shown.fill_null("-"), _width(name)))
    return columns


class StatsDeskModel(DeskModel):
    """What the statistics wall shows: one window's table, its tiles, lists and charts, the workbook."""

    view = Enum(VIEWS, default_value="shipping", help="which list the table shows")
    first = Instance(date, allow_none=True, help="the window's first day")
    last = Instance(date, allow_none=True, help="the window's last day")
    period = Enum(("day", "week", "month"), default_value="day", help="one row per day, week or month")
    by = Unicode("carrier,warehouse", help="the dimensions of the shipping table, comma-separated")
    statistics = Instance(service.Statistics, allow_none=True, help="the statistics last read")
    workbook = Bytes(b"", help="the last workbook made for download")
    workbook_name = Unicode("", help="its file name")

    def __init__(self, shop: Shop | None = None, **kwargs: Any) -> None:
        super().__init__(shop, **kwargs)
        today = clock.now().date()
        self.first, self.last = today - timedelta(days=DAYS - 1), today
        self.tables = {v: TableModel([], key=_ROW, page_size=12) for v in VIEWS}
        self._allow()

    def _may(self, role: Role) -> list[str]:
        return ["read"]  # everyone with a role reads the statistics and takes the workbook

    # --- reading ---------------------------------------------------------------------------

    def choose(
        self,
        first: date | str | None = None,
        last: date | str | None = None,
        *,
        period: str | None = None,
        by: str | None = None,
    ) -> bool:
        """Read the table of another window, period or breakdown (refused in words if they make no sense)."""
        return self.attempt(self._choose, first, last, period, by) is not None

    def _choose(self, first: Any, last: Any, period: str | None, by: str | None) -> bool:
        win = service.window(first or self.first, last or self.last or first)  # checks order and dates
        self.first, self.last = win.first, win.last
        if period is not None:
            self.period = period
        if by is not None:
            self.by = by
        self._read()
        return True

    def _read(self) -> bool:
        shop = self.require_shop()
        self.workbook = b""  # a workbook of another window would be stale
        table = service.statistics(
            shop, self.first, self.last, period=self.period, by=[d for d in self.by.split(",") if d]
        )
        names = carrier_names(shop.config)
        for view in VIEWS:
            frame = table.views[view].with_row_index(_ROW)
            model = self.tables[view]
            model.columns = tuple(view_columns(frame, names))
            model.frame = frame
        self.statistics = table
        self.counts = self._tiles(table)
        return True

    @staticmethod
    def _tiles(table: service.Statistics) -> dict[str, int | None]:
        """The headline numbers: parcels, % on time, median hours to hand-over, exceptions, refunds
        made, backordered lines (whole numbers: the lists hold the decimals; None, shown as a dash,
        where nothing was timed)."""
        head = table.views["summary"].row(0, named=True) if table.views["summary"].height else {}
        rate, hours = head.get("on_time_rate"), head.get("hours_median")
        refunds = table.views["after_sales"]
        backorders = table.views["backorders"]
        return {
            "shipments": int(head.get("shipments") or 0),
            "on_time_pct": round(rate * 100) if rate is not None else None,
            "hours_median": round(hours) if hours is not None else None,
            "exceptions": int(table.views["exceptions"]["exceptions"].sum() or 0)
            if table.views["exceptions"].height
            else 0,
            "refunds": int(refunds["refunded"].sum() or 0) if refunds.height else 0,
            "backorders": int(backorders["lines"].sum() or 0) if backorders.height else 0,
        }

    # --- the workbook --------------------------------------------------------------------------

    def export(self) -> bool:
        """The statistics table as an Excel workbook (one sheet per view) for download."""
        return self.attempt(self._export) is not None

    def _export(self) -> bytes:
        if self.statistics is None:
            self._read()
        table = self.statistics
        name = f"{t('stats_desk.workbook_name')}-{self.first:%Y%m%d}-{self.last:%Y%m%d}.xlsx"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            service.write_xlsx(table, path)
            data = path.read_bytes()
        self.workbook_name = name  # first: the link is drawn when the bytes change
        self.workbook = data
        self.show_info(t("stats_desk.exported", name=name, sheets=len(table.views)))
        return data


def stats_desk(shop: Shop | None = None) -> Any:
    """The statistics wall for a dashboard cell: open the shop (unless given), read, draw."""
    from kit.ui.stats_view import StatsDesk

    model = StatsDeskModel(shop)
    model.refresh()
    return StatsDesk(model)

"""The statistics wall's widgets: header with the workbook button, the window form (first and last
day, period, breakdown), tiles, the list switch and its tables, the charts, the download link and
the message area. They draw a `StatsDeskModel` (kit.ui.stats_desk) and call its methods.

CSS classes (stable, for browser tests): `kit-stats` (root), `kit-refresh`, `kit-action-export`,
`kit-form-window` with `kit-stats-first`, `kit-stats-last`, `kit-stats-period`, `kit-stats-by` and
`kit-stats-apply`; `kit-kpi-stats-<name>` (shipments, on_time_pct, hours_median, exceptions,
refunds, backorders); `kit-stats-view`, `kit-stats-table-<view>`; `kit-stats-charts` (the bqplot
figures, kit.stats.charts); `kit-download`; `kit-message`.
"""

from __future__ import annotations

import ipywidgets as widgets

from kit.i18n import t
from kit.stats.table import cutoff_of
from kit.ui.desk_page import DeskPage
from kit.ui.parts import button, choice, desk_style, form, section
from kit.ui.stats_desk import BY_CHOICES, KPIS, VIEWS, StatsDeskModel

__all__ = ["XLSX", "StatsDesk"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DESK_STYLE = desk_style(
    "kit-stats",
    """
<style>
.kit-stats .kit-action-export { background: #16a34a; color: #fff; }
.kit-stats .kit-stats-charts .bqplot { min-height: 300px; }
</style>
""",
)


class StatsDesk(DeskPage):
    """The 统计 page: the window form, tiles, the lists, the charts and the workbook."""

    def __init__(self, model: StatsDeskModel) -> None:
        self.export_button = button(t("stats_desk.button_export"), "kit-action-export", "download")
        self.export_button.on_click(lambda _b: model.export())
        super().__init__(model, "stats_desk", "stats", DESK_STYLE, KPIS, VIEWS, [self.export_button])
        self.window_form = self._window_form()
        self.charts = widgets.VBox()
        self.charts.add_class("kit-stats-charts-area")
        self.children = [
            self.style_sheet,
            self.header,
            self.message,
            self.window_form,
            self.download,
            self.kpis,
            self.switch,
            *self.tables.values(),
            section(t("stats_desk.charts_title")),
            self.charts,
        ]
        model.observe(self._show_charts, names="statistics")
        model.observe(self._show_download, names=["workbook", "workbook_name"])
        model.observe(self._show_window, names=["first", "last", "period", "by"])
        model.observe(self._show_allowed, names=["allowed", "shop"])
        self._show_window()
        self._show_charts()
        self._show_allowed()

    def _window_form(self) -> widgets.Box:
        self.first = widgets.DatePicker(description=t("stats_desk.first"))
        self.first.add_class("kit-stats-first")
        self.last = widgets.DatePicker(description=t("stats_desk.last"))
        self.last.add_class("kit-stats-last")
        self.period = choice(t("stats_desk.period"), "kit-stats-period", "180px")
        self.period.options = [(t(f"stats.period.{p}"), p) for p in ("day", "week", "month")]
        self.by = choice(t("stats_desk.by"), "kit-stats-by", "260px")
        self.by.options = [(t(f"stats_desk.by_{b.replace(',', '_') or 'none'}"), b) for b in BY_CHOICES]
        self.apply = button(t("stats_desk.button_apply"), "kit-stats-apply", "search")
        self.apply.on_click(self._apply)
        return form("kit-form-window", [self.first, self.last, self.period, self.by, self.apply])

    def _apply(self, _button: object = None) -> None:
        self.model.choose(self.first.value, self.last.value, period=self.period.value, by=self.by.value)

    def _show_window(self, _change: object = None) -> None:
        model = self.model
        self.first.value, self.last.value = model.first, model.last
        self.period.value = model.period
        self.by.value = model.by if model.by in BY_CHOICES else BY_CHOICES[0]

    def _show_charts(self, _change: object = None) -> None:
        table = self.model.statistics
        if table is None:
            self.charts.children = []
            return
        from kit.stats.charts import charts_box

        shop = self.model.shop
        self.charts.children = [charts_box(table, cutoff_of(shop.config) if shop is not None else None)]

    def _show_allowed(self, _change: object = None) -> None:
        self.export_button.layout.display = None if "read" in self.model.allowed else "none"
        self.header.show(self.model.shop)

    def _show_download(self, _change: object = None) -> None:
        name = self.model.workbook_name
        self.download.show(self.model.workbook, name, XLSX, t("stats_desk.download", name=name))

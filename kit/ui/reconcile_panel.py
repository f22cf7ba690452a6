"""The reconciliation panel (对账, S6): a day and the count pre-sales typed in, against the orders
registered that day per channel and stage. It draws a `ReviewDeskModel` (any model with
`reconcile(day, counted)`, `reconciliation`, `day`, `allowed` and `busy` will do: the
after-sales desk reconciles counts too).

CSS classes (stable, for browser tests): `kit-reconcile` (root, also `kit-review-reconcile` on
the review desk), `kit-recon-day`, `kit-recon-count`, `kit-recon-run`, `kit-recon-verdict`,
`kit-recon-table` (rows `kit-recon-<stage>`), `kit-kpi-recon-imported`, `kit-kpi-recon-counted`,
`kit-kpi-recon-difference`.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import polars as pl

from kit.i18n import t
from kit.models import Stage
from kit.ui.widgets import KpiTile

if TYPE_CHECKING:
    from kit.ui.review_desk import ReviewDeskModel

__all__ = ["RECONCILE_STYLE", "ReconcilePanel"]

RECONCILE_STYLE = """
<style>
.kit-reconcile .kit-recon-table .widget-html-content { line-height: 1.5; font-size: 13px; }
.kit-reconcile .kit-recon-table table { border-collapse: collapse; font-size: 13px; margin-top: 6px; }
.kit-reconcile .kit-recon-table th, .kit-reconcile .kit-recon-table td { border-bottom: 1px solid #eef0f3;
  padding: 2px 18px 2px 0; text-align: left; font-variant-numeric: tabular-nums; }
.kit-reconcile .kit-recon-table .kit-zero { color: #b0b7c3; }
.kit-reconcile .kit-recon-verdict .widget-html-content { font-size: 14px; line-height: 1.5; }
.kit-reconcile .kit-recon-ok { color: #166534; }
.kit-reconcile .kit-recon-off { color: #b91c1c; font-weight: 600; }
.kit-reconcile .widget-html.kit-kpi-recon-difference { background: #fef2f2; border-color: #fecaca; }
.kit-reconcile .kit-kpi-zero.kit-kpi-recon-difference { background: #f0fdf4; border-color: #bbf7d0; }
</style>
"""


class ReconcilePanel(widgets.VBox):
    """对账 (S6): a day and the count pre-sales typed in, against the orders registered that day."""

    def __init__(self, model: ReviewDeskModel) -> None:
        self.model = model
        self.day = widgets.DatePicker(value=model.day, description=t("review_desk.recon_day"))
        self.day.add_class("kit-recon-day")
        self.count = widgets.Text(description=t("review_desk.recon_count"),
                                  placeholder=t("review_desk.recon_count_placeholder"),
                                  style={"description_width": "initial"},
                                  layout=widgets.Layout(width="330px"))
        self.count.add_class("kit-recon-count")
        self.run = widgets.Button(description=t("review_desk.recon_run"), button_style="primary")
        self.run.add_class("kit-recon-run")
        self.run.on_click(model.callback(lambda: model.reconcile(self.day.value, self.count.value)))
        bar = widgets.HBox([self.day, self.count, self.run])
        bar.add_class("kit-toolbar")
        self.imported = KpiTile(t("review_desk.recon_imported"), "kit-kpi-recon-imported")
        self.counted = KpiTile(t("review_desk.recon_counted"), "kit-kpi-recon-counted")
        self.difference = KpiTile(t("review_desk.recon_difference"), "kit-kpi-recon-difference")
        tiles = widgets.Box([self.imported, self.counted, self.difference])
        tiles.add_class("kit-kpi-row")
        self.verdict = widgets.HTML()
        self.verdict.add_class("kit-recon-verdict")
        self.table = widgets.HTML()
        self.table.add_class("kit-recon-table")
        hint = widgets.HTML(f'<div class="kit-hint">{escape(t("review_desk.recon_hint"))}</div>')
        super().__init__([hint, bar, tiles, self.verdict, self.table])
        self.add_class("kit-reconcile")
        self.add_class("kit-review-reconcile")
        model.observe(self._draw, names="reconciliation")
        model.observe(self._allow, names=["allowed", "busy"])
        self._draw()
        self._allow()

    def _allow(self, _change: object = None) -> None:
        self.run.layout.display = None if "reconcile" in self.model.allowed else "none"
        self.run.disabled = self.model.busy

    def _draw(self, _change: object = None) -> None:
        result = self.model.reconciliation
        if result is None:
            for tile in (self.imported, self.counted, self.difference):
                tile.number = None
            self.verdict.value = f'<div class="kit-hint">{escape(t("review_desk.recon_not_counted"))}</div>'
            self.table.value = ""
            return
        channels = result.channels
        typed = channels.filter(pl.col("counted").is_not_null())
        row = typed.row(0, named=True) if typed.height else None
        self.imported.number = int(row["imported"] if row else channels["imported"].sum())
        self.counted.number = None if row is None else int(row["counted"])
        self.difference.number = None if row is None else int(row["difference"])
        self.verdict.value = self._verdict(row, result.quarantined)
        stages = [str(s) for s in Stage]
        head = "".join(  # one column per channel: a few
            f"<th>{escape(t('review_desk.recon_channel', platform=c['platform'], shop=c['shop']))}</th>"
            for c in channels.iter_rows(named=True))
        body = ""
        for stage in ("imported", *stages):
            label = t("review_desk.recon_imported") if stage == "imported" else Stage(stage).label
            cells = "".join(f'<td class="{"kit-zero" if not n else ""}">{n:,}</td>' for n in channels[stage])
            body += f'<tr class="kit-recon-{stage}"><th>{escape(label)}</th>{cells}</tr>'
        self.table.value = (f'<table><tr><th>{escape(t("review_desk.recon_stage_heading"))}</th>{head}</tr>'
                            f"{body}</table>")

    @staticmethod
    def _verdict(row: dict[str, Any] | None, quarantined: int) -> str:
        if row is None:
            text, css = t("review_desk.recon_not_counted"), "kit-hint"
        elif row["difference"] == 0:
            text, css = t("review_desk.recon_balanced"), "kit-recon-ok"
        elif row["difference"] > 0:
            text, css = t("review_desk.recon_missing", count=row["difference"]), "kit-recon-off"
        else:
            text, css = t("review_desk.recon_extra", count=-row["difference"]), "kit-recon-off"
        note = (f'<div class="kit-hint">{escape(t("review_desk.recon_quarantined", count=quarantined))}</div>'
                if quarantined else "")
        return f'<div class="{css}">{escape(text)}</div>{note}'

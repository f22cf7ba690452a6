"""Charts of the statistics for notebooks and Voilà dashboards, drawn with bqplot (widgets that
render in Voilà with nothing to install in the browser): the on-time rate over time by
carrier (S15), orders by hour of payment against the same-day cut-off (S5b, S19),
exceptions per carrier (S21) and what waits, by age (S24b). Each takes the frame its metric
returns (kit.stats.metrics) and gives a bqplot Figure; an empty frame gives an empty chart
that says so, never an exception.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import bqplot as bq
import numpy as np
import polars as pl

from kit.i18n import t
from kit.stats.metrics import BANDS, EXCEPTION_KINDS
from kit.stats.table import Statistics, header, label

LAYOUT = {"width": "100%", "height": "320px"}
COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _figure(title: str, marks: list, axes: list, legend: bool = False) -> bq.Figure:
    figure = bq.Figure(
        marks=marks,
        axes=axes,
        title=title,
        legend_location="top-right",
        fig_margin={"top": 50, "bottom": 50, "left": 60, "right": 20},
        layout=dict(LAYOUT),
    )
    figure.add_class("kit-stats-chart")
    return figure


def empty_chart(title: str) -> bq.Figure:
    """A chart with no marks whose title says there is nothing to show."""
    figure = _figure(t("stats.chart_empty", title=title), [], [])
    figure.add_class("kit-stats-empty")
    return figure


def on_time_chart(shipping: pl.DataFrame) -> bq.Figure:
    """One line per carrier: the on-time rate (handed over by ship_by) per period.

    Takes shipping_table(…, period, by=["carrier_code"]) (other by-columns are summed over)."""
    title = t("stats.chart_on_time")
    needed = {"period", "carrier_code", "on_time", "timed"}
    if shipping.height == 0 or not needed <= set(shipping.columns):
        return empty_chart(title)
    per = (
        shipping.group_by("carrier_code", "period")
        .agg(pl.col("on_time").sum(), pl.col("timed").sum())
        .filter(pl.col("timed") > 0)
        .with_columns(rate=pl.col("on_time") / pl.col("timed"))
        .sort("carrier_code", "period")
    )
    if per.height == 0:
        return empty_chart(title)
    x, y = bq.DateScale(), bq.LinearScale(min=0.0, max=1.0)
    marks = []
    for n, ((code,), rows) in enumerate(per.group_by(["carrier_code"], maintain_order=True)):
        days = rows["period"].cast(pl.Datetime("ms")).to_numpy()
        marks.append(
            bq.Lines(
                x=days,
                y=rows["rate"].to_numpy(),
                scales={"x": x, "y": y},
                colors=[COLOURS[n % len(COLOURS)]],
                labels=[str(code)],
                display_legend=True,
                marker="circle",
                marker_size=16,
            )
        )
    axes = [
        bq.Axis(scale=x, label=header("period")),
        bq.Axis(scale=y, side="left", tick_format=".0%", label=header("on_time_rate")),
    ]
    return _figure(title, marks, axes)


def hourly_chart(hourly: pl.DataFrame, cutoff: time | None = None) -> bq.Figure:
    """Bars of orders paid per hour of the day (before the cut-off in one colour, after it in
    another), and a line at the cut-off. Takes volume_by_hour(…)."""
    title = t("stats.chart_hourly")
    if hourly.height == 0 or int(hourly["paid"].sum()) == 0:
        return empty_chart(title)
    x, y = bq.LinearScale(min=-0.5, max=23.5), bq.LinearScale(min=0.0)
    hours = hourly["hour"].to_numpy().astype(float)
    before = hourly["before_cutoff"].fill_null(True).to_numpy()
    colours = [COLOURS[0] if b else COLOURS[1] for b in before]
    bars = bq.Bars(
        x=hours,
        y=hourly["paid"].to_numpy(),
        scales={"x": x, "y": y},
        colors=colours,
        padding=0.1,
        tooltip=bq.Tooltip(fields=["x", "y"], labels=[header("hour"), header("paid")]),
    )
    marks: list = [bars]
    if cutoff is not None:
        at = cutoff.hour + cutoff.minute / 60 - 0.5
        top = float(hourly["paid"].max())
        marks.append(
            bq.Lines(
                x=np.array([at, at]),
                y=np.array([0.0, top]),
                scales={"x": x, "y": y},
                colors=[COLOURS[3]],
                line_style="dashed",
                display_legend=True,
                labels=[t("stats.chart_cutoff", time=cutoff.strftime("%H:%M"))],
            )
        )
    axes = [
        bq.Axis(scale=x, label=header("hour"), tick_format="d"),
        bq.Axis(scale=y, side="left", label=header("paid"), tick_format="d"),
    ]
    return _figure(title, marks, axes)


def exceptions_chart(exceptions: pl.DataFrame) -> bq.Figure:
    """Stacked bars per carrier: its parcels' exceptions by kind. Takes exceptions_by_carrier(…)."""
    title = t("stats.chart_exceptions")
    if exceptions.height == 0 or "carrier_code" not in exceptions.columns:
        return empty_chart(title)
    per = (
        exceptions.group_by("carrier_code")
        .agg([pl.col(k).sum() for k in EXCEPTION_KINDS])
        .sort("carrier_code")
    )
    x, y = bq.OrdinalScale(), bq.LinearScale(min=0.0)
    bars = bq.Bars(
        x=per["carrier_code"].to_list(),
        y=[per[k].to_numpy() for k in EXCEPTION_KINDS],
        scales={"x": x, "y": y},
        type="stacked",
        colors=list(COLOURS[: len(EXCEPTION_KINDS)]),
        labels=[header(k) for k in EXCEPTION_KINDS],
        display_legend=True,
    )
    axes = [
        bq.Axis(scale=x, label=header("carrier_code")),
        bq.Axis(scale=y, side="left", label=header("exceptions"), tick_format="d"),
    ]
    return _figure(title, [bars], axes)


def backlog_chart(banded: pl.DataFrame, count: str = "orders") -> bq.Figure:
    """Bars of what waits per age band. Takes backlog_by_age(…) (count "orders") or
    backorders_by_age(…) (count "lines" or "units_missing")."""
    title = t("stats.chart_backlog", what=header(count))
    if banded.height == 0 or count not in banded.columns or int(banded[count].sum()) == 0:
        return empty_chart(title)
    order = {code: n for n, (code, _, _) in enumerate(BANDS)}
    rows = banded.sort(pl.col("band").replace_strict(order, default=len(order)))
    x, y = bq.OrdinalScale(), bq.LinearScale(min=0.0)
    bars = bq.Bars(
        x=[str(label("band", b)) for b in rows["band"]],
        y=rows[count].to_numpy(),
        scales={"x": x, "y": y},
        colors=[COLOURS[0]],
    )
    axes = [
        bq.Axis(scale=x, label=header("band")),
        bq.Axis(scale=y, side="left", label=header(count), tick_format="d"),
    ]
    return _figure(title, [bars], axes)


def charts_box(stats: Statistics, cutoff: time | None = None) -> Any:
    """The four charts of a statistics table (kit.stats.table.Statistics) in one ipywidgets box:
    on time by carrier (its shipping view summed over the other dimensions), orders by hour of
    payment against `cutoff`, exceptions per carrier, the backlog by age."""
    import ipywidgets as widgets

    shipping = stats.views["shipping"]
    if "carrier_code" not in shipping.columns:
        shipping = shipping.head(0)
    box = widgets.VBox(
        [
            on_time_chart(shipping),
            hourly_chart(stats.views["hourly"], cutoff),
            exceptions_chart(stats.views["exceptions"]),
            backlog_chart(stats.views["backlog"]),
        ]
    )
    box.add_class("kit-stats-charts")
    return box

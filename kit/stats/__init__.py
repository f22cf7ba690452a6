"""Shipping statistics (发货统计表, S22): the figures a supervisor runs the shop by — orders
through the shop (S6, S9), parcels, on time against ship_by, hours from payment to hand-over,
weight and freight per carrier (S15), exceptions (S21), refunds and after-sales, backorders,
stockout notices within 24 hours (S20) — each a polars frame with documented columns.

    >>> from kit import stats
    >>> table = stats.statistics(shop, "2026-12-01", "2026-12-31", period="week", by="carrier,warehouse")
    >>> table.views["shipping"]                       # one row per week × carrier × warehouse
    >>> frames = stats.read(shop, "2026-12-01", "2026-12-31")   # the raw columns, one query a table
    >>> stats.shipping_table(frames.shipments, "day", ["shop"])  # any metric, on any frames
    >>> stats.on_time_chart(stats.shipping_table(frames.shipments, "day", ["carrier_code"]))
    >>> stats.shipping_record(shop, "2026-12-03")     # every parcel handed over that day (S22)

The metrics (kit.stats.metrics) are pure functions of frames (kit.stats.frames gives their
columns), so notebooks, dashboards, the CLI (`kit stats`) and the benchmarks share them;
kit.stats.table puts them together, kit.stats.export writes XLSX and CSV, kit.stats.charts
draws them with bqplot (imported only when a chart is asked for: the core itself never
imports ipywidgets).
"""

from __future__ import annotations

from typing import Any

from kit.stats.export import write_csv, write_sheets, write_xlsx
from kit.stats.frames import Frames, read_all
from kit.stats.freight import estimate_freight, rate_frame, shop_rates
from kit.stats.metrics import (
    after_sales_summary,
    backlog_by_age,
    backorders_by_age,
    by_category,
    exceptions_by_carrier,
    order_flow,
    shipping_table,
    stockout_notices,
    summary,
    volume_by_hour,
)
from kit.stats.periods import Window, window
from kit.stats.table import (
    VIEWS,
    Statistics,
    compute,
    cutoff_of,
    read,
    record_frame,
    shipping_record,
    statistics,
)

__all__ = [
    "VIEWS",
    "Frames",
    "Statistics",
    "Window",
    "after_sales_summary",
    "backlog_by_age",
    "backlog_chart",
    "backorders_by_age",
    "by_category",
    "charts_box",
    "compute",
    "cutoff_of",
    "empty_chart",
    "estimate_freight",
    "exceptions_by_carrier",
    "exceptions_chart",
    "hourly_chart",
    "on_time_chart",
    "order_flow",
    "rate_frame",
    "read",
    "read_all",
    "record_frame",
    "shipping_record",
    "shipping_table",
    "shop_rates",
    "statistics",
    "stockout_notices",
    "summary",
    "volume_by_hour",
    "window",
    "write_csv",
    "write_sheets",
    "write_xlsx",
]

CHARTS = ("backlog_chart", "charts_box", "empty_chart", "exceptions_chart", "hourly_chart", "on_time_chart")


def __getattr__(name: str) -> Any:
    """The chart functions of kit.stats.charts, imported (with bqplot) on first use."""
    if name in CHARTS:
        from kit.stats import charts

        return getattr(charts, name)
    raise AttributeError(f"module 'kit.stats' has no attribute {name!r}")

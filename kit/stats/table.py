"""The statistics table (发货统计表, S22) as a whole: every view of one window computed from
the frames at once (pure: `compute`), the shop-level readers (`read`, `statistics`,
`shipping_record`, which check the role `read`), and each cell as staff read it (headers
and values in their language; null shows as "-", never as a number).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import polars as pl

from kit import clock
from kit.config import Config
from kit.i18n import catalogue, current_lang, t
from kit.permissions import require
from kit.stats import metrics
from kit.stats.frames import SHIPMENTS, Frames, read_all, read_lines, read_shipments, typed
from kit.stats.freight import estimate_freight, shop_rates
from kit.stats.periods import Window, check_period, dimensions, read_day, window

VIEWS = (
    "summary",
    "shipping",
    "orders",
    "exceptions",
    "after_sales",
    "categories",
    "staff",
    "notices",
    "hourly",
    "backorders",
    "backlog",
)
"""The views of the table, in the order they are shown and become sheets."""

# how a column's values read: count, rate (0..1), hours, kg, fen (shown in yuan), date, time, text
KINDS: dict[str, str] = {
    "period": "date",
    "on_time_rate": "rate",
    "exception_rate": "rate",
    "in_time_rate": "rate",
    "same_day_rate": "rate",
    "hours_median": "hours",
    "hours_p90": "hours",
    "oldest_hours": "hours",
    "weight_kg": "kg",
    "freight_fen": "fen",
    "asked_fen": "fen",
    "refunded_fen": "fen",
    "handed_over_at": "time",
    "packed_at": "time",
    "confirmed_at": "time",
    "paid_at": "time",
    "ship_by": "time",
    "before_cutoff": "flag",
    "shipment_id": "text",
}
TEXT_COLUMNS = (
    "carrier_code",
    "warehouse_code",
    "shop",
    "packed_by",
    "handed_over_by",
    "kind",
    "reason",
    "category",
    "band",
    "order_no",
    "items",
    "tracking_no",
)
# values shown through a catalogue section (the stored code stays in JSON)
LABELLED = {"kind": "after_sale_kind", "reason": "after_sale_reason", "band": "stats.band"}

RECORD: dict[str, pl.DataType] = {
    "handed_over_at": pl.Datetime("us"),
    "order_no": pl.String(),
    "shop": pl.String(),
    "shipment_id": pl.Int64(),
    "items": pl.String(),
    "units": pl.Int64(),
    "carrier_code": pl.String(),
    "tracking_no": pl.String(),
    "parcels": pl.Int64(),
    "weight_kg": pl.Float64(),
    "warehouse_code": pl.String(),
    "packed_by": pl.String(),
    "packed_at": pl.Datetime("us"),
    "handed_over_by": pl.String(),
    "confirmed_at": pl.Datetime("us"),
    "paid_at": pl.Datetime("us"),
    "ship_by": pl.Datetime("us"),
    "on_time": pl.Boolean(),
}
"""The shipping record's columns (S22): one row per shipment handed over."""


@dataclass
class Statistics:
    """Every view of one window: frames by name (VIEWS), and notes for the reader."""

    window: Window
    period: str
    by: list[str]
    views: dict[str, pl.DataFrame]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the window, the period, the dimensions, each view's rows, the notes."""
        return {
            "from": self.window.first.isoformat(),
            "to": self.window.last.isoformat(),
            "period": self.period,
            "by": self.by,
            "notes": self.notes,
            "views": {name: frame.to_dicts() for name, frame in self.views.items()},
        }


def cutoff_of(config: Config) -> time | None:
    """The same-day cut-off of the shop's deadline policy (tmall S5b, mall S19), else None."""
    settings = config.deadlines
    return {"tmall": settings.tmall_cutoff, "mall": settings.mall_cutoff}.get(settings.policy)


def compute(
    frames: Frames,
    win: Window,
    *,
    period: str = "day",
    by: Sequence[str] = (),
    now: datetime | None = None,
    cutoff: time | None = None,
    rates: pl.DataFrame | None = None,
) -> Statistics:
    """Every view of the window from its frames (pure: no database). `rates` (kit.stats.freight)
    prices the parcels; `now` judges notices not sent yet (default: the window's end)."""
    check_period(period)
    by = dimensions(list(by))
    moment = now or win.end
    as_of = min(win.end, moment)
    ships = frames.shipments
    if rates is not None:
        ships = estimate_freight(ships, rates)
    views = {
        "summary": metrics.summary(ships, win),
        "shipping": metrics.shipping_table(ships, period, by, win),
        "orders": metrics.order_flow(frames.orders, period, [b for b in by if b == "shop"], win),
        "exceptions": metrics.exceptions_by_carrier(ships, frames.exceptions, None, ["carrier_code"], win),
        "after_sales": metrics.after_sales_summary(frames.after_sales, None, ["kind", "reason"], win),
        "categories": metrics.by_category(ships, frames.lines, None, win),
        "staff": metrics.shipping_table(ships, None, ["packed_by"], win),
        "notices": metrics.stockout_notices(frames.notices, moment, period, win),
        "hourly": metrics.volume_by_hour(frames.orders, cutoff, win),
        "backorders": metrics.backorders_by_age(frames.backorders, as_of),
        "backlog": metrics.backlog_by_age(frames.orders, as_of),
    }
    notes = []
    summary = views["summary"].row(0, named=True)
    if rates is None or rates.height == 0:
        notes.append(t("stats.note_no_rates"))
    elif summary["shipments"]:
        notes.append(t("stats.note_freight", priced=summary["priced"], shipments=summary["shipments"]))
    if summary["unweighed"]:
        notes.append(t("stats.note_unweighed", count=summary["unweighed"]))
    if win.first > moment.date():
        notes.append(t("stats.note_future", first=win.first.isoformat()))
    return Statistics(win, period, by, views, notes)


def read(shop: Any, first: str | date, last: str | date | None = None) -> Frames:
    """The frames of a window (from `first` to `last`, both days included), read in one snapshot."""
    require(shop.actor, "read")
    win = window(first, last)
    with shop.store.read() as conn:
        return read_all(conn, win)


def statistics(
    shop: Any,
    first: str | date,
    last: str | date | None = None,
    *,
    period: str = "day",
    by: Sequence[str] | str = ("carrier", "warehouse"),
    freight: bool = True,
) -> Statistics:
    """The statistics table of the shop for a window: every view (S22, S15, S6, S9, S20)."""
    require(shop.actor, "read")
    win = window(first, last)
    check_period(period)
    columns = dimensions(by)
    with shop.store.read() as conn:
        frames = read_all(conn, win)
    rates = shop_rates(shop) if freight else None
    return compute(
        frames, win, period=period, by=columns, now=clock.now(), cutoff=cutoff_of(shop.config), rates=rates
    )


def record_frame(shipments: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The shipping record (S22) from SHIPMENTS and LINES: RECORD's columns, in hand-over order;
    items reads 帆布包×2、双层玻璃杯×1 (the SKU where the catalogue has no title)."""
    c = pl.col
    items = lines.group_by("shipment_id").agg(
        pl.concat_str([pl.coalesce(c("title"), c("sku")), pl.lit("×"), c("quantity").cast(pl.String)])
        .sort()
        .str.join("、")
        .alias("items"),
        c("quantity").sum().alias("units"),
    )
    frame = typed(shipments, SHIPMENTS).join(items, on="shipment_id", how="left", maintain_order="left")
    frame = frame.with_columns(
        c("units").fill_null(0),
        weight_kg=c("weight_g") / 1000.0,
        on_time=pl.when(c("ship_by").is_not_null()).then(c("handed_over_at") <= c("ship_by")),
    )
    return typed(frame.sort("handed_over_at", "shipment_id"), RECORD)


def shipping_record(shop: Any, day: str | date) -> pl.DataFrame:
    """Every shipment handed over on `day`, one row each (S22): RECORD's columns."""
    require(shop.actor, "read")
    win = window(read_day(day, "--record"))
    with shop.store.read() as conn:
        return record_frame(read_shipments(conn, win), read_lines(conn, win))


# --- cells as staff read them ----------------------------------------------------------------


def kind_of(column: str) -> str:
    """How a column's values read: count, rate, hours, kg, fen, date, time, flag or text."""
    if column in KINDS:
        return KINDS[column]
    return "text" if column in TEXT_COLUMNS else "count"


def header(column: str) -> str:
    """The column's header in the staff's language."""
    return t(f"stats.col.{column}")


def label(column: str, value: Any) -> Any:
    """A stored code as staff read it (after-sale kind and reason, age band), else the value."""
    section = LABELLED.get(column)
    if section is None or value is None:
        return value
    return catalogue(current_lang()).get(f"{section}.{value}", value)


def cell(column: str, value: Any) -> str:
    """One value as text: rates in %, hours and kg with one decimal, fen in yuan, null as "-"."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return t("stats.yes") if value else t("stats.no")
    kind = kind_of(column)
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind in ("hours", "kg"):
        return f"{value:,.1f}"
    if kind == "fen":
        return f"{value / 100:,.2f}"
    if kind == "time":
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "date":
        return value.isoformat()
    return str(label(column, value))


def view_title(name: str) -> str:
    """A view's title (and sheet name) in the staff's language."""
    return t(f"stats.view.{name}")


def text_rows(frame: pl.DataFrame) -> tuple[list[str], list[list[str]]]:
    """The frame's headers and every cell as text, for the screen and CSV."""
    headers = [header(name) for name in frame.columns]
    rows = [
        [cell(name, value) for name, value in zip(frame.columns, row, strict=True)]
        for row in frame.iter_rows()
    ]
    return headers, rows

"""The figures of the shipping statistics table (发货统计表, S22), each a pure function from the
frames of kit.stats.frames to a polars frame with documented columns. Rates are null (never
NaN) where nothing was there to count; counts are zero.

Every function that cuts by time takes `period` ("day", "week", "month"; None: the whole
window as one row per group) and puts the period's first day in a `period` column (Date)
first; `by` adds the shipments' columns named there (carrier_code, warehouse_code, shop,
packed_by) after it. `window` (a kit.stats.periods.Window) keeps only what happened inside
it; None keeps everything in the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

import polars as pl

from kit.models import ExceptionKind, RefundStatus, Stage
from kit.stats.frames import typed
from kit.stats.periods import Window, period_of

INT, FLOAT, DATE, STR = pl.Int64(), pl.Float64(), pl.Date(), pl.String()
c = pl.col

SHIPPING: dict[str, pl.DataType] = {
    "shipments": INT,
    "parcels": INT,
    "confirmed": INT,
    "timed": INT,
    "on_time": INT,
    "on_time_rate": FLOAT,
    "hours_median": FLOAT,
    "hours_p90": FLOAT,
    "weighed": INT,
    "unweighed": INT,
    "weight_kg": FLOAT,
    "priced": INT,
    "freight_fen": INT,
}
ORDER_FLOW: dict[str, pl.DataType] = {
    "paid": INT,
    "approved": INT,
    "shipped": INT,
    "confirmed": INT,
    "cancelled": INT,
}
EXCEPTION_KINDS = tuple(k.value for k in ExceptionKind)
EXCEPTIONS: dict[str, pl.DataType] = {
    "shipments": INT,
    **dict.fromkeys(EXCEPTION_KINDS, INT),
    "exceptions": INT,
    "exception_rate": FLOAT,
}
AFTER_SALES: dict[str, pl.DataType] = {
    "cases": INT,
    "open": INT,
    "refunded": INT,
    "asked_fen": INT,
    "refunded_fen": INT,
}
CATEGORIES: dict[str, pl.DataType] = {"category": STR, "shipments": INT, "units": INT, "skus": INT}
NOTICES: dict[str, pl.DataType] = {
    "notices": INT,
    "sent": INT,
    "in_time": INT,
    "late": INT,
    "waiting": INT,
    "cancelled": INT,
    "in_time_rate": FLOAT,
}
HOURLY: dict[str, pl.DataType] = {
    "hour": INT,
    "paid": INT,
    "shipped_same_day": INT,
    "same_day_rate": FLOAT,
    "before_cutoff": pl.Boolean(),
}
# age bands of what waits (backorders, the backlog): code, from hours, to hours (None: open-ended)
BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under_1d", 0, 24),
    ("1_3d", 24, 72),
    ("3_7d", 72, 168),
    ("over_7d", 168, None),
)
BACKORDERS: dict[str, pl.DataType] = {
    "band": STR,
    "lines": INT,
    "orders": INT,
    "units_missing": INT,
    "oldest_hours": FLOAT,
}
BACKLOG: dict[str, pl.DataType] = {"band": STR, "orders": INT, "late": INT, "oldest_hours": FLOAT}
OPEN_REFUNDS = (
    RefundStatus.WAIT_SELLER_AGREE.value,
    RefundStatus.WAIT_BUYER_RETURN_GOODS.value,
    RefundStatus.WAIT_SELLER_CONFIRM_GOODS.value,
)


def rate(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """part / whole, null where whole is zero (a rate of nothing is unknown, not NaN)."""
    return pl.when(whole > 0).then(part / whole).otherwise(None)


def _keys(column: str, period: str | None, by: Sequence[str]) -> list[pl.Expr]:
    return ([period_of(column, period)] if period else []) + [c(b) for b in by]


def _schema(
    period: str | None,
    by: Sequence[str],
    source: pl.Schema | dict[str, pl.DataType],
    values: dict[str, pl.DataType],
) -> dict[str, pl.DataType]:
    """The output columns: period, the by-columns with their source types, then the values."""
    head: dict[str, pl.DataType] = {"period": DATE} if period else {}
    return head | {b: source.get(b, STR) for b in by} | values


def _grouped(frame: pl.LazyFrame, keys: list[pl.Expr], aggs: list[pl.Expr]) -> pl.LazyFrame:
    """Group by the keys (sorted by them), or one row over everything when there are none."""
    if not keys:
        return frame.select(aggs)
    names = frame.select(keys).collect_schema().names()
    return frame.group_by(keys).agg(aggs).sort(names, nulls_last=True)


def shipping_table(
    shipments: pl.DataFrame, period: str | None = "day", by: Sequence[str] = (), window: Window | None = None
) -> pl.DataFrame:
    """The shipping statistics table (S22, S15): parcels handed over per period (and by).

    Columns: [period, by…,] shipments (handed over), parcels (boxes),
    confirmed (of those, confirmed on the platform, S9), timed (with a ship-by deadline),
    on_time (handed over at or before ship_by), on_time_rate (on_time / timed), hours_median
    and hours_p90 (hours from payment to hand-over, counted in whole minutes), weighed,
    unweighed (shipments with and without a recorded weight), weight_kg (of the weighed
    ones), priced and freight_fen (the shipments a freight estimate exists for, and its sum:
    kit.stats.freight; null when none).
    """
    frame = shipments.lazy().filter(c("handed_over_at").is_not_null())
    if window is not None:
        frame = frame.filter(window.holds("handed_over_at"))
    # whole minutes as 32-bit integers: the per-group quantiles select among them faster than
    # among float hours, and show to 0.1 hour anyway
    minutes = (c("handed_over_at") - c("paid_at")).dt.total_minutes().cast(pl.Int32)
    has_freight = "freight_fen" in shipments.columns
    counts = [
        pl.len().alias("shipments"),
        c("parcels").sum().alias("parcels"),
        c("confirmed_at").is_not_null().sum().alias("confirmed"),
        c("ship_by").is_not_null().sum().alias("timed"),
        (c("handed_over_at") <= c("ship_by")).sum().alias("on_time"),
        c("weight_g").is_not_null().sum().alias("weighed"),
        c("weight_g").is_null().sum().alias("unweighed"),
        (c("weight_g").sum() / 1000.0).alias("weight_kg"),
        (c("freight_fen").is_not_null().sum() if has_freight else pl.lit(0)).alias("priced"),
        (c("freight_fen").sum() if has_freight else pl.lit(0)).alias("freight_fen"),
    ]
    out = _with_hours(frame, _keys("handed_over_at", period, by), counts, minutes).with_columns(
        on_time_rate=rate(c("on_time"), c("timed")),
        freight_fen=pl.when(c("priced") > 0).then(c("freight_fen")),
    )
    return typed(out, _schema(period, by, shipments.schema, SHIPPING))


def _hours(minutes: pl.Expr) -> list[pl.Expr]:
    """The median and 90th percentile (linear) of the minutes, in hours."""
    return [
        (minutes.median() / 60.0).alias("hours_median"),
        (minutes.quantile(0.9, "linear") / 60.0).alias("hours_p90"),
    ]


def _with_hours(
    frame: pl.LazyFrame, keys: list[pl.Expr], counts: list[pl.Expr], minutes: pl.Expr
) -> pl.DataFrame:
    """The counts and the hours' quantiles per group (sorted by the keys), the same numbers as one
    group-by computing them all, in about a third of its time on millions of rows.

    A quantile in a group-by keyed by dates and strings gathers every group's values in polars'
    in-memory engine, which then computes the whole group-by, counts included. So the counts go
    through one group-by of their own (streaming), and the quantiles through a second one keyed
    by a 64-bit hash of the keys alone: an integer key, over two narrow columns. The hash stands
    for its group only if no two groups share one, which is checked; otherwise (never seen) the
    one group-by does it all.
    """
    if not keys:
        return frame.select(*counts, *_hours(minutes)).collect()
    names = frame.select(keys).collect_schema().names()
    table = frame.group_by(keys).agg(counts).with_columns(pl.struct(names).hash().alias("_key")).collect()
    if table["_key"].n_unique() == table.height:
        spread = frame.select(pl.struct(keys).hash().alias("_key"), minutes.alias("_minutes")).collect()
        hours = spread.group_by("_key").agg(_hours(c("_minutes")))
        if hours.height == table.height and hours["_key"].is_in(table["_key"].implode()).all():
            out = table.join(hours, on="_key", how="left").drop("_key")
            return out.sort(names, nulls_last=True)
    out = frame.group_by(keys).agg(*counts, *_hours(minutes)).sort(names, nulls_last=True)
    return out.collect()


def summary(shipments: pl.DataFrame, window: Window | None = None) -> pl.DataFrame:
    """One row: shipping_table's columns over the whole window (zeros when nothing shipped)."""
    return shipping_table(shipments, None, (), window)


def order_flow(
    orders: pl.DataFrame, period: str | None = "day", by: Sequence[str] = (), window: Window | None = None
) -> pl.DataFrame:
    """Orders through the shop per period (S6, S9): each milestone counted when it happened.

    Columns: [period, by… (shop, platform),] paid, approved, shipped (first parcel handed
    over), confirmed (every parcel confirmed on the platform), cancelled (paid in the period
    and cancelled since).
    """
    events = {
        "paid": c("paid_at"),
        "approved": c("approved_at"),
        "shipped": c("handed_over_at"),
        "confirmed": c("confirmed_at"),
        "cancelled": pl.when(c("stage") == Stage.CANCELLED.value).then(c("paid_at")),
    }
    parts = []
    for name, at in events.items():
        part = orders.lazy().select(*[c(b) for b in by], at.alias("at"), pl.lit(name).alias("event"))
        part = part.filter(c("at").is_not_null())
        parts.append(part.filter(window.holds("at")) if window is not None else part)
    aggs = [(c("event") == name).sum().alias(name) for name in events]
    out = _grouped(pl.concat(parts), _keys("at", period, by), aggs)
    return typed(out.collect(), _schema(period, by, orders.schema, ORDER_FLOW))


def exceptions_by_carrier(
    shipments: pl.DataFrame,
    exceptions: pl.DataFrame,
    period: str | None = None,
    by: Sequence[str] = ("carrier_code",),
    window: Window | None = None,
) -> pl.DataFrame:
    """Delivery exceptions of the parcels handed over (S21, S15), by kind, and their rate.

    A parcel counts under a kind when it has a case of that kind (exception_cases) or its
    tracking status says so (lost, damaged, refused), once however often it is recorded; the
    period is the parcel's hand-over. Columns: [period,] carrier_code (or by…), shipments,
    lost, damaged, wrong_address, refused, exceptions (parcels with any), exception_rate.
    """
    base = shipments.lazy().filter(c("handed_over_at").is_not_null())
    if window is not None:
        base = base.filter(window.holds("handed_over_at"))
    cases = exceptions.lazy().select("shipment_id", "kind")
    statuses = base.filter(c("tracking_status").is_in(EXCEPTION_KINDS)).select(
        "shipment_id", c("tracking_status").alias("kind")
    )
    flags = (
        pl.concat([cases, statuses])
        .group_by("shipment_id")
        .agg([(c("kind") == k).any().alias(k) for k in EXCEPTION_KINDS])
    )
    joined = base.join(flags, on="shipment_id", how="left").with_columns(
        [c(k).fill_null(False) for k in EXCEPTION_KINDS]
    )
    aggs = [
        pl.len().alias("shipments"),
        *[c(k).sum().alias(k) for k in EXCEPTION_KINDS],
        pl.any_horizontal(EXCEPTION_KINDS).sum().alias("exceptions"),
    ]
    out = _grouped(joined, _keys("handed_over_at", period, by), aggs).with_columns(
        exception_rate=rate(c("exceptions"), c("shipments"))
    )
    return typed(out.collect(), _schema(period, by, shipments.schema, EXCEPTIONS))


def after_sales_summary(
    after_sales: pl.DataFrame,
    period: str | None = None,
    by: Sequence[str] = ("kind", "reason"),
    window: Window | None = None,
) -> pl.DataFrame:
    """Refunds and after-sales (S2, S3, S24d) opened per period, by kind and reason.

    Columns: [period,] kind, reason (or by…), cases, open (still waiting on the seller or
    the buyer), refunded (refund status SUCCESS), asked_fen (amount asked), refunded_fen
    (amount of the refunded ones).
    """
    frame = after_sales.lazy()
    if window is not None:
        frame = frame.filter(window.holds("created_at"))
    done = c("refund_status") == RefundStatus.SUCCESS.value
    aggs = [
        pl.len().alias("cases"),
        c("refund_status").is_in(OPEN_REFUNDS).sum().alias("open"),
        done.sum().alias("refunded"),
        c("amount_fen").sum().alias("asked_fen"),
        c("amount_fen").filter(done).sum().alias("refunded_fen"),
    ]
    out = _grouped(frame, _keys("created_at", period, by), aggs)
    return typed(out.collect(), _schema(period, by, after_sales.schema, AFTER_SALES))


def by_category(
    shipments: pl.DataFrame, lines: pl.DataFrame, period: str | None = None, window: Window | None = None
) -> pl.DataFrame:
    """What went out per SKU category: [period,] category, shipments (carrying it), units, skus.

    A SKU missing from the catalogue counts under category null.
    """
    base = shipments.lazy().filter(c("handed_over_at").is_not_null())
    if window is not None:
        base = base.filter(window.holds("handed_over_at"))
    joined = lines.lazy().join(base.select("shipment_id", "handed_over_at"), on="shipment_id", how="inner")
    aggs = [
        c("shipment_id").n_unique().alias("shipments"),
        c("quantity").sum().alias("units"),
        c("sku").n_unique().alias("skus"),
    ]
    keys = [*_keys("handed_over_at", period, ()), c("category")]
    out = joined.group_by(keys).agg(aggs).sort([k.meta.output_name() for k in keys], nulls_last=True)
    return typed(out.collect(), _schema(period, (), {}, CATEGORIES))


def stockout_notices(
    notices: pl.DataFrame, now: datetime, period: str | None = "day", window: Window | None = None
) -> pl.DataFrame:
    """Stockout notices (S20) queued per period: was the buyer told within 24 working hours?

    Columns: [period,] notices, sent, in_time (sent at or before due_at), late (sent after
    it, or still unsent with due_at past at `now`), waiting (unsent, not yet due), cancelled
    (withdrawn unsent), in_time_rate (in_time / (in_time + late)).
    """
    frame = notices.lazy()
    if window is not None:
        frame = frame.filter(window.holds("created_at"))
    sent, unsent = c("sent_at").is_not_null(), c("sent_at").is_null()
    live = c("status") != "cancelled"
    aggs = [
        pl.len().alias("notices"),
        sent.sum().alias("sent"),
        (sent & (c("sent_at") <= c("due_at"))).sum().alias("in_time"),
        ((sent & (c("sent_at") > c("due_at"))) | (unsent & live & (c("due_at") < now))).sum().alias("late"),
        (unsent & live & (c("due_at") >= now)).sum().alias("waiting"),
        (unsent & ~live).sum().alias("cancelled"),
    ]
    out = _grouped(frame, _keys("created_at", period, ()), aggs).with_columns(
        in_time_rate=rate(c("in_time"), c("in_time") + c("late"))
    )
    return typed(out.collect(), _schema(period, (), {}, NOTICES))


def volume_by_hour(
    orders: pl.DataFrame, cutoff: time | None = None, window: Window | None = None
) -> pl.DataFrame:
    """Orders paid per hour of the day against the same-day cut-off (S5b, S19): all 24 hours.

    Columns: hour (0–23), paid, shipped_same_day (first parcel handed over on the day of
    payment), same_day_rate, before_cutoff (the whole hour lies before the cut-off; null
    without one).
    """
    frame = orders.lazy().filter(c("paid_at").is_not_null())
    if window is not None:
        frame = frame.filter(window.holds("paid_at"))
    same_day = c("handed_over_at").dt.date() == c("paid_at").dt.date()
    counted = frame.group_by(c("paid_at").dt.hour().cast(INT).alias("hour")).agg(
        pl.len().alias("paid"), same_day.sum().alias("shipped_same_day")
    )
    hours = pl.LazyFrame({"hour": list(range(24))}, schema={"hour": INT})
    out = (
        hours.join(counted, on="hour", how="left")
        .with_columns(c("paid").fill_null(0), c("shipped_same_day").fill_null(0))
        .with_columns(
            same_day_rate=rate(c("shipped_same_day"), c("paid")),
            before_cutoff=(c("hour") * 60 + 60 <= cutoff.hour * 60 + cutoff.minute)
            if cutoff
            else pl.lit(None),
        )
        .sort("hour")
    )
    return typed(out.collect(), HOURLY)


def _banded(
    frame: pl.LazyFrame, hours: pl.Expr, aggs: list[pl.Expr], columns: dict[str, pl.DataType]
) -> pl.DataFrame:
    """Rows per age band (every band, zeros where none) of what waits `hours` long."""
    band = pl.lit(BANDS[-1][0])
    for code, _, upper in reversed(BANDS[:-1]):
        band = pl.when(hours < upper).then(pl.lit(code)).otherwise(band)
    counted = (
        frame.with_columns(band.alias("band"), hours.alias("_hours"))
        .group_by("band")
        .agg(*aggs, c("_hours").max().alias("oldest_hours"))
    )
    bands = pl.LazyFrame({"band": [b[0] for b in BANDS]}, schema={"band": STR})
    out = bands.join(counted, on="band", how="left", maintain_order="left").with_columns(
        [c(name).fill_null(0) for name, dtype in columns.items() if dtype == INT]
    )
    return typed(out.collect(), columns)


def backorders_by_age(backorders: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Backorders (S24b) open at `as_of`, by how long they have waited.

    Columns: band (under_1d, 1_3d, 3_7d, over_7d: every band, zeros where none), lines,
    orders, units_missing, oldest_hours.
    """
    still = (c("closed_at").is_null() & (c("status") == "open")) | (c("closed_at") > as_of)
    frame = backorders.lazy().filter((c("since") <= as_of) & still)
    aggs = [
        pl.len().alias("lines"),
        c("order_no").n_unique().alias("orders"),
        c("missing").sum().alias("units_missing"),
    ]
    return _banded(frame, (pl.lit(as_of) - c("since")).dt.total_seconds() / 3600.0, aggs, BACKORDERS)


def backlog_by_age(orders: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Paid orders not yet handed over at `as_of` (cancelled and merged ones left out), by age
    since payment. Columns: band (as backorders_by_age), orders, late (past ship_by), oldest_hours.
    """
    waiting = (
        (c("paid_at") <= as_of)
        & (c("stage") != Stage.CANCELLED.value)
        & ~c("merged")
        & (c("handed_over_at").is_null() | (c("handed_over_at") > as_of))
    )
    frame = orders.lazy().filter(waiting)
    aggs = [pl.len().alias("orders"), (c("ship_by") < as_of).sum().alias("late")]
    return _banded(frame, (pl.lit(as_of) - c("paid_at")).dt.total_seconds() / 3600.0, aggs, BACKLOG)

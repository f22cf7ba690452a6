"""What the demo generator's modules share: state codes, time units, and column builders.

Timeline values are seconds after midnight of the first day, shop-local time (kit.clock).
"""

from __future__ import annotations

from datetime import datetime, time

import numpy as np
import polars as pl
import sqlalchemy as sa

from kit.store.frames import polars_dtype

DAY, HOUR, MINUTE = 86_400, 3_600, 60
DAYS = 14
SEEN_AT = time(20, 0)  # the demo shop is seen at 20:00 on `today` unless told otherwise
EPOCH = datetime(1970, 1, 1)
# Orders by hour of the day: quiet at night, busy at lunch, busiest in the evening.
HOUR_WEIGHTS = np.array([1.0, 0.6, 0.3, 0.2, 0.15, 0.2, 0.4, 0.9, 1.6, 2.4, 3.0, 3.2,
                         3.0, 2.8, 3.0, 3.1, 3.0, 2.9, 2.8, 3.4, 4.6, 5.4, 5.0, 3.0])
CUTOFF = 16 * HOUR  # allocated before 16:00 ships the same day (S5b)
ORDER_CARRIER_P = (0.06, 0.012, 0.01, 0.008, 0.005)  # how often buyers ask for each (S5)
# Codes in the order of kit.models.Stage, TradeStatus and ShipmentStage.
(NEW, HELD, APPROVED, BACKORDERED, ALLOCATED, PICKING, PACKED, HANDED_OVER, CONFIRMED,
 CANCELLED) = range(10)
(WAIT_BUYER_PAY, PAID_FORBID_CONSIGN, WAIT_SELLER_SEND_GOODS, SELLER_CONSIGNED_PART,
 WAIT_BUYER_CONFIRM_GOODS, TRADE_BUYER_SIGNED, TRADE_FINISHED, TRADE_CLOSED,
 TRADE_CLOSED_BY_TAOBAO) = range(9)
S_ALLOCATED, S_PICKING, S_PACKED, S_HANDED_OVER, S_CONFIRMED, S_CANCELLED = range(6)
SHIP_STAGE_OF = np.array([-1, -1, -1, -1, 0, 1, 2, 3, 4, 5])  # order stage → shipment stage
# What happens to a parcel after hand-over, and the tracking events it shows (at most 5).
NORMAL, FAILED, REFUSED, LOST, DAMAGED = range(5)
FAMILY_EVENTS = (("AP", "PU", "IT", "OFD", "DL"), ("AP", "PU", "IT", "OFD", "DF"),
                 ("PU", "IT", "RF", "RTN", "RTD"), ("AP", "PU", "IT", "LOST"),
                 ("AP", "PU", "IT", "DMG"))
NEVER = np.iinfo(np.int64).max // 2
# After-sale status (RefundStatus order) by kind (AfterSaleKind order), cumulative.
STATUS_P = np.array([[0.3, 0, 0, 0.3, 0.2, 0.2], [0.15, 0.2, 0.2, 0.15, 0.15, 0.15],
                     [0.15, 0.2, 0.2, 0.15, 0.15, 0.15], [0.2, 0.3, 0.2, 0.15, 0, 0.15]]).cumsum(1)


def table_frame(table: sa.Table, columns: dict[str, object]) -> pl.DataFrame:
    """A frame of the given columns in the table's column order, cast to its dtypes."""
    names = [c.name for c in table.columns if c.name in columns]
    if len(names) != len(columns):
        raise ValueError(f"{table.name} has no columns {sorted(set(columns) - set(names))}")
    frame = pl.DataFrame({n: columns[n] for n in names})
    return frame.cast({n: polars_dtype(table.c[n].type) for n in names})  # type: ignore[misc]


def moments(origin_s: int, t: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Timeline seconds as naive datetimes (null where not valid)."""
    s = pl.Series((t.astype(np.int64) + origin_s) * 1_000_000).cast(pl.Datetime("us"))
    if valid is not None:
        s.scatter(np.flatnonzero(~valid), None)
    return s


def unique_ints(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    """n distinct random integers in [low, high): draw, then redraw the repeats."""
    values = rng.integers(low, high, n)
    while True:
        repeat = np.ones(n, bool)
        repeat[np.unique(values, return_index=True)[1]] = False
        if not repeat.any():
            return values
        values[repeat] = rng.integers(low, high, int(repeat.sum()))


def between(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """n random whole seconds in [low, high)."""
    return rng.integers(int(low), int(high), n)


def working(rng: np.random.Generator, at: np.ndarray, opens: float, closes: float) -> np.ndarray:
    """Moments outside working hours move to the next opening, plus up to 90 minutes."""
    tod = at % DAY
    nxt = at - tod + np.where(tod < opens, 0, DAY) + int(opens) + between(rng, 0, 90 * MINUTE, at.size)
    return np.where((tod < opens) | (tod >= closes), nxt, at)


def labels(enum: type, codes: np.ndarray) -> pl.Series:
    """Codes (positions in the enum) as the members' stored strings."""
    return pl.Series([str(member) for member in enum]).gather(codes)

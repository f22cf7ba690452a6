"""Freight cost of the parcels handed over, estimated from the carriers' contract rate tables
(S15): the schema stores no price paid, so the table's price for the recorded weight is the
best figure the kit has, and it is labelled an estimate wherever it is shown.

What is priced: the standard service's table of the shipment's carrier from its warehouse's
province to the buyer's province, at the weighed weight (a shipment of several boxes as that
many boxes of equal weight), first weight then each started step. Not priced (freight_fen
null, and counted apart): no weight, no table for the carrier and route, heavier than the
table takes. The kit's made-up sample tables are never used: a shop without its own tables
gets no freight figures rather than invented ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from kit.carriers.rates import RateTable, provinces_of

RATES: dict[str, pl.DataType] = {
    "carrier_code": pl.String(),
    "origin_province": pl.String(),
    "province": pl.String(),
    "first_weight_g": pl.Int64(),
    "first_price_fen": pl.Int64(),
    "step_g": pl.Int64(),
    "step_price_fen": pl.Int64(),
    "max_weight_g": pl.Int64(),
}
"""One row per carrier, origin province and destination province: the standard service's prices."""


def rate_frame(tables: Iterable[RateTable], service: str = "standard") -> pl.DataFrame:
    """The standard service's prices of the shop's own (not sample) tables, as RATES."""
    frames = [
        table.to_frame().with_columns(max_weight_g=pl.lit(table.max_weight_g, pl.Int64))
        for table in tables
        if table.service == service and not table.sample
    ]
    if not frames:
        return pl.DataFrame(schema=RATES)
    joined = pl.concat(frames, how="vertical_relaxed")
    return joined.select([pl.col(name).cast(dtype) for name, dtype in RATES.items()]).unique(
        ["carrier_code", "origin_province", "province"], keep="first", maintain_order=True
    )


def shop_rates(shop: Any) -> pl.DataFrame:
    """RATES of the shop's tables in force (kit.toml's [carriers] rate_tables, plugins' tables)."""
    from kit import carriers  # loading the registry imports the plugins
    from kit.carriers.quoting import tables_in_force

    config = shop.config
    registry = carriers.load(config.carrier_settings, timeout=config.carrier_timeout)
    return rate_frame(tables_in_force(registry, config))


def _full_names(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The column's provinces as full official names (null where unknown), looked up once per name."""
    names = frame[column].drop_nulls().unique().to_list()
    mapping = dict(zip(names, provinces_of(names), strict=True))
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)


def estimate_freight(shipments: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """The shipments with a freight_fen column: the contract price of each (null where not priced)."""
    if shipments.height == 0 or rates.height == 0:
        return shipments.with_columns(freight_fen=pl.lit(None, pl.Int64))
    c = pl.col
    keyed = shipments.with_columns(
        _o=_full_names(shipments, "origin_province"), _d=_full_names(shipments, "province")
    )
    priced = keyed.join(
        rates.rename({"origin_province": "_o", "province": "_d"}),
        on=["carrier_code", "_o", "_d"],
        how="left",
        maintain_order="left",
    )
    boxes = c("parcels").clip(lower_bound=1)
    box_g = (c("weight_g") + boxes - 1) // boxes  # rounded up: no box is priced below its weight
    over = (box_g - c("first_weight_g")).clip(lower_bound=0)
    steps = (over + c("step_g") - 1) // c("step_g")
    charged = c("first_weight_g") + steps * c("step_g")
    price = (c("first_price_fen") + steps * c("step_price_fen")) * boxes
    fits = c("max_weight_g").is_null() | (charged <= c("max_weight_g"))
    freight = pl.when(c("weight_g").is_not_null() & (c("weight_g") > 0) & fits).then(price)
    return priced.with_columns(freight_fen=freight.cast(pl.Int64)).select(*shipments.columns, "freight_fen")

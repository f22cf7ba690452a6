"""In-stock alternatives for a missing item (S20): SKUs of the same category whose price is
within the shop's band of the missing one, with enough available in the shop's own
warehouses for the line; the closest in price first, then the best stocked. Whole-column:
the missing SKUs are joined to the catalogue by category once."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from kit.stock.levels import own_stock
from kit.store import schema
from kit.store.frames import read_frame

__all__ = ["ALTERNATIVE_COLUMNS", "alternatives"]

ALTERNATIVE_COLUMNS = [
    "sku",
    "quantity",
    "rank",
    "alt_sku",
    "alt_title",
    "alt_spec",
    "alt_price_fen",
    "alt_available",
]


def _in_stock(conn: sa.Connection) -> pl.DataFrame:
    """Physical SKUs with units available in own warehouses: sku, title, spec, category, price."""
    k, held = schema.skus, own_stock()
    return read_frame(
        conn,
        sa.select(k.c.sku, k.c.title, k.c.spec, k.c.category, k.c.price_fen, held.c.available)
        .join(held, held.c.sku == k.c.sku)
        .where(held.c.available > 0, k.c.is_virtual.is_(sa.false())),
    )


def alternatives(
    conn: sa.Connection, wanted: pl.DataFrame, *, limit: int = 3, band_percent: int = 20
) -> pl.DataFrame:
    """Up to `limit` alternatives per (sku, quantity) of `wanted`, ranked 1, 2, 3:
    ALTERNATIVE_COLUMNS. A SKU with none has no rows."""
    wanted = wanted.select(pl.col("sku").cast(pl.String), pl.col("quantity").cast(pl.Int64)).unique()
    if wanted.height == 0:
        return pl.DataFrame(
            schema={
                c: pl.Int64 if c in ("quantity", "rank", "alt_price_fen", "alt_available") else pl.String
                for c in ALTERNATIVE_COLUMNS
            }
        )
    k = schema.skus
    catalogue = read_frame(
        conn,
        sa.select(k.c.sku, k.c.category, k.c.price_fen).where(k.c.sku.in_(wanted["sku"].unique().to_list())),
    )
    missing = wanted.join(catalogue, on="sku")
    stocked = _in_stock(conn).rename(
        {c: f"alt_{c}" for c in ("sku", "title", "spec", "price_fen", "available")}
    )
    band = band_percent / 100
    candidates = missing.join(stocked, on="category").filter(
        pl.col("alt_sku") != pl.col("sku"),
        pl.col("alt_available") >= pl.col("quantity"),
        (pl.col("alt_price_fen") - pl.col("price_fen")).abs() <= pl.col("price_fen") * band,
    )
    ranked = candidates.sort(
        "sku",
        "quantity",
        (pl.col("alt_price_fen") - pl.col("price_fen")).abs(),
        pl.col("alt_available"),
        "alt_sku",
        descending=[False, False, False, True, False],
    )
    return (
        ranked.with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("sku", "quantity").alias("rank")
        )
        .filter(pl.col("rank") <= limit)
        .select(ALTERNATIVE_COLUMNS)
    )

"""What is short (S7): the open backorder lines, and per SKU the units missing across orders,
the orders waiting, what the shop's own warehouses hold that a transfer could bring (S23),
and whether the rest goes to purchasing or to production; as frames and as an XLSX."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import sqlalchemy as sa
import xlsxwriter

from kit.i18n import t
from kit.models import Stage
from kit.stock.levels import own_stock
from kit.store import schema
from kit.store.frames import read_frame

__all__ = ["LINE_COLUMNS", "SKU_COLUMNS", "shortage_lines", "shortages_by_sku", "write_xlsx"]

LINE_COLUMNS = [
    "order_no",
    "line_no",
    "sku",
    "title",
    "spec",
    "category",
    "price_fen",
    "quantity",
    "missing",
    "warehouse_code",
    "since",
    "paid_at",
]
SKU_COLUMNS = [
    "sku",
    "title",
    "category",
    "goes_to",
    "missing",
    "orders",
    "available",
    "to_source",
    "oldest_since",
    "order_nos",
]


def shortage_lines(conn: sa.Connection) -> pl.DataFrame:
    """Open backorder lines of orders still waiting (backordered), oldest first: LINE_COLUMNS."""
    bo, o, k = schema.backorders, schema.orders, schema.skus
    stmt = (
        sa.select(
            bo.c.order_no,
            bo.c.line_no,
            bo.c.sku,
            k.c.title,
            k.c.spec,
            k.c.category,
            k.c.price_fen,
            bo.c.quantity,
            bo.c.missing,
            bo.c.warehouse_code,
            bo.c.since,
            o.c.paid_at,
        )
        .join(o, o.c.order_no == bo.c.order_no)
        .join(k, k.c.sku == bo.c.sku, isouter=True)
        .where(bo.c.status == "open", bo.c.missing > 0, o.c.stage == str(Stage.BACKORDERED))
        .order_by(bo.c.since, bo.c.order_no, bo.c.line_no)
    )
    return read_frame(conn, stmt).select(LINE_COLUMNS)


def _available(conn: sa.Connection) -> pl.DataFrame:
    """Units available per SKU in the shop's own warehouses (headquarters and stores)."""
    own = own_stock()
    return read_frame(conn, sa.select(own.c.sku, own.c.available))


def shortages_by_sku(
    conn: sa.Connection, lines: pl.DataFrame, production_categories: tuple[str, ...] | list[str] = ()
) -> pl.DataFrame:
    """Per SKU (S7): missing units over all waiting orders, how many orders, what own warehouses
    hold now (`available`: a transfer may cover it, S23), what must still be sourced
    (`to_source`: the units the waiting lines want, less what own warehouses hold; each
    line's `missing` is already net of the stock where it is counted, so it cannot be set
    against `available` again), production or purchasing by category; most missing first.
    SKU_COLUMNS."""
    available = _available(conn)
    grouped = (
        lines.group_by("sku")
        .agg(
            pl.col("title").first(),
            pl.col("category").first(),
            pl.col("missing").sum(),
            pl.col("quantity").sum().alias("_wanted"),
            pl.col("order_no").n_unique().alias("orders"),
            pl.col("since").min().alias("oldest_since"),
            pl.col("order_no").unique().sort().str.join("、").alias("order_nos"),
        )
        .join(available, on="sku", how="left")
    )
    return (
        grouped.with_columns(
            pl.when(pl.col("category").is_in(list(production_categories)))
            .then(pl.lit("production"))
            .otherwise(pl.lit("purchasing"))
            .alias("goes_to"),
            pl.col("available").fill_null(0).clip(lower_bound=0).cast(pl.Int64),
        )
        .with_columns((pl.col("_wanted") - pl.col("available")).clip(lower_bound=0).alias("to_source"))
        .sort(["missing", "sku"], descending=[True, False])
        .select(SKU_COLUMNS)
    )


def _sheet(book: xlsxwriter.Workbook, name: str, frame: pl.DataFrame, headers: list[str]) -> None:
    """One sheet: bold headers, whole numbers as numbers, times as dates, widths that fit."""
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = book.add_format({"num_format": "0.00"})
    for col, title in enumerate(headers):
        sheet.write(0, col, title, bold)
        sheet.set_column(col, col, max(10, min(40, len(title) * 2 + 2)))
    for row, values in enumerate(frame.iter_rows(), start=1):
        for col, (name_, value) in enumerate(zip(frame.columns, values, strict=True)):
            if value is None:
                continue
            if name_.endswith("_fen"):
                sheet.write_number(row, col, value / 100, money)
            elif hasattr(value, "year"):
                sheet.write_datetime(row, col, value, when)
            elif isinstance(value, int | float):
                sheet.write_number(row, col, value)
            else:
                sheet.write_string(row, col, str(value))
    sheet.freeze_panes(1, 0)
    if frame.height:
        sheet.autofilter(0, 0, frame.height, len(headers) - 1)


def write_xlsx(path: str | Path, by_sku: pl.DataFrame, lines: pl.DataFrame) -> Path:
    """The shortage workbook: a sheet for purchasing, one for production, one with every
    waiting order line; headers in the active language. Returns the path written."""
    path = Path(path)
    sku_headers = [t(f"shortages.col_{c}") for c in SKU_COLUMNS]
    line_headers = [t(f"shortages.col_{c}") for c in LINE_COLUMNS]
    shown = by_sku.with_columns(
        pl.col("goes_to").replace_strict(
            {"purchasing": t("shortages.purchasing"), "production": t("shortages.production")}
        )
    )
    with xlsxwriter.Workbook(str(path)) as book:
        _sheet(
            book,
            t("shortages.sheet_purchasing"),
            shown.filter(by_sku["goes_to"] == "purchasing"),
            sku_headers,
        )
        _sheet(
            book,
            t("shortages.sheet_production"),
            shown.filter(by_sku["goes_to"] == "production"),
            sku_headers,
        )
        _sheet(book, t("shortages.sheet_lines"), lines, line_headers)
    return path

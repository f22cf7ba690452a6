"""Stock files (CSV in UTF-8 or GBK, or XLSX) read into a frame with the kit's column names:
warehouse_code, sku, quantity, and optionally low_stock_threshold and reason."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from kit.errors import BadInput

__all__ = ["HEADERS", "read_stock_file"]

HEADERS: dict[str, tuple[str, ...]] = {
    "warehouse_code": ("仓库", "仓库编码", "仓库代码", "warehouse", "warehouse_code"),
    "sku": ("商家编码", "商品编码", "sku编码", "货号", "sku"),
    "quantity": ("数量", "库存", "库存数量", "在库", "实际库存", "盘点数", "quantity", "qty", "on_hand"),
    "low_stock_threshold": ("预警值", "库存预警", "安全库存", "low_stock_threshold", "threshold"),
    "reason": ("备注", "原因", "reason", "note"),
}
REQUIRED = ("sku", "quantity")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def _decode(data: bytes, source: str) -> str:
    """The text of a CSV file in UTF-8 (with or without BOM) or GBK/GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadInput("stock.file_unreadable", file=source, detail="UTF-8 / GBK")


def _table(path: Path) -> pl.DataFrame:
    """Every cell as text, headers as written."""
    source = str(path)
    if not path.exists() or path.is_dir():
        raise BadInput("stock.file_missing", file=source)
    try:
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            # empty rows kept: the row numbers in messages are the workbook's own
            return pl.read_excel(path, engine="calamine", infer_schema_length=0, drop_empty_rows=False)
        if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
            raise BadInput("stock.file_type", file=source, suffix=path.suffix or "—")
        text = _decode(path.read_bytes(), source)
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        return pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False)
    except BadInput:
        raise
    except pl.exceptions.NoDataError:  # a 0-byte CSV, a workbook whose sheet is empty
        raise BadInput("stock.file_empty", file=source) from None
    except Exception as exc:  # a damaged workbook, a ragged CSV: name the file and the cause
        raise BadInput(
            "stock.file_unreadable",
            file=source,
            detail=str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
        ) from None


def read_stock_file(path: str | Path, *, warehouse: str | None = None) -> pl.DataFrame:
    """A stock file as a frame: warehouse_code, sku, quantity (text, checked later), _row (the
    row number in the file, header = 1), and low_stock_threshold / reason when present.
    `warehouse` fills warehouse_code when the file has no warehouse column."""
    path = Path(path)
    table = _table(path)
    by_name = {str(c).strip().lower(): c for c in table.columns}
    found = {
        name: next((by_name[a.lower()] for a in aliases if a.lower() in by_name), None)
        for name, aliases in HEADERS.items()
    }
    needed = (*REQUIRED, *(() if warehouse else ("warehouse_code",)))
    for name in needed:
        if found[name] is None:
            raise BadInput(
                "stock.file_missing_column",
                file=str(path),
                column="/".join(HEADERS[name]),
                columns="、".join(map(str, table.columns)) or "—",
            )
    frame = table.with_row_index("_row", offset=2).select(
        "_row", *[pl.col(src).alias(name) for name, src in found.items() if src is not None]
    )
    if found["warehouse_code"] is None:
        frame = frame.with_columns(pl.lit(warehouse).alias("warehouse_code"))
    elif warehouse:
        frame = frame.with_columns(pl.col("warehouse_code").fill_null(warehouse))
    frame = frame.with_columns(pl.col("warehouse_code", "sku").str.strip_chars())
    frame = frame.filter(
        ~pl.all_horizontal(
            pl.col("sku", "quantity").is_null() | (pl.col("sku", "quantity").str.strip_chars() == "")
        )
    )
    if frame.height == 0:
        raise BadInput("stock.file_empty", file=str(path))
    blank = frame.filter(
        pl.col("sku").is_null()
        | (pl.col("sku") == "")
        | pl.col("warehouse_code").is_null()
        | (pl.col("warehouse_code") == "")
    )
    if blank.height:
        name = "sku" if not blank["sku"][0] else "warehouse_code"
        column = found[name] or name  # the header as written in the file
        raise BadInput("stock.blank_cell", file=str(path), row=blank["_row"][0], column=column)
    return frame

"""Bulk reads into polars frames and bulk writes from them: one statement, whole columns."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
import sqlalchemy as sa

from kit.errors import BadInput

_DTYPES: list[tuple[type[sa.types.TypeEngine], pl.DataType]] = [
    (sa.Boolean, pl.Boolean()),
    (sa.BigInteger, pl.Int64()),
    (sa.Integer, pl.Int64()),
    (sa.Float, pl.Float64()),
    (sa.Numeric, pl.Float64()),
    (sa.DateTime, pl.Datetime("us")),
    (sa.Date, pl.Date()),
    (sa.Text, pl.String()),
    (sa.String, pl.String()),
]


def polars_dtype(sql_type: sa.types.TypeEngine) -> pl.DataType | None:
    """The polars dtype for a column's SQL type (None: let polars infer)."""
    for sa_type, dtype in _DTYPES:
        if isinstance(sql_type, sa_type):
            return dtype
    return None


def read_frame(conn: sa.Connection, stmt: sa.Select | sa.TextClause) -> pl.DataFrame:
    """Run a query and return every row as a DataFrame, typed from the query's columns."""
    result = conn.execute(stmt)
    names = list(result.keys())
    types: dict[str, pl.DataType | None] = dict.fromkeys(names)
    if isinstance(stmt, sa.Select):
        for col in stmt.selected_columns:
            types[col.key] = polars_dtype(col.type)
    rows = result.fetchall()
    if not rows:
        return pl.DataFrame(schema={n: types[n] or pl.String() for n in names})
    known = {n: d for n, d in types.items() if d is not None}
    frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
    return frame.cast(known) if known else frame  # type: ignore[arg-type]


def check_columns(table: sa.Table, frame: pl.DataFrame) -> None:
    """Refuse a frame with columns the table lacks or without the table's required ones."""
    unknown = [c for c in frame.columns if c not in table.c]
    if unknown:
        raise BadInput("store.unknown_columns", table=table.name, columns=", ".join(unknown))
    required = [
        c.name
        for c in table.columns
        if not c.nullable
        and c.server_default is None
        and not (c.primary_key and c.autoincrement is True)
        and c.name not in frame.columns
    ]
    if required:
        raise BadInput("store.missing_columns", table=table.name, columns=", ".join(required))


def insert_frame(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> int:
    """Insert every row of the frame into the table with one executemany; return the count."""
    if frame.height == 0:
        return 0
    check_columns(table, frame)
    conn.execute(table.insert(), frame.to_dicts())
    return frame.height


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Iterable[dict]) -> int:
    """Insert dict rows with one executemany; return the count."""
    rows = list(rows)
    if rows:
        conn.execute(table.insert(), rows)
    return len(rows)

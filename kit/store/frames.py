"""Bulk reads into polars frames and bulk writes from them: one statement, whole columns."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

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
    """Run a query and return every row as a DataFrame, typed from the query's columns.

    The driver's tuples go straight to polars (SQLAlchemy binds the parameters but does
    not convert each value of each row); SQLite's text times and 0/1 booleans are then
    converted whole-column.
    """
    result = conn.execute(stmt)
    names = list(result.keys())
    types: dict[str, pl.DataType | None] = dict.fromkeys(names)
    if isinstance(stmt, sa.Select):
        for col in stmt.selected_columns:
            types[col.key] = polars_dtype(col.type)
    rows = result.cursor.fetchall() if result.cursor is not None else []
    if not rows:
        return pl.DataFrame(schema={n: types[n] or pl.String() for n in names})
    sqlite = conn.dialect.name == "sqlite"
    raw: dict[str, pl.DataType] = {}
    for name, dtype in types.items():
        if dtype is None:
            continue
        if sqlite and isinstance(dtype, pl.Datetime | pl.Date):
            raw[name] = pl.String()
        elif sqlite and dtype == pl.Boolean:
            raw[name] = pl.Int64()
        else:
            raw[name] = dtype
    frame = pl.DataFrame(rows, schema=names, schema_overrides=raw, orient="row", infer_schema_length=None)
    if not sqlite:
        return frame
    fixes = []
    for name, dtype in types.items():
        if isinstance(dtype, pl.Datetime):
            fixes.append(pl.col(name).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False))
        elif isinstance(dtype, pl.Date):
            fixes.append(pl.col(name).str.to_date("%Y-%m-%d", strict=False))
        elif dtype == pl.Boolean:
            fixes.append(pl.col(name).cast(pl.Boolean))
    return frame.with_columns(fixes) if fixes else frame


def read_by_keys(conn: sa.Connection, table: sa.Table, columns: list[str], key: str,
                 keys: list[Any]) -> pl.DataFrame:
    """The rows whose `key` is one of `keys`, in one query however many keys there are: the
    keys travel as one parameter (a JSON array SQLite unpacks with json_each, an array
    PostgreSQL matches with = ANY), not as one placeholder per key."""
    select = sa.select(*(table.c[c] for c in columns))
    if not keys:
        return read_frame(conn, select.where(sa.false()))
    if conn.dialect.name == "postgresql":
        array = sa.bindparam("_keys", value=list(keys), type_=postgresql.ARRAY(table.c[key].type))
        return read_frame(conn, select.where(table.c[key] == sa.any_(array)))
    if conn.dialect.name == "sqlite":
        packed = sa.bindparam("_keys", value=json.dumps(list(dict.fromkeys(keys)), ensure_ascii=False))
        each = sa.func.json_each(packed).table_valued("value").alias("k")
        if _leads_an_index(table, key):  # walk the keys, probe the index: ~0.1 s per million
            return read_frame(conn, select.join_from(each, table, table.c[key] == each.c.value))
        return read_frame(conn, select.where(table.c[key].in_(sa.select(each.c.value).scalar_subquery())))
    return read_frame(conn, select.where(table.c[key].in_(keys)))


def _leads_an_index(table: sa.Table, column: str) -> bool:
    """True when `column` is the first column of the primary key or of an index."""
    firsts = [list(table.primary_key.columns)[:1]] + [list(ix.columns)[:1] for ix in table.indexes]
    return any(cols and cols[0].name == column for cols in firsts)


def update_frame(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame, key: str,
                 guard: str | None = None) -> int:
    """UPDATE rows from a frame: `key` (and `guard`, the value the row must still hold, under
    the column name `guard`) pick the row, every other column is a new value. Straight to
    the driver, one executemany; returns the rows changed."""
    if frame.height == 0:
        return 0
    values = [c for c in frame.columns if c not in (key, f"_old_{guard}")]
    where = [key, f"_old_{guard}"] if guard else [key]
    frame = dbapi_ready(frame.select(*values, *where), conn.dialect.name)
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    sets = ", ".join(f'"{c}" = {mark}' for c in values)
    cond = f'"{key}" = {mark}' + (f' AND "{guard}" = {mark}' if guard else "")
    statement = f'UPDATE "{table.name}" SET {sets} WHERE {cond}'
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        changed = 0
        for chunk in frame.iter_slices(CHUNK_ROWS):
            cur.executemany(statement, chunk.rows())
            changed += cur.rowcount if cur.rowcount >= 0 else chunk.height
        return changed
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error,
                                         dialect=conn.dialect) from exc
    finally:
        cur.close()


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


CHUNK_ROWS = 50_000  # rows per executemany: bounded memory for a million orders


def dbapi_ready(frame: pl.DataFrame, dialect: str) -> pl.DataFrame:
    """The frame with values as the driver stores them (SQLite: text times, 0/1 booleans).

    The text format is SQLAlchemy's own for SQLite DateTime, so rows written here read
    back through SQLAlchemy exactly like rows it wrote itself.
    """
    if dialect != "sqlite":
        return frame
    converted = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            converted.append(pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
        elif dtype == pl.Date:
            converted.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            converted.append(pl.col(name).cast(pl.Int64))
    return frame.with_columns(converted) if converted else frame


def insert_frame(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> int:
    """Insert every row of the frame into the table inside the caller's transaction.

    PostgreSQL gets one COPY; SQLite one executemany per 50,000 rows, straight to the
    driver with values converted whole-column by polars (no per-row Python objects
    beyond the tuples the driver reads). Returns the number of rows.
    """
    if frame.height == 0:
        return 0
    check_columns(table, frame)
    dialect = conn.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        for chunk in frame.iter_slices(CHUNK_ROWS):
            conn.execute(table.insert(), chunk.to_dicts())
        return frame.height
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    raw = conn.connection.driver_connection
    try:
        if dialect == "postgresql":
            statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
            with raw.cursor() as cur, cur.copy(statement) as copy:
                for row in frame.iter_rows():
                    copy.write_row(row)
        else:
            statement = f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join("?" * frame.width)})'
            cur = raw.cursor()
            try:
                for chunk in dbapi_ready(frame, dialect).iter_slices(CHUNK_ROWS):
                    cur.executemany(statement, chunk.iter_rows())
            finally:
                cur.close()
    except conn.dialect.loaded_dbapi.Error as exc:
        # The driver's own error, raised as SQLAlchemy raises it for its statements.
        raise sa.exc.DBAPIError.instance(statement, None, exc, conn.dialect.loaded_dbapi.Error,
                                         dialect=conn.dialect) from exc
    return frame.height

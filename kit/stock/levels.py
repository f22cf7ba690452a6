"""Stock levels in the database: locking rows in a fixed order, one guarded bulk change, and
reading levels for people (on hand, reserved, available, low-stock thresholds).

Every change of `stock_levels` in the kit goes through `add_to_levels`: one statement for
the whole batch whose WHERE clause repeats the table's CHECK constraints, so a change that
would take stock below zero or reserve more than is on hand touches no row, whatever runs
in parallel. On PostgreSQL, `lock_levels` first locks the rows in (warehouse_code, sku)
order, so two writers never wait on each other in a cycle; SQLite's write transaction is
already exclusive (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from kit.errors import Conflict
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

__all__ = [
    "KEY",
    "add_to_levels",
    "ensure_levels",
    "levels_frame",
    "lock_levels",
    "lock_skus",
    "low_stock",
    "own_stock",
]

KEY = ["warehouse_code", "sku"]
_LEVEL_SCHEMA = {"warehouse_code": pl.String, "sku": pl.String, "on_hand": pl.Int64, "reserved": pl.Int64}


def _keys(frame: pl.DataFrame) -> pl.DataFrame:
    """The distinct (warehouse_code, sku) pairs of a frame, sorted."""
    return (
        frame.select(pl.col("warehouse_code").cast(pl.String), pl.col("sku").cast(pl.String))
        .unique()
        .sort(KEY)
    )


def _driver_error(conn: sa.Connection, statement: str, exc: Exception) -> sa.exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it for its own statements."""
    return sa.exc.DBAPIError.instance(
        statement, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
    )


_PG_LOCK = """
SELECT l.warehouse_code, l.sku, l.on_hand, l.reserved
FROM stock_levels l
JOIN unnest(%s::text[], %s::text[]) AS k(w, s) ON l.warehouse_code = k.w AND l.sku = k.s
ORDER BY l.warehouse_code, l.sku
FOR UPDATE OF l
"""


def lock_levels(conn: sa.Connection, keys: pl.DataFrame) -> pl.DataFrame:
    """The current on_hand and reserved of these (warehouse_code, sku) rows, locked until the
    transaction ends (PostgreSQL: FOR UPDATE in (warehouse_code, sku) order; SQLite: the
    write transaction holds the lock). Rows that do not exist are absent."""
    wanted = _keys(keys)
    if wanted.height == 0:
        return pl.DataFrame(schema=_LEVEL_SCHEMA)
    if conn.dialect.name == "postgresql":
        cur = conn.connection.driver_connection.cursor()
        try:
            cur.execute(_PG_LOCK, (wanted["warehouse_code"].to_list(), wanted["sku"].to_list()))
            rows = cur.fetchall()
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _driver_error(conn, _PG_LOCK, exc) from exc
        finally:
            cur.close()
        return pl.DataFrame(rows, schema=_LEVEL_SCHEMA, orient="row")
    t = schema.stock_levels
    found = read_by_keys(
        conn, t, ["warehouse_code", "sku", "on_hand", "reserved"], "sku", wanted["sku"].unique().to_list()
    )
    return found.join(wanted, on=KEY, how="semi").cast(_LEVEL_SCHEMA).sort(KEY)


_PG_LOCK_SKUS = """
SELECT warehouse_code, sku, on_hand, reserved
FROM stock_levels
WHERE sku = ANY(%s::text[])
ORDER BY warehouse_code, sku
FOR UPDATE
"""


def lock_skus(conn: sa.Connection, skus: list[str]) -> pl.DataFrame:
    """Every stock row of these SKUs, in every warehouse, locked until the transaction ends
    (PostgreSQL: FOR UPDATE in (warehouse_code, sku) order, all at once, so a later lock of
    any of them in this transaction never waits and never closes a cycle with another
    writer; SQLite: the write transaction holds the lock)."""
    if not skus:
        return pl.DataFrame(schema=_LEVEL_SCHEMA)
    if conn.dialect.name != "postgresql":
        return read_by_keys(
            conn, schema.stock_levels, ["warehouse_code", "sku", "on_hand", "reserved"], "sku", list(skus)
        ).cast(_LEVEL_SCHEMA)
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(_PG_LOCK_SKUS, (list(skus),))
        rows = cur.fetchall()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _driver_error(conn, _PG_LOCK_SKUS, exc) from exc
    finally:
        cur.close()
    return pl.DataFrame(rows, schema=_LEVEL_SCHEMA, orient="row")


_PG_ENSURE = """
INSERT INTO stock_levels (warehouse_code, sku, on_hand, reserved)
SELECT w, s, 0, 0 FROM unnest(%s::text[], %s::text[]) AS k(w, s)
ON CONFLICT (warehouse_code, sku) DO NOTHING
"""
_SQLITE_ENSURE = (
    "INSERT OR IGNORE INTO stock_levels (warehouse_code, sku, on_hand, reserved) VALUES (?, ?, 0, 0)"
)


def ensure_levels(conn: sa.Connection, keys: pl.DataFrame) -> None:
    """Create empty stock rows for the (warehouse_code, sku) pairs that have none yet (a
    receipt of a SKU new to a warehouse); rows already there, even created meanwhile by
    someone else, are left alone."""
    wanted = _keys(keys)
    if wanted.height == 0:
        return
    pg = conn.dialect.name == "postgresql"
    statement = _PG_ENSURE if pg else _SQLITE_ENSURE
    cur = conn.connection.driver_connection.cursor()
    try:
        if pg:
            cur.execute(statement, (wanted["warehouse_code"].to_list(), wanted["sku"].to_list()))
        else:
            cur.executemany(statement, wanted.rows())
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _driver_error(conn, statement, exc) from exc
    finally:
        cur.close()


_GUARD = "{t}on_hand + {on} >= 0 AND {t}reserved + {res} >= 0 AND {t}reserved + {res} <= {t}on_hand + {on}"
_PG_ADD = f"""
UPDATE stock_levels l SET on_hand = l.on_hand + k.d_on, reserved = l.reserved + k.d_res
FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[]) AS k(w, s, d_on, d_res)
WHERE l.warehouse_code = k.w AND l.sku = k.s AND {_GUARD.format(t="l.", on="k.d_on", res="k.d_res")}
"""
_SQLITE_ADD = (
    "UPDATE stock_levels SET on_hand = on_hand + ?1, reserved = reserved + ?2 "
    "WHERE warehouse_code = ?3 AND sku = ?4 AND " + _GUARD.format(t="", on="?1", res="?2")
)


def add_to_levels(conn: sa.Connection, deltas: pl.DataFrame) -> int:
    """Add `on_hand_delta` and `reserved_delta` to many stock rows in ONE guarded statement.

    `deltas` holds warehouse_code, sku and either delta (the other counts as 0); several
    rows of one item are summed. A row whose change would break a stock constraint is not
    changed; if any is not, Conflict is raised and the caller's transaction must roll back
    (callers lock and check first with lock_levels, so only a race the lock missed gets here).
    Returns the rows changed.
    """
    if deltas.height == 0:
        return 0
    cols = [
        pl.col(c).cast(pl.Int64).fill_null(0) if c in deltas.columns else pl.lit(0, pl.Int64)
        for c in ("on_hand_delta", "reserved_delta")
    ]
    summed = (
        deltas.select(
            pl.col("warehouse_code").cast(pl.String),
            pl.col("sku").cast(pl.String),
            cols[0].alias("d_on"),
            cols[1].alias("d_res"),
        )
        .group_by(KEY)
        .agg(pl.col("d_on").sum(), pl.col("d_res").sum())
        .filter((pl.col("d_on") != 0) | (pl.col("d_res") != 0))
        .sort(KEY)
    )
    if summed.height == 0:
        return 0
    pg = conn.dialect.name == "postgresql"
    statement = _PG_ADD if pg else _SQLITE_ADD
    cur = conn.connection.driver_connection.cursor()
    try:
        if pg:
            cur.execute(
                statement, tuple(summed[c].to_list() for c in ("warehouse_code", "sku", "d_on", "d_res"))
            )
            changed = cur.rowcount
        else:
            changed = 0
            for chunk in summed.select("d_on", "d_res", *KEY).iter_slices(50_000):
                cur.executemany(statement, chunk.rows())
                changed += cur.rowcount
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _driver_error(conn, statement, exc) from exc
    finally:
        cur.close()
    if changed != summed.height:
        raise Conflict("stock.changed_meanwhile", rows=summed.height - changed)
    return changed


def levels_frame(
    conn: sa.Connection, *, warehouse: str | None = None, skus: list[str] | None = None
) -> pl.DataFrame:
    """Stock per warehouse and SKU for people (S12): warehouse_code, kind, sku, title,
    on_hand, reserved, available, low_stock_threshold; sorted by SKU, then warehouse."""
    lv, w, k = schema.stock_levels, schema.warehouses, schema.skus
    stmt = (
        sa.select(
            lv.c.warehouse_code,
            w.c.kind,
            lv.c.sku,
            k.c.title,
            lv.c.on_hand,
            lv.c.reserved,
            (lv.c.on_hand - lv.c.reserved).label("available"),
            k.c.low_stock_threshold,
        )
        .join(w, w.c.code == lv.c.warehouse_code)
        .join(k, k.c.sku == lv.c.sku, isouter=True)
        .order_by(lv.c.sku, lv.c.warehouse_code)
    )
    if warehouse is not None:
        stmt = stmt.where(lv.c.warehouse_code == warehouse)
    if skus is not None:
        stmt = stmt.where(lv.c.sku.in_(skus))
    return read_frame(conn, stmt)


def own_stock() -> sa.Subquery:
    """Per SKU, units available and reserved over the shop's own warehouses (headquarters and
    stores; suppliers apart): the subquery low stock, shortages and alternatives build on."""
    lv, w = schema.stock_levels, schema.warehouses
    return (
        sa.select(
            lv.c.sku,
            sa.func.sum(lv.c.on_hand - lv.c.reserved).label("available"),
            sa.func.sum(lv.c.reserved).label("reserved"),
        )
        .join(w, w.c.code == lv.c.warehouse_code)
        .where(w.c.kind != "supplier")
        .group_by(lv.c.sku)
        .subquery()
    )


def low_stock(conn: sa.Connection, *, below: int | None = None) -> pl.DataFrame:
    """SKUs to replenish (S12): available in the shop's own warehouses (suppliers apart) at or
    below the SKU's low_stock_threshold, or at or below `below` when given for every SKU.

    Columns sku, title, available, reserved, threshold; fewest available first.
    """
    k, own = schema.skus, own_stock()
    threshold = k.c.low_stock_threshold if below is None else sa.literal(below)
    available = sa.func.coalesce(own.c.available, 0)
    stmt = (
        sa.select(
            k.c.sku,
            k.c.title,
            available.label("available"),
            sa.func.coalesce(own.c.reserved, 0).label("reserved"),
            threshold.label("threshold"),
        )
        .join(own, own.c.sku == k.c.sku, isouter=True)
        .where(threshold.is_not(None), available <= threshold, k.c.is_virtual.is_(sa.false()))
        .order_by(available, k.c.sku)
    )
    return read_frame(conn, stmt)

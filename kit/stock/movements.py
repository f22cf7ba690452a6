"""Moving stock by hand or by file: receipts, returns, stock counts (盘点), transfers between
warehouses (S23: wait for a transfer), low-stock thresholds and SKU pins, each checked
(whole units, known SKU, known warehouse) and written through the ledger."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa

from kit.errors import BadInput, Refused
from kit.i18n import t
from kit.lifecycle import audit_rows
from kit.models import StaffMember
from kit.stock.ledger import MAX_LISTED, post
from kit.stock.levels import KEY, lock_levels
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys, read_frame, update_frame

__all__ = ["check_items", "count", "pin", "receive", "set_thresholds", "transfer", "unpin", "whole_units"]


def whole_units(frame: pl.DataFrame, column: str, *, positive: bool, nullable: bool = False) -> pl.DataFrame:
    """The frame with `column` as Int64 whole units; BadInput naming the row and the value for
    anything negative, fractional, not a number (or zero, when `positive`)."""
    if "_row" not in frame.columns:
        frame = frame.with_row_index("_row", offset=1)
    raw = pl.col(column)
    if frame.schema[column].is_integer():
        number = raw.cast(pl.Int64)
    else:  # "12", "12.0" (a spreadsheet's number) are whole; "1.5", "-3", "十" are not
        whole = raw.cast(pl.String).str.strip_chars().str.replace(r"^\+", "").str.replace(r"\.0*$", "")
        number = pl.when(whole.str.contains(r"^\d{1,12}$")).then(whole.cast(pl.Int64, strict=False))
    missing = raw.is_null() | (raw.cast(pl.String).str.strip_chars() == "")
    bad = (number.is_null() & ~missing) | (number < 0) | ((number == 0) & positive)
    checked = frame.with_columns(
        number.alias("_n"), bad.fill_null(False).alias("_bad"), missing.alias("_missing")
    )
    refused = checked.filter(pl.col("_bad") | (pl.col("_missing") & (not nullable)))
    if refused.height:
        row = refused.row(0, named=True)
        raise BadInput(
            "stock.bad_quantity",
            row=row["_row"],
            column=column,
            value="" if row[column] is None else str(row[column]),
            expected=t("stock.expected_positive" if positive else "stock.expected_whole"),
        )
    return checked.with_columns(pl.col("_n").alias(column)).drop("_n", "_bad", "_missing")


def check_items(
    conn: sa.Connection,
    frame: pl.DataFrame,
    *,
    warehouses: tuple[str, ...] = ("warehouse_code",),
    skus: bool = True,
) -> None:
    """BadInput unless every SKU is in the catalogue and every warehouse is known."""
    known = read_frame(conn, sa.select(schema.warehouses.c.code))["code"].to_list()
    for column in warehouses:
        unknown = frame.filter(~pl.col(column).is_in(known))
        if unknown.height:
            raise BadInput("stock.unknown_warehouse", code=unknown[column][0], known="、".join(known) or "—")
    if skus:
        wanted = frame["sku"].unique().to_list()
        have = read_by_keys(conn, schema.skus, ["sku"], "sku", wanted)["sku"]
        unknown = sorted(set(wanted) - set(have.to_list()))
        if unknown:
            shown = "、".join(unknown[:MAX_LISTED]) + ("…" if len(unknown) > MAX_LISTED else "")
            raise BadInput("stock.unknown_sku", count=len(unknown), skus=shown)


def _prepared(
    conn: sa.Connection,
    frame: pl.DataFrame,
    column: str,
    *,
    positive: bool,
    warehouses: tuple[str, ...] = ("warehouse_code",),
) -> pl.DataFrame:
    """Checked items: whole units in `column`, known SKUs and warehouses, text keys."""
    frame = frame.with_columns(pl.col(c).cast(pl.String).str.strip_chars() for c in (*warehouses, "sku"))
    frame = whole_units(frame, column, positive=positive)
    check_items(conn, frame, warehouses=warehouses)
    return frame


def _reasons(items: pl.DataFrame, reason: str | None) -> pl.Expr:
    """Each row's own reason (a file's 备注 column), else the one given for all rows."""
    given = pl.lit(reason, pl.String)
    if "reason" not in items.columns:
        return given
    own = pl.col("reason").cast(pl.String).str.strip_chars()
    return pl.when(own.is_null() | (own == "")).then(given).otherwise(own)


def receive(
    conn: sa.Connection,
    items: pl.DataFrame,
    actor: StaffMember,
    *,
    at: datetime,
    reason: str | None = None,
    kind: str = "receipt",
    batch_id: int | None = None,
) -> pl.DataFrame:
    """Goods arrive (kind receipt) or come back from a buyer (kind return): warehouse_code, sku,
    quantity (whole units above zero) add to on hand. Returns the ledger rows."""
    if kind not in ("receipt", "return"):
        raise ValueError(f"receive: kind must be receipt or return, not {kind!r}")
    items = _prepared(conn, items, "quantity", positive=True)
    reason_col = _reasons(items, reason)
    return post(
        conn,
        items.select(
            *KEY,
            pl.lit(kind).alias("kind"),
            pl.col("quantity").alias("on_hand_delta"),
            *[c for c in ("order_no", "line_no", "shipment_id") if c in items.columns],
            reason_col.alias("reason"),
        ),
        actor,
        at=at,
        batch_id=batch_id,
        create=True,
    )


def count(
    conn: sa.Connection,
    counted: pl.DataFrame,
    actor: StaffMember,
    *,
    at: datetime,
    reason: str | None = None,
    batch_id: int | None = None,
) -> pl.DataFrame:
    """A stock count (盘点): warehouse_code, sku, on_hand as counted; each difference from the
    level becomes a `count` ledger row. A count below what is reserved for orders is refused
    (release those orders first). Returns the ledger rows (items that differ)."""
    counted = _prepared(conn, counted, "on_hand", positive=False)
    dup = counted.filter(pl.struct(KEY).is_duplicated())
    if dup.height:
        raise BadInput("stock.duplicate_item", warehouse=dup["warehouse_code"][0], sku=dup["sku"][0])
    fresh = lock_levels(conn, counted)
    diff = counted.join(fresh.rename({"on_hand": "_was"}), on=KEY, how="left").with_columns(
        pl.col("_was").fill_null(0), pl.col("reserved").fill_null(0)
    )
    below = diff.filter(pl.col("on_hand") < pl.col("reserved"))
    if below.height:
        row = below.row(0, named=True)
        raise Refused(
            "stock.count_below_reserved",
            warehouse=row["warehouse_code"],
            sku=row["sku"],
            counted=row["on_hand"],
            reserved=row["reserved"],
        )
    return post(
        conn,
        diff.filter(pl.col("on_hand") != pl.col("_was")).select(
            *KEY,
            pl.lit("count").alias("kind"),
            (pl.col("on_hand") - pl.col("_was")).alias("on_hand_delta"),
            _reasons(diff, reason).alias("reason"),
        ),
        actor,
        at=at,
        batch_id=batch_id,
        create=True,
    )


def transfer(
    conn: sa.Connection,
    items: pl.DataFrame,
    actor: StaffMember,
    *,
    at: datetime,
    reason: str | None = None,
    batch_id: int | None = None,
) -> pl.DataFrame:
    """Move goods between warehouses (S23: a backordered order waits for a transfer):
    from_warehouse, to_warehouse, sku, quantity. Only available units leave (not those
    reserved for orders). Two `transfer` ledger rows per item. Returns the ledger rows."""
    items = _prepared(conn, items, "quantity", positive=True, warehouses=("from_warehouse", "to_warehouse"))
    same = items.filter(pl.col("from_warehouse") == pl.col("to_warehouse"))
    if same.height:
        raise BadInput("stock.same_warehouse", warehouse=same["from_warehouse"][0], sku=same["sku"][0])
    def note(other: str, arrow: str) -> pl.Expr:
        return pl.concat_str(pl.lit(arrow), pl.col(other), *([pl.lit(" "), pl.lit(reason)] if reason else []))

    moves = pl.concat(
        [
            items.select(
                pl.col("from_warehouse").alias("warehouse_code"),
                "sku",
                pl.lit("transfer").alias("kind"),
                (-pl.col("quantity")).alias("on_hand_delta"),
                note("to_warehouse", "→").alias("reason"),
            ),
            items.select(
                pl.col("to_warehouse").alias("warehouse_code"),
                "sku",
                pl.lit("transfer").alias("kind"),
                pl.col("quantity").alias("on_hand_delta"),
                note("from_warehouse", "←").alias("reason"),
            ),
        ]
    )
    return post(conn, moves, actor, at=at, batch_id=batch_id, create=True)


def set_thresholds(conn: sa.Connection, thresholds: pl.DataFrame, actor: StaffMember, *, at: datetime) -> int:
    """Low-stock thresholds per SKU (S12): sku, low_stock_threshold (whole units; empty clears
    it). Audited per change. Returns the SKUs changed."""
    thresholds = thresholds.with_columns(pl.col("sku").cast(pl.String).str.strip_chars())
    thresholds = whole_units(thresholds, "low_stock_threshold", positive=False, nullable=True)
    check_items(conn, thresholds, warehouses=())
    old = read_by_keys(conn, schema.skus, ["sku", "low_stock_threshold"], "sku", thresholds["sku"].to_list())
    changed = (
        thresholds.select("sku", "low_stock_threshold")
        .unique("sku", keep="last")
        .join(old.rename({"low_stock_threshold": "_old"}), on="sku")
        .filter(pl.col("low_stock_threshold").ne_missing(pl.col("_old")))
    )
    if changed.height:
        update_frame(conn, schema.skus, changed.select("sku", "low_stock_threshold"), "sku")
        _audit(
            conn,
            changed.select(
                pl.col("sku").alias("entity_id"),
                pl.lit("low_stock_threshold").alias("field"),
                pl.col("_old").cast(pl.String).alias("from_state"),
                pl.col("low_stock_threshold").cast(pl.String).alias("to_state"),
            ),
            actor,
            at,
            "set_threshold",
        )
    return changed.height


def _audit(
    conn: sa.Connection,
    changes: pl.DataFrame,
    actor: StaffMember,
    at: datetime,
    action: str,
    reason: str | None = None,
) -> None:
    """Audit rows (entity sku) for setting changes."""
    insert_frame(
        conn,
        schema.audit,
        audit_rows(changes.with_columns(pl.lit(reason, pl.String).alias("reason")), actor, at, "sku", action),
    )


def pin(
    conn: sa.Connection,
    sku: str,
    warehouse_code: str,
    actor: StaffMember,
    *,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Pin a SKU to a warehouse: allocation ships it only from there (a store's own line, a
    supplier's exclusive). Audited."""
    item = pl.DataFrame({"sku": [sku], "warehouse_code": [warehouse_code]})
    check_items(conn, item)
    pins = schema.sku_pins
    was = conn.execute(sa.select(pins.c.warehouse_code).where(pins.c.sku == sku)).scalar()
    if was == warehouse_code:
        return
    conn.execute(pins.delete().where(pins.c.sku == sku))
    conn.execute(
        pins.insert().values(sku=sku, warehouse_code=warehouse_code, reason=reason, actor=actor.name, at=at)
    )
    _audit(
        conn,
        pl.DataFrame(
            {"entity_id": [sku], "field": ["pin"], "from_state": [was], "to_state": [warehouse_code]},
            schema_overrides={"from_state": pl.String},
        ),
        actor,
        at,
        "pin",
        reason,
    )


def unpin(
    conn: sa.Connection, sku: str, actor: StaffMember, *, at: datetime, reason: str | None = None
) -> bool:
    """Let a pinned SKU ship from any warehouse again; False when it was not pinned. Audited."""
    pins = schema.sku_pins
    was = conn.execute(sa.select(pins.c.warehouse_code).where(pins.c.sku == sku)).scalar()
    if was is None:
        return False
    conn.execute(pins.delete().where(pins.c.sku == sku))
    _audit(
        conn,
        pl.DataFrame(
            {"entity_id": [sku], "field": ["pin"], "from_state": [was], "to_state": [None]},
            schema_overrides={"to_state": pl.String},
        ),
        actor,
        at,
        "unpin",
        reason,
    )
    return True

"""Stock as the shop's staff use it (the CLI, notebooks and dashboards call these): each call
checks the actor's role, opens one write transaction, records a batch and moves stock
through the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from kit import clock
from kit.errors import BadInput
from kit.shop import Shop
from kit.stock import movements
from kit.stock.files import read_stock_file
from kit.stock.ledger import ledger_differences, new_batch, permit, record_opening_balances
from kit.stock.levels import levels_frame, low_stock

__all__ = [
    "MODES",
    "adopt_untracked",
    "check_ledger",
    "count_stock",
    "import_file",
    "levels",
    "low",
    "pin_sku",
    "receive_goods",
    "set_threshold",
    "transfer_goods",
    "unpin_sku",
]

MODES = ("count", "receipt")  # a file holds what was counted on the shelf, or what arrived


def levels(shop: Shop, *, warehouse: str | None = None, skus: list[str] | None = None) -> pl.DataFrame:
    """Stock per warehouse and SKU: on hand, reserved, available, threshold (S12)."""
    permit(shop.actor, "read")
    with shop.store.read() as conn:
        return levels_frame(conn, warehouse=warehouse, skus=skus)


def low(shop: Shop, *, below: int | None = None) -> pl.DataFrame:
    """SKUs at or below their low-stock threshold (or `below`): what to replenish (S12)."""
    permit(shop.actor, "read")
    with shop.store.read() as conn:
        return low_stock(conn, below=below)


def _units(ledger: pl.DataFrame) -> int:
    return int(ledger["on_hand_delta"].abs().sum()) if ledger.height else 0


def import_file(
    shop: Shop,
    path: str | Path,
    *,
    mode: str = "count",
    warehouse: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Import a stock file (CSV or XLSX): in `count` mode its quantities are what is on the
    shelf (differences become count corrections), in `receipt` mode what arrived. A
    threshold column sets low-stock thresholds. All or nothing; returns what changed."""
    if mode not in MODES:
        raise BadInput("stock.bad_mode", mode=mode, expected="、".join(MODES))
    actor = permit(shop.actor, "count_stock" if mode == "count" else "receive_stock")
    frame = read_stock_file(path, warehouse=warehouse)
    has_thresholds = "low_stock_threshold" in frame.columns and bool(
        (frame["low_stock_threshold"].fill_null("").str.strip_chars() != "").any()
    )
    if has_thresholds:
        permit(actor, "stock_settings")
    moment = clock.now()
    with shop.store.write() as conn:
        batch_id = new_batch(
            conn,
            f"stock_{mode}",
            Path(path).name,
            actor,
            moment,
            lines=frame.height,
            details={"mode": mode, "rows": frame.height},
        )
        items = frame.rename({"quantity": "on_hand" if mode == "count" else "quantity"})
        if mode == "count":
            ledger = movements.count(conn, items, actor, at=moment, reason=reason, batch_id=batch_id)
        else:
            ledger = movements.receive(conn, items, actor, at=moment, reason=reason, batch_id=batch_id)
        thresholds = 0
        if has_thresholds:
            thresholds = movements.set_thresholds(
                conn,
                frame.filter(pl.col("low_stock_threshold").fill_null("").str.strip_chars() != "").select(
                    "_row", "sku", "low_stock_threshold"
                ),
                actor,
                at=moment,
            )
    return {
        "batch_id": batch_id,
        "mode": mode,
        "rows": frame.height,
        "changed": ledger.height,
        "units": _units(ledger),
        "thresholds": thresholds,
    }


def _items(rows: list[dict[str, Any]] | pl.DataFrame) -> pl.DataFrame:
    return rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(rows)


def _move(
    shop: Shop,
    action: str,
    batch_kind: str,
    source: str,
    items: list[dict[str, Any]] | pl.DataFrame,
    apply: Any,
    **options: Any,
) -> tuple[int, pl.DataFrame]:
    """Check the role, then in one write transaction record a batch and apply one movement
    (kit.stock.movements) to the items; the batch id and the ledger rows written."""
    actor = permit(shop.actor, action)
    moment = clock.now()
    frame = _items(items)
    with shop.store.write() as conn:
        batch_id = new_batch(conn, batch_kind, source, actor, moment, lines=frame.height)
        return batch_id, apply(conn, frame, actor, at=moment, batch_id=batch_id, **options)


def receive_goods(
    shop: Shop,
    items: list[dict[str, Any]] | pl.DataFrame,
    *,
    reason: str | None = None,
    kind: str = "receipt",
) -> dict[str, Any]:
    """Goods received (or, kind "return", returned by buyers): warehouse_code, sku, quantity."""
    batch_id, ledger = _move(
        shop,
        "receive_stock",
        f"stock_{kind}",
        "kit stock receive",
        items,
        movements.receive,
        reason=reason,
        kind=kind,
    )
    return {"batch_id": batch_id, "changed": ledger.height, "units": _units(ledger)}


def count_stock(
    shop: Shop, counted: list[dict[str, Any]] | pl.DataFrame, *, reason: str | None = None
) -> dict[str, Any]:
    """A stock count (盘点): warehouse_code, sku, on_hand as counted; differences are corrected."""
    batch_id, ledger = _move(
        shop, "count_stock", "stock_count", "kit stock correct", counted, movements.count, reason=reason
    )
    return {"batch_id": batch_id, "changed": ledger.height, "units": _units(ledger)}


def transfer_goods(
    shop: Shop, items: list[dict[str, Any]] | pl.DataFrame, *, reason: str | None = None
) -> dict[str, Any]:
    """Transfers between warehouses (S23): from_warehouse, to_warehouse, sku, quantity."""
    batch_id, ledger = _move(
        shop,
        "transfer_stock",
        "stock_transfer",
        "kit stock transfer",
        items,
        movements.transfer,
        reason=reason,
    )
    return {"batch_id": batch_id, "changed": ledger.height // 2, "units": _units(ledger) // 2}


def set_threshold(shop: Shop, sku: str, threshold: int | None) -> int:
    """Set (or, with None, clear) one SKU's low-stock threshold; 1 when it changed."""
    actor = permit(shop.actor, "stock_settings")
    frame = pl.DataFrame(
        {"sku": [sku], "low_stock_threshold": [threshold]},
        schema={"sku": pl.String, "low_stock_threshold": pl.Int64},
    )
    with shop.store.write() as conn:
        return movements.set_thresholds(conn, frame, actor, at=clock.now())


def pin_sku(shop: Shop, sku: str, warehouse_code: str, *, reason: str | None = None) -> None:
    """Ship this SKU only from this warehouse."""
    actor = permit(shop.actor, "stock_settings")
    with shop.store.write() as conn:
        movements.pin(conn, sku, warehouse_code, actor, at=clock.now(), reason=reason)


def unpin_sku(shop: Shop, sku: str, *, reason: str | None = None) -> bool:
    """Let a pinned SKU ship from any warehouse again."""
    actor = permit(shop.actor, "stock_settings")
    with shop.store.write() as conn:
        return movements.unpin(conn, sku, actor, at=clock.now(), reason=reason)


def check_ledger(shop: Shop) -> pl.DataFrame:
    """Items whose level the ledger does not explain (empty: every unit accounted for)."""
    permit(shop.actor, "read")
    with shop.store.read() as conn:
        return ledger_differences(conn)


def adopt_untracked(shop: Shop) -> dict[str, int]:
    """Write opening balances for stock and reservations written outside the ledger (stock
    seeded directly, or typed into the database); levels stay as they are."""
    actor = permit(shop.actor, "count_stock")
    moment = clock.now()
    with shop.store.write() as conn:
        batch_id = new_batch(conn, "stock_opening", "kit stock check --adopt", actor, moment)
        return {"batch_id": batch_id, **record_opening_balances(conn, actor.name, moment, batch_id)}

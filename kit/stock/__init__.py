"""Warehouses' stock (S7, S12, S23, S24b): levels per SKU and warehouse (on hand, reserved,
available), a ledger row for every change, reservations for order lines, files in,
low-stock thresholds and SKU pins.

    >>> from kit import stock
    >>> stock.levels(shop)                          # on hand, reserved, available per item
    >>> stock.import_file(shop, "盘点.xlsx")         # a count: differences become corrections
    >>> stock.low(shop)                             # what to replenish
    >>> with shop.store.write() as conn:            # primitives, in the caller's transaction
    ...     stock.reserve(conn, lines, actor, at=now)
    ...     stock.release(conn, ["1234…"], "buyer cancelled", actor, at=now)

Stock never goes below zero and never promises more than is on hand, whatever runs in
parallel: every change locks its rows in (warehouse_code, sku) order and is applied by
one guarded statement (kit.stock.levels), with its ledger rows in the same transaction,
so `ledger_differences` is empty and every level can be rebuilt from the ledger.
"""

from kit.stock.files import read_stock_file
from kit.stock.ledger import (
    KINDS,
    ledger_differences,
    ledger_rows,
    new_batch,
    permit,
    post,
    rebuild_levels,
    record_opening_balances,
)
from kit.stock.levels import add_to_levels, ensure_levels, levels_frame, lock_levels, low_stock, own_stock
from kit.stock.movements import count, pin, receive, set_thresholds, transfer, unpin
from kit.stock.reservations import open_reservations, pick, release, reserve
from kit.stock.service import (
    MODES,
    adopt_untracked,
    check_ledger,
    count_stock,
    import_file,
    levels,
    low,
    pin_sku,
    receive_goods,
    set_threshold,
    transfer_goods,
    unpin_sku,
)

__all__ = [
    "KINDS",
    "MODES",
    "add_to_levels",
    "adopt_untracked",
    "check_ledger",
    "count",
    "count_stock",
    "ensure_levels",
    "import_file",
    "ledger_differences",
    "ledger_rows",
    "levels",
    "levels_frame",
    "lock_levels",
    "low",
    "low_stock",
    "new_batch",
    "open_reservations",
    "own_stock",
    "permit",
    "pick",
    "pin",
    "pin_sku",
    "post",
    "read_stock_file",
    "rebuild_levels",
    "receive",
    "receive_goods",
    "record_opening_balances",
    "release",
    "reserve",
    "set_threshold",
    "set_thresholds",
    "transfer",
    "transfer_goods",
    "unpin",
    "unpin_sku",
]

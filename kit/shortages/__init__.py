"""Shortages (S7, S20, S23): what the waiting orders miss, per SKU and per line, for
purchasing or production, as frames and an XLSX; and the buyer's stockout notice with
in-stock alternatives, queued in the outbox within 24 working hours.

    >>> from kit import shortages
    >>> shortages.by_sku(shop)                  # per SKU: missing, orders, available, to_source
    >>> shortages.lines(shop)                   # every waiting order line and what it misses
    >>> shortages.export_xlsx(shop, "缺货.xlsx")  # sheets: purchasing, production, lines
    >>> shortages.notify(shop)                  # queue stockout notices (S20)

Cancelling or refunding an order gives its reservation back (kit.lifecycle.followups).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from kit import clock
from kit.i18n import current_lang
from kit.permissions import require
from kit.shop import Shop
from kit.shortages.alternatives import ALTERNATIVE_COLUMNS, alternatives
from kit.shortages.notices import due_times, queue_stockout_notices, stockout_notices
from kit.shortages.report import LINE_COLUMNS, SKU_COLUMNS, shortage_lines, shortages_by_sku, write_xlsx
from kit.stock.ledger import new_batch

__all__ = [
    "ALTERNATIVE_COLUMNS",
    "LINE_COLUMNS",
    "SKU_COLUMNS",
    "alternatives",
    "by_sku",
    "due_times",
    "export_xlsx",
    "lines",
    "notify",
    "queue_stockout_notices",
    "shortage_lines",
    "shortages_by_sku",
    "stockout_notices",
    "write_xlsx",
]


def lines(shop: Shop) -> pl.DataFrame:
    """Every order line waiting for stock and what it misses, oldest first (LINE_COLUMNS)."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        return shortage_lines(conn)


def by_sku(shop: Shop) -> pl.DataFrame:
    """Per SKU: missing units, orders waiting, available in own warehouses, what to source,
    purchasing or production (S7); most missing first (SKU_COLUMNS)."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        return shortages_by_sku(conn, shortage_lines(conn), shop.config.shortages["production_categories"])


def export_xlsx(shop: Shop, path: str | Path) -> dict[str, Any]:
    """Write the shortage workbook (purchasing, production, lines) to `path`."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        waiting = shortage_lines(conn)
        per_sku = shortages_by_sku(conn, waiting, shop.config.shortages["production_categories"])
    written = write_xlsx(path, per_sku, waiting)
    return {
        "path": str(written),
        "skus": per_sku.height,
        "lines": waiting.height,
        "purchasing": int((per_sku["goes_to"] == "purchasing").sum()),
        "production": int((per_sku["goes_to"] == "production").sum()),
    }


def notify(shop: Shop, *, lang: str | None = None) -> pl.DataFrame:
    """Queue a stockout notice for every waiting order not yet told (S20); the notices queued."""
    actor = require(shop.actor, "notify_buyers")
    moment = clock.now()
    with shop.store.write() as conn:
        if conn.dialect.name == "postgresql":  # two runs at once would both find an order untold
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('kit.shortages.notify'))")
        waiting = shortage_lines(conn)
        batch_id = new_batch(
            conn, "stockout_notices", "kit shortages --notify", actor, moment, lines=waiting.height
        )
        return queue_stockout_notices(
            conn, waiting, shop.config, lang or current_lang(), actor, moment, batch_id
        )

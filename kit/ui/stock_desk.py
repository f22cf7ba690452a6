"""The 库存 stock desk (warehouse and supervisor; S7, S12, S17, S20, S23, S24b): stock levels by
SKU and warehouse, what to replenish, the shortages for purchasing and production, the
orders waiting for stock; run allocation, queue the buyers' stockout notices, record a
receipt, download the shortage workbook.

`StockDeskModel` reads through kit.stock, kit.shortages and kit.allocation and calls one
service per action; which buttons a role sees comes from kit.permissions, and the
services check again. CSS classes are listed in kit.ui.stock_view.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from traitlets import Bytes, Enum, List, Unicode

from kit import allocation, clock, shortages, stock
from kit.errors import BadInput
from kit.i18n import t
from kit.models import Role
from kit.permissions import ACTIONS
from kit.shop import Shop
from kit.ui.columns import when
from kit.ui.session import DeskModel
from kit.ui.table import Column, TableModel

__all__ = ["VIEWS", "StockDeskModel", "stock_desk"]

VIEWS = ("levels", "low", "shortages", "waiting")  # what the desk's table shows


def level_columns() -> list[Column]:
    """Stock per SKU and warehouse: on hand, reserved, available, threshold."""
    return [
        Column(t("shortages.col_sku"), pl.col("sku"), 130),
        Column(t("stock_desk.col_warehouse"), pl.col("warehouse_code"), 70),
        Column(t("shortages.col_title"), pl.col("title").fill_null(""), 200),
        Column(t("stock_desk.col_on_hand"), pl.col("on_hand"), 70, ",d"),
        Column(t("stock_desk.col_reserved"), pl.col("reserved"), 70, ",d"),
        Column(t("stock_desk.col_available"), pl.col("available"), 70, ",d"),
        Column(
            t("stock_desk.col_threshold"), pl.col("low_stock_threshold").cast(pl.String).fill_null(""), 70
        ),
    ]


def low_columns() -> list[Column]:
    """SKUs at or below their low-stock threshold (S12)."""
    return [
        Column(t("shortages.col_sku"), pl.col("sku"), 130),
        Column(t("shortages.col_title"), pl.col("title").fill_null(""), 220),
        Column(t("stock_desk.col_available"), pl.col("available"), 80, ",d"),
        Column(t("stock_desk.col_reserved"), pl.col("reserved"), 80, ",d"),
        Column(t("stock_desk.col_threshold"), pl.col("threshold"), 80, ",d"),
    ]


def shortage_columns() -> list[Column]:
    """Per SKU: what waiting orders miss and who sources it (S7, S23)."""
    return [
        Column(t("shortages.col_sku"), pl.col("sku"), 130),
        Column(t("shortages.col_title"), pl.col("title").fill_null(""), 180),
        Column(
            t("shortages.col_goes_to"),
            pl.col("goes_to").replace_strict(
                {"purchasing": t("shortages.purchasing"), "production": t("shortages.production")}
            ),
            60,
        ),
        Column(t("shortages.col_missing"), pl.col("missing"), 90, ",d"),
        Column(t("shortages.col_orders"), pl.col("orders"), 100, ",d"),
        Column(t("shortages.col_available"), pl.col("available"), 100, ",d"),
        Column(t("shortages.col_to_source"), pl.col("to_source"), 110, ",d"),
    ]


def waiting_columns() -> list[Column]:
    """Order lines waiting for stock (backordered), oldest first (S20, S24b)."""
    return [
        Column(t("shortages.col_order_no"), pl.col("order_no"), 160),
        Column(t("shortages.col_sku"), pl.col("sku"), 120),
        Column(t("shortages.col_title"), pl.col("title").fill_null(""), 160),
        Column(t("shortages.col_quantity"), pl.col("quantity"), 90, ",d"),
        Column(t("shortages.col_missing"), pl.col("missing"), 90, ",d"),
        Column(t("shortages.col_warehouse_code"), pl.col("warehouse_code").fill_null(""), 90),
        Column(t("shortages.col_since"), when("since"), 100),
    ]


_COLUMNS = {
    "levels": level_columns,
    "low": low_columns,
    "shortages": shortage_columns,
    "waiting": waiting_columns,
}
_KEYS = {"levels": "item", "low": "sku", "shortages": "sku", "waiting": "line"}


class StockDeskModel(DeskModel):
    """What the stock desk shows and the actions it offers, each one call into a service."""

    view = Enum(VIEWS, default_value="levels", help="which list the table shows")
    warehouses = List(Unicode(), help="warehouse codes, for the receipt form")
    workbook = Bytes(b"", help="the last shortage workbook made for download")
    workbook_name = Unicode("", help="its file name")

    def __init__(self, shop: Shop | None = None, **kwargs: Any) -> None:
        super().__init__(shop, **kwargs)
        searched = (t("shortages.col_sku"), t("shortages.col_title"), t("shortages.col_order_no"))
        self.tables = {v: TableModel(_COLUMNS[v](), key=_KEYS[v], search=searched) for v in VIEWS}
        self._allow()

    def _may(self, role: Role) -> list[str]:
        # "read": the shortage workbook, for everyone with a role (not on a page refused to its visitor)
        return [a for a in ("run_allocation", "notify_buyers", "receive_stock", "read") if role in ACTIONS[a]]

    # --- reading ---------------------------------------------------------------------------

    def _read(self) -> bool:
        shop = self.require_shop()
        self.workbook = b""  # a workbook made before this read may be out of date: no stale download
        levels = stock.levels(shop)
        frames = {
            "levels": levels.with_columns(pl.concat_str("warehouse_code", pl.lit("/"), "sku").alias("item")),
            "low": stock.low(shop),
            "shortages": shortages.by_sku(shop),
            "waiting": shortages.lines(shop).with_columns(
                pl.concat_str("order_no", pl.lit("#"), pl.col("line_no").cast(pl.String)).alias("line")
            ),
        }
        for view, frame in frames.items():
            self.tables[view].frame = frame
        self.counts = {
            "skus": levels["sku"].n_unique(),
            "low": frames["low"].height,
            "short": frames["shortages"].height,
            "waiting": frames["waiting"]["order_no"].n_unique(),
            "notices": self._queued(shop),
        }
        with shop.store.read() as conn:
            from kit.store import schema  # the warehouses for the receipt form

            self.warehouses = [
                r[0]
                for r in conn.execute(
                    schema.warehouses.select()
                    .with_only_columns(schema.warehouses.c.code)
                    .order_by(schema.warehouses.c.code)
                ).all()
            ]
        return True

    @staticmethod
    def _queued(shop: Shop) -> int:
        from kit import outbox

        return outbox.notices(shop, status="queued").height

    # --- actions ---------------------------------------------------------------------------

    def allocate(self) -> bool:
        """Allocate every approved and backordered order (kit allocate) and say what happened."""
        result = self.attempt(allocation.allocate, self.require_shop())
        if result is None:
            return False
        self.show_info(
            t(
                "stock.allocated",
                allocated=len(result.allocated),
                backordered=len(result.backordered),
                still_short=len(result.still_short),
                waiting=len(result.waiting),
                shipments=result.shipments,
                units=result.units,
            )
            + (
                t("stock_desk.refused", count=len(result.refused), first=result.refused[0][1].message)
                if result.refused
                else ""
            )
        )
        self.attempt(self._read)
        return True

    def notify(self) -> bool:
        """Queue a stockout notice for every waiting order not yet told (S20)."""
        queued = self.attempt(shortages.notify, self.require_shop())
        if queued is None:
            return False
        self.show_info(t("shortages.notified", count=queued.height))
        self.attempt(self._read)
        return True

    def receive(self, warehouse: str, sku: str, quantity: str | int, reason: str | None = None) -> bool:
        """Record goods received into a warehouse: on hand goes up, with a ledger row."""
        return self.attempt(self._receive, warehouse, sku, quantity, reason) is not None

    def _receive(self, warehouse: str, sku: str, quantity: str | int, reason: str | None) -> dict[str, Any]:
        if not (sku or "").strip():
            raise BadInput("stock_desk.sku_required")
        try:
            result = stock.receive_goods(
                self.require_shop(),
                [{"warehouse_code": warehouse, "sku": sku.strip(), "quantity": str(quantity).strip()}],
                reason=reason or None,
            )
        except BadInput as error:  # the file-import wording (row 1, column "quantity") fits no form
            if error.key != "stock.bad_quantity":
                raise
            raise BadInput(
                "stock_desk.bad_quantity", value=error.params["value"], expected=error.params["expected"]
            ) from None
        self._read()
        self.show_info(t("stock_desk.received", sku=sku.strip(), warehouse=warehouse, units=result["units"]))
        return result

    def export(self) -> bool:
        """Make the shortage workbook (purchasing, production, lines) for download."""
        return self.attempt(self._export) is not None

    def _export(self) -> dict[str, Any]:
        name = f"{t('stock_desk.workbook_name')}-{clock.now():%Y%m%d-%H%M}.xlsx"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            result = shortages.export_xlsx(self.require_shop(), path)
            self.workbook_name = name  # first: the download link is drawn when the bytes change
            self.workbook = path.read_bytes()
        self.show_info(t("shortages.exported", **(result | {"path": name})))
        return result


def stock_desk(shop: Shop | None = None) -> Any:
    """The stock desk for a dashboard cell: open the shop (unless given), read, draw."""
    from kit.ui.stock_view import StockDesk

    model = StockDeskModel(shop)
    model.refresh()
    return StockDesk(model)

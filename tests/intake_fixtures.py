"""Faults for the intake tests, on top of kit.demo.exports (the synthetic exports): bad cells
each reader must report as a problem, and bad files each must refuse with one message."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from kit.demo.exports import *  # noqa: F403  (the writers the tests use, one import)
from kit.demo.exports import c, csv_bytes, shop, taobao_order_cells
from kit.errors import BadInput
from kit.intake.readers import read

# Cell faults: (column as in the file, bad text, the problem code a reader must report).
FAULTS = {
    "bad_amount": ("买家实际支付金额", "12,50", "bad_amount"),
    "bad_date": ("订单创建时间", "30/11/2026 12:34", "bad_date"),
    "bad_order_no": ("订单编号", '="3515A3147"', "bad_order_no"),
    "missing_order_no": ("订单编号", "", "missing_order_no"),
    "unknown_status": ("订单状态", "等待发货了", "unknown_status"),
    "bad_address": ("收货地址 ", "地址不详", "bad_address"),
}
ITEM_FAULTS = {
    "bad_quantity": ("购买数量", "1.5", "bad_quantity"),
    "bad_amount": ("价格", "9,90", "bad_amount"),
    "bad_order_no": ("订单编号", "NO-1", "bad_order_no"),
}


def inject(cells: pl.DataFrame, column: str, text: str, rows: list[int]) -> pl.DataFrame:
    """The cells with `text` written into `column` at the given 0-based rows."""
    return cells.with_row_index("_i").with_columns(
        pl.when(c("_i").is_in(rows)).then(pl.lit(text)).otherwise(c(column)).alias(column)).drop("_i")


# File faults: what a reader must refuse (BadInput key) or mark (a problem on the last row).
FILE_FAULTS = {
    "wrong_encoding": "intake.undecodable", "broken_byte": "intake.undecodable",
    "no_header": "intake.no_header", "renamed_column": "intake.missing_header",
    "empty": "intake.empty_file", "truncated": "short_row",
}


def file_fault(kind: str, cells: pl.DataFrame, encoding: str = "gbk") -> bytes:
    """The cells written as a CSV with one file-level fault of FILE_FAULTS."""
    if kind == "wrong_encoding":
        return csv_bytes(cells, "utf-16")
    if kind == "broken_byte":  # a byte no encoding the readers accept can start a character with
        data = csv_bytes(cells, encoding)
        cut = data.index(b"\n") + 1
        return data[:cut] + b"\x80\xff" + data[cut:]
    if kind == "no_header":
        return csv_bytes(cells, encoding, header=False)
    if kind == "renamed_column":
        return csv_bytes(cells.rename({cells.columns[0]: cells.columns[0].replace("编号", "号")}), encoding)
    if kind == "empty":
        return b""
    if kind == "truncated":
        return csv_bytes(cells, encoding, truncate=True)
    raise ValueError(kind)


# --- helpers of the reader tests ------------------------------------------------------

TRUTH = ["order_no", "buyer_nick", "receiver_name", "receiver_mobile", "receiver_phone", "province",
         "city", "district", "address_detail", "postcode", "payment_method", "post_fee_fen",
         "payable_fen", "paid_fen", "buyer_message", "seller_memo", "created_at", "paid_at",
         "trade_status", "carrier_name", "tracking_no"]


def write(tmp: Path, name: str, data: bytes) -> Path:
    """The bytes written to tmp/name."""
    path = tmp / name
    path.write_bytes(data)
    return path


def order_report(tmp: Path, n: int = 12, *, seed: int = 1, layout: int = 46, encoding: str = "gbk",
                 cells=None, **faults) -> tuple[Path, pl.DataFrame]:
    """An 订单报表 of n synthetic orders, and their truth."""
    orders, _ = shop(n, seed)
    cells = taobao_order_cells(orders, layout) if cells is None else cells(orders)
    return write(tmp, "ExportOrderList202611.csv", csv_bytes(cells, encoding, **faults)), orders


def problems_of(intake) -> list[list[str]]:
    """Each row's problem codes."""
    return intake.rows["problems"].to_list()


def bad_input(key: str, *args, **kwargs) -> BadInput:
    """The BadInput that read(*args, **kwargs) raises, checked to carry `key`."""
    with pytest.raises(BadInput) as caught:
        read(*args, **kwargs)
    assert caught.value.key == key, caught.value.message
    return caught.value

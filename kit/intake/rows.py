"""The intake contract: every reader turns a file into one frame of input rows, one row per
data row of the file, with the canonical order and line columns it could parse.

A reader never drops a row and never guesses: a cell it cannot parse becomes null and
a problem code in `problems` (e.g. "bad_amount:实付款"); the importer quarantines such
rows with the original text kept in `raw`. File-level faults (wrong encoding, no header,
a required column missing, an empty file) raise BadInput instead, naming the file.

Row kinds:
- "order": an order-level row (Taobao 订单报表): order columns set, line columns null.
- "line": a line-level row (Taobao 宝贝报表): order_no and line columns set.
- "order_line": one row per line carrying its order's columns too (Tmall XLSX, most
  generic exports); the importer takes each order's columns from its first row and
  quarantines the order if its rows disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kit.errors import BadInput

ROW_KINDS = ("order", "line", "order_line")

META_COLUMNS: dict[str, pl.DataType] = {
    "source": pl.String(),          # the file name the row came from
    "row_no": pl.Int64(),           # 1-based data row number in that file (header excluded)
    "row_kind": pl.String(),        # one of ROW_KINDS
    "raw": pl.String(),             # JSON object of the original row: header -> cell text
    "problems": pl.List(pl.String()),  # parse problem codes; empty when the row parsed
}

ORDER_COLUMNS: dict[str, pl.DataType] = {
    "order_no": pl.String(),        # digits only, no ="…" wrapper
    "buyer_nick": pl.String(),
    "receiver_name": pl.String(),
    "receiver_mobile": pl.String(),  # digits, no leading '
    "receiver_phone": pl.String(),   # landline as written, e.g. 0571-88886666
    "province": pl.String(),
    "city": pl.String(),
    "district": pl.String(),
    "address_detail": pl.String(),
    "postcode": pl.String(),
    "payment_method": pl.String(),   # online | cod
    "total_fen": pl.Int64(),         # amounts in fen (分)
    "discount_fen": pl.Int64(),
    "post_fee_fen": pl.Int64(),
    "payable_fen": pl.Int64(),
    "paid_fen": pl.Int64(),
    "buyer_message": pl.String(),
    "seller_memo": pl.String(),
    "created_at": pl.Datetime("us"),  # shop-local naive time
    "paid_at": pl.Datetime("us"),
    "trade_status": pl.String(),     # TradeStatus code
    "carrier_name": pl.String(),     # 物流公司 as written
    "tracking_no": pl.String(),      # 物流单号 without "No:"
    "extra": pl.String(),            # JSON object of the columns the reader does not know
}

LINE_COLUMNS: dict[str, pl.DataType] = {
    "sub_order_no": pl.String(),
    "sku": pl.String(),              # 商家编码 / 外部系统编号; null when the export has none
    "title": pl.String(),
    "spec": pl.String(),             # 商品属性 / 销售属性 as written
    "quantity": pl.Int64(),
    "price_fen": pl.Int64(),
    "line_discount_fen": pl.Int64(),
    "amount_fen": pl.Int64(),
    "line_status": pl.String(),      # TradeStatus code of the line, when given
}

SCHEMA: dict[str, pl.DataType] = {**META_COLUMNS, **ORDER_COLUMNS, **LINE_COLUMNS}

# Problem codes a reader may put in `problems` (optionally ":<column as in the file>").
PROBLEMS = (
    "missing_order_no",   # no order number
    "bad_order_no",       # order number is not digits
    "bad_amount",         # an amount that is not a plain number of yuan (e.g. "12,50")
    "bad_date",           # a date in a format the reader does not know
    "bad_quantity",       # quantity not a positive whole number
    "unknown_status",     # 订单状态 text the reader cannot map
    "short_row",          # fewer fields than the header
    "long_row",           # more fields than the header (beyond one trailing empty one)
    "bad_address",        # 收货地址 that does not split into province city district detail
    "inconsistent_order", # rows of one order disagree on an order column (importer)
    "orphan_line",        # a line whose order is in no order row (importer)
    "bad_json",           # a JSON Lines line that is not a JSON object
    "order_quarantined",  # a readable row whose order has an unreadable one (importer)
)


@dataclass(frozen=True)
class Intake:
    """What a reader returns: the input rows, and where they came from."""

    rows: pl.DataFrame      # columns exactly SCHEMA, in that order
    format: str             # taobao_csv, tmall_xlsx, csv, xlsx, jsonl
    sources: tuple[str, ...]  # the files read

    def take_raw(self) -> pl.Series:
        """The `raw` column, taken out of the rows (which keep every other column): an intake
        is imported once.

        The original text is most of an intake's memory and is needed only for the rows an
        import quarantines: the importer takes it, keeps those rows' text and lets the rest go.
        Importing the same intake again raises BadInput: read the files again instead.
        """
        if self.consumed:
            raise BadInput("intake.consumed", files="、".join(self.sources))
        raw = self.rows.get_column("raw")
        object.__setattr__(self, "rows", self.rows.drop("raw"))
        return raw

    @property
    def consumed(self) -> bool:
        """True once an import has taken the original text."""
        return "raw" not in self.rows.columns

    @property
    def rows_in(self) -> int:
        """How many data rows the files held: every one must end in one outcome."""
        return self.rows.height


def empty_rows() -> pl.DataFrame:
    """A frame with the intake schema and no rows."""
    return pl.DataFrame(schema=SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every SCHEMA column (missing ones null), in order, cast to its dtype."""
    missing = [pl.lit(None, dtype=d).alias(c) for c, d in SCHEMA.items() if c not in frame.columns]
    return frame.with_columns(missing).select(
        [pl.col(c).cast(d, strict=True) for c, d in SCHEMA.items()]
    )

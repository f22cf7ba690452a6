"""Deciding each input row's outcome before anything is written: which orders are new,
which changed and how, which rows are duplicates, and which must be quarantined.

Whole frames throughout: rows are grouped by order number, compared with the stored
orders in one join, and every row gets exactly one outcome (S6: no order duplicated,
none missed).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kit.intake.rows import ORDER_COLUMNS

# Order columns the importer stores on `orders` (carrier and tracking number go to extra).
STORED = [c for c in ORDER_COLUMNS if c not in ("order_no", "carrier_name", "tracking_no")]
ADDRESS = ["receiver_name", "receiver_mobile", "receiver_phone", "province", "city", "district",
           "address_detail", "postcode"]
# Columns a new order cannot be stored without (NOT NULL in kit.store.schema.orders).
REQUIRED = ["buyer_nick", "receiver_name", "province", "city", "district", "address_detail",
            "payment_method", "total_fen", "payable_fen", "created_at", "trade_status"]
LINE_KEY = ["sku", "title", "spec", "quantity", "price_fen", "amount_fen"]
HEADER_KINDS = ("order", "order_line")
LINE_KINDS = ("line", "order_line")


@dataclass(frozen=True)
class Classified:
    """The plan of one import: row outcomes and what to write for each order."""

    rows: pl.DataFrame       # input rows without raw + _i (row index), outcome, reasons (list[str])
    incoming: pl.DataFrame   # one row per readable order: order_no + STORED columns
    new_orders: pl.DataFrame  # one row per new order: order_no + STORED columns
    new_lines: pl.DataFrame   # lines of new orders, and of stored orders that had none
    updates: pl.DataFrame     # order_no, field, old, new: field changes to apply (long form)
    moves: pl.DataFrame       # order_no, from_status, to_status: trade status changes
    refused: pl.DataFrame     # order_no, kind, field, old, new: changes a person must decide


def _with_extra(rows: pl.DataFrame) -> pl.DataFrame:
    """Fold the export's carrier and tracking number into `extra` (JSON), keeping the rest."""
    shipped = pl.struct(
        pl.col("carrier_name").alias("carrier_name"), pl.col("tracking_no").alias("tracking_no")
    ).struct.json_encode()
    has = pl.col("carrier_name").is_not_null() | pl.col("tracking_no").is_not_null()
    merged = (
        pl.when(has & pl.col("extra").is_not_null())
        .then(pl.concat_str([pl.col("extra").str.strip_suffix("}"), pl.lit(","),
                             shipped.str.strip_prefix("{")]))
        .when(has).then(shipped)
        .otherwise(pl.col("extra"))
    )
    return rows.with_columns(merged.alias("extra"))


def _lines_text(column: str) -> pl.Expr:
    """A list of line structs as one text: a JSON object per line, one per text line."""
    return pl.col(column).list.eval(pl.element().struct.json_encode()).list.join("\n")


def _with_line_totals(incoming: pl.DataFrame, new_lines: pl.DataFrame,
                      stored_lines: pl.DataFrame) -> pl.DataFrame:
    """An order's total is its lines' amounts plus postage, its discount what the buyer does not
    pay of that (kit.models: payable = total − discount).

    Taobao's item report gives list prices and no line amounts, and its 总金额 is already
    after discounts: both numbers are in the export, so the discount is derived, not
    guessed. Where the payable exceeds the lines, the export's own numbers stay and review
    holds the order (amount_mismatch).
    """
    known = pl.concat([
        new_lines.select("order_no",
                         pl.col("amount_fen").fill_null(pl.col("price_fen") * pl.col("quantity"))),
        stored_lines.filter(~pl.col("order_no").is_in(new_lines["order_no"].implode())).select(
            "order_no", "amount_fen"),
    ], how="vertical_relaxed").group_by("order_no").agg(pl.col("amount_fen").sum().alias("_lines_fen"))
    total = pl.col("_lines_fen") + pl.col("post_fee_fen").fill_null(0)
    fits = pl.col("_lines_fen").is_not_null() & pl.col("payable_fen").is_not_null() & (
        total >= pl.col("payable_fen"))
    return incoming.join(known, on="order_no", how="left", maintain_order="left").with_columns(
        pl.when(fits).then(total).otherwise(pl.col("total_fen")).alias("total_fen"),
        pl.when(fits).then(total - pl.col("payable_fen")).otherwise(pl.col("discount_fen"))
        .alias("discount_fen"),
    ).drop("_lines_fen")


def may_be_held(rows: pl.DataFrame, stored_keys: pl.Series) -> pl.Series:
    """Row indices that classify() could quarantine (a superset, cheap to find before it runs):
    rows with problems or no number; every row of an order with such a row, of an order read
    more than once, of an order already stored, of a new order missing a required field; and
    lines whose order has no header row here. The importer keeps the original text of these
    rows only, before classifying, so the rest of it is let go early."""
    header = pl.col("row_kind").is_in(HEADER_KINDS)
    flagged = rows.select(
        ((pl.col("problems").list.len() > 0) | pl.col("order_no").is_null()
         | (header & pl.any_horizontal(pl.col(c).is_null() for c in REQUIRED))
         | (header & (pl.len().over("order_no", "row_kind") > 1)))
        .alias("f"), "order_no", header.alias("h"))
    orders = flagged.filter(pl.col("f") & pl.col("order_no").is_not_null())["order_no"].unique()
    headed = flagged.filter(pl.col("h"))["order_no"].unique()
    return flagged.with_row_index("_i").filter(
        pl.col("f") | pl.col("order_no").is_in(orders.implode())
        | pl.col("order_no").is_in(stored_keys.implode())
        | (~pl.col("h") & ~pl.col("order_no").is_in(headed.implode())))["_i"]


def classify(rows: pl.DataFrame, stored: pl.DataFrame, stored_lines: pl.DataFrame,
             platform: str, shop: str) -> Classified:
    """Plan the import of `rows` against the stored orders with the same numbers."""
    # The original text travels apart: only quarantined rows need it (importer: by `_i`).
    rows = _with_extra(rows.drop("raw", strict=False).with_row_index("_i"))
    rows = rows.with_columns(
        pl.col("problems").fill_null([]).alias("reasons"),
        pl.col("row_kind").is_in(HEADER_KINDS).alias("_header"),
        pl.col("row_kind").is_in(LINE_KINDS).alias("_line"),
    )
    headers = rows.filter(pl.col("_header") & pl.col("order_no").is_not_null())
    # An order whose header rows disagree on any order column cannot be read without guessing.
    repeated = headers.filter(pl.len().over("order_no") > 1)  # most orders have one header row
    spread = repeated.group_by("order_no").agg(*[pl.col(c).n_unique().alias(c) for c in STORED])
    inconsistent = spread.filter(pl.any_horizontal(pl.col(c) > 1 for c in STORED))["order_no"]
    known_here = headers["order_no"].unique()
    known_stored = stored.select("order_no", "platform", "shop")
    taken = known_stored.filter((pl.col("platform") != platform) | (pl.col("shop") != shop))["order_no"]

    missing = pl.concat_list([
        pl.when(pl.col(c).is_null()).then(pl.lit(f"missing_field:{c}")).otherwise(None) for c in REQUIRED
    ]).list.drop_nulls()
    rows = rows.with_columns(
        # A cell that could not be read is already its reason; "missing" is for empty cells.
        pl.when(pl.col("_header") & ~pl.col("order_no").is_in(stored["order_no"].implode())
                & (pl.col("reasons").list.len() == 0))
        .then(pl.concat_list([pl.col("reasons"), missing])).otherwise(pl.col("reasons")).alias("reasons"))
    order_reason = (
        pl.when(pl.col("order_no").is_in(inconsistent.implode())).then(pl.lit("inconsistent_order"))
        .when(pl.col("order_no").is_in(taken.implode())).then(pl.lit("order_no_taken"))
        .when(pl.col("_line") & ~pl.col("_header") & ~pl.col("order_no").is_in(known_here.implode())
              & ~pl.col("order_no").is_in(known_stored["order_no"].implode())).then(pl.lit("orphan_line"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    rows = rows.with_columns(
        pl.when(order_reason.is_not_null())
        .then(pl.concat_list([pl.col("reasons"), pl.concat_list([order_reason])]))
        .otherwise(pl.col("reasons")).alias("reasons")
    )
    # One unreadable row quarantines its whole order: half an order is never imported.
    bad_orders = rows.filter((pl.col("reasons").list.len() > 0) & pl.col("order_no").is_not_null())[
        "order_no"].unique()
    rows = rows.with_columns(
        (pl.col("order_no").is_null() | pl.col("order_no").is_in(bad_orders.implode())
         | (pl.col("reasons").list.len() > 0)).alias("_bad"))
    rows = rows.with_columns(  # held back for no reason of its own: no number, or its order's fault
        pl.when(pl.col("_bad") & (pl.col("reasons").list.len() == 0) & pl.col("order_no").is_null())
        .then(pl.lit(["missing_order_no"]))
        .when(pl.col("_bad") & (pl.col("reasons").list.len() == 0))
        .then(pl.lit(["order_quarantined"])).otherwise(pl.col("reasons")).alias("reasons"))
    good = rows.filter(~pl.col("_bad"))

    header = good.filter(pl.col("_header")).unique("order_no", keep="first", maintain_order=True)

    # Lines: numbered per order in the order they appear.
    lines = good.filter(pl.col("_line")).with_columns(
        pl.int_range(1, pl.len() + 1).over("order_no").alias("line_no"))
    lines_have = stored_lines.group_by("order_no").agg(
        pl.struct(LINE_KEY).sort_by("line_no").alias("_stored_lines"))
    line_sets = lines.group_by("order_no", maintain_order=True).agg(
        pl.struct(LINE_KEY).alias("_incoming_lines"))
    line_cmp = line_sets.join(lines_have, on="order_no", how="left")
    fill_lines = line_cmp.filter(
        ~pl.col("order_no").is_in(stored["order_no"].implode()) | pl.col("_stored_lines").is_null())
    # Stored lines differ when the count differs, or a cell the export gives differs (an item
    # report has no line amount: a null says nothing).
    paired = lines.join(stored_lines, on=["order_no", "line_no"], how="inner", suffix="_old")
    cell_differs = paired.filter(pl.any_horizontal(
        pl.col(c).is_not_null() & pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in LINE_KEY))["order_no"]
    count_differs = line_cmp.filter(
        pl.col("_stored_lines").is_not_null()
        & (pl.col("_stored_lines").list.len() != pl.col("_incoming_lines").list.len()))["order_no"]
    lines_differ = line_cmp.filter(pl.col("order_no").is_in(cell_differs.implode())
                                   | pl.col("order_no").is_in(count_differs.implode()))
    new_lines = lines.filter(pl.col("order_no").is_in(fill_lines["order_no"].implode()))

    # The orders as this import sees them: header rows, and stored orders receiving their lines
    # now (an item report after the order report), with totals that agree with the lines.
    late = stored.filter(pl.col("order_no").is_in(fill_lines["order_no"].implode())
                         & ~pl.col("order_no").is_in(header["order_no"].implode()))
    incoming = pl.concat([header.select("order_no", *STORED), late.select("order_no", *STORED)],
                         how="vertical_relaxed")
    incoming = _with_line_totals(incoming, new_lines, stored_lines)
    is_new = ~pl.col("order_no").is_in(stored["order_no"].implode())
    new_orders = incoming.filter(is_new)

    # Field by field, what a later export says differently (null means "not in this export").
    both = incoming.filter(~is_new).join(stored, on="order_no", suffix="_old")
    long = pl.concat([
        both.filter(pl.col(c).is_not_null() & pl.col(c).ne_missing(pl.col(f"{c}_old"))).select(
            "order_no", pl.lit(c).alias("field"),
            pl.col(f"{c}_old").cast(pl.String).alias("old"), pl.col(c).cast(pl.String).alias("new"),
            pl.col("stage"))
        for c in STORED
    ]) if both.height else pl.DataFrame(schema={"order_no": pl.String, "field": pl.String,
                                                "old": pl.String, "new": pl.String, "stage": pl.String})
    after_handover = ~pl.col("stage").is_in(["new", "held", "approved", "backordered", "allocated",
                                             "picking", "packed"])
    address_late = long.filter(pl.col("field").is_in(ADDRESS) & after_handover)
    moves = long.filter(pl.col("field") == "trade_status").select(
        "order_no", pl.col("old").alias("from_status"), pl.col("new").alias("to_status"))
    updates = long.filter((pl.col("field") != "trade_status")
                          & ~(pl.col("field").is_in(ADDRESS) & after_handover)).drop("stage")
    refused = pl.concat([
        address_late.select("order_no", pl.lit("address_changed_late").alias("kind"), "field",
                            "old", "new"),
        lines_differ.select("order_no", pl.lit("lines_changed").alias("kind"),
                            pl.lit("lines").alias("field"),
                            _lines_text("_stored_lines").alias("old"),
                            _lines_text("_incoming_lines").alias("new")),
    ])
    changed = pl.concat([updates["order_no"], moves["order_no"],
                         fill_lines.filter(~pl.col("order_no").is_in(new_orders["order_no"].implode()))[
                             "order_no"]]).unique()
    refused_only = refused.filter(~pl.col("order_no").is_in(changed.implode()))["order_no"].unique()

    first_header = header["_i"]
    outcome = (
        pl.when(pl.col("_bad")).then(pl.lit("quarantined"))
        .when(pl.col("order_no").is_in(refused_only.implode())).then(pl.lit("quarantined"))
        .when(pl.col("order_no").is_in(new_orders["order_no"].implode())
              & (pl.col("_line") | pl.col("_i").is_in(first_header.implode()))).then(pl.lit("new"))
        .when(pl.col("order_no").is_in(changed.implode())
              & (pl.col("_line") | pl.col("_i").is_in(first_header.implode()))).then(pl.lit("updated"))
        .otherwise(pl.lit("unchanged"))
    )
    rows = rows.with_columns(outcome.alias("outcome")).with_columns(
        pl.when(pl.col("order_no").is_in(refused_only.implode()))
        .then(pl.concat_list([pl.col("reasons"), pl.lit(["change_refused"])]))
        .otherwise(pl.col("reasons")).alias("reasons"))
    return Classified(rows, incoming, new_orders, new_lines, updates, moves, refused)

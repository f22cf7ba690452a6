"""The review rules: each a small function over the review context, returning the orders it
stops with a reason code, and the context they look at (the orders, their lines, the same
buyers' other open orders, refunds, blacklist, catalogue)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import polars as pl
import sqlalchemy as sa

from kit.config import Config
from kit.i18n import t
from kit.lifecycle.guards import PAYABLE_STATES
from kit.regions import full_province
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

OPEN_STAGES = ("new", "held", "approved")
PENDING_REFUND = ("WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS")
MOBILE = r"^1[3-9]\d{9}(-\d{1,6})?$"  # a privacy number may carry an extension
LANDLINE = r"^(0\d{2,3}-?)?\d{7,8}(-\d{1,6})?$"
ADDRESS_KEY = ["buyer_nick", "receiver_name", "receiver_mobile", "province", "city", "district",
               "address_detail"]


@dataclass(frozen=True)
class ReviewContext:
    """What the rules look at: the orders under review, their lines and their neighbours."""

    orders: pl.DataFrame       # the orders under review, every column
    lines: pl.DataFrame        # their lines
    neighbours: pl.DataFrame   # open orders (any) for duplicate and merge checks, with `signature`
    refunding: pl.Series       # order numbers with an after-sale case still open
    blacklist: pl.DataFrame    # kind, value
    skus: pl.Series            # the catalogue's SKUs (empty: no catalogue, no check)
    config: Config


Rule = Callable[[ReviewContext], pl.DataFrame]


def _stopped(frame: pl.DataFrame, condition: pl.Expr, reason: str) -> pl.DataFrame:
    return frame.filter(condition).select("order_no", pl.lit(reason).alias("reason"))


def payment(ctx: ReviewContext) -> pl.DataFrame:
    """S16: online orders fully paid; COD orders confirmed by phone by pre-sales."""
    cod = pl.col("payment_method") == "cod"
    return pl.concat([
        _stopped(ctx.orders, ~cod & (pl.col("paid_fen") < pl.col("payable_fen")), "payment_incomplete"),
        _stopped(ctx.orders, cod & ~pl.col("phone_confirmed"), "cod_unconfirmed"),
    ])


def shippable(ctx: ReviewContext) -> pl.DataFrame:
    """Closed or refunding orders are never released."""
    return pl.concat([
        _stopped(ctx.orders, ~pl.col("trade_status").is_in(PAYABLE_STATES), "not_shippable"),
        _stopped(ctx.orders, pl.col("order_no").is_in(ctx.refunding.implode()), "refund_pending"),
    ])


def address(ctx: ReviewContext) -> pl.DataFrame:
    """The address is complete and its province is a real one (S14: full address on the label)."""
    blank = pl.any_horizontal(pl.col(c).fill_null("").str.strip_chars() == ""
                              for c in ("province", "city", "district", "address_detail"))
    return pl.concat([
        _stopped(ctx.orders, blank, "address_incomplete"),
        _stopped(ctx.orders, ~blank & full_province().is_null(), "province_unknown"),
    ])


def phone(ctx: ReviewContext) -> pl.DataFrame:
    """A mobile or a landline the courier can call (S14)."""
    mobile = pl.col("receiver_mobile").fill_null("").str.replace_all(r"[\s]", "")
    landline = pl.col("receiver_phone").fill_null("").str.replace_all(r"[\s]", "")
    ok = mobile.str.contains(MOBILE) | landline.str.contains(LANDLINE)
    return _stopped(ctx.orders, ~ok, "phone_invalid")


def lines(ctx: ReviewContext) -> pl.DataFrame:
    """S11: every order has lines; quantities and prices are sane; lines add up to the payable."""
    per = ctx.lines.group_by("order_no").agg(
        (pl.col("quantity") <= 0).any().alias("bad_qty_low"),
        (pl.col("quantity") > ctx.config.max_quantity).any().alias("bad_qty_high"),
        ((pl.col("price_fen") <= 0) & ~pl.col("is_gift_item")).any().alias("bad_price"),
        ((pl.col("amount_fen") <= 0) & ~pl.col("is_gift_item")).any().alias("bad_amount"),
        pl.col("amount_fen").sum().alias("lines_fen"),
        (pl.col("sku").fill_null("") == "").any().alias("no_sku"),
        (~pl.col("sku").is_in(ctx.skus.implode()) & (pl.col("sku").fill_null("") != "")).any()
        .alias("unknown_sku"),
    )
    joined = ctx.orders.join(per, on="order_no", how="left")
    expected = pl.col("lines_fen") + pl.col("post_fee_fen") - pl.col("discount_fen")
    checks = [
        _stopped(joined, pl.col("lines_fen").is_null(), "lines_missing"),
        _stopped(joined, pl.col("bad_qty_low") | pl.col("bad_qty_high"), "quantity_suspect"),
        _stopped(joined, pl.col("bad_price") | pl.col("bad_amount"), "price_suspect"),
        _stopped(joined, pl.col("lines_fen").is_not_null()
                 & ((expected - pl.col("payable_fen")).abs() > ctx.config.amount_tolerance_fen),
                 "amount_mismatch"),
        _stopped(joined, pl.col("no_sku").fill_null(False), "sku_missing"),
    ]
    if ctx.skus.len():
        checks.append(_stopped(joined, pl.col("unknown_sku").fill_null(False), "sku_unknown"))
    return pl.concat(checks)


def neighbours(ctx: ReviewContext) -> pl.DataFrame:
    """S6: the same buyer and address with another open order nearby: merge, or a duplicate?"""
    window = timedelta(hours=ctx.config.merge_window_hours)
    mine = ctx.orders.join(ctx.lines.group_by("order_no").agg(_signature()), on="order_no", how="left")
    pairs = mine.join(ctx.neighbours, on=ADDRESS_KEY, suffix="_other").filter(
        (pl.col("order_no") != pl.col("order_no_other"))
        & ((pl.col("created_at") - pl.col("created_at_other")).abs() <= window))
    same = (pl.col("signature") == pl.col("signature_other")) & (
        pl.col("payable_fen") == pl.col("payable_fen_other"))
    return pl.concat([
        _stopped(pairs, same, "possible_duplicate"),
        _stopped(pairs, ~same, "mergeable"),
    ]).unique()


def buyer_message(ctx: ReviewContext) -> pl.DataFrame:
    """S26: a buyer's message is read by a person before shipping."""
    return _stopped(ctx.orders, pl.col("buyer_message").fill_null("").str.strip_chars() != "",
                    "buyer_message")


def blacklisted(ctx: ReviewContext) -> pl.DataFrame:
    """Buyers, mobiles or addresses the shop has blacklisted."""
    def listed(kind: str) -> pl.Expr:
        return ctx.blacklist.filter(pl.col("kind") == kind)["value"].implode()

    full_address = pl.concat_str(["province", "city", "district", "address_detail"], ignore_nulls=True)
    hit = (pl.col("buyer_nick").is_in(listed("buyer_nick"))
           | pl.col("receiver_mobile").is_in(listed("mobile"))
           | full_address.is_in(listed("address")))
    return _stopped(ctx.orders, hit, "blacklisted")


RULES: dict[str, Rule] = {
    "payment": payment, "shippable": shippable, "address": address, "phone": phone,
    "lines": lines, "neighbours": neighbours, "buyer_message": buyer_message,
    "blacklist": blacklisted,
}
REASONS = ("payment_incomplete", "cod_unconfirmed", "not_shippable", "refund_pending",
           "address_incomplete", "province_unknown", "phone_invalid", "lines_missing",
           "quantity_suspect", "price_suspect", "amount_mismatch", "sku_missing", "sku_unknown",
           "possible_duplicate", "mergeable", "buyer_message", "blacklisted")


def _signature() -> pl.Expr:
    """An order's lines as one comparable text: sku x quantity, sorted."""
    return pl.concat_str([pl.col("sku").fill_null(""), pl.lit("x"), pl.col("quantity").cast(pl.String)]
                         ).sort().str.join(",").alias("signature")


def is_present(config: Config) -> pl.Expr:
    """S26: the buyer's message or the seller's memo says the parcel is a present."""
    text = pl.concat_str([pl.col("buyer_message").fill_null(""), pl.col("seller_memo").fill_null("")])
    return pl.any_horizontal(text.str.contains(word, literal=True) for word in config.gift_keywords)


def reasons(ctx: ReviewContext) -> pl.DataFrame:
    """Every reason every rule gives, per order: order_no, reasons (sorted as REASONS)."""
    found = pl.concat([rule(ctx) for name, rule in RULES.items() if name not in ctx.config.disabled_rules])
    found = found.filter(~pl.col("reason").is_in(list(ctx.config.disabled_rules)))
    order = {r: i for i, r in enumerate(REASONS)}
    return (found.unique().with_columns(pl.col("reason").replace_strict(order).alias("_rank"))
            .sort("order_no", "_rank").group_by("order_no", maintain_order=True)
            .agg(pl.col("reason").alias("reasons")))


def describe(hold_reasons: str | None) -> list[str]:
    """A held order's reasons for staff: rule codes in words, typed reasons as written."""
    out = []
    for line in (hold_reasons or "").split("\n"):
        if line.startswith("review.") and line.removeprefix("review.") in REASONS:
            out.append(t(line))
        elif line:
            out.append(line)
    return out


def context(conn: sa.Connection, orders: pl.DataFrame, config: Config,
            lines: pl.DataFrame | None = None) -> ReviewContext:
    """What the rules need about `orders`: their lines (read unless given, e.g. for orders not
    stored yet), the same buyers' other open orders, pending refunds, blacklist, catalogue.

    Reads only what concerns these orders' buyers, never the whole order table.
    """
    o, ol, a = schema.orders, schema.order_lines, schema.after_sales
    keys = orders["order_no"].to_list()
    if lines is None:
        lines = read_by_keys(conn, ol, [c.name for c in ol.columns], "order_no", keys)
    same_buyers = read_by_keys(conn, o, ["order_no", "created_at", "payable_fen", "stage", *ADDRESS_KEY],
                               "buyer_nick", orders["buyer_nick"].drop_nulls().unique().to_list())
    others = same_buyers.filter(pl.col("stage").is_in(OPEN_STAGES)
                                & ~pl.col("order_no").is_in(orders["order_no"].implode())).drop("stage")
    other_lines = read_by_keys(conn, ol, ["order_no", "sku", "quantity"], "order_no",
                               others["order_no"].to_list())
    near = pl.concat([others, orders.select(others.columns)], how="vertical_relaxed")
    signatures = pl.concat([other_lines, lines.select("order_no", "sku", "quantity")],
                           how="vertical_relaxed").group_by("order_no").agg(_signature())
    refunding = read_by_keys(conn, a, ["order_no", "refund_status"], "order_no", keys).filter(
        pl.col("refund_status").is_in(PENDING_REFUND))
    blacklist = read_frame(conn, sa.select(schema.blacklist.c.kind, schema.blacklist.c.value)
                           .where(schema.blacklist.c.active))
    skus = read_frame(conn, sa.select(schema.skus.c.sku))["sku"]
    return ReviewContext(orders, lines, near.join(signatures, on="order_no", how="left"),
                         refunding["order_no"], blacklist, skus, config)


def describe_expr() -> pl.Expr:
    """The `hold_reasons` column as a list of sentences for staff (whole column, no Python loop)."""
    words = {f"review.{r}": t(f"review.{r}") for r in REASONS}
    return (pl.col("hold_reasons").fill_null("").str.split("\n")
            .list.eval(pl.element().filter(pl.element() != "")
                       .replace_strict(words, default=pl.element(), return_dtype=pl.String)))

"""Order review (审单): rules over the whole frame of new orders; all pass → approved, any
fail → held with every reason listed, so people decide only what needs a person.

Each rule is a small function over the review context returning the orders it stops, with
a reason code. S11: product, quantity, price and availability are checked; S16: online
orders only when fully paid, COD only after the phone confirmation; S26: the buyer's
message is read by a person, and a present never carries a price slip (the order gets
`no_price_slip`); S6: possible duplicates and mergeable orders are shown, not shipped twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock, lifecycle
from kit.config import Config
from kit.errors import BadInput, GuardFailed
from kit.i18n import t
from kit.lifecycle.guards import PAYABLE_STATES
from kit.models import Role, StaffMember
from kit.permissions import require
from kit.regions import full_province
from kit.store import schema
from kit.store.frames import insert_frame, read_frame

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


@dataclass(frozen=True)
class ReviewResult:
    """What a review run did."""

    reviewed: int
    approved: list[str]
    held: pl.DataFrame        # order_no, reasons
    presents: list[str]       # orders newly marked no_price_slip (S26)
    refused: list[tuple[str, str]]  # order_no, message: changes the lifecycle refused

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return {"reviewed": self.reviewed, "approved": len(self.approved), "held": self.held.height,
                "presents": len(self.presents),
                "held_orders": [{"order_no": r["order_no"], "reasons": r["reasons"]}
                                for r in self.held.iter_rows(named=True)],
                "refused": [{"order_no": k, "message": m} for k, m in self.refused]}


def _context(conn: sa.Connection, orders: pl.DataFrame, config: Config) -> ReviewContext:
    keys = orders["order_no"].to_list()
    o, ol, a = schema.orders, schema.order_lines, schema.after_sales
    these_lines = pl.concat([read_frame(conn, sa.select(ol).where(ol.c.order_no.in_(keys[i:i + 5000])))
                             for i in range(0, max(len(keys), 1), 5000)])
    open_orders = read_frame(conn, sa.select(o.c.order_no, o.c.created_at, o.c.payable_fen,
                                             *(o.c[c] for c in ADDRESS_KEY))
                             .where(o.c.stage.in_(OPEN_STAGES)))
    open_lines = read_frame(conn, sa.select(ol.c.order_no, ol.c.sku, ol.c.quantity)
                            .join(o, o.c.order_no == ol.c.order_no).where(o.c.stage.in_(OPEN_STAGES)))
    neighbours_frame = open_orders.join(open_lines.group_by("order_no").agg(_signature()),
                                        on="order_no", how="left")
    refunding = read_frame(conn, sa.select(a.c.order_no).where(a.c.refund_status.in_(PENDING_REFUND)))
    blacklist = read_frame(conn, sa.select(schema.blacklist.c.kind, schema.blacklist.c.value)
                           .where(schema.blacklist.c.active))
    skus = read_frame(conn, sa.select(schema.skus.c.sku))["sku"]
    return ReviewContext(orders, these_lines, neighbours_frame, refunding["order_no"], blacklist,
                         skus, config)


def run(shop: Any, *, order_nos: list[str] | None = None, recheck: bool = False,
        now: datetime | None = None) -> ReviewResult:
    """Review the new orders (and, with recheck, the held ones): approve or hold each."""
    person = require(shop.actor, "run_review")
    with shop.store.write() as conn:
        return review_in(conn, shop.config, person, order_nos=order_nos, recheck=recheck, now=now)


def review_in(conn: sa.Connection, config: Config, person: StaffMember, *,
              order_nos: list[str] | None = None, recheck: bool = False,
              now: datetime | None = None) -> ReviewResult:
    """The review inside the caller's write transaction, acting as the review job for `person`."""
    system = StaffMember(f"system:review:{person.name}", Role.SYSTEM)
    moment = now or clock.now()
    o = schema.orders
    stages = ["new", "held"] if recheck else ["new"]
    stmt = sa.select(o).where(o.c.stage.in_(stages), o.c.trade_status.in_(PAYABLE_STATES))
    if order_nos is not None:
        stmt = stmt.where(o.c.order_no.in_(order_nos))
    orders = read_frame(conn, stmt)
    ctx = _context(conn, orders, config)
    found = reasons(ctx)
    presents = _mark_presents(conn, orders, config, system, moment)
    passing = orders.filter(~pl.col("order_no").is_in(found["order_no"].implode()))["order_no"]
    approved = lifecycle.apply_many(conn, "order", passing, "approve", system, now=moment)
    coded = found.join(orders.select("order_no", "stage", "hold_reasons"), on="order_no").with_columns(
        pl.col("reasons").list.eval(pl.lit("review.") + pl.element()).list.join("\n").alias("codes"))
    held = lifecycle.apply_many(conn, "order", coded.filter(pl.col("stage") == "new").select(
        pl.col("order_no").alias("key"), pl.col("codes").alias("reason")), "hold", system, now=moment)
    _refresh_reasons(conn, coded.filter(pl.col("stage") == "held"), system, moment)
    refused = [(k, e.message) for k, e in (*approved.refused, *held.refused)]
    return ReviewResult(orders.height, approved.keys_applied, found, presents, refused)


def _refresh_reasons(conn: sa.Connection, still_held: pl.DataFrame, actor: StaffMember,
                     moment: datetime) -> None:
    """On a recheck, a held order's rule reasons become today's; reasons typed by people stay."""
    typed = (pl.col("hold_reasons").fill_null("").str.split("\n")
             .list.eval(pl.element().filter((pl.element() != "") & ~pl.element().str.starts_with("review."))))
    fresh = still_held.with_columns(
        pl.concat_list([typed, pl.col("codes").str.split("\n")]).list.join("\n").alias("new_reasons")
    ).filter(pl.col("new_reasons") != pl.col("hold_reasons").fill_null(""))
    if fresh.height == 0:
        return
    conn.execute(sa.update(schema.orders).where(schema.orders.c.order_no == sa.bindparam("k_"))
                 .values(hold_reasons=sa.bindparam("n_"), version=schema.orders.c.version + 1,
                         updated_at=moment),
                 fresh.select(pl.col("order_no").alias("k_"), pl.col("new_reasons").alias("n_")).to_dicts())
    insert_frame(conn, schema.audit, fresh.select(
        pl.lit(moment, dtype=pl.Datetime("us")).alias("at"), pl.lit(actor.name).alias("actor"),
        pl.lit(str(actor.role)).alias("role"), pl.lit("order").alias("entity"),
        pl.col("order_no").alias("entity_id"), pl.lit("recheck").alias("action"),
        pl.lit("hold_reasons").alias("field"), pl.col("hold_reasons").alias("from_state"),
        pl.col("new_reasons").alias("to_state")))


def _mark_presents(conn: sa.Connection, orders: pl.DataFrame, config: Config, actor: StaffMember,
                   moment: datetime) -> list[str]:
    """S26: orders whose message says present get no_price_slip, audited, in one statement."""
    marked = orders.filter(is_present(config) & ~pl.col("no_price_slip"))["order_no"].to_list()
    for start in range(0, len(marked), 5000):
        chunk = marked[start:start + 5000]
        conn.execute(sa.update(schema.orders).where(schema.orders.c.order_no.in_(chunk))
                     .values(no_price_slip=True, version=schema.orders.c.version + 1, updated_at=moment))
    if marked:
        insert_frame(conn, schema.audit, pl.DataFrame({"entity_id": marked}).select(
            pl.lit(moment, dtype=pl.Datetime("us")).alias("at"), pl.lit(actor.name).alias("actor"),
            pl.lit(str(actor.role)).alias("role"), pl.lit("order").alias("entity"), "entity_id",
            pl.lit("edit_present").alias("action"), pl.lit("no_price_slip").alias("field"),
            pl.lit("False").alias("from_state"), pl.lit("True").alias("to_state"),
            pl.lit(t("review.present_detected")).alias("reason")))
    return marked


def confirm_phone(shop: Any, order_no: str, *, expected_version: int | None = None) -> ReviewResult:
    """S16: pre-sales confirmed the COD order by phone; record who and when, and review it again,
    in one transaction."""
    person = require(shop.actor, "read")
    with shop.store.write() as conn:
        lifecycle.edit(conn, order_no, {"phone_confirmed": True}, person, expected_version=expected_version)
        return review_in(conn, shop.config, person, order_nos=[order_no], recheck=True)


def add_to_blacklist(shop: Any, kind: str, value: str, reason: str) -> None:
    """Blacklist a buyer nick, a mobile or a full address; later reviews hold their orders."""
    actor = require(shop.actor, "manage_blacklist")
    if kind not in ("buyer_nick", "mobile", "address"):
        raise BadInput("review.bad_blacklist_kind", kind=kind)
    with shop.store.write() as conn:
        conn.execute(schema.blacklist.insert().values(kind=kind, value=value.strip(), reason=reason,
                                                      actor=actor.name, at=clock.now(), active=True))


def describe_expr() -> pl.Expr:
    """The `hold_reasons` column as a list of sentences for staff (whole column, no Python loop)."""
    words = {f"review.{r}": t(f"review.{r}") for r in REASONS}
    return (pl.col("hold_reasons").fill_null("").str.split("\n")
            .list.eval(pl.element().filter(pl.element() != "")
                       .replace_strict(words, default=pl.element(), return_dtype=pl.String)))


def held_orders(shop: Any) -> pl.DataFrame:
    """The held orders with their reasons in words, oldest payment first: the review desk's list."""
    o = schema.orders
    with shop.store.read() as conn:
        frame = read_frame(conn, sa.select(o).where(o.c.stage == "held").order_by(o.c.paid_at))
    return frame.with_columns(describe_expr().alias("reasons"))


def cod_call_list(shop: Any) -> pl.DataFrame:
    """S16: COD orders waiting for pre-sales to confirm them by phone, oldest first."""
    o = schema.orders
    placed = sa.func.coalesce(o.c.paid_at, o.c.created_at)
    with shop.store.read() as conn:
        return read_frame(conn, sa.select(o.c.order_no, o.c.receiver_name, o.c.receiver_mobile,
                                          o.c.receiver_phone, o.c.payable_fen, o.c.created_at,
                                          o.c.paid_at, o.c.stage, o.c.version)
                          .where(o.c.payment_method == "cod", ~o.c.phone_confirmed,
                                 o.c.stage.in_(["new", "held"]),
                                 o.c.trade_status.in_(PAYABLE_STATES)).order_by(placed))


def merge(shop: Any, order_nos: list[str], into: str, *, reason: str | None = None,
          versions: dict[str, int] | None = None) -> list[str]:
    """合单 (S6): orders of one buyer to one address ship with `into`; checked, then audited."""
    actor = require(shop.actor, "read")
    o = schema.orders
    wanted = list(dict.fromkeys([into, *order_nos]))
    with shop.store.write() as conn:
        rows = read_frame(conn, sa.select(o).where(o.c.order_no.in_(wanted)))
        missing = sorted(set(wanted) - set(rows["order_no"].to_list()))
        if missing:
            raise BadInput("review.merge_missing", orders=", ".join(missing))
        if into in order_nos or len(wanted) < 2:
            raise BadInput("review.merge_self", order_no=into)
        if rows.select(ADDRESS_KEY).unique().height != 1:
            raise GuardFailed("review.merge_other_address", into=into)
        if rows.filter(pl.col("merged_into").is_not_null()).height or rows.filter(
                ~pl.col("stage").is_in(OPEN_STAGES)).height:
            raise GuardFailed("review.merge_not_open", into=into)
        for no in wanted[1:]:  # the few orders staff selected
            lifecycle.edit(conn, no, {"merged_into": into}, actor, reason=reason,
                           expected_version=(versions or {}).get(no))
    return wanted[1:]

"""The 审单台 review desk (pre-sales): held orders with every reason, the COD call list, the
daily reconciliation (S6, S11, S16, S24a, S26).

`ReviewDeskModel` reads the lists from kit.review and calls one service per action:
`lifecycle.apply_many` (approve, hold, cancel: each order guarded by the version the desk
displayed, so a stale click shows the conflict instead of acting), `lifecycle.edit`
(address, merge), `lifecycle.split_lines`, `review.run`, `review.confirm_phone` and
`reconcile`. The desk holds no shop rule: which buttons a role sees comes from the
lifecycle table, kit.lifecycle.EDITS and kit.permissions, and the core checks again.

Phone numbers: pre-sales, after-sales and supervisors see them whole (COD calls, fixing an
address with the buyer, S16 and S24a); every other role sees `138****5678`, and the street
part of the address and the receiver's given name are hidden too.

CSS classes (contract of this page): `kit-review` (root), `kit-refresh`, `kit-run-review`,
`kit-kpi-review-held`, `kit-kpi-review-cod`, `kit-kpi-review-new`, `kit-message`, and those
of kit.ui.review_forms and kit.ui.table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl
from traitlets import Dict, Enum, Instance, List, Unicode, observe

from kit import clock, lifecycle, review
from kit.errors import BadInput, KitError
from kit.i18n import t
from kit.models import Role, Stage
from kit.permissions import ACTIONS, require
from kit.reconcile import Reconciliation, reconcile
from kit.shop import Shop
from kit.ui.columns import flag, labels, masked, mobile, receiver
from kit.ui.review_forms import ADDRESS_FIELDS, ReviewDesk
from kit.ui.session import ShopModel
from kit.ui.table import Column, Frame, TableModel

__all__ = ["SEES_PHONES", "ReviewDesk", "ReviewDeskModel", "masked", "review_desk"]

LISTS = ("held", "approved", "new")  # the stages the order list can show; held first
SEES_PHONES = frozenset({Role.PRESALE, Role.AFTERSALE, Role.SUPERVISOR})


def order_columns(sees: bool) -> list[Column]:
    """The order list's columns; phone and receiver masked unless the role needs them."""
    phone = pl.coalesce(pl.col("receiver_mobile"), pl.col("receiver_phone"))
    return [
        Column(t("review_desk.col_order_no"), pl.col("order_no"), 160),
        Column(t("review_desk.col_paid_at"), pl.coalesce("paid_at", "created_at").dt.strftime(
            "%Y-%m-%d %H:%M").fill_null(""), 128),
        Column(t("review_desk.col_receiver"), receiver(sees), 70),
        Column(t("review_desk.col_mobile"),
               (phone if sees else masked("receiver_mobile").fill_null(masked("receiver_phone")))
               .fill_null(""), 112),
        Column(t("review_desk.col_region"),
               pl.concat_str(["province", "city", "district"], separator=" ", ignore_nulls=True), 150),
        Column(t("review_desk.col_payable"), pl.col("payable_fen") / 100, 96, ",.2f"),
        Column(t("review_desk.col_reasons"), pl.col("reasons").list.join("；").fill_null(""), 224),
        Column(t("review_desk.col_message"), pl.col("buyer_message").fill_null(""), 130),
        Column(t("review_desk.col_present"), flag("no_price_slip", t("review_desk.present_yes")), 56),
    ]


def call_columns(sees: bool) -> list[Column]:
    """The COD call list's columns: whom to call, on which number, for how much."""
    return [
        Column(t("review_desk.col_order_no"), pl.col("order_no"), 160),
        Column(t("review_desk.col_receiver"), receiver(sees), 90),
        Column(t("review_desk.col_mobile"), mobile(sees), 140),
        Column(t("review_desk.col_cod_amount"), pl.col("payable_fen") / 100, 110, ",.2f"),
        Column(t("review_desk.col_stage"), labels("stage", Stage), 100),
    ]


class ReviewDeskModel(ShopModel):
    """What the review desk shows and the actions it offers, each one call into a service."""

    stage = Enum(LISTS, default_value="held", help="which orders the order list shows")
    orders = Instance(TableModel, allow_none=True, help="the order list (held by default) with its selection")
    calls = Instance(TableModel, allow_none=True, help="COD orders waiting for the phone confirmation (S16)")
    counts = Dict(help="held, new and cod counts for the tiles")
    allowed = List(Unicode(), help="the actions the acting person's role may use here")
    lines = Frame(allow_none=True, help="the lines of the one selected order")
    reconciliation = Instance(Reconciliation, allow_none=True, help="the last reconciliation read")
    day = Instance(date, allow_none=True, help="the day the reconciliation is for")

    def __init__(self, shop: Shop | None = None, **kwargs: Any) -> None:
        super().__init__(shop, **kwargs)
        self.day = clock.now().date()
        self.orders = TableModel(order_columns(self.sees_phones), search=self._searched())
        self.calls = TableModel(call_columns(self.sees_phones), search=self._searched())
        self.orders.observe(self._load_lines, names="selected")
        self._allow()

    # --- who acts and what they may do -----------------------------------------------------

    @property
    def sees_phones(self) -> bool:
        """Whether this role needs whole phone numbers and addresses (see the module's note)."""
        return self.role in SEES_PHONES

    @observe("shop", "stage")
    def _allow(self, _change: object = None) -> None:
        role, stage = self.role, self.stage
        if role is None:
            self.allowed = []
            return
        moves = {tr.action for tr in lifecycle.transitions_for("order", stage, role)}
        edits = {rule.group: role in rule.roles and (rule.stages is None or stage in rule.stages)
                 for rule in lifecycle.EDITS}
        allowed = [a for a in ("approve", "hold", "cancel") if a in moves]
        allowed += [a for a in ("run_review", "reconcile") if role in ACTIONS[a]]
        if role in ACTIONS["run_review"] and stage in ("new", "held"):
            allowed.append("recheck")
        allowed += [g for g in ("address", "merge") if edits[g]]
        if role in lifecycle.SPLIT_ROLES and stage in lifecycle.BEFORE_ALLOCATION:
            allowed.append("split")
        if edits["phone_confirmation"] and role in ACTIONS["run_review"]:
            allowed.append("confirm_phone")
        self.allowed = allowed

    @observe("shop")
    def _shop_changed(self, _change: object = None) -> None:
        """Another person (or a shop opened late) may see phones differently: recompute the columns."""
        if self.orders is None:  # still in __init__: the tables are made with the right columns
            return
        self.orders.set_columns(order_columns(self.sees_phones))
        self.calls.set_columns(call_columns(self.sees_phones))

    def _searched(self) -> tuple[str, ...]:
        return (t("review_desk.col_receiver"), t("review_desk.col_mobile"), t("review_desk.col_message"),
                t("review_desk.col_reasons"), t("review_desk.col_region"))

    # --- reading ---------------------------------------------------------------------------

    def _read(self) -> bool:
        shop = self.require_shop()
        if self.stage == "held":
            frame = review.held_orders(shop)
        else:
            frame = shop.orders(stage=self.stage).with_columns(
                pl.lit([], dtype=pl.List(pl.String)).alias("reasons"))
        self.orders.frame = frame
        self.calls.frame = review.cod_call_list(shop)
        stages = shop.status().get("stage", {})
        self.counts = {"held": int(stages.get("held", 0)), "new": int(stages.get("new", 0)),
                       "cod": self.calls.frame.height}
        return True

    @observe("stage")
    def _stage_changed(self, _change: object = None) -> None:
        if self.shop is not None:
            self.attempt(self._read)

    def _load_lines(self, _change: object = None) -> None:
        selected = self.orders.selected
        if len(selected) != 1 or self.shop is None:
            self.lines = None
            return
        self.lines = self.attempt(self.shop.lines, list(selected))

    def _chosen(self, table: TableModel, order_nos: Sequence[str] | None) -> pl.DataFrame:
        """The orders to act on with the version the desk displayed: key, expected_version."""
        keys = list(dict.fromkeys(table.selected if order_nos is None else order_nos))
        shown = table.frame.select(pl.col("order_no").alias("key"),
                                   pl.col("version").alias("expected_version"))
        return pl.DataFrame({"key": keys}, schema={"key": pl.String}).join(
            shown, on="key", how="left", maintain_order="left")

    def _version(self, order_no: str) -> int | None:
        found = self.orders.frame.filter(pl.col("order_no") == order_no)
        return int(found["version"][0]) if found.height else None

    def _actor(self) -> Any:
        return require(self.require_shop().actor, "read")

    # --- actions on orders -----------------------------------------------------------------

    def approve(self, order_nos: Sequence[str] | None = None) -> bool:
        """Approve the selected (or given) orders: S16 and the review reasons were settled by a person."""
        return self.attempt(self._move, "approve", order_nos, None) is True

    def hold(self, reason: str, order_nos: Sequence[str] | None = None) -> bool:
        """Hold the selected orders with a reason (e.g. the buyer called, S11)."""
        return self.attempt(self._move, "hold", order_nos, reason) is True

    def cancel(self, reason: str, order_nos: Sequence[str] | None = None) -> bool:
        """Cancel the selected orders with a reason."""
        return self.attempt(self._move, "cancel", order_nos, reason) is True

    def _move(self, action: str, order_nos: Sequence[str] | None, reason: str | None) -> bool | None:
        chosen = self._chosen(self.orders, order_nos)
        if chosen.height == 0:
            self.show_info(t("review_desk.nothing_selected"))
            return None
        actor, shop = self._actor(), self.require_shop()
        with shop.store.write() as conn:
            result = lifecycle.apply_many(conn, "order", chosen, action, actor, reason=reason)
        self._report(t(f"review_desk.button_{action}"), len(result.keys_applied), result.refused)
        self._read()
        return not result.refused

    def _report(self, action: str, done: int, refused: Sequence[tuple[str, KitError]]) -> None:
        """One sentence for what an action did; a single refusal is shown as its own message."""
        if not refused:
            self.show_info(t("review_desk.done", action=action, count=done))
        elif done == 0 and len(refused) == 1:
            self.show_error(refused[0][1])
        else:
            self.show_error(refused[0][1])
            self.message = t("review_desk.partly", action=action, done=done, refused=len(refused),
                             reasons=" ".join(e.message for _, e in refused[:5]))

    def run_review(self) -> bool:
        """Review the new orders (kit.review.run) and say how many were approved and held."""
        result = self.attempt(review.run, self.require_shop())
        if result is None:
            return False
        self.show_info(t("review_desk.reviewed", reviewed=result.reviewed, approved=len(result.approved),
                         held=result.held.height, presents=len(result.presents)))
        return self.attempt(self._read) is not None

    def recheck(self, order_nos: Sequence[str] | None = None) -> bool:
        """Review the selected held orders again, e.g. after fixing an address."""
        keys = self._chosen(self.orders, order_nos)["key"].to_list()
        if not keys:
            self.show_info(t("review_desk.nothing_selected"))
            return False
        result = self.attempt(review.run, self.require_shop(), order_nos=keys, recheck=True)
        if result is None:
            return False
        self.show_info(t("review_desk.rechecked", reviewed=result.reviewed,
                         approved=len(result.approved), held=result.held.height))
        return self.attempt(self._read) is not None

    def edit_address(self, order_no: str, typed: Mapping[str, str | None], reason: str | None = None) -> bool:
        """Save the receiver fields that differ from those displayed (S24a), guarded by the version."""
        return self.attempt(self._edit_address, order_no, typed, reason) is not None

    def _edit_address(self, order_no: str, typed: Mapping[str, str | None],
                      reason: str | None) -> bool | None:
        shown = self.orders.frame.filter(pl.col("order_no") == order_no)
        before = shown.row(0, named=True) if shown.height else {}
        values = {}
        for field in ADDRESS_FIELDS:
            if field in typed:
                new = (typed[field] or "").strip()
                if new != (before.get(field) or ""):
                    values[field] = new or None
        if not values:
            self.show_info(t("review_desk.no_change"))
            return None
        actor, shop = self._actor(), self.require_shop()
        with shop.store.write() as conn:
            lifecycle.edit(conn, order_no, values, actor, reason=reason or None,
                           expected_version=self._version(order_no))
        self.show_info(t("review_desk.address_saved", order_no=order_no))
        self._read()
        return True

    def merge(self, into: str, order_nos: Sequence[str] | None = None, reason: str | None = None) -> bool:
        """Merge the other selected orders into `into` (合单): all or none, each guarded by its version."""
        return self.attempt(self._merge, into, order_nos, reason) is not None

    def _merge(self, into: str, order_nos: Sequence[str] | None, reason: str | None) -> bool | None:
        chosen = self._chosen(self.orders, order_nos).filter(pl.col("key") != into)
        if chosen.height == 0:
            self.show_info(t("review_desk.select_two"))
            return None
        # One transaction in the service: a refusal leaves every order as it was.
        review.merge(self.require_shop(), chosen["key"].to_list(), into, reason=reason or None,
                     versions=dict(chosen.iter_rows()))
        self.show_info(t("review_desk.merged", count=chosen.height, order_no=into))
        self._read()
        return True

    def split(self, order_no: str, parts: Mapping[int, int], reason: str | None = None) -> bool:
        """Ship some lines of one order as a separate parcel (拆单): line number → part."""
        return self.attempt(self._split, order_no, parts, reason) is not None

    def _split(self, order_no: str, parts: Mapping[int, int], reason: str | None) -> bool:
        actor, shop = self._actor(), self.require_shop()
        with shop.store.write() as conn:
            lifecycle.split_lines(conn, order_no, dict(parts), actor, reason=reason or None,
                                  expected_version=self._version(order_no))
        self.show_info(t("review_desk.split_saved", order_no=order_no, parts=len(set(parts.values()))))
        self._read()
        return True

    def confirm_phone(self, order_nos: Sequence[str] | None = None) -> bool:
        """S16: pre-sales reached the COD buyers by phone; record it and review the orders again."""
        return self.attempt(self._confirm_phone, order_nos) is True

    def _confirm_phone(self, order_nos: Sequence[str] | None) -> bool | None:
        chosen = self._chosen(self.calls, order_nos)
        if chosen.height == 0:
            self.show_info(t("review_desk.nothing_selected"))
            return None
        shop = self.require_shop()
        approved = held = 0
        refused: list[tuple[str, KitError]] = []
        for key, version in chosen.iter_rows():  # one service call per selected order (a page at most)
            try:
                result = review.confirm_phone(shop, key, expected_version=version)
            except KitError as error:
                refused.append((key, error))
                continue
            approved += len(result.approved)
            held += result.held.height
        if refused:
            self._report(t("review_desk.button_confirm_phone"), chosen.height - len(refused), refused)
        else:
            self.show_info(t("review_desk.phone_confirmed", count=chosen.height, approved=approved,
                             held=held))
        self._read()
        return not refused

    # --- reconciliation (S6) ---------------------------------------------------------------

    def reconcile(self, day: date | None = None, counted: int | str | None = None) -> bool:
        """S6: the day's registered orders by stage against the count pre-sales typed in."""
        return self.attempt(self._reconcile, day or self.day, counted) is not None

    def _reconcile(self, day: date, counted: int | str | None) -> Reconciliation:
        number = _count(counted)
        self.day = day
        result = reconcile(self.require_shop(), day, counted=number)
        self.reconciliation = result
        if number is None:
            self.clear_message()
        else:
            row = result.channels.filter(pl.col("counted").is_not_null()).row(0, named=True)
            self.show_info(t("review_desk.recon_recorded", day=day.isoformat(), imported=row["imported"],
                             counted=row["counted"], difference=row["difference"]))
        return result


def _count(counted: int | str | None) -> int | None:
    """The typed-in count as a whole number ≥ 0; empty → None; anything else → BadInput."""
    if counted is None or isinstance(counted, int):
        return counted
    text = counted.strip().replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise BadInput("review_desk.bad_count", value=counted.strip())
    return number


def review_desk(shop: Shop | None = None) -> ReviewDesk:
    """The review desk for a dashboard cell: open the shop (unless given), read, draw."""
    model = ReviewDeskModel(shop)
    model.refresh()
    return ReviewDesk(model)

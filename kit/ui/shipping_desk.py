"""The 发货确认 shipping desk (logistics, pre-sales, supervisor; S8, S9, S1b, S24c, S26b): scan the
tracking numbers of the parcels handed to the courier, confirm them on the platform before
21:00 and download the platform's batch file, and give every order due today that did not ship
its reason, with the list of buyers pre-sales phone.

`ShippingDeskModel` reads through kit.shipping and calls one service per action (hand_over,
confirm, batch_file, record_reason); which buttons a role sees comes from the lifecycle table
and kit.permissions, and the services check again. The sender address (S26b) is checked when
the desk reads: while it is missing the desk says so and takes no scan. The countdown to the
day's confirm_by ([deadlines] confirm_by, 21:00) is computed from kit.clock when the desk reads.

Phone numbers in the call list: pre-sales (who phone, S9) and supervisors see them whole;
every other role sees `138****5678` and the receiver's surname only. CSS classes are listed in
kit.ui.shipping_view.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
from traitlets import Bytes, Dict, Enum, Instance, Int, List, Unicode, observe

from kit import clock, lifecycle, shipping
from kit.errors import BadInput, KitError, Refused
from kit.i18n import t
from kit.models import PaymentMethod, Role, ShipmentStage, Stage
from kit.permissions import ACTIONS, require
from kit.shop import Shop
from kit.ui.columns import flag, labels, mobile, receiver, when
from kit.ui.session import DeskModel
from kit.ui.table import KEY, Column, TableModel

__all__ = ["CALLERS", "KPIS", "VIEWS", "ShippingDeskModel", "parse_scan", "shipping_desk"]

VIEWS = ("awaiting", "unshipped", "calls", "confirmed")  # what the desk's table shows
KPIS = ("packed", "awaiting", "late", "unshipped", "no_reason", "confirmed")
CALLERS = frozenset({Role.PRESALE, Role.SUPERVISOR})  # who phones the buyers (S9) sees their numbers
ACTIONS_HERE = ("hand_over", "confirm", "record_not_shipped", "export_confirmation")
SCAN_LOG = 8  # how many recent scans the desk lists
_SHIPMENT_DIGITS = 12  # a leading number this short is a shipment number; longer ones are order numbers
_SEPARATORS = re.compile(r"[\s,，;；]+")


def parse_scan(text: str) -> dict[str, Any] | None:
    """One scan as a hand-over row: the label's number alone, or shipment/order no., number [, carrier]."""
    parts = [p for p in _SEPARATORS.split((text or "").strip()) if p]
    if not parts:
        return None
    if len(parts) == 1:
        return {"tracking_no": parts[0]}
    if len(parts) > 3:
        raise BadInput("shipping_desk.bad_scan", text=text.strip()[:80])
    key = parts[0].lstrip("#")
    row: dict[str, Any] = {"tracking_no": parts[1]}
    if key.isdigit() and len(key) <= _SHIPMENT_DIGITS:
        row["shipment_id"] = int(key)
    else:
        row["order_no"] = key
    if len(parts) == 3:
        row["carrier_code"] = parts[2].lower()
    return row


def awaiting_columns() -> list[Column]:
    """Handed over, not yet confirmed (S9): parcel, order, carrier, number, deadline, late."""
    return [
        Column(t("shipping_desk.col_shipment"), pl.col("shipment_id"), 70),
        Column(t("shipping_desk.col_order_no"), pl.col("order_no"), 160),
        Column(t("shipping_desk.col_carrier"), pl.col("carrier"), 100),
        Column(t("shipping_desk.col_tracking_no"), pl.col("tracking_no").fill_null(""), 150),
        Column(t("shipping_desk.col_handed_over"), when("handed_over_at"), 100),
        Column(t("shipping_desk.col_confirm_by"), when("confirm_by"), 100),
        Column(t("shipping_desk.col_late"), flag("late", t("shipping_desk.late_yes")), 70),
    ]


def unshipped_columns(sees: bool) -> list[Column]:
    """Due today and not handed over (S8, S9), with the reason given (or still to give)."""
    return [
        Column(t("shipping_desk.col_order_no"), pl.col("order_no"), 160),
        Column(t("shipping_desk.col_stage"), labels("stage", Stage), 80),
        Column(t("shipping_desk.col_ship_by"), when("ship_by"), 100),
        Column(t("shipping_desk.col_hours_late"), pl.col("hours_late"), 100, ",.1f"),
        Column(t("shipping_desk.col_receiver"), receiver(sees), 80),
        Column(t("shipping_desk.col_reason"), pl.col("reason").fill_null(t("shipping.no_reason")), 240),
        Column(t("shipping_desk.col_reason_by"), pl.col("reason_by").fill_null(""), 90),
    ]


def call_columns(sees: bool) -> list[Column]:
    """The buyers pre-sales phone (S9): whom, on which number, why the order did not ship."""
    return [
        Column(t("shipping_desk.col_order_no"), pl.col("order_no"), 160),
        Column(t("shipping_desk.col_receiver"), receiver(sees), 80),
        Column(t("shipping_desk.col_mobile"), mobile(sees), 120),
        Column(t("shipping_desk.col_buyer"), pl.col("buyer_nick").fill_null(""), 120),
        Column(t("shipping_desk.col_payment"), labels("payment_method", PaymentMethod), 90),
        Column(t("shipping_desk.col_reason"), pl.col("reason").fill_null(t("shipping.no_reason")), 240),
    ]


def confirmed_columns() -> list[Column]:
    """Confirmed on the platform today (S1b): what the batch file of the day holds."""
    return [
        Column(t("shipping_desk.col_order_no"), pl.col("order_no"), 160),
        Column(t("shipping_desk.col_shipment"), pl.col("shipment_id"), 70),
        Column(t("shipping_desk.col_carrier"), pl.col("carrier"), 100),
        Column(t("shipping_desk.col_tracking_no"), pl.col("tracking_no").fill_null(""), 150),
        Column(t("shipping_desk.col_confirmed_at"), when("confirmed_at"), 100),
    ]


_KEYS = {"awaiting": "shipment_id", "unshipped": "order_no", "calls": "order_no", "confirmed": "shipment_id"}


class ShippingDeskModel(DeskModel):
    """What the shipping desk shows and the actions it offers, each one call into a service."""

    view = Enum(VIEWS, default_value="awaiting", help="which list the table shows")
    sender_problem = Unicode("", help="why shipping may not start (S26b); empty when the sender is set")
    read_at = Instance(datetime, allow_none=True, help="when the desk last read (the countdown's now)")
    deadline = Instance(datetime, allow_none=True, help="today's confirm_by (S9)")
    minutes_left = Int(None, allow_none=True, help="minutes from read_at to the deadline; negative: past")
    scans = List(Dict(), help="the recent scans, newest first: text, ok, message")
    batch = Bytes(b"", help="the last batch file made for download (CSV, GBK)")
    batch_note = Unicode("", help="what the batch file holds, for the link's words")

    def __init__(self, shop: Shop | None = None, **kwargs: Any) -> None:
        super().__init__(shop, **kwargs)
        sees = self.sees_phones
        columns = {
            "awaiting": awaiting_columns(),
            "unshipped": unshipped_columns(sees),
            "calls": call_columns(sees),
            "confirmed": confirmed_columns(),
        }
        searched = (
            t("shipping_desk.col_order_no"),
            t("shipping_desk.col_tracking_no"),
            t("shipping_desk.col_receiver"),
            t("shipping_desk.col_reason"),
        )
        self.tables = {v: TableModel(columns[v], key=_KEYS[v], search=searched) for v in VIEWS}
        self._allow()

    # --- who acts and what they may do -----------------------------------------------------

    @property
    def sees_phones(self) -> bool:
        """Whether this role phones the buyers and so sees whole numbers (see the module's note)."""
        return self.role in CALLERS

    def _may(self, role: Role) -> list[str]:
        moves = {
            tr.action
            for stage in (ShipmentStage.PACKED, ShipmentStage.HANDED_OVER)
            for tr in lifecycle.transitions_for("shipment", str(stage), role)
        }
        return [a for a in ACTIONS_HERE if a in moves or (a in ACTIONS and role in ACTIONS[a])]

    @observe("shop")
    def _allow(self, _change: object = None) -> None:
        super()._allow()
        if self.tables and self.role is not None:  # another person may see phones differently
            self.tables["unshipped"].set_columns(unshipped_columns(self.sees_phones))
            self.tables["calls"].set_columns(call_columns(self.sees_phones))

    # --- reading ---------------------------------------------------------------------------

    def _read(self, *views: str) -> bool:
        """Read the named lists (all of them by default, and on the first read), the counts, the
        sender check and the countdown."""
        shop = self.require_shop()
        moment = clock.now()
        wanted = set(views) if views and self.read_at is not None else {*VIEWS, "packed"}
        try:
            shipping.check_sender(shop.config)
            self.sender_problem = ""
        except KitError as problem:
            self.sender_problem = problem.message
        names = shipping.carrier_names(shop.config)
        carrier = pl.col("carrier_code").replace_strict(names, default=pl.col("carrier_code"),
                                                        return_dtype=pl.String)
        readers = {
            "awaiting": lambda: shipping.awaiting_confirmation(shop, now=moment).with_columns(
                carrier.alias("carrier")),
            "unshipped": lambda: shipping.unshipped(shop, now=moment),
            "calls": lambda: shipping.call_list(shop, now=moment),
            "confirmed": lambda: shipping.confirmed_in(shop, day=moment.date()).with_columns(
                carrier.alias("carrier")),
        }
        for view in VIEWS:
            if view in wanted:
                self.tables[view].frame = readers[view]()
        cut = shop.config.deadlines.confirm_by
        self.read_at = moment
        self.deadline = moment.replace(hour=cut.hour, minute=cut.minute, second=0, microsecond=0)
        self.minutes_left = int((self.deadline - moment).total_seconds() // 60)
        frames = {view: self.tables[view].frame for view in VIEWS}
        recount = "packed" in wanted or not self.counts
        packed = shipping.in_stage(shop, ShipmentStage.PACKED) if recount else None
        self._count(frames, packed)
        return True

    def _count(self, frames: dict[str, pl.DataFrame], packed: int | None = None) -> None:
        """The tiles from the lists as they stand (packed: counted anew when given)."""
        self.counts = {
            "packed": packed if packed is not None else int((self.counts or {}).get("packed", 0)),
            "awaiting": frames["awaiting"].height,
            "late": int(frames["awaiting"]["late"].sum()),
            "unshipped": frames["unshipped"].height,
            "no_reason": frames["unshipped"]["reason"].null_count(),
            "confirmed": frames["confirmed"].height,
        }

    # --- hand-over (S8, S24c, S26b) ---------------------------------------------------------

    def scan(self, text: str) -> bool:
        """Hand over the parcel one scan names (see parse_scan): one kit.shipping.hand_over call."""
        if not (text or "").strip():
            return False
        return self.attempt(self._scan, text.strip()) is True

    def _scan(self, text: str) -> bool:
        try:
            row = parse_scan(text)
            if row is None:
                return False
            result = shipping.hand_over(self.require_shop(), [row])
        except KitError as error:
            self._log(text, False, error.message)
            raise
        if result["handed_over"]:
            said = t("shipping_desk.handed", number=row["tracking_no"].strip().upper(),
                     shipment_id=result["handed_over"][0])
            self._log(text, True, said)
            self._read("awaiting", "unshipped", "calls", "packed")
            self.show_info(said)
            return True
        message = result["refused"][0][1] if result["refused"] else t("shipping.no_key")
        if set(row) == {"tracking_no"} and message == t("shipping.no_key"):
            message = t("shipping_desk.unknown_number", number=row["tracking_no"].strip().upper())
        self._log(text, False, message)
        raise Refused("shipping_desk.not_handed", number=text, reason=message)

    def _log(self, text: str, ok: bool, message: str) -> None:
        self.scans = [{"text": text, "ok": ok, "message": message}, *self.scans][:SCAN_LOG]

    # --- confirmation on the platform (S9, S1b) ---------------------------------------------

    def confirm(self, shipment_ids: Sequence[int] | None = None) -> bool:
        """S9: confirm the given shipments, else the selected or all shown awaiting ones; offer the file."""
        return self.attempt(self._confirm, shipment_ids) is True

    def to_confirm(self) -> list[int]:
        """The shipments confirm acts on: those selected in the awaiting list, else every one it shows."""
        table = self.tables["awaiting"]
        keys = table.selected or table.filtered().select(KEY).collect()[KEY].to_list()
        return [int(k) for k in keys]

    def _confirm(self, shipment_ids: Sequence[int] | None) -> bool:
        ids = list(shipment_ids) if shipment_ids is not None else self.to_confirm()
        if not ids:
            self.show_info(t("shipping_desk.nothing_to_confirm"))
            return False
        shop = self.require_shop()
        done = shipping.confirm(shop, ids)
        refused = done["refused"]
        if done["confirmed"]:
            rows = shipping.confirmed_in(shop, done["batch_id"])
            if self.role in ACTIONS["export_confirmation"]:
                self._make_batch(rows, t("shipping_desk.batch_of", batch_id=done["batch_id"]))
        if refused:  # someone else may have confirmed some meanwhile: read the lists again
            self._read("awaiting", "confirmed")
        else:
            self._moved(rows)
        if not done["confirmed"]:
            raise Refused("shipping_desk.none_confirmed", count=len(refused),
                          reasons=" ".join(m for _, m in refused[:3]))
        text = t("shipping.confirmed", count=len(done["confirmed"]), orders=done["orders"],
                 notices=done["notices"], batch_id=done["batch_id"])
        if refused:
            text += " " + t("shipping_desk.some_refused", count=len(refused),
                            reasons=" ".join(m for _, m in refused[:3]))
        self.show_info(text)
        return not refused

    def _moved(self, rows: pl.DataFrame) -> None:
        """The confirmed shipments (`rows` of their batch) leave the awaiting list and join today's
        confirmed list in place: the lists are not read again after a confirmation that took every
        parcel asked for (the desk benchmark's bulk action)."""
        names = shipping.carrier_names(self.require_shop().config)
        awaiting, confirmed = self.tables["awaiting"], self.tables["confirmed"]
        gone = rows["shipment_id"].cast(pl.Int64)
        awaiting.frame = awaiting.frame.filter(~pl.col("shipment_id").cast(pl.Int64).is_in(gone.implode()))
        added = rows.with_columns(pl.col("carrier_code").replace_strict(
            names, default=pl.col("carrier_code"), return_dtype=pl.String).alias("carrier"))
        confirmed.frame = pl.concat([confirmed.frame, added.select(confirmed.frame.columns)],
                                    how="vertical_relaxed").sort("order_no", "shipment_id")
        self._count({view: self.tables[view].frame for view in VIEWS})

    def download_today(self) -> bool:
        """Make the platform's batch file of every shipment confirmed today, for download."""
        return self.attempt(self._download_today) is True

    def _download_today(self) -> bool:
        shop = self.require_shop()
        rows = shipping.confirmed_in(shop, day=clock.now().date())
        self._make_batch(rows, t("shipping_desk.batch_today"))
        self.show_info(self.batch_note)
        return True

    def _make_batch(self, rows: pl.DataFrame, note: str) -> None:
        require(self.require_shop().actor, "export_confirmation")
        data = shipping.batch_file(rows, self.require_shop().config)
        self.batch_note = t("shipping_desk.batch_note", what=note, lines=data.count(b"\r\n") - 1)
        self.batch = data  # last: the download link is drawn when the bytes change

    # --- orders that did not ship (S8, S9) --------------------------------------------------

    def record_reason(self, reason: str, order_nos: Sequence[str] | None = None) -> bool:
        """S8: the reason the selected (or given) unshipped orders did not ship; buyers get a notice."""
        return self.attempt(self._record_reason, reason, order_nos) is True

    def chosen_orders(self) -> list[str]:
        """The orders the reason form acts on: those selected in the list shown (unshipped or calls)."""
        view = self.view if self.view in ("unshipped", "calls") else "unshipped"
        return list(self.tables[view].selected)

    def _record_reason(self, reason: str, order_nos: Sequence[str] | None) -> bool:
        keys = list(order_nos) if order_nos is not None else self.chosen_orders()
        if not keys:
            self.show_info(t("shipping_desk.select_orders"))
            return False
        done = shipping.record_reason(self.require_shop(), keys, reason)
        self._read("unshipped", "calls")
        self.show_info(t("shipping.reasons_recorded", **done))
        return True


def shipping_desk(shop: Shop | None = None) -> Any:
    """The shipping desk for a dashboard cell: open the shop (unless given), read, draw."""
    from kit.ui.shipping_view import ShippingDesk

    model = ShippingDeskModel(shop)
    model.refresh()
    return ShippingDesk(model)

"""Deadlines in the shop's record: ship_by written in one bulk update, and the lists staff
work from (due today, overdue, at risk, refund-eligible S2, unconfirmed by 21:00 S9).

Every list is one query and whole-column polars; times are the shop's naive local time.
The columns of the order lists:

    order_no, receiver_name, payment_method, paid_at, ship_by, stage, trade_status,
    payable_fen, and per list: hours_left (due today, at risk; negative once passed),
    overdue (due today), hours_late (overdue, refund-eligible), refundable_from
    (refund-eligible: ship_by + refund_after_hours).

"Shipped" differs by who is looking: the warehouse is done with an order once it is
handed to the courier (S8), so due/overdue/at-risk cover orders before `handed_over`;
the buyer and the platform see only the confirmation on the platform (S9), so the S2
list covers every order whose trade status still awaits shipment.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.deadlines.calendar import calendar_for
from kit.deadlines.rules import ship_by
from kit.i18n import t
from kit.lifecycle.guards import PAYABLE_STATES
from kit.models import Stage
from kit.permissions import require
from kit.store import schema
from kit.store.frames import read_frame, update_frame

__all__ = ["BEFORE_HAND_OVER", "BEFORE_PACKED", "assign", "at_risk", "confirm_by", "confirm_deadline",
           "due_today", "overdue", "refund_eligible"]

BEFORE_PACKED = tuple(str(s) for s in (Stage.NEW, Stage.HELD, Stage.APPROVED, Stage.BACKORDERED,
                                       Stage.ALLOCATED, Stage.PICKING))
BEFORE_HAND_OVER = (*BEFORE_PACKED, str(Stage.PACKED))
_HOUR_US = 3_600_000_000
_FEW = 5_000  # order numbers passed as SQL parameters; more are filtered in polars


def assign(shop: Any, order_nos: list[str] | None = None, *, recompute: bool = False,
           now: datetime | None = None) -> pl.DataFrame:
    """Write ship_by for orders lacking it (or, with recompute, for those still awaiting shipment
    on the platform, after a policy change), in one bulk update; returns order_no, ship_by.

    Every role may run it: ship_by is derived from paid_at and kit.toml alone, so whoever
    runs it writes the same value. It is not a state change and no staff-entered value, so
    it writes no audit row per order and does not bump `version` (that would make staff
    holding the order see a false conflict); one audit row records the run: who, when,
    which policy, how many orders.
    """
    actor = require(shop.actor, "read")
    o = schema.orders
    started = sa.or_(o.c.paid_at.is_not(None), o.c.phone_confirmed_at.is_not(None))
    wanted = o.c.ship_by.is_(None)
    if recompute:
        wanted = sa.or_(wanted, o.c.trade_status.in_(PAYABLE_STATES))
    stmt = sa.select(o.c.order_no, o.c.payment_method, o.c.paid_at, o.c.phone_confirmed_at).where(
        o.c.stage != str(Stage.CANCELLED), started, wanted)
    if order_nos is not None and len(order_nos) <= _FEW:
        stmt = stmt.where(o.c.order_no.in_(order_nos))
    settings = shop.config.deadlines
    moment = now or clock.now()
    with shop.store.write() as conn:
        frame = read_frame(conn, stmt)
        if order_nos is not None and len(order_nos) > _FEW:  # many: filter after one plain read
            frame = frame.filter(pl.col("order_no").is_in(pl.Series(order_nos, dtype=pl.String).implode()))
        done = frame.select("order_no", ship_by(frame, settings, calendar_for(shop.config.calendar))
                            ).filter(pl.col("ship_by").is_not_null())
        count = update_frame(conn, o, done, key="order_no")
        if count:
            conn.execute(schema.audit.insert().values(
                at=moment, actor=actor.name, role=str(actor.role), entity="deadlines",
                entity_id=settings.policy, action="assign_ship_by", field="ship_by", to_state=str(count),
                reason=t("deadlines.audit_assigned", count=count, policy=settings.policy)))
    return done


def _orders(shop: Any, *where: Any) -> pl.DataFrame:
    """Orders still awaiting shipment on the platform, matching `where`, by ship_by."""
    require(shop.actor, "read")
    o = schema.orders
    stmt = (sa.select(o.c.order_no, o.c.receiver_name, o.c.payment_method, o.c.paid_at, o.c.ship_by,
                      o.c.stage, o.c.trade_status, o.c.payable_fen)
            .where(o.c.trade_status.in_(PAYABLE_STATES), o.c.ship_by.is_not(None), *where)
            .order_by(o.c.ship_by, o.c.order_no))
    with shop.store.read() as conn:
        return read_frame(conn, stmt)


def _hours(since: pl.Expr, until: pl.Expr) -> pl.Expr:
    """Hours from `since` to `until`, to a tenth."""
    return ((until - since).dt.total_microseconds() / _HOUR_US).round(1)


def due_today(shop: Any, now: datetime | None = None) -> pl.DataFrame:
    """Orders not yet handed over whose ship_by falls today, earliest first; hours_left, overdue."""
    moment = now or clock.now()
    midnight = datetime.combine(moment.date(), time())
    o = schema.orders
    frame = _orders(shop, o.c.stage.in_(BEFORE_HAND_OVER), o.c.ship_by >= midnight,
                    o.c.ship_by < midnight + timedelta(days=1))
    return frame.with_columns(hours_left=_hours(pl.lit(moment), pl.col("ship_by")),
                              overdue=pl.col("ship_by") < moment)


def overdue(shop: Any, now: datetime | None = None) -> pl.DataFrame:
    """Orders not yet handed over whose ship_by has passed, longest late first; hours_late."""
    moment = now or clock.now()
    o = schema.orders
    frame = _orders(shop, o.c.stage.in_(BEFORE_HAND_OVER), o.c.ship_by < moment)
    return frame.with_columns(hours_late=_hours(pl.col("ship_by"), pl.lit(moment)))


def at_risk(shop: Any, now: datetime | None = None) -> pl.DataFrame:
    """Orders not yet packed whose ship_by is less than at_risk_hours away; hours_left."""
    moment = now or clock.now()
    o = schema.orders
    horizon = moment + timedelta(hours=shop.config.deadlines.at_risk_hours)
    frame = _orders(shop, o.c.stage.in_(BEFORE_PACKED), o.c.ship_by >= moment, o.c.ship_by < horizon)
    return frame.with_columns(hours_left=_hours(pl.lit(moment), pl.col("ship_by")))


def refund_eligible(shop: Any, now: datetime | None = None) -> pl.DataFrame:
    """S2: paid orders the platform still sees unshipped refund_after_hours past ship_by: the buyer
    may ask for a refund directly. COD orders are left out: nothing was paid, the buyer may cancel."""
    moment = now or clock.now()
    o = schema.orders
    grace = timedelta(hours=shop.config.deadlines.refund_after_hours)
    frame = _orders(shop, o.c.stage != str(Stage.CANCELLED), o.c.payment_method != "cod",
                    o.c.ship_by <= moment - grace)
    return frame.with_columns(refundable_from=pl.col("ship_by") + grace,
                              hours_late=_hours(pl.col("ship_by"), pl.lit(moment)))


def confirm_by(day: date, settings: Any) -> datetime:
    """S9: the time by which shipments handed over on `day` are confirmed on the platform (21:00)."""
    return datetime.combine(day, settings.confirm_by)


def confirm_deadline(shop: Any, day: date | None = None, now: datetime | None = None) -> pl.DataFrame:
    """S9: shipments handed over on `day` or before and not yet confirmed on the platform.

    Columns: shipment_id, order_no, carrier_code, tracking_no, handed_over_at, confirm_by
    (21:00 of the hand-over day), late (now past confirm_by). Orders due today that could
    not ship are `due_today`: customer service phones those customers (S9).
    """
    require(shop.actor, "read")
    moment = now or clock.now()
    until = datetime.combine(day or moment.date(), time()) + timedelta(days=1)
    s = schema.shipments
    stmt = (sa.select(s.c.shipment_id, s.c.order_no, s.c.carrier_code, s.c.tracking_no, s.c.handed_over_at)
            .where(s.c.stage == "handed_over", s.c.handed_over_at < until)
            .order_by(s.c.handed_over_at, s.c.shipment_id))
    with shop.store.read() as conn:
        frame = read_frame(conn, stmt)
    cut = shop.config.deadlines.confirm_by
    frame = frame.with_columns(confirm_by=pl.col("handed_over_at").dt.truncate("1d")
                               + timedelta(hours=cut.hour, minutes=cut.minute))
    return frame.with_columns(late=pl.col("confirm_by") < moment)

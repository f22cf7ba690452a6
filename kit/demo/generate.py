"""The demo shop generator: each order's timeline, shipments and cases, one frame per table.

Every order follows one timeline: created, paid, reviewed (perhaps held), allocated
(perhaps backordered first), picked, packed, handed to the courier, confirmed on the
platform, delivered, received by the buyer. Its trade status and fulfilment stage are
where that timeline stands when the shop is seen (`until`). Whole columns at a time
(numpy and polars), never a Python loop per order, so a million orders take seconds.
Timeline values are seconds after midnight of the first day, shop-local time (kit.clock).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl

from kit import clock
from kit.demo.catalog import (
    ORDER_CARRIERS,
    assortment,
    carts,
    catalog,
    order_texts,
    staff,
    stock_levels,
    warehouses,
)
from kit.demo.columns import (
    ALLOCATED,
    APPROVED,
    BACKORDERED,
    CANCELLED,
    CONFIRMED,
    CUTOFF,
    DAMAGED,
    DAY,
    DAYS,
    EPOCH,
    FAILED,
    HANDED_OVER,
    HELD,
    HOUR,
    HOUR_WEIGHTS,
    LOST,
    MINUTE,
    NEW,
    NORMAL,
    ORDER_CARRIER_P,
    PACKED,
    PAID_FORBID_CONSIGN,
    PICKING,
    REFUSED,
    S_ALLOCATED,
    S_PACKED,
    S_PICKING,
    SEEN_AT,
    SELLER_CONSIGNED_PART,
    TRADE_BUYER_SIGNED,
    TRADE_CLOSED,
    TRADE_CLOSED_BY_TAOBAO,
    TRADE_FINISHED,
    WAIT_BUYER_CONFIRM_GOODS,
    WAIT_BUYER_PAY,
    WAIT_SELLER_SEND_GOODS,
    between,
    labels,
    moments,
    table_frame,
    unique_ints,
    working,
)
from kit.demo.fulfilment import after_sale_lines, after_sales, fulfilment_frames, shipments
from kit.demo.geography import line_warehouses, nearest_warehouse, receivers
from kit.models import Stage, TradeStatus
from kit.store import schema

__all__ = ["DemoShop", "generate"]


@dataclass(frozen=True)
class DemoShop:
    """The demo shop: one polars frame per table, columns and dtypes as in kit.store.schema.

    `orders` lacks batch_id, updated_at and version (kit.orders.insert_orders adds them);
    `staff` holds name, role and display_name.
    """

    staff: pl.DataFrame
    warehouses: pl.DataFrame
    skus: pl.DataFrame
    stock_levels: pl.DataFrame
    orders: pl.DataFrame
    order_lines: pl.DataFrame
    shipments: pl.DataFrame
    parcels: pl.DataFrame
    shipment_lines: pl.DataFrame
    tracking_events: pl.DataFrame
    after_sales: pl.DataFrame
    after_sale_lines: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """Every frame by table name, parents before children (the order to insert them)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def created_times(rng: np.random.Generator, n: int, now: int) -> np.ndarray:
    """When n orders were placed over the 14 days up to `now`, sorted; evenings busiest."""
    day_w = np.linspace(0.85, 1.15, DAYS)
    t = (rng.choice(DAYS, n, p=day_w / day_w.sum()) * DAY
         + rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()) * HOUR
         + rng.integers(0, HOUR, n))
    t = np.minimum(np.where(t > now, t - DAY, t), now)
    t.sort()
    return t


def timeline(rng: np.random.Generator, o: dict[str, np.ndarray], now: int) -> None:
    """Each order's milestones, stage, trade status and parcel fate, added to `o`."""
    n, cod, virtual = o["created"].size, o["cod"], o["virtual"]
    u = lambda lo, hi: between(rng, lo, hi, n)  # noqa: E731
    created = o["created"]
    paid = np.where(cod, created, created + np.where(
        rng.random(n) < 0.9, u(10, 15 * MINUTE), u(15 * MINUTE, 12 * HOUR)))
    unpaid = ~cod & ((rng.random(n) < 0.04) | (paid > now))
    wait_pay = unpaid & (now - created < DAY)
    forbid = ~unpaid & ~cod & ~virtual & (now - paid < 2 * DAY) & (rng.random(n) < 0.02)
    # COD orders wait for customer service to reach the buyer by phone (S16).
    review = working(rng, paid + np.where(cod, u(20 * MINUTE, 6 * HOUR), u(3 * MINUTE, 90 * MINUTE)),
                      9 * HOUR, 23 * HOUR)
    held = rng.random(n) < 0.04
    release = np.where(held, working(rng, review + u(3 * HOUR, 60 * HOUR), 9 * HOUR, 23 * HOUR), review)
    approved_until = (release // HOUR + 1) * HOUR + u(30, 5 * MINUTE)  # hourly allocation runs
    backorder = ~virtual & (rng.random(n) < 0.04)
    allocated = np.where(backorder, working(rng, approved_until + u(8 * HOUR, 72 * HOUR),
                                             9 * HOUR, 20 * HOUR), approved_until)
    tod, soon = allocated % DAY, allocated + u(12 * MINUTE, 2 * HOUR)
    morning = allocated - tod + DAY + 9 * HOUR + u(0, 90 * MINUTE)
    evening = np.maximum(soon, allocated - tod + 19 * HOUR + u(0, 90 * MINUTE))  # for tomorrow
    picking = np.where(tod < CUTOFF, np.maximum(soon, allocated - tod + 9 * HOUR + u(0, 90 * MINUTE)),
                       np.where(rng.random(n) < 0.5, evening, morning))
    late = picking % DAY > 21 * HOUR
    picking = np.where(late, picking - picking % DAY + DAY + 9 * HOUR + u(0, 90 * MINUTE), picking)
    picking += np.where(rng.random(n) < 0.07, DAY, 0)
    packed = picking + u(20 * MINUTE, 150 * MINUTE)
    day, ready = packed - packed % DAY, packed + 10 * MINUTE
    noon, evening = day + u(11.5 * HOUR, 13 * HOUR), day + u(17 * HOUR, 19 * HOUR)
    handed = np.where(ready <= noon, noon, np.where(ready <= evening, evening, noon + DAY))
    confirmed = handed + u(12 * MINUTE, 150 * MINUTE)
    delivered = working(rng, handed + u(0.8 * DAY, 3 * DAY) + np.where(o["remote"], u(DAY, 2 * DAY), 0),
                         8 * HOUR, 20.5 * HOUR)
    delivered = np.where(virtual, confirmed, delivered)
    r = rng.random(n)
    received = np.minimum(delivered + np.select([r < 0.5, r < 0.8], [u(HOUR, DAY), u(DAY, 4 * DAY)],
                                                10 * DAY), confirmed + 10 * DAY)
    received = np.where(cod, delivered + u(DAY, 4 * DAY), received)
    received = np.where(virtual, confirmed + u(2 * HOUR, 3 * DAY), received)
    closed_at = paid + u(20 * MINUTE, 30 * HOUR)
    cancel = (~unpaid & ~forbid & (closed_at < packed) & (closed_at <= now)
              & ((rng.random(n) < 0.008) | (backorder & (rng.random(n) < 0.15))))
    stage = np.select(
        [wait_pay | forbid, unpaid | cancel, now < review, now < release, now < approved_until,
         now < allocated, now < picking, now < packed, now < handed, now < confirmed],
        [NEW, CANCELLED, NEW, HELD, APPROVED, BACKORDERED, ALLOCATED, PICKING, PACKED, HANDED_OVER],
        CONFIRMED)
    ev = {"AP": packed + u(MINUTE, 10 * MINUTE), "PU": handed, "IT": handed + u(2 * HOUR, 6 * HOUR),
          "OFD": delivered - u(HOUR, 4 * HOUR), "DL": delivered, "DF": delivered, "RF": delivered,
          "DMG": delivered, "RTN": delivered + u(0.3 * DAY, DAY)}
    ev["RTD"], ev["LOST"] = ev["RTN"] + u(DAY, 3 * DAY), ev["IT"] + u(DAY, 2 * DAY)
    gone = np.isin(stage, [HANDED_OVER, CONFIRMED]) & ~virtual & (delivered <= now)
    f, refused_p = rng.random(n), np.where(cod, 0.06, 0.008)
    family = np.select([gone & (f < 0.012) & (now < delivered + 1.5 * DAY),
                        gone & (f >= 0.012) & (f < 0.012 + refused_p),
                        gone & (f >= 0.08) & (f < 0.083) & (ev["LOST"] <= now),
                        gone & (f >= 0.083) & (f < 0.09)], [FAILED, REFUSED, LOST, DAMAGED], NORMAL)
    done = stage == CONFIRMED
    received_now = done & (family == NORMAL) & (delivered <= now)
    returned = done & (family == REFUSED) & (ev["RTD"] <= now)
    return_closed = received_now & ~cod & ~virtual & (delivered + 4 * DAY <= now) & (rng.random(n) < 0.006)
    trade = np.select(
        [wait_pay, unpaid, forbid, cancel | returned | return_closed, received_now & (received <= now),
         received_now & cod, done],
        [WAIT_BUYER_PAY, TRADE_CLOSED_BY_TAOBAO, PAID_FORBID_CONSIGN, TRADE_CLOSED, TRADE_FINISHED,
         TRADE_BUYER_SIGNED, WAIT_BUYER_CONFIRM_GOODS], WAIT_SELLER_SEND_GOODS)
    checked = np.where(cancel, closed_at, now) >= release  # COD confirmed by phone in review (S16)
    o["phone_confirmed"] = cod & (checked | ((stage == NEW) & (rng.random(n) < 0.3)))
    o.update(paid=paid, unpaid=unpaid, review=review, held=held, release=release, allocated=allocated,
             picking=picking, packed=packed, handed=handed, confirmed=confirmed, delivered=delivered,
             closed_at=closed_at, cancel=cancel, stage=stage, family=family, trade=trade,
             return_closed=return_closed)
    o.update({f"ev_{k}": v for k, v in ev.items()})


def amounts(rng: np.random.Generator, o: dict[str, np.ndarray], lines: dict[str, np.ndarray]) -> None:
    """Order totals in fen: goods + postage − coupon = payable; paid as the status says."""
    n = o["created"].size
    goods = np.bincount(lines["order"], weights=lines["amount"], minlength=n).astype(np.int64)
    post = np.where(o["remote"], np.where(rng.random(n) < 0.7, 1500, 0),
                    np.where((goods < 4900) & (rng.random(n) < 0.5), 800, 0))
    post = np.where(o["virtual"], 0, post)
    coupon = rng.choice([300, 500, 1000, 2000], n)
    coupon = np.where(coupon * 5 <= goods, coupon, 300)
    discount = np.where((goods >= 9900) & (rng.random(n) < 0.2), coupon, 0)
    payable = goods + post - discount
    settled = np.isin(o["trade"], [TRADE_BUYER_SIGNED, TRADE_FINISHED])
    o.update(total=goods + post, post_fee=post, discount=discount, payable=payable,
             paid_fen=np.where(o["unpaid"] | (o["cod"] & ~settled), 0, payable))


def split(rng: np.random.Generator, o: dict[str, np.ndarray], lines: dict[str, np.ndarray],
          wh: np.ndarray, own: np.ndarray, now: int) -> None:
    """Mark some recently shipped orders as shipped in part (S24b, SELLER_CONSIGNED_PART).

    The rest follows from headquarters, or from the other warehouse of an order already
    split between two.
    """
    n, order, hq = own.size, lines["order"], warehouses()["kind"].to_list().index("hq")
    at_own = (wh == own[order]) & ~lines["is_gift"]
    away = np.bincount(order, weights=wh != own[order], minlength=n)
    natural = (away > 0) & (away < lines["count"])  # already from two warehouses
    part = ((o["trade"] == WAIT_BUYER_CONFIRM_GOODS) & (o["stage"] == CONFIRMED) & ~o["virtual"]
            & (o["family"] == NORMAL) & (now - o["confirmed"] < 2 * DAY) & (o["delivered"] > now)
            & (natural | ((np.bincount(order, weights=at_own, minlength=n) >= 2) & (away == 0)
                          & (own != hq))) & (rng.random(n) < 0.35))
    wh[part[order] & ~natural[order] & (lines["line_no"] >= 2) & at_own] = hq
    o["part"], o["part_handed"] = part, part & (rng.random(n) < 0.6)
    o["trade"][part] = SELLER_CONSIGNED_PART
    o["stage"][o["part_handed"]] = HANDED_OVER


def generate(orders: int = 3000, seed: int = 20261130, today: date | None = None, *,
             until: datetime | None = None) -> DemoShop:
    """The demo shop: `orders` orders over the 14 days up to `today`, as seen at `until`.

    `until` defaults to 20:00 on `today`, and `today` to the shop's date now (then seen
    now). The same arguments always give equal frames.
    """
    if orders < 1:
        raise ValueError(f"orders must be at least 1, not {orders}")
    if until is None:
        until = clock.now() if today is None else datetime.combine(today, SEEN_AT)
    today = today or until.date()
    origin = datetime.combine(today - timedelta(days=DAYS - 1), time())
    now, origin_s = int((until - origin).total_seconds()), int((origin - EPOCH).total_seconds())
    rng, cat = np.random.default_rng(seed), catalog()
    o = {"created": created_times(rng, orders, now)}
    people = receivers(rng, orders)
    o["remote"] = people["remote"].to_numpy()
    o["tmall"] = rng.random(orders) < 0.25
    o["cod"] = ~o["tmall"] & (rng.random(orders) < 0.107)  # ~8% cash on delivery (S16)
    o["virtual"] = ~o["cod"] & (rng.random(orders) < 0.02)
    carrier = np.searchsorted(np.cumsum(ORDER_CARRIER_P), rng.random(orders), side="right")
    o["carrier"] = np.where(o["virtual"], len(ORDER_CARRIERS),
                            np.where(carrier < len(ORDER_CARRIERS), carrier, len(ORDER_CARRIERS) + 1))
    timeline(rng, o, now)
    lines = carts(rng, cat, o["virtual"], o["stage"] == BACKORDERED)
    held = assortment(rng, cat)
    wh, own = line_warehouses(lines["order"], lines["sku"], held, nearest_warehouse(people["province"]))
    split(rng, o, lines, wh, own, now)
    amounts(rng, o, lines)
    ship = shipments(rng, o, lines, wh, now)
    cases = after_sales(rng, o, now)
    words = order_texts(rng, o["carrier"], o["stage"] == HELD, o["cod"], lines["gift_item"])
    numbers = unique_ints(rng, 10**17, 5 * 10**18, orders + lines["order"].size)  # 18–19 digits
    nos = pl.Series(numbers[:orders]).cast(pl.String)
    single = lines["count"][lines["order"]] == 1  # a one-line order's sub-order number is its own
    frames = {
        "orders": table_frame(schema.orders, {
            "order_no": nos, "platform": np.where(o["tmall"], "tmall", "taobao"),
            "shop": np.where(o["tmall"], "示例天猫旗舰店", "示例小店"),
            **{c: people[c] for c in ("buyer_nick", "receiver_name", "receiver_mobile")},
            "receiver_phone": pl.repeat(None, orders, dtype=pl.String, eager=True),
            **{c: people[c] for c in ("province", "city", "district", "address_detail", "postcode")},
            "payment_method": np.where(o["cod"], "cod", "online"),
            "total_fen": o["total"], "discount_fen": o["discount"], "post_fee_fen": o["post_fee"],
            "payable_fen": o["payable"], "paid_fen": o["paid_fen"], **words,
            "created_at": moments(origin_s, o["created"]),
            "paid_at": moments(origin_s, o["paid"], ~o["unpaid"]),
            "trade_status": labels(TradeStatus, o["trade"]), "stage": labels(Stage, o["stage"]),
            "phone_confirmed": o["phone_confirmed"],
            "ship_by": pl.repeat(None, orders, dtype=pl.Datetime("us"), eager=True)}),
        "order_lines": table_frame(schema.order_lines, {
            "order_no": nos.gather(lines["order"]), "line_no": lines["line_no"],
            "sub_order_no": pl.Series(np.where(single, numbers[lines["order"]], numbers[orders:]))
            .cast(pl.String),
            **{c: cat.skus[c].gather(lines["sku"]) for c in ("sku", "title", "spec")},
            "quantity": lines["qty"], "price_fen": lines["price"], "discount_fen": lines["discount"],
            "amount_fen": lines["amount"], "is_gift_item": lines["is_gift"]}),
    }
    frames |= fulfilment_frames(rng, lines, ship, cases, people, nos, now, origin_s)
    frames["after_sale_lines"] = after_sale_lines(frames["after_sales"], frames["shipments"],
                                                  frames["shipment_lines"])
    waiting = np.isin(ship["stage"], [S_ALLOCATED, S_PICKING, S_PACKED])[ship["line_ship"]]
    shipped = ship["line_keep"][waiting]
    reserved = np.zeros(held.shape, np.int64)
    np.add.at(reserved, (ship["wh"][ship["line_ship"][waiting]], lines["sku"][shipped]),
              lines["qty"][shipped])
    sold = np.bincount(lines["sku"], weights=lines["qty"], minlength=held.shape[1])
    stock = stock_levels(rng, cat, held, reserved, sold, lines["short"])
    return DemoShop(staff=staff(), warehouses=warehouses(), skus=cat.skus, stock_levels=stock, **frames)

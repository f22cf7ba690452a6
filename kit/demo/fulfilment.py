"""The demo shop's fulfilment: shipments from allocation on, their parcels, lines and
tracking events, and the after-sale cases of shipped orders, as arrays then frames."""

from __future__ import annotations

import numpy as np
import polars as pl

from kit.demo.catalog import (
    ORDER_CARRIERS,
    after_sale_reasons,
    carrier_codes,
    catalog,
    event_texts,
    tracking_numbers,
    warehouses,
)
from kit.demo.columns import (
    ALLOCATED,
    CONFIRMED,
    DAMAGED,
    DAY,
    FAMILY_EVENTS,
    HANDED_OVER,
    HOUR,
    LOST,
    MINUTE,
    NEVER,
    NORMAL,
    PACKED,
    PICKING,
    REFUSED,
    S_ALLOCATED,
    S_CANCELLED,
    S_CONFIRMED,
    S_HANDED_OVER,
    S_PACKED,
    SHIP_STAGE_OF,
    STATUS_P,
    between,
    labels,
    moments,
    table_frame,
    unique_ints,
    working,
)
from kit.demo.geography import route_events
from kit.models import AfterSaleKind, RefundStatus, ShipmentStage, ShipMethod
from kit.store import schema


def shipments(rng: np.random.Generator, o: dict[str, np.ndarray], lines: dict[str, np.ndarray],
              wh: np.ndarray, now: int) -> dict[str, np.ndarray]:
    """One shipment per order and warehouse, from allocation on, as arrays.

    Stage, carrier, ship method, times, weights, and the tracking events as (parcels × 5)
    codes and times.
    """
    cat, kinds, carriers = catalog(), warehouses()["kind"].to_list(), carrier_codes()
    order, stage = lines["order"], o["stage"]
    ships = (np.isin(stage, [ALLOCATED, PICKING, PACKED, HANDED_OVER, CONFIRMED])
             | (o["cancel"] & (o["closed_at"] >= o["allocated"])))
    keep = np.flatnonzero(ships[order])
    keys, inv = np.unique(order[keep] * len(kinds) + wh[keep], return_inverse=True)
    m, so, swh = keys.size, keys // len(kinds), keys % len(kinds)
    first = np.bincount(inv, weights=lines["line_no"][keep] == 1, minlength=m) > 0
    rest = o["part"][so] & ~first  # the part that follows later (SELLER_CONSIGNED_PART)
    follow = np.where(o["part_handed"][so], S_HANDED_OVER, S_ALLOCATED)
    sst = np.where(o["part"][so], np.where(rest, follow, S_CONFIRMED), SHIP_STAGE_OF[stage[so]])
    u = lambda lo, hi: between(rng, lo, hi, m)  # noqa: E731
    lo = np.maximum(o["confirmed"][so], now - 12 * HOUR)
    h_rest = lo + ((now - lo) * rng.uniform(0.2, 0.9, m)).astype(np.int64)
    t = {k: o[f"ev_{k}"][so] for k in ("DF", "RF", "RTN", "RTD", "LOST", "DMG")}
    t |= {k: np.where(rest, v, o[f"ev_{k}"][so]) for k, v in (
        ("AP", h_rest - u(11 * MINUTE, 60 * MINUTE)), ("PU", h_rest), ("IT", h_rest + u(2 * HOUR, 6 * HOUR)),
        ("OFD", h_rest + u(DAY, 2 * DAY)), ("DL", h_rest + u(2 * DAY, 3 * DAY)))}
    family, codes = np.where(rest, NORMAL, o["family"][so]), [e.code for e in event_texts()]
    when, what = np.full((m, 5), NEVER), np.full((m, 5), -1)
    for f, seq in enumerate(FAMILY_EVENTS):
        rows = family == f
        for j, code in enumerate(seq):
            when[rows, j], what[rows, j] = t[code][rows], codes.index(code)
    by_order = np.array([carriers.index(c) for c in (*ORDER_CARRIERS, "none", "yto")])
    carrier = np.where(np.array(kinds)[swh] == "supplier", carriers.index("dropship"),
                       by_order[o["carrier"][so]])
    none, is_ = carrier == carriers.index("none"), lambda c: carrier == carriers.index(c)
    weight = np.bincount(inv, weights=lines["qty"][keep] * cat.weight_g[lines["sku"][keep]], minlength=m)
    packing = np.zeros(m, np.int64)
    np.maximum.at(packing, inv, cat.packaging_g[lines["sku"][keep]])  # one box: the sturdiest (S25)
    r = rng.random(m)  # ship_method in the order of ShipMethod
    method = np.select([none, is_("dropship") | is_("ems"), is_("sf") & (r < 0.4), r < 0.9], [3, 2, 0, 1], 2)
    times = np.stack([o[k][so] for k in ("allocated", "picking", "packed", "handed", "confirmed",
                                         "closed_at")])
    times[3] = np.where(rest, h_rest, times[3])
    expected = (weight + packing).astype(np.int64)
    return {"order": so, "wh": swh, "stage": sst, "carrier": carrier, "method": method,
            "numbered": np.isin(sst, [S_PACKED, S_HANDED_OVER, S_CONFIRMED]) & ~none,
            "tracked": np.isin(sst, [S_HANDED_OVER, S_CONFIRMED]) & ~none, "when": when, "what": what,
            "line_keep": keep, "line_ship": inv, "expected": expected,
            "measured": np.rint(expected * (1 + np.clip(rng.normal(0, 0.012, m), -0.03, 0.03))),
            "updated": times[np.where(sst == S_CANCELLED, 5, sst), np.arange(m)],
            "handed": times[3], "confirmed": times[4], "created": times[0], "packed": times[2],
            "core": unique_ints(rng, 10**10, 10**11, m), "lead": rng.integers(0, 100, m)}


def after_sales(rng: np.random.Generator, o: dict[str, np.ndarray], now: int) -> dict[str, np.ndarray]:
    """After-sale cases as arrays (S2, S3, S21, S24d), sorted by when they were opened.

    Refunds before shipping, returns that close the trade, refused and lost parcels,
    damaged goods, and ordinary cases on delivered orders. Codes follow AfterSaleKind,
    RefundStatus and catalog.AFTER_SALE_POOLS.
    """
    n, online, done, family = o["created"].size, ~o["cod"], o["stage"] == CONFIRMED, o["family"]
    delivered, payable = o["delivered"], o["payable"]
    later = lambda lo, share: lo + ((now - lo) * share).astype(np.int64)  # noqa: E731
    kind = rng.choice(4, n, p=[0.25, 0.35, 0.3, 0.1])
    status = (rng.random(n)[:, None] > STATUS_P[kind]).sum(1)
    share = np.choose(kind, [rng.uniform(0.1, 0.5, n), rng.uniform(0.3, 0.9, n), 0.0, 0.0])
    back = o["ev_RTD"] <= now
    ordinary = (done & (family == NORMAL) & (delivered + DAY // 2 <= now) & ~o["return_closed"]
                & ~o["virtual"] & ~o["part"] & (rng.random(n) < 0.015))
    partial = np.minimum((payable * share).astype(np.int64) // 100 * 100, payable)
    refunded = np.minimum(working(rng, o["closed_at"] + between(rng, MINUTE, 2 * HOUR, n),
                                   9 * HOUR, 23 * HOUR), now)
    groups = [  # which orders, kind, status, reason pool, amount, created, updated (None: later)
        (o["cancel"] & online, 0, 3, 0, payable, o["closed_at"], refunded),
        (o["return_closed"], 1, 3, 2, payable, delivered + between(rng, DAY // 5, 1.5 * DAY, n),
         delivered + between(rng, 1.6 * DAY, 4 * DAY, n)),
        (done & online & (family == REFUSED), 1, np.where(back, 3, 2), 5, payable,
         later(delivered, rng.uniform(0, 0.3, n)), np.where(back, o["ev_RTD"], delivered)),
        (done & online & (family == LOST), 0, 0, 6, payable, later(o["ev_LOST"], rng.uniform(0, 0.5, n)),
         None),
        (done & online & (family == DAMAGED), 2, rng.integers(0, 2, n), 7, 0,
         later(delivered, rng.uniform(0, 0.5, n)), None),
        (ordinary, kind, status, kind + 1, partial,
         later(delivered + DAY // 2, rng.random(n)), None),
    ]
    parts = []
    for mask, *values, updated in groups:
        idx = np.flatnonzero(mask)
        kind_, status_, pool, amount, created = (np.broadcast_to(v, n)[idx] for v in values)
        moved = later(created, rng.random(idx.size)) if updated is None else np.maximum(created, updated[idx])
        parts.append(np.stack([idx, kind_, status_, pool, amount, created,
                               np.where(status_ == 0, created, moved)]))
    cases = np.concatenate(parts, axis=1)
    cases = cases[:, np.argsort(cases[5], kind="stable")]
    return dict(zip(("order", "kind", "status", "pool", "amount", "created", "updated"), cases, strict=True))


def fulfilment_frames(rng: np.random.Generator, lines: dict[str, np.ndarray], ship: dict[str, np.ndarray],
                      cases: dict[str, np.ndarray], people: pl.DataFrame, nos: pl.Series, now: int,
                      origin_s: int) -> dict[str, pl.DataFrame]:
    """The shipments, parcels, shipment_lines, tracking_events and after_sales frames."""
    codes = warehouses()["code"].to_list()
    m, so, sst = ship["order"].size, ship["order"], ship["stage"]
    ids = np.arange(1, m + 1)
    packed = np.isin(sst, [S_PACKED, S_HANDED_OVER, S_CONFIRMED])
    handed = np.isin(sst, [S_HANDED_OVER, S_CONFIRMED])
    carrier = pl.Series(carrier_codes()).gather(ship["carrier"])
    tracking_no = tracking_numbers(ship["carrier"], ship["core"], ship["lead"], ship["numbered"])
    when = np.where(ship["tracked"][:, None], ship["when"], NEVER)
    k = (when <= now).sum(1)
    last = np.maximum(k - 1, 0)
    statuses = [e.status for e in event_texts()]
    status = np.where(k > 0, ship["what"][np.arange(m), last], len(statuses))
    status = np.where(np.isin(sst, [S_HANDED_OVER, S_CONFIRMED]) & (carrier == "none").to_numpy(),
                      len(statuses) + 1, status)
    place = people["place"].to_numpy()[so]
    events = route_events(when, ship["what"], now, ship["wh"], place, ship["carrier"])
    physical = np.flatnonzero((carrier != "none").to_numpy())
    weight = pl.Series(ship["measured"].astype(np.int64))
    weight.scatter(np.flatnonzero(~ship["numbered"]), None)
    kept = ship["line_keep"]
    return {
        "shipments": table_frame(schema.shipments, {
            "shipment_id": ids, "order_no": nos.gather(so),
            "warehouse_code": pl.Series(codes).gather(ship["wh"]),
            "carrier_code": carrier, "ship_method": labels(ShipMethod, ship["method"]),
            "tracking_no": tracking_no, "stage": labels(ShipmentStage, sst),
            "tracking_status": pl.Series([*statuses, "pending", "delivered"]).gather(status),
            "expected_weight_g": ship["expected"], "weight_g": weight,
            "created_at": moments(origin_s, ship["created"]),
            "handed_over_at": moments(origin_s, ship["handed"], np.isin(sst, [S_HANDED_OVER, S_CONFIRMED])),
            "confirmed_at": moments(origin_s, ship["confirmed"], sst == S_CONFIRMED),
            "version": np.zeros(m, np.int64),
            "updated_at": moments(origin_s, np.where(k > 0, np.maximum(
                ship["updated"], when[np.arange(m), last]), ship["updated"])),
            "wave_id": pl.Series([None] * m, dtype=pl.Int64),
            "insured_fen": np.zeros(m, np.int64), "sms_notify": np.zeros(m, bool),
            "packed_at": moments(origin_s, ship["packed"], packed),
            "packed_by": pl.Series(np.where(packed, np.where(ids % 2 == 0, "仓管老周", "仓管小吴"), None),
                                   dtype=pl.String),
            "handed_over_by": pl.Series(np.where(handed, "物流小林", None), dtype=pl.String),
            "replaces_shipment_id": pl.Series([None] * m, dtype=pl.Int64),
            "after_sale_id": pl.Series([None] * m, dtype=pl.Int64),
        }),
        "parcels": table_frame(schema.parcels, {
            "shipment_id": ids[physical], "parcel_no": np.ones(physical.size, np.int64),
            "tracking_no": tracking_no.gather(physical), "weight_g": weight.gather(physical)}),
        "shipment_lines": table_frame(schema.shipment_lines, {
            "shipment_id": ship["line_ship"] + 1, "order_no": nos.gather(lines["order"][kept]),
            "line_no": lines["line_no"][kept], "sku": catalog().skus["sku"].gather(lines["sku"][kept]),
            "quantity": lines["qty"][kept]}),
        "tracking_events": table_frame(schema.tracking_events, {
            "event_id": np.arange(1, events.height + 1), "carrier_code": carrier.gather(events["parcel"]),
            "tracking_no": tracking_no.gather(events["parcel"]),
            "at": moments(origin_s, events["at"].to_numpy()), "status": events["status"],
            "description": events["description"], "location": events["location"]}),
        "after_sales": _after_sales_frame(rng, cases, nos, origin_s),
    }


def _after_sales_frame(rng: np.random.Generator, cases: dict[str, np.ndarray], nos: pl.Series,
                       origin_s: int) -> pl.DataFrame:
    """The after_sales frame: each case with its reason code and the buyer's words as its note,
    held by the after-sales team; cases that ended (refunded, closed) have their closing time."""
    n = cases["order"].size
    reason, words = after_sale_reasons(rng, cases["pool"])
    status = labels(RefundStatus, cases["status"])
    ended = status.is_in([str(RefundStatus.SUCCESS), str(RefundStatus.CLOSED)]).to_numpy()
    empty = pl.Series([None] * n, dtype=pl.String)
    none_id = pl.Series([None] * n, dtype=pl.Int64)
    return table_frame(schema.after_sales, {
        "case_id": np.arange(1, n + 1), "order_no": nos.gather(cases["order"]),
        "kind": labels(AfterSaleKind, cases["kind"]), "refund_status": status,
        "reason": reason, "amount_fen": cases["amount"],
        "created_at": moments(origin_s, cases["created"]),
        "version": np.zeros(n, np.int64),
        "updated_at": moments(origin_s, cases["updated"]),
        "shipment_id": none_id, "refund_id": empty,
        "owner": pl.Series(["售后小雅"] * n, dtype=pl.String),
        "created_by": pl.Series(["system:import"] * n, dtype=pl.String),
        "return_carrier": empty, "return_tracking_no": empty,
        "received_at": moments(origin_s, cases["updated"], np.zeros(n, bool)),
        "linked_shipment_id": none_id, "exception_id": none_id, "note": words,
        "closed_at": moments(origin_s, cases["updated"], ended)})


def after_sale_lines(
    cases: pl.DataFrame, shipments: pl.DataFrame, shipment_lines: pl.DataFrame
) -> pl.DataFrame:
    """The lines of the return, exchange and repair cases: every unit of the order that was handed
    to the courier (a refund-only case has none)."""
    sent = shipments.filter(pl.col("stage").is_in(["handed_over", "confirmed"]))["shipment_id"]
    shipped = (
        shipment_lines.filter(pl.col("shipment_id").is_in(sent.implode()))
        .group_by("order_no", "line_no")
        .agg(pl.col("sku").first(), pl.col("quantity").sum())
    )
    rows = (
        cases.filter(pl.col("kind") != str(AfterSaleKind.REFUND))
        .select("case_id", "order_no")
        .join(shipped, on="order_no")
        .sort("case_id", "line_no")
    )
    n = rows.height
    return table_frame(schema.after_sale_lines, {
        "case_id": rows["case_id"], "line_no": rows["line_no"], "sku": rows["sku"],
        "quantity": rows["quantity"], "new_sku": pl.Series([None] * n, dtype=pl.String),
        "received_good": np.zeros(n, np.int64), "received_damaged": np.zeros(n, np.int64)})

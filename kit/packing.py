"""Packing, order by order (S8, S24c, S25, S26): the packing sheet of a shipment (its items, the
gifts that go with it, the buyer's message, the present flag and the packing guide of its
categories), the check of what goes in the box against the order, the check of the measured
weight against the expected one, and the packer's register.

    >>> from kit import packing
    >>> packing.sheet(shop, 41)                                  # what to pack, and how
    >>> packing.pack(shop, 41, ["SKU-APP-001", "SKU-APP-001"], weight_g=820)

A wrong, missing or extra item is refused with what differs; a weight outside the
tolerance needs the packer to accept it (NeedsConfirmation, then `accept_weight=True`); a
weight of zero or wildly off is refused as a typing or scale error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.config import Config
from kit.errors import BadInput, NeedsConfirmation, Refused
from kit.i18n import t
from kit.lifecycle import apply, check_role, transition
from kit.lifecycle.rollup import follow_shipments
from kit.models import ShipmentStage
from kit.permissions import require
from kit.shop import Shop
from kit.stock.reservations import pick
from kit.store import schema
from kit.store.frames import insert_frame, read_frame

__all__ = [
    "ITEM_COLUMNS",
    "check_items",
    "check_weight",
    "expected_weights",
    "pack",
    "register",
    "sheet",
    "weights",
]

ITEM_COLUMNS = ["line_no", "sku", "title", "spec", "category", "quantity", "weight_g", "is_gift_item"]


def _items(conn: sa.Connection, shipment_ids: list[int]) -> pl.DataFrame:
    """The lines of these shipments with their SKU's category and unit weight."""
    sl, ol, sk = schema.shipment_lines, schema.order_lines, schema.skus
    return read_frame(
        conn,
        sa.select(
            sl.c.shipment_id,
            sl.c.line_no,
            sl.c.sku,
            ol.c.title,
            ol.c.spec,
            sk.c.category,
            sl.c.quantity,
            sk.c.weight_g,
            ol.c.is_gift_item,
        )
        .join(ol, (ol.c.order_no == sl.c.order_no) & (ol.c.line_no == sl.c.line_no))
        .outerjoin(sk, sk.c.sku == sl.c.sku)
        .where(sl.c.shipment_id.in_([int(i) for i in shipment_ids]))
        .order_by(sl.c.shipment_id, sl.c.line_no),
    )


def expected_weights(items: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Per shipment: the items' weight, the packing material's (the sturdiest category's, S24c)
    and their sum, in grams (shipment_id, items_g, packaging_g, expected_g)."""
    grams = config.packing["packaging_g"]
    default = config.packing["default_packaging_g"]
    return (
        items.with_columns(
            pl.col("category").replace_strict(grams, default=default, return_dtype=pl.Int64).alias("_pack"),
            (pl.col("quantity") * pl.col("weight_g").fill_null(0)).alias("_g"),
        )
        .group_by("shipment_id")
        .agg(pl.col("_g").sum().cast(pl.Int64).alias("items_g"), pl.col("_pack").max().alias("packaging_g"))
        .with_columns((pl.col("items_g") + pl.col("packaging_g")).alias("expected_g"))
        .sort("shipment_id")
    )


def _guides(categories: Iterable[str | None], config: Config) -> list[dict[str, str]]:
    """The packing guides (S25) the categories in one box call for, each once."""
    chosen: list[str] = []
    for category in categories:
        guide = config.packing["guides"].get(category or "")
        if guide and guide not in chosen:
            chosen.append(guide)
    return [
        {"guide": g, "title": t(f"packing.guide_title.{g}"), "text": t(f"packing.guide.{g}")} for g in chosen
    ]


def _shipment(conn: sa.Connection, shipment_id: int) -> Mapping[str, Any]:
    sh, o = schema.shipments, schema.orders
    row = (
        conn.execute(
            sa.select(sh, o.c.buyer_message, o.c.seller_memo, o.c.no_price_slip, o.c.receiver_name)
            .join(o, o.c.order_no == sh.c.order_no)
            .where(sh.c.shipment_id == int(shipment_id))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise BadInput("packing.unknown_shipment", shipment_id=shipment_id)
    return row


def sheet(shop: Shop, shipment_id: int) -> dict[str, Any]:
    """What the packer needs for one shipment: items (ITEM_COLUMNS), gifts, the buyer's message,
    the present flag (no price slip, S26), the packing guides (S25) and the expected weight."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        row = _shipment(conn, shipment_id)
        items = _items(conn, [int(shipment_id)])
    weights = expected_weights(items, shop.config)
    expected = (
        weights.row(0, named=True) if weights.height else {"items_g": 0, "packaging_g": 0, "expected_g": 0}
    )
    return {
        "shipment_id": int(shipment_id),
        "order_no": row["order_no"],
        "stage": row["stage"],
        "carrier_code": row["carrier_code"],
        "receiver_name": row["receiver_name"],
        "buyer_message": row["buyer_message"],
        "seller_memo": row["seller_memo"],
        "no_price_slip": bool(row["no_price_slip"]),
        "insured_fen": int(row["insured_fen"] or 0),
        "sms_notify": bool(row["sms_notify"]),
        "items": items.select(ITEM_COLUMNS),
        "gifts": items.filter(pl.col("is_gift_item"))["title"].to_list(),
        "guides": _guides(items["category"].to_list(), shop.config),
        **expected,
    }


def _counted(scanned: Iterable[str] | Mapping[str, int]) -> Counter[str]:
    """Scans (one unit each, as a scanner sends them) or sku → quantity, by upper-case SKU."""
    if isinstance(scanned, Mapping):
        counts: Counter[str] = Counter()
        for sku, n in scanned.items():
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise BadInput("packing.bad_quantity", sku=sku, value=n)
            counts[str(sku).strip().upper()] += n
        return counts
    return Counter(s.strip().upper() for s in scanned if s and s.strip())


def check_items(items: pl.DataFrame, scanned: Iterable[str] | Mapping[str, int]) -> list[dict[str, Any]]:
    """What differs between the box and the shipment (S8): per SKU, expected and scanned
    units and the kind (missing, extra, wrong_item); empty when they agree."""
    want: Counter[str] = Counter()
    for sku, n in items.select("sku", "quantity").iter_rows():
        want[sku.upper()] += int(n)
    got = _counted(scanned)
    diffs = []
    for sku in sorted(set(want) | set(got)):
        w, g = want.get(sku, 0), got.get(sku, 0)
        if w != g:
            kind = "wrong_item" if w == 0 else ("missing" if g < w else "extra")
            diffs.append(
                {
                    "sku": sku,
                    "expected": w,
                    "scanned": g,
                    "kind": kind,
                    "short": max(w - g, 0),
                    "over": max(g - w, 0),
                }
            )
    return diffs


def check_weight(weight_g: Any, expected_g: int, config: Config) -> str | None:
    """None when a measured weight is within the tolerance of the expected one; "warning"
    when a person must accept it; BadInput when it cannot be a real weight (zero, negative,
    over the carriers' limit, or `implausible_factor` times off)."""
    if isinstance(weight_g, bool) or not isinstance(weight_g, int | float) or weight_g != weight_g:
        raise BadInput("packing.bad_weight", value=weight_g)
    p = config.packing
    if weight_g <= 0:
        raise BadInput("packing.weight_not_positive", value=weight_g)
    if weight_g > p["max_parcel_g"]:
        raise BadInput("packing.weight_over_limit", value=_kg(weight_g), limit=_kg(p["max_parcel_g"]))
    factor = p["implausible_factor"]
    if expected_g > 0 and (weight_g > expected_g * factor or weight_g * factor < expected_g):
        raise BadInput("packing.weight_implausible", value=_kg(weight_g), expected=_kg(expected_g))
    allowed = max(p["tolerance_g"], expected_g * p["tolerance_percent"] / 100)
    return "warning" if abs(weight_g - expected_g) > allowed else None


def _kg(grams: float) -> str:
    return f"{grams / 1000:.3f}"


def _differences(diffs: list[dict[str, Any]]) -> str:
    return "；".join(t(f"packing.diff_{d['kind']}", **d) for d in diffs)


def pack(
    shop: Shop,
    shipment_id: int,
    scanned: Iterable[str] | Mapping[str, int],
    weight_g: float,
    *,
    accept_weight: bool = False,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Close the box of one shipment (S8): the scanned items must equal the shipment's, the
    weight must be plausible (outside the tolerance only with `accept_weight`). Moves the
    shipment to packed (and its order once all its parcels are), takes the goods off the
    shelf in the stock ledger, writes the weight and the packer's register row."""
    actor = require(shop.actor, "read")
    check_role(actor, transition("shipment", "pack").roles, t("action.pack"))  # before any other word
    moment = clock.now()
    with shop.store.write() as conn:
        row = _shipment(conn, shipment_id)
        if row["stage"] != str(ShipmentStage.PICKING):  # a clear word before any other check
            apply(
                conn,
                "shipment",
                int(shipment_id),
                "pack",
                actor,
                expected_version=expected_version,
                now=moment,
            )
        items = _items(conn, [int(shipment_id)])
        diffs = check_items(items, scanned)
        if diffs:
            raise Refused(
                "packing.items_differ",
                shipment_id=shipment_id,
                order_no=row["order_no"],
                differences=_differences(diffs),
            )
        expected = int(expected_weights(items, shop.config)["expected_g"][0]) if items.height else 0
        warning = check_weight(weight_g, expected, shop.config)
        weight_g = round(weight_g)  # a scale's 820.6 g is written as 821
        note = None
        if warning:
            note = t("packing.weight_warning", value=_kg(weight_g), expected=_kg(expected))
            if not accept_weight:
                raise NeedsConfirmation(
                    "packing.weight_needs_accept",
                    shipment_id=shipment_id,
                    value=_kg(weight_g),
                    expected=_kg(expected),
                )
        apply(
            conn, "shipment", int(shipment_id), "pack", actor, expected_version=expected_version, now=moment
        )
        sh = schema.shipments
        conn.execute(
            sh.update()
            .where(sh.c.shipment_id == int(shipment_id))
            .values(
                weight_g=int(weight_g), expected_weight_g=expected, packed_at=moment, packed_by=actor.name
            )
        )
        picked = pick(conn, [int(shipment_id)], actor, at=moment)
        insert_frame(
            conn,
            schema.pack_register,
            pl.DataFrame(
                {
                    "shipment_id": [int(shipment_id)],
                    "order_no": [row["order_no"]],
                    "parcel_no": [1],
                    "weight_g": [int(weight_g)],
                    "expected_weight_g": [expected],
                    "packer": [actor.name],
                    "at": [moment],
                    "warning": [note],
                },
                schema_overrides={"warning": pl.String},
            ),
        )
        follow_shipments(conn, [row["order_no"]], "pack", actor, moment)
    return {
        "shipment_id": int(shipment_id),
        "order_no": row["order_no"],
        "weight_g": int(weight_g),
        "expected_weight_g": expected,
        "warning": note,
        "picked_units": int(picked["quantity"].sum()) if picked.height else 0,
    }


def register(shop: Shop, *, day: Any = None, packer: str | None = None) -> pl.DataFrame:
    """The packer's register (S8): order, parcel, weight, expected weight, packer, time, warning;
    of one day (a date) and one packer when given, newest first."""
    require(shop.actor, "read")
    pr = schema.pack_register
    stmt = sa.select(pr).order_by(pr.c.at.desc(), pr.c.entry_id.desc())
    if packer:
        stmt = stmt.where(pr.c.packer == packer)
    with shop.store.read() as conn:
        frame = read_frame(conn, stmt)
    if day is not None:
        frame = frame.filter(pl.col("at").dt.date() == day)
    return frame


def weights(shop: Shop, shipment_ids: list[int]) -> pl.DataFrame:
    """Expected weights (items + packing material) of many shipments at once."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        return expected_weights(_items(conn, shipment_ids), shop.config)

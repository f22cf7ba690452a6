"""What the documents print: the shipments' rows read in one query per table (never one per
shipment), the shop's settings they need, and how money, weights and times read on paper."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.documents.fonts import CjkFont, font_for_config
from kit.errors import BadInput, NotFound
from kit.i18n import current_lang, t
from kit.store import schema
from kit.store.frames import read_frame

__all__ = [
    "Context", "Frames", "ShipmentDocs", "address", "carrier_names", "context", "ids_of", "item_text", "kg",
    "listed", "local_time", "phone", "read_frames", "refuse_cancelled", "ship_method", "shipment_docs",
    "yuan",
]

CHUNK = 10_000  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class Context:
    """The shop's side of every document: its name, sender, settings, font and names of things."""

    shop_name: str
    sender: Any  # kit.config.Sender
    font: CjkFont
    mask_phone: bool
    warranty_months: int
    printed: datetime  # when the documents are printed, shop-local
    carriers: dict[str, str] = field(default_factory=dict)  # code -> name in the current language

    def carrier(self, code: str) -> str:
        """A carrier's name in the current language (the code itself when no adapter has it)."""
        return self.carriers.get(code, code)


def context(shop: Any, carrier_codes: Iterable[str] = ()) -> Context:
    """The Context of `shop`, with the names of the carriers in `carrier_codes`."""
    config = shop.config
    return Context(
        shop_name=config.shop_name, sender=config.sender, font=font_for_config(config),
        mask_phone=bool(config.documents.get("mask_receiver_phone", False)),
        warranty_months=int(config.documents.get("warranty_months", 12)),
        carriers=carrier_names(config, carrier_codes), printed=clock.now().replace(microsecond=0),
    )


def carrier_names(config: Any, codes: Iterable[str]) -> dict[str, str]:
    """The names of carrier codes in the current language, from the carriers the shop has
    installed (a code no adapter has is left out: it prints as itself)."""
    from kit import carriers

    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    registry = carriers.for_config(config)
    zh = current_lang() == "zh"
    return {code: (a.name.zh if zh else a.name.en) for code in wanted
            if (a := registry.adapters.get(code)) is not None}


@dataclass(frozen=True)
class Frames:
    """The rows of a list of shipments: one frame per table read."""

    shipments: pl.DataFrame  # with warehouse_name, and first_of_order (its order's first live shipment)
    parcels: pl.DataFrame
    lines: pl.DataFrame  # shipment lines with their order line's title, spec, prices, gift flag
    orders: pl.DataFrame


def read_frames(conn: sa.Connection, shipment_ids: Sequence[int]) -> Frames:
    """The shipments, their parcels, lines and orders: one query per table per 10,000 ids."""
    s, w, p, sl, ol, o = (schema.shipments, schema.warehouses, schema.parcels, schema.shipment_lines,
                          schema.order_lines, schema.orders)
    parts: dict[str, list[pl.DataFrame]] = {"shipments": [], "parcels": [], "lines": [], "orders": []}
    for k in range(0, len(shipment_ids), CHUNK):
        ids = list(shipment_ids[k:k + CHUNK])
        order_nos = sa.select(s.c.order_no).where(s.c.shipment_id.in_(ids))
        first = (sa.select(s.c.order_no, sa.func.min(s.c.shipment_id).label("first_id"))
                 .where(s.c.order_no.in_(order_nos), s.c.stage != "cancelled")
                 .group_by(s.c.order_no).subquery())
        parts["shipments"].append(read_frame(conn, sa.select(
            s.c.shipment_id, s.c.order_no, s.c.warehouse_code, w.c.name.label("warehouse_name"),
            s.c.carrier_code, s.c.ship_method, s.c.tracking_no, s.c.stage, s.c.expected_weight_g,
            s.c.weight_g, s.c.insured_fen, s.c.created_at, s.c.handed_over_at, s.c.packed_by,
            (s.c.shipment_id == first.c.first_id).label("first_of_order"),
        ).select_from(s.outerjoin(w, w.c.code == s.c.warehouse_code)
                      .outerjoin(first, first.c.order_no == s.c.order_no))
            .where(s.c.shipment_id.in_(ids))))
        parts["parcels"].append(read_frame(conn, sa.select(
            p.c.shipment_id, p.c.parcel_no, p.c.tracking_no, p.c.weight_g)
            .where(p.c.shipment_id.in_(ids)).order_by(p.c.shipment_id, p.c.parcel_no)))
        parts["lines"].append(read_frame(conn, sa.select(
            sl.c.shipment_id, sl.c.order_no, sl.c.line_no, sl.c.sku, sl.c.quantity, ol.c.title, ol.c.spec,
            ol.c.quantity.label("line_quantity"), ol.c.price_fen, ol.c.amount_fen, ol.c.is_gift_item,
        ).select_from(sl.join(ol, (ol.c.order_no == sl.c.order_no) & (ol.c.line_no == sl.c.line_no)))
            .where(sl.c.shipment_id.in_(ids)).order_by(sl.c.shipment_id, sl.c.order_no, sl.c.line_no)))
        parts["orders"].append(read_frame(conn, sa.select(
            o.c.order_no, o.c.shop, o.c.buyer_nick, o.c.receiver_name, o.c.receiver_mobile,
            o.c.receiver_phone, o.c.province, o.c.city, o.c.district, o.c.address_detail, o.c.postcode,
            o.c.payment_method, o.c.payable_fen, o.c.paid_at, o.c.created_at, o.c.buyer_message,
            o.c.no_price_slip,
        ).where(o.c.order_no.in_(order_nos))))
    frames = {name: pl.concat(chunks, how="vertical_relaxed") for name, chunks in parts.items()}
    frames["orders"] = frames["orders"].unique("order_no", keep="first", maintain_order=True)
    return Frames(**frames)


@dataclass(frozen=True)
class ShipmentDocs:
    """One shipment with everything its documents print, as plain values."""

    shipment: dict[str, Any]
    order: dict[str, Any]
    lines: list[dict[str, Any]]
    parcels: list[dict[str, Any]]  # at least one: a shipment without parcel rows is one parcel

    @property
    def shipment_id(self) -> int:
        """The shipment's id."""
        return int(self.shipment["shipment_id"])

    @property
    def cod_fen(self) -> int:
        """Cash to collect on this shipment: a COD order's payable amount, on its first shipment only."""
        if self.order["payment_method"] != "cod" or not self.shipment["first_of_order"]:
            return 0
        return int(self.order["payable_fen"] or 0)

    def line_amount(self, line: dict[str, Any]) -> int:
        """A line's amount for the quantity in this shipment (a split line pays its share)."""
        if line["quantity"] == line["line_quantity"]:
            return int(line["amount_fen"])
        return round(line["amount_fen"] * line["quantity"] / line["line_quantity"])


def shipment_docs(frames: Frames, shipment_ids: Sequence[int]) -> list[ShipmentDocs]:
    """The shipments in the order asked for; NotFound naming every id that does not exist."""
    shipments = {row["shipment_id"]: row for row in frames.shipments.iter_rows(named=True)}
    missing = [str(i) for i in shipment_ids if i not in shipments]
    if missing:
        raise NotFound("documents.not_found", ids=listed(missing))
    orders = {row["order_no"]: row for row in frames.orders.iter_rows(named=True)}
    lines = _grouped(frames.lines)
    parcels = _grouped(frames.parcels)
    out = []
    for sid in shipment_ids:
        row = shipments[sid]
        own = parcels.get(sid) or [{"shipment_id": sid, "parcel_no": 1, "tracking_no": None,
                                    "weight_g": None}]
        own = [p | {"tracking_no": p["tracking_no"] or row["tracking_no"]} for p in own]
        out.append(ShipmentDocs(row, orders[row["order_no"]], lines.get(sid, []), own))
    return out


def _grouped(frame: pl.DataFrame) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in frame.iter_rows(named=True):
        groups.setdefault(row["shipment_id"], []).append(row)
    return groups


def refuse_cancelled(docs: Sequence[ShipmentDocs]) -> None:
    """BadInput naming every cancelled shipment among `docs`: nothing is printed for them."""
    cancelled = [d.shipment_id for d in docs if d.shipment["stage"] == "cancelled"]
    if cancelled:
        raise BadInput("documents.cancelled", ids=listed(cancelled))


def ids_of(shipment_ids: Iterable[int]) -> list[int]:
    """The ids as integers, each once, in the order given; BadInput when there are none."""
    ids = list(dict.fromkeys(int(i) for i in shipment_ids))
    if not ids:
        raise BadInput("documents.nothing")
    return ids


def listed(values: Sequence[Any], most: int = 10) -> str:
    """Values for a message: the first `most`, then how many more."""
    shown = "、".join(str(v) for v in values[:most])
    return shown + (f" …（+{len(values) - most}）" if len(values) > most else "")


# --- how values read on paper -------------------------------------------------------------------


def yuan(fen: int) -> str:
    """An amount in fen as ¥12.30."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def kg(grams: int | None) -> str:
    """A weight in grams as kilograms with two decimals ('' when unknown)."""
    return "" if grams is None else f"{grams / 1000:.2f}"


def local_time(moment: datetime | date | None, with_time: bool = True) -> str:
    """A shop-local time as 2026-11-30 09:05 (or the date alone)."""
    if moment is None:
        return ""
    if isinstance(moment, datetime) and with_time:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d")


def address(order: dict[str, Any]) -> str:
    """The receiver's full address: province, city, district, street, postcode (S14)."""
    parts = [order["province"], order["city"], order["district"], order["address_detail"]]
    text = " ".join(p for p in parts if p)
    return f"{text} {order['postcode']}" if order.get("postcode") else text


def phone(order: dict[str, Any], masked: bool) -> str:
    """The receiver's mobile and landline, the mobile shown as 138****5678 when `masked`."""
    from kit.carriers.builtin.express import mask_mobile

    numbers = list(dict.fromkeys(n.strip() for n in (order["receiver_mobile"], order["receiver_phone"])
                                 if n and n.strip()))
    text = " / ".join(numbers)
    return mask_mobile(text) if masked else text


def item_text(line: dict[str, Any]) -> str:
    """A line as 标题（规格）×2, a gift item marked as such."""
    gift = t("documents.gift_item") if line["is_gift_item"] else ""
    spec = f"（{line['spec']}）" if line["spec"] else ""
    return f"{gift}{line['title']}{spec}×{line['quantity']}"


def ship_method(code: str) -> str:
    """The shipping method's name in the current language."""
    try:
        return t(f"ship_method.{code}")
    except KeyError:
        return code

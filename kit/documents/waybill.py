"""The waybill label (快递单, S8, S14, S18): one page per parcel at the label size, with the
carrier, the tracking number as Code 128, receiver and sender, weight, COD and insurance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.documents.barcode import code128_modules, draw_code128
from kit.documents.data import (
    Context,
    ShipmentDocs,
    address,
    item_text,
    kg,
    listed,
    local_time,
    phone,
    refuse_cancelled,
    ship_method,
    yuan,
)
from kit.documents.pdf import Document
from kit.errors import BadInput
from kit.i18n import t

__all__ = ["SIZES", "check_labels", "draw_waybill", "label_page", "waybill_pages"]

SIZES: dict[str, tuple[float, float]] = {  # width x height in mm, portrait, as label stock is sold
    "76x130": (76.0, 130.0),
    "100x150": (100.0, 150.0),
    "100x180": (100.0, 180.0),
}
MARGIN = 3.0


def label_page(size: str | None, default: str) -> tuple[float, float]:
    """The page (width, height) mm of a label size name; BadInput naming the three sizes."""
    name = (size or default or "").strip().lower().replace("×", "x").replace("*", "x")
    if name not in SIZES:
        raise BadInput("documents.unknown_size", size=size or default, allowed="、".join(SIZES))
    return SIZES[name]


def check_labels(docs: Sequence[ShipmentDocs], ctx: Context) -> None:
    """Refuse shipments that cannot have a label: cancelled, without logistics, without a
    tracking number (or whose number a barcode cannot hold); each message names them all."""
    refuse_cancelled(docs)
    no_label = [d.shipment_id for d in docs if d.shipment["carrier_code"] == "none"]
    if no_label:
        raise BadInput("documents.no_label", ids=listed(no_label), carrier=ctx.carrier("none"))
    untracked = [d.shipment_id for d in docs if any(not (p["tracking_no"] or "").strip() for p in d.parcels)]
    if untracked:
        raise BadInput("documents.no_tracking", ids=listed(untracked))
    for d in docs:
        for p in d.parcels:
            try:
                code128_modules(p["tracking_no"].strip())
            except ValueError as exc:
                raise BadInput("documents.bad_barcode", shipment_id=d.shipment_id,
                               tracking_no=p["tracking_no"], detail=str(exc)) from exc


def waybill_pages(doc: Document, docs: ShipmentDocs, ctx: Context, page: tuple[float, float]) -> int:
    """Add one label page per parcel of a shipment; return how many were added."""
    for number, parcel in enumerate(docs.parcels, start=1):
        draw_waybill(doc, docs, parcel, number, ctx, page)
    return len(docs.parcels)


def draw_waybill(doc: Document, docs: ShipmentDocs, parcel: dict[str, Any], number: int, ctx: Context,
                 page: tuple[float, float]) -> None:
    """Draw one parcel's label on a new page of size `page` (mm)."""
    width, height = page
    doc.add_page(format=page)
    doc.set_auto_page_break(False)
    s, v = width / 100, height / 150  # font and height scales from the 100 x 150 design
    inner = width - 2 * MARGIN
    ship, order = docs.shipment, docs.order
    count = len(docs.parcels)
    tracking = parcel["tracking_no"].strip()

    # 1. carrier and service; the COD amount in a black box, where the courier looks first
    y = MARGIN
    band = 13 * v
    left = inner * 0.55
    doc.line_at(MARGIN, y, left, ctx.carrier(ship["carrier_code"]), 16 * s, height=band * 0.62)
    doc.line_at(MARGIN, y + band * 0.62, left, ship_method(ship["ship_method"]), 8 * s, height=band * 0.38)
    right_x, right_w = MARGIN + left + 1, inner - left - 1
    if docs.cod_fen:
        doc.rect(right_x, y + 0.8, right_w, band - 1.6, style="F")
        with doc.local_context(text_color=255):
            doc.line_at(right_x, y + 0.8, right_w, t("documents.label_cod", amount=yuan(docs.cod_fen)),
                        11 * s, align="C", height=band - 1.6)
    else:
        doc.line_at(right_x, y, right_w, t("documents.label_parcel", number=number, count=count),
                    11 * s, align="R", height=band)
    y += band
    doc.rule(y, width=0.4)

    # 2. the tracking number as Code 128, and in text below it
    bar_box = 26 * v
    draw_code128(doc, tracking, MARGIN, y + 1.5 * v, inner, bar_box - 2.5 * v, text_size=11 * s)
    y += bar_box
    doc.rule(y, width=0.4)

    # 3. receiver: name, phone, the full address (S14)
    y = _party(doc, y, 40 * v, t("documents.label_receiver"), f"{order['receiver_name']}  "
               f"{phone(order, ctx.mask_phone)}", address(order), s, big=True)
    doc.rule(y, width=0.4)

    # 4. sender, from kit.toml [shop.sender]
    snd = ctx.sender
    sender_address = " ".join(x for x in (snd.province, snd.city, snd.district, snd.detail, snd.postcode)
                              if x)
    y = _party(doc, y, 20 * v, t("documents.label_sender"), f"{snd.name}  {snd.mobile}".strip(),
               sender_address, s, big=False)
    doc.rule(y, width=0.4)

    # 5. weight (S8), parcel count, insured value, cash on delivery
    grams = parcel.get("weight_g") or ship["weight_g"] or ship["expected_weight_g"]
    facts = [t("documents.label_weight", kg=kg(grams)) if grams else "",
             t("documents.label_parcel", number=number, count=count),
             t("documents.label_insured", amount=yuan(ship["insured_fen"])) if ship["insured_fen"] else "",
             t("documents.label_cod", amount=yuan(docs.cod_fen)) if docs.cod_fen else ""]
    facts = [f for f in facts if f]
    row_h = 6 * v
    half = inner / 2
    for k, fact in enumerate(facts):
        doc.line_at(MARGIN + (k % 2) * half, y + 0.8 + (k // 2) * row_h, half, fact, 9 * s, height=row_h)
    y += 0.8 + ((len(facts) + 1) // 2) * row_h + 0.8
    doc.rule(y, width=0.2)

    # 6. what is inside (S8: type, spec and quantity checked against it), then at the bottom
    # the order, the shipment, when it was printed and the shop
    foot = [t("documents.label_order", order_no=order["order_no"]),
            f"{t('documents.label_shipment', shipment_id=docs.shipment_id)}  "
            f"{t('documents.label_printed', at=local_time(ctx.printed))}",
            ctx.shop_name]
    foot_size = 7.5 * s
    line_h = foot_size * 0.3528 * 1.3
    bottom = height - MARGIN - len(foot) * line_h
    items = "；".join(item_text(line) for line in docs.lines)
    if items and bottom - y > 6:
        doc.box_at(MARGIN, y + 0.8, inner, bottom - y - 1.6, t("documents.label_contents", items=items),
                   8 * s, smallest=4)
    for k, line in enumerate(foot):
        doc.line_at(MARGIN, bottom + k * line_h, inner, line, foot_size, height=line_h)
    doc.set_auto_page_break(True, MARGIN)


def _party(doc: Document, y: float, block: float, marker: str, who: str, where: str, s: float,
           big: bool) -> float:
    """A receiver or sender block of height `block` below y: a boxed marker, then the name and
    phone on one line and the address wrapped below; return the y of the block's end."""
    size = 14 * s if big else 8 * s
    box = (8 if big else 6) * s
    doc.set_line_width(0.3)
    doc.rect(MARGIN, y + 1.5, box, box)
    doc.line_at(MARGIN, y + 1.5, box, marker, (13 if big else 9) * s, align="C", height=box, smallest=3)
    x = MARGIN + box + 2 * s
    w = doc.w - MARGIN - x
    top = doc.line_at(x, y + 1.2, w, who, size, height=size * 0.3528 * 1.4)
    doc.box_at(x, top + 0.3, w, y + block - top - 1.2, where, (13 if big else 8) * s)
    return y + block

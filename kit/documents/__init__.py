"""Printed documents as PDF bytes with the Chinese font embedded: waybill labels (快递单),
shipping notes (发货单), warranty cards (保修卡), a wave's pick list (拣货单) and the batch a
packing table prints for a wave (S8, S14, S18, S22, S23, S26).

    >>> from kit import documents
    >>> pdf = documents.waybills(shop, [101, 102], size="100x150")   # one label per parcel
    >>> Path("labels.pdf").write_bytes(pdf)
    >>> documents.shipping_notes(shop, [101, 102])                     # A5, one note each
    >>> documents.warranty_cards(shop, [101, 102])                     # A6, one card each
    >>> documents.wave_documents(shop, [101, 102])                     # label, note, card, ...
    >>> documents.pick_list_pdf(p.wave, p.totals, p.per_order)         # p = kit.picking.pick_list(...)

Each function that takes a shop needs the print_documents permission. Pages are exactly
the paper's size; every file carries the shop as author, a title and its creation time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from kit import clock
from kit.documents.data import (
    Context,
    ShipmentDocs,
    carrier_names,
    context,
    ids_of,
    read_frames,
    refuse_cancelled,
    shipment_docs,
)
from kit.documents.fonts import font_for_config
from kit.documents.note import A5, draw_note
from kit.documents.pdf import new_document
from kit.documents.picklist import A4, draw_pick_list
from kit.documents.warranty import A6, draw_warranty
from kit.documents.waybill import SIZES, check_labels, label_page, waybill_pages
from kit.i18n import t
from kit.lifecycle import audit_rows
from kit.permissions import require
from kit.store.frames import insert_frame
from kit.store.schema import audit

__all__ = ["SIZES", "pick_list_pdf", "shipping_notes", "warranty_cards", "wave_documents", "waybills"]


def waybills(shop: Any, shipment_ids: Iterable[int], size: str | None = None) -> bytes:
    """Waybill labels, one page per parcel, each page `size` ("76x130", "100x150", "100x180";
    default [documents] label_size); every shipment needs its tracking number first."""
    require(shop.actor, "print_documents")
    page = label_page(size, shop.config.documents.get("label_size", "100x150"))
    docs, ctx = _load(shop, shipment_ids)
    check_labels(docs, ctx)
    doc = new_document(
        ctx.font, page, title=t("documents.title_waybills", shop=ctx.shop_name), author=ctx.shop_name
    )
    for one in docs:
        waybill_pages(doc, one, ctx, page)
    return _printed(shop, docs, "waybill", doc)


def shipping_notes(shop: Any, shipment_ids: Iterable[int]) -> bytes:
    """Shipping notes on A5 portrait, one (or more, if long) page per shipment; a present's
    note shows no prices (S26)."""
    require(shop.actor, "print_documents")
    docs, ctx = _load(shop, shipment_ids)
    refuse_cancelled(docs)
    doc = new_document(
        ctx.font, A5, title=t("documents.title_notes", shop=ctx.shop_name), author=ctx.shop_name, margin=8
    )
    for one in docs:
        draw_note(doc, one, ctx, A5)
    return _printed(shop, docs, "note", doc)


def warranty_cards(shop: Any, shipment_ids: Iterable[int]) -> bytes:
    """Warranty cards on A6 portrait, one per shipment, dated by hand-over (today if not yet) (S18)."""
    require(shop.actor, "print_documents")
    docs, ctx = _load(shop, shipment_ids)
    refuse_cancelled(docs)
    doc = new_document(
        ctx.font, A6, title=t("documents.title_warranty", shop=ctx.shop_name), author=ctx.shop_name, margin=6
    )
    for one in docs:
        draw_warranty(doc, one, ctx, A6)
    return _printed(shop, docs, "warranty", doc)


def wave_documents(shop: Any, shipment_ids: Iterable[int], size: str | None = None) -> bytes:
    """The print batch of a packing table: for each shipment in the order given, its label(s),
    then its shipping note, then its warranty card, all in one PDF (S18, S23).

    Every page is the label size: one label printer prints the whole batch in one run, and
    each parcel's papers come out together, in packing order. Notes and cards are laid out
    for the narrower page (a long note continues on a second page)."""
    require(shop.actor, "print_documents")
    page = label_page(size, shop.config.documents.get("label_size", "100x150"))
    docs, ctx = _load(shop, shipment_ids)
    check_labels(docs, ctx)
    doc = new_document(
        ctx.font, page, title=t("documents.title_batch", shop=ctx.shop_name), author=ctx.shop_name
    )
    for one in docs:
        waybill_pages(doc, one, ctx, page)
        draw_note(doc, one, ctx, page)
        draw_warranty(doc, one, ctx, page)
    return _printed(shop, docs, "wave", doc)


def pick_list_pdf(
    wave: dict[str, Any], totals: pl.DataFrame, per_order: pl.DataFrame, *, config: Any = None
) -> bytes:
    """The pick list of a wave on A4: `wave` (the waves row and warehouse_name), `totals`
    (location, sku, title, spec, quantity, orders) and `per_order` (order_no, shipment_id,
    location, sku, title, spec, quantity) as kit.picking.pick_list returns them; `config`
    (the shop's, default settings when None) gives the shop name and the font."""
    from kit.config import Config

    settings = config if config is not None else Config()
    code = str(wave.get("carrier_code") or "")
    carrier = wave.get("carrier_name") or carrier_names(settings, [code]).get(code, code)
    doc = new_document(
        font_for_config(settings),
        A4,
        title=t("documents.title_picklist", wave_id=wave.get("wave_id", "")),
        author=settings.shop_name,
        margin=10,
    )
    draw_pick_list(doc, wave, totals, per_order, carrier)
    return bytes(doc.output())


def _printed(shop: Any, docs: list[ShipmentDocs], kind: str, doc: Any) -> bytes:
    """The finished PDF, after one audit row per shipment printed (S22: which note, label or
    card was printed for which parcel, by whom, is kept)."""
    data = bytes(doc.output())
    printed = pl.DataFrame(
        {"entity_id": [str(d.shipment["shipment_id"]) for d in docs]}, schema={"entity_id": pl.String}
    ).with_columns(pl.lit(kind).alias("reason"))
    with shop.store.write() as conn:
        insert_frame(conn, audit, audit_rows(printed, shop.actor, clock.now(), "shipment", "print"))
    return data


def _load(shop: Any, shipment_ids: Iterable[int]) -> tuple[list[ShipmentDocs], Context]:
    """The shipments' documents data, read in one go, and the shop's context."""
    ids = ids_of(shipment_ids)
    with shop.store.read() as conn:
        frames = read_frames(conn, ids)
    docs = shipment_docs(frames, ids)
    return docs, context(shop, frames.shipments["carrier_code"].unique().to_list())

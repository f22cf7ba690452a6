"""Workload: the waybill labels of a 500-shipment wave (100 x 150 mm) as one PDF, from the
database to the bytes a label printer takes.

kit   — kit.documents.waybills(shop, ids, "100x150"): the shipments, parcels, lines and
        orders read in one query per table, one document with the Chinese font loaded once,
        a label per parcel (Code 128 as vector bars, wrapped address), the font subset
        embedded once.
floor — fpdf2 writing 500 blank pages of the same size into one document with the same font
        loaded the same way: what any PDF of 500 pages with this font costs, no data, no drawing.
naive — what a script that prints one label at a time does: read each shipment's rows with
        their own queries, a new FPDF per label that loads (parses) the font again and embeds
        its own subset, the single-label PDFs joined with pypdf (on a sample; per-label ratios).

The three ways run in one process on a demo shop in a temporary SQLite file, after one warm-up
label (imports, carrier plugins, the kit's one parse of the font), so they compare the work of
printing, not start-up.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

import kit
from benchmarks.harness import Result, timed
from kit import documents
from kit.demo import seed
from kit.documents import data, pdf, waybill
from kit.documents.fonts import CjkFont, font_for_config
from kit.store import schema

WORKLOAD = "Documents: the waybill labels of a 500-shipment wave (100x150 mm) as one PDF"
SIZE = "100x150"
NAIVE_LABELS = 50


def labelled_ids(shop: kit.Shop, n: int) -> list[int]:
    """The first `n` shipments that can have a label (tracking number, a carrier, not cancelled)."""
    s = schema.shipments
    frame = shop.store.frame(sa.select(s.c.shipment_id).where(
        s.c.tracking_no.is_not(None), s.c.carrier_code != "none", s.c.stage != "cancelled",
    ).order_by(s.c.shipment_id).limit(n))
    return frame["shipment_id"].to_list()


def kit_way(shop: kit.Shop, ids: list[int]) -> bytes:
    """The kit's call."""
    return documents.waybills(shop, ids, SIZE)


def floor_way(font: CjkFont, pages: int) -> bytes:
    """One document, the same font loaded as the kit loads it, `pages` blank label pages."""
    page = documents.SIZES[SIZE]
    doc = pdf.new_document(font, page, title="floor", author="floor")
    for _ in range(pages):
        doc.add_page()
    return bytes(doc.output())


def naive_way(shop: kit.Shop, ids: list[int]) -> bytes:
    """Per label: its own reads, a new FPDF that parses the font again, its own file; pypdf joins them."""
    import pypdf

    page = documents.SIZES[SIZE]
    writer = pypdf.PdfWriter()
    for sid in ids:
        with shop.store.read() as conn:
            frames = data.read_frames(conn, [sid])
        docs = data.shipment_docs(frames, [sid])
        ctx = data.context(shop, frames.shipments["carrier_code"].to_list())
        waybill.check_labels(docs, ctx)
        pdf._parsed.cache_clear()  # no font kept between labels: add_font in every new FPDF
        doc = pdf.new_document(ctx.font, page, title="naive", author=ctx.shop_name)
        waybill.waybill_pages(doc, docs[0], ctx, page)
        writer.append(io.BytesIO(bytes(doc.output())))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def breakdown(shop: kit.Shop, ids: list[int]) -> str:
    """Where the kit's time goes, in one run: reading, drawing, writing the file (with the subset)."""
    start = time.perf_counter()
    with shop.store.read() as conn:
        frames = data.read_frames(conn, ids)
    docs = data.shipment_docs(frames, ids)
    ctx = data.context(shop, frames.shipments["carrier_code"].unique().to_list())
    read = time.perf_counter()
    page = documents.SIZES[SIZE]
    doc = pdf.new_document(ctx.font, page, title="x", author=ctx.shop_name)
    for one in docs:
        waybill.waybill_pages(doc, one, ctx, page)
    drawn = time.perf_counter()
    size = len(bytes(doc.output()))
    written = time.perf_counter()
    glyphs = len(doc.fonts[pdf.FAMILY].subset)
    total = written - start
    def part(seconds: float) -> str:
        return f"{seconds:.2f} s ({seconds / total:.0%})"

    return (f"kit time: read {part(read - start)}, draw {part(drawn - read)}, write {part(written - drawn)} "
            f"(with the font subset of {glyphs:,} glyphs); the PDF is {size / 1024:,.0f} KiB, "
            f"{size / len(ids) / 1024:.1f} KiB per label.")


def run(labels: int = 500, naive_labels: int = NAIVE_LABELS, repeat: int = 3) -> list[Result]:
    """Seed a demo shop, print `labels` labels the three ways; one Result (SQLite)."""
    with tempfile.TemporaryDirectory() as folder:
        shop = kit.connect(f"sqlite:///{Path(folder) / 'kit.db'}", actor="店长")
        try:
            seed(shop, orders=int(labels * 1.4) + 50, today=date(2026, 11, 30))
            ids = labelled_ids(shop, labels)
            if len(ids) < labels:
                raise RuntimeError(f"the demo shop has {len(ids)} labelled shipments, {labels} wanted")
            kit_way(shop, ids[:2])  # warm-up: imports, carrier plugins, the kit's parse of the font
            font = font_for_config(shop.config)
            start = time.perf_counter()
            pdf._parsed.cache_clear()
            pdf._parsed(font)
            parse_s = time.perf_counter() - start
            load = os.getloadavg()[0]
            measures = {
                "kit": timed("kit", labels, lambda: kit_way(shop, ids), repeat=repeat),
                "floor": timed("floor", labels, lambda: floor_way(font, labels), repeat=repeat),
                "naive": timed("naive", naive_labels, lambda: naive_way(shop, ids[:naive_labels]), repeat=1),
            }
            notes = [
                f"Kit, floor and naive print from the same demo shop (seed 20261130, {labels:,} shipments "
                f"with tracking numbers, one parcel each); naive runs once on the first {naive_labels} "
                f"labels (per-label ratios). Font: {font.family} ({font.path.name}), embedded as a subset.",
                f"Floor: fpdf2 writing {labels:,} blank {SIZE} pages with the font loaded as the kit loads "
                f"it (parsing the font afresh, as fpdf2's add_font does in each new FPDF, takes "
                f"{parse_s:.2f} s: the kit parses it once per process and shares the parsed tables).",
                breakdown(shop, ids) + " The floor's pages use no glyph, so its subset is empty: most "
                "of kit/floor is drawing the labels and subsetting the font, which any PDF of these "
                "labels needs.",
                f"Machine load as the run began (1-minute average, {os.cpu_count()} cores): {load:.1f}.",
            ]
            pdf._parsed(font)
        finally:
            shop.close()
    for m in measures.values():
        print(f"documents: {m.way} {m.rows:,} labels in {m.median:.2f} s "
              f"({m.per_row_us / 1000:.1f} ms/label)")
    return [Result(WORKLOAD, "SQLite", measures, notes)]


if __name__ == "__main__":
    run()

"""The pick list of a wave (拣货单, S7, S8, S23): totals by shelf location to pick from, then
each order's lines to pack by; A4, headings repeated on every page, pages numbered."""

from __future__ import annotations

from typing import Any

import polars as pl

from kit.documents.data import local_time
from kit.documents.note import table_style
from kit.documents.pdf import Document
from kit.i18n import t

__all__ = ["A4", "draw_pick_list", "sorted_totals"]

A4 = (210.0, 297.0)
BODY = 9.0  # points
_TOTALS = ("location", "sku", "title", "spec", "quantity", "orders")
_PER_ORDER = ("order_no", "shipment_id", "location", "sku", "title", "spec", "quantity")


def sorted_totals(totals: pl.DataFrame) -> pl.DataFrame:
    """The totals by location then SKU, lines without a location last (as the picker walks)."""
    return totals.sort(["location", "sku"], nulls_last=True, maintain_order=True)


def draw_pick_list(doc: Document, wave: dict[str, Any], totals: pl.DataFrame, per_order: pl.DataFrame,
                   carrier: str) -> None:
    """Draw the wave's pick list into `doc` (an A4 Document), starting on a new page."""
    missing = [c for c in _TOTALS if c not in totals.columns]
    missing += [c for c in _PER_ORDER if c not in per_order.columns]
    if missing:
        raise ValueError(f"pick list frames lack columns: {missing}")
    doc.running_header = lambda d: _header(d, wave, carrier)
    doc.running_footer = lambda d: _footer(d, wave)
    doc.alias_nb_pages()
    doc.set_auto_page_break(True, 14)
    doc.add_page(format=A4)
    style = table_style(doc, BODY)
    tick = "□"
    blank = t("documents.pick_no_location")

    _section(doc, t("documents.pick_totals"))
    doc.set_font_size(BODY)
    with doc.table(col_widths=(6, 20, 30, 62, 40, 12, 12),
                   text_align=("CENTER", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"), **style) as table:
        table.row([t(f"documents.pick_col_{name}") for name in
                   ("tick", "location", "sku", "title", "spec", "quantity", "orders")])
        for row in sorted_totals(totals).select(_TOTALS).iter_rows():
            location, sku, title, spec, quantity, orders = row
            table.row([tick, location or blank, sku or "", title or "", spec or "", str(quantity),
                       "" if orders is None else str(orders)])

    doc.ln(4)
    _section(doc, t("documents.pick_per_order"))
    doc.set_font_size(BODY)
    with doc.table(col_widths=(6, 34, 18, 28, 52, 34, 12),
                   text_align=("CENTER", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT"), **style) as table:
        table.row([t(f"documents.pick_col_{name}") for name in
                   ("tick", "order", "location", "sku", "title", "spec", "quantity")])
        for group in per_order.select(_PER_ORDER).partition_by("shipment_id", maintain_order=True):
            first = True
            for row in sorted_totals(group).iter_rows():
                order_no, shipment_id, location, sku, title, spec, quantity = row
                who = f"{order_no}\n#{shipment_id}" if first else ""
                table.row([tick, who, location or blank, sku or "", title or "", spec or "", str(quantity)])
                first = False


def _section(doc: Document, title: str) -> None:
    doc.set_font_size(11)
    doc.set_x(doc.l_margin)
    doc.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")


def _header(doc: Document, wave: dict[str, Any], carrier: str) -> None:
    """The title, wave, warehouse and carrier, and the wave's facts, on top of every page."""
    inner = doc.w - doc.l_margin - doc.r_margin
    x, y = doc.l_margin, doc.t_margin
    warehouse = wave.get("warehouse_name") or wave.get("warehouse") or ""
    code = wave.get("warehouse_code") or ""
    where = f"{warehouse}（{code}）" if warehouse and code and warehouse != code else (warehouse or code)
    doc.line_at(x, y, inner * 0.3, t("documents.pick_title"), 15, height=8)
    doc.line_at(x + inner * 0.3, y, inner * 0.7, t("documents.pick_header", wave_id=wave.get("wave_id", ""),
                                                   warehouse=where, carrier=carrier), 11, align="R", height=8)
    y += 8
    facts = t("documents.pick_facts", shipments=wave.get("shipments", ""), units=wave.get("units", ""),
              ship_by=local_time(wave.get("ship_by")) or "—", created_by=wave.get("created_by", ""),
              created_at=local_time(wave.get("created_at")))
    doc.line_at(x, y, inner, facts, 8.5, height=5)
    y += 5.5
    doc.rule(y, width=0.4)
    doc.set_xy(x, y + 2)
    doc.set_font_size(BODY)


def _footer(doc: Document, wave: dict[str, Any]) -> None:
    """The page number of the total, and the wave id, at the bottom of every page."""
    doc.set_xy(doc.l_margin, doc.h - 10)
    doc.set_font_size(8)
    text = t("documents.pick_footer", wave_id=wave.get("wave_id", ""), page=doc.page_no(),
             pages=doc.str_alias_nb_pages)
    doc.cell(doc.w - doc.l_margin - doc.r_margin, 5, text, align="C")

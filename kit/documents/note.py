"""The shipping note (发货单, S22, S23, S26): what is in the parcel and for whom; a present's
note (orders.no_price_slip) carries no price or amount anywhere on it."""

from __future__ import annotations

from fpdf.enums import WrapMode
from fpdf.fonts import FontFace

from kit.documents.data import Context, ShipmentDocs, address, local_time, phone, yuan
from kit.documents.pdf import Document
from kit.i18n import current_lang, t

__all__ = ["A5", "draw_note", "table_style"]

A5 = (148.0, 210.0)  # portrait, mm


def table_style(doc: Document, size: float) -> dict[str, object]:
    """The table settings notes and pick lists share: light heading, lines between rows, wrapping
    by character for Chinese (no spaces between words), the headings repeated on each page."""
    return {
        "headings_style": FontFace(emphasis="", fill_color=225, size_pt=size),
        "borders_layout": "HORIZONTAL_LINES",
        "line_height": size * 0.3528 * 1.35,
        "padding": (0.6, 0.8),
        "wrapmode": WrapMode.CHAR if current_lang() == "zh" else WrapMode.WORD,
        "repeat_headings": 1,
        "v_align": "MIDDLE",
    }


def draw_note(doc: Document, docs: ShipmentDocs, ctx: Context, page: tuple[float, float]) -> None:
    """Draw a shipment's shipping note from a new page of size `page` (more pages if it is long)."""
    width, _ = page
    doc.add_page(format=page)
    s = min(1.0, width / A5[0]) ** 0.5  # labels are narrower than A5: smaller, still readable type
    body = 9.5 * s
    inner = width - doc.l_margin - doc.r_margin
    x = doc.l_margin
    order, ship = docs.order, docs.shipment
    present = bool(order["no_price_slip"])

    y = doc.t_margin
    doc.line_at(x, y, inner * 0.65, ctx.shop_name, 15 * s, height=9 * s)
    doc.line_at(x + inner * 0.65, y, inner * 0.35, t("documents.note_title"), 13 * s, align="R", height=9 * s)
    y += 9 * s
    doc.rule(y, width=0.4)
    y += 1
    heads = [t("documents.note_order", order_no=order["order_no"]),
             t("documents.note_paid_at", at=local_time(order["paid_at"])) if order["paid_at"] else "",
             t("documents.note_shipment", shipment_id=docs.shipment_id,
               warehouse=ship["warehouse_name"] or ship["warehouse_code"],
               carrier=ctx.carrier(ship["carrier_code"]), tracking_no=ship["tracking_no"] or ""),
             t("documents.note_receiver", name=order["receiver_name"], phone=phone(order, ctx.mask_phone))]
    for line in heads:
        if line:
            y = doc.line_at(x, y, inner, line.strip(), body)
    doc.set_xy(x, y)
    doc.paragraph(t("documents.note_address", address=address(order)), body)
    doc.ln(2)

    quantity = sum(line["quantity"] for line in docs.lines)
    rows = []
    for line in docs.lines:
        title = (t("documents.gift_item") if line["is_gift_item"] else "") + line["title"]
        cells = [title, line["spec"] or "", str(line["quantity"])]
        if not present:
            cells += [yuan(line["price_fen"]), yuan(docs.line_amount(line))]
        rows.append(cells)
    total = sum(docs.line_amount(line) for line in docs.lines)
    columns = ("item", "spec", "quantity") + (() if present else ("price", "amount"))
    headings = [t(f"documents.note_col_{name}") for name in columns]
    doc.set_font_size(body)
    doc.set_line_width(0.2)
    style = table_style(doc, body)
    with doc.table(col_widths=_widths(doc, inner, headings, [*rows, ["", "", "", yuan(total)]]),
                   text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")[:len(headings)], **style) as table:
        table.row(headings)
        for cells in rows:
            table.row(cells)
        row = table.row()
        if present:
            row.cell(t("documents.note_items", quantity=quantity), colspan=3, align="RIGHT")
        else:
            row.cell(t("documents.note_total", quantity=quantity), colspan=4, align="RIGHT")
            row.cell(yuan(total), align="RIGHT")
    doc.ln(2)

    tail = []
    if present:
        tail.append(t("documents.note_present"))
    if (order["buyer_message"] or "").strip():
        tail.append(t("documents.note_buyer_message", message=order["buyer_message"].strip()))
    tail.append(t("documents.note_thanks", shop=ctx.shop_name))
    for line in tail:
        doc.set_x(x)
        doc.paragraph(line, body, leading=1.35)
        doc.ln(0.8)


def _widths(doc: Document, inner: float, headings: list[str], rows: list[list[str]]) -> tuple[float, ...]:
    """Column widths in mm: quantity and money columns as wide as their widest text (never
    wrapped), the rest shared by title (60 %) and spec (40 %)."""
    pad = 2 * 0.8 + 0.6
    fixed = [max(doc.get_string_width(r[k]) for r in [headings, *rows] if len(r) > k) + pad
             for k in range(2, len(headings))]
    rest = max(inner - sum(fixed), inner * 0.4)
    return (rest * 0.6, rest * 0.4, *fixed)

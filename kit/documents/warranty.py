"""The warranty card (保修卡, S18, S23): shop, order, items, the shipping date and the months
of warranty from it, and the terms; no prices."""

from __future__ import annotations

import calendar
from datetime import date

from kit import clock
from kit.documents.data import Context, ShipmentDocs, item_text, local_time
from kit.documents.pdf import Document
from kit.i18n import t

__all__ = ["A6", "draw_warranty", "months_after"]

A6 = (105.0, 148.0)  # portrait, mm


def months_after(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def draw_warranty(doc: Document, docs: ShipmentDocs, ctx: Context, page: tuple[float, float]) -> None:
    """Draw a shipment's warranty card from a new page of size `page`."""
    width, _ = page
    doc.add_page(format=page)
    s = min(1.0, width / A6[0]) ** 0.5
    body = 9 * s
    x, inner = doc.l_margin, width - doc.l_margin - doc.r_margin
    order, ship = docs.order, docs.shipment
    shipped = ship["handed_over_at"].date() if ship["handed_over_at"] else clock.now().date()
    until = months_after(shipped, ctx.warranty_months)

    y = doc.t_margin
    y = doc.line_at(x, y, inner, t("documents.warranty_title"), 16 * s, align="C")
    y = doc.line_at(x, y, inner, ctx.shop_name, 11 * s, align="C")
    y += 1
    doc.rule(y, width=0.4)
    y += 1.5
    for line in (t("documents.warranty_order", order_no=order["order_no"]),
                 t("documents.warranty_receiver", name=order["receiver_name"]),
                 t("documents.warranty_shipped", date=local_time(shipped, with_time=False)),
                 t("documents.warranty_period", months=ctx.warranty_months,
                   until=local_time(until, with_time=False))):
        y = doc.line_at(x, y, inner, line, body)
    y += 1
    y = doc.line_at(x, y, inner, t("documents.warranty_items"), body)
    doc.set_y(y)
    for line in docs.lines:
        doc.paragraph(f"· {item_text(line)}", body, indent=2)
    doc.ln(1.5)
    doc.rule(doc.get_y(), width=0.2)
    doc.ln(1.5)
    doc.paragraph(t("documents.warranty_terms"), 7.5 * s, leading=1.35)

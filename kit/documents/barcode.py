"""Code 128 barcodes drawn as vector bars, with quiet zones and the number in text below."""

from __future__ import annotations

import math

from fpdf import FPDF

__all__ = ["DOT_MM", "QUIET_MODULES", "code128_modules", "draw_code128"]

QUIET_MODULES = 10  # blank modules left and right of the bars (the standard asks for 10)
# Label printers print at 203 dpi: a bar a whole number of dots wide prints evenly, so the
# module width is rounded down to whole dots when there is room for at least one per module.
DOT_MM = 25.4 / 203


def code128_modules(text: str) -> str:
    """The modules of `text` in Code 128 ('1' bar, '0' space), start, check and stop included;
    ValueError when a character cannot be encoded."""
    import barcode

    try:
        return barcode.get_barcode_class("code128")(text).build()[0]
    except Exception as exc:  # python-barcode raises several types for characters it cannot hold
        raise ValueError(str(exc) or type(exc).__name__) from exc


def draw_code128(pdf: FPDF, text: str, x: float, y: float, width: float, height: float, *,
                 text_size: float = 10.0, caption: str | None = None) -> float:
    """Draw `text` as a Code 128 barcode centred in the box (x, y, width, height mm): bars on
    top, the number (or `caption`) below; return the y below the caption."""
    modules = code128_modules(text)
    module = width / (len(modules) + 2 * QUIET_MODULES)
    if module >= DOT_MM:
        module = math.floor(module / DOT_MM) * DOT_MM
    left = x + (width - module * len(modules)) / 2
    caption_h = text_size * 0.3528 * 1.2  # points to mm, with a little leading
    bars_h = max(height - caption_h, height * 0.5)
    with pdf.local_context(fill_color=0):
        start = None
        for k, bit in enumerate(modules + "0"):
            if bit == "1" and start is None:
                start = k
            elif bit == "0" and start is not None:
                pdf.rect(left + start * module, y, (k - start) * module, bars_h, style="F")
                start = None
    pdf.set_font_size(text_size)
    pdf.set_xy(x, y + bars_h)
    pdf.cell(width, caption_h, caption if caption is not None else text, align="C")
    return y + bars_h + caption_h

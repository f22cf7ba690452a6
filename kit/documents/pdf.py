"""The PDF every document is drawn on: millimetres, the shop's Chinese font embedded as a
subset, title/author/creation date set, and a few drawing steps the layouts share."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from functools import cache

from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

from kit import clock
from kit.documents.fonts import CjkFont
from kit.i18n import current_lang, t

__all__ = ["FAMILY", "Document", "new_document"]

FAMILY = "cjk"  # the one font family of every document


class Document(FPDF):
    """An FPDF in mm whose only font is the CJK font, with an optional running header and footer."""

    def __init__(self, font: CjkFont, page: tuple[float, float], *, margin: float = 3.0) -> None:
        super().__init__(unit="mm", format=page)
        self.running_header: Callable[[Document], None] | None = None
        self.running_footer: Callable[[Document], None] | None = None
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(True, margin)
        self.c_margin = 0.6
        _add_cjk_font(self, font)
        self.set_font(FAMILY, size=9)
        self.set_fill_color(0)
        self.set_draw_color(0)

    def header(self) -> None:
        """Draw the running header, if one is set (called by fpdf2 on each new page)."""
        if self.running_header is not None:
            self.running_header(self)

    def footer(self) -> None:
        """Draw the running footer, if one is set (called by fpdf2 at the end of each page)."""
        if self.running_footer is not None:
            self.running_footer(self)

    def fit_size(self, text: str, width: float, size: float, smallest: float = 5.0) -> float:
        """The largest font size up to `size` (points) at which `text` fits on one line of `width` mm."""
        self.set_font_size(size)
        needed = self.get_string_width(text) + 2 * self.c_margin
        if needed <= width:
            return size
        return max(smallest, size * width / needed)

    def line_at(self, x: float, y: float, width: float, text: str, size: float, *, align: str = "L",
                height: float | None = None, smallest: float = 5.0) -> float:
        """Write `text` on one line at (x, y), shrunk to fit `width`; return the y below it."""
        self.set_font_size(self.fit_size(text, width, size, smallest))
        h = height or self.font_size * 1.3
        self.set_xy(x, y)
        self.cell(width, h, text, align=align)
        return y + h

    def box_at(self, x: float, y: float, width: float, height: float, text: str, size: float, *,
               align: str = "L", smallest: float = 5.0) -> float:
        """Write `text` wrapped into a box of `width` x `height` mm, shrinking the font until it
        fits (never below `smallest` points); return the y below the text."""
        while True:
            self.set_font_size(size)
            leading = self.font_size * 1.25
            lines = self.wrap(text, width)
            if len(lines) * leading <= height or size <= smallest:
                break
            size = max(smallest, size * 0.9)
        for line in lines:
            self.set_xy(x, y)
            self.cell(width, leading, line, align=align)
            y += leading
        self.set_xy(x, y)
        return y

    def wrap(self, text: str, width: float) -> list[str]:
        """`text` in lines that fit `width` mm at the current font size: broken after the last
        space that fits, else between any two characters (Chinese has no spaces between words).

        One pass over the characters with the font's widths; fpdf2's multi_cell measures each
        line again for every character added, which made it most of a label's drawing time."""
        widths = self.current_font.cw
        scale = self.font_size / 1000
        room = width - 2 * self.c_margin
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line, used, space = "", 0.0, -1
            for char in paragraph:
                char_w = widths[ord(char)] * scale
                if line and used + char_w > room:
                    if space >= len(line) // 2:  # a space late in the line: break there
                        lines.append(line[:space])
                        line = line[space + 1:]
                    else:
                        lines.append(line)
                        line = ""
                    used = sum(widths[ord(c)] for c in line) * scale
                    space = line.rfind(" ")
                if char == " " and not line:
                    continue
                line += char
                used += char_w
                if char == " ":
                    space = len(line) - 1
            lines.append(line)
        return lines

    def paragraph(self, text: str, size: float, *, indent: float = 0.0, leading: float = 1.3) -> None:
        """Write `text` wrapped between the margins (less `indent`) from the current height,
        left-aligned, running on to a new page when it reaches the bottom."""
        self.set_font_size(size)
        width = self.w - self.l_margin - self.r_margin - indent
        for line in self.wrap(text, width):
            self.set_x(self.l_margin + indent)
            self.cell(width, self.font_size * leading, line, new_x="LMARGIN", new_y="NEXT")

    def rule(self, y: float, *, width: float = 0.3) -> None:
        """A horizontal line across the page between the margins at height `y`."""
        self.set_line_width(width)
        self.line(self.l_margin, y, self.w - self.r_margin, y)


def new_document(font: CjkFont, page: tuple[float, float], *, title: str, author: str,
                 margin: float = 3.0) -> Document:
    """A Document with its metadata set: title, author (the shop), creator, language, and the
    creation time from the shop's clock (whole seconds, in the shop's zone)."""
    doc = Document(font, page, margin=margin)
    doc.set_title(title)
    doc.set_author(author)
    doc.set_subject(title)
    doc.set_creator(t("documents.creator"))
    doc.set_lang("zh-CN" if current_lang() == "zh" else "en")
    doc.set_creation_date(created_now())
    return doc


def created_now() -> datetime:
    """The creation time written into documents: the shop's clock, whole seconds, zone-aware."""
    return clock.now().replace(microsecond=0, tzinfo=clock.shop_zone())


@cache
def _parsed(font: CjkFont) -> TTFFont:
    """The font as fpdf2 parses it (its cmap and widths: most of add_font's time), once per process."""
    probe = FPDF(unit="mm")
    probe.add_font(FAMILY, fname=str(font.path), collection_font_number=font.index)
    return probe.fonts[FAMILY]


def _add_cjk_font(doc: FPDF, font: CjkFont) -> None:
    """Add the font to `doc` from the parsed copy kept for the process.

    fpdf2 parses a font afresh in every add_font (about 0.2 s for Noto Sans CJK) and subsets
    the parsed font in place when it writes the file, so one parsed font cannot serve two
    documents. The parsed tables that writing does not change (character map, widths, glyph
    ids, descriptor) are shared; each document gets its own lazily opened font file and its
    own subset. Should a later fpdf2 change those internals, add_font is used as before.
    """
    from fontTools.ttLib import TTFont

    template = _parsed(font)
    try:
        clone = copy.copy(template)
        clone.i = len(doc.fonts) + 1
        # Not recomputing the bounding boxes of the subset's glyphs on writing saves a third of
        # the writing time; the font's own (larger) box stays valid for the subset.
        clone.ttfont = TTFont(str(font.path), recalcTimestamp=False, recalcBBoxes=False,
                              fontNumber=font.index, lazy=True)
        clone.missing_glyphs = []
        clone.biggest_size_pt = 0
        clone._hbfont = None
        clone.subset = SubsetMap(clone)
        if clone.color_font is not None:  # colour fonts keep a reference to their document
            raise AttributeError("color font")
    except (AttributeError, TypeError):
        doc.add_font(FAMILY, fname=str(font.path), collection_font_number=font.index)
        return
    doc.fonts[FAMILY] = clone
    if clone.is_cff and clone.is_cid_keyed:
        doc._set_min_pdf_version("1.6")

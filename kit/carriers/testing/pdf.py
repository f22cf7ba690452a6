"""Reading a label PDF's page sizes with the standard library: the conformance kit needs only
the MediaBox of each page, not a PDF library."""

from __future__ import annotations

import contextlib
import re
import zlib

_BOX = re.compile(rb"/MediaBox\s*\[\s*([-+0-9.\s]+?)\s*\]")
_STREAM = re.compile(rb"(?<!end)stream\r?\n(.*?)endstream", re.DOTALL)


def pdf_page_sizes_mm(pdf: bytes) -> tuple[int, list[tuple[float, float]], bool]:
    """Pages, MediaBox sizes (width, height in mm) and whether a page is turned 90°, from PDF bytes.

    Looks in the file and in its Flate-compressed streams (object streams hold page
    dictionaries in newer PDFs); a MediaBox given by reference is not followed."""
    chunks = [pdf]
    for match in _STREAM.finditer(pdf):
        with contextlib.suppress(zlib.error):  # not Flate: an image, or plain content
            chunks.append(zlib.decompressobj().decompress(match.group(1)))
    text = b"\n".join(chunks)
    boxes = []
    for match in _BOX.finditer(text):
        x0, y0, x1, y1 = (float(v) for v in match.group(1).split())
        boxes.append((abs(x1 - x0) * 25.4 / 72, abs(y1 - y0) * 25.4 / 72))
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", text))
    turned = bool(re.search(rb"/Rotate\s+-?(90|270)\b", text))
    return pages, boxes, turned

"""What the widget tests of the desks share: whether a widget is shown, and about how wide a grid
header draws its label (so that no Chinese header is cut off)."""

from __future__ import annotations

from typing import Any


def visible(widget: Any) -> bool:
    """Whether a widget is shown (not display: none)."""
    return widget.layout.display != "none"


def header_px(label: str) -> int:
    """About how wide a grid header draws its label: 13 px a CJK character, 7 px other ones, and
    30 px for the padding and the header's filter icon."""
    return sum(13 if ord(c) > 0x2E80 else 7 for c in label) + 30

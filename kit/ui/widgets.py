"""Small widgets every desk shares: KPI tiles, a titled row of tiles, the message area.

CSS classes (stable, for browser tests): `kit-kpi` on every tile, `kit-kpi-value` on the
number inside it, `kit-kpi-row` on a row, `kit-message` on the message area with
`kit-message-error` / `kit-message-info` by level.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Any

import ipywidgets as widgets
from traitlets import Int, Unicode

from kit.i18n import t
from kit.models import Role
from kit.ui.session import ShopModel

__all__ = ["STYLE", "DeskHeader", "KpiGroup", "KpiTile", "MessageArea", "css_token"]

STYLE = """
<style>
.kit-status {
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
               "WenQuanYi Micro Hei", sans-serif;
  max-width: 1210px; padding: 12px 8px; color: #1f2937;
}
.kit-status .kit-header { align-items: center; justify-content: space-between;
  border-bottom: 1px solid #e5e7eb; padding-bottom: 10px; margin-bottom: 6px; }
.kit-status .kit-title { font-size: 22px; font-weight: 600; line-height: 1.4; }
.kit-status .kit-subtitle { font-size: 13px; color: #6b7280; line-height: 1.5; }
.kit-status .kit-updated { font-size: 13px; color: #6b7280; margin-right: 10px; }
.kit-status .kit-refresh { width: auto; min-width: 88px; }
.kit-status .kit-section-title { font-size: 15px; font-weight: 600; color: #374151;
  margin: 14px 0 6px; line-height: 1.5; }
.kit-status .kit-kpi-row { flex-flow: row wrap; }
.kit-status .widget-html.kit-kpi { width: 190px; height: auto; margin: 0 8px 8px 0;
  padding: 10px 14px; border: 1px solid #e5e7eb; border-radius: 8px; background: #ffffff;
  box-shadow: 0 1px 2px rgba(0, 0, 0, 0.05); box-sizing: border-box; }
.kit-status .kit-kpi .widget-html-content { line-height: normal; }
.kit-status .kit-kpi-value { font-size: 28px; font-weight: 600; line-height: 1.25;
  color: #111827; font-variant-numeric: tabular-nums; }
.kit-status .kit-kpi-label { font-size: 13px; color: #4b5563; line-height: 1.4;
  white-space: normal; }
.kit-status .kit-kpi-zero .kit-kpi-value { color: #b0b7c3; }
.kit-status .widget-html.kit-kpi-orders { background: #fff7ed; border-color: #fdba74; }
.kit-status .kit-kpi-orders .kit-kpi-value { color: #c2410c; }
.kit-status .widget-html.kit-message { width: auto; height: auto; margin: 6px 0; }
.kit-status .kit-message .widget-html-content { line-height: 1.5; }
.kit-status .kit-message-error .widget-html-content { background: #fef2f2;
  border: 1px solid #fecaca; color: #991b1b; padding: 8px 12px; border-radius: 6px; }
.kit-status .kit-message-info .widget-html-content { background: #eff6ff;
  border: 1px solid #bfdbfe; color: #1e3a8a; padding: 8px 12px; border-radius: 6px; }
</style>
"""


def css_token(code: str) -> str:
    """A state code made safe for use inside a CSS class name."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", code)


class KpiTile(widgets.HTML):
    """One count with its label, drawn as a tile with the CSS classes `kit-kpi` and its own."""

    label = Unicode("", help="what the number counts, in the staff's language")
    number = Int(None, allow_none=True, help="the count shown; None (a dash) when not read yet")

    def __init__(self, label: str, css_class: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("kit-kpi")
        self.add_class(css_class)
        self.label = label
        self.observe(self._draw, names=["label", "number"])
        self._draw()

    def _draw(self, _change: object = None) -> None:
        shown = "—" if self.number is None else f"{self.number:,}"
        self.value = (f'<div class="kit-kpi-value">{shown}</div>'
                      f'<div class="kit-kpi-label">{escape(self.label)}</div>')
        if not self.number:  # zero, or not read yet
            self.add_class("kit-kpi-zero")
        else:
            self.remove_class("kit-kpi-zero")


class KpiGroup(widgets.VBox):
    """A titled row of tiles, one per state in the order given; unknown states join at the end."""

    def __init__(self, title: str, css_prefix: str, labels: Mapping[str, str]) -> None:
        self.css_prefix = css_prefix
        self.tiles = {code: KpiTile(label, f"{css_prefix}-{css_token(code)}")
                      for code, label in labels.items()}
        self.row = widgets.Box(list(self.tiles.values()))
        self.row.add_class("kit-kpi-row")
        heading = widgets.HTML(f'<div class="kit-section-title">{escape(title)}</div>')
        super().__init__([heading, self.row])
        self.add_class("kit-kpi-group")

    def show(self, counts: Mapping[str, int] | None) -> None:
        """Set every tile from the counts (a state without one shows 0, a count of None a dash);
        None shows dashes everywhere."""
        for code in counts or {}:
            if code not in self.tiles:  # a state this kit's enums do not know: show its code
                self.tiles[code] = KpiTile(code, f"{self.css_prefix}-{css_token(code)}")
                self.row.children = (*self.row.children, self.tiles[code])
        for code, tile in self.tiles.items():
            value = None if counts is None else counts.get(code, 0)
            tile.number = None if value is None else int(value)  # None: nothing to count (a dash)


class MessageArea(widgets.HTML):
    """The sentence a view model has for the staff (a refusal, an error, a notice); hidden when empty."""

    def __init__(self, model: ShopModel) -> None:
        super().__init__()
        self.model = model
        self.add_class("kit-message")
        model.observe(self._draw, names=["message", "level"])
        self._draw()

    def _draw(self, _change: object = None) -> None:
        text, level = self.model.message, self.model.level
        self.value = f'<div role="status">{escape(text)}</div>' if text else ""
        self.layout.display = None if text else "none"
        for kind in ("error", "info"):
            if kind == level and text:
                self.add_class(f"kit-message-{kind}")
            else:
                self.remove_class(f"kit-message-{kind}")


class DeskHeader(widgets.HBox):
    """A desk's title line: its title and who acts on the left, its buttons on the right."""

    def __init__(self, title: str, buttons: list[widgets.Widget]) -> None:
        self.title = widgets.HTML(f'<div class="kit-title">{escape(title)}</div>')
        self.subtitle = widgets.HTML()
        self.subtitle.add_class("kit-subtitle")
        right = widgets.HBox(buttons, layout=widgets.Layout(align_items="center"))
        super().__init__([widgets.VBox([self.title, self.subtitle]), right])
        self.add_class("kit-header")

    def show(self, shop: Any, *notes: str) -> None:
        """The shop's name, who acts in which role, then any notes; empty without a shop."""
        if shop is None:
            self.subtitle.value = ""
            return
        parts = [shop.config.shop_name]
        if shop.actor is not None:
            who, role = shop.actor.display_name or shop.actor.name, Role(shop.actor.role).label
            # a display name that already says the role ("小林（物流员）") is not told it twice
            parts.append(who if role in who else t("ui.acting", actor=who, role=role))
        self.subtitle.value = "　".join(escape(p) for p in (*parts, *notes))

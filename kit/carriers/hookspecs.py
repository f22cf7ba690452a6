"""The hooks a carrier plugin may implement (pluggy project "kit"); each is documented in
docs/plugins.md and has a test. A plugin may accept fewer arguments than a spec names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("kit")
hookimpl = pluggy.HookimplMarker("kit")


@hookspec
def register_carriers(register: Callable[[Any], None], settings: dict[str, dict[str, str]]) -> None:
    """Register carrier adapters: register(adapter) once per code; `settings` holds the plugin's
    own kit.toml table [carriers.PLUGIN_NAME] (API address, credentials) that may switch an
    adapter on (built-ins get [carriers.CODE] of their codes)."""


@hookspec
def tracking_patterns(register: Callable[[Any], None]) -> None:
    """Register tracking-number patterns (kit.carriers.types.Pattern) with their examples."""


@hookspec
def rate_tables(register: Callable[[Any], None]) -> None:
    """Register contract rate tables (kit.carriers.rates.RateTable) for carriers and services."""


@hookspec
def adjust_quote(quote: Any, request: Any) -> Any:
    """Return a changed quote (margin, free shipping …) or None to leave it; applied in turn."""


@hookspec
def on_shipment_event(event: Any) -> None:
    """Told of every new tracking event (notify the buyer, write back to a platform …)."""


@hookspec
def send_notice(notice: Any) -> Any:
    """Send one buyer notice (S13) by SMS, e-mail or platform message: `notice` is a dict with
    notice_id, order_no, kind, lang, text, receiver_mobile, buyer_nick, platform. Return True
    when sent; None when this plugin does not send this kind (the next notifier is asked)."""

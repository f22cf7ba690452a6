"""What the kit does with plugins that misbehave, and what each hook does: a plugin that fails to
import, has a hook without a spec, raises or hangs is listed unavailable with its error while the
rest keep working; register_carriers, tracking_patterns, rate_tables, adjust_quote and
on_shipment_event each do what docs/plugins.md says."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from kit.carriers import (
    CarrierRegistry,
    CarrierUnavailable,
    Names,
    Pattern,
    Quote,
    QuoteRequest,
    TrackEvent,
    hookimpl,
    load,
)
from kit.carriers.manager import DEFAULT_PLUGINS
from kit.models import TrackingStatus

BEIJING = timezone(timedelta(hours=8))
PATTERN = Pattern("memory", "MX + 8 digits", r"MX\d{8}", valid=("MX00000001",), invalid=("MX1",))


class MemoryCarrier:
    """A carrier that only quotes: enough for the registry to hold and call."""

    code = "memory"
    name = Names("内存快递", "Memory Express")
    capabilities = frozenset({"quote"})

    def quote(self, request: QuoteRequest) -> Quote:
        """A flat 5 yuan."""
        return Quote(self.code, request.service, 500, 1000, "all")


class MemoryPlugin:
    """The plugin holding one adapter and the MX pattern."""

    def __init__(self, adapter: object) -> None:
        self.adapter = adapter

    @hookimpl
    def register_carriers(self, register):
        """Register the adapter."""
        register(self.adapter)

    @hookimpl
    def tracking_patterns(self, register):
        """Register the pattern."""
        register(PATTERN)


def registry_with(*plugins: tuple[object, str]) -> CarrierRegistry:
    """The built-in plugins and the given ones, collected as load() does."""
    registry = CarrierRegistry(timeout=0.3)
    for module in DEFAULT_PLUGINS:
        registry.add_module(module)
    for plugin, name in plugins:
        registry.add(plugin, name, "extra")
    registry.collect()
    return registry


class RaisingRegister:
    """Registers a carrier, then raises."""

    @hookimpl
    def register_carriers(self, register):
        """Register one carrier and fail."""
        register(MemoryCarrier())
        raise RuntimeError("vendor SDK missing")


class Unspecced:
    """A hook implementation whose name is no hook (a typo)."""

    @hookimpl
    def register_carrier(self, register):
        """Not a hook."""


def test_broken_plugins_are_listed_unavailable_and_the_builtins_keep_working():
    """Import error, unspecced hook, raising register_carriers: each listed with its error."""
    clean = set(load(entry_points_too=False).adapters)
    registry = CarrierRegistry(timeout=0.3)
    for module in DEFAULT_PLUGINS:
        registry.add_module(module)
    registry.add_module("no.such.module")
    registry.add(Unspecced(), "typo", "extra")
    registry.add(RaisingRegister(), "raising", "extra")
    registry.collect()

    unavailable = {r["plugin"]: r["error"] for r in registry.listing() if r["status"] == "unavailable"}
    assert set(unavailable) == {"no.such.module", "typo", "raising"}
    assert "ModuleNotFoundError" in unavailable["no.such.module"]
    assert "register_carrier" in unavailable["typo"]
    assert "vendor SDK missing" in unavailable["raising"]
    assert set(registry.adapters) == clean and "memory" not in registry.adapters


def test_a_hook_implementation_without_a_spec_is_rejected():
    """check_pending refuses a hookimpl that names no hook; the plugin is not kept registered."""
    registry = CarrierRegistry()
    plugin = Unspecced()

    info = registry.add(plugin, "typo", "extra")

    assert info.status == "unavailable"
    assert not registry.pm.is_registered(plugin)


def test_register_carriers_gets_its_own_settings_and_may_take_fewer_arguments():
    """register_carriers sees only the [carriers.NAME] table of its plugin's name; an
    implementation may leave the settings argument out."""
    seen = {}

    class WithSettings:
        @hookimpl
        def register_carriers(self, register, settings):
            seen.update(settings)

    class WithoutSettings:
        @hookimpl
        def register_carriers(self, register):
            register(MemoryCarrier())

    registry = CarrierRegistry({"memory": {"api_url": "http://127.0.0.1:9/"}, "other": {"api_key": "x"}})
    registry.add(WithSettings(), "memory", "extra")
    registry.add(WithoutSettings(), "b", "extra")
    registry.collect()

    assert seen == {"memory": {"api_url": "http://127.0.0.1:9/"}}
    assert registry.get("memory").name.en == "Memory Express"


def test_tracking_patterns_that_raises_takes_its_plugins_carriers_and_patterns_out():
    """A plugin whose tracking_patterns raises is unavailable; nothing it registered stays."""
    class Half(MemoryPlugin):
        @hookimpl
        def tracking_patterns(self, register):
            register(PATTERN)
            raise ValueError("bad pattern file")

    registry = registry_with((Half(MemoryCarrier()), "half"))

    assert registry.plugins["half"].status == "unavailable"
    assert "memory" not in registry.adapters
    assert [p for p in registry.patterns if p.carrier_code == "memory"] == []


def test_rate_tables_hook_hands_tables_to_the_registry():
    """Whatever rate_tables registers lands in registry.rate_tables, in plugin order."""
    table = object()

    class Tables:
        @hookimpl
        def rate_tables(self, register):
            register(table)

    registry = registry_with((Tables(), "tables"))

    assert registry.rate_tables[-1] is table


def test_rate_tables_of_a_plugin_that_raises_are_dropped():
    """A plugin that fails leaves none of its rate tables behind."""
    table = object()

    class Tables:
        @hookimpl
        def rate_tables(self, register):
            register(table)
            raise RuntimeError("second table unreadable")

    registry = registry_with((Tables(), "tables"))

    assert table not in registry.rate_tables


def test_a_second_plugin_under_a_taken_name_leaves_the_first_listed_ok():
    """Adding a plugin under a taken name is refused without hiding the first one."""
    registry = CarrierRegistry()
    registry.add(MemoryPlugin(MemoryCarrier()), "same", "extra")
    registry.add(Unspecced(), "same", "extra")
    registry.collect()

    assert registry.plugins["same"].status == "ok"


def test_a_hanging_adapter_method_is_cut_off_by_the_timeout():
    """A call that does not return within the timeout raises CarrierUnavailable (carriers.timeout)."""
    release = threading.Event()

    class Hanging(MemoryCarrier):
        def quote(self, request):
            release.wait(10)

    registry = registry_with((MemoryPlugin(Hanging()), "hanging"))
    started = time.monotonic()
    try:
        with pytest.raises(CarrierUnavailable) as raised:
            registry.call("memory", "quote", QuoteRequest(1000, "广东省"))
    finally:
        release.set()  # let the abandoned thread end
    assert raised.value.key == "carriers.timeout"
    assert time.monotonic() - started < 3


def test_adjust_quote_hooks_apply_in_turn_and_none_leaves_the_quote():
    """Each adjust_quote sees the previous one's result; returning None changes nothing."""
    class Margin:
        @hookimpl
        def adjust_quote(self, quote, request):
            return dataclasses.replace(quote, price_fen=quote.price_fen * 11 // 10)

    class FreeOverThreeKilos:
        @hookimpl
        def adjust_quote(self, quote, request):
            return dataclasses.replace(quote, price_fen=0) if request.weight_g > 3000 else None

    class QuoteOnly:  # a plugin may take fewer arguments than the spec names
        @hookimpl
        def adjust_quote(self, quote):
            return None

    registry = registry_with((Margin(), "margin"), (FreeOverThreeKilos(), "free"), (QuoteOnly(), "q"))
    quote = Quote("memory", "standard", 1000, 1000, "all")

    assert registry.adjust(quote, QuoteRequest(1000, "广东省")).price_fen == 1100
    assert registry.adjust(quote, QuoteRequest(4000, "广东省")).price_fen == 0


def test_adjust_quote_that_raises_or_returns_junk_is_skipped(caplog):
    """A failing adjust_quote is logged by plugin name; the others still adjust the quote."""
    class Broken:
        @hookimpl
        def adjust_quote(self, quote):
            raise RuntimeError("margin service down")

    class Junk:
        @hookimpl
        def adjust_quote(self, quote):
            return "12.00"

    class Discount:
        @hookimpl
        def adjust_quote(self, quote):
            return dataclasses.replace(quote, price_fen=quote.price_fen - 100)

    registry = registry_with((Broken(), "broken"), (Junk(), "junk"), (Discount(), "discount"))

    adjusted = registry.adjust(Quote("memory", "standard", 1000, 1000, "all"), QuoteRequest(1000, "广东省"))

    assert adjusted.price_fen == 900
    assert "broken" in caplog.text and "margin service down" in caplog.text and "junk" in caplog.text


def test_on_shipment_event_reaches_every_plugin_and_a_raising_one_is_reported():
    """notify() tells every plugin; one that raises is named with its error, the others still hear."""
    heard = []

    class Listener:
        def __init__(self, name):
            self.name = name

        @hookimpl
        def on_shipment_event(self, event):
            heard.append((self.name, event.tracking_no))

    class Broken:
        @hookimpl
        def on_shipment_event(self, event):
            raise ConnectionError("platform unreachable")

    registry = registry_with((Listener("a"), "a"), (Broken(), "broken"), (Listener("b"), "b"))
    event = TrackEvent("memory", "MX00000001", datetime(2025, 3, 1, tzinfo=BEIJING),
                       TrackingStatus.DELIVERED, "已签收")

    failed = registry.notify(event)

    assert sorted(heard) == [("a", "MX00000001"), ("b", "MX00000001")]
    assert failed == [("broken", "ConnectionError: platform unreachable")]

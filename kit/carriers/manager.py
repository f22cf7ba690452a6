"""Loading carrier plugins and calling them safely.

Built-in carriers are plugins too (DEFAULT_PLUGINS, datasette's pattern); installed ones
come from the entry-point group `kit.carriers`, limited by KIT_LOAD_PLUGINS (a comma list
of plugin names; empty loads none of the installed ones). A plugin that fails to import,
has a hook implementation without a spec, or raises while registering is listed with its
error and marked unavailable; the rest keep working. Calls into an adapter that hangs are
cut off after `carriers.timeout_seconds`.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from kit.carriers import hookspecs
from kit.carriers.types import CAPABILITIES, METHODS, Carrier, Pattern, Quote
from kit.errors import BadInput, ConfigError, Refused
from kit.i18n import t

log = logging.getLogger("kit.carriers")
CODE = re.compile(r"[a-z][a-z0-9_]*")  # ASCII only: codes go into URLs, file names, CSS classes
CHECKS = ("upu_s10",)  # check-digit rules kit.carriers.numbers knows
ENTRY_POINT_GROUP = "kit.carriers"
BUILTIN_CODES = frozenset(
    {"yto", "sf", "zto", "sto", "yunda", "jd", "ems", "jt", "deppon", "self", "none", "dropship"}
)
DEFAULT_PLUGINS = (
    "kit.carriers.builtin.express",  # yto, sf, zto, sto, yunda, jd, ems, jt, deppon
    "kit.carriers.builtin.special",  # self, none, dropship
    "kit.carriers.builtin.tables",  # the sample contract rate tables
)


class CarrierUnavailable(Refused):
    """A carrier (or one of its capabilities) cannot be used now."""


@dataclass
class PluginInfo:
    """One plugin: where it came from, whether it works, and if not, why."""

    name: str
    source: str  # "builtin" or the distribution that installed it
    status: str = "ok"  # ok | unavailable
    error: str | None = None
    carriers: list[str] = field(default_factory=list)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()[:300]


class CarrierRegistry:
    """The carriers the kit knows: adapters by code, their plugins, patterns and rate tables."""

    def __init__(self, settings: dict[str, dict[str, str]] | None = None, timeout: float = 10.0) -> None:
        self.pm = pluggy.PluginManager("kit")
        self.pm.add_hookspecs(hookspecs)
        self.settings = settings or {}
        self.timeout = timeout
        self.plugins: dict[str, PluginInfo] = {}
        self.adapters: dict[str, Carrier] = {}
        self.owner: dict[str, str] = {}  # carrier code -> plugin name
        self.patterns: list[Pattern] = []
        self.rate_tables: list[Any] = []

    # --- loading -----------------------------------------------------------------------------

    def add(self, plugin: ModuleType | object, name: str, source: str) -> PluginInfo:
        """Register one plugin object, checking its hooks; a bad one is kept out and listed."""
        if name in self.plugins:  # the first keeps its name and its standing; this one is listed
            key = f"{name} ({source}, {len(self.plugins)})"
            info = PluginInfo(key, source, "unavailable", t("carriers.duplicate_plugin", name=name))
            self.plugins[key] = info
            return info
        info = PluginInfo(name, source)
        self.plugins[name] = info
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except Exception as exc:  # a plugin must never take the kit down: list it instead
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            info.status, info.error = "unavailable", _error_text(exc)
        return info

    def add_module(self, module: str, name: str | None = None, source: str = "builtin") -> PluginInfo:
        """Import a module by name and register it as a plugin."""
        try:
            loaded = importlib.import_module(module)
        except Exception as exc:
            info = PluginInfo(name or module, source, "unavailable", _error_text(exc))
            self.plugins[info.name] = info
            return info
        return self.add(loaded, name or module, source)

    def add_entry_points(self, allowed: set[str] | None = None) -> None:
        """Load the installed plugins of the `kit.carriers` group (only `allowed`, if given)."""
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                continue
            source = ep.dist.name if ep.dist is not None else "?"
            try:
                plugin = ep.load()
            except Exception as exc:
                self.plugins[ep.name] = PluginInfo(ep.name, source, "unavailable", _error_text(exc))
                continue
            self.add(plugin, ep.name, source)

    def collect(self) -> None:
        """Ask every plugin, one at a time, for its carriers, patterns and rate tables; a plugin
        that raises leaves nothing behind (none of what it registered before raising)."""
        for plugin_name, plugin in self.pm.list_name_plugin():
            info = self.plugins[plugin_name]
            patterns, tables = len(self.patterns), len(self.rate_tables)
            try:
                self._collect_from(plugin, plugin_name, info)
            except Exception as exc:
                info.status, info.error = "unavailable", _error_text(exc)
                for code in info.carriers:
                    self.adapters.pop(code, None)
                    self.owner.pop(code, None)
                del self.patterns[patterns:], self.rate_tables[tables:]
                info.carriers.clear()

    def _collect_from(self, plugin: Any, plugin_name: str, info: PluginInfo) -> None:
        def register_carrier(adapter: Carrier) -> None:
            check_adapter(adapter)
            if adapter.code in self.adapters:
                raise BadInput(
                    "carriers.duplicate_code",
                    code=adapter.code,
                    plugin=plugin_name,
                    other=self.owner[adapter.code],
                )
            self.adapters[adapter.code] = adapter
            self.owner[adapter.code] = plugin_name
            info.carriers.append(adapter.code)

        def register_pattern(pattern: Pattern) -> None:
            if pattern.check is not None and pattern.check not in CHECKS:
                raise BadInput(
                    "carriers.unknown_check", plugin=plugin_name, check=pattern.check, known=", ".join(CHECKS)
                )
            try:
                re.compile(pattern.regex)
            except re.error as exc:
                raise BadInput(
                    "carriers.bad_regex", plugin=plugin_name, pattern=pattern.name, detail=str(exc)
                ) from None
            self.patterns.append(pattern)

        calls: list[tuple[str, dict[str, Any]]] = [
            (
                "register_carriers",
                {"register": register_carrier, "settings": self._settings_for(plugin_name, info.source)},
            ),
            ("tracking_patterns", {"register": register_pattern}),
            ("rate_tables", {"register": self.rate_tables.append}),
        ]
        for hook_name, kwargs in calls:
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is plugin:
                    impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})

    def _settings_for(self, plugin_name: str, source: str) -> dict[str, dict[str, str]]:
        """A plugin sees only its own [carriers.NAME] table (named after its entry point); the
        built-in plugins see the tables of the built-in carrier codes. No plugin reads
        another carrier's credentials."""
        if source == "builtin":
            return {k: v for k, v in self.settings.items() if k in BUILTIN_CODES}
        return {k: v for k, v in self.settings.items() if k == plugin_name}

    # --- using -------------------------------------------------------------------------------

    def get(self, code: str) -> Carrier:
        """The adapter of a carrier code; BadInput naming the known codes when there is none."""
        code = code.strip().lower()
        if code not in self.adapters:
            raise BadInput("carriers.unknown_code", code=code, known=", ".join(sorted(self.adapters)))
        return self.adapters[code]

    def call(self, code: str, capability: str, *args: Any, **kwargs: Any) -> Any:
        """Call an adapter's method for `capability`, cut off after the timeout."""
        adapter = self.get(code)
        code = adapter.code
        if capability not in adapter.capabilities:
            raise CarrierUnavailable("carriers.not_capable", code=code, capability=capability)
        method: Callable[..., Any] = getattr(adapter, METHODS[capability])
        outcome: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

        def run() -> None:
            try:
                outcome.put((True, method(*args, **kwargs)))
            except BaseException as exc:  # handed to the caller's thread below
                outcome.put((False, exc))

        # A daemon thread: a call that hangs is abandoned and cannot keep the process alive.
        threading.Thread(target=run, name=f"carrier-{code}-{capability}", daemon=True).start()
        try:
            ok, value = outcome.get(timeout=self.timeout)
        except queue.Empty:
            raise CarrierUnavailable(
                "carriers.timeout", code=code, capability=capability, seconds=self.timeout
            ) from None
        if not ok:
            raise value
        return value

    def adjust(self, quote: Any, request: Any) -> Any:
        """Pass a quote through every plugin's adjust_quote in turn; a plugin that raises or
        returns something that is not a Quote is skipped and logged, never breaks quoting."""
        for impl in self.pm.hook.adjust_quote.get_hookimpls():  # in the order plugins were added
            try:
                changed = impl.function(
                    **{k: v for k, v in {"quote": quote, "request": request}.items() if k in impl.argnames}
                )
            except Exception as exc:
                log.warning("adjust_quote of plugin %s failed: %s", impl.plugin_name, _error_text(exc))
                continue
            if changed is None:
                continue
            if not isinstance(changed, Quote) or changed.price_fen < 0:
                log.warning(
                    "adjust_quote of plugin %s returned %r, not a Quote: ignored",
                    impl.plugin_name,
                    type(changed).__name__,
                )
                continue
            quote = changed
        return quote

    def notify(self, event: Any) -> list[tuple[str, str]]:
        """Tell every plugin of a tracking event; return (plugin, error) for those that failed."""
        failed = []
        for impl in self.pm.hook.on_shipment_event.get_hookimpls():
            try:
                impl.function(**({"event": event} if "event" in impl.argnames else {}))
            except Exception as exc:
                failed.append((impl.plugin_name, _error_text(exc)))
        return failed

    def send_notice(self, notice: dict[str, Any]) -> tuple[str | None, list[tuple[str, str]]]:
        """Offer a buyer notice to the notifier plugins in turn: (the plugin that sent it or None,
        [(plugin, error)] of those that raised)."""
        failed = []
        for impl in self.pm.hook.send_notice.get_hookimpls():  # in registration order
            try:
                if impl.function(**({"notice": notice} if "notice" in impl.argnames else {})) is True:
                    return impl.plugin_name, failed
            except Exception as exc:
                failed.append((impl.plugin_name, _error_text(exc)))
        return None, failed

    @property
    def notifiers(self) -> list[str]:
        """The plugins that implement send_notice, in the order they are asked."""
        return [impl.plugin_name for impl in self.pm.hook.send_notice.get_hookimpls()]

    def listing(self) -> list[dict[str, Any]]:
        """One row per carrier and one per unavailable plugin: code, names, capabilities, plugin, status."""
        rows = [
            {
                "code": code,
                "name_zh": a.name.zh,
                "name_en": a.name.en,
                "capabilities": sorted(a.capabilities),
                "plugin": self.owner[code],
                "source": self.plugins[self.owner[code]].source,
                "status": "ok",
                "error": None,
            }
            for code, a in sorted(self.adapters.items())
        ]
        rows += [
            {
                "code": None,
                "name_zh": None,
                "name_en": None,
                "capabilities": [],
                "plugin": p.name,
                "source": p.source,
                "status": p.status,
                "error": p.error,
            }
            for p in self.plugins.values()
            if p.status != "ok"
        ]
        return rows


def check_adapter(adapter: Any) -> None:
    """Refuse an adapter without a code, names or capabilities, or missing a promised method."""
    code = getattr(adapter, "code", None)
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise BadInput("carriers.bad_code", code=repr(code))
    caps = getattr(adapter, "capabilities", None)
    if not isinstance(caps, frozenset | set):
        raise BadInput(
            "carriers.bad_capabilities", code=code, capabilities=repr(caps), known=", ".join(CAPABILITIES)
        )
    unknown = sorted(set(caps) - set(CAPABILITIES))
    if unknown:
        raise BadInput(
            "carriers.bad_capabilities",
            code=code,
            capabilities=", ".join(unknown) or repr(caps),
            known=", ".join(CAPABILITIES),
        )
    missing = [METHODS[c] for c in caps if not callable(getattr(adapter, METHODS[c], None))]
    if missing or not hasattr(adapter, "name"):
        raise BadInput("carriers.missing_methods", code=code, methods=", ".join(missing) or "name")


def allowed_plugins() -> set[str] | None:
    """KIT_LOAD_PLUGINS as a set of plugin names (unset: all installed; empty: none)."""
    value = os.environ.get("KIT_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def load(
    settings: dict[str, dict[str, str]] | None = None,
    *,
    timeout: float = 10.0,
    entry_points_too: bool = True,
    extra: tuple[tuple[object, str], ...] = (),
) -> CarrierRegistry:
    """The built-in carriers, the installed plugins KIT_LOAD_PLUGINS allows, and `extra` ones.

    `settings` are kit.toml's [carriers.NAME] tables; see `for_config` to take them, and the
    timeout, from a Config."""
    registry = CarrierRegistry(settings, timeout)
    for module in DEFAULT_PLUGINS:
        registry.add_module(module)
    if entry_points_too:
        registry.add_entry_points(allowed_plugins())
    for plugin, name in extra:
        registry.add(plugin, name, "extra")
    registry.collect()
    return registry


def for_config(config: Any, **kwargs: Any) -> CarrierRegistry:
    """load() with the settings and timeout of a kit Config; its default carrier must exist."""
    registry = load(config.carrier_settings, timeout=config.carrier_timeout, **kwargs)
    if config.default_carrier not in registry.adapters:
        raise ConfigError(
            "config.unknown_carrier",
            key="shipping.default_carrier",
            value=config.default_carrier,
            expected=", ".join(sorted(registry.adapters)),
        )
    return registry

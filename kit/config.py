"""kit.toml: the shop's settings, with documented defaults, validated at start.

A wrong key or value fails at once with the key, the value and what was expected, so a
typo never silently falls back to a default. Found at --config, else KIT_CONFIG, else
./kit.toml; without a file every default holds. kit.example.toml shows every key.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.deadlines.settings import DEFAULTS as DEADLINE_DEFAULTS
from kit.deadlines.settings import POLICIES as DEADLINE_POLICIES
from kit.deadlines.settings import (
    CalendarYear,
    DeadlineSettings,
    move_legacy_keys,
    read_calendar,
    read_deadlines,
)
from kit.errors import ConfigError
from kit.models import HUMAN_ROLES, Role, TrackingStatus, Warehouse, WarehouseKind

BUILTIN_CARRIERS = ("yto", "sf", "zto", "sto", "yunda", "jd", "ems", "jt", "deppon",
                    "self", "none", "dropship")
CARRIER_CODE = re.compile(r"[a-z][a-z0-9_]*")  # built-in or a plugin's; the registry checks it exists
PLATFORMS = ("taobao", "tmall", "mall", "other")


@dataclass(frozen=True)
class Setting:
    """One key of kit.toml: its type, default, allowed values and meaning."""

    kind: type
    default: Any
    doc: str
    choices: tuple[str, ...] | None = None
    item: type | None = None  # element type of a list


def _deadline(name: str, doc: str, **extra: Any) -> Setting:
    """A [deadlines] key, its default taken from kit.deadlines.settings."""
    default = DEADLINE_DEFAULTS[name]
    return Setting(type(default), default, doc, **extra)


_SENDER = {
    "name": Setting(str, "示例小店发货部", "sender name printed on waybills (S26b)"),
    "mobile": Setting(str, "", "sender mobile printed on waybills"),
    "province": Setting(str, "浙江省", "sender province"),
    "city": Setting(str, "杭州市", "sender city"),
    "district": Setting(str, "余杭区", "sender district"),
    "detail": Setting(str, "", "sender street address"),
    "postcode": Setting(str, "", "sender postcode"),
}
_WAREHOUSE = {
    "code": Setting(str, None, "short id, e.g. hq"),
    "name": Setting(str, None, "name staff know it by"),
    "kind": Setting(str, None, "hq, store or supplier (S17)", choices=tuple(WarehouseKind)),
    "province": Setting(str, None, "province it ships from"),
    "city": Setting(str, "", "city it ships from"),
    "serves": Setting(list, [], "provinces it serves best, nearest first", item=str),
}
SPEC: dict[str, dict[str, Any]] = {
    "shop": {
        "name": Setting(str, "示例小店", "the shop's name on documents"),
        "platform": Setting(str, "taobao", "where orders come from", choices=PLATFORMS),
        "local_user": Setting(str, "店长", "who acts when the dashboards run on localhost"),
        "sender": _SENDER,
    },
    "shipping": {
        "default_carrier": Setting(str, "yto", "carrier unless an order says otherwise (S5); a "
                                   "built-in code or an installed plugin's"),
        "platform_carrier_names": Setting(dict, {}, "carrier code → the name the platform's batch "
                                          "shipping file expects, where it differs from the kit's "
                                          "Chinese name (S9)"),
    },
    "packing": {  # kit.packing; S8, S25
        "tolerance_percent": Setting(int, 10, "a parcel weighing more than this many percent off "
                                     "its expected weight needs a person to accept it (S8)"),
        "tolerance_g": Setting(int, 50, "… and at least this many grams off (small parcels)"),
        "implausible_factor": Setting(int, 10, "a weight this many times off the expected one (or "
                                      "zero) is a typing or scale error: refused"),
        "max_parcel_g": Setting(int, 50_000, "no parcel weighs more than this (carriers' limit)"),
        "packaging_g": Setting(dict, {"fragile": 320, "jewellery": 150, "apparel": 60, "bags": 120,
                                      "shoes": 80, "liquids": 200, "home": 100, "electronics": 150,
                                      "food": 100},
                               "grams of packing material by SKU category, added to the items' "
                               "weight (S24c); a category not listed adds default_packaging_g"),
        "default_packaging_g": Setting(int, 100, "packing material of a category not listed"),
        "guides": Setting(dict, {"fragile": "fragile", "jewellery": "jewellery", "apparel": "soft",
                                 "bags": "soft", "shoes": "soft", "liquids": "liquids"},
                          "SKU category → packing guide (fragile, jewellery, soft, liquids; S25)"),
    },
    "documents": {  # kit.documents; S8, S14, S18, S22
        "font": Setting(str, "", "a TTF/OTF/TTC font with Chinese glyphs embedded in every PDF; "
                        "empty: the first found of Noto Sans CJK, Source Han Sans, WenQuanYi"),
        "label_size": Setting(str, "100x150", "waybill label size in mm",
                              choices=("76x130", "100x150", "100x180")),
        "mask_receiver_phone": Setting(bool, False, "print the receiver's phone as 138****5678"),
        "warranty_months": Setting(int, 12, "the warranty period printed on the warranty card (S18)"),
    },
    "review": {
        "gift_keywords": Setting(list, ["送礼", "送人", "礼物", "生日", "不要价格", "别放价格",
                                        "不放价格", "不要发票", "不放发票"],
                                 "words in a buyer message that mark a present (S26)", item=str),
        "merge_window_hours": Setting(int, 48, "open orders of one buyer to one address within "
                                      "this many hours are offered for merging (合单)"),
        "max_quantity": Setting(int, 50, "a line with more pieces than this is held for a look"),
        "amount_tolerance_fen": Setting(int, 1, "lines may differ from the payable amount by "
                                        "this many fen (rounding)"),
        "disabled_rules": Setting(list, [], "review rules switched off, by code", item=str),
    },
    "deadlines": {  # defaults in kit.deadlines.settings.DEFAULTS
        "policy": _deadline("policy", "ship-by rule: taobao (S1), tmall (S5b), mall (S19), working_hours",
                            choices=DEADLINE_POLICIES),
        "taobao_hours": _deadline("taobao_hours", "taobao: ship within this many hours of payment (S1)"),
        "tmall_cutoff": _deadline("tmall_cutoff", "tmall: paid before this HH:MM ships the same day (S5b)"),
        "mall_cutoff": _deadline("mall_cutoff", "mall: paid or COD-confirmed before this ships the same "
                                 "shipping day (S19)"),
        "mall_ship_by": _deadline("mall_ship_by", "mall: parcels leave before this time (S19)"),
        "shipping_weekdays": _deadline("shipping_weekdays", "mall: weekdays it ships, 1 = Monday (S19)",
                                       item=int),
        "within_working_hours": _deadline("within_working_hours", "working_hours: ship within this "
                                          "many working hours"),
        "workday_start": _deadline("workday_start", "working_hours: a working day starts at"),
        "workday_end": _deadline("workday_end", "working_hours: a working day ends at"),
        "working_weekdays": _deadline("working_weekdays", "working_hours: weekdays worked, 1 = Monday",
                                      item=int),
        "at_risk_hours": _deadline("at_risk_hours", "not packed this many hours before ship_by: at risk"),
        "confirm_by": _deadline("confirm_by", "shipments handed over are confirmed on the platform "
                                "before this (S9)"),
        "refund_after_hours": _deadline("refund_after_hours", "hours past ship_by until the buyer may "
                                        "ask for a refund (S2)"),
    },
    "allocation": {  # kit.allocation.AllocationPolicy; S17, S24b
        "strategy": Setting(str, "nearest", "nearest: the nearest warehouse holding the whole order "
                            "(S17); fewest_parcels: fewest warehouses per order",
                            choices=("nearest", "fewest_parcels")),
        "split": Setting(bool, True, "an order no single warehouse can ship is split over several "
                         "(S24b); false: it waits, backordered"),
        "dropship": Setting(bool, True, "SKUs a supplier holds are shipped by the supplier (S17)"),
        "batch_orders": Setting(int, 100_000, "orders per allocation transaction"),
    },
    "shortages": {  # kit.shortages; S7, S20
        "production_categories": Setting(list, [], "SKU categories the shop makes itself: their "
                                         "shortages go to production, all others to purchasing (S7)",
                                         item=str),
        "notify_within_hours": Setting(int, 24, "the buyer hears of a stockout within this many "
                                       "hours, Sundays and public holidays not counted (S20)"),
        "alternatives": Setting(int, 3, "in-stock alternatives offered in a stockout notice (S20)"),
        "price_band_percent": Setting(int, 20, "alternatives cost at most this many percent more or "
                                      "less than the missing item (S20)"),
    },
    "serve": {  # kit serve: where Voilà listens, who acts (kit.serve_identity, docs/serving.md)
        "identity_header": Setting(str, "", "the HTTP header a reverse proxy that signs staff in sets "
                                   "to the user's login (e.g. X-Remote-User); empty: kit serve stays "
                                   "on this machine (127.0.0.1) and acts as shop.local_user"),
        "identity_map": Setting(dict, {}, "login in that header → staff member's name; a login not "
                                "listed is taken as the staff member's name itself"),
        "preheat": Setting(bool, True, "local mode only: keep a started kernel ready per dashboard, "
                           "so a desk opens faster (never behind a proxy: it cannot see the header)"),
    },
    "tracking": {  # kit.tracking, kit track; S21, S4
        "not_picked_up_hours": Setting(int, 24, "handed to the courier this many hours ago and no "
                                       "scan beyond awaiting pickup: alert not_picked_up (S21)"),
        "stuck_days": Setting(int, 3, "a parcel on its way with no new scan for this many days: "
                              "alert stuck (S21)"),
        "auto_confirm_days": Setting(int, 10, "orders delivered this many days ago and not confirmed "
                                     "by the buyer are finished by `kit track --auto-confirm`, as the "
                                     "platform does (S4)"),
        "status_words": Setting(dict, {}, "a carrier's status text → the kit's tracking status "
                                "(picked_up, in_transit, delivered, …), for words the kit does not "
                                "know; unknown words are kept and counted"),
    },
    "intake": {
        "max_file_mb": Setting(int, 1024, "larger export files are refused: split them by date"),
    },
    "carriers": {
        "timeout_seconds": Setting(int, 10, "a carrier call that takes longer is cut off"),
        "rate_tables": Setting(str, "", "folder of the shop's contract rate tables (CSV or TOML), "
                               "relative to kit.toml's folder; empty: the sample tables the kit brings"),
        "weights": {
            "cost": Setting(float, 0.5, "weight of price when choosing a carrier (S15)"),
            "speed": Setting(float, 0.3, "weight of days in transit when choosing a carrier (S15)"),
            "reliability": Setting(float, 0.2, "weight of on-time and damage rates (S15)"),
        },
    },
}
DEFAULT_STAFF = {"店长": Role.SUPERVISOR}
PACKING_GUIDES = ("fragile", "jewellery", "soft", "liquids")  # S25


@dataclass(frozen=True)
class Sender:
    """The sender address set before the first shipment (S26b)."""

    name: str
    mobile: str
    province: str
    city: str
    district: str
    detail: str
    postcode: str


@dataclass(frozen=True)
class Config:
    """The validated settings of one shop."""

    shop_name: str = SPEC["shop"]["name"].default
    platform: str = SPEC["shop"]["platform"].default
    local_user: str = SPEC["shop"]["local_user"].default
    sender: Sender = field(default_factory=lambda: Sender(**{k: s.default for k, s in _SENDER.items()}))
    default_carrier: str = SPEC["shipping"]["default_carrier"].default
    gift_keywords: tuple[str, ...] = tuple(SPEC["review"]["gift_keywords"].default)
    merge_window_hours: int = SPEC["review"]["merge_window_hours"].default
    max_quantity: int = SPEC["review"]["max_quantity"].default
    amount_tolerance_fen: int = SPEC["review"]["amount_tolerance_fen"].default
    disabled_rules: tuple[str, ...] = ()
    max_file_mb: int = SPEC["intake"]["max_file_mb"].default
    mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    carrier_timeout: int = SPEC["carriers"]["timeout_seconds"].default
    rate_tables: str = SPEC["carriers"]["rate_tables"].default
    choice_weights: dict[str, float] = field(default_factory=lambda: {
        k: s.default for k, s in SPEC["carriers"]["weights"].items()})
    carrier_settings: dict[str, dict[str, str]] = field(default_factory=dict)
    warehouses: tuple[Warehouse, ...] = ()
    staff: dict[str, Role] = field(default_factory=lambda: dict(DEFAULT_STAFF))
    deadlines: DeadlineSettings = field(default_factory=DeadlineSettings)
    calendar: dict[int, CalendarYear] = field(default_factory=dict)  # [calendar.YYYY] tables
    allocation: dict[str, Any] = field(default_factory=lambda: {
        k: s.default for k, s in SPEC["allocation"].items()})
    shortages: dict[str, Any] = field(default_factory=lambda: {
        k: s.default for k, s in SPEC["shortages"].items()})
    platform_carrier_names: dict[str, str] = field(default_factory=dict)
    packing: dict[str, Any] = field(default_factory=lambda: {
        k: s.default for k, s in SPEC["packing"].items()})
    documents: dict[str, Any] = field(default_factory=lambda: {
        k: s.default for k, s in SPEC["documents"].items()})
    serve: dict[str, Any] = field(default_factory=lambda: {
        k: s.default for k, s in SPEC["serve"].items()})
    tracking: dict[str, Any] = field(default_factory=lambda: {
        k: s.default for k, s in SPEC["tracking"].items()})
    source: str | None = None

    @property
    def deadline_policy(self) -> str:
        """The ship-by policy's name (deadlines.policy; shop.deadline_policy is its old name)."""
        return self.deadlines.policy


def _type_name(kind: type, item: type | None = None) -> str:
    names = {str: "text", int: "integer", float: "number", bool: "true/false", list: "list",
             dict: "table"}
    return f"list of {names[item]}" if kind is list and item else names.get(kind, kind.__name__)


def _check(key: str, value: Any, setting: Setting) -> Any:
    if setting.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, setting.kind) or (setting.kind is int and isinstance(value, bool)):
        raise ConfigError("config.bad_type", key=key, value=repr(value),
                          expected=_type_name(setting.kind, setting.item))
    if setting.item is not None:
        for element in value:
            if not isinstance(element, setting.item):
                raise ConfigError("config.bad_type", key=key, value=repr(element),
                                  expected=_type_name(setting.kind, setting.item))
    if setting.choices is not None and value not in setting.choices:
        raise ConfigError("config.bad_choice", key=key, value=repr(value),
                          expected=", ".join(setting.choices))
    return value


def _section(prefix: str, data: Any, spec: dict[str, Any], required: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError("config.bad_type", key=prefix, value=repr(data), expected="table")
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise ConfigError("config.unknown_key", key=f"{prefix}.{unknown[0]}",
                          expected=", ".join(spec))
    out: dict[str, Any] = {}
    for name, setting in spec.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(setting, dict):
            out[name] = _section(key, data.get(name, {}), setting)
        elif name in data:
            out[name] = _check(key, data[name], setting)
        elif required and setting.default is None:
            raise ConfigError("config.missing_key", key=key, expected=setting.doc)
        else:
            out[name] = setting.default
    return out


def parse(data: dict[str, Any], source: str | None = None) -> Config:
    """Validate a parsed kit.toml and return the Config."""
    top = {**SPEC, "staff": None, "warehouses": None, "calendar": None}
    unknown = sorted(set(data) - set(top))
    if unknown:
        raise ConfigError("config.unknown_key", key=unknown[0], expected=", ".join(top))
    data = move_legacy_keys(data)
    intake = dict(data.get("intake", {})) if isinstance(data.get("intake", {}), dict) else {}
    mappings = _mappings(intake.pop("mappings", {}))
    carriers = dict(data.get("carriers", {})) if isinstance(data.get("carriers", {}), dict) else {}
    per_carrier = _carrier_settings({k: carriers.pop(k) for k in list(carriers)
                                     if k not in SPEC["carriers"]})
    values = _section("", {k: v for k, v in data.items() if k in SPEC}
                      | {"intake": intake, "carriers": carriers}, SPEC)
    staff_data = data.get("staff", {name: str(role) for name, role in DEFAULT_STAFF.items()})
    if not isinstance(staff_data, dict):
        raise ConfigError("config.bad_type", key="staff", value=repr(staff_data), expected="table")
    human = tuple(sorted(str(r) for r in HUMAN_ROLES))
    staff = {name: Role(_check(f"staff.{name}", role, Setting(str, None, "", choices=human)))
             for name, role in staff_data.items()}
    rows = data.get("warehouses", [])
    if not isinstance(rows, list):
        raise ConfigError("config.bad_type", key="warehouses", value=repr(rows),
                          expected="array of tables [[warehouses]]")
    warehouses = []
    for i, row in enumerate(rows):
        w = _section(f"warehouses[{i}]", row, _WAREHOUSE, required=True)
        warehouses.append(Warehouse(w["code"], w["name"], WarehouseKind(w["kind"]), w["province"],
                                    w["city"], tuple(w["serves"])))
    codes = [w.code for w in warehouses]
    if len(set(codes)) != len(codes):
        dup = next(c for c in codes if codes.count(c) > 1)
        raise ConfigError("config.duplicate", key="warehouses.code", value=dup)
    if not CARRIER_CODE.fullmatch(values["shipping"]["default_carrier"]):
        raise ConfigError("config.bad_choice", key="shipping.default_carrier",
                          value=repr(values["shipping"]["default_carrier"]),
                          expected=", ".join(BUILTIN_CARRIERS) + ", …")
    weights = values["carriers"]["weights"]
    if any(w < 0 for w in weights.values()) or not any(weights.values()):
        raise ConfigError("config.bad_weights", key="carriers.weights", value=repr(weights))
    shop, sender = values["shop"], values["shop"]["sender"]
    return Config(
        shop_name=shop["name"], platform=shop["platform"],
        local_user=shop["local_user"], sender=Sender(**sender),
        default_carrier=values["shipping"]["default_carrier"],
        gift_keywords=tuple(values["review"]["gift_keywords"]),
        merge_window_hours=values["review"]["merge_window_hours"],
        max_quantity=values["review"]["max_quantity"],
        amount_tolerance_fen=values["review"]["amount_tolerance_fen"],
        disabled_rules=tuple(values["review"]["disabled_rules"]),
        max_file_mb=values["intake"]["max_file_mb"], mappings=mappings,
        carrier_timeout=values["carriers"]["timeout_seconds"],
        rate_tables=values["carriers"]["rate_tables"],
        choice_weights=dict(values["carriers"]["weights"]), carrier_settings=per_carrier,
        warehouses=tuple(warehouses), staff=staff, deadlines=read_deadlines(values["deadlines"]),
        calendar=read_calendar(data.get("calendar", {})), source=source,
        allocation=_positive("allocation", values["allocation"], ("batch_orders",)),
        shortages=_positive("shortages", values["shortages"], ("notify_within_hours", "alternatives",
                                                               "price_band_percent")),
        platform_carrier_names=_text_table("shipping.platform_carrier_names",
                                           values["shipping"]["platform_carrier_names"]),
        packing=_packing(values["packing"]),
        documents=_positive("documents", values["documents"], ("warranty_months",)),
        serve=_serve(values["serve"]),
        tracking=_tracking(values["tracking"]),
    )


def _serve(values: dict[str, Any]) -> dict[str, Any]:
    """[serve]: a header name a proxy can set (letters, digits, "-"), logins mapped to names."""
    from kit.serve_identity import HEADER_NAME

    header = values["identity_header"].strip()
    if header and not HEADER_NAME.fullmatch(header):
        raise ConfigError("serve.bad_header", value=repr(values["identity_header"]))
    return {**values, "identity_header": header,
            "identity_map": _text_table("serve.identity_map", values["identity_map"])}


def _tracking(values: dict[str, Any]) -> dict[str, Any]:
    """[tracking]: positive hours and days; status words mapped to the kit's tracking statuses."""
    out = _positive("tracking", values, ("not_picked_up_hours", "stuck_days", "auto_confirm_days"))
    known = tuple(str(s) for s in TrackingStatus if s is not TrackingStatus.UNKNOWN)
    for word, status in values["status_words"].items():
        _check(f"tracking.status_words.{word}", status, Setting(str, None, "", choices=known))
    return {**out, "status_words": dict(values["status_words"])}


def _text_table(key: str, table: dict[str, Any]) -> dict[str, str]:
    """A table of text values (code → name), refusing anything else with the key."""
    for name, value in table.items():
        _check(f"{key}.{name}", value, Setting(str, None, ""))
    return dict(table)


def _packing(values: dict[str, Any]) -> dict[str, Any]:
    """[packing]: positive limits, grams per category, guides drawn from the four of S25."""
    out = _positive("packing", values, ("tolerance_percent", "implausible_factor", "max_parcel_g"))
    for category, grams in values["packaging_g"].items():
        if not isinstance(grams, int) or isinstance(grams, bool) or grams < 0:
            raise ConfigError("config.bad_type", key=f"packing.packaging_g.{category}", value=repr(grams),
                              expected="integer ≥ 0")
    for category, guide in values["guides"].items():
        _check(f"packing.guides.{category}", guide, Setting(str, None, "", choices=PACKING_GUIDES))
    return out


def _positive(prefix: str, values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The section's values, refusing a count or size below 1 with the key and the value."""
    for name in names:
        if values[name] < 1:
            raise ConfigError("config.bad_type", key=f"{prefix}.{name}", value=repr(values[name]),
                              expected="integer ≥ 1")
    return dict(values)


def _carrier_settings(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """[carriers.CODE] tables: settings an adapter reads (API address, credentials), as text."""
    out: dict[str, dict[str, str]] = {}
    for code, table in data.items():
        key = f"carriers.{code}"
        if not isinstance(table, dict):
            raise ConfigError("config.bad_type", key=key, value=repr(table), expected="table")
        for name, value in table.items():
            _check(f"{key}.{name}", value, Setting(str, None, ""))
        out[code] = dict(table)
    return out


def _mappings(data: Any) -> dict[str, dict[str, str]]:
    """[intake.mappings.NAME]: for each named mapping, canonical column -> header in the file."""
    from kit.intake.rows import LINE_COLUMNS, ORDER_COLUMNS  # the contract the readers fill

    known = [c for c in (*ORDER_COLUMNS, *LINE_COLUMNS) if c != "extra"]
    if not isinstance(data, dict):
        raise ConfigError("config.bad_type", key="intake.mappings", value=repr(data), expected="table")
    out: dict[str, dict[str, str]] = {}
    for name, mapping in data.items():
        key = f"intake.mappings.{name}"
        if not isinstance(mapping, dict):
            raise ConfigError("config.bad_type", key=key, value=repr(mapping), expected="table")
        for column, header in mapping.items():
            if column not in known:
                raise ConfigError("config.unknown_key", key=f"{key}.{column}", expected=", ".join(known))
            _check(f"{key}.{column}", header, Setting(str, None, ""))
        out[name] = dict(mapping)
    return out


def load(path: str | Path | None = None) -> Config:
    """Read and validate kit.toml from `path`, KIT_CONFIG or ./kit.toml; defaults without one."""
    explicit = path or os.environ.get("KIT_CONFIG")
    candidate = Path(explicit) if explicit else Path("kit.toml")
    if not candidate.exists():
        if explicit:
            raise ConfigError("config.file_missing", path=str(candidate))
        return Config()
    try:
        data = tomllib.loads(candidate.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config.bad_toml", path=str(candidate), detail=str(exc)) from None
    except UnicodeDecodeError:
        raise ConfigError("config.not_utf8", path=str(candidate)) from None
    return parse(data, source=str(candidate))

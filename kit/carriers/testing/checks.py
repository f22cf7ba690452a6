"""The conformance checks: each takes the carrier under test, raises AssertionError to fail and
NotApplicable to be skipped (a capability the adapter does not declare)."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import uuid
from collections.abc import Callable
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any

from kit.carriers.hookspecs import hookimpl
from kit.carriers.manager import DEFAULT_PLUGINS, ENTRY_POINT_GROUP, CarrierRegistry, check_adapter, load
from kit.carriers.numbers import normalise, pattern_matches
from kit.carriers.testing.capture import captured_output, secrets_of
from kit.carriers.testing.pdf import pdf_page_sizes_mm
from kit.carriers.types import (
    LABEL_SIZES,
    METHODS,
    Booking,
    BookingRequest,
    CancelResult,
    Names,
    Party,
    Pattern,
    Quote,
    QuoteRequest,
    TrackEvent,
    Verdict,
)
from kit.models import TrackingStatus

SAMPLE_BOOKING = BookingRequest(
    shipment_id=1, order_no="KIT-CONFORMANCE-1",
    sender=Party("发货仓", "13800138000", "浙江省", "杭州市", "余杭区", "文一西路 1 号"),
    receiver=Party("张三", "13900139000", "广东省", "深圳市", "南山区", "科技园南区 2 栋 301"),
    parcels=(1200, 800))
CODE = re.compile(r"[a-z][a-z0-9_]*")
ARGS = {  # placeholder arguments in the contract's shape, to check each method's signature
    "validate": ("EX1",), "quote": (None,), "book": (None, "key"), "label": (None, "100x150"),
    "track": (("EX1",),), "cancel": ("EX1",)}


class NotApplicable(Exception):
    """A check that does not apply to this adapter (a capability it does not declare)."""


@dataclasses.dataclass(frozen=True)
class ConformanceOptions:
    """What the checks feed the adapter and what they accept; every field has a default."""

    quote_requests: tuple[QuoteRequest, ...] = (
        QuoteRequest(1200, "广东省"),
        QuoteRequest(5300, "新疆维吾尔自治区", length_mm=600, width_mm=400, height_mm=400))
    booking: BookingRequest = SAMPLE_BOOKING
    track_numbers: tuple[str, ...] = ()  # numbers with events; default: those a booking returns
    cancel_number: str | None = None  # default: a number from a fresh booking
    label_shipment: Any = None  # what label() is given; default: the Booking that book() returned
    label_sizes: tuple[str, ...] | None = None  # default: adapter.label_sizes, else every size
    known_collisions: frozenset[str] = frozenset()  # built-in codes whose patterns may match yours
    timeout: float = 10.0  # seconds per call, as the kit's carriers.timeout_seconds


def _expect(ok: object, message: str) -> None:
    if not ok:
        raise AssertionError(message)


def plugin_of(adapter: object) -> object | None:
    """The module that defines the adapter's class, if it holds hook implementations."""
    module = sys.modules.get(type(adapter).__module__)
    hooks = [v for v in vars(module).values() if hasattr(v, "kit_impl")] if module else []
    return module if hooks else None


def plugin_name(plugin: object, code: str) -> tuple[str, str]:
    """The name and source the kit gives a plugin: from its entry point, or as a built-in."""
    module = getattr(plugin, "__name__", None)
    if module in DEFAULT_PLUGINS:
        return module, "builtin"
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if module is not None and ep.value == module:
            return ep.name, ep.dist.name if ep.dist is not None else "?"
    return code, "extra"


class _Single:
    """A plugin that registers one given adapter, so the kit's own registry can call it."""

    def __init__(self, adapter: object) -> None:
        self.adapter = adapter

    @hookimpl
    def register_carriers(self, register: Callable[[Any], None]) -> None:
        """Register the adapter under test."""
        register(self.adapter)


class CarrierUnderTest:
    """The adapter with its settings, plugin and options, called through the kit's own registry."""

    def __init__(self, adapter: Any, settings: dict[str, dict[str, str]] | None = None,
                 plugin: object | None = None, options: ConformanceOptions | None = None) -> None:
        self.adapter, self.settings, self.plugin = adapter, settings or {}, plugin
        self.options = options or ConformanceOptions()
        self.code: str = getattr(adapter, "code", "?")
        self.registry = CarrierRegistry(self.settings, self.options.timeout)
        self.registry.add(_Single(adapter), "conformance", "extra")
        self.registry.collect()

    def declares(self, capability: str) -> bool:
        """Whether the adapter declares the capability."""
        return capability in (getattr(self.adapter, "capabilities", None) or ())

    def need(self, capability: str) -> None:
        """Skip the check (NotApplicable) unless the adapter declares the capability."""
        if not self.declares(capability):
            raise NotApplicable(f"{self.code} does not declare {capability!r}")

    def call(self, capability: str, *args: Any) -> Any:
        """Call the capability's method as the kit does: through the registry, with the timeout."""
        return self.registry.call(self.code, capability, *args)

    def book(self) -> Booking:
        """A new booking of the sample shipment under a fresh idempotency key."""
        return self.call("book", self.options.booking, f"kit-conformance-{uuid.uuid4().hex}")

    @cached_property
    def booking(self) -> Booking:
        """One booking, made on first use, for the checks that need a tracking number."""
        return self.book()

    @property
    def label_sizes(self) -> tuple[str, ...]:
        """The label sizes to print: the options', else the adapter's label_sizes, else all."""
        return tuple(self.options.label_sizes or getattr(self.adapter, "label_sizes", None) or LABEL_SIZES)

    @cached_property
    def loaded_plugin(self) -> CarrierRegistry:
        """A registry holding only the author's plugin, named as the kit names it (so it gets its
        [carriers.NAME] settings): its entry point's name, a built-in's module, else the code."""
        registry = CarrierRegistry(self.settings, self.options.timeout)
        registry.add(self.plugin, *plugin_name(self.plugin, self.code))
        registry.collect()
        return registry

    @cached_property
    def patterns(self) -> list[Pattern]:
        """The tracking-number patterns the plugin registers for this carrier code."""
        if self.plugin is None:
            return []
        return [p for p in self.loaded_plugin.patterns if p.carrier_code == self.code]

    @cached_property
    def builtin(self) -> CarrierRegistry:
        """The kit's built-in carriers, without installed plugins."""
        return load(entry_points_too=False)


# --- the checks: each raises AssertionError to fail and NotApplicable to be skipped ---------------

def check_declaration(sut: CarrierUnderTest) -> None:
    """The adapter declares a lower-case code, zh and en names, and implements what it declares."""
    adapter = sut.adapter
    _expect(isinstance(sut.code, str) and CODE.fullmatch(sut.code),
            f"code must be lower-case ASCII letters, digits or _, got {sut.code!r}")
    check_adapter(adapter)  # the registry's own refusal, with its message
    name = getattr(adapter, "name", None)
    _expect(isinstance(name, Names) and name.zh.strip() and name.en.strip(),
            f"name must be Names(zh, en) with both filled, got {name!r}")
    _expect(isinstance(adapter.capabilities, frozenset),
            f"capabilities must be a frozenset, got {type(adapter.capabilities).__name__}")
    for capability in sorted(adapter.capabilities):
        method = getattr(adapter, METHODS[capability])
        try:
            inspect.signature(method).bind(*ARGS[capability])
        except TypeError as exc:
            raise AssertionError(f"{METHODS[capability]}{inspect.signature(method)} cannot take the "
                                 f"contract's arguments: {exc}") from None
    _expect(sut.code in sut.registry.adapters,
            f"the kit's registry refused the adapter: {sut.registry.plugins['conformance'].error}")


def check_plugin(sut: CarrierUnderTest) -> None:
    """The plugin loads cleanly: every hook has a spec, nothing raises, it registers this code."""
    if sut.plugin is None:
        raise NotApplicable("no plugin module: set the carrier_plugin fixture (or plugin=)")
    info = next(iter(sut.loaded_plugin.plugins.values()))
    _expect(info.status == "ok", f"the plugin is unavailable: {info.error}")
    _expect(sut.code in info.carriers,
            f"register_carriers did not register {sut.code!r} (it registered {info.carriers})")
    owner = sut.builtin.owner.get(sut.code)
    _expect(owner is None or sut.builtin.pm.get_plugin(owner) is sut.plugin,
            f"code {sut.code!r} already belongs to the built-in plugin {owner}")


def check_patterns(sut: CarrierUnderTest) -> None:
    """Tracking-number patterns compile, and their valid and invalid examples are as declared."""
    if not sut.patterns:
        raise NotApplicable(f"{sut.code} registers no tracking patterns")
    for p in sut.patterns:
        re.compile(p.regex)
        _expect(p.valid and p.invalid, f"pattern {p.name!r} needs valid and invalid examples")
        wrong = [n for n in p.valid if not pattern_matches(p, n)]
        _expect(not wrong, f"pattern {p.name!r}: valid examples not matching {p.regex!r}: {wrong}")
        wrong = [n for n in p.invalid if pattern_matches(p, n)]
        _expect(not wrong, f"pattern {p.name!r}: invalid examples matching {p.regex!r}: {wrong}")


def check_validate(sut: CarrierUnderTest) -> None:
    """validate_tracking_number answers with a normalised Verdict and a reason, as the examples say."""
    sut.need("validate")
    for probe in (" yt1234567890123 ", "not a number"):
        verdict = sut.call("validate", probe)
        _expect(isinstance(verdict, Verdict), f"validate({probe!r}) returned {verdict!r}, not a Verdict")
        _expect(verdict.carrier_code == sut.code and verdict.number == normalise(probe)
                and verdict.reason.strip(),
                f"validate({probe!r}) must name {sut.code}, give {normalise(probe)!r} and a reason: "
                f"{verdict}")
    for p in sut.patterns:
        for number in p.valid:
            verdict = sut.call("validate", f" {number.lower()} ")
            _expect(verdict.valid and verdict.number == normalise(number),
                    f"valid example {number!r} (lower case, spaces around) refused: {verdict}")
        for number in p.invalid:
            verdict = sut.call("validate", number)
            _expect(not verdict.valid, f"invalid example {number!r} accepted: {verdict}")


def _collisions(mine: list[Pattern], theirs: list[Pattern]) -> list[str]:
    found = []
    for a in mine:
        for b in theirs:
            hits = [n for n in a.valid if pattern_matches(b, n)]
            hits += [n for n in b.valid if pattern_matches(a, n)]
            if hits:
                found.append(f"{a.name!r} and {b.carrier_code} {b.name!r} both match {hits}")
    return found


def check_collisions(sut: CarrierUnderTest) -> None:
    """No built-in pattern of another plugin matches this carrier's examples (or the reverse),
    unless declared in ConformanceOptions.known_collisions; a plugin ranks its own by weight."""
    if not sut.patterns:
        raise NotApplicable(f"{sut.code} registers no tracking patterns")
    builtin = sut.builtin
    theirs = [p for p in builtin.patterns if p.carrier_code != sut.code
              and p.carrier_code not in sut.options.known_collisions
              and builtin.pm.get_plugin(builtin.owner.get(p.carrier_code, "")) is not sut.plugin]
    found = _collisions(sut.patterns, theirs)
    _expect(not found, "collisions with built-in patterns (declare them in "
            "ConformanceOptions.known_collisions if intended): " + "; ".join(found))


def _check_quote(sut: CarrierUnderTest, request: QuoteRequest) -> Quote:
    quote = sut.call("quote", request)
    _expect(isinstance(quote, Quote), f"quote returned {quote!r}, not a Quote")
    _expect(quote.carrier_code == sut.code and quote.service == request.service,
            f"quote for {request} names {quote.carrier_code}/{quote.service}")
    _expect(type(quote.price_fen) is int and quote.price_fen > 0,
            f"price_fen must be a positive int (fen: CNY with two decimals), got {quote.price_fen!r}")
    _expect(type(quote.chargeable_weight_g) is int and quote.chargeable_weight_g >= request.weight_g,
            f"chargeable weight {quote.chargeable_weight_g!r} g is below the parcel's {request.weight_g} g")
    _expect(quote.days is None or (type(quote.days) is int and quote.days >= 0), f"days {quote.days!r}")
    _expect(isinstance(quote.zone, str) and quote.zone.strip(), f"zone must be named: {quote.zone!r}")
    return quote


def check_quote(sut: CarrierUnderTest) -> None:
    """Quotes are positive whole fen (CNY), weight rounded up, and depend on chargeable weight only."""
    sut.need("quote")
    for request in sut.options.quote_requests:
        quote = _check_quote(sut, request)
        gram_more = _check_quote(sut, dataclasses.replace(request, weight_g=request.weight_g + 1))
        if gram_more.chargeable_weight_g == quote.chargeable_weight_g:
            _expect(gram_more.price_fen == quote.price_fen,
                    f"same chargeable weight, different price: {quote} vs {gram_more}")
        heavier = _check_quote(sut, dataclasses.replace(request, weight_g=request.weight_g * 3))
        _expect(heavier.price_fen >= quote.price_fen, f"a heavier parcel is cheaper: {heavier} < {quote}")


def check_book(sut: CarrierUnderTest) -> None:
    """Booking twice with one idempotency key gives the same result; another key a new booking."""
    sut.need("book")
    key = f"kit-conformance-{uuid.uuid4().hex}"
    first, again = sut.call("book", sut.options.booking, key), sut.call("book", sut.options.booking, key)
    _expect(isinstance(first, Booking), f"book returned {first!r}, not a Booking")
    _expect(first == again, f"same idempotency key, different bookings: {first} vs {again}")
    numbers = first.tracking_numbers
    _expect(first.carrier_code == sut.code and len(numbers) == len(sut.options.booking.parcels)
            and len(set(numbers)) == len(numbers) and all(isinstance(n, str) and n for n in numbers),
            f"expected one distinct tracking number per parcel ({len(sut.options.booking.parcels)}): {first}")
    if sut.declares("validate"):
        refused = [v for v in (sut.call("validate", n) for n in numbers) if not v.valid]
        _expect(not refused, f"booked numbers fail the adapter's own validation: {refused}")
    other = sut.book()
    _expect(set(other.tracking_numbers).isdisjoint(numbers),
            f"a different key returned the same tracking numbers: {other}")


def check_cancel(sut: CarrierUnderTest) -> None:
    """Cancelling a booking works, and cancelling it again still reports done."""
    sut.need("cancel")
    number = sut.options.cancel_number
    if number is None:
        if not sut.declares("book"):
            raise NotApplicable("nothing to cancel: declare 'book' or set ConformanceOptions.cancel_number")
        number = sut.book().tracking_numbers[0]
    for attempt in ("first", "repeated"):
        result = sut.call("cancel", number)
        _expect(isinstance(result, CancelResult), f"cancel returned {result!r}, not a CancelResult")
        _expect(result.done, f"{attempt} cancel of {number} not done: {result.reason!r}")


def check_track(sut: CarrierUnderTest) -> None:
    """Tracking gives TrackEvents: kit statuses, zone-aware times, in time order per number."""
    sut.need("track")
    numbers = sut.options.track_numbers
    if not numbers:
        if not sut.declares("book"):
            raise NotApplicable("no numbers to track: declare 'book' or set track_numbers")
        numbers = sut.booking.tracking_numbers
    events = list(sut.call("track", tuple(numbers)))
    _expect(events, f"track({numbers}) returned no event")
    wanted = {normalise(n) for n in numbers}
    for e in events:
        _expect(isinstance(e, TrackEvent), f"track returned {e!r}, not a TrackEvent")
        _expect(isinstance(e.status, TrackingStatus), f"status {e.status!r} is not a TrackingStatus")
        _expect(e.at.tzinfo is not None and e.at.utcoffset() is not None, f"naive time in {e}")
        _expect(e.carrier_code == sut.code and normalise(e.tracking_no) in wanted, f"foreign event {e}")
        _expect(isinstance(e.description, str) and e.description.strip(), f"no description in {e}")
    for number in wanted:
        times = [e.at for e in events if normalise(e.tracking_no) == number]
        _expect(times == sorted(times), f"events of {number} are not in time order: {times}")


def check_label(sut: CarrierUnderTest) -> None:
    """label() returns a PDF whose every page is the requested size, within 1 mm."""
    sut.need("label")
    sizes = sut.label_sizes
    unknown = [s for s in sizes if s not in LABEL_SIZES]
    _expect(not unknown, f"label sizes {unknown} are not among {sorted(LABEL_SIZES)}")
    shipment = sut.options.label_shipment
    if shipment is None:
        if not sut.declares("book"):
            raise NotApplicable("nothing to label: declare 'book' or set ConformanceOptions.label_shipment")
        shipment = sut.booking
    for size in sizes:
        pdf = sut.call("label", shipment, size)
        _expect(isinstance(pdf, bytes) and pdf.startswith(b"%PDF-"), f"label({size!r}) is not PDF bytes")
        pages, boxes, turned = pdf_page_sizes_mm(pdf)
        _expect(pages >= 1 and boxes, f"label({size!r}): no page with a MediaBox found")
        w, h = LABEL_SIZES[size]
        fits = [(w, h), (h, w)] if turned else [(w, h)]
        wrong = [(round(a, 1), round(b, 1)) for a, b in boxes
                 if not any(abs(a - fw) <= 1 and abs(b - fh) <= 1 for fw, fh in fits)]
        _expect(not wrong, f"label({size!r}) pages measure {wrong} mm, expected {w}x{h} mm (±1)")


def _exercise(sut: CarrierUnderTest) -> list[str]:
    """Call every declared capability once; the errors' texts (checked by the other checks)."""
    errors: list[str] = []

    def attempt(capability: str, *args: Any) -> Any:
        if not sut.declares(capability):
            return None
        try:
            return sut.call(capability, *args)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return None

    examples = [n for p in sut.patterns for n in p.valid]
    booking = attempt("book", sut.options.booking, f"kit-conformance-{uuid.uuid4().hex}")
    numbers = booking.tracking_numbers if isinstance(booking, Booking) else tuple(examples[:1])
    for number in numbers or examples[:1]:
        attempt("validate", number)
    if sut.options.quote_requests:
        attempt("quote", sut.options.quote_requests[0])
    if sut.options.label_shipment or booking:
        attempt("label", sut.options.label_shipment or booking, sut.label_sizes[0])
    attempt("track", tuple(sut.options.track_numbers or numbers))
    if numbers or sut.options.cancel_number:
        attempt("cancel", sut.options.cancel_number or numbers[0])
    return errors


def check_logs(sut: CarrierUnderTest) -> None:
    """Nothing logged or printed while working, nor the adapter's repr, shows a secret or a mobile."""
    with captured_output() as output:
        errors = _exercise(sut)
    text = "\n".join([output.getvalue(), repr(sut.adapter), *errors])
    party = (sut.options.booking.sender, sut.options.booking.receiver)
    phones = [re.sub(r"\D", "", x) for p in party for x in (p.mobile, p.phone) if x]
    leaked = [f"the value of setting {key}" for key, s in secrets_of(sut.settings).items() if s in text]
    leaked += [f"phone {p[:3]}****{p[-4:]}" for p in phones if len(p) >= 7 and p in text]
    _expect(not leaked, f"found in log output, stdout/stderr, errors or repr(adapter): {leaked}")


CHECKS: tuple[Callable[[CarrierUnderTest], None], ...] = (
    check_declaration, check_plugin, check_patterns, check_validate, check_collisions, check_quote,
    check_book, check_cancel, check_track, check_label, check_logs)

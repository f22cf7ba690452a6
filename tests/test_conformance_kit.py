"""The conformance kit itself: a carrier that keeps the contract passes every check, each way of
breaking it fails exactly its check, undeclared capabilities are skipped with the reason, label
sizes are read from plain and compressed PDFs, and an author's ConformanceTests subclass runs."""

from __future__ import annotations

import dataclasses
import logging
import re
import zlib
from datetime import datetime, timedelta, timezone

import pytest

from kit.carriers import (
    CAPABILITIES,
    Booking,
    CancelResult,
    Names,
    Pattern,
    Quote,
    QuoteRequest,
    TrackEvent,
    Verdict,
    hookimpl,
)
from kit.carriers.numbers import builtin_patterns, normalise
from kit.carriers.testing import ConformanceOptions, pdf_page_sizes_mm, run_conformance
from kit.carriers.types import LABEL_SIZES
from kit.models import TrackingStatus

pytest_plugins = ["pytester"]  # runs an author's test file, as they would
BEIJING = timezone(timedelta(hours=8))
PATTERN = Pattern("memory", "MX + 8 digits", r"MX\d{8}", valid=("MX00000001",), invalid=("MX1", "YX00000001"))


def minimal_pdf(width_mm: float, height_mm: float, *, compressed: bool = False, rotate: int = 0) -> bytes:
    """A one-page PDF of the given size; compressed puts the page in a Flate object stream."""
    w, h = width_mm * 72 / 25.4, height_mm * 72 / 25.4
    page = f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.2f} {h:.2f}] /Rotate {rotate} >>".encode()
    head = b"%PDF-1.5\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    pages = b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    if compressed:
        data = zlib.compress(b"3 0 " + page)
        body = (b"4 0 obj << /Type /ObjStm /N 1 /Filter /FlateDecode >>\nstream\n" + data
                + b"\nendstream endobj\n")
    else:
        body = b"3 0 obj " + page + b" endobj\n"
    return head + pages + body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


class MemoryCarrier:
    """A carrier with no API that keeps the contract: MX + 8 digits, a flat tariff, bookings in a dict."""

    code = "memory"
    name = Names("内存快递", "Memory Express")
    capabilities = frozenset(CAPABILITIES)
    label_sizes = ("100x150",)

    def __init__(self) -> None:
        self.bookings: dict[str, Booking] = {}
        self.issued = 0

    def validate_tracking_number(self, number: str) -> Verdict:
        """MX and 8 digits."""
        n = normalise(number)
        ok = re.fullmatch(PATTERN.regex, n) is not None
        return Verdict(ok, self.code, n, "fits MX + 8 digits" if ok else "expected MX + 8 digits")

    def quote(self, request: QuoteRequest) -> Quote:
        """5 yuan the first kg, 1 yuan each further started kg."""
        kilos = max(1, -(-request.weight_g // 1000))
        return Quote(self.code, request.service, 500 + 100 * (kilos - 1), kilos * 1000, "all", days=2)

    def book(self, request: object, idempotency_key: str) -> Booking:
        """One MX number per parcel; the same key gives the same booking."""
        if idempotency_key not in self.bookings:
            count = len(request.parcels)  # type: ignore[attr-defined]
            numbers = tuple(f"MX{self.issued + i + 1:08d}" for i in range(count))
            self.issued += count
            self.bookings[idempotency_key] = Booking(self.code, numbers, {})
        return self.bookings[idempotency_key]

    def label(self, shipment: Booking, size: str) -> bytes:
        """A blank page of the size asked for."""
        return minimal_pdf(*LABEL_SIZES[size])

    def track(self, numbers: tuple[str, ...]) -> list[TrackEvent]:
        """Two scans per number, oldest first."""
        at = datetime(2025, 3, 1, 9, 0, tzinfo=BEIJING)
        scans = ((0, TrackingStatus.PICKED_UP, "揽收"), (5, TrackingStatus.IN_TRANSIT, "运输中"))
        return [TrackEvent(self.code, n, at + timedelta(hours=h), status, text)
                for n in numbers for h, status, text in scans]

    def cancel(self, tracking_number: str) -> CancelResult:
        """Always done, however often."""
        return CancelResult(True)


class MemoryPlugin:
    """The plugin holding one adapter and the MX pattern (or others)."""

    def __init__(self, adapter: object, *patterns: Pattern) -> None:
        self.adapter, self.patterns = adapter, patterns or (PATTERN,)

    @hookimpl
    def register_carriers(self, register):
        """Register the adapter."""
        register(self.adapter)

    @hookimpl
    def tracking_patterns(self, register):
        """Register the patterns."""
        for pattern in self.patterns:
            register(pattern)


def failed_checks(adapter: MemoryCarrier, *patterns: Pattern, **kwargs) -> list[str]:
    """The names of the conformance checks the adapter fails."""
    report = run_conformance(adapter, plugin=MemoryPlugin(adapter, *patterns),
                             options=ConformanceOptions(timeout=5, **kwargs.pop("options", {})), **kwargs)
    return [o.check for o in report.failed]


def test_a_carrier_that_keeps_the_contract_passes_every_check():
    """The in-memory carrier passes all eleven checks, none skipped."""
    report = run_conformance(MemoryCarrier(), plugin=MemoryPlugin(MemoryCarrier()))

    assert report.failed == [] and report.skipped == [], str(report)


class NaiveTimes(MemoryCarrier):
    def track(self, numbers):
        return [dataclasses.replace(e, at=e.at.replace(tzinfo=None)) for e in super().track(numbers)]


class NewestFirst(MemoryCarrier):
    def track(self, numbers):
        return super().track(numbers)[::-1]


class Forgetful(MemoryCarrier):
    def book(self, request, idempotency_key):
        return super().book(request, f"{idempotency_key}-{self.issued}")


class CancelOnce(MemoryCarrier):
    def cancel(self, tracking_number):
        seen = getattr(self, "seen", set())
        self.seen = seen | {tracking_number}
        return CancelResult(tracking_number not in seen, "already cancelled")


class FloatPrice(MemoryCarrier):
    def quote(self, request):
        return dataclasses.replace(super().quote(request), price_fen=float(super().quote(request).price_fen))


class PricedByTheGram(MemoryCarrier):
    def quote(self, request):
        return dataclasses.replace(super().quote(request), price_fen=500 + request.weight_g)


class SquareLabel(MemoryCarrier):
    def label(self, shipment, size):
        return minimal_pdf(100, 100)


class Chatty(MemoryCarrier):
    def book(self, request, idempotency_key):
        logging.getLogger("memory.carrier").debug("booking for %s", request.receiver.mobile)
        return super().book(request, idempotency_key)


@pytest.mark.parametrize(("adapter", "check"), [
    (NaiveTimes, "track"), (NewestFirst, "track"), (Forgetful, "book"), (CancelOnce, "cancel"),
    (FloatPrice, "quote"), (PricedByTheGram, "quote"), (SquareLabel, "label"), (Chatty, "logs"),
], ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_each_broken_promise_fails_exactly_its_check(adapter, check):
    """One broken rule, one failed check, with the others still passing."""
    assert failed_checks(adapter()) == [check]


def test_a_secret_in_the_adapters_repr_fails_the_log_check():
    """A setting named like a key must not show in repr(adapter), which the kit may log."""
    class KeyInRepr(MemoryCarrier):
        def __repr__(self):
            return "MemoryCarrier(api_key='sk-live-5e1f')"

    assert failed_checks(KeyInRepr(), settings={"memory": {"api_key": "sk-live-5e1f"}}) == ["logs"]


def test_a_declared_capability_without_its_method_fails_the_declaration():
    """Declaring 'label' without a label() method is refused by the kit."""
    class NoLabel(MemoryCarrier):
        label = None

    assert "declaration" in failed_checks(NoLabel())


def test_wrong_pattern_examples_fail_the_pattern_check():
    """A valid example that does not match the regex is caught."""
    wrong = dataclasses.replace(PATTERN, valid=("MX123",))

    assert "patterns" in failed_checks(MemoryCarrier(), wrong)


def test_a_collision_with_a_builtin_pattern_fails_unless_declared():
    """A pattern that claims YTO's numbers collides, unless yto is a declared known collision."""
    class NoValidate(MemoryCarrier):
        capabilities = frozenset(CAPABILITIES) - {"validate"}

    yto = next(p for p in builtin_patterns() if p.carrier_code == "yto")
    mine = dataclasses.replace(yto, carrier_code="memory", name="YTO lookalike")

    assert failed_checks(NoValidate(), mine) == ["collisions"]
    assert failed_checks(NoValidate(), mine, options={"known_collisions": frozenset({"yto"})}) == []


def test_undeclared_capabilities_are_skipped_with_the_reason():
    """A carrier that only validates passes, and the other capabilities say why they were skipped."""
    class ValidateOnly(MemoryCarrier):
        capabilities = frozenset({"validate"})

    report = run_conformance(ValidateOnly(), plugin=MemoryPlugin(ValidateOnly()))

    assert report.failed == []
    assert {o.check: o.detail for o in report.skipped} == {
        c: f"memory does not declare {c!r}" for c in ("quote", "book", "cancel", "track", "label")}


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "object-stream"])
def test_label_page_sizes_are_read_from_plain_and_compressed_pdfs(compressed):
    """The MediaBox is found in a plain page object and in a Flate-compressed object stream."""
    pages, boxes, turned = pdf_page_sizes_mm(minimal_pdf(76, 130, compressed=compressed))

    assert (pages, turned) == (1, False)
    assert [(round(w), round(h)) for w, h in boxes] == [(76, 130)]


def test_a_turned_label_page_may_have_its_box_landscape():
    """A page with /Rotate 90 reads as turned, so width and height may be swapped."""
    assert pdf_page_sizes_mm(minimal_pdf(150, 100, rotate=90))[2] is True


CONFORMING_TEST_FILE = '''
import re
from kit.carriers import Names, Pattern, Verdict, hookimpl
from kit.carriers.numbers import normalise
from kit.carriers.testing import ConformanceTests
import pytest

class Tiny:
    code = "tiny"
    name = Names("小快递", "Tiny Express")
    capabilities = frozenset({"validate"})

    def validate_tracking_number(self, number):
        n = normalise(number)
        ok = re.fullmatch(r"TN\\d{6}", n) is not None
        return Verdict(ok, "tiny", n, "ok" if ok else "expected TN + 6 digits")

@hookimpl
def tracking_patterns(register):
    register(Pattern("tiny", "TN + 6 digits", r"TN\\d{6}", ("TN123456",), ("TN1",)))

@hookimpl
def register_carriers(register):
    register(Tiny())

@pytest.fixture
def carrier_adapter():
    return Tiny()

class TestTiny(ConformanceTests):
    """Tiny keeps the contract."""
'''


def test_conformance_tests_subclass_runs_every_check_as_a_pytest_test(pytester):
    """An author's `class TestX(ConformanceTests)` with a carrier_adapter fixture runs 11 tests."""
    pytester.makepyfile(test_tiny=CONFORMING_TEST_FILE)

    result = pytester.runpytest_subprocess("-p", "kit.carriers.testing", "-rs")

    result.assert_outcomes(passed=6, skipped=5)
    result.stdout.fnmatch_lines(["*tiny does not declare 'label'*"])

"""The carrier conformance kit: a pytest plugin, and run_conformance() for use without pytest.

A plugin author checks an adapter against the contract of docs/plugins.md:

    # tests/test_conformance.py
    import pytest
    from kit.carriers.testing import ConformanceTests

    @pytest.fixture
    def carrier_adapter(carrier_settings):
        return MyCarrier(carrier_settings["mine"])

    class TestMyCarrier(ConformanceTests):
        '''My carrier keeps the kit's carrier contract.'''

fahuo-kit registers this module with pytest (entry point `pytest11`); `-p kit.carriers.testing`
loads it explicitly. Optional fixtures: `carrier_settings` (the [carriers.CODE] tables, also
scanned for secrets), `carrier_server` (a fake API kept running during the checks),
`carrier_plugin` (the module with the hooks; default: the adapter's module) and
`carrier_options` (ConformanceOptions: sample requests, known pattern collisions, timeout).
A capability the adapter does not declare is skipped with the reason.

    checks.py    the checks, the carrier under test (called through the kit's registry), options
    pdf.py       a label PDF's page sizes, read with the standard library
    capture.py   what an adapter logs or prints, and the settings that are secrets
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from kit.carriers.testing.checks import (
    CHECKS,
    SAMPLE_BOOKING,
    CarrierUnderTest,
    ConformanceOptions,
    NotApplicable,
    plugin_of,
)
from kit.carriers.testing.pdf import pdf_page_sizes_mm

__all__ = [
    "SAMPLE_BOOKING",
    "ConformanceOptions",
    "ConformanceTests",
    "Report",
    "pdf_page_sizes_mm",
    "run_conformance",
]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One check's result: passed, failed or skipped, with the message or reason."""

    check: str
    status: str
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class Report:
    """What run_conformance found for one adapter."""

    carrier_code: str
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> list[Outcome]:
        """The checks that failed (empty when the adapter conforms)."""
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def skipped(self) -> list[Outcome]:
        """The checks that did not apply, with the reason."""
        return [o for o in self.outcomes if o.status == "skipped"]

    def __str__(self) -> str:
        lines = [f"{o.status:8} {o.check}" + (f": {o.detail}" if o.detail else "") for o in self.outcomes]
        return f"conformance of {self.carrier_code}:\n" + "\n".join(lines)


def run_conformance(adapter: Any, settings: dict[str, dict[str, str]] | None = None, *,
                    plugin: object | None = None, options: ConformanceOptions | None = None) -> Report:
    """Run every check against an adapter (plugin: the module with its hooks; default: its module)."""
    sut = CarrierUnderTest(adapter, settings, plugin if plugin is not None else plugin_of(adapter), options)
    outcomes = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            check(sut)
        except NotApplicable as skip:
            outcomes.append(Outcome(name, "skipped", str(skip)))
        except Exception as exc:
            outcomes.append(Outcome(name, "failed", f"{type(exc).__name__}: {exc}"))
        else:
            outcomes.append(Outcome(name, "passed"))
    return Report(sut.code, tuple(outcomes))


# --- the pytest plugin -----------------------------------------------------------------------

@pytest.fixture
def carrier_adapter() -> Any:
    """The adapter under test: override this fixture in your tests."""
    pytest.fail("define a carrier_adapter fixture that returns your adapter (see docs/plugins.md)",
                pytrace=False)


@pytest.fixture
def carrier_settings() -> dict[str, dict[str, str]]:
    """The [carriers.CODE] settings your adapter uses; override to give its API address and key."""
    return {}


@pytest.fixture
def carrier_server() -> Any:
    """A fake carrier API kept running while the checks run; override to start yours."""
    return None


@pytest.fixture
def carrier_plugin(carrier_adapter: Any) -> object | None:
    """The module (or object) holding your hook implementations; default: the adapter's module."""
    return plugin_of(carrier_adapter)


@pytest.fixture
def carrier_options() -> ConformanceOptions:
    """Sample requests, known pattern collisions and the call timeout for the checks."""
    return ConformanceOptions()


@pytest.fixture
def carrier_under_test(carrier_server: Any, carrier_adapter: Any, carrier_settings: dict[str, Any],
                       carrier_plugin: object | None,
                       carrier_options: ConformanceOptions) -> CarrierUnderTest:
    """The adapter wired into the kit's registry, as the conformance checks use it."""
    return CarrierUnderTest(carrier_adapter, carrier_settings, carrier_plugin, carrier_options)


class ConformanceTests:
    """Subclass as `class TestMyCarrier(ConformanceTests)` to run every conformance check as a test."""


def _as_test(check: Callable[[CarrierUnderTest], None]) -> Callable[..., None]:
    def test(self: ConformanceTests, carrier_under_test: CarrierUnderTest) -> None:
        try:
            check(carrier_under_test)
        except NotApplicable as skip:
            pytest.skip(str(skip))

    test.__name__ = test.__qualname__ = f"test_{check.__name__.removeprefix('check_')}"
    test.__doc__ = check.__doc__
    return test


for _check in CHECKS:
    setattr(ConformanceTests, _as_test(_check).__name__, _as_test(_check))

"""Example Express against Fahuo Kit's conformance kit, on a fake API at 127.0.0.1, plus the few
behaviours of its own that the kit cannot know about."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from kit_carrier_example import ExampleAPIError, ExampleCarrier
from kit_carrier_example.fake_server import FakeExampleAPI

import kit.carriers
from kit.carriers import QuoteRequest
from kit.carriers.testing import SAMPLE_BOOKING, ConformanceTests

API_KEY = "test-key-8f2c41"


@pytest.fixture(scope="module")
def carrier_server() -> Iterator[FakeExampleAPI]:
    """The fake carrier API, one per test module."""
    with FakeExampleAPI(api_key=API_KEY) as api:
        yield api


@pytest.fixture
def carrier_settings(carrier_server: FakeExampleAPI) -> dict[str, dict[str, str]]:
    """kit.toml's [carriers.example] pointing at the fake API; the kit checks the key never leaks."""
    return {"example": {"api_url": carrier_server.url, "api_key": API_KEY}}


@pytest.fixture
def carrier_adapter(carrier_settings: dict[str, dict[str, str]]) -> ExampleCarrier:
    """The adapter, built the way the plugin's register_carriers builds it."""
    return ExampleCarrier.from_settings(carrier_settings["example"])


class TestExampleCarrier(ConformanceTests):
    """Example Express keeps the kit's carrier contract (every check of kit.carriers.testing)."""


def test_installed_plugin_is_listed_with_its_distribution() -> None:
    """Installed, the package appears among the kit's carriers (what `kit carriers list` shows)."""
    rows = {row["code"]: row for row in kit.carriers.load().listing()}

    assert rows["example"]["source"] == "kit-carrier-example"
    assert rows["example"]["name_zh"] == "示例快递"


def test_without_settings_only_validation_is_offered() -> None:
    """No API address or key: the carrier still validates numbers, and declares nothing else."""
    registry = kit.carriers.load({})

    assert registry.get("example").capabilities == frozenset({"validate"})
    assert registry.call("example", "validate", "ex 0123456789").valid


def test_cancel_after_pickup_says_why_not(carrier_server: FakeExampleAPI,
                                          carrier_adapter: ExampleCarrier) -> None:
    """Once the courier has the parcel, cancelling is refused with a reason for staff."""
    number = carrier_adapter.book(SAMPLE_BOOKING, "pickup-then-cancel").tracking_numbers[0]
    carrier_server.pick_up(number)

    result = carrier_adapter.cancel(number)

    assert not result.done
    assert number in (result.reason or "")


def test_refused_key_is_an_error_that_does_not_show_the_key() -> None:
    """HTTP 401 from the API becomes ExampleAPIError; tested offline with httpx.MockTransport."""
    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "bad key"})

    adapter = ExampleCarrier("https://api.example-express.invalid/", "wrong-key-123",
                             transport=httpx.MockTransport(api))

    with pytest.raises(ExampleAPIError) as raised:
        adapter.quote(QuoteRequest(1000, "广东省"))
    assert "401" in str(raised.value)
    assert "wrong-key-123" not in str(raised.value)

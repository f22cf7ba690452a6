"""The example plugin package (examples/kit-carrier-example) installed as a third party's would
be: found through its entry point, shown by `kit carriers list`, hidden by KIT_LOAD_PLUGINS, and
passing the conformance kit against its fake API. Skipped when it is not installed; failing
instead when KIT_REQUIRE_EXAMPLE_PLUGIN=1 (CI installs it)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from importlib.metadata import entry_points
from types import ModuleType

import pytest
from click.testing import CliRunner
from conftest import skip_or_fail

from kit.carriers import QuoteRequest, load
from kit.carriers.testing import run_conformance
from kit.cli import cli

API_KEY = "example-test-key-7a1b"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    """The installed example plugin's module; skip (or fail) when it is not installed."""
    installed = [ep for ep in entry_points(group="kit.carriers") if ep.name == "example"]
    if importlib.util.find_spec("kit_carrier_example") is None or not installed:
        skip_or_fail("the example carrier plugin is not installed: "
                     "pip install -e examples/kit-carrier-example", "KIT_REQUIRE_EXAMPLE_PLUGIN")
    import kit_carrier_example

    return kit_carrier_example


@pytest.fixture(scope="module")
def fake_api(example: ModuleType) -> Iterator[object]:
    """The example's fake carrier API on 127.0.0.1."""
    from kit_carrier_example.fake_server import FakeExampleAPI

    with FakeExampleAPI(api_key=API_KEY) as api:
        yield api


@pytest.fixture
def settings(fake_api) -> dict[str, dict[str, str]]:
    """kit.toml's [carriers.example] pointing at the fake API."""
    return {"example": {"api_url": fake_api.url, "api_key": API_KEY}}


def carriers_list(*args: str) -> list[dict]:
    """The rows `kit carriers list --json` prints."""
    result = CliRunner().invoke(cli, ["carriers", "list", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["carriers"]


def test_kit_carriers_list_shows_the_installed_example(example, monkeypatch, tmp_path):
    """`kit carriers list` names the example carrier, its plugin and the distribution it came from."""
    monkeypatch.chdir(tmp_path)  # no kit.toml around: the plugin runs without settings

    rows = {row["code"]: row for row in carriers_list()}

    assert rows["example"] == {
        "code": "example", "name_zh": "示例快递", "name_en": "Example Express", "capabilities": ["validate"],
        "plugin": "example", "source": "kit-carrier-example", "status": "ok", "error": None}
    assert "yto" in rows


def test_empty_kit_load_plugins_hides_the_example_and_keeps_the_builtins(example, monkeypatch):
    """KIT_LOAD_PLUGINS="" loads no installed plugin; naming it loads it again."""
    monkeypatch.setenv("KIT_LOAD_PLUGINS", "")
    hidden = {row["code"] for row in load().listing()}
    monkeypatch.setenv("KIT_LOAD_PLUGINS", "example")
    named = {row["code"] for row in load().listing()}

    assert "example" not in hidden and "yto" in hidden
    assert named == hidden | {"example"}


def test_settings_switch_on_the_examples_api(example, settings):
    """With [carriers.example] the registry's example carrier quotes through its API."""
    registry = load(settings)

    quote = registry.call("example", "quote", QuoteRequest(1200, "广东省"))

    assert registry.get("example").capabilities == frozenset(
        {"validate", "quote", "book", "label", "track", "cancel"})
    assert (quote.carrier_code, quote.price_fen, quote.chargeable_weight_g) == ("example", 1800, 2000)


def test_the_example_passes_the_conformance_kit(example, settings):
    """Every conformance check passes against the fake API, none skipped."""
    adapter = load(settings).get("example")

    report = run_conformance(adapter, settings)

    assert report.failed == [] and report.skipped == [], str(report)

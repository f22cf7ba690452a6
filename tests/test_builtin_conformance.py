"""Every built-in carrier passes the conformance kit that third-party plugins run (and a
configured gateway carrier passes it with booking, cancelling and tracking too)."""

from __future__ import annotations

import pytest

import kit.carriers.builtin.express as express
import kit.carriers.builtin.special as special
from kit import carriers
from kit.carriers.testing import ConformanceOptions, run_conformance

REGISTRY = carriers.load(entry_points_too=False)


@pytest.mark.parametrize("code", sorted(REGISTRY.adapters))
def test_builtin_carrier_passes_the_conformance_kit(code):
    """A built-in adapter keeps every promise the kit asks of a plugin's adapter."""
    plugin = special if code in ("self", "none", "dropship") else express
    # Built-in formats overlap on purpose (bare digit runs); ranking handles that.
    options = ConformanceOptions(known_collisions=frozenset(REGISTRY.adapters) - {code})

    report = run_conformance(REGISTRY.get(code), {}, plugin=plugin, options=options)

    assert [(o.check, o.detail) for o in report.outcomes if o.status == "failed"] == []
    assert {o.check for o in report.outcomes if o.status == "passed"} >= {"declaration", "validate", "logs"}

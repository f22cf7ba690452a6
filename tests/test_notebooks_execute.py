"""Every dashboard notebook runs top to bottom in a real kernel without an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from orders_factory import make_orders

import kit

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"
NOTEBOOKS = sorted(DASHBOARDS.glob("*.ipynb"))


def execute(nb: nbformat.NotebookNode) -> None:
    """Run the notebook as Voilà does: a python3 kernel in the dashboards folder.

    The kernel inherits this process's environment, so KIT_DATABASE_URL set by the test
    reaches it the way `kit serve` hands it to Voilà's kernels.
    """
    client = NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(DASHBOARDS)}})
    client.execute()


def widget_states(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """The state of every widget the notebook left behind (stored by nbclient)."""
    stored = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return [model["state"] for model in stored.get("state", {}).values()]


def with_class(states: list[dict[str, Any]], css_class: str) -> list[dict[str, Any]]:
    """The widget states carrying one CSS class."""
    return [s for s in states if css_class in s.get("_dom_classes", ())]


def test_there_are_dashboards() -> None:
    """The dashboards folder holds at least the status page."""
    assert DASHBOARDS / "status.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_dashboard_executes_without_error(
    path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notebook runs against a small shop: no error output, no message shown."""
    with kit.connect(sqlite_url, actor="店长") as shop:
        shop.insert_orders(*make_orders(7), kind="test", source="test")
        shop.insert_orders(*make_orders(2, stage="held", start=8), kind="test", source="test")
    monkeypatch.setenv("KIT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("KIT_ACTOR", "店长")
    nb = nbformat.read(path, as_version=4)

    execute(nb)

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"] == []
    states = widget_states(nb)
    assert states, "the dashboard shows no widget"
    assert [s["value"] for s in with_class(states, "kit-message")] in ([], [""])


def test_status_dashboard_shows_the_counts(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a kernel, the status page's total tile shows the shop's order count."""
    with kit.connect(sqlite_url, actor="店长") as shop:
        shop.insert_orders(*make_orders(11), kind="test", source="test")
    monkeypatch.setenv("KIT_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("KIT_ACTOR", raising=False)  # nobody acting: counting needs no one
    nb = nbformat.read(DASHBOARDS / "status.ipynb", as_version=4)

    execute(nb)

    states = widget_states(nb)
    [orders] = with_class(states, "kit-kpi-orders")
    [new] = with_class(states, "kit-kpi-stage-new")
    assert '<div class="kit-kpi-value">11</div>' in orders["value"]
    assert '<div class="kit-kpi-value">11</div>' in new["value"]
    assert len(with_class(states, "kit-status")) == 1

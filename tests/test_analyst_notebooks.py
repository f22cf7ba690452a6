"""The analysts' notebooks (issue 7) run top to bottom on a demo shop of their own, without an
error, and show what they promise (S7, S12, S17, S20, S23)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run(name: str, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    """Execute notebooks/NAME in a python3 kernel in the notebooks folder, as an analyst would."""
    monkeypatch.delenv("KIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("KIT_ACTOR", raising=False)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[dict]:
    """Every output of every code cell."""
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def test_stock_check_notebook_runs_on_its_own_demo_shop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Levels, low stock, an empty ledger check, an allocation run, shortages and alternatives,
    then the stock desk itself: no error, no traceback, every frame shown."""
    nb = run("stock_check.ipynb", monkeypatch)
    shown = outputs(nb)
    assert not [o for o in shown if o.output_type == "error"]
    assert not [o for o in shown if o.output_type == "stream" and o.get("name") == "stderr"
                and "Traceback" in o.get("text", "")]
    html = "\n".join(o.get("data", {}).get("text/html", "")
                     for o in shown if o.output_type == "execute_result")
    assert "warehouse_code" in html and "available" in html  # the levels by warehouse
    assert "missing" in html and "to_source" in html  # the shortages per SKU
    assert "alt_sku" in html  # the alternatives
    widgets = [o for o in shown if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "the stock desk was not drawn"


def test_statistics_notebook_runs_on_its_own_demo_shop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The statistics table, the carriers' figures, after-sales, backorders, notices, the charts,
    the workbook and the shipping record, then the statistics wall (S22, S15, S20)."""
    nb = run("statistics.ipynb", monkeypatch)
    shown = outputs(nb)
    assert not [o for o in shown if o.output_type == "error"]
    html = "\n".join(o.get("data", {}).get("text/html", "")
                     for o in shown if o.output_type == "execute_result")
    assert "on_time_rate" in html and "hours_median" in html  # the shipping table
    assert "exception_rate" in html  # carriers' exceptions (S15)
    assert "refunded_fen" in html  # after-sales by reason
    text = "\n".join(o.get("text", "") for o in shown if o.output_type == "stream")
    assert "发货统计.xlsx" in text and "parcels handed over" in text
    widgets = [o for o in shown if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) >= 2, "the charts and the wall were not drawn"

"""The order review notebook (issue 7, 审单) runs top to bottom on a demo shop of its own, without
an error, and shows and does what it promises (S6, S10, S11, S16, S24a, S26): the import with its
quarantine, the held orders with every reason, approvals, a merge, a phone-confirmed COD order, the
day's reconciliation and the review desk."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import polars as pl
import pytest
import sqlalchemy as sa
from nbclient import NotebookClient

import kit
from kit.store import schema
from kit.store.frames import read_frame

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run(name: str, monkeypatch: pytest.MonkeyPatch, tmp: Path) -> nbformat.NotebookNode:
    """Execute notebooks/NAME in a python3 kernel in the notebooks folder, as an analyst would;
    the kernel's temporary folders (its demo shop, its export files) go under `tmp`."""
    monkeypatch.delenv("KIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("KIT_ACTOR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def cell_outputs(nb: nbformat.NotebookNode, starts: str) -> list[dict]:
    """The outputs of the one code cell whose source starts with `starts`."""
    [cell] = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(starts)]
    return list(cell.outputs)


def html(outputs: list[dict]) -> str:
    """The HTML of the cells' results (polars frames)."""
    return "\n".join(o.get("data", {}).get("text/html", "")
                     for o in outputs if o.output_type == "execute_result")


def frame_height(outputs: list[dict]) -> int:
    """The height of the polars frame a cell shows (from its `shape: (rows, columns)` line)."""
    [shape] = re.findall(r"shape: \((\d+), \d+\)", html(outputs))
    return int(shape)


def test_order_review_notebook_runs_on_its_own_demo_shop(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Import with quarantine, review, held orders with reasons, approve and hold, merge, COD call
    and confirmation, reconciliation, then the desk: no error, and the database shows the work."""
    nb = run("order_review.ipynb", monkeypatch, tmp_path)
    shown = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in shown if o.output_type == "error"]
    assert not [o for o in shown if o.output_type == "stream" and o.get("name") == "stderr"
                and "Traceback" in o.get("text", "")]

    imported = "".join(o["data"]["text/plain"] for o in cell_outputs(nb, "channel = "))
    assert "'balanced': True" in imported and "'quarantined': 2" in imported
    assert "'again': {'new': 0, 'updated': 0" in imported  # the same file twice: nothing new (S6)
    waiting = cell_outputs(nb, "waiting = quarantine.open_rows")
    assert frame_height(waiting) == 2 and "bad_address" in html(waiting) and "bad_amount" in html(waiting)
    held = cell_outputs(nb, "held = review.held_orders")
    assert frame_height(held) > 0 and "reasons" in html(held) and "有买家留言" in html(held)
    presents = cell_outputs(nb, 'held.filter(pl.col("no_price_slip"))')
    assert frame_height(presents) > 0 and "送朋友的生日礼物" in html(presents)  # S26
    assert frame_height(cell_outputs(nb, "calls = review.cod_call_list")) > 0
    widgets = [o for o in shown if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "the review desk was not drawn"

    [db] = list(tmp_path.rglob("demo.db"))
    with kit.connect(f"sqlite:///{db}", actor="店长") as shop:
        trail = shop.audit_trail("order")
        orders = shop.orders()
        with shop.store.read() as conn:
            counts = read_frame(conn, sa.select(schema.reconciliations))
    by_hand = trail.filter(pl.col("actor") == "客服小美")
    approved = by_hand.filter(pl.col("action") == "approve")["entity_id"].to_list()
    assert len(approved) == 5  # three whose message was read, then the merged pair
    assert set(orders.filter(pl.col("order_no").is_in(approved))["stage"]) == {"approved"}
    [phoned] = by_hand.filter(pl.col("action") == "hold")["entity_id"].to_list()
    [row] = orders.filter(pl.col("order_no") == phoned).to_dicts()
    assert row["stage"] == "held" and "买家来电" in row["hold_reasons"]
    [merged] = orders.filter(pl.col("merged_into").is_not_null()).to_dicts()
    assert merged["order_no"] in approved and merged["merged_into"] in approved
    [cod] = orders.filter(pl.col("phone_confirmed_by") == "客服小美").to_dicts()
    assert cod["payment_method"] == "cod" and cod["phone_confirmed"] and cod["stage"] == "approved"
    [count] = counts.to_dicts()
    assert (count["shop"], count["counted"] - count["imported"]) == ("示例天猫专卖店", 2)  # the 2 quarantined

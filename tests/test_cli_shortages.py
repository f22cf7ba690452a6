"""`kit shortages` and `kit outbox` on the command line (S7, S13, S20, S23): the same
services as kit.shortages and kit.outbox, as JSON, as a table for people, as a workbook;
queueing the stockout notices and marking them sent. The shop is test_shortages' (five
orders waiting for TEA-A, CUP-A, TOWEL-A and SOCK-A), allocated at a fixed Thursday 15:00."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result
from test_shortages import O1, O2, STAFF, STOCKOUT, WAITING, WAREHOUSES, build

import kit
from kit.cli import cli


def _toml_value(value: Any) -> str:
    """A string or a list of strings as TOML (JSON's quoting is TOML's for these)."""
    return json.dumps(value, ensure_ascii=False)


def kit_toml(path: Path) -> Path:
    """test_shortages' settings written as a kit.toml; the supervisor is the local user."""
    text = ['[shop]\nlocal_user = "店长"\n', "[staff]"]
    text += [f"{_toml_value(name)} = {_toml_value(role)}" for name, role in STAFF.items()]
    text += ['\n[shortages]\nproduction_categories = ["textile"]\n']
    for w in WAREHOUSES:
        text += ["[[warehouses]]", *(f"{k} = {_toml_value(v)}" for k, v in w.items()), ""]
    path.write_text("\n".join(text), "utf-8")
    return path


class FixedClock:
    """kit.clock.now() returns `now` until moved."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
        self.now = now
        monkeypatch.setattr(kit.clock, "now", lambda: self.now)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """The shop's clock, stopped at the stockout."""
    return FixedClock(monkeypatch, STOCKOUT)


@pytest.fixture
def common(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> list[str]:
    """--db and --config of the test shop, built and allocated."""
    build(sqlite_url)
    return ["--db", sqlite_url, "--config", str(kit_toml(tmp_path / "kit.toml"))]


def invoke(*args: str) -> Result:
    """Run kit with these arguments (stdout and stderr apart)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    """Run kit with --json; the exit code and the one JSON object on stdout."""
    result = invoke(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_shortages_json_per_sku_and_per_line_S7_S23(common):
    """S7/S23: --json gives one row per SKU (missing, orders, available, to_source, goes_to);
    --lines one row per waiting order line."""
    code, per_sku = run_json("shortages", *common)
    _, per_line = run_json("shortages", "--lines", *common)

    assert code == 0 and per_sku["ok"] is True
    rows = [(r["sku"], r["goes_to"], r["missing"], r["orders"], r["available"], r["to_source"])
            for r in per_sku["skus"]]
    assert rows == [("CUP-A", "purchasing", 3, 2, 0, 3), ("TEA-A", "purchasing", 3, 2, 3, 4),
                    ("TOWEL-A", "production", 2, 1, 1, 2), ("SOCK-A", "purchasing", 1, 1, 4, 0)]
    assert per_sku["skus"][0]["oldest_since"] == "2026-12-03T15:00:00"
    assert [(r["order_no"], r["sku"], r["missing"]) for r in per_line["lines"]][:3] == [
        (O1, "TEA-A", 1), (O1, "CUP-A", 1), (O2, "TEA-A", 2)]
    assert len(per_line["lines"]) == 6 and "skus" not in per_line


def test_shortages_xlsx_writes_the_workbook_S7(common, tmp_path):
    """S7: --xlsx FILE writes the workbook for purchasing and production and says so."""
    path = tmp_path / "缺货.xlsx"

    code, result = run_json("shortages", "--xlsx", str(path), *common)

    assert code == 0
    assert result["xlsx"] == {"path": str(path), "skus": 4, "lines": 6, "purchasing": 3, "production": 1}
    sheets = pl.read_excel(path, sheet_id=0, engine="calamine")
    assert list(sheets) == ["采购", "生产", "缺货明细"]
    assert sheets["生产"]["商家编码"].to_list() == ["TOWEL-A"]


def test_shortages_notify_queues_once_S20(common):
    """S20: --notify queues one notice per waiting order, due 24 hours (Sundays and
    holidays excluded) after the stockout; run again, it queues none."""
    code, first = run_json("shortages", "--notify", "--as", "客服小美", *common)
    _, second = run_json("shortages", "--notify", "--as", "客服小美", *common)

    assert code == 0
    assert sorted(n["order_no"] for n in first["notified"]) == WAITING
    assert {n["due_at"] for n in first["notified"]} == {"2026-12-04T15:00:00"}
    assert all("暂时缺货" in n["text"] for n in first["notified"])
    assert second["notified"] == []
    _, listed = run_json("outbox", *common)
    assert len(listed["notices"]) == 5 and {n["created_by"] for n in listed["notices"]} == {"客服小美"}


def test_analyst_cannot_notify_exit_1(common):
    """An analyst may read the shortages but not queue notices: refused, exit code 1."""
    code, error = run_json("shortages", "--notify", "--as", "分析师", *common)

    assert code == 1 and error["ok"] is False and error["error"] == "PermissionDenied"
    assert run_json("outbox", "--all", *common)[1]["notices"] == []


def test_outbox_sent_marks_once_then_skips_S13(common, clock):
    """S13: --sent ID marks a notice sent; the same again is skipped; an unknown id exits 2;
    --status and --all choose what is listed."""
    run_json("shortages", "--notify", *common)
    _, listed = run_json("outbox", *common)
    first = listed["notices"][0]["notice_id"]
    clock.now = datetime(2026, 12, 3, 16, 0)

    code, marked = run_json("outbox", "--sent", str(first), "--as", "客服小美", *common)
    _, again = run_json("outbox", "--sent", str(first), *common)
    bad_code, bad = run_json("outbox", "--sent", "999999", *common)

    assert code == 0 and marked == {"ok": True, "sent": [first], "skipped": []}
    assert again == {"ok": True, "sent": [], "skipped": [first]}
    assert bad_code == 2 and bad["key"] == "outbox.unknown_notice"
    _, sent = run_json("outbox", "--status", "sent", *common)
    assert [(n["notice_id"], n["sent_by"], n["sent_at"]) for n in sent["notices"]] == [
        (first, "客服小美", "2026-12-03T16:00:00")]
    assert len(run_json("outbox", *common)[1]["notices"]) == 4
    assert len(run_json("outbox", "--all", *common)[1]["notices"]) == 5


def test_shortages_for_people(common):
    """Without --json: a table per SKU on stdout (header, one row each), the count on
    stderr; --lines one sentence per line; --notify and --xlsx say what they did."""
    result = invoke("shortages", "--notify", *common)

    assert result.exit_code == 0
    out = result.stdout.splitlines()
    assert out[0].startswith("商家编码") and "需补" in out[0]
    assert [line.split()[0] for line in out[1:]] == ["CUP-A", "TEA-A", "TOWEL-A", "SOCK-A"]
    assert out[3].split()[:6] == ["TOWEL-A", "生产", "2", "1", "1", "2"]
    assert "共 4 个商品缺货，涉及 5 张订单。" in result.stderr
    assert "已排队 5 条缺货通知" in result.stderr

    lines = invoke("shortages", "--lines", *common)
    assert lines.stdout.splitlines()[0] == f"{O1} 第 1 行 TEA-A：要 3，缺 1（hq），自 12-03 15:00"
    assert len(lines.stdout.splitlines()) == 6


def test_outbox_for_people_shows_due_and_overdue(common, clock):
    """`kit outbox` lists each notice with its order, kind, due time and text; past due it
    is marked overdue; --sent says how many were marked and skipped."""
    invoke("shortages", "--notify", *common)
    clock.now = datetime(2026, 12, 8, 12, 30)

    result = invoke("outbox", *common)
    marked = invoke("outbox", "--sent", "1", "--sent", "2", *common)

    out = result.stdout.splitlines()
    assert out[0].startswith(f"#1  {O1}  缺货通知  截止 12-04 15:00") and "已超时" in out[0]
    assert out[1].strip().startswith(f"亲，您的订单 {O1}")
    assert len(out) == 10 and "共 5 条通知。" in result.stderr
    assert "已标记为已发送：2 条；跳过（已被别人发送或已撤回）：0 条。" in marked.stderr


def test_nothing_short_says_so(sqlite_url):
    """An empty shop: nothing is short, said on stderr, no table."""
    result = invoke("shortages", "--db", sqlite_url)

    assert result.exit_code == 0 and result.stdout == ""
    assert "没有缺货" in result.stderr


def test_in_english(common):
    """--lang en: the table's header and the counts in English."""
    result = invoke("--lang", "en", "shortages", *common)

    assert result.stdout.splitlines()[0].startswith("SKU")
    assert "4 SKUs short, 5 orders waiting." in result.stderr

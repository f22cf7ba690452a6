"""`kit stats` on the command line (S22, S15, S6, S9, S20): the statistics table on screen with
Chinese headers, one JSON object with --json (messages on stderr only), an Excel workbook
with --xlsx, CSV with --csv, the shipping record of one day with --record, and bad input
refused in words with exit code 2.

The shop is test_stats's (copied per test, on SQLite and PostgreSQL); the command object is
invoked directly (the lead registers it in kit.cli).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fulfil_fixtures import (
    clock_fixture,  # noqa: F401  (a fixture of this module)
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    kit_toml,
)
from test_stats import (
    O2,
    O3,
    built,  # noqa: F401  (test_stats's shop: a fixture of this module)
)

from kit.cli.stats import stats


def run(db_url: str, tmp_path: Path, *args: str) -> Any:
    """`kit stats` as the analyst on the test shop (stdout and stderr apart)."""
    toml = kit_toml(tmp_path / "kit.toml")
    return CliRunner().invoke(
        stats, ["--db", db_url, "--config", str(toml), "--as", "分析师", *args], catch_exceptions=False
    )


def test_table_on_screen_with_chinese_headers(db_url, clock, tmp_path):
    """S22: every view, aligned, headers in Chinese, rates in %, the totals line; notes on stderr."""
    result = run(db_url, tmp_path, "--from", "2026-12-01", "--to", "2026-12-03", "--by", "carrier")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "== 发货统计 ==" in out and "== 待发积压 ==" in out
    header = next(line for line in out.splitlines() if line.startswith("日期") and "快递公司" in line)
    assert "按时率" in header and "付款到发货小时（中位数）" in header
    zto = next(line for line in out.splitlines() if line.startswith("2026-12-02  zto"))
    assert "0.0%" in zto and "22.0" in zto
    assert "合计：发货 3 票，包裹 4 个" in out
    assert "没有本店的快递合同价目表" in result.stderr and "1 票没有称重记录" in result.stderr
    assert "nan" not in out.lower()


def test_json_is_one_object_with_every_view(db_url, clock, tmp_path):
    """--json: one object on stdout, the views' rows with stored codes, the window, the notes."""
    result = run(db_url, tmp_path, "--from", "2026-12-01", "--to", "2026-12-03", "--period", "week", "--json")

    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and (payload["from"], payload["to"], payload["period"]) == (
        "2026-12-01",
        "2026-12-03",
        "week",
    )
    assert payload["by"] == ["carrier_code", "warehouse_code"]
    shipping = payload["views"]["shipping"]
    assert [(r["period"], r["carrier_code"], r["warehouse_code"], r["shipments"]) for r in shipping] == [
        ("2026-11-30", "yto", "hq", 2),
        ("2026-11-30", "zto", "gz", 1),
    ]
    assert payload["views"]["summary"][0]["on_time_rate"] == pytest.approx(2 / 3)
    assert payload["views"]["after_sales"][0]["kind"] == "refund"
    assert len(result.stdout.strip().splitlines()) == 1


def test_xlsx_and_csv_files(db_url, clock, tmp_path):
    """--xlsx writes the workbook (sheets per view), --csv the chosen view with Chinese headers."""
    import openpyxl

    book, sheet = tmp_path / "统计.xlsx", tmp_path / "exceptions.csv"
    result = run(
        db_url,
        tmp_path,
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-03",
        "--xlsx",
        str(book),
        "--csv",
        str(sheet),
        "--view",
        "exceptions",
    )

    assert result.exit_code == 0
    assert "== 物流异常 ==" in result.stdout and "== 发货统计 ==" not in result.stdout
    assert openpyxl.load_workbook(book).sheetnames[:2] == ["汇总", "发货统计"]
    rows = list(csv.reader(sheet.open(encoding="utf-8-sig")))
    assert rows == [
        ["快递公司", "发货票数", "丢件", "破损", "地址错误", "拒收", "异常票数", "异常率"],
        ["yto", "2", "1", "0", "0", "0", "1", "50.0%"],
        ["zto", "1", "0", "1", "0", "0", "1", "100.0%"],
    ]
    assert f"已写入 {book}。" in result.stderr


def test_record_of_one_day_as_csv_and_json(db_url, clock, tmp_path):
    """S22: --record DAY --csv FILE: one row per parcel with order, items, carrier, number, weight, packer."""
    target = tmp_path / "record.csv"
    result = run(db_url, tmp_path, "--record", "2026-12-02", "--csv", str(target))
    as_json = run(db_url, tmp_path, "--record", "2026-12-02", "--json")

    assert result.exit_code == 0 and as_json.exit_code == 0
    rows = list(csv.reader(target.open(encoding="utf-8-sig")))
    assert rows[0][:5] == ["交给快递时间", "订单编号", "店铺", "发货单号", "商品"]
    assert [(r[1], r[4], r[6], r[9]) for r in rows[1:]] == [
        (O2, "双层玻璃杯×1", "zto", "-"),
        (O3, "明前龙井×1、羊毛袜×3", "yto", "0.5"),
    ]
    assert "2026-12-02 的发货记录：2 票。" in result.stderr
    payload = json.loads(as_json.stdout)
    assert [r["order_no"] for r in payload["record"]] == [O2, O3]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--from", "2026-12-05", "--to", "2026-12-01"), "晚于结束日期"),
        (("--from", "12月1日"), "看不懂"),
        (("--to", "2026-12-01"), "--from"),
        (("--from", "2026-12-01", "--by", "colour"), "不能按“colour”分组"),
        (("--from", "2026-12-01", "--view", "everything"), "没有“everything”这张表"),
        (("--record", "昨天"), "看不懂"),
    ],
)
def test_bad_input_is_refused_in_words_with_exit_code_2(db_url, clock, tmp_path, args, words):
    """From after to, unreadable dates, no --from, unknown dimensions or views: exit 2, said in words."""
    result = run(db_url, tmp_path, *args, "--json")

    assert result.exit_code == 2
    assert words in result.stderr
    assert json.loads(result.stdout)["ok"] is False


def test_empty_and_future_periods_show_zeros(db_url, clock, tmp_path):
    """Bad input: an empty period and future dates give empty tables and zero totals, exit 0."""
    result = run(db_url, tmp_path, "--from", "2027-03-01", "--to", "2027-03-31", "--period", "month")

    assert result.exit_code == 0
    assert "（无数据）" in result.stdout
    assert "合计：发货 0 票，包裹 0 个，按时率 -" in result.stdout
    assert "还没有到" in result.stderr

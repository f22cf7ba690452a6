"""`kit refund` and `kit aftersale` (kit.cli.aftersales): each main path with --json, the exit
codes of a refusal (1) and of bad input (2), Chinese by default and English when asked.

The shop is test_refund_import's (A allocated; B to E shipped and confirmed), built once per
database and copied for every test; the after-sales clerk acts (--as 售后小雅).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fulfil_fixtures import (
    built_shops,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    kit_toml,
)
from test_refund_import import HEAD, NO, WAIT, build

from kit.cli.aftersales import aftersale, refund
from kit.i18n import set_lang

built = built_shops(build)  # built(kind) → the test shop's URL; db_url: a fresh copy per test


@pytest.fixture(name="run")
def run_fixture(db_url: str, clock: dict, tmp_path: Path) -> Any:
    """run(command, *args, as_=…) → (exit code, the JSON payload or None, stdout, stderr)."""
    settings = kit_toml(tmp_path / "kit.toml")

    def run(
        command: Any,
        *args: str,
        as_: str = "售后小雅",
        as_json: bool = True,
        env: dict[str, str] | None = None,
    ) -> tuple[int, Any, str, str]:
        options = ["--db", db_url, "--config", str(settings), "--as", as_, *(["--json"] if as_json else [])]
        result = CliRunner().invoke(command, [*args, *options], catch_exceptions=False, env=env)
        payload = None
        if as_json:
            lines = result.stdout.splitlines()
            assert len(lines) == 1, result.stdout
            payload = json.loads(lines[0])
        return result.exit_code, payload, result.stdout, result.stderr

    return run


def test_refund_open_agree_and_left(run):
    """A refund opened, agreed (paid at once), and what the order still has refundable."""
    code, opened, _, err = run(
        refund, "--open", NO["C"], "--amount", "12.50", "--reason", "quality", "--note", "杯口有裂纹"
    )
    assert code == 0 and opened["case"]["amount_fen"] == 1250 and "已登记售后单" in err
    case_id = str(opened["case"]["case_id"])

    code, listed, _, _ = run(refund)
    assert code == 0 and [c["case_id"] for c in listed["cases"]] == [opened["case"]["case_id"]]

    code, agreed, _, err = run(refund, case_id, "--agree")
    assert code == 0 and agreed["case"]["refund_status"] == "SUCCESS" and "12.50" in err

    code, left, _, err = run(refund, "--left", NO["C"])
    assert (code, left["refundable_fen"], left["refundable"]) == (0, 4650, "46.50")
    assert "46.50" in err
    assert run(refund)[1]["count"] == 0 and run(refund, "--all")[1]["count"] == 1


def test_refund_refuse_reopen_pay_close(run):
    """Refuse with a reason, take it up again, pay a lower amount; another one closed."""
    first = run(refund, "--open", NO["E"], "--amount", "30", "--reason", "not_as_described")[1]["case"]
    case_id = str(first["case_id"])

    assert (
        run(refund, case_id, "--refuse", "买家已同意换货")[1]["case"]["refund_status"]
        == "SELLER_REFUSE_BUYER"
    )
    assert run(refund, case_id, "--reopen")[1]["case"]["refund_status"] == "WAIT_SELLER_AGREE"
    code, paid, _, _ = run(refund, case_id, "--pay", "20.00")
    assert code == 0 and (paid["case"]["refund_status"], paid["case"]["amount_fen"]) == ("SUCCESS", 2000)

    other = run(refund, "--open", NO["B"], "--amount", "5", "--reason", "changed_mind")[1]["case"]
    code, closed, _, _ = run(refund, str(other["case_id"]), "--close", "买家撤销申请")
    assert code == 0 and closed["case"]["refund_status"] == "CLOSED"
    assert run(refund, "--status", "CLOSED")[1]["count"] == 1


def test_refund_import_reports_counts_and_quarantined_rows(run, tmp_path):
    """--import takes the platform's export; quarantined rows are named on stderr."""
    path = tmp_path / "退款.csv"
    path.write_bytes(
        (
            HEAD
            + "\n"
            + f"RF1,{NO['C']},10.00,{WAIT},质量问题,否,,,\n"
            + f"RF2,{NO['C']},abc,{WAIT},质量问题,否,,,\n"
        ).encode("gbk")
    )

    code, done, _, err = run(refund, "--import", str(path))

    assert code == 0
    assert (done["import"]["imported"], done["import"]["quarantined"]) == (1, 1)
    assert "abc" in err and "隔离 1" in err


def test_a_refusal_exits_1_and_bad_input_exits_2(run):
    """Paying more than was paid is refused (1); an unreadable amount or a missing option is bad input (2)."""
    case_id = str(
        run(refund, "--open", NO["C"], "--amount", "10", "--reason", "quality")[1]["case"]["case_id"]
    )

    code, refused, _, err = run(refund, case_id, "--pay", "999")
    assert code == 1 and refused["ok"] is False and "错误" in err

    code, bad, _, err = run(refund, "--open", NO["C"], "--amount", "abc", "--reason", "quality")
    assert code == 2 and bad["key"] == "cli_aftersales.bad_amount" and "abc" in err
    assert run(refund, "--open", NO["C"], "--reason", "quality")[0] == 2
    assert run(refund, case_id, "--agree", "--reopen")[0] == 2
    assert run(refund, "--open", NO["C"], "--amount", "1", "--reason", "quality", as_="仓管小李")[0] == 1


def test_a_return_from_open_to_checked_in(run):
    """A return opened with its line, agreed, sent back, checked in, taken over and shown."""
    code, opened, _, _ = run(
        aftersale,
        "--open",
        NO["B"],
        "--kind",
        "return",
        "--reason",
        "quality",
        "--line",
        "1:1",
        "--amount",
        "89",
    )
    assert code == 0 and opened["case"]["kind"] == "return"
    case_id = str(opened["case"]["case_id"])
    assert [c["case_id"] for c in run(aftersale)[1]["cases"]] == [int(case_id)]

    assert run(aftersale, case_id, "--agree")[1]["case"]["refund_status"] == "WAIT_BUYER_RETURN_GOODS"
    sent = run(aftersale, case_id, "--sent-back", "--carrier", "yto", "--number", "YT5555666677")[1]["case"]
    assert (sent["refund_status"], sent["return_tracking_no"]) == (
        "WAIT_SELLER_CONFIRM_GOODS",
        "YT5555666677",
    )
    code, got, _, _ = run(aftersale, case_id, "--receive", "1:1", "--warehouse", "hq", as_="仓管小李")
    assert code == 0 and got["case"]["received_at"] is not None
    assert run(aftersale, case_id, "--take", as_="店长")[1]["case"]["owner"] == "店长"

    code, shown, _, _ = run(aftersale, case_id, "--show")
    assert code == 0 and shown["case"]["lines"][0]["received_good"] == 1
    assert [s["action"] for s in shown["case"]["audit"]][:2] == ["open", "agree_return"]
    code, _, out, _ = run(aftersale, case_id, "--show", as_json=False)
    assert code == 0 and "SOCK-A" in out and "同意退货" in out


def test_aftersale_bad_lines_are_bad_input(run):
    """--line and --receive in the wrong form are refused with the form expected (exit 2)."""
    code, bad, _, err = run(
        aftersale, "--open", NO["B"], "--kind", "return", "--reason", "quality", "--line", "one"
    )
    assert code == 2 and bad["key"] == "cli_aftersales.bad_line" and "1:2" in err
    assert run(aftersale, "1", "--receive", "1:x")[0] == 2
    assert run(aftersale, "--open", NO["B"], "--kind", "return", "--reason", "quality")[0] == 2


def test_messages_are_chinese_by_default_and_english_when_asked(run):
    """The same listing speaks Chinese, then English (set_lang, as `kit --lang en` does)."""
    run(refund, "--open", NO["C"], "--amount", "1", "--reason", "quality")

    zh = run(refund, as_json=False)
    set_lang("en")
    en = run(refund, as_json=False)

    assert "共 1 张售后单" in zh[3] and "质量问题" in zh[2]
    assert "1 after-sale cases" in en[3] and "yuan" in en[2]
    env_en = run(refund, "--left", NO["C"], as_json=False, env={"KIT_LANG": "en"})
    assert "can still refund" in env_en[3]

"""`kit exception` (kit/cli/exceptions.py; S21, S13): the delivery exception cases from the command
line, on the test shop of tests/test_exceptions.py, with --json (one object on stdout) and the
exit codes of the contract (0 ok, 1 refused by a rule, 2 bad usage or input)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_exceptions as shop_of
from click.testing import CliRunner
from fulfil_fixtures import (
    built_shops,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    kit_toml,
    table,
)

import kit
from kit.cli.exceptions import exception_

built = built_shops(shop_of.build)


class Kit:
    """`kit exception` on one shop: --db and --config filled in."""

    def __init__(self, url: str, toml: Path) -> None:
        self.url, self.toml = url, toml

    def run(self, *args: str) -> Any:
        """The click Result (stdout and stderr apart)."""
        return CliRunner().invoke(
            exception_, [*args, "--db", self.url, "--config", str(self.toml)], catch_exceptions=False
        )

    def json(self, *args: str) -> tuple[int, dict[str, Any]]:
        """Exit code and the one JSON object that is all of stdout."""
        result = self.run(*args, "--json")
        lines = result.stdout.splitlines()
        assert len(lines) == 1, result.stdout + result.stderr
        return result.exit_code, json.loads(lines[0])


@pytest.fixture(name="k")
def kit_fixture(db_url: str, clock: Any, tmp_path: Path) -> Iterator[tuple[Kit, dict[str, int]]]:
    """The command on a fresh copy of the test shop, and the shipment ids by name."""
    with kit.connect(db_url, config=shop_of.config()) as shop:
        ids = shop_of.ids_by_name(shop)
    yield Kit(db_url, kit_toml(tmp_path / "kit.toml")), ids


def test_lost_case_from_open_to_reship_by_the_command_line_S21(k):
    """S21: open a lost case, take it, claim 89 yuan with evidence, record the answer, reship:
    each step one JSON object; the list shows the case resolved with its new parcel."""
    cli, ids = k
    code, opened = cli.json("--open-case", str(ids["L"]), "--kind", "lost", "--description", "五天没有轨迹")
    assert code == 0 and opened["case"]["state"] == "open"
    cid = str(opened["case"]["case_id"])

    assert cli.json(cid, "--take", "--as", "售后小雅")[1]["case"]["owner"] == "售后小雅"
    code, claimed = cli.json(cid, "--claim", "89", "--evidence", "照片在共享盘")
    assert code == 0 and claimed["case"]["claim_fen"] == 8900
    code, answered = cli.json(cid, "--answer", "同意赔付", "--compensation", "50.5")
    assert code == 0 and answered["case"]["compensation_fen"] == 5050
    code, reshipped = cli.json(cid, "--reship")
    assert code == 0 and reshipped["case"]["resolution"] == "reship"

    code, listing = cli.json()
    (row,) = listing["cases"]
    assert (row["case_id"], row["state"], row["new_shipment_id"], row["owner"]) == (
        int(cid),
        "resolved",
        reshipped["case"]["new_shipment_id"],
        "售后小雅",
    )
    assert cli.json("--open")[1]["cases"] == []
    shown = cli.run(cid, "--show")
    assert shown.exit_code == 0 and "reship" in shown.stdout


def test_refund_address_received_and_close_by_the_command_line_S21(k):
    """S21: a damaged parcel refunded, a wrong address corrected (a task to phone the carrier),
    a refused parcel received with one damaged unit, a case closed with its reason."""
    cli, ids = k
    damaged = str(cli.json("--open-case", str(ids["D"]), "--kind", "damaged")[1]["case"]["case_id"])
    code, refunded = cli.json(damaged, "--refund", "--as", "售后小雅")
    assert code == 0 and refunded["case"]["after_sale"]["refund_status"] == "SUCCESS"

    wrong = str(cli.json("--open-case", str(ids["W"]), "--kind", "wrong_address")[1]["case"]["case_id"])
    result = cli.run(
        wrong,
        "--address",
        "--name",
        "测试收件人",
        "--mobile",
        "13900001111",
        "--province",
        "浙江省",
        "--city",
        "杭州市",
        "--district",
        "西湖区",
        "--detail",
        "文三路 100 号",
    )
    assert result.exit_code == 0 and "打电话告诉圆通" in result.stderr

    refused = str(cli.json("--open-case", str(ids["R"]), "--kind", "refused")[1]["case"]["case_id"])
    code, back = cli.json(refused, "--received", "--damaged", "1", "--as", "仓管小李")
    assert code == 0 and back["case"]["units"] == {"good": 1, "damaged": 1}

    lost = str(cli.json("--open-case", str(ids["L"]), "--kind", "lost")[1]["case"]["case_id"])
    code, closed = cli.json(lost, "--close", "快递员找到了")
    assert code == 0 and closed["case"]["state"] == "closed"
    assert {r["kind"] for r in cli.json("--kind", "lost")[1]["cases"]} == {"lost"}


def test_refusals_have_their_exit_codes_and_write_nothing_S21(k):
    """A rule's refusal (the warehouse claiming) exits 1 with the error in words and writes
    nothing; bad usage (a step without a case, a bad amount) exits 2."""
    cli, ids = k
    cid = str(cli.json("--open-case", str(ids["L"]), "--kind", "lost")[1]["case"]["case_id"])
    with kit.connect(cli.url, config=shop_of.config(), actor="店长") as shop:
        before = table(shop, "exception_cases").rows()

        code, refused = cli.json(cid, "--claim", "10", "--evidence", "照片", "--as", "仓管小李")

        assert code == 1 and refused["ok"] is False and refused["error"] == "PermissionDenied"
        assert table(shop, "exception_cases").rows() == before
    assert cli.json("--claim", "10", "--evidence", "x")[0] == 2
    assert cli.json(cid, "--claim", "1.234", "--evidence", "x")[1]["key"] == "cli_exception.bad_yuan"
    result = cli.run(cid, "--claim", "10")
    assert result.exit_code == 2 and "--evidence" in result.stderr

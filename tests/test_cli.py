"""The command line contract: --db and --json on every command, one JSON object on stdout,
messages on stderr, exit codes 0 ok / 1 refused / 2 bad usage or input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from orders_factory import make_orders

import kit
from kit import exceptions, tracking
from kit.cli import cli
from kit.models import Stage, TradeStatus

KIT = str(Path(sys.executable).parent / "kit")


def run(*args: str) -> tuple[int, str, str]:
    """Run `kit ARGS` in-process; return exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_every_command_takes_db_and_json():
    """--db and --json are accepted by every subcommand (and every command of a group)."""
    def leaves(group, prefix=""):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from leaves(command, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", command

    for name, command in leaves(cli):
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        assert {"--db", "--json"} <= options, name


def test_status_json_counts_every_trade_status_and_stage(db_url):
    """kit status --json prints one object with a count for every state."""
    with kit.connect(db_url, actor="店长") as shop:
        orders, lines = make_orders(7, stage="held")
        shop.insert_orders(orders, lines, kind="test", source="cli")

    code, out, _ = run("status", "--db", db_url, "--json")

    payload = json.loads(out)
    assert code == 0
    assert payload["orders"] == 7
    assert set(payload["trade_status"]) == {str(s) for s in TradeStatus}
    assert set(payload["stage"]) == {str(s) for s in Stage}
    assert payload["stage"]["held"] == 7
    assert out.count("\n") == 1


def test_status_text_is_in_chinese_and_english(sqlite_url):
    """The terminal table uses the staff's language."""
    assert "按发货环节" in run("status", "--db", sqlite_url)[1]
    assert "By fulfilment stage" in run("--lang", "en", "status", "--db", sqlite_url)[1]


def test_init_reports_version_and_settings(sqlite_url, tmp_path):
    """kit init creates the schema and writes kit.toml's staff into the database."""
    toml = tmp_path / "kit.toml"
    toml.write_text('[staff]\n"店长" = "supervisor"\n"仓管老周" = "warehouse"\n', "utf-8")

    code, out, _ = run("init", "--db", sqlite_url, "--config", str(toml), "--json")

    payload = json.loads(out)
    assert code == 0
    assert payload["schema_version"] == kit.store.migrations.latest_version()
    assert payload["previous_version"] is None
    assert payload["staff"] == 2
    with kit.connect(sqlite_url, actor="仓管老周") as shop:
        assert shop.actor.role == "warehouse"


@pytest.mark.parametrize("args", [
    ["status", "--db", "mysql://x@y/z"],
    ["status", "--db", "postgresql://kit:pw@127.0.0.1:1/none"],
    ["init", "--db", "/no/such/folder/kit.db"],
])
def test_bad_database_exits_2_with_one_json_error(args):
    """An unusable database: exit code 2, a JSON error on stdout, words on stderr."""
    code, out, err = run(*args, "--json")

    assert code == 2
    assert json.loads(out)["ok"] is False
    assert err.startswith("错误：")


def test_bad_config_exits_2(tmp_path, sqlite_url):
    """A wrong kit.toml stops the command with exit code 2 and the key in the message."""
    toml = tmp_path / "kit.toml"
    toml.write_text('[shipping]\ndefault_carrier = "UPS!"\n', "utf-8")

    code, _, err = run("status", "--db", sqlite_url, "--config", str(toml))

    assert code == 2
    assert "shipping.default_carrier" in err


def test_usage_error_exits_2():
    """An unknown option is bad usage: exit code 2."""
    assert run("status", "--frobnicate")[0] == 2


def test_serve_refuses_a_missing_dashboards_folder(sqlite_url, tmp_path):
    """kit serve names the folder it could not find."""
    code, _, err = run("serve", "--db", sqlite_url, "--dir", str(tmp_path / "none"))

    assert code == 2
    assert "none" in err


def test_console_script_is_installed(sqlite_url):
    """The `kit` console script runs from the virtualenv and prints JSON."""
    done = subprocess.run([KIT, "status", "--db", sqlite_url, "--json"], capture_output=True,
                          text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["orders"] == 0


def test_demo_json_seeds_once_and_reports_counts(sqlite_url):
    """kit demo --json seeds the shop; a second run leaves it as it is (S6: no duplicates)."""
    code, out, _ = run("demo", "--db", sqlite_url, "--orders", "400", "--today", "2026-11-30", "--json")
    again_code, again_out, _ = run("demo", "--db", sqlite_url, "--orders", "400", "--json")

    first, second = json.loads(out), json.loads(again_out)
    assert (code, again_code) == (0, 0)
    assert first["created"] is True and second["created"] is False
    assert first["orders"] == second["orders"] == 400
    assert sum(first["status"]["stage"].values()) == 400
    # S21: the parcels reported lost, damaged or refused have their exception cases, opened once
    with kit.connect(sqlite_url, actor="店长") as shop:
        cases = exceptions.cases(shop)
        alerts = tracking.alerts(shop).filter(pl.col("kind").is_in(["lost", "damaged", "refused"]))
    assert first["exception_cases"] == cases.height == alerts["shipment_id"].n_unique()
    assert "exception_cases" not in second
    # S19: every order paid online and not cancelled has its ship-by deadline (COD: from the call)
    with kit.connect(sqlite_url, actor="店长") as shop:
        paid = shop.orders().filter(pl.col("paid_at").is_not_null(), pl.col("stage") != "cancelled",
                                    pl.col("payment_method") == "online")
    assert paid.height > 0 and paid["ship_by"].null_count() == 0


def test_demo_fresh_starts_an_sqlite_file_over(sqlite_url):
    """--fresh deletes the SQLite file first; it refuses a server database."""
    run("demo", "--db", sqlite_url, "--orders", "300", "--json")

    code, out, _ = run("demo", "--db", sqlite_url, "--orders", "200", "--fresh", "--json")
    refused, _, err = run("demo", "--db", "postgresql://kit:kit@127.0.0.1:1/x", "--fresh")

    assert code == 0 and json.loads(out)["orders"] == 200
    assert refused == 2 and "--fresh" in err


def test_demo_refuses_a_database_with_other_orders(sqlite_url):
    """The demo is never mixed into a shop's real orders."""
    with kit.connect(sqlite_url, actor="店长") as shop:
        shop.insert_orders(*make_orders(2), kind="import", source="real.csv")

    code, _, err = run("demo", "--db", sqlite_url, "--orders", "100")

    assert code == 2
    assert "2" in err and "--fresh" in err

"""`kit review` and `kit reconcile` on the command line: the same services, JSON out."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from orders_factory import make_orders

import kit
from kit.cli import cli


@pytest.fixture
def db(sqlite_url):
    """A database with four new orders (one COD) and the default supervisor."""
    with kit.connect(sqlite_url, actor="店长") as shop:
        shop.insert_orders(*make_orders(3), kind="test", source="cli")
        shop.insert_orders(*make_orders(1, start=4, payment_method="cod"), kind="test", source="cli")
    return sqlite_url


def run(*args: str) -> tuple[int, dict]:
    """Run kit with --json; exit code and the JSON object."""
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_review_approves_and_holds_and_lists(db):
    """kit review runs the rules; --list shows held orders with reasons; --cod the call list."""
    code, summary = run("review", "--db", db)
    _, held = run("review", "--db", db, "--list")
    _, cod = run("review", "--db", db, "--cod")

    assert code == 0
    assert summary["reviewed"] == 4 and summary["approved"] + summary["held"] == 4
    assert len(held["orders"]) == summary["held"]
    assert all(o["reasons"] for o in held["orders"])
    assert len(cod["orders"]) == 1


def test_phone_confirmation_from_the_command_line_S16(db):
    """--confirm-phone records the call and reviews the COD order again."""
    run("review", "--db", db)
    _, cod = run("review", "--db", db, "--cod")
    no = cod["orders"][0]["order_no"]

    code, result = run("review", "--db", db, "--confirm-phone", no)

    assert code == 0 and result["reviewed"] == 1
    assert run("review", "--db", db, "--cod")[1]["orders"] == []


def test_refused_change_exits_1(db):
    """Approving an order twice: the second is refused by the rule, exit code 1."""
    run("review", "--db", db)
    _, cod = run("review", "--db", db, "--cod")
    held = cod["orders"][0]["order_no"]  # held: COD not confirmed

    code, error = run("review", "--db", db, "--approve", held)

    assert code == 1 and error["ok"] is False and "电话确认" in error["message"]


def test_reconcile_reports_the_difference_S6(db):
    """kit reconcile --counted shows the difference per channel."""
    code, result = run("reconcile", "--db", db, "--date", "2026-11-30", "--counted", "5")

    assert code == 0
    assert result["channels"][0]["imported"] == 4
    assert result["channels"][0]["difference"] == 1
    assert result["balanced"] is False

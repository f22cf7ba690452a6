"""`kit carriers list|check|quote|choose` on the command line (S5, S15, S26b)."""

from __future__ import annotations

import json

from click.testing import CliRunner

import kit
from kit.cli import cli


def run(*args: str) -> tuple[int, dict]:
    """kit ARGS --json: exit code and the JSON object."""
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_list_shows_every_builtin_carrier():
    """kit carriers list names the twelve built-ins with their plugin, all working."""
    code, payload = run("carriers", "list")

    codes = {r["code"] for r in payload["carriers"] if r["status"] == "ok"}
    assert code == 0
    assert {"yto", "sf", "zto", "sto", "yunda", "jd", "ems", "jt", "deppon", "self", "none",
            "dropship"} <= codes


def test_check_ranks_candidates_and_normalises_the_number():
    """A number typed with spaces and full-width digits is normalised; YTO ranks first."""
    code, payload = run("carriers", "check", "yt １２３４ 5678901 23")

    assert code == 0
    assert payload["number"] == "YT1234567890123"
    assert payload["candidates"][0]["carrier_code"] == "yto"
    assert payload["candidates"][0]["reason"]


def test_quote_every_carrier_and_one(tmp_path):
    """1.3 kg to Guangdong: a price from every carrier with a table; SF dearer than YTO."""
    code, payload = run("carriers", "quote", "--weight", "1.3kg", "--to", "广东")
    prices = {q["carrier_code"]: q["price_fen"] for q in payload["quotes"]}
    one_code, one = run("carriers", "quote", "--weight", "800g", "--to", "广东省", "--carrier", "yto")

    assert code == 0 and one_code == 0
    assert prices["sf"] > prices["yto"] > 0
    assert all(q["chargeable_weight_g"] >= 1300 for q in payload["quotes"])
    assert [q["carrier_code"] for q in one["quotes"]] == ["yto"]


def test_bad_weight_and_unknown_carrier_exit_2():
    """A weight that cannot be read, or a carrier the kit does not know: exit code 2."""
    assert run("carriers", "quote", "--weight", "heavy", "--to", "广东")[0] == 2
    assert run("carriers", "quote", "--weight", "1kg", "--to", "广东", "--carrier", "ups")[0] == 2


def test_choose_ranks_carriers_for_a_demo_order_S15(sqlite_url):
    """kit carriers choose ORDER ranks by cost, speed and reliability; the first has rank 1."""
    from kit.demo import seed

    with kit.connect(sqlite_url, actor="店长") as shop:
        seed(shop, orders=300, today=__import__("datetime").date(2026, 11, 30))
        order_no = shop.orders(stage="approved")["order_no"][0]

    code, payload = run("carriers", "choose", order_no, "--db", sqlite_url)

    assert code == 0
    assert payload["ranking"][0]["rank"] == 1
    assert len({r["carrier_code"] for r in payload["ranking"]}) == len(payload["ranking"])

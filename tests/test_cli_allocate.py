"""`kit allocate` on the command line (分仓, S17, S24b): --json, --strategy, --split/--no-split,
--order, --limit, --batch, kit.toml's [allocation] table, and who may run it.

The shop is the one of test_allocation_rules (hq in 浙江省, stores in 广东省 and 北京市, a
drop-ship supplier), written as a kit.toml and put in the database by `kit init`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_allocation_rules import add_order, assert_books, put, shipments

import kit
from kit.cli import cli

TOML = """
[shop]
local_user = "店长"

[staff]
"店长" = "supervisor"
"仓管甲" = "warehouse"
"客服乙" = "presale"
"分析丙" = "analyst"

[[warehouses]]
code = "hq"
name = "总仓"
kind = "hq"
province = "浙江省"

[[warehouses]]
code = "gz"
name = "广州门店"
kind = "store"
province = "广东省"

[[warehouses]]
code = "bj"
name = "北京门店"
kind = "store"
province = "北京"

[[warehouses]]
code = "sup"
name = "鞋厂"
kind = "supplier"
province = "福建省"
"""
SKUS = ("TEA", "CUP", "TOWEL", "SHOE")


def invoke(*args: str) -> tuple[int, str, str]:
    """kit ARGS in-process: exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


class Shop:
    """A kit.toml and a database for the command line, and the shop to set them up with."""

    def __init__(self, tmp_path: Path, allocation: str = "") -> None:
        self.config = tmp_path / "kit.toml"
        self.config.write_text(TOML + allocation, encoding="utf-8")
        self.db = f"sqlite:///{tmp_path / 'kit.db'}"
        code, _, err = invoke("init", "--db", self.db, "--config", str(self.config))
        assert code == 0, err
        self.shop = kit.connect(self.db, config=str(self.config), actor="店长")
        with self.shop.store.write() as conn:
            conn.execute(
                kit.store.schema.skus.insert(),
                [{"sku": s, "title": f"测试商品 {s}", "category": "测试", "weight_g": 100, "price_fen": 990}
                 for s in SKUS],
            )

    def allocate(self, *args: str, actor: str = "仓管甲") -> tuple[int, dict]:
        """kit allocate --json with these options; exit code and the JSON object."""
        code, out, _ = invoke(
            "allocate", "--db", self.db, "--config", str(self.config), "--as", actor, "--json", *args
        )
        assert out.count("\n") == 1, out
        return code, json.loads(out)

    def stage(self, no: str) -> str:
        return self.shop.order(no).stage


@pytest.fixture
def shop(tmp_path):
    s = Shop(tmp_path)
    yield s
    s.shop.close()


def split_case(s: Shop) -> tuple[str, str]:
    """Two 广东 orders of TEA, CUP, TOWEL where nearest ships three parcels (gz, hq, bj) and
    fewest_parcels two (bj holds two of the lines)."""
    put(s.shop, gz_TEA=2, hq_CUP=2, bj_CUP=2, bj_TOWEL=2)
    lines = [("TEA", 1), ("CUP", 1), ("TOWEL", 1)]
    return add_order(s.shop, 1, "广东省", lines), add_order(s.shop, 2, "广东省", lines)


def test_allocate_json_counts_and_short_lines_S17_S24b(shop):
    """--json: one object with the counts, and the lines short with what they miss."""
    put(shop.shop, gz_TEA=2, hq_TEA=1, hq_CUP=1)
    first = add_order(shop.shop, 1, "广东省", [("TEA", 1), ("CUP", 1)])
    second = add_order(shop.shop, 2, "广东省", [("TEA", 1)])
    third = add_order(shop.shop, 3, "北京市", [("TEA", 2)])

    code, result = shop.allocate("--no-split")

    assert code == 0 and result["ok"] is True
    assert (result["allocated"], result["backordered"], result["waiting"]) == (2, 1, 0)
    assert (result["shipments"], result["lines"], result["units"], result["batches"]) == (2, 3, 3, 1)
    assert result["refused"] == []
    assert [(r["order_no"], r["sku"], r["missing"], r["warehouse_code"]) for r in result["short"]] == [
        (third, "TEA", 1, "gz")  # where it lacks least: gz has one left
    ]
    assert [shop.stage(n) for n in (first, second, third)] == ["allocated", "allocated", "backordered"]
    assert_books(shop.shop)


def test_strategy_option_S24b(shop):
    """--strategy fewest_parcels ships the split order in two parcels, nearest in three."""
    near, few = split_case(shop)

    _, a = shop.allocate("--order", near)
    _, b = shop.allocate("--order", few, "--strategy", "fewest_parcels")

    assert (a["allocated"], a["shipments"]) == (1, 3)
    assert (b["allocated"], b["shipments"]) == (1, 2)
    code, _, err = invoke("allocate", "--db", shop.db, "--config", str(shop.config), "--strategy", "x")
    assert code == 2 and "'x'" in err


def test_no_split_option_backorders_S24b(shop):
    """--no-split: the order no single warehouse holds waits (backordered); the next run
    with splitting allowed ships it."""
    no, _ = split_case(shop)

    _, waited = shop.allocate("--order", no, "--no-split")
    _, shipped = shop.allocate("--order", no, "--split")

    assert (waited["allocated"], waited["backordered"]) == (0, 1)
    assert (shipped["allocated"], shipped["still_short"]) == (1, 0)
    assert shop.stage(no) == "allocated"


def test_order_option_allocates_only_those(shop):
    """--order (repeatable): only the named orders; the others stay approved."""
    put(shop.shop, gz_TEA=9)
    nos = [add_order(shop.shop, k, "广东省", [("TEA", 1)]) for k in (1, 2, 3)]

    code, result = shop.allocate("--order", nos[0], "--order", nos[2])

    assert code == 0 and result["allocated"] == 2
    assert [shop.stage(n) for n in nos] == ["allocated", "approved", "allocated"]


def test_limit_option_takes_the_first_paid(shop):
    """--limit N: the N orders paid first, whatever their numbers."""
    put(shop.shop, gz_TEA=9)
    late = add_order(shop.shop, 1, "广东省", [("TEA", 1)], paid_minute=50)
    early = add_order(shop.shop, 2, "广东省", [("TEA", 1)], paid_minute=10)
    middle = add_order(shop.shop, 3, "广东省", [("TEA", 1)], paid_minute=20)

    _, result = shop.allocate("--limit", "2")

    assert result["allocated"] == 2
    assert [shop.stage(n) for n in (early, middle, late)] == ["allocated", "allocated", "approved"]
    code, _, err = invoke("allocate", "--db", shop.db, "--config", str(shop.config), "--limit", "0")
    assert code == 2 and "--limit" in err


def test_batch_option_commits_in_batches(shop):
    """--batch N: N orders per transaction, one batch row each."""
    put(shop.shop, gz_TEA=9)
    for k in (1, 2, 3):
        add_order(shop.shop, k, "广东省", [("TEA", 1)])

    _, result = shop.allocate("--batch", "2")

    assert (result["allocated"], result["batches"]) == (3, 2)
    batches = [b for b in shop.shop.audit_trail("batch")["action"].to_list() if b == "allocation"]
    assert len(batches) == 2


def test_dropship_option_S17(shop):
    """--no-dropship: the supplier's SKU ships from the shop's own stock."""
    put(shop.shop, sup_SHOE=5, gz_SHOE=5)
    first = add_order(shop.shop, 1, "广东省", [("SHOE", 1)])
    second = add_order(shop.shop, 2, "广东省", [("SHOE", 1)])

    shop.allocate("--order", first)
    shop.allocate("--order", second, "--no-dropship")

    rows = shipments(shop.shop).iter_rows(named=True)
    ship = {r["order_no"]: (r["warehouse_code"], r["carrier_code"]) for r in rows}
    assert ship == {first: ("sup", "dropship"), second: ("gz", "yto")}


def test_allocation_table_of_kit_toml_and_options_over_it_S24b(tmp_path):
    """[allocation] in kit.toml (via --config) sets the run's policy; options override it."""
    s = Shop(tmp_path, '\n[allocation]\nstrategy = "fewest_parcels"\nsplit = false\nbatch_orders = 1\n')
    try:
        a, b = split_case(s)

        _, waited = s.allocate("--order", a)
        _, few = s.allocate("--order", a, "--split")
        _, near = s.allocate("--order", b, "--split", "--strategy", "nearest", "--batch", "5")

        assert (waited["allocated"], waited["backordered"]) == (0, 1)  # split = false
        assert (few["allocated"], few["shipments"]) == (1, 2)  # fewest_parcels
        assert (near["allocated"], near["shipments"], near["batches"]) == (1, 3, 1)
        assert_books(s.shop)
    finally:
        s.shop.close()


def test_bad_allocation_table_exits_2(tmp_path):
    """A wrong [allocation] value stops the run with the key and what was expected."""
    config = tmp_path / "kit.toml"
    config.write_text(TOML + '\n[allocation]\nstrategy = "cheapest"\n', encoding="utf-8")

    db = f"sqlite:///{tmp_path / 'kit.db'}"
    code, out, err = invoke("allocate", "--db", db, "--config", str(config), "--json")

    assert code == 2
    error = json.loads(out)
    assert error["ok"] is False and error["error"] == "ConfigError"
    assert "allocation.strategy" in error["message"] and "fewest_parcels" in error["message"]
    assert "allocation.strategy" in err


@pytest.mark.parametrize("actor", ["客服乙", "分析丙"])
def test_role_that_may_not_allocate_exits_1(shop, actor):
    """Pre-sales and analysts may not run allocation: exit 1, the message names the action
    and who may, on stderr and in the JSON; nothing is allocated."""
    put(shop.shop, gz_TEA=9)
    no = add_order(shop.shop, 1, "广东省", [("TEA", 1)])

    code, error = shop.allocate(actor=actor)

    assert code == 1
    assert error["ok"] is False and error["error"] == "PermissionDenied"
    assert "运行分仓" in error["message"] and actor in error["message"]
    assert shop.stage(no) == "approved"
    _, _, err = invoke("allocate", "--db", shop.db, "--config", str(shop.config), "--as", actor)
    assert "运行分仓" in err


def test_text_output_names_refused_orders_and_counts(shop):
    """Without --json: the refused orders with why, then the counts, on stderr."""
    put(shop.shop, gz_TEA=9)
    add_order(shop.shop, 1, "广东省", [("TEA", 1)])
    closed = add_order(shop.shop, 2, "广东省", [("TEA", 1)], trade_status="TRADE_CLOSED")

    code, out, err = invoke("allocate", "--db", shop.db, "--config", str(shop.config), "--as", "仓管甲")

    assert code == 0 and out == ""
    assert f"订单 {closed} 未分仓：" in err
    assert "分仓完成：1 张已分仓（1 个包裹，占用 1 件）" in err

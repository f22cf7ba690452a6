"""`kit stock` on the command line: levels and --low (S12), import, receive, correct (盘点,
S7), transfer (S23), threshold, pin, check, backorders; --json and the exit codes of the
contract (kit.cli.output: 0 ok, 1 refused by a rule, 2 bad usage or input)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from orders_factory import make_orders
from test_stock import (
    CUP,
    SOCK,
    TEA,
    TOWEL,
    WAREHOUSE_STAFF,
    as_,
    assert_ledger_explains,
    ledger,
    level_map,
    lines_frame,
    open_shop,
    receive,
    snapshot,
)

import kit
from kit import clock, stock
from kit.cli import cli
from kit.store import schema


def invoke(*args: str) -> Result:
    """kit ARGS, words on stderr kept apart from stdout."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run(*args: str) -> tuple[int, dict[str, Any] | None]:
    """kit ARGS --json: exit code and the JSON object (None when click refused the usage)."""
    result = invoke(*args, "--json")
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip() else None)


@pytest.fixture
def db(sqlite_url: str) -> Iterator[tuple[str, kit.Shop]]:
    """The test shop with stock: hq 10 tea (3 reserved), hq 4 cups, gz 2 tea; its URL and shop."""
    with open_shop(sqlite_url) as shop:
        receive(shop, ("hq", TEA, 10), ("hq", CUP, 4), ("gz", TEA, 2))
        with shop.store.write() as conn:
            stock.reserve(conn, lines_frame([("9001", 1, "hq", TEA, 3, None)]), shop.actor, at=clock.now())
        yield sqlite_url, shop


def as_warehouse(url: str) -> list[str]:
    """--db URL --as the warehouse staff member."""
    return ["--db", url, "--as", WAREHOUSE_STAFF]


# --- looking stock up (S12) ---------------------------------------------------------------------


def test_stock_lists_levels_and_filters_S12(db):
    """S12: stock at any time: on hand, reserved, available per SKU and warehouse; by
    warehouse or SKU; anyone may look (the default user here is the supervisor)."""
    url, _ = db

    code, everything = run("stock", "--db", url)
    _, gz = run("stock", "--db", url, "--warehouse", "gz")
    _, two = run("stock", "--db", url, "--sku", CUP, "--sku", TEA, "--as", "分析师")

    assert code == 0 and everything["ok"] is True
    rows = {(r["warehouse_code"], r["sku"]): r for r in everything["levels"]}
    assert set(rows) == {("hq", TEA), ("hq", CUP), ("gz", TEA)}
    tea = rows[("hq", TEA)]
    assert (tea["on_hand"], tea["reserved"], tea["available"], tea["kind"]) == (10, 3, 7, "hq")
    assert [(r["warehouse_code"], r["sku"]) for r in gz["levels"]] == [("gz", TEA)]
    assert len(two["levels"]) == 3


def test_stock_in_words_marks_what_to_replenish_S12(db):
    """Without --json: a table on stdout, ⚠ 需补货 on rows at or below the threshold, the
    count on stderr."""
    url, shop = db
    stock.set_threshold(shop, TEA, 2)

    result = invoke("stock", "--db", url)

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("商家编码")
    marked = {line.split()[0] + "@" + line.split()[1] for line in lines[1:] if "⚠ 需补货" in line}
    assert marked == {f"{TEA}@gz"}  # 2 available at gz; 7 at hq
    assert "共 3 项" in result.stderr


def test_low_and_below_list_what_to_replenish_S12(db):
    """--low: available in own warehouses at or below the threshold; --below N: every SKU
    with at most N available."""
    url, shop = db
    stock.set_threshold(shop, CUP, 4)
    stock.set_threshold(shop, TEA, 8)

    code, low = run("stock", "--db", url, "--low")
    _, below = run("stock", "--db", url, "--below", "4")
    words = invoke("stock", "--db", url, "--low")

    assert code == 0
    assert [(r["sku"], r["available"], r["threshold"]) for r in low["low"]] == [(CUP, 4, 4)]  # tea: 9 > 8
    assert [r["sku"] for r in below["low"]] == [SOCK, TOWEL, CUP]
    assert f"{CUP}" in words.stdout and "预警值 4" in words.stdout
    assert run("stock", "--db", url, "--below", "-1")[0] == 2  # click: not a count


# --- files in -----------------------------------------------------------------------------------


def test_import_a_count_and_a_receipt(db, tmp_path):
    """kit stock import FILE: a count by default (the file holds the shelf), --mode receipt
    with --warehouse for a file without a warehouse column."""
    url, shop = db
    counted = tmp_path / "盘点.csv"
    counted.write_text(f"仓库,商家编码,数量,预警值\nhq,{CUP},6,3\ngz,{TEA},2,\n", encoding="utf-8")
    arrived = tmp_path / "到货.csv"
    arrived.write_bytes(f"商家编码,数量\n{TOWEL},12\n".encode("gbk"))

    code, count = run("stock", "import", str(counted), *as_warehouse(url))
    code2, receipt = run("stock", "import", str(arrived), "--mode", "receipt", "--warehouse", "gz",
                         "--reason", "采购到货", *as_warehouse(url))

    assert (code, code2) == (0, 0)
    assert {k: count[k] for k in ("ok", "mode", "rows", "changed", "units", "thresholds")} == {
        "ok": True, "mode": "count", "rows": 2, "changed": 1, "units": 2, "thresholds": 1,
    }
    assert (receipt["mode"], receipt["changed"], receipt["units"]) == ("receipt", 1, 12)
    assert level_map(shop)[("hq", CUP)] == (6, 0)
    assert level_map(shop)[("gz", TOWEL)] == (12, 0)
    assert set(ledger(shop, batch_id=receipt["batch_id"])["reason"]) == {"采购到货"}
    words = invoke("stock", "import", str(counted), *as_warehouse(url))
    assert words.exit_code == 0 and "已导入" in words.stderr
    assert_ledger_explains(shop)


@pytest.mark.parametrize(
    ("name", "data", "key", "named"),
    [
        ("s.csv", f"仓库,商家编码,数量\nhq,{TEA},1.5\n".encode(), "stock.bad_quantity", "1.5"),
        ("s.csv", f"仓库,商家编码,数量\nhq,{TEA},-3\n".encode(), "stock.bad_quantity", "-3"),
        ("s.csv", f"仓库,商家编码,数量\nhq,{TEA},十\n".encode(), "stock.bad_quantity", "十"),
        ("s.csv", b"", "stock.file_empty", "s.csv"),
        ("s.xlsx", b"PK\x03\x04broken", "stock.file_unreadable", "s.xlsx"),
        ("s.pdf", b"%PDF-1.4", "stock.file_type", ".pdf"),
        ("s.csv", "商家编码,数量\nX,1\n".encode(), "stock.file_missing_column", "仓库"),
        ("s.csv", f"仓库,商家编码,数量\nbj,{TEA},1\n".encode(), "stock.unknown_warehouse", "bj"),
    ],
    ids=["fraction", "negative", "words", "empty", "damaged", "suffix", "no-warehouse", "warehouse"],
)
def test_a_bad_file_exits_2_naming_what_is_wrong(db, tmp_path, name, data, key, named):
    """Exit 2 with {"ok": false, "key": …} on stdout, the message on stderr, nothing written."""
    url, shop = db
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot(shop)

    result = invoke("stock", "import", str(path), *as_warehouse(url), "--json")

    payload = json.loads(result.stdout)
    assert result.exit_code == 2
    assert (payload["ok"], payload["error"], payload["key"]) == (False, "BadInput", key)
    assert named in payload["message"] and named in result.stderr
    assert snapshot(shop) == before


def test_a_missing_file_exits_2(db, tmp_path):
    """A file that is not there is bad input, named."""
    url, _ = db

    code, payload = run("stock", "import", str(tmp_path / "没有.csv"), *as_warehouse(url))

    assert code == 2 and payload["key"] == "stock.file_missing" and "没有.csv" in payload["message"]


def test_a_count_below_reserved_exits_1(db, tmp_path):
    """Counting away units promised to orders is refused by a rule: exit 1, nothing written."""
    url, shop = db
    path = tmp_path / "s.csv"
    path.write_text(f"仓库,商家编码,数量\nhq,{CUP},9\nhq,{TEA},2\n", encoding="utf-8")
    before = snapshot(shop)

    code, payload = run("stock", "import", str(path), *as_warehouse(url))

    assert code == 1 and payload["ok"] is False
    assert payload["key"] == "stock.count_below_reserved"
    assert payload["params"] == {"warehouse": "hq", "sku": TEA, "counted": 2, "reserved": 3}
    assert snapshot(shop) == before


# --- receive, correct, transfer ---------------------------------------------------------------


def test_receive_and_return_S7(db):
    """kit stock receive: on hand goes up; --return records goods a buyer sent back."""
    url, shop = db

    code, got = run("stock", "receive", "--warehouse", "gz", "--sku", CUP, "--quantity", "6",
                    "--reason", "采购到货", *as_warehouse(url))
    code2, back = run("stock", "receive", "--warehouse", "hq", "--sku", TEA, "--quantity", "1", "--return",
                      *as_warehouse(url))

    assert (code, code2) == (0, 0)
    assert (got["ok"], got["changed"], got["units"]) == (True, 1, 6)
    assert level_map(shop)[("gz", CUP)] == (6, 0) and level_map(shop)[("hq", TEA)] == (11, 3)
    assert ledger(shop, batch_id=back["batch_id"])["kind"].to_list() == ["return"]
    words = invoke("stock", "receive", "--warehouse", "gz", "--sku", CUP, "--quantity", "1",
                   *as_warehouse(url))
    assert words.exit_code == 0 and "已记账" in words.stderr
    assert_ledger_explains(shop)


@pytest.mark.parametrize("quantity", ["1.5", "-3", "十", "0"])
def test_receive_refuses_quantities_that_are_not_whole_units(db, quantity):
    """Fractions, negatives, words and zero: exit 2 naming the value; nothing written."""
    url, shop = db
    before = snapshot(shop)

    code, payload = run("stock", "receive", "--warehouse", "hq", "--sku", TEA, "--quantity", quantity,
                        *as_warehouse(url))

    assert code == 2 and payload["key"] == "stock.bad_quantity"
    assert payload["params"]["value"] == quantity
    assert snapshot(shop) == before


@pytest.mark.parametrize(
    ("warehouse", "sku", "key"),
    [("hq", "GHOST", "stock.unknown_sku"), ("bj", TEA, "stock.unknown_warehouse")],
    ids=["sku", "warehouse"],
)
def test_receive_of_an_unknown_sku_or_warehouse_exits_2(db, warehouse, sku, key):
    """Unknown SKU or warehouse: bad input, named."""
    url, _ = db

    code, payload = run("stock", "receive", "--warehouse", warehouse, "--sku", sku, "--quantity", "1",
                        *as_warehouse(url))

    assert code == 2 and payload["key"] == key
    assert (sku if key.endswith("sku") else warehouse) in payload["message"]


def test_who_may_receive(db):
    """Pre-sales and analysts may not receive stock: exit 1 (PermissionDenied); an unknown
    name is bad input: exit 2."""
    url, shop = db
    before = snapshot(shop)
    args = ["stock", "receive", "--db", url, "--warehouse", "hq", "--sku", TEA, "--quantity", "1"]

    for name in ("客服小美", "分析师"):
        code, payload = run(*args, "--as", name)
        assert code == 1 and payload["error"] == "PermissionDenied" and name in payload["message"]
    code, payload = run(*args, "--as", "路人甲")

    assert code == 2 and payload["error"] == "NotFound"
    assert snapshot(shop) == before


def test_correct_sets_the_counted_quantity_S7(db):
    """kit stock correct (盘点 of one item): the difference is a `count` ledger row with the
    reason; the reason is required; below what is reserved is refused (exit 1)."""
    url, shop = db

    code, done = run("stock", "correct", "--warehouse", "hq", "--sku", CUP, "--on-hand", "1",
                     "--reason", "破损3件", *as_warehouse(url))
    no_reason = invoke("stock", "correct", "--warehouse", "hq", "--sku", CUP, "--on-hand", "1",
                       *as_warehouse(url))
    below_code, below = run("stock", "correct", "--warehouse", "hq", "--sku", TEA, "--on-hand", "2",
                            "--reason", "盘亏", *as_warehouse(url))
    bad_code, bad = run("stock", "correct", "--warehouse", "hq", "--sku", TEA, "--on-hand", "-1",
                        "--reason", "盘亏", *as_warehouse(url))

    assert code == 0 and (done["changed"], done["units"]) == (1, 3)
    row = ledger(shop, batch_id=done["batch_id"]).row(0, named=True)
    assert (row["kind"], row["on_hand_delta"], row["reason"]) == ("count", -3, "破损3件")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    assert below_code == 1 and below["key"] == "stock.count_below_reserved"
    assert bad_code == 2 and bad["key"] == "stock.bad_quantity"
    assert level_map(shop)[("hq", TEA)] == (10, 3)
    assert_ledger_explains(shop)


def test_transfer_moves_available_units_S23(db):
    """kit stock transfer: S23's wait for a transfer; only available units move (exit 1 for
    more), the same warehouse twice is bad input (exit 2)."""
    url, shop = db

    code, moved = run("stock", "transfer", "--from", "hq", "--to", "gz", "--sku", TEA, "--quantity", "5",
                      "--reason", "门店补货", *as_warehouse(url))
    over_code, over = run("stock", "transfer", "--from", "hq", "--to", "gz", "--sku", TEA, "--quantity", "3",
                          *as_warehouse(url))
    same_code, same = run("stock", "transfer", "--from", "gz", "--to", "gz", "--sku", TEA, "--quantity", "1",
                          *as_warehouse(url))
    analyst_code, _ = run("stock", "transfer", "--from", "gz", "--to", "hq", "--sku", TEA, "--quantity", "1",
                          "--db", url, "--as", "分析师")

    assert code == 0 and (moved["changed"], moved["units"]) == (1, 5)
    assert level_map(shop)[("hq", TEA)] == (5, 3) and level_map(shop)[("gz", TEA)] == (7, 0)
    assert over_code == 1 and over["key"] == "stock.would_go_negative"
    assert same_code == 2 and same["key"] == "stock.same_warehouse"
    assert analyst_code == 1
    assert sorted(ledger(shop, batch_id=moved["batch_id"])["reason"]) == ["←hq 门店补货", "→gz 门店补货"]
    assert_ledger_explains(shop)


# --- thresholds and pins ------------------------------------------------------------------------


def test_threshold_set_repeat_clear_S12(db):
    """kit stock threshold SKU N sets it, the same again changes nothing, without N clears it;
    a negative number is bad usage, an unknown SKU bad input, an analyst refused."""
    url, shop = db

    code, first = run("stock", "threshold", TEA, "5", *as_warehouse(url))
    _, again = run("stock", "threshold", TEA, "5", *as_warehouse(url))
    _, cleared = run("stock", "threshold", TEA, *as_warehouse(url))
    words = invoke("stock", "threshold", CUP, "2", *as_warehouse(url))

    assert code == 0 and first == {"ok": True, "sku": TEA, "threshold": 5, "changed": 1}
    assert again["changed"] == 0
    assert cleared["threshold"] is None and cleared["changed"] == 1
    assert words.exit_code == 0 and "2" in words.stderr and CUP in words.stderr
    assert [r["to_state"] for r in shop.audit_trail("sku", TEA).iter_rows(named=True)] == ["5", None]
    assert run("stock", "threshold", TEA, "-1", *as_warehouse(url))[0] == 2
    assert run("stock", "threshold", TEA, "很多", *as_warehouse(url))[0] == 2
    code, payload = run("stock", "threshold", "GHOST", "1", *as_warehouse(url))
    assert code == 2 and payload["key"] == "stock.unknown_sku"
    code, payload = run("stock", "threshold", TEA, "1", "--db", url, "--as", "客服小美")
    assert code == 1 and payload["error"] == "PermissionDenied"


def test_pin_and_unpin(db):
    """kit stock pin SKU WAREHOUSE pins it; without a warehouse it is unpinned; an unknown
    warehouse is bad input."""
    url, shop = db

    code, pinned = run("stock", "pin", TEA, "gz", "--reason", "门店自有款", *as_warehouse(url))
    with shop.store.read() as conn:
        pins = conn.execute(sa.select(schema.sku_pins.c.sku, schema.sku_pins.c.warehouse_code)).all()
    code2, unpinned = run("stock", "pin", TEA, *as_warehouse(url))
    bad_code, bad = run("stock", "pin", TEA, "bj", *as_warehouse(url))

    assert code == 0 and pinned == {"ok": True, "sku": TEA, "warehouse_code": "gz"}
    assert [tuple(p) for p in pins] == [(TEA, "gz")]
    assert code2 == 0 and unpinned["warehouse_code"] is None
    assert bad_code == 2 and bad["key"] == "stock.unknown_warehouse"
    assert [r["action"] for r in shop.audit_trail("sku", TEA).iter_rows(named=True)] == ["pin", "unpin"]
    with shop.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.sku_pins)).scalar() == 0


# --- the ledger check -----------------------------------------------------------------------------


def test_check_names_stock_outside_the_ledger_and_adopt_accounts_for_it(db):
    """kit stock check: every unit accounted for; stock typed into the database shows as a
    difference; --adopt records it as an opening balance, after which the check is clean."""
    url, shop = db
    code, clean = run("stock", "check", "--db", url)
    assert code == 0 and clean == {"ok": True, "differences": [], "adopted": None}
    with shop.store.write() as conn:
        conn.execute(schema.stock_levels.insert().values(warehouse_code="gz", sku=SOCK, on_hand=4))

    dirty_code, dirty = run("stock", "check", "--db", url)
    words = invoke("stock", "check", "--db", url)
    denied_code, _ = run("stock", "check", "--adopt", "--db", url, "--as", "分析师")
    adopt_code, adopted = run("stock", "check", "--adopt", *as_warehouse(url))

    assert dirty["ok"] is False and dirty_code == 1 and words.exit_code == 1  # a script can tell
    gaps = [(d["warehouse_code"], d["sku"], d["on_hand"], d["ledger_on_hand"]) for d in dirty["differences"]]
    assert gaps == [("gz", SOCK, 4, 0)]
    assert SOCK in words.stdout and "1 个库存项与流水不一致" in words.stderr
    assert denied_code == 1
    assert adopt_code == 0 and adopted["ok"] is True and adopted["differences"] == []
    assert adopted["adopted"]["receipt"] == 1
    assert level_map(shop)[("gz", SOCK)] == (4, 0)
    assert "每一件都有记录" in invoke("stock", "check", "--db", url).stderr
    assert_ledger_explains(shop)


# --- backorders -------------------------------------------------------------------------------


def test_backorders_lists_the_lines_waiting_for_stock_S7(db):
    """kit stock backorders: lines that wait for stock and how many units they miss."""
    url, shop = db
    orders, lines = make_orders(1, stage="backordered")
    as_(shop, "店长").insert_orders(orders, lines, kind="test", source="test_cli_stock")
    no, line = orders["order_no"][0], lines.row(0, named=True)
    since = clock.now().replace(microsecond=0)
    with shop.store.write() as conn:
        conn.execute(schema.backorders.insert().values(
            order_no=no, line_no=line["line_no"], sku=line["sku"], quantity=line["quantity"],
            missing=line["quantity"], warehouse_code="hq", since=since, updated_at=since,
        ))
        conn.execute(schema.backorders.insert().values(  # closed: not listed
            order_no=no, line_no=line["line_no"], sku=line["sku"], quantity=1, missing=0,
            status="closed", since=since, updated_at=since, closed_at=since,
        ))

    code, payload = run("stock", "backorders", "--db", url, "--as", "分析师")
    words = invoke("stock", "backorders", "--db", url)

    assert code == 0
    assert [(b["order_no"], b["sku"], b["missing"], b["warehouse_code"]) for b in payload["backorders"]] == [
        (no, line["sku"], line["quantity"], "hq"),
    ]
    assert no in words.stdout and f"缺 {line['quantity']}" in words.stdout
    assert "共 1 项" in words.stderr


# --- on PostgreSQL ------------------------------------------------------------------------------


def test_receive_import_and_list_on_postgresql(pg_url, tmp_path):
    """The same commands against PostgreSQL by URL."""
    with open_shop(pg_url) as shop:
        path = tmp_path / "盘点.csv"
        path.write_text(f"仓库,商家编码,数量\nhq,{TEA},4\n", encoding="utf-8")

        assert run("stock", "receive", "--warehouse", "gz", "--sku", CUP, "--quantity", "2",
                   *as_warehouse(pg_url))[0] == 0
        assert run("stock", "import", str(path), *as_warehouse(pg_url))[0] == 0
        assert run("stock", "transfer", "--from", "gz", "--to", "hq", "--sku", CUP, "--quantity", "1",
                   *as_warehouse(pg_url))[0] == 0
        code, listed = run("stock", "--db", pg_url)

        assert code == 0
        assert {(r["warehouse_code"], r["sku"], r["on_hand"]) for r in listed["levels"]} == {
            ("hq", TEA, 4), ("gz", CUP, 1), ("hq", CUP, 1),
        }
        assert run("stock", "check", "--db", pg_url)[1]["ok"] is True
        assert_ledger_explains(shop)

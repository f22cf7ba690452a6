"""Intake end to end: real-format export files in, every row accounted for (S6), the
quarantine exported, fixed and imported again; the same through `kit import`."""

from __future__ import annotations

import json
from pathlib import Path

import intake_fixtures as fx
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kit
from kit.cli import cli
from kit.intake import quarantine
from kit.intake.importer import import_intake
from kit.intake.readers import read

N = 60


@pytest.fixture(scope="module")
def truth() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sixty synthetic orders and their lines: what the files say."""
    return fx.shop(N, seed=11)


@pytest.fixture
def shop(db_url):
    """A shop on a fresh database (SQLite and PostgreSQL), acting as after-sales."""
    config = kit.config.parse({"staff": {"售后小雅": "aftersale", "店长": "supervisor"}})
    with kit.connect(db_url, actor="售后小雅", config=config) as shop:
        yield shop


def write(folder: Path, name: str, data: bytes) -> Path:
    """A file in the folder; its path."""
    path = folder / name
    path.write_bytes(data)
    return path


def reports(folder: Path, orders: pl.DataFrame, lines: pl.DataFrame, layout: int = 56,
            encoding: str = "gbk") -> list[Path]:
    """The order report and item report of the orders, as the seller backend writes them."""
    return [write(folder, "ExportOrderList202611.csv",
                  fx.csv_bytes(fx.taobao_order_cells(orders, layout), encoding)),
            write(folder, "ExportOrderDetailList202611.csv",
                  fx.csv_bytes(fx.taobao_item_cells(lines), encoding, trailing_comma=True))]


def test_taobao_reports_import_exactly_and_again_change_nothing_S6(shop, truth, tmp_path):
    """Both reports: every order once with its lines; the second import is all duplicates."""
    orders, lines = truth
    files = reports(tmp_path, orders, lines)

    first = import_intake(shop, read(files))
    again = import_intake(shop, read(files))

    assert first.balanced and first.rows == {"new": N + lines.height, "updated": 0, "unchanged": 0,
                                             "quarantined": 0}
    assert again.rows["unchanged"] == N + lines.height and again.balanced
    stored = shop.orders().sort("order_no")
    assert stored["order_no"].to_list() == sorted(orders["order_no"].to_list())
    assert shop.lines().height == lines.height
    expected = orders.sort("order_no")
    assert stored["paid_fen"].to_list() == expected["paid_fen"].to_list()
    assert stored["trade_status"].to_list() == expected["trade_status"].to_list()


@pytest.mark.parametrize("layout", [46, 61])
@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_every_layout_and_encoding_reads_the_same_orders(layout, encoding, truth, tmp_path, sqlite_url):
    """46 or 61 columns, GB18030 or UTF-8 with a BOM: the same orders come out."""
    orders, lines = truth
    with kit.connect(sqlite_url, actor="店长") as shop:
        summary = import_intake(shop, read(reports(tmp_path, orders, lines, layout, encoding)))
        assert summary.rows["new"] == N + lines.height
        assert shop.orders()["buyer_nick"].sort().to_list() == orders["buyer_nick"].sort().to_list()


def test_later_export_moves_orders_forward(shop, truth, tmp_path):
    """The next day's export says shipped or closed: those orders move, the rest stay."""
    orders, lines = truth
    import_intake(shop, read(reports(tmp_path, orders, lines)))
    waiting = orders.filter(pl.col("trade_status") == "WAIT_SELLER_SEND_GOODS")["order_no"]
    later = orders.with_columns(
        pl.when(pl.col("order_no").is_in(waiting.head(3).implode())).then(pl.lit("TRADE_CLOSED"))
        .otherwise(pl.col("trade_status")).alias("trade_status"),
        pl.when(pl.col("order_no").is_in(waiting.head(3).implode())).then(pl.lit("交易关闭"))
        .otherwise(pl.col("status_text")).alias("status_text"))
    folder = tmp_path / "later"
    folder.mkdir()

    summary = import_intake(shop, read(reports(folder, later, lines)[:1]))

    assert summary.orders["updated"] == 3
    closed = shop.orders(trade_status="TRADE_CLOSED")
    assert set(waiting.head(3).to_list()) <= set(closed["order_no"].to_list())
    assert set(closed.filter(pl.col("order_no").is_in(waiting.head(3).implode()))["stage"]) == {"cancelled"}


def test_quarantined_rows_are_exported_fixed_and_imported_again_S6(shop, truth, tmp_path):
    """Two unreadable amounts: their orders wait; exported, fixed and re-imported, they land."""
    orders, lines = truth
    cells = fx.inject(fx.taobao_order_cells(orders, 56), "买家实际支付金额", "12,50", [3, 7])
    files = [write(tmp_path, "ExportOrderList202611.csv", fx.csv_bytes(cells, "gbk")),
             write(tmp_path, "ExportOrderDetailList202611.csv",
                   fx.csv_bytes(fx.taobao_item_cells(lines), "gbk", trailing_comma=True))]

    summary = import_intake(shop, read(files))
    waiting = quarantine.open_rows(shop)
    out = tmp_path / "fix"
    out.mkdir()
    exported = quarantine.export(shop, out)
    order_file = next(p for p in exported if p.name.startswith("ExportOrderList"))
    order_file.write_bytes(order_file.read_bytes().replace(b"12,50", b"12.50"))
    item_file = next(p for p in exported if p.name.startswith("ExportOrderDetailList"))
    again = import_intake(shop, read([order_file, item_file]))

    bad_orders = [orders["order_no"][3], orders["order_no"][7]]
    assert summary.reasons == {"bad_amount": 2,
                               "order_quarantined": lines.filter(pl.col("order_no").is_in(bad_orders)).height}
    assert set(waiting["order_no"].to_list()) == set(bad_orders)
    assert "12,50" in waiting["message"][0]
    assert again.rows["quarantined"] == 0 and again.orders["new"] == 2
    assert quarantine.open_rows(shop).height == 0
    assert set(shop.orders()["order_no"].to_list()) == set(orders["order_no"].to_list())


def test_tmall_workbook_and_generic_exports(sqlite_url, truth, tmp_path):
    """The per-line Tmall XLSX and a mapped generic CSV import with every row counted."""
    orders, lines = truth
    tmall = write(tmp_path, "tmall.xlsx", fx.xlsx_bytes({"订单": fx.tmall_cells(orders, lines)}))
    generic = write(tmp_path, "export.csv", fx.csv_bytes(fx.generic_cells(orders, lines), "utf-8"))
    with kit.connect(sqlite_url, actor="店长") as shop:
        first = import_intake(shop, read(tmall))
        second = import_intake(shop, read(generic, mapping=fx.GENERIC_MAPPING), platform="other",
                               shop_name="官网商城")

    assert first.balanced and first.rows_in == lines.height
    assert second.balanced and second.rows_in == lines.height
    assert first.rows["quarantined"] == 0
    assert second.reasons.get("order_no_taken", 0) == second.rows["quarantined"]


def test_kit_import_command_reports_the_four_counts(truth, tmp_path, sqlite_url):
    """`kit import --json` prints one object whose counts add up; --quarantine lists the rest."""
    orders, lines = truth
    cells = fx.inject(fx.taobao_order_cells(orders, 46), "订单创建时间", "30/11/2026 12:34", [0])
    files = [write(tmp_path, "ExportOrderList1.csv", fx.csv_bytes(cells, "gbk")),
             write(tmp_path, "ExportOrderDetailList1.csv",
                   fx.csv_bytes(fx.taobao_item_cells(lines), "gbk", trailing_comma=True))]
    runner = CliRunner()

    done = runner.invoke(cli, ["import", *map(str, files), "--db", sqlite_url, "--json", "--review"])
    listed = runner.invoke(cli, ["import", "--quarantine", "--db", sqlite_url, "--json"])

    summary = json.loads(done.stdout)
    assert done.exit_code == 0, done.stderr
    assert summary["balanced"] and summary["rows_in"] == sum(summary[k] for k in
                                                            ("new", "updated", "unchanged", "quarantined"))
    assert summary["quarantine_reasons"]["bad_date"] == 1
    assert set(summary["quarantine_reasons"]) <= {"bad_date", "order_quarantined"}
    assert summary["review"]["reviewed"] > 0
    assert len(json.loads(listed.stdout)["quarantined"]) >= 1


def test_unreadable_file_exits_2_and_writes_nothing(tmp_path, sqlite_url, truth):
    """A file in an encoding no export uses: one message naming it, exit 2, no batch."""
    orders, _ = truth
    bad = write(tmp_path, "ExportOrderList9.csv", fx.file_fault("wrong_encoding",
                                                               fx.taobao_order_cells(orders.head(5))))

    done = CliRunner().invoke(cli, ["import", str(bad), "--db", sqlite_url])

    assert done.exit_code == 2
    assert "ExportOrderList9.csv" in done.stderr
    with kit.connect(sqlite_url) as shop:
        assert shop.audit_trail("batch").height == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 25), faults=st.lists(st.sampled_from(sorted(fx.FAULTS)), max_size=4),
       rows=st.lists(st.integers(0, 24), max_size=4), seed=st.integers(0, 50))
def test_for_any_file_the_four_counts_add_up_to_its_rows_S6(tmp_path_factory, n, faults, rows, seed):
    """Whatever a file holds, every row ends new, updated, unchanged or quarantined — once."""
    orders, lines = fx.shop(n, seed=seed)
    cells = fx.taobao_order_cells(orders, 46)
    for fault, row in zip(faults, rows, strict=False):
        column, text, _ = fx.FAULTS[fault]
        cells = fx.inject(cells, column, text, [row % n])
    folder = tmp_path_factory.mktemp("prop")
    files = [write(folder, "ExportOrderList.csv", fx.csv_bytes(cells, "gbk")),
             write(folder, "ExportOrderDetailList.csv",
                   fx.csv_bytes(fx.taobao_item_cells(lines), "gbk", trailing_comma=True))]
    with kit.connect(str(folder / "kit.db"), actor="店长") as shop:
        summary = import_intake(shop, read(files))
        again = import_intake(shop, read(files))

    assert summary.rows_in == n + lines.height
    assert summary.balanced and again.balanced
    assert again.rows["new"] == 0 and again.rows["updated"] == 0


def test_reviewing_while_importing_decides_like_reviewing_after(truth, tmp_path):
    """Import with review decides each new order exactly as a review run after the import would."""
    orders, lines = truth
    files = reports(tmp_path, orders, lines)
    with kit.connect(str(tmp_path / "during.db"), actor="店长") as during:
        summary = import_intake(during, read(files), review=True)
        at_once = during.orders().select("order_no", "stage", "hold_reasons", "no_price_slip", "version")
        trail = during.audit_trail("order")
    with kit.connect(str(tmp_path / "after.db"), actor="店长") as after:
        import_intake(after, read(files))
        kit.review.run(after)
        later = after.orders().select("order_no", "stage", "hold_reasons", "no_price_slip")

    assert summary.review.reviewed > 0
    assert at_once.drop("version").sort("order_no").equals(later.sort("order_no"))
    reviewed = at_once.filter(pl.col("stage").is_in(["approved", "held"]))
    assert set(reviewed["version"]) == {1}
    assert trail.filter(pl.col("action").is_in(["approve", "hold"])).height == reviewed.height

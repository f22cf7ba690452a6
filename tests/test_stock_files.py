"""Stock files (kit.stock.import_file, read_stock_file): counts (盘点) and receipts from CSV
in UTF-8, UTF-8 with BOM or GBK and from XLSX, Chinese headers, and every way a file can be
wrong, each a BadInput naming the file, the row or the value, with nothing written (S7, S12).
Also the v3 → v4 upgrade: stock held before the ledger gets opening balances and open
shipments their reservations, so the ledger explains every level.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
import xlsxwriter
from orders_factory import make_orders
from test_stock import (
    CUP,
    SOCK,
    TEA,
    TOWEL,
    WAREHOUSE_STAFF,
    as_,
    assert_ledger_explains,
    config,
    ledger,
    level_map,
    open_shop,
    receive,
    snapshot,
)

import kit
from kit import clock, stock
from kit.errors import BadInput, PermissionDenied, Refused
from kit.i18n import set_lang
from kit.store import Store, migrations, schema

FIXTURES = Path(__file__).parent / "fixtures"
VASE = "VASE-CE-01"  # a SKU no order of the upgrade test holds


@pytest.fixture
def shop(db_url: str) -> Iterator[kit.Shop]:
    """The test shop (test_stock.open_shop) on SQLite and on PostgreSQL, as warehouse staff."""
    with open_shop(db_url) as shop:
        yield shop


@pytest.fixture
def lite(sqlite_url: str) -> Iterator[kit.Shop]:
    """The test shop on SQLite only."""
    with open_shop(sqlite_url) as shop:
        yield shop


def csv_file(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """A CSV file with this text in this encoding ("utf-8-sig" writes the BOM)."""
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def xlsx_file(folder: Path, name: str, rows: list[list[object] | None]) -> Path:
    """A workbook whose first sheet holds these rows from A1 (None: an empty row)."""
    path = folder / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("盘点")
    for i, row in enumerate(rows):
        if row is not None:
            sheet.write_row(i, 0, row)
    book.close()
    return path


# --- files that import ------------------------------------------------------------------------


def test_count_file_in_utf8_corrects_the_shelf_S7(shop, tmp_path):
    """A count file (盘点): each row is what is on the shelf; differences become `count`
    ledger rows in one batch named after the file, with each row's own note."""
    receive(shop, ("hq", TEA, 10), ("hq", CUP, 2))
    text = f"仓库,商家编码,数量,备注\nhq,{TEA},8,破损2\nhq,{CUP},0,\ngz,{TOWEL},5,\n"
    path = csv_file(tmp_path, "11月盘点.csv", text)

    result = stock.import_file(shop, path, reason="月末盘点")

    assert {k: result[k] for k in ("mode", "rows", "changed", "units", "thresholds")} == {
        "mode": "count", "rows": 3, "changed": 3, "units": 9, "thresholds": 0,
    }
    assert level_map(shop) == {("hq", TEA): (8, 0), ("hq", CUP): (0, 0), ("gz", TOWEL): (5, 0)}
    rows = ledger(shop, batch_id=result["batch_id"])
    assert set(rows["kind"]) == {"count"}
    reasons = dict(zip(rows["sku"], rows["reason"], strict=True))
    assert reasons == {TEA: "破损2", CUP: "月末盘点", TOWEL: "月末盘点"}
    with shop.store.read() as conn:
        batch = conn.execute(
            sa.select(schema.batches).where(schema.batches.c.batch_id == result["batch_id"])
        ).mappings().one()
    assert (batch["kind"], batch["source"], batch["lines"]) == ("stock_count", "11月盘点.csv", 3)
    assert_ledger_explains(shop)


def test_receipt_file_with_bom_and_no_warehouse_column(lite, tmp_path):
    """UTF-8 with BOM (Excel's "CSV UTF-8"), no warehouse column: --warehouse names it. In
    receipt mode the quantities add to on hand; a row without its own note gets the reason."""
    receive(lite, ("gz", TEA, 1))
    path = csv_file(tmp_path, "到货.csv", f"商家编码,数量,备注\n{TEA},5,\n{CUP},3,换货补发\n", "utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    result = stock.import_file(lite, path, mode="receipt", warehouse="gz", reason="采购到货")

    assert (result["mode"], result["changed"], result["units"]) == ("receipt", 2, 8)
    assert level_map(lite) == {("gz", TEA): (6, 0), ("gz", CUP): (3, 0)}
    rows = ledger(lite, batch_id=result["batch_id"])
    assert set(rows["kind"]) == {"receipt"}
    assert dict(zip(rows["sku"], rows["reason"], strict=True)) == {TEA: "采购到货", CUP: "换货补发"}
    assert_ledger_explains(lite)


def test_gbk_file_with_thresholds_sets_them_and_audits_S12(shop, tmp_path):
    """A GBK file (Excel's default CSV on Chinese Windows) with a 预警值 column: the count
    is applied and the thresholds set, each audited; an empty threshold cell leaves it alone."""
    text = f"仓库,商家编码,数量,预警值\nhq,{TEA},6,10\nhq,{CUP},4,\n"
    path = csv_file(tmp_path, "库存.csv", text, "gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK, not UTF-8 by accident

    result = stock.import_file(shop, path)

    assert (result["rows"], result["thresholds"]) == (2, 1)
    assert level_map(shop) == {("hq", TEA): (6, 0), ("hq", CUP): (4, 0)}
    assert stock.low(shop)["sku"].to_list() == [TEA]  # 6 available, threshold 10
    trail = shop.audit_trail("sku", TEA)
    assert [(r["action"], r["to_state"], r["actor"]) for r in trail.iter_rows(named=True)] == [
        ("set_threshold", "10", WAREHOUSE_STAFF),
    ]
    assert shop.audit_trail("sku", CUP).height == 0
    assert_ledger_explains(shop)


def test_xlsx_with_chinese_headers_imports(shop, tmp_path):
    """An XLSX written by polars (numbers as numbers), headers 仓库 / 商家编码 / 盘点数 /
    安全库存: imported like a CSV."""
    path = tmp_path / "盘点.xlsx"
    pl.DataFrame({
        "仓库": ["hq", "gz", "hq"], "商家编码": [TEA, TEA, SOCK],
        "盘点数": [7, 2, 0], "安全库存": [5, None, 1],
    }).write_excel(path)

    result = stock.import_file(shop, path)

    assert (result["rows"], result["changed"], result["units"], result["thresholds"]) == (3, 2, 9, 2)
    assert level_map(shop) == {("hq", TEA): (7, 0), ("gz", TEA): (2, 0)}
    with shop.store.read() as conn:
        thresholds = dict(conn.execute(sa.select(schema.skus.c.sku, schema.skus.c.low_stock_threshold)).all())
    assert (thresholds[TEA], thresholds[SOCK], thresholds[CUP]) == (5, 1, None)
    assert_ledger_explains(shop)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("stock.csv", f"warehouse,sku,qty,threshold\nhq,{TEA},4,2\n"),
        ("stock.tsv", f"仓库编码\t商品编码\t库存数量\nhq\t{TEA}\t4\n"),
        ("stock.txt", f" 仓库 , SKU ,在库\nhq, {TEA} , 4 \n"),
    ],
    ids=["english-headers", "tsv", "padded"],
)
def test_other_header_spellings_and_separators(lite, tmp_path, name, text):
    """English headers, tab-separated files, padded headers and cells are understood."""
    stock.import_file(lite, csv_file(tmp_path, name, text))

    assert level_map(lite) == {("hq", TEA): (4, 0)}


def test_blank_rows_are_skipped_and_a_blank_warehouse_takes_the_given_one(lite, tmp_path):
    """Empty rows (a spreadsheet's spacing) are skipped; an empty warehouse cell takes
    --warehouse when one is given."""
    path = csv_file(tmp_path, "s.csv", f"仓库,商家编码,数量\nhq,{TEA},3\n,,\n\n,{CUP},2\n")

    frame = stock.read_stock_file(path, warehouse="gz")
    stock.import_file(lite, path, warehouse="gz")

    assert frame.select("_row", "warehouse_code", "sku").rows() == [(2, "hq", TEA), (5, "gz", CUP)]
    assert level_map(lite) == {("hq", TEA): (3, 0), ("gz", CUP): (2, 0)}


# --- files that are refused -------------------------------------------------------------------


def assert_bad(shop: kit.Shop, path: Path, key: str, *named: str, **kw: object) -> BadInput:
    """import_file refuses the file with BadInput `key`, the message names each of `named`,
    and the database is exactly as before."""
    before = snapshot(shop)
    with pytest.raises(BadInput) as caught:
        stock.import_file(shop, path, **kw)
    err = caught.value
    assert err.key == key, err.message
    for text in named:
        assert text in err.message, (text, err.message)
    assert err.exit_code == 2
    assert snapshot(shop) == before
    return err


@pytest.mark.parametrize("value", ["1.5", "-3", "十", "3件"], ids=repr)
@pytest.mark.parametrize("mode", ["count", "receipt"])
def test_bad_quantity_in_a_file_names_the_row_and_value(lite, tmp_path, value, mode):
    """Row 3 holds a fraction, a negative or words: refused naming row 3 and the value; the
    good row 2 is not applied either (all or nothing)."""
    receive(lite, ("hq", TEA, 5))
    path = csv_file(tmp_path, "s.csv", f"仓库,商家编码,数量\nhq,{CUP},4\nhq,{TEA},{value}\n")

    err = assert_bad(lite, path, "stock.bad_quantity", "第 3 行", f"“{value}”", mode=mode)

    assert (err.params["row"], err.params["value"]) == (3, value)


def test_bad_quantity_in_a_workbook_names_the_row_as_excel_shows_it(lite, tmp_path):
    """An empty row in the middle of a sheet still counts: the bad cell is on row 5."""
    path = xlsx_file(tmp_path, "s.xlsx", [["仓库", "商家编码", "数量"], ["hq", TEA, 5], None, ["hq", CUP, 2],
                                          ["hq", SOCK, 1.5]])

    err = assert_bad(lite, path, "stock.bad_quantity", "第 5 行", "“1.5”")

    assert err.params["row"] == 5


def test_a_blank_quantity_is_refused_not_taken_as_zero(lite, tmp_path):
    """A count row with a SKU but no number is a mistake, not "none on the shelf"."""
    receive(lite, ("hq", TEA, 5))
    path = csv_file(tmp_path, "s.csv", f"仓库,商家编码,数量\nhq,{TEA},\n")

    err = assert_bad(lite, path, "stock.bad_quantity", "第 2 行")

    assert err.params["value"] == ""


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        (f"仓库,商家编码,数量\nhq,{TEA},1\nhq,,5\n", 3, "商家编码"),
        (f"仓库,商家编码,数量\n,{TEA},1\n", 2, "仓库"),
        ("warehouse,sku,qty\nhq,  ,1\n", 2, "sku"),
    ],
    ids=["sku", "warehouse", "english"],
)
def test_blank_cells_name_the_file_row_and_column_as_written(lite, tmp_path, text, row, column):
    """A row with a quantity but no SKU (or no warehouse, without --warehouse): refused
    naming the file, the row and the column as its header reads."""
    path = csv_file(tmp_path, "空格.csv", text)

    err = assert_bad(lite, path, "stock.blank_cell", "空格.csv", f"第 {row} 行", f"“{column}”")

    assert (err.params["row"], err.params["column"]) == (row, column)


def test_file_without_a_warehouse_column_needs_one_given(lite, tmp_path):
    """No warehouse column and no --warehouse: refused naming the column and what the file has."""
    path = csv_file(tmp_path, "无仓库.csv", f"商家编码,数量\n{TEA},1\n")

    assert_bad(lite, path, "stock.file_missing_column", "无仓库.csv", "仓库", "商家编码、数量")
    stock.import_file(lite, path, warehouse="hq", mode="receipt")
    assert level_map(lite) == {("hq", TEA): (1, 0)}


@pytest.mark.parametrize(
    ("text", "column"),
    [("仓库,商家编码,件\nhq,X,1\n", "数量"), ("仓库,商品名称,数量\nhq,茶,1\n", "商家编码")],
    ids=["quantity", "sku"],
)
def test_missing_column_is_named(lite, tmp_path, text, column):
    """A file without a quantity or SKU column: the message names the column wanted."""
    assert_bad(lite, csv_file(tmp_path, "s.csv", text), "stock.file_missing_column", "s.csv", column)


@pytest.mark.parametrize(
    ("name", "data"),
    [("empty.csv", b""), ("bom.csv", b"\xef\xbb\xbf"), ("header.csv", "仓库,商家编码,数量\n".encode()),
     ("blank-rows.csv", "仓库,商家编码,数量\n,,\n,,\n".encode())],
    ids=["0-bytes", "only-bom", "header-only", "blank-rows"],
)
def test_empty_file_is_refused_as_empty(lite, tmp_path, name, data):
    """A file with no stock rows says so (not "unreadable, save as UTF-8")."""
    path = tmp_path / name
    path.write_bytes(data)

    assert_bad(lite, path, "stock.file_empty", name)


def test_empty_workbook_is_refused_as_empty(lite, tmp_path):
    """A workbook with an empty sheet, or only the header row, has no stock rows."""
    assert_bad(lite, xlsx_file(tmp_path, "空.xlsx", []), "stock.file_empty", "空.xlsx")
    assert_bad(lite, xlsx_file(tmp_path, "表头.xlsx", [["仓库", "商家编码", "数量"]]), "stock.file_empty")


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not really a zip", b"", "仓库,商家编码,数量\n".encode()],
    ids=["zip", "empty", "csv"],
)
def test_damaged_workbook_is_refused_naming_the_file(lite, tmp_path, data):
    """A damaged .xlsx (or a CSV renamed to .xlsx): unreadable, with the file and the cause."""
    path = tmp_path / "坏的.xlsx"
    path.write_bytes(data)

    err = assert_bad(lite, path, "stock.file_unreadable", "坏的.xlsx")

    assert err.params["detail"]


def test_ragged_csv_is_refused_naming_the_file(lite, tmp_path):
    """A row with more cells than the header is unreadable, not guessed at."""
    path = csv_file(tmp_path, "乱.csv", f"仓库,商家编码,数量\nhq,{TEA},1,多,余\n")

    assert_bad(lite, path, "stock.file_unreadable", "乱.csv")


@pytest.mark.parametrize("name", ["stock.pdf", "stock.json", "stock.xls", "stock"], ids=repr)
def test_wrong_suffix_is_refused(lite, tmp_path, name):
    """Only CSV (also .txt, .tsv) and XLSX are read; the message names the suffix."""
    path = tmp_path / name
    path.write_text(f"仓库,商家编码,数量\nhq,{TEA},1\n", encoding="utf-8")

    err = assert_bad(lite, path, "stock.file_type", name)

    assert err.params["suffix"] == (Path(name).suffix or "—")


def test_missing_file_and_folder_are_refused(lite, tmp_path):
    """A path that is not a file: refused naming it."""
    assert_bad(lite, tmp_path / "nope.csv", "stock.file_missing", "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    assert_bad(lite, tmp_path / "dir.csv", "stock.file_missing", "dir.csv")


@pytest.mark.parametrize(
    ("text", "key", "named"),
    [
        (f"仓库,商家编码,数量\nhq,{TEA},1\nhq,NO-SUCH,2\n", "stock.unknown_sku", "NO-SUCH"),
        (f"仓库,商家编码,数量\nhq,{TEA},1\n北京仓,{TEA},2\n", "stock.unknown_warehouse", "北京仓"),
        (f"仓库,商家编码,数量\nhq,{TEA},1\nhq,{TEA},2\n", "stock.duplicate_item", TEA),
        (f"仓库,商家编码,数量,预警值\nhq,{TEA},1,很多\n", "stock.bad_quantity", "很多"),
        (f"仓库,商家编码,数量,预警值\nhq,{TEA},1,-1\n", "stock.bad_quantity", "-1"),
    ],
    ids=["unknown-sku", "unknown-warehouse", "duplicate", "threshold-words", "threshold-negative"],
)
def test_file_contents_are_checked_before_anything_is_written(lite, tmp_path, text, key, named):
    """Unknown SKUs and warehouses, an item counted twice, a bad threshold: refused naming
    it; the count rows before it are not applied either."""
    receive(lite, ("hq", TEA, 5))

    assert_bad(lite, csv_file(tmp_path, "s.csv", text), key, named)


def test_count_file_below_reserved_is_refused_whole(shop, tmp_path):
    """A count below what orders hold is refused (exit 1) and no row of the file applies."""
    receive(shop, ("hq", TEA, 5), ("hq", CUP, 5))
    with shop.store.write() as conn:
        stock.reserve(conn, pl.DataFrame({"order_no": ["9001"], "line_no": [1], "warehouse_code": ["hq"],
                                          "sku": [TEA], "quantity": [4]}), shop.actor, at=clock.now())
    before = snapshot(shop)
    path = csv_file(tmp_path, "s.csv", f"仓库,商家编码,数量\nhq,{CUP},9\nhq,{TEA},3\n")

    with pytest.raises(Refused) as caught:
        stock.import_file(shop, path)

    assert caught.value.key == "stock.count_below_reserved" and caught.value.exit_code == 1
    assert snapshot(shop) == before


def test_unknown_mode_is_refused(lite, tmp_path):
    """Modes are count and receipt."""
    path = csv_file(tmp_path, "s.csv", f"仓库,商家编码,数量\nhq,{TEA},1\n")

    assert_bad(lite, path, "stock.bad_mode", "transfer", "count", mode="transfer")


def test_messages_follow_the_language(lite, tmp_path):
    """In English the same refusal names the same file and row."""
    path = csv_file(tmp_path, "s.csv", f"仓库,商家编码,数量\nhq,{TEA},1.5\n")
    set_lang("en")

    err = assert_bad(lite, path, "stock.bad_quantity", "1.5")

    assert err.message.startswith("Row 2,")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in err.message)


# --- who may import ---------------------------------------------------------------------------


def test_who_may_import_counts_receipts_and_thresholds(lite, tmp_path):
    """Analysts and pre-sales may not import stock; the kit's own import job may count but
    not set thresholds (a person decides those); warehouse staff may do both."""
    plain = csv_file(tmp_path, "s.csv", f"仓库,商家编码,数量\nhq,{TEA},4\n")
    with_thresholds = csv_file(tmp_path, "t.csv", f"仓库,商家编码,数量,预警值\nhq,{TEA},6,3\n")
    before = snapshot(lite)

    for name in ("分析师", "客服小美"):
        for mode in ("count", "receipt"):
            with pytest.raises(PermissionDenied):
                stock.import_file(as_(lite, name), plain, mode=mode)
    job = lite.as_system("import")
    with pytest.raises(PermissionDenied):
        stock.import_file(job, with_thresholds)
    assert snapshot(lite) == before

    stock.import_file(job, plain)
    stock.import_file(lite, with_thresholds)
    assert level_map(lite) == {("hq", TEA): (6, 0)}
    assert stock.low(lite, below=None).height == 0


# --- the v3 → v4 upgrade ----------------------------------------------------------------------


AT = datetime(2026, 11, 30, 10, 0)
OPEN = {1: ("hq", "allocated"), 2: ("hq", "picking"), 3: ("gz", "packed"), 4: ("hq", "handed_over")}


def _version_3_database(url: str) -> None:
    """A database as version 3 of the kit left it: created from the committed version 1
    DDL (tests/fixtures), then upgraded by migrations 2 and 3 only."""
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    text = (FIXTURES / f"schema_v1.{dialect}.sql").read_text("utf-8")
    ddl = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    engine = sa.create_engine(kit.store.resolve_url(url))
    with engine.begin() as conn:
        for statement in ddl.split(";\n"):
            if statement.strip():
                conn.exec_driver_sql(statement)
    engine.dispose()
    with Store.open(url, migration_list=[m for m in migrations.MIGRATIONS if m.version <= 3]) as store:
        assert store.schema_version() == 3


def _fill_version_3(url: str) -> tuple[pl.DataFrame, dict[tuple[str, str], tuple[int, int]]]:
    """Warehouses, SKUs, four orders with a shipment each (allocated, picking, packed at gz,
    handed over), and stock whose `reserved` holds the open shipments' lines, written the
    way version 3 wrote it (no ledger). Returns the shipment lines (with warehouse and
    stage) and the levels."""
    orders, lines = make_orders(4, stage="allocated")
    engine = sa.create_engine(kit.store.resolve_url(url))
    with engine.begin() as conn:
        assert not sa.inspect(conn).has_table("stock_ledger")
        conn.execute(sa.text("INSERT INTO warehouses (code, name, kind, province) VALUES (:c, :n, :k, :p)"), [
            {"c": "hq", "n": "杭州总仓", "k": "hq", "p": "浙江省"},
            {"c": "gz", "n": "广州门店", "k": "store", "p": "广东省"},
        ])
        conn.execute(sa.text("INSERT INTO skus (sku, title, category, weight_g, price_fen) "
                             "VALUES (:s, :t, 'home', 300, 1000)"),
                     [{"s": s, "t": t} for s, t in lines.select("sku", "title").unique().rows()]
                     + [{"s": VASE, "t": "青瓷花瓶"}])
        columns = ["order_no", "platform", "shop", "buyer_nick", "receiver_name", "receiver_mobile",
                   "province", "city", "district", "address_detail", "payment_method", "total_fen",
                   "payable_fen", "paid_fen", "created_at", "paid_at", "trade_status", "stage"]
        conn.execute(
            sa.text(f"INSERT INTO orders ({', '.join(columns)}, updated_at) "
                    f"VALUES ({', '.join(':' + c for c in columns)}, :updated_at)"),
            [{**{c: r[c] for c in columns}, "updated_at": AT} for r in orders.iter_rows(named=True)],
        )
        line_columns = ["order_no", "line_no", "sku", "title", "quantity", "price_fen", "amount_fen"]
        conn.execute(
            sa.text(f"INSERT INTO order_lines ({', '.join(line_columns)}) "
                    f"VALUES ({', '.join(':' + c for c in line_columns)})"),
            [{c: r[c] for c in line_columns} for r in lines.iter_rows(named=True)],
        )
        ships = {}
        for k, no in enumerate(orders["order_no"], start=1):
            warehouse, stage = OPEN[k]
            ships[no] = conn.execute(
                sa.text("INSERT INTO shipments (order_no, warehouse_code, carrier_code, ship_method, stage,"
                        " created_at, updated_at) VALUES (:o, :w, 'yto', 'online_booking', :s, :at, :at)"
                        " RETURNING shipment_id"),
                {"o": no, "w": warehouse, "s": stage, "at": AT},
            ).scalar_one()
        shipped = lines.with_columns(
            pl.col("order_no").replace_strict(ships, return_dtype=pl.Int64).alias("shipment_id"),
            pl.col("order_no").replace_strict({no: OPEN[k][0] for k, no in enumerate(orders["order_no"], 1)})
            .alias("warehouse_code"),
            pl.col("order_no").replace_strict({no: OPEN[k][1] for k, no in enumerate(orders["order_no"], 1)})
            .alias("stage"),
        )
        conn.execute(
            sa.text("INSERT INTO shipment_lines (shipment_id, order_no, line_no, sku, quantity)"
                    " VALUES (:shipment_id, :order_no, :line_no, :sku, :quantity)"),
            shipped.select("shipment_id", "order_no", "line_no", "sku", "quantity").to_dicts(),
        )
        held = (shipped.filter(pl.col("stage") != "handed_over").group_by("warehouse_code", "sku")
                .agg(pl.col("quantity").sum()))
        levels = {(w, s): (20, q) for w, s, q in held.rows()}
        levels[("hq", VASE)] = (7, 0)  # stock nobody has promised
        levels[("gz", VASE)] = (5, 2)  # reserved by hand, no shipment behind it
        conn.execute(
            sa.text("INSERT INTO stock_levels (warehouse_code, sku, on_hand, reserved)"
                    " VALUES (:w, :s, :o, :r)"),
            [{"w": w, "s": s, "o": o, "r": r} for (w, s), (o, r) in levels.items()],
        )
    engine.dispose()
    return shipped, levels


def test_upgrade_from_version_3_gives_stock_a_ledger_and_open_shipments_reservations(db_url):
    """Stock held before the ledger becomes opening balances (levels unchanged, the ledger
    explains every level); lines of shipments not yet handed over get reservations; the
    handed-over shipment does not; afterwards picking and releasing work on the result."""
    _version_3_database(db_url)
    shipped, levels = _fill_version_3(db_url)

    with kit.connect(db_url, actor="店长", config=config()) as shop:
        with shop.store.read() as conn:
            version = migrations.current_version(conn)
            held = conn.execute(sa.select(
                schema.reservations.c.order_no, schema.reservations.c.line_no,
                schema.reservations.c.warehouse_code, schema.reservations.c.sku,
                schema.reservations.c.quantity, schema.reservations.c.shipment_id,
                schema.reservations.c.status,
            )).all()
            thresholds = conn.execute(sa.select(schema.skus.c.low_stock_threshold)).scalars().all()
        entries = ledger(shop)

        assert version == migrations.latest_version()
        assert level_map(shop) == levels
        assert_ledger_explains(shop)
        open_lines = shipped.filter(pl.col("stage") != "handed_over")
        assert sorted(held) == sorted(
            (r["order_no"], r["line_no"], r["warehouse_code"], r["sku"], r["quantity"], r["shipment_id"],
             "reserved") for r in open_lines.iter_rows(named=True)
        )
        assert set(entries["actor"]) == {"system:migration"} and set(entries["reason"]) == {"期初余额"}
        assert set(entries["kind"]) == {"receipt", "reservation"}
        line_rows = entries.filter(pl.col("order_no").is_not_null())
        assert line_rows.height == open_lines.height  # one reservation row per open line
        assert set(thresholds) == {None}

        picking = open_lines.filter(pl.col("stage") == "picking")
        allocated = open_lines.filter(pl.col("stage") == "allocated")
        with shop.store.write() as conn:
            picked = stock.pick(conn, picking["shipment_id"].unique().to_list(), shop.actor, at=clock.now())
            released = stock.release(conn, allocated["order_no"].unique().to_list(), "买家取消", shop.actor,
                                     at=clock.now())
        assert (picked.height, released.height) == (picking.height, allocated.height)
        assert_ledger_explains(shop)

    with kit.connect(db_url, actor="店长", config=config()) as again:  # the upgrade ran once
        assert ledger(again).height == entries.height + picking.height + allocated.height

"""The store contract: SQLite (WAL) or PostgreSQL by URL, versioned migrations that keep
data, bulk frames in and out, and a clear refusal that changes nothing on disk."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from conftest import drop_pg_database, new_pg_database, postgres_admin_url
from orders_factory import make_orders

import kit
from kit.errors import BadInput, StoreError
from kit.store import Store, migrations, schema
from kit.store.migrations import Migration


def fingerprint(path: Path) -> tuple[str, float, list[str]]:
    """Content hash, modification time and sibling files: what 'unchanged on disk' means."""
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime,
            sorted(p.name for p in path.parent.iterdir()))


def test_new_database_is_created_at_the_latest_version(db_url):
    """Opening an empty database creates every table and stamps the newest version."""
    with Store.open(db_url) as store, store.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())

    assert set(schema.metadata.tables) <= tables
    assert Store.open(db_url).schema_version() == migrations.latest_version()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    """SQLite is opened in WAL mode with foreign keys enforced."""
    with Store.open(str(tmp_path / "kit.db")) as store, store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_default_database_is_var_kit_db(tmp_path, monkeypatch):
    """Without --db or KIT_DATABASE_URL the store is ./var/kit.db, created on first use."""
    monkeypatch.chdir(tmp_path)

    with Store.open() as store:
        assert store.sqlite_file == str(Path("var") / "kit.db")
    assert (tmp_path / "var" / "kit.db").exists()


def test_upgrade_keeps_existing_data(db_url):
    """An older database is upgraded in place by the next migration; its orders stay."""
    with kit.connect(db_url, actor="店长") as shop:
        orders, lines = make_orders(5)
        shop.insert_orders(orders, lines, kind="test", source="before upgrade")

    def add_priority(conn: sa.Connection) -> None:
        conn.exec_driver_sql("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 0")
        conn.exec_driver_sql("UPDATE orders SET priority = 1 WHERE payment_method = 'online'")

    newer = [*migrations.MIGRATIONS, Migration(migrations.latest_version() + 1, "priority", add_priority)]
    with pytest.raises(StoreError, match="kit init"):
        Store.open(db_url, migrate=False, migration_list=newer)
    with Store.open(db_url, migration_list=newer) as store, store.read() as conn:
        rows = conn.exec_driver_sql("SELECT order_no, priority FROM orders ORDER BY order_no").all()
        version = migrations.current_version(conn)

    assert [r[0] for r in rows] == sorted(orders["order_no"].to_list())
    assert {r[1] for r in rows} == {1}
    assert version == migrations.latest_version() + 1


def test_migrations_are_numbered_and_described():
    """Migration versions run 1..N without gaps and each says what it changes."""
    versions = [m.version for m in migrations.MIGRATIONS]

    assert versions == list(range(1, len(versions) + 1))
    assert all(m.description for m in migrations.MIGRATIONS)
    assert all(m.upgrade is not None for m in migrations.MIGRATIONS[1:])


def test_schema_newer_than_the_kit_is_refused_and_file_untouched(tmp_path):
    """A database from a newer kit is refused with a clear message; no byte changes."""
    path = tmp_path / "kit.db"
    Store.open(str(path)).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO kit_schema VALUES (99, 'from the future', '2030-01-01 00:00:00')")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = fingerprint(path)

    with pytest.raises(StoreError) as info:
        Store.open(str(path))

    assert "99" in info.value.message
    assert info.value.exit_code == 2
    assert fingerprint(path) == before


def test_schema_newer_than_the_kit_is_refused_on_postgresql(pg_url):
    """The same refusal on PostgreSQL, with nothing applied."""
    Store.open(pg_url).close()
    engine = sa.create_engine(kit.store.resolve_url(pg_url))
    with engine.begin() as conn:
        conn.execute(schema.kit_schema.insert().values(
            version=99, description="future", applied_at=datetime(2030, 1, 1)))
    engine.dispose()

    with pytest.raises(StoreError, match="99"):
        Store.open(pg_url)


@pytest.mark.parametrize("content", [b"this is not a database at all" * 10,
                                     b"SQLite format 3\x00" + b"\xff" * 500])
def test_corrupt_sqlite_file_is_refused_and_untouched(tmp_path, content):
    """A damaged SQLite file gives one clear message, exit code 2, and stays as it was."""
    path = tmp_path / "kit.db"
    path.write_bytes(content)
    before = fingerprint(path)

    with pytest.raises(StoreError) as info:
        Store.open(str(path))

    assert str(path) in info.value.message
    assert info.value.exit_code == 2
    assert fingerprint(path) == before


def test_foreign_database_is_not_taken_over(tmp_path):
    """A database that already has an unrelated 'orders' table is refused, not altered."""
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE orders (id INTEGER)")
    con.commit()
    con.close()

    with pytest.raises(StoreError, match="orders"):
        Store.open(str(path))


@pytest.mark.parametrize("url", ["mysql://u@h/db", "oracle://x", "http://example.invalid/db"])
def test_unknown_scheme_is_refused(url):
    """An unknown URL scheme names the scheme and the ones that work."""
    with pytest.raises(StoreError) as info:
        Store.open(url)

    assert url.split(":")[0] in info.value.message
    assert "postgresql://" in info.value.message


def test_unreachable_postgresql_is_refused_quickly():
    """A PostgreSQL server that does not answer gives a message with the masked URL."""
    with pytest.raises(StoreError) as info:
        Store.open("postgresql://kit:secret@127.0.0.1:1/nowhere")

    assert "secret" not in info.value.message
    assert "127.0.0.1:1" in info.value.message


def test_missing_directory_is_refused(tmp_path):
    """An SQLite path in a folder that does not exist is refused, not created."""
    with pytest.raises(StoreError, match="nowhere"):
        Store.open(str(tmp_path / "nowhere" / "kit.db"))

    assert not (tmp_path / "nowhere").exists()


def test_frames_round_trip_with_types(db_url):
    """Orders written as a frame read back as a frame with the same values and dtypes."""
    with kit.connect(db_url, actor="店长") as shop:
        orders, lines = make_orders(20)
        shop.insert_orders(orders, lines, kind="test", source="round trip")
        back = shop.orders()
        back_lines = shop.lines()

    assert back.height == 20
    assert back.schema["paid_at"] == pl.Datetime("us")
    assert back.schema["phone_confirmed"] == pl.Boolean
    assert back.schema["total_fen"] == pl.Int64
    assert back.sort("order_no")["payable_fen"].to_list() == orders.sort("order_no")["payable_fen"].to_list()
    assert back_lines.height == lines.height


def test_frame_with_unknown_or_missing_columns_is_refused(tmp_path):
    """Bulk writes name the columns a table lacks or needs."""
    with Store.open(str(tmp_path / "kit.db")) as store:
        with pytest.raises(BadInput, match="colour"):
            store.insert_frame(schema.skus, pl.DataFrame({"sku": ["A"], "colour": ["red"]}))
        with pytest.raises(BadInput, match="weight_g"):
            store.insert_frame(schema.skus, pl.DataFrame({"sku": ["A"], "title": ["t"],
                                                          "category": ["home"], "price_fen": [1]}))


def test_duplicate_order_batch_writes_nothing(db_url):
    """A batch with an order number already stored is refused whole (no half batch)."""
    with kit.connect(db_url, actor="店长") as shop:
        orders, lines = make_orders(3)
        shop.insert_orders(orders, lines, kind="test", source="first")
        more, more_lines = make_orders(3, start=3)  # overlaps the last order of the first batch

        with pytest.raises(BadInput, match="second"):
            shop.insert_orders(more, more_lines, kind="test", source="second")

        assert shop.orders().height == 3
        assert shop.audit_trail("batch").height == 1


def test_stock_can_never_go_negative_or_over_reserve(db_url):
    """The database itself refuses negative stock and reservations beyond what is on hand."""
    with Store.open(db_url) as store:
        with store.write() as conn:
            conn.execute(schema.warehouses.insert().values(code="hq", name="总仓", kind="hq",
                                                           province="浙江省"))
            conn.execute(schema.stock_levels.insert().values(warehouse_code="hq", sku="A",
                                                             on_hand=2, reserved=1))
        for values in ({"on_hand": -1}, {"reserved": 3}, {"reserved": -1}):
            with pytest.raises(sa.exc.IntegrityError), store.write() as conn:
                conn.execute(sa.update(schema.stock_levels).values(**values))
        level = store.frame(sa.select(schema.stock_levels)).row(0, named=True)

    assert (level["on_hand"], level["reserved"]) == (2, 1)


FIXTURES = Path(__file__).parent / "fixtures"


def _described(conn: sa.Connection) -> dict[str, dict[str, tuple[str, bool]]]:
    """Every table's columns as (type as the dialect spells it, nullable)."""
    inspector = sa.inspect(conn)
    return {
        table: {c["name"]: (str(c["type"].compile(dialect=conn.dialect)), c["nullable"])
                for c in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def test_version_1_database_upgrades_to_the_fresh_schema_keeping_orders(db_url, tmp_path):
    """A database created by version 1 of the kit upgrades to exactly the schema a new one
    gets, and its orders, lines and audit survive."""
    dialect = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    engine = sa.create_engine(kit.store.resolve_url(db_url))
    text = (FIXTURES / f"schema_v1.{dialect}.sql").read_text("utf-8")
    ddl = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in ddl.split(";\n"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        conn.exec_driver_sql(
            "INSERT INTO batches (kind, source, actor, role, at) "
            "VALUES ('import', 'old.csv', '店长', 'supervisor', '2026-11-01 10:00:00')")
        conn.exec_driver_sql(
            "INSERT INTO orders (order_no, platform, shop, buyer_nick, receiver_name, province, city,"
            " district, address_detail, payment_method, total_fen, payable_fen, created_at,"
            " trade_status, stage, updated_at, batch_id) VALUES ('100200300400500600', 'taobao',"
            " '示例小店', 'tb123', '王某', '浙江省', '杭州市', '西湖区', '文三路1号', 'online', 1000,"
            " 1000, '2026-11-01 09:00:00', 'WAIT_SELLER_SEND_GOODS', 'new', '2026-11-01 10:00:00', 1)")
        conn.exec_driver_sql(
            "INSERT INTO order_lines (order_no, line_no, sku, title, quantity, price_fen, amount_fen)"
            " VALUES ('100200300400500600', 1, 'SKU-1', '茶杯', 2, 500, 1000)")
    engine.dispose()

    with Store.open(db_url) as store, store.read() as conn:
        upgraded = _described(conn)
        version = migrations.current_version(conn)
        line = conn.exec_driver_sql("SELECT sku, quantity, ship_part FROM order_lines").one()
    if dialect == "sqlite":
        with Store.open(f"sqlite:///{tmp_path / 'fresh.db'}") as store, store.read() as conn:
            fresh = _described(conn)
    else:
        fresh_url, admin, name = new_pg_database(postgres_admin_url())
        try:
            with Store.open(fresh_url) as store, store.read() as conn:
                fresh = _described(conn)
        finally:
            drop_pg_database(admin, name)

    assert version == migrations.latest_version()
    assert tuple(line) == ("SKU-1", 2, 1)
    assert upgraded == fresh

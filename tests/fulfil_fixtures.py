"""The shop-building and reading code the fulfilment tests share (test_picking, test_packing,
test_shipping, test_cli_fulfil, test_ui_warehouse).

    from fulfil_fixtures import (clock_fixture,  # noqa: F401  (a fixture: `clock`)
                                 db_url_fixture,  # noqa: F401  (a fixture: `db_url`)
                                 built_shops, ...)
    built = built_shops(build)  # the module's `built` fixture: built("sqlite") → the shop's URL

- Parcels taken the whole way, picked, packed, handed over and confirmed (ship).
- The test shops' people, warehouses, sender and catalogue (STAFF, WAREHOUSES, SENDER,
  catalogue(...)), their settings (config), one approved order with chosen lines (add_order),
  settings, catalogue and opening stock in one step (open_shop).
- A module's test shop written once per database by its `build(url)` at NOW, and copied
  fresh for each test (built_shops, copy_of; the db_url fixture: SQLite and PostgreSQL).
- The clock fixture, and readers: a table's rows (table), the tables a refused call must
  leave alone (snapshot), a parcel's id (shipment_of), a stock level (level), the ledger
  check (assert_ledger_explains); packing a parcel as a careful packer does (pack_all).
- The gift shop of test_packing and test_ui_warehouse (GIFT, PLAIN, SPLIT; build_gift_shop).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from conftest import drop_pg_database, new_pg_database, postgres_admin_url, skip_or_fail
from orders_factory import LINE_SCHEMA, make_orders, order_no

import kit
from kit import packing, picking, shipping, stock
from kit.allocation import allocate
from kit.store import schema
from kit.store.frames import read_frame

STAFF = {"店长": "supervisor", "仓管小李": "warehouse", "仓管小王": "warehouse", "物流小张": "logistics",
         "客服小美": "presale", "售后小雅": "aftersale", "分析师": "analyst"}
WAREHOUSES = [
    {"code": "hq", "name": "杭州总仓", "kind": "hq", "province": "浙江省", "city": "杭州市",
     "serves": ["浙江省", "上海市", "江苏省"]},
    {"code": "gz", "name": "广州门店", "kind": "store", "province": "广东省", "city": "广州市",
     "serves": ["广东省", "湖北省"]},
]
SENDER = {"mobile": "13800000000", "detail": "文一西路 1 号"}
SKU_COLUMNS = ["sku", "title", "spec", "category", "weight_g", "price_fen"]
CATALOGUE = {row[0]: row for row in [
    ("BAG-A", "帆布包", "米色", "bags", 500, 4900),
    ("CUP-A", "双层玻璃杯", "透明", "fragile", 400, 5900),
    ("SCARF-A", "羊毛围巾", "灰色", "apparel", 150, 6900),
    ("SOCK-A", "羊毛袜", "均码", "apparel", 100, 8900),
    ("TEA-A", "明前龙井", "250克", "tea", 300, 10000),
    ("TSHIRT-A", "纯棉T恤", "L", "apparel", 200, 9900),
]}
NOW = datetime(2026, 12, 3, 15, 0)  # the shops are built at Thu 15:00
PACKED_AT = datetime(2026, 12, 3, 16, 0)
TABLES = ("orders", "shipments", "waves", "audit", "stock_levels", "stock_ledger", "reservations",
          "backorders", "pack_register", "outbox", "flags", "batches")


def catalogue(*skus: str) -> pl.DataFrame:
    """The catalogue rows of these SKUs, in this order (sku, title, spec, category, weight, price)."""
    return pl.DataFrame([CATALOGUE[sku] for sku in skus], schema=SKU_COLUMNS, orient="row")


def config(*, sender: dict[str, str] | None = None, source: str | None = None,
           **sections: Any) -> kit.config.Config:
    """The test shop's settings (with the sender set unless `sender` says otherwise)."""
    data: dict[str, Any] = {"staff": STAFF, "warehouses": WAREHOUSES,
                            "shop": {"sender": SENDER if sender is None else sender}, **sections}
    return kit.config.parse(data, source=source)


def add_order(shop: kit.Shop, k: int, items: list[tuple[Any, ...]], *, source: str = "test",
              **columns: Any) -> str:
    """One approved order (make_orders' k-th buyer and address) with these lines, (sku,
    quantity) or (sku, quantity, is a gift), and `columns` of the order set (ship_by, …)."""
    orders, _ = make_orders(1, start=k, stage="approved")
    orders = orders.with_columns(**{c: pl.lit(v, orders.schema[c]) for c, v in columns.items()})
    no = orders["order_no"][0]
    lines = pl.DataFrame(
        [{"order_no": no, "line_no": i, "sub_order_no": f"{no}{i:02d}", "sku": sku,
          "title": CATALOGUE[sku][1], "spec": CATALOGUE[sku][2], "quantity": qty,
          "price_fen": CATALOGUE[sku][5], "discount_fen": 0, "amount_fen": qty * CATALOGUE[sku][5],
          "is_gift_item": bool(gift and gift[0])}
         for i, (sku, qty, *gift) in enumerate(items, 1)],
        schema=LINE_SCHEMA,
    )
    shop.insert_orders(orders, lines, kind="test", source=source)
    return no


def open_shop(shop: kit.Shop, skus: pl.DataFrame, opening: list[tuple[str, str, int]],
              locations: dict[tuple[str, str], str] | None = None) -> None:
    """Settings, catalogue and opening stock ((warehouse, sku, quantity); shelf locations by
    (warehouse, sku)) written into a new shop."""
    shop.sync_settings()
    shop.store.insert_frame(schema.skus, skus)
    stock.receive_goods(shop, [{"warehouse_code": w, "sku": s, "quantity": q} for w, s, q in opening],
                        reason="开仓")
    if not locations:
        return
    lv = schema.stock_levels
    with shop.store.write() as conn:
        for (warehouse, sku), location in locations.items():
            conn.execute(lv.update().where(lv.c.warehouse_code == warehouse, lv.c.sku == sku)
                         .values(location=location))


def pack_all(shop: kit.Shop, shipment_id: int) -> dict[str, Any]:
    """Pack a picking shipment as a careful packer does: every unit scanned, the expected weight."""
    sheet = packing.sheet(shop, shipment_id)
    scans = [sku for sku, n in sheet["items"].select("sku", "quantity").iter_rows() for _ in range(n)]
    return packing.pack(shop, shipment_id, scans, sheet["expected_g"])


def ship(shop: kit.Shop, numbers: dict[int, str], *, packed: Iterable[int] = (),
         confirmed: Iterable[int] | None = None) -> None:
    """Take allocated parcels the whole way as the shop's staff do: picked in a wave and packed by
    仓管小李 (the parcels of `numbers` and those only `packed`), handed to the courier with their
    numbers (`numbers`: shipment id → tracking number) and confirmed on the platform (`confirmed`,
    default every handed-over one) by 物流小张. Asserts that nothing is refused."""
    warehouse, clerk = shop.acting_as("仓管小李"), shop.acting_as("物流小张")
    picked = sorted({*numbers, *packed})
    picking.start_waves(warehouse, shipment_ids=picked)
    for sid in picked:
        pack_all(warehouse, sid)
    done = shipping.hand_over(clerk, [{"shipment_id": sid, "tracking_no": no} for sid, no in numbers.items()])
    assert done["refused"] == [], done
    if numbers:
        confirm = sorted(numbers) if confirmed is None else list(confirmed)
        result = shipping.confirm(clerk, confirm)
        assert result["refused"] == [], result


# --- reading the shop ---------------------------------------------------------------------------


def table(shop: kit.Shop, name: str, **where: Any) -> pl.DataFrame:
    """A table's rows (those whose columns equal `where`), in key order."""
    tb = schema.metadata.tables[name]
    stmt = sa.select(tb).where(*(tb.c[k] == v for k, v in where.items())).order_by(*tb.primary_key.columns)
    with shop.store.read() as conn:
        return read_frame(conn, stmt)


def snapshot(shop: kit.Shop) -> dict[str, list[tuple]]:
    """The rows of every table a fulfilment step writes (TABLES): equal before and after a
    refused call means it wrote nothing."""
    return {name: table(shop, name).rows() for name in TABLES}


def shipment_of(shop: kit.Shop, order: str, warehouse: str | None = None) -> int:
    """The id of the order's one shipment (from `warehouse`, when the order has two)."""
    where = {"order_no": order} | ({"warehouse_code": warehouse} if warehouse else {})
    ids = table(shop, "shipments", **where)["shipment_id"].to_list()
    assert len(ids) == 1, ids
    return ids[0]


def level(shop: kit.Shop, warehouse: str, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of a SKU in a warehouse."""
    row = table(shop, "stock_levels", warehouse_code=warehouse, sku=sku).row(0, named=True)
    return row["on_hand"], row["reserved"]


def assert_ledger_explains(shop: kit.Shop) -> None:
    """Every level is the sum of its ledger rows (kit stock check)."""
    assert stock.check_ledger(shop).to_dicts() == []


# --- the test shop, built once per module and copied for each test ------------------------------


SAVED: dict[str, dict[str, list[dict[str, Any]]]] = {}  # built PostgreSQL shop → its rows, by table
TABLES_IN_ORDER = [tb for tb in schema.metadata.sorted_tables if tb.name != "kit_schema"]


def _module_pg_database() -> tuple[str, sa.Engine, str]:
    """A new PostgreSQL database for one module (skip or fail, as conftest's pg_url, without one)."""
    admin = postgres_admin_url()
    if admin is None:
        skip_or_fail("PostgreSQL not available: set KIT_TEST_POSTGRES_URL", "KIT_REQUIRE_POSTGRES")
    try:
        return new_pg_database(admin)
    except sa.exc.OperationalError as exc:
        skip_or_fail(f"PostgreSQL at KIT_TEST_POSTGRES_URL unreachable: {exc.orig}", "KIT_REQUIRE_POSTGRES")
        raise  # skip_or_fail has raised already


def built_shops(build: Callable[[str], object]) -> Any:
    """The module's `built` fixture: built(kind) → the URL of the test shop `build(url)` writes,
    at NOW, once per module on "sqlite" or "postgresql"; each test gets it fresh from `copy_of`
    (building it for each test, or creating and dropping a PostgreSQL database each time,
    would take most of their time)."""

    @pytest.fixture(scope="module", name="built")
    def built_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
        made: dict[str, str] = {}
        to_drop: list[tuple[sa.Engine, str]] = []

        def get(kind: str) -> str:
            if kind not in made:
                if kind == "sqlite":
                    url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'kit.db'}"
                else:
                    url, engine, name = _module_pg_database()
                    to_drop.append((engine, name))
                with pytest.MonkeyPatch.context() as patch:
                    patch.setattr(kit.clock, "now", lambda: NOW)
                    build(url)
                if kind == "postgresql":
                    engine = sa.create_engine(url)
                    with engine.connect() as conn:
                        SAVED[url] = {tb.name: [dict(r) for r in conn.execute(sa.select(tb)).mappings()]
                                      for tb in TABLES_IN_ORDER}
                    engine.dispose()
                made[kind] = url
            return made[kind]

        yield get
        for engine, name in to_drop:
            drop_pg_database(engine, name)

    return built_fixture


@contextmanager
def copy_of(template: str, tmp_path: Path) -> Iterator[str]:
    """The built shop `template`, fresh: SQLite, a copy of its file; PostgreSQL, the module's
    database with every row put back as built and the id sequences reset."""
    if template.startswith("sqlite"):
        source, dest = sa.make_url(template).database, str(tmp_path / "kit.db")
        for suffix in ("", "-wal"):
            if Path(source + suffix).exists():
                shutil.copyfile(source + suffix, dest + suffix)
        yield f"sqlite:///{dest}"
        return
    engine = sa.create_engine(template)
    with engine.begin() as conn:
        for tb in reversed(TABLES_IN_ORDER):
            conn.execute(tb.delete())
        for tb in TABLES_IN_ORDER:
            if SAVED[template][tb.name]:
                conn.execute(tb.insert(), SAVED[template][tb.name])
            for col in tb.primary_key.columns:
                if col.autoincrement is True:
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{tb.name}', '{col.name}'), "
                        f"coalesce((SELECT max({col.name}) FROM {tb.name}), 0) + 1, false)")
    engine.dispose()
    yield template


@pytest.fixture(params=["sqlite", "postgresql"], name="db_url")
def db_url_fixture(request: pytest.FixtureRequest, tmp_path: Path,
                   built: Callable[[str], str]) -> Iterator[str]:
    """conftest's db_url overridden where imported: the same test on SQLite and on PostgreSQL,
    each starting from the module's test shop as built (see `built_shops` and `copy_of`)."""
    with copy_of(built(request.param), tmp_path) as url:
        yield url


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    """kit.clock.now() returns clock["now"] (NOW to begin with)."""
    moment = {"now": NOW}
    monkeypatch.setattr(kit.clock, "now", lambda: moment["now"])
    return moment


# --- the gift shop (test_packing, test_ui_warehouse) --------------------------------------------


GIFT_SKUS = catalogue("CUP-A", "TSHIRT-A", "SCARF-A", "TEA-A")
GIFT_OPENING = [("hq", "CUP-A", 10), ("hq", "TSHIRT-A", 10), ("hq", "SCARF-A", 10), ("gz", "TEA-A", 5)]
GIFT, PLAIN, SPLIT = order_no(7), order_no(3), order_no(14)  # 浙江, 上海, 浙江
GIFT_SCANS = ["CUP-A", "TSHIRT-A", "TSHIRT-A", "SCARF-A"]  # every unit of GIFT


def build_gift_shop(url: str, *, waves: bool, source: str) -> None:
    """Three approved orders on a fresh database, allocated (and put in pick waves if `waves`):
    GIFT (CUP-A 1, TSHIRT-A 2, SCARF-A 1 a gift line; a birthday message, no price slip),
    PLAIN (TSHIRT-A 1), SPLIT (CUP-A 1 from hq, TEA-A 1 from gz)."""
    with kit.connect(url, actor="店长", config=config()) as shop:
        open_shop(shop, GIFT_SKUS, GIFT_OPENING)
        add_order(shop, 7, [("CUP-A", 1), ("TSHIRT-A", 2), ("SCARF-A", 1, True)], source=source,
                  buyer_message="送朋友的生日礼物", no_price_slip=True)
        add_order(shop, 3, [("TSHIRT-A", 1)], source=source)
        add_order(shop, 14, [("CUP-A", 1), ("TEA-A", 1)], source=source)
        warehouse = shop.acting_as("仓管小李")
        assert sorted(allocate(warehouse).allocated) == sorted([GIFT, PLAIN, SPLIT])
        if waves:
            picking.start_waves(warehouse)


# --- the `kit` command line on the test shop ---------------------------------------------------


def toml_value(value: Any) -> str:
    """A string or a list of strings as TOML (JSON's quoting is TOML's for these)."""
    return json.dumps(value, ensure_ascii=False)


def kit_toml(path: Path, *, sender: bool = True, extra: tuple[str, ...] = ()) -> Path:
    """The test shop's settings as a kit.toml (the logistics clerk is the local user), with the
    sender address unless `sender` is false, and `extra` lines (e.g. a carrier's table)."""
    text = ["[shop]", 'local_user = "物流小张"', ""]
    if sender:
        text += ["[shop.sender]", *(f"{k} = {toml_value(v)}" for k, v in SENDER.items()), ""]
    text += [*extra, ""] if extra else []
    text += ["[staff]", *(f"{toml_value(name)} = {toml_value(role)}" for name, role in STAFF.items()), ""]
    for wh in WAREHOUSES:
        text += ["[[warehouses]]", *(f"{k} = {toml_value(v)}" for k, v in wh.items()), ""]
    path.write_text("\n".join(text), "utf-8")
    return path


def invoke(*args: str, stdin: str | None = None) -> Any:
    """Run kit with these arguments (a click Result: stdout and stderr apart)."""
    from click.testing import CliRunner

    from kit.cli import cli

    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def run_json(*args: str, stdin: str | None = None) -> tuple[int, dict[str, Any], str]:
    """Run kit with --json: the exit code, the one JSON object that is all of stdout, stderr."""
    result = invoke(*args, "--json", stdin=stdin)
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    payload = json.loads(lines[0])
    assert isinstance(payload, dict)
    return result.exit_code, payload, result.stderr

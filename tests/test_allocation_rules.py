"""Allocation (分仓) on a small shop, rule by rule, on SQLite and PostgreSQL (S17, S23, S24b).

The shop: headquarters `hq` in 浙江省, stores `gz` (广东省) and `bj` (北京市), and a
drop-ship supplier `sup` (福建省). Every test ends by checking the books
(`assert_books`): the ledger explains every level, `reserved` is the sum of the open
reservations, each order's stage has its chain of audit rows, and the open shipments
hold exactly the lines of the allocated orders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from conftest import drop_pg_database, new_pg_database, postgres_admin_url, skip_or_fail
from orders_factory import make_orders

import kit
from kit import stock
from kit.allocation import AllocationPolicy, allocate, backorders, deallocate
from kit.errors import BadInput, PermissionDenied
from kit.store import schema
from kit.store.frames import read_frame

STAFF = {"店长": "supervisor", "仓管甲": "warehouse", "客服乙": "presale", "分析丙": "analyst"}
WAREHOUSES = [
    {"code": "hq", "name": "总仓", "kind": "hq", "province": "浙江省", "city": "杭州市"},
    {"code": "gz", "name": "广州门店", "kind": "store", "province": "广东省", "city": "广州市"},
    {"code": "bj", "name": "北京门店", "kind": "store", "province": "北京市", "city": "北京市"},
    {"code": "sup", "name": "鞋厂", "kind": "supplier", "province": "福建省", "city": "泉州市"},
]
SKUS = ("TEA", "CUP", "TOWEL", "SHOE")  # SHOE: the supplier's
PAID = datetime(2026, 11, 30, 9, 0)
NEAREST, WHOLE = AllocationPolicy(), AllocationPolicy(split=False)
ADDRESS = {  # province, city, district of the test buyers (made up streets)
    "广东省": ("广东省", "深圳市", "南山区"),
    "北京市": ("北京市", "北京市", "朝阳区"),
    "浙江省": ("浙江省", "杭州市", "余杭区"),
    "火星": ("火星", "某市", "某区"),
}


def config(**allocation: Any) -> kit.config.Config:
    return kit.config.parse({"staff": STAFF, "warehouses": WAREHOUSES, "allocation": allocation})


def open_shop(url: str, **allocation: Any) -> kit.Shop:
    """The test shop on `url`: staff, warehouses and SKUs written, acting as the warehouse."""
    shop = kit.connect(url, actor="店长", config=config(**allocation))
    shop.sync_settings()
    with shop.store.write() as conn:
        have = read_frame(conn, sa.select(schema.skus.c.sku))["sku"].to_list()
        rows = [
            {"sku": s, "title": f"测试商品 {s}", "category": "测试", "weight_g": 100 * (i + 1),
             "price_fen": 990}
            for i, s in enumerate(SKUS)
            if s not in have
        ]
        if rows:
            conn.execute(schema.skus.insert(), rows)
    return shop.acting_as("仓管甲")


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """One PostgreSQL database for this module, emptied before each test (creating and
    dropping one per test takes seconds on a slow disk)."""
    admin = postgres_admin_url()
    if admin is None:
        skip_or_fail("PostgreSQL not available: set KIT_TEST_POSTGRES_URL", "KIT_REQUIRE_POSTGRES")
    try:
        url, engine, name = new_pg_database(admin)
    except sa.exc.OperationalError as exc:
        skip_or_fail(f"PostgreSQL at KIT_TEST_POSTGRES_URL unreachable: {exc.orig}", "KIT_REQUIRE_POSTGRES")
    kit.connect(url).close()  # the kit's tables
    yield url
    drop_pg_database(engine, name)


def emptied(url: str) -> str:
    """The database with every table but the schema version empty, ids from 1 again."""
    engine = sa.create_engine(url)
    names = ", ".join(t.name for t in schema.metadata.sorted_tables if t.name != "kit_schema")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A new SQLite file, or the module's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kit.db'}"
    return emptied(request.getfixturevalue("pg_database"))


@pytest.fixture
def pg(pg_database) -> str:
    """The module's PostgreSQL database, emptied."""
    return emptied(pg_database)


@pytest.fixture
def shop(url):
    """The test shop on an empty database (SQLite and PostgreSQL)."""
    with open_shop(url) as shop:
        yield shop


def put(shop: kit.Shop, **items: int) -> None:
    """Goods received: put(shop, gz_TEA=3, hq_CUP=1)."""
    rows = [
        {"warehouse_code": key.split("_", 1)[0], "sku": key.split("_", 1)[1], "quantity": n}
        for key, n in items.items()
    ]
    stock.receive_goods(shop.acting_as("店长"), rows, reason="到货")


def add_order(
    shop: kit.Shop,
    number: int,
    province: str,
    lines: list[tuple[str, int] | tuple[str, int, int]],
    *,
    paid_minute: int | None = None,
    **over: Any,
) -> str:
    """One order numbered `number` to a buyer in `province`, approved by default, with lines
    (sku, quantity[, ship_part]); paid `paid_minute` minutes after 09:00 (default: number)."""
    orders, template = make_orders(1, stage="approved", start=number)
    no = orders["order_no"][0]
    prov, city, district = ADDRESS[province]
    paid = PAID + timedelta(minutes=number if paid_minute is None else paid_minute)
    orders = orders.with_columns(
        pl.lit(prov).alias("province"),
        pl.lit(city).alias("city"),
        pl.lit(district).alias("district"),
        pl.lit(paid, pl.Datetime("us")).alias("paid_at"),
        pl.lit(paid - timedelta(minutes=1), pl.Datetime("us")).alias("created_at"),
        *[pl.lit(v, orders.schema.get(k, pl.String)).alias(k) for k, v in over.items()],
    )
    rows = []
    for i, line in enumerate(lines, start=1):
        sku, qty, part = (*line, 1) if len(line) == 2 else line
        rows.append(
            {
                "order_no": no, "line_no": i, "sub_order_no": f"{no}{i:02d}", "sku": sku,
                "title": f"测试商品 {sku}", "spec": None, "quantity": qty, "price_fen": 990,
                "discount_fen": 0, "amount_fen": 990 * qty, "is_gift_item": False, "ship_part": part,
            }
        )
    frame = pl.DataFrame(rows, schema={**template.schema, "ship_part": pl.Int64})
    total = int(frame["amount_fen"].sum())
    orders = orders.with_columns(
        pl.lit(total).alias("total_fen"), pl.lit(0).alias("discount_fen"),
        pl.lit(total).alias("payable_fen"), pl.lit(total).alias("paid_fen"),
    )
    shop.acting_as("店长").insert_orders(orders, frame, kind="test", source="allocation")
    return no


def run(shop: kit.Shop, policy: AllocationPolicy = NEAREST, **kw: Any):
    """One allocation run, then the books are checked."""
    result = allocate(shop, policy=policy, **kw)
    assert_books(shop)
    return result


def table(shop: kit.Shop, name: str) -> pl.DataFrame:
    with shop.store.read() as conn:
        return read_frame(conn, sa.select(schema.metadata.tables[name]))


def shipments(shop: kit.Shop, *, open_only: bool = True) -> pl.DataFrame:
    """Shipments with their lines: shipment_id, order_no (the host), warehouse_code,
    carrier_code, ship_method, stage, line_order (the line's own order), line_no, sku, quantity."""
    sh, sl = schema.shipments, schema.shipment_lines
    stmt = (
        sa.select(
            sh.c.shipment_id, sh.c.order_no, sh.c.warehouse_code, sh.c.carrier_code, sh.c.ship_method,
            sh.c.stage, sl.c.order_no.label("line_order"), sl.c.line_no, sl.c.sku, sl.c.quantity,
        )
        .join(sl, sl.c.shipment_id == sh.c.shipment_id)
        .order_by(sh.c.shipment_id, sl.c.order_no, sl.c.line_no)
    )
    if open_only:
        stmt = stmt.where(sh.c.stage.in_(["allocated", "picking", "packed"]))
    with shop.store.read() as conn:
        return read_frame(conn, stmt)


def shipped_from(shop: kit.Shop, no: str) -> dict[str, list[str]]:
    """Per open shipment warehouse of an order (host or merged), the SKUs it ships."""
    lines = shipments(shop).filter(pl.col("line_order") == no)
    return {w: sorted(g["sku"].to_list()) for (w,), g in lines.group_by("warehouse_code")}


def stage(shop: kit.Shop, no: str) -> str:
    return shop.order(no).stage


def level(shop: kit.Shop, warehouse: str, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of one item."""
    rows = stock.levels(shop, warehouse=warehouse, skus=[sku])
    return (0, 0) if rows.height == 0 else (rows["on_hand"][0], rows["reserved"][0])


def assert_books(shop: kit.Shop) -> None:
    """After every run: every unit in the ledger, reserved = open reservations, each order's
    stage reached through audited transitions, open shipments = allocated orders' lines."""
    with shop.store.read() as conn:
        assert stock.ledger_differences(conn).height == 0
        levels = read_frame(conn, sa.select(schema.stock_levels))
        reservations = read_frame(conn, sa.select(schema.reservations))
        orders = read_frame(conn, sa.select(schema.orders.c.order_no, schema.orders.c.stage))
        lines = read_frame(conn, sa.select(schema.order_lines))
        audit = read_frame(
            conn,
            sa.select(schema.audit)
            .where(schema.audit.c.entity == "order", schema.audit.c.field == "stage")
            .order_by(schema.audit.c.audit_id),
        )
    held = (
        reservations.filter(pl.col("status") == "reserved")
        .group_by("warehouse_code", "sku")
        .agg(pl.col("quantity").sum().alias("held"))
    )
    both = levels.join(held, on=["warehouse_code", "sku"], how="full", coalesce=True).with_columns(
        pl.col("reserved", "held").fill_null(0)
    )
    assert both.filter(pl.col("reserved") != pl.col("held")).height == 0, both
    for order in orders.iter_rows(named=True):
        chain = audit.filter(pl.col("entity_id") == order["order_no"])
        if chain.height:  # orders are inserted in their first stage, without a transition
            assert chain["from_state"][1:].to_list() == chain["to_state"][:-1].to_list(), (order, chain)
            assert chain["to_state"][-1] == order["stage"], (order, chain)
    allocated = orders.filter(pl.col("stage") == "allocated")["order_no"]
    want = lines.filter(pl.col("order_no").is_in(allocated.implode()))
    want = want.select("order_no", "line_no", "sku", "quantity")
    got = shipments(shop).select(pl.col("line_order").alias("order_no"), "line_no", "sku", "quantity")
    key = ["order_no", "line_no"]
    assert got.sort(key).to_dicts() == want.sort(key).to_dicts()
    booked = reservations.filter(pl.col("status") == "reserved").select(*key, "sku", "quantity")
    assert booked.sort(key).to_dicts() == want.sort(key).to_dicts()


# --- S17: nearest warehouse holding the whole order ------------------------------------------


def test_buyer_in_guangdong_ships_from_the_guangdong_store_S17(shop):
    """S17: the store in the buyer's province holds the whole order: one shipment from it,
    stock reserved there, the order allocated with its audit row."""
    put(shop, gz_TEA=5, gz_CUP=5, hq_TEA=5, hq_CUP=5, bj_TEA=5, bj_CUP=5)
    no = add_order(shop, 1, "广东省", [("TEA", 2), ("CUP", 1)])

    result = run(shop)

    assert result.allocated == [no] and result.shipments == 1 and result.units == 3
    assert shipped_from(shop, no) == {"gz": ["CUP", "TEA"]}
    assert level(shop, "gz", "TEA") == (5, 2) and level(shop, "hq", "TEA") == (5, 0)
    assert stage(shop, no) == "allocated"
    ship = shipments(shop)
    assert set(ship["carrier_code"]) == {shop.config.default_carrier}
    assert set(ship["ship_method"]) == {"online_booking"}


def test_buyer_in_beijing_ships_from_the_beijing_store_S17(shop):
    """S17: the same stock everywhere, a buyer in 北京 gets the 北京 store."""
    put(shop, gz_TEA=5, hq_TEA=5, bj_TEA=5)
    no = add_order(shop, 1, "北京市", [("TEA", 1)])

    run(shop)

    assert shipped_from(shop, no) == {"bj": ["TEA"]}


def test_whole_order_from_hq_rather_than_split_S17(shop):
    """S17: the 广东 store lacks one item, so the whole order ships from headquarters (the
    nearest warehouse holding all of it) rather than in two parcels, split allowed or not."""
    put(shop, gz_TEA=5, hq_TEA=5, hq_CUP=5)
    first = add_order(shop, 1, "广东省", [("TEA", 1), ("CUP", 1)])
    second = add_order(shop, 2, "广东省", [("TEA", 1), ("CUP", 1)])

    result = run(shop, order_nos=[first])
    run(shop, WHOLE, order_nos=[second])

    assert result.shipments == 1
    assert shipped_from(shop, first) == {"hq": ["CUP", "TEA"]}
    assert shipped_from(shop, second) == {"hq": ["CUP", "TEA"]}
    assert level(shop, "gz", "TEA") == (5, 0)


def test_unknown_province_falls_back_to_hq_S17(shop):
    """S17: an address whose province the kit cannot read ships from headquarters, even
    when a store holds the goods too."""
    put(shop, gz_TEA=5, bj_TEA=5, hq_TEA=5)
    no = add_order(shop, 1, "火星", [("TEA", 1)])

    run(shop)

    assert shipped_from(shop, no) == {"hq": ["TEA"]}


def test_pinned_sku_ships_only_from_its_pin_S17(shop):
    """S17 with a pin: TEA pinned to headquarters ships from there although the buyer's
    store holds it; when the pin runs out the order waits although the store has plenty."""
    put(shop, gz_TEA=9, gz_CUP=9, hq_TEA=1)
    stock.pin_sku(shop, "TEA", "hq", reason="茶叶只从总仓发")
    first = add_order(shop, 1, "广东省", [("TEA", 1), ("CUP", 1)])
    second = add_order(shop, 2, "广东省", [("TEA", 1)])

    result = run(shop)

    assert result.allocated == [first] and result.backordered == [second]
    assert shipped_from(shop, first) == {"gz": ["CUP"], "hq": ["TEA"]}
    short = backorders_of(shop, second)
    assert short[["sku", "missing", "warehouse_code"]].rows() == [("TEA", 1, "hq")]
    assert level(shop, "gz", "TEA") == (9, 0)


def test_dropship_sku_is_shipped_by_the_supplier_S17_S23(shop):
    """S17, S23 step 3: a SKU the supplier holds is shipped by the supplier (carrier
    "dropship", self-arranged); the rest of the order from the shop's own warehouse."""
    put(shop, sup_SHOE=4, gz_TEA=2, gz_SHOE=9)
    no = add_order(shop, 1, "广东省", [("TEA", 1), ("SHOE", 2)])

    result = run(shop)

    assert result.allocated == [no] and result.shipments == 2
    assert shipped_from(shop, no) == {"gz": ["TEA"], "sup": ["SHOE"]}
    by_wh = {r["warehouse_code"]: r for r in shipments(shop).iter_rows(named=True)}
    assert (by_wh["sup"]["carrier_code"], by_wh["sup"]["ship_method"]) == ("dropship", "self_arranged")
    assert by_wh["gz"]["carrier_code"] == shop.config.default_carrier
    assert level(shop, "sup", "SHOE") == (4, 2) and level(shop, "gz", "SHOE") == (9, 0)


def test_without_dropship_the_supplier_sku_ships_from_own_stock_S17(shop):
    """S17: with dropship off, a SKU the supplier holds ships from the nearest own warehouse."""
    put(shop, sup_SHOE=4, gz_SHOE=9)
    no = add_order(shop, 1, "广东省", [("SHOE", 2)])

    run(shop, AllocationPolicy(dropship=False))

    assert shipped_from(shop, no) == {"gz": ["SHOE"]}


# --- S24b: not enough stock -------------------------------------------------------------------


def test_split_ships_lines_from_different_warehouses_S24b(shop):
    """S24b, split agreed: no warehouse holds the whole order, so each line comes from the
    nearest warehouse holding it: one shipment per warehouse."""
    put(shop, gz_TEA=1, bj_CUP=1, hq_TOWEL=1)
    no = add_order(shop, 1, "广东省", [("TEA", 1), ("CUP", 1), ("TOWEL", 1)])

    result = run(shop)

    assert result.allocated == [no] and result.shipments == 3
    assert shipped_from(shop, no) == {"gz": ["TEA"], "bj": ["CUP"], "hq": ["TOWEL"]}
    assert shipments(shop).group_by("shipment_id").agg(pl.col("warehouse_code").n_unique())[
        "warehouse_code"
    ].to_list() == [1, 1, 1]


def test_no_split_backorders_with_missing_quantities_and_reason_S24b(shop):
    """S24b, no split: the order waits (backordered); the backorders table and the audit
    reason name each SKU and the units missing at the warehouse that would ship it."""
    put(shop, gz_TEA=1, gz_CUP=2, bj_CUP=1)
    no = add_order(shop, 1, "广东省", [("TEA", 2), ("CUP", 3)])

    result = run(shop, WHOLE)

    assert result.allocated == [] and result.backordered == [no]
    assert stage(shop, no) == "backordered"
    short = backorders_of(shop, no)
    assert short[["line_no", "sku", "quantity", "missing", "warehouse_code", "status"]].rows() == [
        (1, "TEA", 2, 1, "gz", "open"),
        (2, "CUP", 3, 1, "gz", "open"),
    ]
    reason = shop.audit_trail("order", no)["reason"][-1]
    assert reason == "缺货：TEA 在 gz 仓缺 1、CUP 在 gz 仓缺 1"
    assert result.short[["order_no", "sku", "missing"]].rows() == [(no, "TEA", 1), (no, "CUP", 1)]
    assert level(shop, "gz", "TEA") == (1, 0) and level(shop, "bj", "CUP") == (1, 0)


def test_no_split_counts_the_missing_where_the_order_lacks_least_S23(shop):
    """S23: what a restock or transfer must bring is counted at the one warehouse where the
    order lacks least, not necessarily the nearest: bj lacks 2 teas, gz would lack 3 units."""
    put(shop, gz_TEA=1, gz_CUP=1, bj_CUP=3)
    no = add_order(shop, 1, "广东省", [("TEA", 2), ("CUP", 3)])

    run(shop, WHOLE)

    assert backorders_of(shop, no)[["sku", "missing", "warehouse_code"]].rows() == [("TEA", 2, "bj")]


def test_first_paid_first_served_when_stock_is_scarce_S24b(shop):
    """S24b: two buyers want the last unit; the one who paid first gets it, whatever the
    order numbers; the other is backordered, and a third, paid last, too."""
    put(shop, gz_TEA=2)
    late = add_order(shop, 1, "广东省", [("TEA", 1)], paid_minute=30)
    early = add_order(shop, 2, "广东省", [("TEA", 2)], paid_minute=5)
    last = add_order(shop, 3, "广东省", [("TEA", 1)], paid_minute=40)

    result = run(shop)

    assert result.allocated == [early]
    assert result.backordered == sorted([late, last])
    assert backorders_of(shop, late)["missing"].to_list() == [1]


def test_backordered_order_is_allocated_after_a_receipt_S24b(shop):
    """S24b: the backordered order waits for the restock; the next run allocates it, its
    backorders row becomes `allocated`, and its audit trail reads approved → backordered
    → allocated. A run in between changes nothing and reports it still short."""
    put(shop, gz_TEA=1)
    no = add_order(shop, 1, "广东省", [("TEA", 3)])
    run(shop, WHOLE)

    again = run(shop, WHOLE)
    assert again.still_short == [no] and again.backordered == [] and stage(shop, no) == "backordered"
    assert backorders_of(shop, no)["missing"].to_list() == [2]

    put(shop, hq_TEA=5)
    result = run(shop, WHOLE)

    assert result.allocated == [no]
    assert shipped_from(shop, no) == {"hq": ["TEA"]}
    rows = backorders_of(shop, no, status=None)
    assert rows["status"].to_list() == ["allocated"] and rows["closed_at"][0] is not None
    trail = shop.audit_trail("order", no).filter(pl.col("field") == "stage")
    assert trail["to_state"].to_list() == ["backordered", "allocated"]


def test_merged_order_ships_with_its_host(shop):
    """合单: an order merged into another ships in the host's shipment (the shipment is the
    host's), both are allocated, and both have their lines reserved."""
    put(shop, gz_TEA=5, gz_CUP=5)
    host = add_order(shop, 1, "广东省", [("TEA", 1)])
    member = add_order(shop, 2, "广东省", [("CUP", 2), ("TEA", 1)], merged_into=host)

    result = run(shop)

    assert result.allocated == sorted([host, member]) and result.shipments == 1
    ship = shipments(shop)
    assert set(ship["order_no"]) == {host}
    assert sorted(zip(ship["line_order"], ship["sku"], strict=True)) == sorted(
        [(host, "TEA"), (member, "CUP"), (member, "TEA")]
    )
    assert level(shop, "gz", "TEA") == (5, 2)


def test_merged_order_waits_with_its_host_S24b(shop):
    """合单, S24b: when the host and its merged order together cannot ship, both wait, each
    with the reason (the missing units of the pair)."""
    put(shop, gz_TEA=1)
    host = add_order(shop, 1, "广东省", [("TEA", 1)])
    member = add_order(shop, 2, "广东省", [("TEA", 1)], merged_into=host)

    result = run(shop, WHOLE)

    assert result.allocated == [] and result.backordered == sorted([host, member])
    assert level(shop, "gz", "TEA") == (1, 0)


def test_merged_order_named_alone_still_ships_with_its_host(shop):
    """合单: naming only the merged order (kit allocate --order) or cutting batches of one
    order still allocates it with its host, in the host's shipment (before the fix each
    shipped alone)."""
    put(shop, gz_TEA=5, gz_CUP=5)
    host = add_order(shop, 1, "广东省", [("TEA", 1)])
    member = add_order(shop, 2, "广东省", [("CUP", 2)], merged_into=host)
    other_host = add_order(shop, 3, "广东省", [("TEA", 1)])
    other_member = add_order(shop, 4, "广东省", [("CUP", 1)], merged_into=other_host)

    named = run(shop, order_nos=[member])
    batched = run(shop, AllocationPolicy(batch_orders=1))

    assert named.allocated == sorted([host, member]) and named.shipments == 1
    assert batched.allocated == sorted([other_host, other_member]) and batched.shipments == 1
    assert set(shipments(shop)["order_no"]) == {host, other_host}


def test_deallocating_a_host_gives_back_its_merged_orders(shop):
    """合单: the merged order shares its host's shipment, so deallocating either gives both
    back (before the fix the merged order stayed allocated, its shipment cancelled)."""
    put(shop, gz_TEA=5, gz_CUP=5)
    host = add_order(shop, 1, "广东省", [("TEA", 1)])
    member = add_order(shop, 2, "广东省", [("CUP", 2)], merged_into=host)
    run(shop)

    with shop.store.write() as conn:
        result = deallocate(conn, [member], "改地址", shop.actor, at=kit.clock.now())
    assert_books(shop)

    assert sorted(result.keys_applied) == sorted([host, member])
    assert [stage(shop, n) for n in (host, member)] == ["approved", "approved"]
    assert level(shop, "gz", "CUP") == (5, 0)


# --- strategies -------------------------------------------------------------------------------


def test_fewest_parcels_against_nearest_S24b(shop):
    """S24b split, two strategies on the same stock. 广东 buyer, A at gz, B at hq, B and C at
    bj: nearest ships each line from its nearest holder (gz, hq, bj: three parcels);
    fewest_parcels takes bj first, which holds two lines, then A from gz (two parcels)."""
    put(shop, gz_TEA=2, hq_CUP=2, bj_CUP=2, bj_TOWEL=2)
    near = add_order(shop, 1, "广东省", [("TEA", 1), ("CUP", 1), ("TOWEL", 1)])
    few = add_order(shop, 2, "广东省", [("TEA", 1), ("CUP", 1), ("TOWEL", 1)])

    a = run(shop, order_nos=[near])
    b = run(shop, AllocationPolicy(strategy="fewest_parcels"), order_nos=[few])

    assert a.shipments == 3 and b.shipments == 2
    assert shipped_from(shop, near) == {"gz": ["TEA"], "hq": ["CUP"], "bj": ["TOWEL"]}
    assert shipped_from(shop, few) == {"gz": ["TEA"], "bj": ["CUP", "TOWEL"]}


def test_fewest_parcels_ships_with_the_pinned_line_S17(shop):
    """S17, fewest_parcels: the order's pinned line ships from hq, and hq also holds the
    other line, so both go in one parcel although the buyer's store holds it."""
    put(shop, hq_TEA=2, hq_CUP=2, gz_CUP=2)
    stock.pin_sku(shop, "TEA", "hq")
    no = add_order(shop, 1, "广东省", [("TEA", 1), ("CUP", 1)])
    other = add_order(shop, 2, "广东省", [("TEA", 1), ("CUP", 1)])

    run(shop, AllocationPolicy(strategy="fewest_parcels"), order_nos=[no])
    run(shop, order_nos=[other])

    assert shipped_from(shop, no) == {"hq": ["CUP", "TEA"]}
    assert shipped_from(shop, other) == {"gz": ["CUP"], "hq": ["TEA"]}


def test_ship_parts_are_separate_shipments(shop):
    """An order split into ship parts by staff ships one shipment per part, each part from
    its nearest warehouse holding it whole."""
    put(shop, gz_TEA=2, hq_CUP=2)
    no = add_order(shop, 1, "广东省", [("TEA", 1, 1), ("CUP", 1, 2)])

    result = run(shop, WHOLE)

    assert result.allocated == [no] and result.shipments == 2
    assert shipped_from(shop, no) == {"gz": ["TEA"], "hq": ["CUP"]}


# --- who and what is allocated ------------------------------------------------------------------


def test_orders_not_approved_are_untouched(shop):
    """Only approved (and backordered) orders are allocated: new, held, allocated and
    cancelled ones are not read; an approved order whose trade is closed is refused by
    the lifecycle and stays approved."""
    put(shop, gz_TEA=9)
    fresh = add_order(shop, 1, "广东省", [("TEA", 1)], stage="new")
    held = add_order(shop, 2, "广东省", [("TEA", 1)], stage="held")
    cancelled = add_order(shop, 3, "广东省", [("TEA", 1)], stage="cancelled")
    closed = add_order(shop, 4, "广东省", [("TEA", 1)], trade_status="TRADE_CLOSED")
    ok = add_order(shop, 5, "广东省", [("TEA", 1)])

    result = run(shop)

    assert result.allocated == [ok]
    assert [k for k, _ in result.refused] == [closed]
    assert result.refused[0][1].key == "guard.trade_not_shippable"
    stages = [stage(shop, n) for n in (fresh, held, cancelled, closed)]
    assert stages == ["new", "held", "cancelled", "approved"]
    assert level(shop, "gz", "TEA") == (9, 1)


def test_who_may_allocate(shop):
    """Warehouse staff and supervisors run allocation; pre-sales and analysts may not, and
    nothing changes."""
    put(shop, gz_TEA=9)
    no = add_order(shop, 1, "广东省", [("TEA", 1)])

    for name in ("客服乙", "分析丙"):
        with pytest.raises(PermissionDenied):
            allocate(shop.acting_as(name), policy=NEAREST)

    assert stage(shop, no) == "approved"
    assert run(shop.acting_as("店长")).allocated == [no]


def test_deallocate_gives_the_stock_back(shop):
    """Deallocating (allocated → approved) cancels the shipments, releases the reservations
    with the reason, and the stock is available again; an order not allocated is refused
    and untouched. The next run allocates it again."""
    put(shop, gz_TEA=2, hq_CUP=2)
    no = add_order(shop, 1, "广东省", [("TEA", 1), ("CUP", 1)])
    waiting = add_order(shop, 2, "广东省", [("TEA", 1)], stage="held")
    run(shop)

    with shop.store.write() as conn:
        result = deallocate(conn, [no, waiting], "买家改地址", shop.actor, at=kit.clock.now())
    assert_books(shop)

    assert result.keys_applied == [no] and [k for k, _ in result.refused] == [waiting]
    assert stage(shop, no) == "approved" and stage(shop, waiting) == "held"
    assert level(shop, "gz", "TEA") == (2, 0) and level(shop, "hq", "CUP") == (2, 0)
    assert shipments(shop).height == 0
    assert set(shipments(shop, open_only=False)["stage"]) == {"cancelled"}
    released = table(shop, "reservations")
    assert set(released["status"]) == {"released"}
    ledger = table(shop, "stock_ledger").filter(pl.col("kind") == "release")
    assert set(ledger["reason"]) == {"买家改地址"} and ledger["reserved_delta"].sum() == -2

    assert run(shop).allocated == [no]


# --- bad settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "key"),
    [("province", "", "warehouse_no_province"), ("serves", "广东\n火星", "warehouse_bad_serves")],
)
def test_bad_warehouse_settings_are_bad_input_S17(shop, column, value, key):
    """S17 needs every warehouse's province and a `serves` list of provinces: a warehouse
    without them is BadInput naming it, and nothing is allocated."""
    put(shop, gz_TEA=2)
    no = add_order(shop, 1, "广东省", [("TEA", 1)])
    with shop.store.write() as conn:
        w = schema.warehouses
        conn.execute(sa.update(w).where(w.c.code == "bj").values({column: value}))

    with pytest.raises(BadInput) as info:
        allocate(shop, policy=NEAREST)

    assert info.value.key == f"stock.{key}"
    assert "bj" in info.value.message
    assert stage(shop, no) == "approved"
    assert_books(shop)


def test_serves_lists_put_a_warehouse_first_S17(url):
    """S17: a warehouse's `serves` list ranks those provinces first: with hq serving 广东,
    a 广东 buyer ships from hq although the 广东 store holds the goods."""
    rows = [dict(w, serves=["广东"]) if w["code"] == "hq" else w for w in WAREHOUSES]
    cfg = kit.config.parse({"staff": STAFF, "warehouses": rows})
    with kit.connect(url, actor="店长", config=cfg) as boss:
        boss.sync_settings()
        with boss.store.write() as conn:
            tea = {"sku": "TEA", "title": "茶", "category": "茶", "weight_g": 250, "price_fen": 990}
            conn.execute(schema.skus.insert(), [tea])
        shop = boss.acting_as("仓管甲")
        put(shop, gz_TEA=2, hq_TEA=2)
        no = add_order(shop, 1, "广东省", [("TEA", 1)])

        run(shop)

        assert shipped_from(shop, no) == {"hq": ["TEA"]}


def backorders_of(shop: kit.Shop, no: str, *, status: str | None = "open") -> pl.DataFrame:
    with shop.store.read() as conn:
        return backorders(conn, status=status).filter(pl.col("order_no") == no)


def test_stock_taken_meanwhile_is_seen_before_deciding(pg):
    """Step 2 of a batch (PostgreSQL): a stock count lowers the 广东 store's tea while the run
    starts; the run locks every stock row of the batch's SKUs before it decides, so it
    waits for the count, reads its number and decides once: the order ships from
    headquarters (no row is locked out of order, nothing is decided twice)."""
    with open_shop(pg) as shop:
        put(shop, gz_TEA=2, hq_TEA=2)
        no = add_order(shop, 1, "广东省", [("TEA", 1)])

        result = race(shop, AllocationPolicy(), [no], gz_TEA=0)

        assert result.allocated == [no]
        assert shipped_from(shop, no) == {"hq": ["TEA"]}


def test_stock_emptied_meanwhile_backorders_at_once(pg):
    """Step 2 (PostgreSQL): the count empties both the store and headquarters while the run
    starts; the run reads the counted numbers under its locks and backorders the order
    in the same run."""
    with open_shop(pg) as shop:
        put(shop, gz_CUP=2, hq_CUP=2, gz_TOWEL=2, hq_TOWEL=2)
        once = add_order(shop, 1, "广东省", [("CUP", 1)])
        again = add_order(shop, 2, "广东省", [("TOWEL", 1)])

        waited = race(shop, AllocationPolicy(), [once], gz_CUP=0, hq_CUP=0)
        short = race(shop, AllocationPolicy(), [again], gz_TOWEL=0, hq_TOWEL=0)

        assert (waited.allocated, waited.backordered, waited.waiting) == ([], [once], [])
        assert (short.allocated, short.backordered, short.waiting) == ([], [again], [])
        assert stage(shop, once) == stage(shop, again) == "backordered"


def race(shop: kit.Shop, policy: AllocationPolicy, order_nos: list[str], **counted: int):
    """Run allocation in a thread while this thread holds a stock count of `counted` open,
    and commit the count once the run waits for its locks; the run's result."""
    done: dict[str, Any] = {}
    boss = shop.acting_as("店长")
    rows = pl.DataFrame(
        [
            {"warehouse_code": key.split("_", 1)[0], "sku": key.split("_", 1)[1], "on_hand": n}
            for key, n in counted.items()
        ]
    )
    with boss.store.write() as conn:
        stock.count(conn, rows, boss.actor, at=kit.clock.now(), reason="盘点")

        def work() -> None:
            try:
                done["result"] = allocate(shop, policy=policy, order_nos=order_nos)
            except Exception as exc:  # handed to the test thread
                done["error"] = exc

        worker = threading.Thread(target=work)
        worker.start()
        wait_for_lock_wait(shop)
    worker.join(timeout=30)
    if "error" in done:
        raise done["error"]
    assert_books(shop)
    return done["result"]


def wait_for_lock_wait(shop: kit.Shop, timeout: float = 20.0) -> None:
    """Until another session of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        with shop.store.read() as conn:
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.02)
    raise AssertionError("the allocation run never waited for the counted row")

"""Stock (kit.stock): levels per SKU and warehouse, receipts and returns, counts (盘点),
transfers (S23), low-stock thresholds and replenishment (S12), pins, the reservation
primitives, roles, audit, and the ledger that explains every level (S7).

After every change the ledger must explain every level (`ledger_differences` empty,
`rebuild_levels` equal to `stock_levels`), and every refusal must leave the database
exactly as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from orders_factory import make_orders

import kit
from kit import clock, stock
from kit.errors import BadInput, Conflict, PermissionDenied, Refused
from kit.models import Role, StaffMember
from kit.store import schema
from kit.store.frames import read_frame

STAFF = {
    "店长": "supervisor",
    "仓管小李": "warehouse",
    "客服小美": "presale",
    "售后小王": "aftersale",
    "物流小张": "logistics",
    "分析师": "analyst",
    "管理员": "admin",
}
WAREHOUSES = [
    {"code": "hq", "name": "杭州总仓", "kind": "hq", "province": "浙江省", "city": "杭州市"},
    {"code": "gz", "name": "广州门店", "kind": "store", "province": "广东省", "city": "广州市"},
    {"code": "sup", "name": "泉州供应商", "kind": "supplier", "province": "福建省", "city": "泉州市"},
]
SKUS = pl.DataFrame(
    {
        "sku": ["TEA-LJ-250", "CUP-GL-350", "TOWEL-CT-2", "SOCK-WL-5", "CARD-VIP-1"],
        "title": ["西湖龙井 250克", "双层玻璃杯", "纯棉毛巾 两条装", "羊毛袜 五双装", "会员卡（虚拟）"],
        "category": ["tea", "glass", "textile", "textile", "virtual"],
        "weight_g": [300, 400, 250, 200, 0],
        "price_fen": [26800, 5900, 3990, 8900, 1000],
        "is_virtual": [False, False, False, False, True],
    }
)
TEA, CUP, TOWEL, SOCK, CARD = SKUS["sku"].to_list()
WAREHOUSE_STAFF = "仓管小李"
STOCK_TABLES = ("stock_levels", "stock_ledger", "reservations", "batches", "audit", "skus", "sku_pins")


# --- helpers (also used by test_stock_files.py and test_cli_stock.py) ------------------------


def config() -> kit.config.Config:
    """The test shop's settings: seven staff in every human role, three warehouses."""
    return kit.config.parse({"staff": STAFF, "warehouses": WAREHOUSES})


def open_shop(url: str) -> kit.Shop:
    """A shop on a fresh database with the staff, warehouses and SKUs in it, acting as the
    warehouse staff member."""
    shop = kit.connect(url, actor="店长", config=config())
    shop.sync_settings()
    shop.store.insert_frame(schema.skus, SKUS)
    return shop.acting_as(WAREHOUSE_STAFF)


def as_(shop: kit.Shop, name: str) -> kit.Shop:
    """The same shop with another staff member acting."""
    return shop.acting_as(name)


def level_map(shop: kit.Shop) -> dict[tuple[str, str], tuple[int, int]]:
    """(warehouse, sku) → (on hand, reserved), straight from stock_levels."""
    lv = schema.stock_levels
    with shop.store.read() as conn:
        rows = conn.execute(sa.select(lv.c.warehouse_code, lv.c.sku, lv.c.on_hand, lv.c.reserved)).all()
    return {(w, s): (int(o), int(r)) for w, s, o, r in rows}


def _item_rows(frame: pl.DataFrame) -> list[tuple[str, str, int, int]]:
    return sorted(
        (r["warehouse_code"], r["sku"], int(r["on_hand"]), int(r["reserved"]))
        for r in frame.iter_rows(named=True)
    )


def assert_ledger_explains(shop: kit.Shop) -> None:
    """Every unit is accounted for: no differences, and the ledger rebuilds the levels."""
    lv = schema.stock_levels
    with shop.store.read() as conn:
        differences = stock.ledger_differences(conn)
        rebuilt = stock.rebuild_levels(conn)
        levels = read_frame(conn, sa.select(lv.c.warehouse_code, lv.c.sku, lv.c.on_hand, lv.c.reserved))
    assert differences.to_dicts() == []
    assert _item_rows(rebuilt) == _item_rows(levels)


def snapshot_conn(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables stock changes touch."""
    return {
        name: sorted(map(tuple, conn.execute(sa.select(schema.metadata.tables[name])).all()), key=repr)
        for name in STOCK_TABLES
    }


def snapshot(shop: kit.Shop) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables stock changes touch, read in a new transaction."""
    with shop.store.read() as conn:
        return snapshot_conn(conn)


def ledger(shop: kit.Shop, **where: Any) -> pl.DataFrame:
    """Ledger rows (all, or those whose columns equal `where`), oldest first."""
    lg = schema.stock_ledger
    stmt = sa.select(lg).where(*(lg.c[k] == v for k, v in where.items())).order_by(lg.c.entry_id)
    with shop.store.read() as conn:
        return read_frame(conn, stmt)


def receive(shop: kit.Shop, *items: tuple[str, str, int | str], **kw: Any) -> dict[str, Any]:
    """Receive (warehouse, sku, quantity) items as the acting person."""
    rows = [{"warehouse_code": w, "sku": s, "quantity": q} for w, s, q in items]
    return stock.receive_goods(shop, rows, **kw)


def lines_frame(rows: list[tuple[str, int, str, str, int, int | None]]) -> pl.DataFrame:
    """Order lines to reserve: (order_no, line_no, warehouse, sku, quantity, shipment_id)."""
    return pl.DataFrame(
        rows,
        schema={
            "order_no": pl.String,
            "line_no": pl.Int64,
            "warehouse_code": pl.String,
            "sku": pl.String,
            "quantity": pl.Int64,
            "shipment_id": pl.Int64,
        },
        orient="row",
    )


def add_shipment(conn: sa.Connection, order_no: str, warehouse: str = "hq", stage: str = "allocated") -> int:
    """A shipment row of the order; its id."""
    now = clock.now()
    return conn.execute(
        schema.shipments.insert()
        .values(
            order_no=order_no,
            warehouse_code=warehouse,
            carrier_code="yto",
            ship_method="online_booking",
            stage=stage,
            created_at=now,
            updated_at=now,
        )
        .returning(schema.shipments.c.shipment_id)
    ).scalar_one()


@pytest.fixture
def shop(db_url: str) -> Iterator[kit.Shop]:
    """The test shop on SQLite and on PostgreSQL, acting as warehouse staff."""
    with open_shop(db_url) as shop:
        yield shop


@pytest.fixture
def lite(sqlite_url: str) -> Iterator[kit.Shop]:
    """The test shop on SQLite only (checks that do not depend on the database)."""
    with open_shop(sqlite_url) as shop:
        yield shop


# --- levels (S12) ------------------------------------------------------------------------------


def test_levels_show_on_hand_reserved_and_available_per_warehouse_S12(shop):
    """S12: stock can be looked up at any time, per SKU and warehouse, with what is promised."""
    receive(shop, ("hq", TEA, 10), ("gz", TEA, 3), ("hq", CUP, 4))
    with shop.store.write() as conn:
        stock.reserve(conn, lines_frame([("9001", 1, "hq", TEA, 4, None)]), shop.actor, at=clock.now())

    frame = stock.levels(as_(shop, "分析师"))  # reading is for everyone, analysts included

    assert frame.columns == [
        "warehouse_code", "kind", "sku", "title", "on_hand", "reserved", "available", "low_stock_threshold",
    ]
    assert [(r["sku"], r["warehouse_code"]) for r in frame.iter_rows(named=True)] == [
        (CUP, "hq"), (TEA, "gz"), (TEA, "hq"),
    ]
    tea_hq = frame.filter((pl.col("sku") == TEA) & (pl.col("warehouse_code") == "hq")).row(0, named=True)
    assert (tea_hq["on_hand"], tea_hq["reserved"], tea_hq["available"]) == (10, 4, 6)
    assert (tea_hq["kind"], tea_hq["title"]) == ("hq", "西湖龙井 250克")
    assert stock.levels(shop, warehouse="gz")["sku"].to_list() == [TEA]
    assert stock.levels(shop, skus=[CUP])["warehouse_code"].to_list() == ["hq"]
    assert_ledger_explains(shop)


# --- receipts and returns (S7) ----------------------------------------------------------------


def test_receipt_adds_on_hand_with_ledger_rows_batch_and_audit_S7(shop):
    """Goods received: on hand goes up, one `receipt` ledger row per item in one batch,
    the batch audited, the reason kept."""
    result = receive(shop, ("hq", TEA, 12), ("gz", CUP, 5), reason="采购到货")

    assert result["changed"] == 2 and result["units"] == 17
    assert level_map(shop) == {("hq", TEA): (12, 0), ("gz", CUP): (5, 0)}
    rows = ledger(shop)
    assert set(rows["kind"]) == {"receipt"}
    assert set(rows["reason"]) == {"采购到货"}
    assert set(rows["actor"]) == {WAREHOUSE_STAFF}
    assert set(rows["batch_id"]) == {result["batch_id"]}
    assert sorted(rows["reserved_delta"].to_list()) == [0, 0]
    with shop.store.read() as conn:
        batch = conn.execute(
            sa.select(schema.batches).where(schema.batches.c.batch_id == result["batch_id"])
        ).mappings().one()
    assert (batch["kind"], batch["actor"], batch["role"], batch["lines"]) == (
        "stock_receipt", WAREHOUSE_STAFF, "warehouse", 2,
    )
    trail = shop.audit_trail("batch", str(result["batch_id"]))
    assert trail["action"].to_list() == ["stock_receipt"]
    assert_ledger_explains(shop)


def test_receipts_of_one_item_add_up_and_new_items_get_a_row(lite):
    """A second receipt adds to the first; a SKU new to a warehouse gets its stock row."""
    receive(lite, ("hq", TEA, 3))
    receive(lite, ("hq", TEA, 4), ("sup", TEA, 100))

    assert level_map(lite) == {("hq", TEA): (7, 0), ("sup", TEA): (100, 0)}
    assert_ledger_explains(lite)


def test_buyer_return_is_its_own_ledger_kind_with_the_order(lite):
    """Goods a buyer sends back: kind `return`, the order number on the ledger row (S24d)."""
    stock.receive_goods(
        lite,
        [{"warehouse_code": "hq", "sku": CUP, "quantity": 1, "order_no": "900000000000000001"}],
        kind="return",
        reason="七天无理由退货",
    )

    row = ledger(lite).row(0, named=True)
    assert (row["kind"], row["on_hand_delta"], row["order_no"], row["reason"]) == (
        "return", 1, "900000000000000001", "七天无理由退货",
    )
    assert level_map(lite) == {("hq", CUP): (1, 0)}
    with lite.store.read() as conn:
        kind = conn.execute(sa.select(schema.batches.c.kind)).scalar_one()
    assert kind == "stock_return"
    assert_ledger_explains(lite)


def test_unknown_movement_kind_is_a_programming_error(lite):
    """receive() only knows receipts and returns."""
    with pytest.raises(ValueError, match="receipt or return"):
        receive(lite, ("hq", TEA, 1), kind="gift")


@pytest.mark.parametrize(
    "value", ["1.5", "-3", "十", "0", "", "1e2", "3件", -3, 1.5, 0], ids=repr
)
def test_receipt_quantity_must_be_whole_units_above_zero(lite, value):
    """Negative, fractional, zero or non-numeric quantities are refused naming the row and the
    value; nothing is written (no batch either)."""
    receive(lite, ("hq", TEA, 5))
    before = snapshot(lite)

    with pytest.raises(BadInput) as caught:
        receive(lite, ("hq", CUP, type(value)(2)), ("hq", TEA, value))  # one column type

    err = caught.value
    assert err.key == "stock.bad_quantity"
    assert (err.params["row"], err.params["column"], err.params["value"]) == (2, "quantity", str(value))
    assert "第 2 行" in err.message and f"“{value}”" in err.message
    assert err.exit_code == 2
    assert snapshot(lite) == before


@pytest.mark.parametrize("value", [" 2 ", "+2", "2.0", "2.", 2, 2.0], ids=repr)
def test_spreadsheet_style_whole_numbers_are_accepted(lite, value):
    """"2.0" (a spreadsheet's number), padded or signed text are whole units."""
    receive(lite, ("hq", TEA, value))

    assert level_map(lite) == {("hq", TEA): (2, 0)}


@pytest.mark.parametrize(
    ("items", "key", "named"),
    [
        ([("hq", "NO-SUCH-SKU", 1)], "stock.unknown_sku", "NO-SUCH-SKU"),
        ([("bj", TEA, 1)], "stock.unknown_warehouse", "bj"),
        ([("hq", TEA, 1), ("hq", " NO-SUCH-SKU ", 2)], "stock.unknown_sku", "NO-SUCH-SKU"),
    ],
    ids=["sku", "warehouse", "second-row"],
)
def test_unknown_sku_or_warehouse_is_refused_and_nothing_written(lite, items, key, named):
    """A SKU not in the catalogue or a warehouse not in kit.toml: BadInput naming it."""
    receive(lite, ("hq", TEA, 5))
    before = snapshot(lite)

    with pytest.raises(BadInput) as caught:
        receive(lite, *items)

    assert caught.value.key == key
    assert named in caught.value.message
    assert snapshot(lite) == before


def test_too_many_unknown_skus_are_listed_with_an_ellipsis(lite):
    """The refusal counts every unknown SKU and lists the first five."""
    items = [("hq", f"X-{i}", 1) for i in range(7)]

    with pytest.raises(BadInput) as caught:
        receive(lite, *items)

    assert caught.value.params["count"] == 7
    assert caught.value.params["skus"] == "X-0、X-1、X-2、X-3、X-4…"


# --- counts (盘点, S7) ------------------------------------------------------------------------


def test_count_turns_each_difference_into_a_correction_S7(shop):
    """盘点: counted above, below, equal, and a SKU found in a warehouse that had none; only
    the differences become `count` ledger rows, each with the reason."""
    receive(shop, ("hq", TEA, 10), ("hq", CUP, 6), ("gz", TOWEL, 4))

    result = stock.count_stock(
        shop,
        [
            {"warehouse_code": "hq", "sku": TEA, "on_hand": 12},
            {"warehouse_code": "hq", "sku": CUP, "on_hand": 4},
            {"warehouse_code": "gz", "sku": TOWEL, "on_hand": 4},
            {"warehouse_code": "gz", "sku": SOCK, "on_hand": 3},
        ],
        reason="月末盘点",
    )

    assert level_map(shop) == {
        ("hq", TEA): (12, 0), ("hq", CUP): (4, 0), ("gz", TOWEL): (4, 0), ("gz", SOCK): (3, 0),
    }
    counted = ledger(shop, kind="count")
    assert sorted(zip(counted["warehouse_code"], counted["sku"], counted["on_hand_delta"], strict=True)) == [
        ("gz", SOCK, 3), ("hq", CUP, -2), ("hq", TEA, 2),
    ]
    assert set(counted["reason"]) == {"月末盘点"}
    assert set(counted["batch_id"]) == {result["batch_id"]}
    assert (result["changed"], result["units"]) == (3, 7)
    assert_ledger_explains(shop)


def test_count_to_zero_empties_the_shelf_and_a_repeat_changes_nothing(lite):
    """Counting 0 is allowed (the shelf is empty); the same count again writes no ledger row."""
    receive(lite, ("hq", TEA, 5))

    first = stock.count_stock(lite, [{"warehouse_code": "hq", "sku": TEA, "on_hand": 0}], reason="丢失")
    again = stock.count_stock(lite, [{"warehouse_code": "hq", "sku": TEA, "on_hand": "0"}], reason="复盘")

    assert level_map(lite) == {("hq", TEA): (0, 0)}
    assert (first["changed"], first["units"], again["changed"]) == (1, 5, 0)
    assert ledger(lite, kind="count").height == 1
    assert_ledger_explains(lite)


def test_count_below_reserved_is_refused_and_nothing_written(lite):
    """Units promised to orders cannot be counted away: release those orders first."""
    receive(lite, ("hq", TEA, 5))
    with lite.store.write() as conn:
        stock.reserve(conn, lines_frame([("9001", 1, "hq", TEA, 3, None)]), lite.actor, at=clock.now())
    before = snapshot(lite)

    with pytest.raises(Refused) as caught:
        stock.count_stock(lite, [{"warehouse_code": "hq", "sku": TEA, "on_hand": 2}], reason="破损")

    err = caught.value
    assert err.key == "stock.count_below_reserved" and err.exit_code == 1
    assert err.params == {"warehouse": "hq", "sku": TEA, "counted": 2, "reserved": 3}
    assert snapshot(lite) == before
    stock.count_stock(lite, [{"warehouse_code": "hq", "sku": TEA, "on_hand": 3}], reason="破损")
    assert level_map(lite) == {("hq", TEA): (3, 3)}
    assert_ledger_explains(lite)


@pytest.mark.parametrize("value", ["1.5", "-3", "十", -1], ids=repr)
def test_count_must_be_whole_units(lite, value):
    """A count may be 0 but not negative, fractional or words."""
    receive(lite, ("hq", TEA, 5))
    before = snapshot(lite)

    with pytest.raises(BadInput) as caught:
        stock.count_stock(lite, [{"warehouse_code": "hq", "sku": TEA, "on_hand": value}])

    assert caught.value.key == "stock.bad_quantity"
    assert caught.value.params["value"] == str(value)
    assert "0 或正整数" in caught.value.message
    assert snapshot(lite) == before


def test_one_item_twice_in_a_count_is_refused(lite):
    """Each item is counted on one line; two lines for one item are ambiguous."""
    with pytest.raises(BadInput) as caught:
        stock.count_stock(
            lite,
            [
                {"warehouse_code": "hq", "sku": TEA, "on_hand": 1},
                {"warehouse_code": "hq", "sku": TEA, "on_hand": 2},
            ],
        )

    assert caught.value.key == "stock.duplicate_item"
    assert TEA in caught.value.message and "hq" in caught.value.message


def test_count_of_an_unknown_sku_or_warehouse_is_refused(lite):
    """Counts are checked against the catalogue and the warehouses like receipts."""
    for item, key in (
        ({"warehouse_code": "hq", "sku": "GHOST", "on_hand": 1}, "stock.unknown_sku"),
        ({"warehouse_code": "sh", "sku": TEA, "on_hand": 1}, "stock.unknown_warehouse"),
    ):
        with pytest.raises(BadInput) as caught:
            stock.count_stock(lite, [item])
        assert caught.value.key == key
    assert level_map(lite) == {}


# --- transfers (S23) -------------------------------------------------------------------------


def test_transfer_moves_available_units_between_warehouses_S23(shop):
    """S23: a shortage waits for a transfer; goods leave one warehouse and arrive at another,
    two `transfer` ledger rows saying where from and where to."""
    receive(shop, ("hq", TEA, 10))

    result = stock.transfer_goods(
        shop,
        [{"from_warehouse": "hq", "to_warehouse": "gz", "sku": TEA, "quantity": "4"}],
        reason="门店补货",
    )

    assert level_map(shop) == {("hq", TEA): (6, 0), ("gz", TEA): (4, 0)}
    assert (result["changed"], result["units"]) == (1, 4)
    moves = ledger(shop, kind="transfer")
    assert sorted(zip(moves["warehouse_code"], moves["on_hand_delta"], moves["reason"], strict=True)) == [
        ("gz", 4, "←hq 门店补货"), ("hq", -4, "→gz 门店补货"),
    ]
    assert set(moves["batch_id"]) == {result["batch_id"]}
    assert_ledger_explains(shop)


def test_transfer_never_takes_units_reserved_for_orders_S23(lite):
    """Only available units leave: 10 on hand, 7 reserved → 4 is refused, 3 goes."""
    receive(lite, ("hq", TEA, 10))
    with lite.store.write() as conn:
        stock.reserve(conn, lines_frame([("9001", 1, "hq", TEA, 7, None)]), lite.actor, at=clock.now())
    before = snapshot(lite)
    move = {"from_warehouse": "hq", "to_warehouse": "gz", "sku": TEA}

    with pytest.raises(Refused) as caught:
        stock.transfer_goods(lite, [{**move, "quantity": 4}])

    assert caught.value.key == "stock.would_go_negative"
    assert f"hq 仓 {TEA}" in caught.value.message and "占用 7" in caught.value.message
    assert snapshot(lite) == before  # not even the empty gz row or the batch
    stock.transfer_goods(lite, [{**move, "quantity": 3}])
    assert level_map(lite) == {("hq", TEA): (7, 7), ("gz", TEA): (3, 0)}
    assert_ledger_explains(lite)


def test_transfer_of_more_than_on_hand_is_refused(lite):
    """A transfer from a warehouse that has none of the SKU is refused whole."""
    receive(lite, ("hq", TEA, 2))
    before = snapshot(lite)

    with pytest.raises(Refused):
        stock.transfer_goods(
            lite,
            [
                {"from_warehouse": "hq", "to_warehouse": "gz", "sku": TEA, "quantity": 1},
                {"from_warehouse": "gz", "to_warehouse": "hq", "sku": CUP, "quantity": 1},
            ],
        )

    assert snapshot(lite) == before


def test_transfer_to_the_same_warehouse_is_refused(lite):
    """From hq to hq moves nothing: a mistake, refused naming the warehouse."""
    receive(lite, ("hq", TEA, 5))
    before = snapshot(lite)

    with pytest.raises(BadInput) as caught:
        stock.transfer_goods(
            lite, [{"from_warehouse": "hq", "to_warehouse": "hq", "sku": TEA, "quantity": 1}]
        )

    assert caught.value.key == "stock.same_warehouse"
    assert caught.value.params == {"warehouse": "hq", "sku": TEA}
    assert snapshot(lite) == before


@pytest.mark.parametrize(
    ("over", "key"),
    [
        ({"quantity": "1.5"}, "stock.bad_quantity"),
        ({"quantity": "-3"}, "stock.bad_quantity"),
        ({"quantity": "十"}, "stock.bad_quantity"),
        ({"quantity": 0}, "stock.bad_quantity"),
        ({"to_warehouse": "bj"}, "stock.unknown_warehouse"),
        ({"from_warehouse": "bj"}, "stock.unknown_warehouse"),
        ({"sku": "GHOST"}, "stock.unknown_sku"),
    ],
    ids=["fraction", "negative", "chinese-numeral", "zero", "to-unknown", "from-unknown", "sku"],
)
def test_transfer_refusals(lite, over, key):
    """A transfer's quantity, warehouses and SKU are checked before anything moves."""
    receive(lite, ("hq", TEA, 5))
    before = snapshot(lite)

    with pytest.raises(BadInput) as caught:
        stock.transfer_goods(
            lite, [{"from_warehouse": "hq", "to_warehouse": "gz", "sku": TEA, "quantity": 1, **over}]
        )

    assert caught.value.key == key
    assert snapshot(lite) == before


# --- thresholds and replenishment (S12) ---------------------------------------------------------


def test_low_lists_what_to_replenish_S12(shop):
    """S12: the system tells when to replenish: available in the shop's own warehouses (hq and
    stores, not the supplier's) at or below the SKU's threshold; virtual goods never."""
    receive(shop, ("hq", TEA, 3), ("gz", TEA, 2), ("sup", TEA, 500), ("hq", CUP, 20), ("hq", CARD, 1))
    with shop.store.write() as conn:
        stock.reserve(conn, lines_frame([("9001", 1, "hq", TEA, 1, None)]), shop.actor, at=clock.now())
    for sku, threshold in ((TEA, 4), (CUP, 5), (SOCK, 2), (CARD, 10)):
        stock.set_threshold(shop, sku, threshold)

    low = stock.low(as_(shop, "分析师"))

    assert low.columns == ["sku", "title", "available", "reserved", "threshold"]
    assert [(r["sku"], r["available"], r["reserved"], r["threshold"]) for r in low.iter_rows(named=True)] == [
        (SOCK, 0, 0, 2),  # never stocked: 0 available, listed first
        (TEA, 4, 1, 4),  # 2 + 2 in own warehouses, at the threshold; the supplier's 500 do not count
    ]
    levels = stock.levels(shop, skus=[TEA])
    assert set(levels["low_stock_threshold"]) == {4}


def test_low_with_below_covers_every_sku_and_a_cleared_threshold_drops_out_S12(lite):
    """`below` asks about every SKU; clearing a threshold takes the SKU off the list."""
    receive(lite, ("hq", TEA, 3), ("hq", CUP, 20))
    stock.set_threshold(lite, TEA, 5)

    below = stock.low(lite, below=10)
    assert below["sku"].to_list() == [SOCK, TOWEL, TEA]  # 0, 0, 3 available; CUP has 20
    assert set(below["threshold"]) == {10}
    assert stock.low(lite)["sku"].to_list() == [TEA]

    stock.set_threshold(lite, TEA, None)

    assert stock.low(lite).height == 0


def test_threshold_changes_are_audited_S12(lite):
    """Each change of a threshold is an audit row (from → to, who, role); setting the same
    value again changes nothing and writes nothing."""
    assert stock.set_threshold(lite, TEA, 5) == 1
    assert stock.set_threshold(lite, TEA, 5) == 0
    assert stock.set_threshold(as_(lite, "店长"), TEA, 3) == 1
    assert stock.set_threshold(lite, TEA, None) == 1

    trail = lite.audit_trail("sku", TEA)
    assert [(r["action"], r["field"], r["from_state"], r["to_state"], r["actor"], r["role"])
            for r in trail.iter_rows(named=True)] == [
        ("set_threshold", "low_stock_threshold", None, "5", WAREHOUSE_STAFF, "warehouse"),
        ("set_threshold", "low_stock_threshold", "5", "3", "店长", "supervisor"),
        ("set_threshold", "low_stock_threshold", "3", None, WAREHOUSE_STAFF, "warehouse"),
    ]
    with lite.store.read() as conn:
        value = conn.execute(
            sa.select(schema.skus.c.low_stock_threshold).where(schema.skus.c.sku == TEA)
        ).scalar_one()
    assert value is None


def test_threshold_of_an_unknown_sku_or_a_negative_one_is_refused(lite):
    """Thresholds are whole units for SKUs in the catalogue."""
    before = snapshot(lite)

    with pytest.raises(BadInput) as unknown:
        stock.set_threshold(lite, "GHOST", 3)
    with pytest.raises(BadInput) as negative:
        stock.set_threshold(lite, TEA, -1)
    with lite.store.write() as conn, pytest.raises(BadInput) as words:
        stock.set_thresholds(
            conn, pl.DataFrame({"sku": [TEA], "low_stock_threshold": ["五"]}), lite.actor, at=clock.now()
        )

    assert unknown.value.key == "stock.unknown_sku" and "GHOST" in unknown.value.message
    assert negative.value.key == "stock.bad_quantity" and negative.value.params["value"] == "-1"
    assert words.value.params["value"] == "五"
    assert snapshot(lite) == before


# --- pins -------------------------------------------------------------------------------------


def test_pin_repin_and_unpin_are_audited(lite):
    """A SKU pinned to a warehouse ships only from there; moving or removing the pin is
    audited with from → to and the reason; repeating a pin changes nothing."""
    stock.pin_sku(lite, TEA, "gz", reason="门店自有款")
    stock.pin_sku(lite, TEA, "gz", reason="again")
    stock.pin_sku(lite, TEA, "sup", reason="供应商独家")

    with lite.store.read() as conn:
        pins = conn.execute(sa.select(schema.sku_pins)).mappings().all()
    assert [(p["sku"], p["warehouse_code"], p["reason"], p["actor"]) for p in pins] == [
        (TEA, "sup", "供应商独家", WAREHOUSE_STAFF),
    ]

    assert stock.unpin_sku(lite, TEA, reason="恢复就近发货") is True
    assert stock.unpin_sku(lite, TEA) is False

    trail = lite.audit_trail("sku", TEA)
    assert [(r["action"], r["field"], r["from_state"], r["to_state"], r["reason"])
            for r in trail.iter_rows(named=True)] == [
        ("pin", "pin", None, "gz", "门店自有款"),
        ("pin", "pin", "gz", "sup", "供应商独家"),
        ("unpin", "pin", "sup", None, "恢复就近发货"),
    ]
    with lite.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.sku_pins)).scalar() == 0


def test_pin_to_an_unknown_warehouse_or_of_an_unknown_sku_is_refused(lite):
    """Pins name a real SKU and a real warehouse."""
    before = snapshot(lite)

    with pytest.raises(BadInput) as warehouse:
        stock.pin_sku(lite, TEA, "bj")
    with pytest.raises(BadInput) as sku:
        stock.pin_sku(lite, "GHOST", "hq")

    assert warehouse.value.key == "stock.unknown_warehouse" and "bj" in warehouse.value.message
    assert sku.value.key == "stock.unknown_sku"
    assert snapshot(lite) == before


# --- reservations: reserve, release, pick ------------------------------------------------------


def _orders_with_shipments(shop: kit.Shop) -> tuple[pl.DataFrame, dict[str, int]]:
    """Two allocated orders from the factory, each with a shipment from hq: their lines
    (ready to reserve) and the shipment id per order."""
    orders, lines = make_orders(2, stage="allocated")
    as_(shop, "店长").insert_orders(orders, lines, kind="test", source="test_stock")
    with shop.store.write() as conn:
        ships = {no: add_shipment(conn, no) for no in orders["order_no"]}
    frame = lines.select(
        "order_no",
        "line_no",
        pl.lit("hq").alias("warehouse_code"),
        "sku",
        "quantity",
        pl.col("order_no").replace_strict(ships, return_dtype=pl.Int64).alias("shipment_id"),
    )
    return frame, ships


def test_reserve_release_and_pick_move_stock_through_the_ledger(shop):
    """reserve raises `reserved`; release gives it back (reason kept); pick takes the goods
    off the shelf (on hand and reserved both drop). Each is a ledger row per line, and the
    reservation's status follows: reserved → released / picked."""
    lines, ships = _orders_with_shipments(shop)
    first, second = sorted(ships)
    receive(shop, *[("hq", s, 10) for s in lines["sku"].unique()])
    actor, now = shop.actor, clock.now()

    with shop.store.write() as conn:
        written = stock.reserve(conn, lines, actor, at=now, batch_id=None, reason="分仓")
    assert written.height == lines.height and set(written["status"]) == {"reserved"}
    for r in lines.group_by("sku").agg(pl.col("quantity").sum()).iter_rows(named=True):
        assert level_map(shop)[("hq", r["sku"])] == (10, r["quantity"])
    assert_ledger_explains(shop)

    with shop.store.write() as conn:
        released = stock.release(conn, [first], "买家取消", actor, at=now)
        picked = stock.pick(conn, [ships[second]], actor, at=now)
    assert set(released["order_no"]) == {first}
    assert set(picked["order_no"]) == {second}

    mine = lines.filter(pl.col("order_no") == second).group_by("sku").agg(pl.col("quantity").sum())
    for r in mine.iter_rows(named=True):
        assert level_map(shop)[("hq", r["sku"])] == (10 - r["quantity"], 0)
    with shop.store.read() as conn:
        status = dict(
            conn.execute(sa.select(schema.reservations.c.order_no, schema.reservations.c.status)).all()
        )
    assert status == {first: "released", second: "picked"}
    kinds = ledger(shop)
    assert set(kinds.filter(pl.col("kind") == "release")["reason"]) == {"买家取消"}
    pick_rows = kinds.filter(pl.col("kind") == "pick")
    assert (pick_rows["on_hand_delta"] == pick_rows["reserved_delta"]).all()
    assert set(pick_rows["shipment_id"]) == {ships[second]}
    assert_ledger_explains(shop)

    with shop.store.write() as conn:  # nothing left to release or pick: a no-op
        assert stock.release(conn, [first, second], "重复", actor, at=now).height == 0
        assert stock.pick(conn, [ships[first], ships[second]], actor, at=now).height == 0
    assert_ledger_explains(shop)


def test_release_can_give_back_some_lines_only(lite):
    """`lines` limits a release to some lines of an order (a line moved to another warehouse)."""
    receive(lite, ("hq", TEA, 5), ("hq", CUP, 5))
    actor, now = lite.actor, clock.now()
    with lite.store.write() as conn:
        stock.reserve(conn, lines_frame([("9001", 1, "hq", TEA, 2, None), ("9001", 2, "hq", CUP, 3, None)]),
                      actor, at=now)
        released = stock.release(conn, ["9001"], "改从门店发", actor, at=now,
                                 lines=pl.DataFrame({"order_no": ["9001"], "line_no": [2]}))
        still = stock.open_reservations(conn, order_nos=["9001"])

    assert released["line_no"].to_list() == [2]
    assert still["line_no"].to_list() == [1]
    assert level_map(lite) == {("hq", TEA): (5, 2), ("hq", CUP): (5, 0)}
    assert_ledger_explains(lite)


def test_reserve_more_than_available_is_refused_and_writes_nothing(shop):
    """All or nothing: one line short refuses the whole call, naming the item; the function
    itself wrote nothing (checked inside the same transaction, before any rollback)."""
    receive(shop, ("hq", TEA, 5), ("hq", CUP, 5))
    with shop.store.write() as conn:
        stock.reserve(conn, lines_frame([("9000", 1, "hq", TEA, 2, None)]), shop.actor, at=clock.now())
    before = snapshot(shop)

    with shop.store.write() as conn:
        inside = snapshot_conn(conn)
        with pytest.raises(Refused) as caught:
            stock.reserve(
                conn,
                lines_frame([("9001", 1, "hq", CUP, 5, None), ("9001", 2, "hq", TEA, 4, None)]),
                shop.actor,
                at=clock.now(),
            )
        assert snapshot_conn(conn) == inside

    err = caught.value
    assert err.key == "stock.would_go_negative" and err.params["count"] == 1
    assert f"hq 仓 {TEA}（在库 5，占用 2" in err.message
    assert snapshot(shop) == before
    assert_ledger_explains(shop)


def test_reserve_where_there_is_no_stock_row_is_refused(lite):
    """A SKU never received in a warehouse has nothing to reserve."""
    with lite.store.write() as conn, pytest.raises(Refused) as caught:
        stock.reserve(conn, lines_frame([("9001", 1, "gz", TEA, 1, None)]), lite.actor, at=clock.now())

    assert f"gz 仓 {TEA}（在库 0，占用 0" in caught.value.message
    assert level_map(lite) == {}


@pytest.mark.parametrize("quantity", [0, -2, None, 1.5], ids=repr)
def test_reserve_quantities_must_be_whole_units_above_zero(lite, quantity):
    """A reservation of 0, a negative, a missing or a fractional quantity is a bad line (1.5
    must not quietly become 1)."""
    receive(lite, ("hq", TEA, 5))
    before = snapshot(lite)
    lines = pl.DataFrame(
        {"order_no": ["9001"], "line_no": [1], "warehouse_code": ["hq"], "sku": [TEA], "quantity": [quantity]}
    )

    with lite.store.write() as conn, pytest.raises(BadInput) as caught:
        stock.reserve(conn, lines, lite.actor, at=clock.now())

    assert caught.value.key == "stock.bad_reservation"
    assert caught.value.params["order_no"] == "9001"
    assert snapshot(lite) == before


@pytest.mark.parametrize("reason", ["", "   ", None], ids=repr)
def test_release_needs_a_reason(lite, reason):
    """Giving stock back is always explained (cancelled, refunded, moved)."""
    receive(lite, ("hq", TEA, 5))
    with lite.store.write() as conn:
        stock.reserve(conn, lines_frame([("9001", 1, "hq", TEA, 2, None)]), lite.actor, at=clock.now())
    before = snapshot(lite)

    with lite.store.write() as conn, pytest.raises(BadInput) as caught:
        stock.release(conn, ["9001"], reason, lite.actor, at=clock.now())

    assert caught.value.key == "stock.reason_required"
    assert "释放占用库存" in caught.value.message  # the action in words, not the code "release"
    assert snapshot(lite) == before


def test_open_reservations_needs_orders_or_shipments(lite):
    """Asking for reservations of nothing is a programming error."""
    with lite.store.read() as conn, pytest.raises(ValueError, match="order_nos or shipment_ids"):
        stock.open_reservations(conn)


# --- the ledger primitives --------------------------------------------------------------------


def test_post_sums_moves_of_one_item_and_refuses_a_batch_that_goes_negative(lite):
    """post applies a frame of moves in one go (several rows of one item add up) and refuses
    the whole frame, listing the first five items, when any would go below zero."""
    receive(lite, ("hq", TEA, 5))
    moves = pl.DataFrame(
        {"warehouse_code": ["hq", "hq"], "sku": [TEA, TEA], "kind": ["count", "count"],
         "on_hand_delta": [-4, 2]}
    )
    with lite.store.write() as conn:
        written = stock.post(conn, moves, lite.actor, at=clock.now())
    assert written.height == 2
    assert level_map(lite) == {("hq", TEA): (3, 0)}

    many = pl.DataFrame(
        {"warehouse_code": ["gz"] * 7, "sku": [f"X-{i}" for i in range(7)], "kind": ["count"] * 7,
         "on_hand_delta": [-1] * 7}
    )
    before = snapshot(lite)
    with lite.store.write() as conn, pytest.raises(Refused) as caught:
        stock.post(conn, many, lite.actor, at=clock.now())

    assert caught.value.params["count"] == 7
    assert caught.value.message.endswith("…")
    assert caught.value.message.count("gz 仓") == 5
    assert snapshot(lite) == before
    assert_ledger_explains(lite)


def test_guarded_update_touches_no_row_that_would_break_the_stock_rules(shop):
    """add_to_levels repeats the CHECK constraints in its WHERE: a change the lock missed
    changes no row and raises Conflict (the caller's transaction rolls back)."""
    receive(shop, ("hq", TEA, 2), ("hq", CUP, 2))
    before = snapshot(shop)

    for deltas in (
        {"on_hand_delta": [-1, -3]},  # CUP below zero
        {"reserved_delta": [1, 3]},  # CUP reserved above on hand
        {"reserved_delta": [0, -1]},  # CUP reserved below zero
    ):
        frame = pl.DataFrame({"warehouse_code": ["hq", "hq"], "sku": [TEA, CUP], **deltas})
        with pytest.raises(Conflict) as caught, shop.store.write() as conn:
            stock.add_to_levels(conn, frame)
        assert caught.value.params == {"rows": 1}

    assert snapshot(shop) == before


def test_parallel_reservations_never_promise_more_than_is_on_hand(shop):
    """Eight clerks reserve the last five units at once: exactly five succeed, three are
    refused, and the ledger still explains the level."""
    receive(shop, ("hq", TEA, 5))
    outcomes: list[str] = []  # "ok", "refused", or anything unexpected
    start = threading.Barrier(8)

    def clerk(n: int) -> None:
        start.wait()
        try:
            with shop.store.write() as conn:
                stock.reserve(conn, lines_frame([(f"95{n:02d}", 1, "hq", TEA, 1, None)]), shop.actor,
                              at=clock.now())
            outcomes.append("ok")
        except Refused:
            outcomes.append("refused")
        except Exception as exc:  # shown in the assertion below
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)

    assert sorted(outcomes) == ["ok"] * 5 + ["refused"] * 3
    assert level_map(shop) == {("hq", TEA): (5, 5)}
    assert_ledger_explains(shop)


def test_every_operation_leaves_the_ledger_explaining_every_level_S7(shop):
    """S7: the warehouse checks quantities; after each kind of change — receipt, return,
    count, transfer, reservation, release, pick — every unit is accounted for."""
    actor, now = shop.actor, clock.now()
    steps = [
        lambda: receive(shop, ("hq", TEA, 20), ("gz", CUP, 5), ("sup", SOCK, 50)),
        lambda: stock.receive_goods(
            shop, [{"warehouse_code": "gz", "sku": TEA, "quantity": 1}], kind="return"
        ),
        lambda: stock.count_stock(shop, [{"warehouse_code": "hq", "sku": TEA, "on_hand": 18},
                                         {"warehouse_code": "gz", "sku": TOWEL, "on_hand": 2}]),
        lambda: stock.transfer_goods(shop, [{"from_warehouse": "hq", "to_warehouse": "gz", "sku": TEA,
                                             "quantity": 6}]),
    ]
    for step in steps:
        step()
        assert_ledger_explains(shop)
    with shop.store.write() as conn:
        stock.reserve(conn, lines_frame([("9101", 1, "hq", TEA, 5, 71), ("9102", 1, "gz", TEA, 2, 72),
                                         ("9102", 2, "gz", CUP, 1, 72)]), actor, at=now)
    assert_ledger_explains(shop)
    with shop.store.write() as conn:
        stock.release(conn, ["9101"], "退款", actor, at=now)
    assert_ledger_explains(shop)
    with shop.store.write() as conn:
        stock.pick(conn, [72], actor, at=now)
    assert_ledger_explains(shop)

    assert level_map(shop) == {
        ("hq", TEA): (12, 0), ("gz", TEA): (5, 0), ("gz", CUP): (4, 0), ("gz", TOWEL): (2, 0),
        ("sup", SOCK): (50, 0),
    }
    assert set(ledger(shop)["kind"]) == set(stock.KINDS)
    assert stock.check_ledger(as_(shop, "分析师")).height == 0


def test_stock_written_outside_the_ledger_is_found_and_adopted_as_opening_balance(shop):
    """Stock typed straight into the database is a difference `check_ledger` shows;
    `adopt_untracked` records it as an opening balance without changing the levels, and
    gives open shipments' lines their reservations."""
    receive(shop, ("hq", TEA, 4))
    orders, lines = make_orders(1, stage="allocated")
    as_(shop, "店长").insert_orders(orders, lines, kind="test", source="test_stock")
    no = orders["order_no"][0]
    with shop.store.write() as conn:
        ship = add_shipment(conn, no, stage="picking")
        conn.execute(schema.shipment_lines.insert(), [
            {"shipment_id": ship, "order_no": no, "line_no": r["line_no"], "sku": r["sku"],
             "quantity": r["quantity"]} for r in lines.iter_rows(named=True)
        ])
        conn.execute(schema.stock_levels.update().where(schema.stock_levels.c.sku == TEA).values(on_hand=9))
        conn.execute(schema.stock_levels.insert(), [
            {"warehouse_code": "hq", "sku": r["sku"], "on_hand": 10, "reserved": r["quantity"]}
            for r in lines.iter_rows(named=True) if r["sku"] != TEA
        ])
    levels_before = level_map(shop)

    gaps = stock.check_ledger(shop)
    assert (TEA in gaps["sku"].to_list()) and gaps.height == 1 + lines.filter(pl.col("sku") != TEA).height

    with pytest.raises(PermissionDenied):
        stock.adopt_untracked(as_(shop, "分析师"))
    adopted = stock.adopt_untracked(shop)

    assert adopted["reservations"] == lines.height
    assert level_map(shop) == levels_before
    assert stock.check_ledger(shop).height == 0
    assert_ledger_explains(shop)
    opening = ledger(shop, batch_id=adopted["batch_id"])
    assert set(opening["reason"]) == {"期初余额"}
    with shop.store.read() as conn:
        held = stock.open_reservations(conn, shipment_ids=[ship])
    assert sorted(held["line_no"].to_list()) == sorted(lines["line_no"].to_list())
    assert stock.adopt_untracked(shop)["reservations"] == 0  # a second run finds nothing to adopt


# --- who may change stock ---------------------------------------------------------------------


def _receipt(s: kit.Shop) -> object:
    return receive(s, ("hq", TEA, 1))


def _count(s: kit.Shop) -> object:
    return stock.count_stock(s, [{"warehouse_code": "hq", "sku": TEA, "on_hand": 9}])


def _transfer(s: kit.Shop) -> object:
    move = {"from_warehouse": "hq", "to_warehouse": "gz", "sku": TEA, "quantity": 1}
    return stock.transfer_goods(s, [move])


def _threshold(s: kit.Shop) -> object:
    return stock.set_threshold(s, TEA, 3)


def _pin(s: kit.Shop) -> object:
    return stock.pin_sku(s, TEA, "gz")


ROLE_CASES = [  # (operation, staff who may, staff who may not)
    (_receipt, ["仓管小李", "店长"], ["客服小美", "售后小王", "物流小张", "分析师", "管理员"]),
    (_count, ["仓管小李", "店长"], ["客服小美", "物流小张", "分析师"]),
    (_transfer, ["仓管小李", "店长"], ["客服小美", "分析师", "管理员"]),
    (_threshold, ["仓管小李", "店长", "管理员"], ["客服小美", "分析师", "物流小张"]),
    (_pin, ["仓管小李", "管理员"], ["客服小美", "分析师", "售后小王"]),
]


@pytest.mark.parametrize(("operation", "allowed", "denied"), ROLE_CASES,
                         ids=["receive", "count", "transfer", "threshold", "pin"])
def test_only_the_right_roles_change_stock(lite, operation, allowed, denied):
    """Pre-sales and analysts cannot move stock or change its settings: PermissionDenied
    naming the person and the action, and nothing written."""
    receive(lite, ("hq", TEA, 10))
    for name in denied:
        before = snapshot(lite)
        with pytest.raises(PermissionDenied) as caught:
            operation(as_(lite, name))
        assert name in caught.value.message and caught.value.exit_code == 1
        assert snapshot(lite) == before
    for name in allowed:
        operation(as_(lite, name))
    assert_ledger_explains(lite)


def test_the_kits_own_jobs_may_receive_and_count_but_not_transfer(lite):
    """System jobs (imports) may receive and count; transfers are people's decisions."""
    job = lite.as_system("import")
    receive(job, ("hq", TEA, 3))
    _count(job)

    with pytest.raises(PermissionDenied):
        _transfer(job)
    assert level_map(lite) == {("hq", TEA): (9, 0)}


def test_nobody_and_inactive_staff_cannot_change_stock(lite):
    """Without an acting person, or as someone no longer active, stock does not move."""
    nobody = kit.Shop(lite.store, lite.config, None)
    with pytest.raises(PermissionDenied) as caught:
        _receipt(nobody)
    assert caught.value.key == "permission.no_actor"
    with pytest.raises(PermissionDenied):
        stock.levels(nobody)

    with lite.store.write() as conn:
        conn.execute(schema.staff.update().where(schema.staff.c.name == WAREHOUSE_STAFF).values(active=False))
    with pytest.raises(PermissionDenied):
        _receipt(as_(lite, WAREHOUSE_STAFF))
    inactive = StaffMember(WAREHOUSE_STAFF, Role.WAREHOUSE, active=False)
    with pytest.raises(PermissionDenied):
        stock.permit(inactive, "receive_stock")
    assert level_map(lite) == {}


def test_everyone_may_read_stock(lite):
    """Looking stock up (S12) is open to every role, analysts included."""
    receive(lite, ("hq", TEA, 2))
    for name in STAFF:
        reader = as_(lite, name)
        assert stock.levels(reader).height == 1
        assert stock.low(reader, below=5)["sku"].to_list()[-1] == TEA
        assert stock.check_ledger(reader).height == 0

"""Stock never goes below zero whatever runs in parallel (S7, S12, S17, S23, S24b).

Four processes allocate overlapping sets of approved orders over scarce stock (four SKUs
in three warehouses, a few units each), in batches of a few orders so that their
transactions interleave, while a fifth moves stock at the same time (receipts, counts that
take stock away, transfers, allocations given back, orders cancelled) and a sixth samples
the levels. During the race no sample may show a level below zero, more reserved than on
hand, or a reserved figure that the open reservations do not explain; afterwards every unit
is accounted for in the ledger and no order is allocated twice. Run on SQLite (writers
queue on BEGIN IMMEDIATE) and PostgreSQL (row locks, SKIP LOCKED, deadlock retries).
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from orders_factory import PRODUCTS, make_orders

import kit
from kit import clock, stock
from kit.allocation import AllocationPolicy, allocate, deallocate
from kit.errors import PermissionDenied, Refused
from kit.store import schema
from kit.store.frames import insert_frame, read_frame

pytestmark = pytest.mark.slow

WAREHOUSES = [
    {"code": "hq", "name": "杭州总仓", "kind": "hq", "province": "浙江省", "city": "杭州市",
     "serves": ["浙江省", "上海市", "江苏省"]},
    {"code": "gz", "name": "广州仓", "kind": "store", "province": "广东省", "city": "广州市",
     "serves": ["广东省", "湖北省"]},
    {"code": "bj", "name": "北京仓", "kind": "store", "province": "北京市", "city": "北京市",
     "serves": ["北京市", "四川省"]},
]
CODES = [w["code"] for w in WAREHOUSES]
SKUS = [p[0] for p in PRODUCTS]
ALLOCATORS = [f"分仓{i}" for i in range(4)]
MOVER, READER = "店长", "观察员"
STAFF = {**dict.fromkeys(ALLOCATORS, "warehouse"), MOVER: "supervisor", READER: "analyst"}
N_ORDERS = 240  # about 360 lines wanting about 720 units, against 40 on hand at the start
BATCH = 6  # orders per allocation transaction: many small transactions that interleave
PAUSE = 0.04  # at most this long between an allocator's transactions
MOVE_SECONDS = 8.0  # how long the stock mover works; allocators run until it stops, then once more

# Sampled in one statement, so on both databases it sees one committed state.
SAMPLE = """
SELECT l.warehouse_code, l.sku, l.on_hand, l.reserved, COALESCE(r.units, 0) AS held
FROM stock_levels l
LEFT JOIN (SELECT warehouse_code, sku, SUM(quantity) AS units FROM reservations
           WHERE status = 'reserved' GROUP BY warehouse_code, sku) r
  ON r.warehouse_code = l.warehouse_code AND r.sku = l.sku
"""


def _shop(url: str, actor: str | None = None) -> kit.Shop:
    config = kit.config.parse({"staff": STAFF, "warehouses": WAREHOUSES})
    return kit.connect(url, actor=actor, config=config)


def _opening() -> list[dict[str, Any]]:
    """2 to 5 units of each SKU in each warehouse: 40 in all."""
    return [{"warehouse_code": w, "sku": s, "quantity": 2 + (i + 2 * j) % 4}
            for i, w in enumerate(CODES) for j, s in enumerate(SKUS)]


def _seed(url: str) -> list[str]:
    """The shop: warehouses and staff, the catalogue, opening stock through the ledger, and
    N_ORDERS approved orders. Returns the order numbers."""
    with _shop(url, MOVER) as shop:
        shop.sync_settings()
        with shop.store.write() as conn:
            insert_frame(conn, schema.skus, pl.DataFrame(
                {"sku": SKUS, "title": [p[1] for p in PRODUCTS], "category": "general",
                 "spec": [p[2] for p in PRODUCTS], "weight_g": 500, "price_fen": [p[3] for p in PRODUCTS]}))
        stock.receive_goods(shop, _opening(), reason="开仓")
        orders, lines = make_orders(N_ORDERS, stage="approved")
        shop.insert_orders(orders, lines, kind="test", source="no-oversell")
        return orders["order_no"].to_list()


# --- the racers (module level: spawned processes import them) --------------------------------


def _allocator(url: str, actor: str, order_nos: list[str], barrier: Any, stop: Any) -> dict[str, int]:
    """Allocate `order_nos` again and again (only those still waiting are taken) until the
    mover stops, then once more. A short pause after each batch's commit: SQLite's busy
    handler polls, so a process that begins again at once would keep the write lock to itself."""
    seen: Counter[str] = Counter()
    rng = random.Random(actor)
    with _shop(url, actor) as shop:
        shop.store.schema_version()  # connect before the race starts
        policy = AllocationPolicy(batch_orders=BATCH)
        barrier.wait(timeout=120)
        while True:
            last = stop.is_set()
            result = allocate(shop, order_nos=order_nos, policy=policy,
                              progress=lambda _n: time.sleep(rng.uniform(0.005, PAUSE)))
            seen["passes"] += 1
            seen["batches"] += result.batches
            seen["allocated"] += len(result.allocated)
            seen["units"] += result.units
            seen["waiting"] += len(result.waiting)
            if last:
                return dict(seen)
            time.sleep(PAUSE)  # between passes: a set with nothing left waiting must not spin


def _receive(shop: kit.Shop, rng: random.Random) -> None:
    """A few units of one SKU arrive at one warehouse."""
    stock.receive_goods(shop, [{"warehouse_code": rng.choice(CODES), "sku": rng.choice(SKUS),
                                "quantity": rng.randint(1, 3)}], reason="到货")


def _count(shop: kit.Shop, rng: random.Random) -> None:
    """Count an item at what is reserved plus 0–2: mostly takes stock away (a count below
    what is reserved meanwhile is refused)."""
    warehouse, sku = rng.choice(CODES), rng.choice(SKUS)
    level = stock.levels(shop, warehouse=warehouse, skus=[sku])
    reserved = int(level["reserved"][0]) if level.height else 0
    counted = {"warehouse_code": warehouse, "sku": sku, "on_hand": reserved + rng.randint(0, 2)}
    stock.count_stock(shop, [counted], reason="盘点")


def _transfer(shop: kit.Shop, rng: random.Random) -> None:
    """One available unit moves to another warehouse (refused when none is available)."""
    source, target = rng.sample(CODES, 2)
    stock.transfer_goods(shop, [{"from_warehouse": source, "to_warehouse": target,
                                 "sku": rng.choice(SKUS), "quantity": 1}], reason="调拨")


def _allocated(shop: kit.Shop, rng: random.Random, n: int) -> list[str]:
    with shop.store.read() as conn:
        o = schema.orders
        found = read_frame(conn, sa.select(o.c.order_no).where(o.c.stage == "allocated"))
    nos = found["order_no"].to_list()
    return rng.sample(nos, min(n, len(nos)))


def _deallocate(shop: kit.Shop, rng: random.Random) -> bool:
    """Give two allocations back (allocated → approved): the allocators take them again."""
    chosen = _allocated(shop, rng, 2)
    if not chosen:
        return False
    with shop.store.write() as conn:
        return bool(deallocate(conn, chosen, "改仓重分", shop.actor, at=clock.now()).keys_applied)


def _cancel(shop: kit.Shop, rng: random.Random) -> bool:
    """Cancel an allocated order: its shipments are cancelled and its stock released."""
    for order_no in _allocated(shop, rng, 1):
        shop.transition("order", order_no, "cancel", reason="买家取消")
        return True
    return False


MOVES = {"receive": _receive, "count": _count, "transfer": _transfer, "deallocate": _deallocate,
         "cancel": _cancel}
WEIGHTS = {"receive": 4, "count": 3, "transfer": 3, "deallocate": 3, "cancel": 1}


def _mover(url: str, barrier: Any, seconds: float, seed: int) -> dict[str, int]:
    """Receipts, counts, transfers, deallocations and cancellations while allocation runs."""
    rng = random.Random(seed)
    done: Counter[str] = Counter()
    with _shop(url, MOVER) as shop:
        shop.store.schema_version()
        barrier.wait(timeout=120)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            name = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
            try:
                did = MOVES[name](shop, rng)
                done[name if did is not False else f"{name} idle"] += 1
            except PermissionDenied:
                raise
            except Refused:  # no stock to move, counted below reserved, order changed meanwhile
                done[f"{name} refused"] += 1
            time.sleep(rng.uniform(0, 0.03))
    return dict(done)


def _reader(url: str, barrier: Any, finished: Any) -> dict[str, Any]:
    """Sample every level until the race is over; keep the first few bad rows."""
    samples, bad, busiest = 0, [], 0
    with _shop(url, READER) as shop:
        shop.store.schema_version()
        barrier.wait(timeout=120)
        while True:
            last = finished.is_set()
            with shop.store.read() as conn:
                rows = conn.exec_driver_sql(SAMPLE).all()
            samples += 1
            busiest = max(busiest, sum(r[3] for r in rows))
            bad += [tuple(r) for r in rows if r[2] < 0 or r[3] < 0 or r[3] > r[2] or r[3] != r[4]][:5]
            if last:
                return {"samples": samples, "bad": bad[:20], "most_reserved": busiest}
            time.sleep(0.005)


# --- the accounts after the race -------------------------------------------------------------


def _frames(url: str) -> dict[str, pl.DataFrame]:
    with _shop(url) as shop, shop.store.read() as conn:
        o, ol, sh, sl, rv, lg, au = (schema.orders, schema.order_lines, schema.shipments,
                                     schema.shipment_lines, schema.reservations, schema.stock_ledger,
                                     schema.audit)
        return {
            "levels": read_frame(conn, sa.select(schema.stock_levels)),
            "differences": stock.ledger_differences(conn),
            "orders": read_frame(conn, sa.select(o.c.order_no, o.c.stage)),
            "lines": read_frame(conn, sa.select(ol.c.order_no, ol.c.line_no, ol.c.sku, ol.c.quantity)),
            "shipped": read_frame(conn, sa.select(sl.c.order_no, sl.c.line_no, sl.c.sku, sl.c.quantity,
                                                   sl.c.shipment_id, sh.c.warehouse_code,
                                                   sh.c.order_no.label("ship_order"))
                                  .join(sh, sh.c.shipment_id == sl.c.shipment_id)
                                  .where(sh.c.stage != "cancelled")),
            "held": read_frame(conn, sa.select(rv).where(rv.c.status == "reserved")),
            "ledger": read_frame(conn, sa.select(lg)),
            "stages": read_frame(conn, sa.select(au.c.entity_id.label("order_no"), au.c.from_state,
                                                  au.c.to_state, au.c.action)
                                 .where(au.c.entity == "order", au.c.field == "stage")),
        }


def _check_accounts(f: dict[str, pl.DataFrame]) -> None:
    levels = f["levels"]
    # no stock row negative, never more reserved than on hand
    assert levels.filter((pl.col("on_hand") < 0) | (pl.col("reserved") < 0)).height == 0
    assert levels.filter(pl.col("reserved") > pl.col("on_hand")).height == 0
    # every unit accounted for: each level is the sum of its ledger rows
    assert f["differences"].height == 0, f["differences"]

    # reserved is exactly what the open reservations hold, item by item
    held_per_item = f["held"].group_by("warehouse_code", "sku").agg(pl.col("quantity").sum().alias("held"))
    per_item = levels.join(held_per_item, on=["warehouse_code", "sku"], how="full", coalesce=True)
    per_item = per_item.with_columns(pl.col("reserved", "held").fill_null(0))
    assert per_item.filter(pl.col("reserved") != pl.col("held")).height == 0, per_item

    stage = f["orders"]
    allocated = stage.filter(pl.col("stage") == "allocated")["order_no"]
    lines = f["lines"].with_columns(pl.col("order_no").is_in(allocated.implode()).alias("allocated"))

    # each line of an allocated order reserved exactly once, in one open shipment, and the
    # reservation, the shipment line and the order line agree; other orders hold nothing
    held = f["held"].group_by("order_no", "line_no").agg(
        pl.len().alias("n_held"), pl.col("quantity").sum().alias("held_qty"),
        pl.col("shipment_id").first().alias("held_shipment"),
        pl.col("warehouse_code").first().alias("held_at"), pl.col("sku").first().alias("held_sku"))
    shipped = f["shipped"].group_by("order_no", "line_no").agg(
        pl.len().alias("n_shipped"), pl.col("quantity").sum().alias("shipped_qty"),
        pl.col("shipment_id").first(), pl.col("warehouse_code").first(),
        (pl.col("ship_order") == pl.col("order_no")).all().alias("own_shipment"))
    both = (lines.join(held, on=["order_no", "line_no"], how="left")
            .join(shipped, on=["order_no", "line_no"], how="left")
            .with_columns(pl.col("n_held", "n_shipped").fill_null(0)))
    stray = both.filter(~pl.col("allocated") & ((pl.col("n_held") > 0) | (pl.col("n_shipped") > 0)))
    assert stray.height == 0, stray
    mine = both.filter(pl.col("allocated"))
    wrong = mine.filter(
        (pl.col("n_held") != 1) | (pl.col("n_shipped") != 1)
        | (pl.col("held_qty") != pl.col("quantity")) | (pl.col("shipped_qty") != pl.col("quantity"))
        | (pl.col("held_shipment") != pl.col("shipment_id")) | (pl.col("held_at") != pl.col("warehouse_code"))
        | (pl.col("held_sku") != pl.col("sku")) | ~pl.col("own_shipment"))
    assert wrong.height == 0, wrong

    # the ledger agrees line by line: what was reserved for a line, less what was given
    # back, is the line's quantity while its order is allocated and nothing otherwise
    per_line = f["ledger"].filter(pl.col("order_no").is_not_null()).group_by("order_no", "line_no").agg(
        pl.col("reserved_delta").sum().alias("net"), pl.col("on_hand_delta").abs().sum().alias("moved"))
    ledgered = lines.join(per_line, on=["order_no", "line_no"], how="left").with_columns(
        pl.col("net", "moved").fill_null(0))
    assert ledgered.filter(pl.col("moved") != 0).height == 0
    assert ledgered.filter(
        pl.col("net") != pl.when(pl.col("allocated")).then(pl.col("quantity")).otherwise(0)).height == 0

    # never allocated twice: every allocation of an order was undone before the next one
    moves = f["stages"].group_by("order_no").agg(
        (pl.col("to_state") == "allocated").sum().alias("into"),
        (pl.col("from_state") == "allocated").sum().alias("out_of"))
    twice = (stage.join(moves, on="order_no", how="left")
             .with_columns(pl.col("into", "out_of").fill_null(0).cast(pl.Int64))
             .filter(pl.col("into") - pl.col("out_of") != (pl.col("stage") == "allocated").cast(pl.Int64)))
    assert twice.height == 0, twice

    # in all: what is reserved is what allocated orders want, within what is on hand
    reserved = int(levels["reserved"].sum())
    assert reserved == int(lines.filter(pl.col("allocated"))["quantity"].sum())
    assert reserved <= int(levels["on_hand"].sum())


def test_parallel_allocation_never_oversells(db_url):
    """Four allocators, a stock mover and a sampler at once: nothing oversold, every unit
    accounted for, no order allocated twice."""
    order_nos = _seed(db_url)
    wanted_units = None
    with _shop(db_url) as shop:
        wanted_units = int(shop.lines()["quantity"].sum())
    # order k is in the sets of allocators k % 4 and (k + 1) % 4: every order is raced for
    sets = [[no for k, no in enumerate(order_nos) if i in (k % 4, (k + 1) % 4)] for i in range(4)]
    ctx = mp.get_context("spawn")
    started = time.monotonic()
    with ctx.Manager() as manager:
        barrier, stop, finished = manager.Barrier(6), manager.Event(), manager.Event()
        with ProcessPoolExecutor(6, mp_context=ctx) as pool:
            allocators = [pool.submit(_allocator, db_url, actor, nos, barrier, stop)
                          for actor, nos in zip(ALLOCATORS, sets, strict=True)]
            mover = pool.submit(_mover, db_url, barrier, MOVE_SECONDS, 7)
            reader = pool.submit(_reader, db_url, barrier, finished)
            try:
                moved = mover.result(timeout=180)
                stop.set()
                allocated = [f.result(timeout=180) for f in allocators]
            finally:  # whatever failed, let every racer finish
                stop.set()
                finished.set()
            sampled = reader.result(timeout=60)
    elapsed = time.monotonic() - started
    print(f"race: {elapsed:.1f} s; mover {moved}; allocators {allocated}; "
          f"sampler {sampled['samples']} samples")  # shown when the test fails

    # during the race: no sample showed a level below zero, more reserved than on hand,
    # or a reserved figure the open reservations do not explain
    assert sampled["bad"] == [], sampled["bad"]
    assert sampled["samples"] >= 20, sampled
    assert sampled["most_reserved"] > 0

    # it was a race: every allocator ran many transactions, stock moved meanwhile in every way
    assert all(a["batches"] >= 10 for a in allocated), allocated
    assert sum(a["allocated"] for a in allocated) > 0, allocated
    for name in ("receive", "count", "deallocate"):
        assert moved.get(name, 0) > 0, moved

    frames = _frames(db_url)
    _check_accounts(frames)

    # the stock was scarce: orders were left short, and what was reserved is far below demand
    stages = frames["orders"]["stage"].value_counts()
    assert frames["orders"].filter(pl.col("stage") == "backordered").height > 0, stages
    assert int(frames["levels"]["reserved"].sum()) < wanted_units
    assert elapsed < 120, f"the race took {elapsed:.0f} s"

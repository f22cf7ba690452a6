"""The demo shop: a deterministic, realistic shop to try the kit on, and to benchmark it.

    >>> from kit.demo import generate, seed
    >>> demo = generate(orders=3000, seed=20261130, today=datetime.date(2026, 11, 30))
    >>> demo.orders                                  # one polars frame per table
    >>> batch_id = seed(shop, orders=3000)          # written into an empty database
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.demo.generate import DemoShop, generate
from kit.errors import BadInput
from kit.orders import insert_orders
from kit.permissions import require
from kit.shop import Shop
from kit.stock.ledger import record_opening_balances
from kit.store import schema
from kit.store.frames import insert_frame

__all__ = ["SEED_STEPS", "DemoShop", "generate", "seed"]

CHUNK_ROWS = 50_000
# The tables the demo writes with explicit ids, and their id column.
_IDS = {"shipments": "shipment_id", "tracking_events": "event_id", "after_sales": "case_id"}


SEED_STEPS = 8  # generate, reference data, orders, then five fulfilment tables: for progress bars


def seed(shop: Shop, orders: int = 3000, seed: int = 20261130, today: date | None = None,
         progress: Callable[[int], None] | None = None) -> int:
    """Generate the demo shop and write it into the shop's empty database; return the batch id.

    One write transaction: staff, warehouses, SKUs and stock (rows already there are
    kept), the orders and their lines as one audited batch, then shipments, parcels,
    shipment lines, tracking events and after-sale cases. A database that already holds
    orders is refused. Without `today`, the shop is seen as it is now. `progress` is
    called with 1 after each of the SEED_STEPS steps (for a progress bar).
    """
    step = progress or (lambda _n: None)
    actor = require(shop.actor, "seed_demo")
    moment = clock.now()
    demo = generate(orders, seed, today, until=None if today else moment)
    step(1)
    with shop.store.write() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(schema.orders)).scalar_one()
        if existing:
            raise BadInput("demo.not_empty", url=shop.store.shown_url, orders=existing)
        _insert_missing(conn, schema.staff, demo.staff.with_columns(
            active=pl.lit(True), created_at=pl.lit(moment)), ["name"])
        _insert_missing(conn, schema.warehouses, demo.warehouses, ["code"])
        _insert_missing(conn, schema.skus, demo.skus, ["sku"])
        _insert_missing(conn, schema.stock_levels, demo.stock_levels, ["warehouse_code", "sku"])
        step(1)
        batch_id = insert_orders(
            conn, demo.orders, demo.order_lines, actor=actor, kind="demo",
            source=f"kit demo --orders {orders} --seed {seed}", now=moment,
            details={"seed": seed, "today": str(today or moment.date()),
                     **{name: frame.height for name, frame in demo.tables().items()}},
        )
        step(1)
        # Ids continue after any already used (none, in a database without orders).
        offsets = {name: _max_id(conn, name, key) for name, key in _IDS.items()}
        offsets |= {"parcels": offsets["shipments"], "shipment_lines": offsets["shipments"],
                    "after_sale_lines": offsets["after_sales"]}
        for name in ("shipments", "parcels", "shipment_lines", "tracking_events", "after_sales",
                     "after_sale_lines"):
            key = "case_id" if name == "after_sale_lines" else _IDS.get(name, "shipment_id")
            frame = demo.tables()[name].with_columns(pl.col(key) + offsets[name])
            for chunk in frame.iter_slices(CHUNK_ROWS):  # bounded memory for a million orders
                insert_frame(conn, schema.metadata.tables[name], chunk)
            step(1)
        # The seeded stock and the open shipments' reservations enter the stock ledger as
        # opening balances, so every level can be rebuilt from the ledger (kit stock check).
        record_opening_balances(conn, actor.name, moment, batch_id)
        if conn.dialect.name == "postgresql":  # move the id sequences past the ids written
            for name, key in _IDS.items():
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', '{key}'), "
                    f"coalesce((SELECT max({key}) FROM {name}), 0) + 1, false)"))
    return batch_id


def _max_id(conn: sa.Connection, name: str, key: str) -> int:
    """The highest id in the table, 0 when empty."""
    column = schema.metadata.tables[name].c[key]
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(column), 0))).scalar_one())


def _insert_missing(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame, keys: list[str]) -> int:
    """Insert the frame's rows whose key the table does not hold yet; return how many."""
    present = conn.execute(sa.select(*(table.c[k] for k in keys))).all()
    if present:
        have = pl.DataFrame(present, schema=keys, orient="row").cast(frame.select(keys).schema)
        frame = frame.join(have, on=keys, how="anti", maintain_order="left")
    return insert_frame(conn, table, frame)

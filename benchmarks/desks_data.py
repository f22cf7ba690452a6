"""Shops for the desks benchmark (issue 7): n open orders the 发货确认 shipping desk lists, and the
same shop with no orders (the floor's empty database); written in bulk
(kit.store.frames.insert_frame) once per backend and day.

The open orders are those of benchmarks.allocation_data, paid three days before the shop's
today (taobao: ship within 72 hours, so every one is due today), in four groups:

    handed over  50%  shipment handed over today with a valid tracking number (one of eight
                      carriers, as benchmarks.confirmation_data): the awaiting-confirmation list
    packed       20%  shipment packed, label printed (tracking number), not handed over
    allocated    20%  shipment allocated, not picked
    approved     10%  no shipment yet

The packed, allocated and approved orders (half of them) are the desk's "unshipped today" list
and its call list; one in twenty of them already has its not-shipped reason (a flags row).
Nothing is confirmed yet today. Times are relative to the shop's today when the shop is built
(kit.clock), so the template is built again on another day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl
import sqlalchemy as sa

from benchmarks import allocation_data, confirmation_data
from kit import clock
from kit.models import Role, StaffMember
from kit.store import Store, schema
from kit.store.frames import insert_frame

CLERK = StaffMember("物流小林", Role.LOGISTICS)  # who the desk is served to (--as): scans and confirms
GROUPS = [("handed_over", 0.5), ("packed", 0.2), ("allocated", 0.2), ("approved", 0.1)]
REASON_SHARE = 0.05  # of the unshipped orders, those whose reason was already given
REASON = "等待补货"
KIT_TOML = """\
[shop]
name = "示例小店"

[shop.sender]
mobile = "13800000000"
detail = "文一西路 1 号"
"""


def today() -> date:
    """The shop's today (kit.clock: Asia/Shanghai unless KIT_TIMEZONE says otherwise)."""
    return clock.now().date()


def sizes(n: int) -> dict[str, int]:
    """How many orders each group holds (the last takes what rounding leaves)."""
    out, left = {}, n
    for stage, share in GROUPS[:-1]:
        out[stage] = int(n * share)
        left -= out[stage]
    out[GROUPS[-1][0]] = left
    return out


def frames(n: int, day: date) -> dict[str, pl.DataFrame]:
    """The shop's orders, lines, shipments and reasons, as frames."""
    midnight = datetime.combine(day, time())
    shift = midnight - timedelta(days=3) - datetime.combine(allocation_data.START.date(), time())
    order_frame, line_frame = allocation_data.orders(n)
    count = sizes(n)
    stage = pl.Series("stage", [s for s, _ in GROUPS]).gather(
        np.repeat(np.arange(len(GROUPS)), [count[s] for s, _ in GROUPS]))
    ships = confirmation_data.shipments(order_frame)  # a carrier and valid number for every order
    order_frame = order_frame.with_columns(
        stage, ships["carrier_code"],
        created_at=pl.col("created_at") + shift,
        paid_at=pl.col("paid_at") + shift,
    ).with_columns(
        carrier_code=pl.when(pl.col("stage") != "approved").then("carrier_code"),
        version=pl.col("stage").replace_strict({"handed_over": 5, "packed": 4, "allocated": 2, "approved": 1},
                                               return_dtype=pl.Int64),
        ship_by=pl.col("paid_at") + timedelta(hours=72),
    )
    handed = midnight + timedelta(hours=9)
    rng = np.random.default_rng(7)
    spread = pl.Series("_spread", rng.integers(0, 8 * 3600, n) * 1_000_000).cast(pl.Duration("us"))
    ships = ships.with_columns(stage, spread, created_at=order_frame["paid_at"]).filter(
        pl.col("stage") != "approved"
    ).with_columns(
        tracking_no=pl.when(pl.col("stage") != "allocated").then("tracking_no"),
        weight_g=pl.when(pl.col("stage") != "allocated").then("weight_g"),
        packed_at=pl.when(pl.col("stage") != "allocated").then(pl.lit(handed) - timedelta(hours=1)),
        packed_by=pl.when(pl.col("stage") != "allocated").then("packed_by"),
        handed_over_at=pl.when(pl.col("stage") == "handed_over").then(pl.lit(handed) + pl.col("_spread")),
        handed_over_by=pl.when(pl.col("stage") == "handed_over").then("handed_over_by"),
        version=pl.col("stage").replace_strict({"handed_over": 3, "packed": 2, "allocated": 0},
                                               return_dtype=pl.Int64),
    ).with_columns(updated_at=pl.coalesce("handed_over_at", "packed_at", "created_at")).drop("_spread")
    unshipped = order_frame.filter(pl.col("stage") != "handed_over")["order_no"]
    given = unshipped.gather(np.flatnonzero(rng.random(unshipped.len()) < REASON_SHARE))
    reasons = pl.DataFrame({"order_no": given}).with_columns(
        kind=pl.lit("not_shipped"), message=pl.lit(REASON),
        details=pl.lit(f'{{"day": "{day.isoformat()}"}}'), status=pl.lit("open"),
        created_at=pl.lit(midnight + timedelta(hours=10)), created_by=pl.lit(CLERK.name))
    return {"orders": order_frame, "lines": line_frame, "shipments": ships, "reasons": reasons}


def write_staff(conn: sa.Connection) -> None:
    """The bench staff member, warehouses and SKUs, and the clerk the desk is served to."""
    allocation_data.write_basics(conn)
    conn.execute(schema.staff.insert().values(name=CLERK.name, role=str(CLERK.role),
                                              created_at=allocation_data.START))


def build(url: str, n: int) -> None:
    """Write the benchmark shop (n open orders, see the module's note) into an empty database."""
    parts = frames(n, today())
    with Store.open(url) as store, store.write() as conn:
        write_staff(conn)
        allocation_data.write_orders(conn, parts["orders"], parts["lines"])
        insert_frame(conn, schema.shipments, parts["shipments"])
        insert_frame(conn, schema.flags, parts["reasons"])
    # the ids were given: on PostgreSQL move the sequence past them
    allocation_data.analyze(url, "SELECT setval(pg_get_serial_sequence('shipments', 'shipment_id'), "
                                 "(SELECT max(shipment_id) FROM shipments))")


def build_empty(url: str, _n: int = 0) -> None:
    """The same shop with no orders: staff, warehouses and SKUs only."""
    with Store.open(url) as store, store.write() as conn:
        write_staff(conn)
    allocation_data.analyze(url)

"""A shop for the confirmation benchmark: n orders (those of benchmarks.allocation_data), each with
one shipment already handed over to one of eight express carriers with a valid tracking number
of that carrier's, and the audit trail the orders and shipments left getting there; written
once per backend in bulk (kit.store.frames.insert_frame)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from benchmarks import allocation_data
from kit.carriers.numbers import upu_s10_digit
from kit.store import Store, schema
from kit.store.frames import insert_frame

ACTOR = allocation_data.ACTOR
START = allocation_data.START
HANDED_OVER_AT = START + timedelta(hours=9)  # 17:00, before the 21:00 confirmation deadline
# carrier code, share of the parcels (yto is the shop's default carrier)
CARRIERS = [("yto", 0.35), ("zto", 0.20), ("sto", 0.10), ("yunda", 0.10), ("sf", 0.10),
            ("jd", 0.05), ("ems", 0.05), ("jt", 0.05)]
# the steps that led here, with the audit rows they left (entity, action, from, to)
HISTORY = [
    ("order", "approve", "new", "approved"),
    ("order", "allocate", "approved", "allocated"),
    ("shipment", "start_picking", "allocated", "picking"),
    ("order", "start_picking", "allocated", "picking"),
    ("shipment", "pack", "picking", "packed"),
    ("order", "pack", "picking", "packed"),
    ("shipment", "hand_over", "packed", "handed_over"),
    ("order", "hand_over", "packed", "handed_over"),
]


def tracking_number(carrier: str, k: int) -> str:
    """The k-th tracking number of a carrier, in a form its patterns (patterns.toml) accept;
    distinct for every (carrier, k)."""
    if carrier == "yto":
        return f"YT{7_000_000_000_000 + k:013d}"    # YT + 13 digits
    if carrier == "zto":
        return f"{75_000_000_000_000 + k:014d}"     # 14 digits starting 73-78
    if carrier == "sto":
        return f"77{k:013d}"                        # 12-15 digits starting 77
    if carrier == "yunda":
        return f"43{k:011d}"                        # 13 digits starting 3 or 4
    if carrier == "sf":
        return f"SF{1_300_000_000_000 + k:013d}"    # SF + 12-13 digits
    if carrier == "jd":
        return f"JDVA{k:011d}"                      # JD + 13 letters or digits
    if carrier == "ems":
        serial = f"{k:08d}"                         # UPU S10 with its check digit
        return f"EA{serial}{upu_s10_digit(serial)}CN"
    if carrier == "jt":
        return f"JT{5_000_000_000_000 + k:013d}"    # JT + 13 digits
    raise ValueError(f"no numbers for carrier {carrier!r}")


def shipments(order_frame: pl.DataFrame, seed: int = 21) -> pl.DataFrame:
    """One handed-over shipment per order, with its carrier and a valid tracking number."""
    n = order_frame.height
    rng = np.random.default_rng(seed)
    codes = [c for c, _ in CARRIERS]
    carrier = rng.choice(len(codes), n, p=[p for _, p in CARRIERS])
    seen = dict.fromkeys(range(len(codes)), 0)
    numbers = []
    for c in carrier.tolist():
        numbers.append(tracking_number(codes[c], seen[c]))
        seen[c] += 1
    warehouses = [w[0] for w in allocation_data.WAREHOUSES if w[1] != "supplier"]
    packed = pl.lit(HANDED_OVER_AT - timedelta(hours=1))
    handed = pl.lit(HANDED_OVER_AT)
    return pl.DataFrame({
        "shipment_id": np.arange(1, n + 1),
        "order_no": order_frame["order_no"],
        "warehouse_code": pl.Series([warehouses[i] for i in rng.integers(0, len(warehouses), n)]),
        "carrier_code": pl.Series([codes[c] for c in carrier.tolist()]),
        "tracking_no": pl.Series(numbers),
        "expected_weight_g": rng.integers(200, 3000, n),
    }).with_columns(
        pl.col("expected_weight_g").alias("weight_g"),
        pl.lit("online_booking").alias("ship_method"),
        pl.lit("handed_over").alias("stage"),
        pl.lit("pending").alias("tracking_status"),
        order_frame["created_at"].alias("created_at"),
        packed.alias("packed_at"),
        pl.lit(ACTOR.name).alias("packed_by"),
        handed.alias("handed_over_at"),
        pl.lit(ACTOR.name).alias("handed_over_by"),
        pl.lit(3).alias("version"),  # picking, packed, handed over
        handed.alias("updated_at"),
    )


def history(ships: pl.DataFrame) -> pl.DataFrame:
    """The audit rows the orders and shipments left on their way to handed_over."""
    frames = []
    for i, (entity, action, before, after) in enumerate(HISTORY):
        key = pl.col("order_no") if entity == "order" else pl.col("shipment_id").cast(pl.String)
        frames.append(ships.select(
            pl.lit(START + timedelta(hours=1 + i)).alias("at"), pl.lit(ACTOR.name).alias("actor"),
            pl.lit(str(ACTOR.role)).alias("role"), pl.lit(entity).alias("entity"), key.alias("entity_id"),
            pl.lit(action).alias("action"), pl.lit("stage").alias("field"),
            pl.lit(before).alias("from_state"), pl.lit(after).alias("to_state")))
    return pl.concat(frames)


def build(url: str, n: int) -> None:
    """Write the benchmark shop (n orders handed over, one shipment each) into an empty database."""
    order_frame, line_frame = allocation_data.orders(n)
    ships = shipments(order_frame)
    order_frame = order_frame.with_columns(stage=pl.lit("handed_over"), carrier_code=ships["carrier_code"],
                                           ship_by=pl.col("paid_at") + timedelta(hours=72),
                                           version=pl.lit(5))
    with Store.open(url) as store, store.write() as conn:
        allocation_data.write_basics(conn)
        allocation_data.write_orders(conn, order_frame, line_frame)
        insert_frame(conn, schema.shipments, ships)
        insert_frame(conn, schema.audit, history(ships))
    # the ids were given: on PostgreSQL move the sequence past them
    allocation_data.analyze(url, "SELECT setval(pg_get_serial_sequence('shipments', 'shipment_id'), "
                                 "(SELECT max(shipment_id) FROM shipments))")

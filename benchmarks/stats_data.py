"""Data of the stats workload (issue 9): a year of synthetic shipments as numpy columns (kept in
benchmarks/.data as .npz, so that every way's process loads the same thing), the polars frame
the kit's metrics take and the pandas frame the naive way takes, and the benchmark shop of
n shipments written into an empty database for the from-the-database measure.

Shipments: handed over through 2025, paid 1 to 72 hours before, ship-by 48 hours after
payment (so some are late), 95% confirmed on the platform, 2% never weighed, eight carriers
(yto most), three warehouses, a few boxes per shipment now and then.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks.databases import DATA
from kit.store import Store, schema

CARRIERS = ("yto", "zto", "sto", "yunda", "sf", "jd", "ems", "jt")
CARRIER_P = (0.35, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05)
WAREHOUSES = (
    ("hq", "杭州总仓", "hq", "浙江省"),
    ("gz", "广州门店", "store", "广东省"),
    ("cd", "成都仓", "hq", "四川省"),
)
PACKERS = ("仓管小李", "仓管小王", "仓管小赵", "仓管小钱")
YEAR = datetime(2025, 1, 1)
SECOND = 1_000_000  # µs


def arrays(n: int, seed: int = 9) -> dict[str, np.ndarray]:
    """The year's n shipments as numpy columns (times as datetime64[us], names as small codes)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64(YEAR, "us")
    handed = start + (rng.integers(0, 365 * 86400, n) * SECOND).astype("timedelta64[us]")
    paid = handed - (rng.integers(3600, 72 * 3600, n) * SECOND).astype("timedelta64[us]")
    confirmed = handed + (rng.integers(600, 8 * 3600, n) * SECOND).astype("timedelta64[us]")
    confirmed[rng.random(n) > 0.95] = np.datetime64("NaT")
    weight = rng.integers(150, 6000, n)
    return {
        "shipment_id": np.arange(1, n + 1, dtype=np.int64),
        "carrier": rng.choice(len(CARRIERS), n, p=CARRIER_P).astype(np.int8),
        "warehouse": rng.integers(0, len(WAREHOUSES), n).astype(np.int8),
        "packer": rng.integers(0, len(PACKERS), n).astype(np.int8),
        "handed_over_at": handed,
        "paid_at": paid,
        "ship_by": paid + np.timedelta64(48 * 3600 * SECOND, "us"),
        "confirmed_at": confirmed,
        "weight_g": weight,
        "weighed": rng.random(n) > 0.02,
        "parcels": np.where(rng.random(n) < 0.03, 2, 1).astype(np.int64),
    }


def npz_path(n: int) -> Path:
    """Where the n shipments are kept (written on first use)."""
    path = DATA / f"stats-{n}.npz"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        np.savez(path.with_suffix(".building.npz"), **arrays(n))
        path.with_suffix(".building.npz").rename(path)
    return path


def _names(codes: np.ndarray, names: tuple[str, ...]) -> pl.Series:
    return pl.Series(names, dtype=pl.String).gather(pl.Series(codes.astype(np.int64)))


def polars_frame(path: str | Path) -> pl.DataFrame:
    """The shipments as the kit's readers give them (kit.stats.frames.SHIPMENTS' columns used)."""
    a = np.load(path)
    return pl.DataFrame(
        {
            "shipment_id": a["shipment_id"],
            "carrier_code": _names(a["carrier"], CARRIERS),
            "warehouse_code": _names(a["warehouse"], tuple(w[0] for w in WAREHOUSES)),
            "packed_by": _names(a["packer"], PACKERS),
            "handed_over_at": a["handed_over_at"],
            "paid_at": a["paid_at"],
            "ship_by": a["ship_by"],
            "confirmed_at": a["confirmed_at"],
            "weight_g": pl.Series(a["weight_g"]).scatter(np.flatnonzero(~a["weighed"]), None),
            "parcels": a["parcels"],
        }
    )


def pandas_frame(path: str | Path) -> Any:
    """The same shipments as a pandas frame: names as Python strings, NaN for no weight."""
    import pandas as pd

    a = np.load(path)
    carriers = np.array(CARRIERS, dtype=object)
    warehouses = np.array([w[0] for w in WAREHOUSES], dtype=object)
    return pd.DataFrame(
        {
            "shipment_id": a["shipment_id"],
            "carrier_code": carriers[a["carrier"]],
            "warehouse_code": warehouses[a["warehouse"]],
            "packed_by": np.array(PACKERS, dtype=object)[a["packer"]],
            "handed_over_at": a["handed_over_at"],
            "paid_at": a["paid_at"],
            "ship_by": a["ship_by"],
            "confirmed_at": a["confirmed_at"],
            "weight_g": np.where(a["weighed"], a["weight_g"].astype(float), np.nan),
            "parcels": a["parcels"],
        }
    )


CHUNK = 200_000


def build(url: str, n: int) -> None:
    """The benchmark shop: three warehouses, n orders and n shipments handed over in 2025."""
    with Store.open(url) as store:
        with store.write() as conn:
            store.insert_frame(
                schema.warehouses,
                pl.DataFrame(
                    [
                        {"code": c, "name": name, "kind": kind, "province": p}
                        for c, name, kind, p in WAREHOUSES
                    ]
                ),
                conn,
            )
        frame = polars_frame(npz_path(n))
        provinces = ("浙江省", "广东省", "北京市", "上海市", "四川省", "江苏省", "湖北省")
        for start in range(0, n, CHUNK):
            part = frame.slice(start, CHUNK)
            k = part["shipment_id"]
            order_no = ("9" + k.cast(pl.String).str.zfill(17)).alias("order_no")
            orders = pl.DataFrame(
                {
                    "order_no": order_no,
                    "platform": "taobao",
                    "shop": "示例小店",
                    "buyer_nick": "测试买家" + k.cast(pl.String),
                    "receiver_name": "测试",
                    "province": pl.Series(provinces).gather(k % len(provinces)),
                    "city": "某市",
                    "district": "某区",
                    "address_detail": "测试路 1 号",
                    "payment_method": "online",
                    "total_fen": 9900,
                    "payable_fen": 9900,
                    "paid_fen": 9900,
                    "created_at": part["paid_at"],
                    "paid_at": part["paid_at"],
                    "trade_status": "WAIT_BUYER_CONFIRM_GOODS",
                    "stage": "confirmed",
                    "ship_by": part["ship_by"],
                    "updated_at": part["handed_over_at"],
                }
            )
            ships = part.select(
                "shipment_id",
                order_no,
                "warehouse_code",
                "carrier_code",
                pl.lit("online_booking").alias("ship_method"),
                pl.lit("confirmed").alias("stage"),
                pl.lit("delivered").alias("tracking_status"),
                ("YT" + pl.col("shipment_id").cast(pl.String)).alias("tracking_no"),
                "weight_g",
                (pl.col("paid_at") + pl.duration(hours=1)).alias("created_at"),
                pl.col("handed_over_at").alias("packed_at"),
                "packed_by",
                "handed_over_at",
                "confirmed_at",
                pl.col("handed_over_at").alias("updated_at"),
            )
            with store.write() as conn:
                store.insert_frame(schema.orders, orders, conn)
                store.insert_frame(schema.shipments, ships, conn)

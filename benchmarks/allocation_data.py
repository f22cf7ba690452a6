"""A shop for the allocation benchmark: 10 warehouses (headquarters, seven stores, two
drop-ship suppliers), 50,000 SKUs with skewed popularity, about 1.5 lines per order, and
stock that falls short for some SKUs, as polars frames, written once per backend."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import sqlalchemy as sa

from kit.models import Role, StaffMember
from kit.orders import insert_orders
from kit.regions import PROVINCES
from kit.store import Store, schema
from kit.store.frames import insert_frame

WAREHOUSES = [  # code, kind, province, city, serves (best first)
    ("hq", "hq", "浙江省", "杭州市", "浙江省 上海市 江苏省 安徽省 山东省 江西省 河南省"),
    ("gz", "store", "广东省", "广州市", "广东省 广西壮族自治区 海南省 福建省 湖南省"),
    ("cd", "store", "四川省", "成都市", "四川省 重庆市 贵州省 云南省 西藏自治区"),
    ("bj", "store", "北京市", "北京市", "北京市 天津市 河北省 山西省 内蒙古自治区"),
    ("wh", "store", "湖北省", "武汉市", "湖北省 湖南省 河南省 江西省"),
    ("sy", "store", "辽宁省", "沈阳市", "辽宁省 吉林省 黑龙江省"),
    ("xa", "store", "陕西省", "西安市", "陕西省 甘肃省 宁夏回族自治区 青海省 新疆维吾尔自治区"),
    ("nj", "store", "江苏省", "南京市", "江苏省 上海市 安徽省 山东省"),
    ("sup-qz", "supplier", "福建省", "泉州市", "福建省 广东省 浙江省 江西省"),
    ("sup-fs", "supplier", "广东省", "佛山市", "广东省 广西壮族自治区 湖南省 海南省"),
]
N_SKUS = 50_000
SUPPLIED = 5_000  # the last SKUs are shipped by the suppliers (drop-ship)
START = datetime(2026, 11, 30, 8, 0)
ACTOR = StaffMember("bench", Role.SYSTEM)


def warehouses() -> pl.DataFrame:
    """The ten warehouses as a `warehouses` frame."""
    return pl.DataFrame(
        [
            {"code": c, "name": c, "kind": k, "province": p, "city": city, "serves": "\n".join(s.split())}
            for c, k, p, city, s in WAREHOUSES
        ]
    )


def skus() -> pl.DataFrame:
    """50,000 SKUs as a `skus` frame."""
    i = np.arange(N_SKUS)
    return pl.DataFrame(
        {
            "sku": [f"SKU-{k:05d}" for k in range(N_SKUS)],
            "title": [f"商品 {k}" for k in range(N_SKUS)],
            "category": np.where(i >= N_SKUS - SUPPLIED, "shoes", "general"),
            "weight_g": 100 + i % 900,
            "price_fen": 990 + (i % 200) * 100,
        }
    )


def orders(n: int, seed: int = 11) -> tuple[pl.DataFrame, pl.DataFrame]:
    """n approved orders and their lines (about 1.5 per order), first paid first numbered."""
    rng = np.random.default_rng(seed)
    count = rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1])
    order = np.repeat(np.arange(n), count)
    line_no = np.arange(order.size) - np.repeat(np.cumsum(count) - count, count) + 1
    popularity = 1.0 / (np.arange(N_SKUS) + 10.0) ** 0.9
    sku = rng.choice(N_SKUS, order.size, p=popularity / popularity.sum())
    qty = rng.choice([1, 2, 3], order.size, p=[0.8, 0.15, 0.05])
    weights = np.ones(len(PROVINCES[:31]))
    for big in ("广东省", "浙江省", "江苏省", "山东省", "四川省", "河南省", "北京市", "上海市"):
        weights[PROVINCES.index(big)] = 4.0
    province = rng.choice(31, n, p=weights / weights.sum())
    nos = pl.Series("order_no", [f"8{k:017d}" for k in range(n)])
    paid = pl.Series([START + timedelta(seconds=int(s)) for s in np.sort(rng.integers(0, 36_000, n))])
    price = 990 + (sku % 200) * 100
    amount = np.bincount(order, weights=price * qty, minlength=n).astype(np.int64)
    frame = pl.DataFrame(
        {
            "order_no": nos,
            "platform": "taobao",
            "shop": "示例小店",
            "buyer_nick": pl.Series([f"buyer{k}" for k in range(n)]),
            "receiver_name": "王某",
            "receiver_mobile": "13800000000",
            "receiver_phone": pl.Series([None] * n, dtype=pl.String),
            "province": pl.Series(PROVINCES).gather(province),
            "city": "某市",
            "district": "某区",
            "address_detail": "某路 1 号",
            "postcode": "310000",
            "payment_method": "online",
            "total_fen": amount,
            "discount_fen": 0,
            "post_fee_fen": 0,
            "payable_fen": amount,
            "paid_fen": amount,
            "created_at": paid,
            "paid_at": paid,
            "trade_status": "WAIT_SELLER_SEND_GOODS",
            "stage": "approved",
            "phone_confirmed": False,
            "no_price_slip": False,
        }
    )
    lines = pl.DataFrame(
        {
            "order_no": nos.gather(order),
            "line_no": line_no,
            "sku": skus()["sku"].gather(sku),
            "title": "商品",
            "quantity": qty,
            "price_fen": price,
            "discount_fen": 0,
            "amount_fen": price * qty,
            "is_gift_item": False,
        }
    )
    return frame, lines


def stock(lines: pl.DataFrame, seed: int = 12) -> pl.DataFrame:
    """Stock per warehouse and SKU: about what the orders want, short for one SKU in eight;
    headquarters holds every own SKU, each store about 40% of them, suppliers theirs."""
    rng = np.random.default_rng(seed)
    wanted = np.zeros(N_SKUS, np.int64)
    ids = lines["sku"].str.slice(4).cast(pl.Int64).to_numpy()
    np.add.at(wanted, ids, lines["quantity"].to_numpy())
    total = np.ceil(wanted * rng.uniform(1.0, 1.8, N_SKUS)).astype(np.int64) + rng.integers(0, 3, N_SKUS)
    short = rng.random(N_SKUS) < 0.125
    total[short] = (wanted[short] * rng.uniform(0.3, 0.9, short.sum())).astype(np.int64)
    own = np.arange(N_SKUS) < N_SKUS - SUPPLIED
    rows = []
    stores = [w for w in WAREHOUSES if w[1] == "store"]
    store_share = np.zeros(N_SKUS)
    for code, _, _, _, _ in stores:
        held = own & (rng.random(N_SKUS) < 0.4)
        part = np.where(held, np.floor(total * 0.08), 0).astype(np.int64)
        store_share += part
        rows.append((code, np.flatnonzero(held), part[held]))
    hq_part = np.maximum(total - store_share.astype(np.int64), 0)
    rows.append(("hq", np.flatnonzero(own), hq_part[own]))
    supplied = np.flatnonzero(~own)
    half = supplied.size // 2
    rows.append(("sup-qz", supplied[:half], total[supplied[:half]]))
    rows.append(("sup-fs", supplied[half:], total[supplied[half:]]))
    names = skus()["sku"]
    return pl.concat(
        [
            pl.DataFrame({"warehouse_code": code, "sku": names.gather(idx), "on_hand": qty, "reserved": 0})
            for code, idx, qty in rows
        ]
    )


def write_basics(conn: sa.Connection) -> None:
    """The bench staff member, the ten warehouses and the SKUs every benchmark shop starts with."""
    conn.execute(schema.staff.insert().values(name=ACTOR.name, role=str(ACTOR.role), created_at=START))
    insert_frame(conn, schema.warehouses, warehouses())
    insert_frame(conn, schema.skus, skus())


def write_orders(conn: sa.Connection, order_frame: pl.DataFrame, line_frame: pl.DataFrame) -> None:
    """The orders and their lines as one bench batch, as the kit registers them."""
    insert_orders(conn, order_frame, line_frame, actor=ACTOR, kind="bench", source="benchmark", now=START)


def analyze(url: str, *statements: str) -> None:
    """On PostgreSQL, run `statements` and then ANALYZE, in a transaction of their own."""
    with Store.open(url) as store, store.write() as conn:
        if conn.dialect.name == "postgresql":
            for statement in statements:
                conn.execute(sa.text(statement))
            conn.execute(sa.text("ANALYZE"))


def build(url: str, n: int) -> None:
    """Write the benchmark shop (n approved orders) into an empty database at `url`, with the
    stock's opening balances in the ledger."""
    from kit.stock.ledger import record_opening_balances

    order_frame, line_frame = orders(n)
    with Store.open(url) as store, store.write() as conn:
        write_basics(conn)
        insert_frame(conn, schema.stock_levels, stock(line_frame))
        write_orders(conn, order_frame, line_frame)
        record_opening_balances(conn, ACTOR.name, START)
    analyze(url)

"""The demo shop's goods and what buyers put in their carts, its warehouses, stock and team,
and what buyers, staff and carriers write.

Read from kit/demo/data/catalog.toml and texts.toml; frames have the columns and dtypes
of the tables in kit.store.schema. Warehouse arrays follow the rows of warehouses().
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import product
from typing import Any

import numpy as np
import polars as pl

from kit.models import TrackingStatus

REQUIRED_CATEGORIES = ("fragile", "jewellery", "apparel", "bags", "shoes", "liquids", "virtual")
ORDER_CARRIERS = ("sf", "zto", "jd", "ems", "yunda")  # a buyer may ask for these (S5)
_PLACEHOLDER = re.compile(r"\{(carrier|origin|dest)\}")


@cache
def data(name: str) -> dict[str, Any]:
    """One data file of kit/demo/data, parsed (``catalog``, ``geography`` or ``texts``)."""
    text = resources.files("kit.demo").joinpath("data", f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class Catalog:
    """The SKUs as a `skus` table frame, with per-SKU arrays the generator draws from."""

    skus: pl.DataFrame
    category: np.ndarray  # index into `categories`
    categories: tuple[str, ...]
    packaging_g: np.ndarray
    share: np.ndarray  # the SKU's category share of order lines (0: never sold on its own)
    gift: np.ndarray  # free items attached to orders (S5)

    @property
    def weight_g(self) -> np.ndarray:
        """Weight of one unit, in grams."""
        return self.skus["weight_g"].to_numpy()

    @property
    def price_fen(self) -> np.ndarray:
        """Price of one unit, in fen."""
        return self.skus["price_fen"].to_numpy()

    @property
    def virtual(self) -> np.ndarray:
        """True for virtual goods (no logistics)."""
        return self.skus["is_virtual"].to_numpy()

    def of(self, *names: str) -> np.ndarray:
        """True for the SKUs in any of the named categories."""
        return np.isin(self.category, [self.categories.index(n) for n in names])


LOW_STOCK_THRESHOLD = 10  # units available in own warehouses at which the demo replenishes


def _aligned(value: int | list[int], index: int) -> int:
    """The value, or the one for the option at `index` when there is one per option."""
    return value[index] if isinstance(value, list) else value


@cache
def catalog() -> Catalog:
    """Every SKU of the demo shop: one per product and combination of its spec options."""
    spec = data("catalog")
    categories = tuple(spec["categories"])
    rows: list[dict[str, Any]] = []
    numbers = dict.fromkeys(categories, 0)
    for item in spec["products"]:
        cat = item["category"]
        names = list(item["specs"])
        for combo in product(*(enumerate(item["specs"][n]) for n in names)):
            numbers[cat] += 1
            first = combo[0][0]
            rows.append({
                "sku": f"SKU-{spec['categories'][cat]['code']}-{numbers[cat]:03d}",
                "title": item["title"],
                "category": cat,
                "spec": ";".join(f"{n}：{v}" for n, (_, v) in zip(names, combo, strict=True)),
                "weight_g": _aligned(item["weight_g"], first),
                "price_fen": _aligned(item["price_fen"], first),
                "is_virtual": cat == "virtual",
                "gift": bool(item.get("gift", False)),
            })
    frame = pl.DataFrame(rows, schema={
        "sku": pl.String, "title": pl.String, "category": pl.String, "spec": pl.String,
        "weight_g": pl.Int64, "price_fen": pl.Int64, "is_virtual": pl.Boolean, "gift": pl.Boolean,
    })
    category = np.array([categories.index(c) for c in frame["category"]])
    cats = spec["categories"]
    gift = frame["gift"].to_numpy()
    return Catalog(
        # a low-stock threshold (S12) on every physical SKU, so `kit stock --low` has work
        skus=frame.drop("gift").with_columns(
            pl.when(pl.col("is_virtual")).then(None).otherwise(pl.lit(LOW_STOCK_THRESHOLD))
            .cast(pl.Int64).alias("low_stock_threshold")),
        category=category,
        categories=categories,
        packaging_g=np.array([cats[c]["packaging_g"] for c in frame["category"]]),
        share=np.where(gift, 0.0, np.array([cats[c]["share"] for c in frame["category"]])),
        gift=gift,
    )


def carts(rng: np.random.Generator, cat: Catalog, virtual: np.ndarray,
          backordered: np.ndarray) -> dict[str, np.ndarray]:
    """What each order holds: 1–4 lines of distinct SKUs, sometimes a free gift item (S5).

    Most orders have one line; virtual orders one virtual SKU; backordered orders start
    with a SKU out of stock. Returns line arrays (order, line_no, sku, qty, price,
    discount, amount, is_gift), per order `count` (lines) and `gift_item`, and `short`
    (the SKUs out of stock).
    """
    n, n_sku = virtual.size, cat.category.size
    count = np.where(virtual, 1, rng.choice([1, 2, 3, 4], n, p=[0.74, 0.18, 0.06, 0.02]))
    order = np.repeat(np.arange(n), count)
    line_no = np.arange(order.size) - np.repeat(np.cumsum(count) - count, count) + 1
    popularity = rng.lognormal(0.0, 0.8, n_sku)
    p_sell = cat.share * popularity / np.bincount(cat.category, weights=popularity)[cat.category]
    p_sell /= p_sell.sum()
    p_virtual = np.where(cat.virtual, popularity, 0.0)
    sku = rng.choice(n_sku, order.size, p=p_sell)
    on_virtual = virtual[order]
    sku[on_virtual] = rng.choice(n_sku, int(on_virtual.sum()), p=p_virtual / p_virtual.sum())
    short = rng.choice(np.flatnonzero(~cat.virtual & ~cat.gift & ~cat.of("shoes")), 6, replace=False)
    waits = backordered[order] & (line_no == 1)
    sku[waits] = rng.choice(short, int(waits.sum()))
    while True:  # a cart holds each SKU once: redraw the repeats
        repeat = np.ones(order.size, bool)
        repeat[np.unique(order * n_sku + sku, return_index=True)[1]] = False
        if not repeat.any():
            break
        sku[repeat] = rng.choice(n_sku, int(repeat.sum()), p=p_sell)
    gift = ~virtual & (count < 4) & ~cat.of("shoes")[sku[line_no == 1]] & (rng.random(n) < 0.05)
    gifts = np.flatnonzero(gift)
    order = np.concatenate([order, gifts])
    line_no = np.concatenate([line_no, count[gifts] + 1])
    sku = np.concatenate([sku, rng.choice(np.flatnonzero(cat.gift), gifts.size)])
    is_gift = np.arange(order.size) >= order.size - gifts.size
    ranked = np.lexsort((line_no, order))
    order, line_no, sku, is_gift = order[ranked], line_no[ranked], sku[ranked], is_gift[ranked]
    qty = np.where(cat.virtual[sku] | is_gift, 1, rng.choice([1, 2, 3], order.size, p=[0.8, 0.15, 0.05]))
    price = np.where(is_gift, 0, cat.price_fen[sku])
    discount = np.where(rng.random(order.size) < 0.3,
                        (price * qty * rng.uniform(0.05, 0.2, order.size) / 100).astype(np.int64) * 100, 0)
    return {"order": order, "line_no": line_no, "sku": sku, "qty": qty, "price": price,
            "discount": discount, "amount": price * qty - discount, "is_gift": is_gift,
            "count": count + gift, "gift_item": gift, "short": short}


@cache
def warehouses() -> pl.DataFrame:
    """Headquarters, two stores and the drop-ship supplier, as a `warehouses` frame (S17)."""
    rows = data("catalog")["warehouses"]
    return pl.DataFrame(
        [{"code": w["code"], "name": w["name"], "kind": w["kind"], "province": w["province"],
          "city": w["city"], "serves": "\n".join(w["serves"])} for w in rows],
        schema={c: pl.String for c in ("code", "name", "kind", "province", "city", "serves")},
    )


def supplied_categories() -> dict[str, list[str]]:
    """The categories each drop-ship supplier ships, by warehouse code."""
    return {w["code"]: w["supplies"] for w in data("catalog")["warehouses"] if "supplies" in w}


def assortment(rng: np.random.Generator, cat: Catalog) -> np.ndarray:
    """Which SKUs each warehouse holds, as a (warehouses × SKUs) boolean array.

    Headquarters holds everything but the suppliers' categories, the stores most physical
    goods, a supplier its own categories.
    """
    codes, kinds = warehouses()["code"].to_list(), warehouses()["kind"].to_list()
    supplied = supplied_categories()
    dropship = cat.of(*(c for cats in supplied.values() for c in cats))
    held = np.zeros((len(codes), cat.category.size), bool)
    for i, code in enumerate(codes):  # a handful of warehouses
        if kinds[i] == "supplier":
            held[i] = cat.of(*supplied[code])
        elif kinds[i] == "hq":
            held[i] = ~dropship
        else:
            held[i] = ~dropship & ~cat.virtual & ((rng.random(cat.category.size) < 0.6) | cat.gift)
    return held


def stock_levels(rng: np.random.Generator, cat: Catalog, held: np.ndarray, reserved: np.ndarray,
                 sold: np.ndarray, short: np.ndarray) -> pl.DataFrame:
    """Stock on hand and reserved per warehouse and SKU, with shortages (S7, S12, S20).

    `reserved` (warehouses × SKUs) is what allocated shipments hold; `sold` the units sold
    per SKU over the 14 days. The `short` SKUs have nothing available anywhere; a few
    others have less than a day's sales; some store shelves are empty.
    """
    w, k = held.shape
    per_day = sold / 14.0
    codes, kinds = warehouses()["code"].to_list(), warehouses()["kind"].to_list()
    stores = np.array([kind == "store" for kind in kinds])[:, None]
    share = np.where(stores, 0.35, 1.0)
    free = np.rint(per_day * share * rng.uniform(2, 25, (w, k))).astype(np.int64) + rng.integers(0, 4, (w, k))
    low = rng.choice(np.setdiff1d(np.flatnonzero(~cat.virtual & ~cat.gift), short), 8, replace=False)
    free[:, low] = np.rint(per_day[low] * rng.uniform(0, 0.5, (w, low.size))).astype(np.int64)
    free[:, short] = 0
    free[stores & (rng.random((w, k)) < 0.05)] = 0  # empty shelves in the stores
    free[:, cat.virtual] = rng.integers(200, 2000, (w, int(cat.virtual.sum())))
    wi, si = np.nonzero(held | (reserved > 0))
    return pl.DataFrame({
        "warehouse_code": pl.Series(codes, dtype=pl.String).gather(wi),
        "sku": cat.skus["sku"].gather(si),
        "on_hand": reserved[wi, si] + free[wi, si],
        "reserved": reserved[wi, si],
        "location": _locations(cat, si),
    }, schema={"warehouse_code": pl.String, "sku": pl.String, "on_hand": pl.Int64, "reserved": pl.Int64,
               "location": pl.String})


def _locations(cat: Catalog, si: np.ndarray) -> pl.Series:
    """Shelf codes (货位) zone-aisle-level: a zone per category, a category's SKUs side by side."""
    zones = cat.skus["category"].gather(si).rank("dense").cast(pl.Int64).to_numpy() - 1
    return pl.Series([f"{'ABCDEFGHJKLMNPQR'[z % 16]}-{i % 30 + 1:02d}-{i % 4 + 1}"
                      for z, i in zip(zones, si, strict=True)], dtype=pl.String)


@cache
def staff() -> pl.DataFrame:
    """The demo team (nicknames, not real names): name, role, display_name."""
    rows = data("catalog")["staff"]
    return pl.DataFrame(
        [{"name": name, "role": p["role"], "display_name": p["display_name"]} for name, p in rows.items()],
        schema={"name": pl.String, "role": pl.String, "display_name": pl.String},
    )


def texts() -> dict[str, Any]:
    """Buyer messages, seller memos, hold and after-sale reasons, carriers, tracking texts."""
    return data("texts")


def order_texts(rng: np.random.Generator, carrier: np.ndarray, held: np.ndarray, cod: np.ndarray,
                gift_item: np.ndarray) -> dict[str, pl.Series]:
    """What buyers and staff write on orders: messages, seller memos, hold reasons.

    A present note marks the order no_price_slip (S26); a carrier other than the default
    is noted in the memo (S5); held orders say why (S11). `carrier` indexes
    ORDER_CARRIERS, then "none" (virtual goods), then the default carrier.
    """
    n, say = carrier.size, texts()
    msg, memos, hold = say["messages"], say["memos"], say["hold"]["reasons"]
    pool = [*msg["gift"], *msg["ordinary"], *msg["ask_sf"], None]
    g, k = len(msg["gift"]), len(msg["ordinary"])
    m = rng.random(n)
    idx = np.select([m < 0.03, m < 0.15], [rng.integers(0, g, n), g + rng.integers(0, k, n)], len(pool) - 1)
    ask = (carrier == ORDER_CARRIERS.index("sf")) & (m >= 0.03) & (rng.random(n) < 0.6)
    idx = np.where(ask, g + k + rng.integers(0, len(msg["ask_sf"]), n), idx)
    memo_pool = [*memos["ordinary"], memos["gift_item"], *(memos["carrier"][c] for c in ORDER_CARRIERS), None]
    j = len(memos["ordinary"])
    memo = np.where(rng.random(n) < 0.05, rng.integers(0, j, n), len(memo_pool) - 1)
    memo = np.where(gift_item, j, memo)
    noted = (carrier < len(ORDER_CARRIERS)) & (rng.random(n) < 0.7)
    memo = np.where(noted, j + 1 + carrier, memo)
    first = rng.integers(0, len(hold), n)
    frame = pl.DataFrame({
        "a": pl.Series(hold).gather(first),
        "b": pl.Series(hold).gather((first + rng.integers(1, len(hold), n)) % len(hold)),
        "two": rng.random(n) < 0.2, "held": held, "cod": cod,
    })
    c = pl.col
    reasons = frame.select(
        pl.when(c("held") & c("cod")).then(pl.lit(say["hold"]["cod"]))
        .when(c("held") & c("two")).then(pl.concat_str("a", pl.lit("\n"), "b"))
        .when(c("held")).then("a")).to_series()
    return {"buyer_message": pl.Series(pool, dtype=pl.String).gather(idx),
            "seller_memo": pl.Series(memo_pool, dtype=pl.String).gather(memo),
            "hold_reasons": reasons,
            "no_price_slip": pl.Series(idx < g),
            "carrier_code": pl.Series([*ORDER_CARRIERS, "none", None], dtype=pl.String).gather(carrier)}


AFTER_SALE_POOLS = ("before_shipping", "refund", "return", "exchange", "repair", "refused", "lost",
                    "damaged")


def after_sale_reasons(rng: np.random.Generator, pool: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """A reason code (kit.models.AfterSaleReason) and the buyer's words for each after-sale case,
    drawn from its pool (an index into AFTER_SALE_POOLS)."""
    lists = [texts()["after_sales"][p] for p in AFTER_SALE_POOLS]
    lists = [x if isinstance(x, list) else [x] for x in lists]
    sizes = np.array([len(x) for x in lists])
    first = np.cumsum(sizes) - sizes
    chosen = first[pool] + rng.integers(0, 1 << 30, pool.size) % sizes[pool]
    pairs = [r.split(":", 1) for x in lists for r in x]
    codes = pl.Series([c for c, _ in pairs], dtype=pl.String).gather(chosen)
    return codes, pl.Series([w for _, w in pairs], dtype=pl.String).gather(chosen)


def carrier_codes() -> list[str]:
    """The carriers of texts.toml, then "none" (no logistics, for virtual goods)."""
    return [*texts()["carriers"], "none"]


def tracking_numbers(carrier: np.ndarray, core: np.ndarray, lead: np.ndarray,
                     numbered: np.ndarray) -> pl.Series:
    """Tracking numbers in each carrier's form, e.g. YT + 13 digits; null where not `numbered`.

    `carrier` indexes carrier_codes(); the last 11 digits are `core` (distinct numbers, so
    tracking numbers are unique), the digits before them come from `lead`.
    """
    spec = texts()["carriers"]
    codes = carrier_codes()
    digits = np.array([spec[c]["digits"] if c in spec else 11 for c in codes])[carrier]
    return pl.DataFrame({
        "prefix": pl.Series([spec[c]["prefix"] if c in spec else "" for c in codes]).gather(carrier),
        "number": lead % 10 ** (digits - 11) * 10**11 + core, "digits": digits, "numbered": numbered,
    }).select(pl.when("numbered").then(pl.concat_str(
        "prefix", pl.col("number").cast(pl.String).str.zfill(pl.col("digits"))))).to_series()


@dataclass(frozen=True)
class EventText:
    """A tracking event's status, where it is reported, and its text around one placeholder."""

    code: str
    status: str
    at: str  # origin or dest
    before: str
    fill: str  # carrier, origin, dest, or "" for none
    after: str


@cache
def event_texts() -> tuple[EventText, ...]:
    """The tracking events a demo parcel may go through, each text split at its placeholder."""
    out = []
    for code, e in data("texts")["events"].items():
        TrackingStatus(e["status"])  # a typo in the data file fails here, not in a dashboard
        parts = _PLACEHOLDER.split(e["text"])
        before, fill, after = [*parts, "", ""][:3] if len(parts) > 1 else (parts[0], "", "")
        out.append(EventText(code, e["status"], e["at"], before, fill, after))
    return tuple(out)

"""Where the demo shop's buyers live, which warehouse ships to them, and how parcels travel.

The places are real (kit/demo/data/geography.toml: all 31 mainland provinces, real cities
and districts); the people are not: names are drawn character by character, mobiles are
random numbers behind real operator prefixes, street numbers and flats are invented.
Warehouse arrays follow the rows of catalog.warehouses().
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from kit.demo.catalog import carrier_codes, data, event_texts, texts, warehouses


@cache
def places() -> pl.DataFrame:
    """One row per district: province, city, district, postcode, remote, weight (sums to 1)."""
    rows = []
    for province, p in data("geography")["provinces"].items():
        for city in p["cities"]:
            for district in city["districts"]:
                share = p["weight"] / len(p["cities"]) / len(city["districts"])
                rows.append((province, city["name"], district, city["postcode"],
                             bool(p.get("remote", False)), share))
    frame = pl.DataFrame(rows, orient="row", schema={
        "province": pl.String, "city": pl.String, "district": pl.String, "postcode": pl.String,
        "remote": pl.Boolean, "weight": pl.Float64,
    })
    return frame.with_columns(pl.col("weight") / pl.col("weight").sum())


def _pick(rng: np.random.Generator, pool: list[str], n: int) -> pl.Series:
    """n random texts from the pool."""
    return pl.Series(pool, dtype=pl.String).gather(rng.integers(0, len(pool), n))


def _digits(rng: np.random.Generator, width: int, n: int) -> pl.Series:
    """n random digit strings of the given width."""
    return pl.Series(rng.integers(0, 10**width, n)).cast(pl.String).str.zfill(width)


def receivers(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """n buyers with their receivers: nick, name, mobile, address, postcode, remote, place.

    `place` is the row of places() the receiver lives in.
    """
    people, addr = data("geography")["people"], data("geography")["addresses"]
    where = places()
    at = rng.choice(where.height, n, p=where["weight"].to_numpy())
    given = people["given"]
    second = pl.Series([*given, ""], dtype=pl.String).gather(
        np.where(rng.random(n) < 0.7, rng.integers(0, len(given), n), len(given)))
    syllables = people["nick_syllables"]
    style = rng.random(n)
    flat = rng.random(n) < 0.8
    frame = pl.DataFrame({
        "surname": _pick(rng, people["surnames"], n),
        "given1": _pick(rng, given, n),
        "given2": second,
        "nick_a": _pick(rng, syllables, n),
        "nick_b": _pick(rng, syllables, n),
        "nick_tb": _digits(rng, 10, n),
        "nick_short": _digits(rng, 4, n),
        "mobile_prefix": _pick(rng, people["mobile_prefixes"], n),
        "mobile_rest": _digits(rng, 8, n),
        "road": _pick(rng, addr["roads"], n),
        "number": pl.Series(rng.integers(1, 999, n)).cast(pl.String),
        "estate": _pick(rng, addr["estates"], n),
        "tower": _pick(rng, addr["towers"], n),
        "building": pl.Series(rng.integers(1, 30, n)).cast(pl.String),
        "unit": pl.Series(rng.integers(1, 6, n)).cast(pl.String),
        "room": pl.Series(rng.integers(1, 33, n) * 100 + rng.integers(1, 9, n)).cast(pl.String),
        "postal_tail": _digits(rng, 2, n),
        "style": style,
        "flat": flat,
    }).with_columns(where.select(pl.all().gather(at)))
    c = pl.col
    return frame.select(
        pl.when(c("style") < 0.35).then(pl.concat_str(pl.lit("tb"), c("nick_tb")))
        .when(c("style") < 0.55)
        .then(pl.concat_str(pl.lit("t_15"), c("nick_tb"), c("nick_short").str.head(1)))
        .otherwise(pl.concat_str(c("nick_a"), c("nick_b"), pl.lit("_"), c("nick_short")))
        .alias("buyer_nick"),
        pl.concat_str(c("surname"), c("given1"), c("given2")).alias("receiver_name"),
        pl.concat_str(c("mobile_prefix"), c("mobile_rest")).alias("receiver_mobile"),
        "province", "city", "district",
        pl.when(c("flat"))
        .then(pl.concat_str(c("road"), c("number"), pl.lit("号"), c("estate"), c("building"),
                            pl.lit("栋"), c("unit"), pl.lit("单元"), c("room"), pl.lit("室")))
        .otherwise(pl.concat_str(c("road"), c("number"), pl.lit("号"), c("tower"), c("room"),
                                 pl.lit("室")))
        .alias("address_detail"),
        pl.concat_str(c("postcode").str.head(4), c("postal_tail")).alias("postcode"),
        "remote", pl.Series("place", at),
    )


def nearest_warehouse(province: pl.Series) -> np.ndarray:
    """For each receiver's province, the row in warehouses() of the nearest warehouse (S17).

    The nearest is the first, suppliers aside, whose `serves` lists the province; else
    headquarters.
    """
    best: dict[str, int] = {}
    home = 0
    for i, w in enumerate(warehouses().iter_rows(named=True)):  # a handful of warehouses
        if w["kind"] == "hq":
            home = i
        if w["kind"] != "supplier":
            for name in w["serves"].split("\n"):
                best.setdefault(name, i)
    return province.replace_strict(best, default=home, return_dtype=pl.Int64).to_numpy()


def route_events(when: np.ndarray, what: np.ndarray, now: int, origin: np.ndarray, place: np.ndarray,
                 carrier: np.ndarray) -> pl.DataFrame:
    """The tracking events that have happened by `now`, along each parcel's route (S21).

    `when` and `what` (parcels × 5) hold each parcel's event times and codes (indexes into
    event_texts()); per parcel, `origin` is its warehouse (a row of warehouses()), `place`
    its destination (a row of places()) and `carrier` an index into carrier_codes().
    Returns parcel (row index), at (seconds), status, description and location, in time
    order per parcel.
    """
    ev, where, spec = event_texts(), places(), texts()["carriers"]
    origin_cities = warehouses()["city"].to_list()
    carrier_names = [spec[c]["name"] if c in spec else "" for c in carrier_codes()]
    sizes = (len(ev), len(origin_cities), where.height, len(carrier_names))
    # Every text a parcel can show is one of a few ten thousand: write each once, then look up.
    grid = np.stack(np.unravel_index(np.arange(np.prod(sizes)), sizes))
    c = pl.col
    texts_ = pl.DataFrame({
        "at_dest": np.array([e.at == "dest" for e in ev])[grid[0]],
        "fill": pl.Series([e.fill for e in ev]).gather(grid[0]),
        "before": pl.Series([e.before for e in ev]).gather(grid[0]),
        "after": pl.Series([e.after for e in ev]).gather(grid[0]),
        "origin": pl.Series(origin_cities).gather(grid[1]),
        "city": where["city"].gather(grid[2]), "district": where["district"].gather(grid[2]),
        "carrier": pl.Series(carrier_names).gather(grid[3]),
    }).select(
        (pl.when(c("at_dest")).then(pl.concat_str("city", "district")).otherwise(c("origin"))
         .alias("location")),
        pl.when(c("fill") == "carrier").then(c("carrier")).when(c("fill") == "origin").then(c("origin"))
        .when(c("fill") == "dest").then(c("city")).otherwise(pl.lit("")).alias("fill"), "before", "after",
    ).select(pl.concat_str(pl.lit("【"), "location", pl.lit("】"), "before", "fill", "after")
             .alias("description"), "location")
    parcel, slot = np.nonzero(when <= now)
    code = what[parcel, slot]
    key = np.ravel_multi_index((code, origin[parcel], place[parcel], carrier[parcel]), sizes)
    return pl.DataFrame({
        "parcel": parcel, "at": when[parcel, slot],
        "status": pl.Series([e.status for e in ev]).gather(code),
        "description": texts_["description"].gather(key), "location": texts_["location"].gather(key),
    })


def line_warehouses(order: np.ndarray, sku: np.ndarray, held: np.ndarray,
                    nearest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which warehouse ships each order line (S17), and each order's own warehouse.

    A supplier ships the goods it supplies (drop-ship); the other lines go from the
    nearest warehouse when it holds all of them, else from headquarters. `held`
    (warehouses × SKUs, rows as in warehouses()) says who holds what.
    """
    kinds = warehouses()["kind"].to_list()
    hq = kinds.index("hq")
    suppliers = [i for i, k in enumerate(kinds) if k == "supplier"]
    by_supplier = np.full(sku.size, -1)
    for i in suppliers:  # a supplier ships the categories it supplies (drop-ship)
        by_supplier = np.where((by_supplier < 0) & held[i, sku], i, by_supplier)
    missing = (by_supplier < 0) & ~held[nearest[order], sku]
    own = np.where(np.bincount(order, weights=missing, minlength=nearest.size) > 0, hq, nearest)
    return np.where(by_supplier >= 0, by_supplier, own[order]), own

"""Quoting and choosing carriers (S15): a parcel's price from an adapter or a rate table, the
shop's own delivery record per carrier, and a ranking by cost, speed and reliability in which
the default carrier wins ties (S5)."""

from __future__ import annotations

import logging
import string
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.carriers.manager import CarrierRegistry, CarrierUnavailable
from kit.carriers.rate_files import load_folder
from kit.carriers.rates import RateTable, check_request, province_of, quote_from_table
from kit.carriers.types import Quote, QuoteRequest
from kit.config import Config
from kit.errors import BadInput, NotFound
from kit.i18n import catalogue, current_lang, t
from kit.regions import full_province
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

log = logging.getLogger(__name__)

PACKAGING_G = 100  # packing material added to the goods' weight of an order
DEFAULT_PARCEL_G = 1000  # an order whose SKUs' weights are not all known is quoted at this
HISTORY_DAYS = 180  # choose_for_order weighs the shop's record of this many recent days
PRIOR_SHIPMENTS = 20  # a carrier's record counts as if this many average shipments came first
STATS_SCHEMA = {"carrier_code": pl.String, "shipments": pl.Int64, "delivered": pl.Int64,
                "damaged_lost": pl.Int64, "timed": pl.Int64, "on_time": pl.Int64,
                "damage_rate": pl.Float64, "on_time_rate": pl.Float64, "reliability": pl.Float64}


def tables_in_force(registry: CarrierRegistry, config: Config | None = None) -> list[RateTable]:
    """The plugins' rate tables; with `[carriers] rate_tables` set, that folder's tables (loaded
    and validated now) replace the kit's samples and any plugin table of the same key."""
    tables = [table for table in registry.rate_tables if isinstance(table, RateTable)]
    if config is None or not config.rate_tables:
        return tables
    folder = Path(config.rate_tables).expanduser()
    if not folder.is_absolute() and config.source:  # relative to kit.toml, not to where kit runs
        folder = Path(config.source).parent / folder
    own = load_folder(folder)
    keys = {table.key for table in own}
    return [table for table in tables if not table.sample and table.key not in keys] + own


def find_table(tables: list[RateTable], code: str, service: str, origin: str) -> RateTable:
    """The table of a carrier and service from an origin; CarrierUnavailable saying what is missing."""
    offered = [table for table in tables if table.carrier_code == code and table.service == service]
    if not offered:
        raise CarrierUnavailable("rates.no_table", code=code, service=service)
    found = next((table for table in offered if table.origin_province == province_of(origin)), None)
    if found is None:
        raise CarrierUnavailable("rates.no_table_from", code=code, service=service, origin=origin,
                                 origins="、".join(table.origin_province for table in offered))
    return found


def _quote(registry: CarrierRegistry, code: str, request: QuoteRequest, tables: list[RateTable]) -> Quote:
    code = code.strip().lower()
    adapter = registry.adapters.get(code)
    if adapter is not None and "quote" in adapter.capabilities:
        result = registry.call(code, "quote", request)
    else:
        if adapter is None and all(table.carrier_code != code for table in tables):
            registry.get(code)  # BadInput naming the known carriers
        result = quote_from_table(find_table(tables, code, request.service, request.origin_province), request)
    return registry.adjust(result, request)


def quote(registry: CarrierRegistry, code: str, request: QuoteRequest, config: Config | None = None) -> Quote:
    """One carrier's quote: its adapter's own if it declares "quote", else its rate table; then
    every plugin's adjust_quote. CarrierUnavailable when neither can price the parcel."""
    return _quote(registry, code, request, tables_in_force(registry, config))


def quotes(registry: CarrierRegistry, request: QuoteRequest, config: Config | None = None, *,
           tables: list[RateTable] | None = None) -> list[Quote]:
    """A quote from every carrier that can price the parcel, cheapest first (others are left out);
    `tables` saves loading the tables in force again."""
    check_request(request)  # a bad weight or place is the request's fault, not the carriers'
    tables = tables if tables is not None else tables_in_force(registry, config)
    codes = {code for code, a in registry.adapters.items() if "quote" in a.capabilities}
    codes |= {table.carrier_code for table in tables if table.service == request.service}
    found = []
    for code in sorted(codes):
        try:
            found.append(_quote(registry, code, request, tables))
        except CarrierUnavailable:
            continue
        except Exception as exc:  # a third-party adapter that raises must not stop the others
            if code not in registry.adapters or "quote" not in registry.adapters[code].capabilities:
                raise
            log.warning("carrier %s could not quote: %s: %s", code, type(exc).__name__, exc)
    return sorted(found, key=lambda q: (q.price_fen, q.carrier_code))


def _promised_days(tables: list[RateTable]) -> pl.DataFrame:
    """Days in transit per carrier and province: the standard service's table first."""
    if not tables:
        return pl.DataFrame(schema={"carrier_code": pl.String, "province": pl.String, "days": pl.Int64})
    frame = pl.concat([table.to_frame() for table in tables], how="vertical_relaxed")
    return (frame.sort(pl.col("service") != "standard", "days")
            .group_by("carrier_code", "province", maintain_order=True).agg(pl.col("days").first()))


def _day_gap(conn: sa.Connection, later: Any, earlier: Any) -> Any:
    """Calendar days from one time's date to another's, in SQL (SQLite or PostgreSQL)."""
    if conn.dialect.name == "sqlite":
        gap = sa.func.julianday(sa.func.date(later)) - sa.func.julianday(sa.func.date(earlier))
        return sa.cast(gap, sa.Integer)
    return sa.type_coerce(sa.cast(later, sa.Date) - sa.cast(earlier, sa.Date), sa.Integer)


def carrier_stats(conn: sa.Connection, tables: list[RateTable] | None = None,
                  since: datetime | None = None) -> pl.DataFrame:
    """Per carrier, from the shop's own shipments handed over (since `since`): how many,
    delivered, damaged or lost, the damage rate, the on-time rate and reliability =
    on-time rate × (1 − damage rate).

    On time means delivered (first `delivered` tracking event) within the rate table's days
    of the hand-over day. Where no delivery time or no table days are known for a carrier,
    its on-time rate is the share of ended parcels (delivered, damaged or lost) delivered.
    The database counts per carrier, province, status and days taken; polars does the rest.
    An empty frame with these columns when the shop has no history.
    """
    s, o, e = schema.shipments, schema.orders, schema.tracking_events
    delivered_at = (sa.select(sa.func.min(e.c.at)).where(
        e.c.carrier_code == s.c.carrier_code, e.c.tracking_no == s.c.tracking_no, e.c.status == "delivered")
        .scalar_subquery())
    gap = sa.case((s.c.tracking_status == "delivered", _day_gap(conn, delivered_at, s.c.handed_over_at)))
    gap = sa.type_coerce(gap, sa.Integer).label("gap")
    per = (sa.select(s.c.carrier_code, o.c.province, s.c.tracking_status, gap)
           .join(o, o.c.order_no == s.c.order_no).where(s.c.handed_over_at.is_not(None)))
    if since is not None:
        per = per.where(s.c.handed_over_at >= since)
    per = per.subquery()
    keys = (per.c.carrier_code, per.c.province, per.c.tracking_status, per.c.gap)
    rows = read_frame(conn, sa.select(*keys, sa.func.count().label("n")).group_by(*keys))
    if rows.height == 0:
        return pl.DataFrame(schema=STATS_SCHEMA)
    days = _promised_days(tables or [])
    rows = rows.with_columns(full_province()).join(days, on=["carrier_code", "province"], how="left")
    c = pl.col
    delivered = c("tracking_status") == "delivered"
    timed = delivered & c("gap").is_not_null() & c("days").is_not_null()
    stats = rows.group_by("carrier_code").agg(
        shipments=c("n").sum(), delivered=c("n").filter(delivered).sum(),
        damaged_lost=c("n").filter(c("tracking_status").is_in(["damaged", "lost"])).sum(),
        timed=c("n").filter(timed).sum(), on_time=c("n").filter(timed & (c("gap") <= c("days"))).sum(),
    ).with_columns(pl.exclude("carrier_code").cast(pl.Int64))
    ended = c("delivered") + c("damaged_lost")
    return stats.with_columns(
        damage_rate=c("damaged_lost") / c("shipments"),
        on_time_rate=pl.when(c("timed") > 0).then(c("on_time") / c("timed"))
        .when(ended > 0).then(c("delivered") / ended).otherwise(None),
    ).with_columns(reliability=c("on_time_rate") * (1 - c("damage_rate"))).select(
        list(STATS_SCHEMA)).sort("carrier_code")


def _text(key: str, **columns: pl.Expr) -> pl.Expr:
    """A catalogue message filled from columns, whole-column, in the current language."""
    parts: list[pl.Expr] = []
    for literal, name, _, _ in string.Formatter().parse(catalogue(current_lang())[key]):
        if literal:
            parts.append(pl.lit(literal))
        if name:
            parts.append(columns[name].cast(pl.String))
    return pl.concat_str(parts) if parts else pl.lit("")


def _scaled(column: str, low_is_best: bool = True) -> pl.Expr:
    """0..1 across the candidates: 1 for the best value, 0 for the worst (all 1 when equal)."""
    c, low, high = pl.col(column), pl.col(column).min(), pl.col(column).max()
    share = (high - c) / (high - low) if low_is_best else (c - low) / (high - low)
    return pl.when(high > low).then(share).otherwise(pl.lit(1.0))


def _weights(config: Config) -> dict[str, float]:
    """The cost, speed and reliability weights, summing to 1; BadInput when they cannot."""
    weights = {k: float(config.choice_weights.get(k, 0.0)) for k in ("cost", "speed", "reliability")}
    total = sum(weights.values())
    if any(w < 0 for w in weights.values()) or total <= 0:
        raise BadInput("rates.bad_weights", weights=", ".join(f"{k} = {v}" for k, v in weights.items()))
    return {k: w / total for k, w in weights.items()}


def choose(registry: CarrierRegistry, request: QuoteRequest, config: Config | None = None,
           stats: pl.DataFrame | None = None, *, tables: list[RateTable] | None = None) -> pl.DataFrame:
    """Rank the carriers that can quote by cost, speed and reliability (S15), weighted by
    kit.toml's [carriers.weights]; equal scores put the default carrier first (S5).

    Each dimension is scored 0..1 across the candidates (1 = best of them). Reliability comes
    from `stats` (carrier_stats), pulled towards the candidates' average record by
    PRIOR_SHIPMENTS; a carrier without history counts as that average. Columns:
    carrier_code, name, price_fen, days, reliability, score, rank, reason (a sentence for
    staff), then price_yuan, zone, chargeable_weight_g, notes (the quote's, e.g. sample
    prices), shipments, record (the raw reliability) and the three dimension scores.
    """
    config = config or Config()
    weights = _weights(config)
    found = quotes(registry, request, config, tables=tables)
    if not found:
        raise CarrierUnavailable("rates.none_can_quote", weight=request.weight_g,
                                 province=request.destination_province, service=request.service)
    lang = current_lang()
    names = {code: getattr(a.name, lang, code) for code, a in registry.adapters.items()}
    frame = pl.DataFrame({
        "carrier_code": [q.carrier_code for q in found], "name": [names.get(q.carrier_code, q.carrier_code)
                                                                  for q in found],
        "price_fen": [q.price_fen for q in found], "days": [q.days for q in found],
        "zone": [q.zone for q in found], "chargeable_weight_g": [q.chargeable_weight_g for q in found],
        "notes": [t("rates.tag_separator").join(q.notes) for q in found],
    }, schema_overrides={"price_fen": pl.Int64, "days": pl.Int64, "chargeable_weight_g": pl.Int64})
    c = pl.col
    history = (stats if stats is not None else pl.DataFrame(schema=STATS_SCHEMA)).filter(
        c("reliability").is_not_null() & (c("shipments") > 0)
    ).select("carrier_code", "shipments", record="reliability")
    frame = frame.join(history, on="carrier_code", how="left").with_columns(c("shipments").fill_null(0))
    total = frame["shipments"].sum()  # the candidates' average record: what "no history" counts as
    pooled = (frame["record"] * frame["shipments"]).sum() / total if total else None
    frame = frame.with_columns(reliability=(
        (c("record") * c("shipments") + pl.lit(pooled) * PRIOR_SHIPMENTS) / (c("shipments") + PRIOR_SHIPMENTS)
    ).fill_null(pl.lit(pooled, dtype=pl.Float64)).round(4))
    frame = frame.with_columns(cost_score=_scaled("price_fen"), speed_score=_scaled("days").fill_null(0.5),
                               reliability_score=_scaled("reliability", low_is_best=False).fill_null(1.0))
    frame = frame.with_columns(score=(weights["cost"] * c("cost_score") + weights["speed"] * c("speed_score")
                                      + weights["reliability"] * c("reliability_score")).round(4),
                               is_default=c("carrier_code") == config.default_carrier)
    frame = frame.sort(["score", "is_default", "price_fen", "carrier_code"],
                       descending=[True, True, False, False]).with_row_index("rank", offset=1)
    frame = frame.with_columns(rank=c("rank").cast(pl.Int64), reason=_reasons(),
                               price_yuan=_yuan("price_fen"))
    return frame.select("carrier_code", "name", "price_fen", "days", "reliability", "score", "rank", "reason",
                        "price_yuan", "zone", "chargeable_weight_g", "notes", "shipments", "record",
                        "cost_score", "speed_score", "reliability_score")


def _yuan(column: str) -> pl.Expr:
    """Fen as CNY text with two decimals, e.g. 1250 -> '12.50'."""
    fen = pl.col(column)
    return pl.concat_str([(fen // 100).cast(pl.String), pl.lit("."),
                          (fen % 100).cast(pl.String).str.zfill(2)])


def _reasons() -> pl.Expr:
    """The sentence for staff: price, days, zone, the shop's record, and what stands out."""
    c = pl.col
    days = (pl.when(c("days").is_null()).then(pl.lit(t("rates.days_unknown")))
            .otherwise(_text("rates.days", days=c("days"))))
    history = pl.when(c("shipments") > 0).then(_text(
        "rates.history", shipments=c("shipments"), percent=(c("record") * 100).round(1)
    )).otherwise(pl.lit(t("rates.no_history")))
    tags = pl.concat_list([
        pl.when(c("price_fen") == c("price_fen").min()).then(pl.lit(t("rates.tag_cheapest"))),
        pl.when(c("days") == c("days").min()).then(pl.lit(t("rates.tag_fastest"))),
        pl.when(c("shipments") > 0).then(
            pl.when(c("reliability") == c("reliability").filter(c("shipments") > 0).max())
            .then(pl.lit(t("rates.tag_reliable")))),
        pl.when(c("is_default")).then(pl.lit(t("rates.tag_default"))),
        pl.when((c("rank") == 1) & ~c("is_default")).then(pl.lit(t("rates.tag_note_needed"))),
    ]).list.drop_nulls().list.join(t("rates.tag_separator"))
    tags = pl.when(tags != "").then(_text("rates.tags", tags=tags)).otherwise(pl.lit(""))
    return _text("rates.reason", price=_yuan("price_fen"), days=days, zone=c("zone"), history=history,
                 tags=tags)


def _order_weight(conn: sa.Connection, order_no: str) -> tuple[int, str]:
    """The parcel weight of an order and how it was found (a sentence for staff)."""
    lines = read_by_keys(conn, schema.order_lines, ["order_no", "sku", "quantity"], "order_no", [order_no])
    skus = read_by_keys(conn, schema.skus, ["sku", "weight_g"], "sku", lines["sku"].unique().to_list())
    goods = lines.join(skus, on="sku", how="left")
    if goods.height == 0 or goods["weight_g"].null_count():
        return DEFAULT_PARCEL_G, t("rates.weight_default", weight=DEFAULT_PARCEL_G)
    items = int((goods["quantity"] * goods["weight_g"]).sum())
    weight = items + PACKAGING_G
    return weight, t("rates.weight_from_skus", items=items, packaging=PACKAGING_G, weight=weight)


def choose_for_order(shop: Any, order_no: str, *, registry: CarrierRegistry | None = None,
                     service: str = "standard") -> pl.DataFrame:
    """Rank carriers for one order: to its province, from the shop's sender province, weighing
    its lines × SKU weights + PACKAGING_G (else DEFAULT_PARCEL_G), with the shop's record of
    the last HISTORY_DAYS days.

    Adds order_no, weight_g, weight_note (how the weight was found) and requested (the
    carrier the order already names, e.g. one the buyer asked for) to choose()'s columns.
    """
    from kit import carriers  # the loader imports the plugins, which import this package

    config: Config = shop.config
    registry = registry or carriers.load(config.carrier_settings, timeout=config.carrier_timeout)
    tables = tables_in_force(registry, config)  # the shop's folder is loaded and checked once
    orders = schema.orders
    with shop.store.read() as conn:
        row = conn.execute(sa.select(orders.c.province, orders.c.carrier_code)
                           .where(orders.c.order_no == order_no)).first()
        if row is None:
            raise NotFound("orders.not_found", order_no=order_no)
        weight, note = _order_weight(conn, order_no)
        stats = carrier_stats(conn, tables, since=clock.now() - timedelta(days=HISTORY_DAYS))
    request = QuoteRequest(weight, row.province, origin_province=config.sender.province, service=service)
    ranked = choose(registry, request, config, stats, tables=tables)
    return ranked.with_columns(order_no=pl.lit(order_no), weight_g=pl.lit(weight, dtype=pl.Int64),
                               weight_note=pl.lit(note),
                               requested=pl.col("carrier_code") == (row.carrier_code or ""))

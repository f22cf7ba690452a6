"""Pick waves by warehouse, carrier and ship-by day, and their pick lists by shelf location
(S12, S18, S23)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput, Refused
from kit.lifecycle import apply_many
from kit.models import ShipmentStage, Stage
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame, update_frame

__all__ = [
    "NO_LOCATION",
    "PLAN_COLUMNS",
    "PickList",
    "pick_list",
    "plan",
    "start_waves",
    "wave_shipments",
    "waves",
]

PLAN_COLUMNS = ["warehouse_code", "carrier_code", "due_day", "ship_by", "shipments", "orders", "units"]
_US = pl.Datetime("us")
NO_LOCATION = "~"  # sorts after every shelf code: items without a location come last


@dataclass(frozen=True)
class PickList:
    """What a picker takes for one wave: totals per item by location, and each order's lines."""

    wave: dict[str, Any]
    totals: pl.DataFrame  # location, sku, title, spec, quantity, orders
    per_order: pl.DataFrame  # order_no, shipment_id, location, sku, title, spec, quantity


def _allocated(
    conn: sa.Connection, warehouse: str | None, carrier: str | None, due_before: datetime | None
) -> pl.DataFrame:
    """Allocated shipments not in a wave, with their order's ship-by and units."""
    sh, o, sl = schema.shipments, schema.orders, schema.shipment_lines
    units = (
        sa.select(sl.c.shipment_id, sa.func.sum(sl.c.quantity).label("units"))
        .group_by(sl.c.shipment_id)
        .subquery()
    )
    stmt = (
        sa.select(
            sh.c.shipment_id,
            sh.c.order_no,
            sh.c.warehouse_code,
            sh.c.carrier_code,
            o.c.ship_by,
            sa.func.coalesce(units.c.units, 0).label("units"),
        )
        .join(o, o.c.order_no == sh.c.order_no)
        .outerjoin(units, units.c.shipment_id == sh.c.shipment_id)
        .where(
            sh.c.stage == str(ShipmentStage.ALLOCATED),
            sh.c.wave_id.is_(None),
            sa.or_(
                o.c.stage.in_([str(Stage.ALLOCATED), str(Stage.PICKING)]),
                # a parcel sent again (kit.shipping.linked) of an order already shipped
                sh.c.replaces_shipment_id.is_not(None),
                sh.c.after_sale_id.is_not(None),
            ),
        )
    )
    if warehouse:
        stmt = stmt.where(sh.c.warehouse_code == warehouse)
    if carrier:
        stmt = stmt.where(sh.c.carrier_code == carrier)
    if due_before is not None:
        stmt = stmt.where(o.c.ship_by < due_before)
    frame = read_frame(conn, stmt)
    return frame.with_columns(pl.col("ship_by").cast(_US).dt.date().alias("due_day"))


def _grouped(frame: pl.DataFrame, max_shipments: int) -> pl.DataFrame:
    """Each shipment's wave number: by warehouse, carrier and ship-by day, most urgent first,
    at most `max_shipments` per wave."""
    keys = ["warehouse_code", "carrier_code", "due_day"]
    ordered = frame.sort([*keys, "ship_by", "shipment_id"], nulls_last=True)
    ranked = ordered.with_columns((pl.int_range(pl.len()).over(keys) // max_shipments).alias("_chunk"))
    waves = (
        ranked.group_by([*keys, "_chunk"])
        .agg(pl.col("ship_by").min().alias("_first"))
        .sort(["due_day", "_first", *keys[:2], "_chunk"], nulls_last=True)
        .with_row_index("_wave", offset=1)
        .select(pl.col("_wave").cast(pl.Int64), *keys, "_chunk")
    )
    return ranked.join(waves, on=[*keys, "_chunk"], how="left", nulls_equal=True)


def plan(
    shop: Shop,
    *,
    warehouse: str | None = None,
    carrier: str | None = None,
    due_before: datetime | None = None,
) -> pl.DataFrame:
    """The waves allocated shipments would form, most urgent first (PLAN_COLUMNS); nothing is written."""
    require(shop.actor, "read")
    with shop.store.read() as conn:
        frame = _allocated(conn, warehouse, carrier, due_before)
    return (
        frame.group_by("warehouse_code", "carrier_code", "due_day")
        .agg(
            pl.col("ship_by").min(),
            pl.len().alias("shipments"),
            pl.col("order_no").n_unique().alias("orders"),
            pl.col("units").sum(),
        )
        .sort("due_day", "warehouse_code", "carrier_code", nulls_last=True)
        .select(PLAN_COLUMNS)
    )


def start_waves(
    shop: Shop,
    *,
    warehouse: str | None = None,
    carrier: str | None = None,
    due_before: datetime | None = None,
    max_shipments: int = 200,
    shipment_ids: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Form pick waves of the allocated shipments (or of `shipment_ids`) and move them and their
    orders to picking, in one transaction; the waves formed (wave_id, warehouse, carrier,
    ship_by, shipments, units). Shipments another person put in a wave meanwhile are left out."""
    actor = require(shop.actor, "plan_waves")
    if max_shipments < 1:
        raise BadInput("picking.bad_max", value=max_shipments)
    moment = clock.now()
    with shop.store.write() as conn:
        frame = _allocated(conn, warehouse, carrier, due_before)
        if shipment_ids is not None:
            wanted = [int(i) for i in shipment_ids]
            frame = frame.filter(pl.col("shipment_id").is_in(wanted))
            missing = sorted(set(wanted) - set(frame["shipment_id"].to_list()))
            if missing:
                raise Refused("picking.not_allocated", shipment_id=missing[0])
        if frame.height == 0:
            return []
        orders = frame["order_no"].unique().sort().to_list()
        stages = read_by_keys(conn, schema.orders, ["order_no", "stage"], "order_no", orders)
        to_pick = stages.filter(pl.col("stage") == str(Stage.ALLOCATED))["order_no"].to_list()
        refused_orders: set[str] = set()
        if to_pick:
            result = apply_many(conn, "order", to_pick, "start_picking", actor, now=moment)
            refused_orders = {key for key, _ in result.refused}
        frame = frame.filter(~pl.col("order_no").is_in(list(refused_orders)))
        moved = apply_many(
            conn, "shipment", frame["shipment_id"].sort().to_list(), "start_picking", actor, now=moment
        )
        accepted = [int(k) for k in moved.keys_applied]
        frame = _grouped(frame.filter(pl.col("shipment_id").is_in(accepted)), max_shipments)
        waves = (
            frame.group_by("_wave")
            .agg(
                pl.col("warehouse_code").first(),
                pl.col("carrier_code").first(),
                pl.col("ship_by").min(),
                pl.len().alias("shipments"),
                pl.col("units").sum(),
            )
            .sort("_wave")
        )
        ids = []
        for row in waves.iter_rows(named=True):
            ids.append(
                conn.execute(
                    schema.waves.insert()
                    .values(
                        warehouse_code=row["warehouse_code"],
                        carrier_code=row["carrier_code"],
                        ship_by=row["ship_by"],
                        shipments=row["shipments"],
                        units=row["units"],
                        created_at=moment,
                        created_by=actor.name,
                    )
                    .returning(schema.waves.c.wave_id)
                ).scalar_one()
            )
        waves = waves.with_columns(pl.Series("wave_id", ids, pl.Int64))
        update_frame(
            conn,
            schema.shipments,
            frame.join(waves.select("_wave", "wave_id"), on="_wave").select("shipment_id", "wave_id"),
            "shipment_id",
        )
    return waves.select(
        "wave_id", "warehouse_code", "carrier_code", "ship_by", "shipments", "units"
    ).to_dicts()


def waves(shop: Shop, *, open_only: bool = True) -> pl.DataFrame:
    """Pick waves, newest first, with how many of their shipments are still picking, packed, gone."""
    require(shop.actor, "read")
    w, sh = schema.waves, schema.shipments
    with shop.store.read() as conn:
        frame = read_frame(conn, sa.select(w).order_by(w.c.wave_id.desc()))
        stages = read_frame(
            conn,
            sa.select(sh.c.wave_id, sh.c.stage, sa.func.count().label("n"))
            .where(sh.c.wave_id.is_not(None))
            .group_by(sh.c.wave_id, sh.c.stage),
        )
    counts = {
        s: pl.col("n").filter(pl.col("stage") == s).sum().alias(s)
        for s in (str(ShipmentStage.PICKING), str(ShipmentStage.PACKED))
    }
    per_wave = stages.group_by("wave_id").agg(*counts.values())
    frame = frame.join(per_wave, on="wave_id", how="left").with_columns(
        pl.col(list(counts)).fill_null(0).cast(pl.Int64)
    )
    if open_only:
        frame = frame.filter((pl.col("picking") + pl.col("packed")) > 0)
    return frame


def wave_shipments(shop: Shop, wave_id: int) -> pl.DataFrame:
    """The shipments of one wave with their order, stage and tracking number, in pick order."""
    require(shop.actor, "read")
    sh, o = schema.shipments, schema.orders
    with shop.store.read() as conn:
        _wave_row(conn, wave_id)
        return read_frame(
            conn,
            sa.select(
                sh.c.shipment_id,
                sh.c.order_no,
                sh.c.stage,
                sh.c.carrier_code,
                sh.c.tracking_no,
                sh.c.expected_weight_g,
                sh.c.weight_g,
                o.c.receiver_name,
                o.c.ship_by,
                o.c.no_price_slip,
            )
            .join(o, o.c.order_no == sh.c.order_no)
            .where(sh.c.wave_id == int(wave_id))
            .order_by(o.c.ship_by, sh.c.shipment_id),
        )


def _wave_row(conn: sa.Connection, wave_id: int) -> dict[str, Any]:
    w, wh = schema.waves, schema.warehouses
    row = (
        conn.execute(
            sa.select(w, wh.c.name.label("warehouse_name"))
            .outerjoin(wh, wh.c.code == w.c.warehouse_code)
            .where(w.c.wave_id == int(wave_id))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise BadInput("picking.unknown_wave", wave_id=wave_id)
    return dict(row)


def pick_list(shop: Shop, wave_id: int) -> PickList:
    """The pick list of a wave: totals per item sorted by shelf location then SKU, and per order."""
    require(shop.actor, "read")
    sh, sl, lv, sk = schema.shipments, schema.shipment_lines, schema.stock_levels, schema.skus
    with shop.store.read() as conn:
        wave = _wave_row(conn, wave_id)
        lines = read_frame(
            conn,
            sa.select(
                sh.c.order_no,
                sh.c.shipment_id,
                lv.c.location,
                sl.c.sku,
                sk.c.title,
                sk.c.spec,
                sl.c.quantity,
            )
            .select_from(sh.join(sl, sl.c.shipment_id == sh.c.shipment_id))
            .outerjoin(lv, (lv.c.warehouse_code == sh.c.warehouse_code) & (lv.c.sku == sl.c.sku))
            .outerjoin(sk, sk.c.sku == sl.c.sku)
            .where(sh.c.wave_id == int(wave_id), sh.c.stage != str(ShipmentStage.CANCELLED)),
        )
    lines = lines.with_columns(pl.col("title").fill_null(pl.col("sku")))
    place = pl.col("location").fill_null(NO_LOCATION)
    totals = (
        lines.group_by("location", "sku")
        .agg(
            pl.col("title").first(),
            pl.col("spec").first(),
            pl.col("quantity").sum(),
            pl.col("order_no").n_unique().cast(pl.Int64).alias("orders"),
        )
        .sort(place, "sku")
        .select("location", "sku", "title", "spec", "quantity", "orders")
    )
    per_order = lines.sort("order_no", "shipment_id", place, "sku").select(
        "order_no", "shipment_id", "location", "sku", "title", "spec", "quantity"
    )
    return PickList(wave, totals, per_order)

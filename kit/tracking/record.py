"""Storing tracking events once (S21): in one write transaction the events of the shop's
parcels that are not stored yet are inserted in bulk (same carrier, number, time and
description: one row, however often a file is imported or a carrier asked), each touched
shipment gets the status of its latest event (kit.tracking.parcels), with an audit row per
change, and orders whose every parcel has now arrived follow: a cash-on-delivery order
is marked signed by the buyer (TRADE_BUYER_SIGNED, through the lifecycle, by the system
actor `system:tracking`), and the buyer is told once (a "delivered" notice, S13). After the
commit each new event goes to the plugins' `on_shipment_event` hook.

Events of numbers no shipment carries are not stored: they are counted and listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from kit import clock, outbox
from kit.carriers import CarrierRegistry, TrackEvent
from kit.i18n import current_lang, message_expr
from kit.lifecycle import apply_many, audit_rows
from kit.models import PaymentMethod, Role, ShipmentStage, StaffMember, TrackingStatus, TradeStatus
from kit.shop import Shop
from kit.stock.ledger import new_batch
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys, read_frame, update_frame
from kit.tracking.parcels import number_status, order_parcels, read_events, shipment_numbers, shipment_status

__all__ = ["KEY", "SIGNER", "store_events"]

KEY = ["carrier_code", "tracking_no", "at", "description"]  # uq_tracking_event_once
SIGNER = StaffMember("system:tracking", Role.SYSTEM)  # who marks a delivered COD order signed
_LOCK_KEY = 731_000_021  # PostgreSQL advisory lock: one tracking write at a time (S21)
_US = pl.Datetime("us")
_SHOWN = 20
CLOSED = (
    str(TradeStatus.TRADE_FINISHED),
    str(TradeStatus.TRADE_CLOSED),
    str(TradeStatus.TRADE_CLOSED_BY_TAOBAO),
)  # unmatched numbers and unknown texts listed in a result, at most


def _existing(conn: sa.Connection, frame: pl.DataFrame) -> pl.DataFrame:
    """The stored keys (KEY) of the frame's carriers and numbers, in one query that the unique
    index (carrier_code, tracking_no, …) answers."""
    e = schema.tracking_events
    codes = sorted(set(frame["carrier_code"].to_list()))
    numbers = sorted(set(frame["tracking_no"].to_list()))
    stmt = sa.select(e.c.carrier_code, e.c.tracking_no, e.c.at, e.c.description).where(
        e.c.carrier_code.in_(codes)
    )
    if conn.dialect.name == "postgresql":
        array = sa.bindparam("_numbers", value=numbers, type_=postgresql.ARRAY(sa.Text))
        stmt = stmt.where(e.c.tracking_no == sa.any_(array))
    else:
        import json

        packed = sa.bindparam("_numbers", value=json.dumps(numbers, ensure_ascii=False))
        each = sa.func.json_each(packed).table_valued("value").alias("k")
        stmt = stmt.where(e.c.tracking_no.in_(sa.select(each.c.value).scalar_subquery()))
    return read_frame(conn, stmt)


def _owners(conn: sa.Connection, numbers: list[str]) -> pl.DataFrame:
    """shipment_id, tracking_no of every shipment (any stage) carrying one of these numbers."""
    sh, p = schema.shipments, schema.parcels
    own = read_by_keys(conn, sh, ["shipment_id", "tracking_no"], "tracking_no", numbers)
    parcels = read_by_keys(conn, p, ["shipment_id", "tracking_no"], "tracking_no", numbers)
    return pl.concat([own, parcels]).unique(maintain_order=True)


def _statuses(conn: sa.Connection, shipment_ids: list[int]) -> pl.DataFrame:
    """The touched shipments (not cancelled) with their stored and their new tracking status."""
    sh = schema.shipments
    rows = read_by_keys(
        conn,
        sh,
        ["shipment_id", "order_no", "tracking_no", "stage", "tracking_status"],
        "shipment_id",
        shipment_ids,
    ).filter(pl.col("stage") != str(ShipmentStage.CANCELLED))
    numbers = shipment_numbers(conn, rows)
    stats = number_status(read_events(conn, numbers["tracking_no"].to_list()))
    now = shipment_status(numbers, stats).select("shipment_id", pl.col("status").alias("_new"))
    return rows.join(now, on="shipment_id", how="left").filter(
        pl.col("_new").is_not_null() & (pl.col("_new") != pl.col("tracking_status"))
    )


def _write_statuses(
    conn: sa.Connection, changed: pl.DataFrame, actor: StaffMember, at: datetime, batch_id: int
) -> None:
    """shipments.tracking_status of the changed shipments, and an audit row each."""
    update_frame(
        conn,
        schema.shipments,
        changed.select(
            "shipment_id", pl.col("_new").alias("tracking_status"), pl.lit(at, _US).alias("updated_at")
        ),
        "shipment_id",
    )
    insert_frame(
        conn,
        schema.audit,
        audit_rows(
            changed.select(
                pl.col("shipment_id").alias("entity_id"),
                pl.lit("tracking_status").alias("field"),
                pl.col("tracking_status").alias("from_state"),
                pl.col("_new").alias("to_state"),
                pl.lit(batch_id, pl.Int64).alias("batch_id"),
            ),
            actor,
            at,
            "shipment",
            "track",
        ),
    )


def _arrived(
    conn: sa.Connection, order_nos: list[str], actor: StaffMember, at: datetime, batch_id: int, notify: bool
) -> dict[str, Any]:
    """Orders every parcel of which has now arrived: COD ones marked signed by the buyer, and a
    "delivered" notice queued for each whose trade is still open and who was not told before."""
    if not order_nos:
        return {"delivered_orders": [], "signed": [], "notices": 0}
    parcels = order_parcels(conn, order_nos)
    whole = parcels.group_by("order_no").agg(
        (pl.col("status") == str(TrackingStatus.DELIVERED)).all().alias("ok")
    )
    arrived = sorted(whole.filter(pl.col("ok"))["order_no"].to_list())
    orders = read_by_keys(
        conn, schema.orders, ["order_no", "payment_method", "trade_status"], "order_no", arrived
    )
    cod = (
        orders.filter(
            (pl.col("payment_method") == str(PaymentMethod.COD))
            & (pl.col("trade_status") == str(TradeStatus.WAIT_BUYER_CONFIRM_GOODS))
        )["order_no"]
        .sort()
        .to_list()
    )
    signed = apply_many(conn, "order", cod, "buyer_sign", SIGNER, now=at).keys_applied if cod else []
    notices = 0
    still_open = orders.filter(~pl.col("trade_status").is_in(CLOSED))["order_no"].sort()
    if notify and still_open.len():
        told = read_by_keys(
            conn, schema.outbox, ["order_no", "kind"], "order_no", still_open.to_list()
        ).filter(pl.col("kind") == "delivered")["order_no"]
        lang = current_lang()
        due = still_open.to_frame().filter(~pl.col("order_no").is_in(told.implode()))
        notices = outbox.queue(
            conn,
            due.select(
                "order_no",
                pl.lit("delivered").alias("kind"),
                pl.lit(lang).alias("lang"),
                message_expr("notice.delivered", lang, order_no="order_no").alias("text"),
                pl.lit(None, pl.String).alias("payload"),
                pl.lit(at + outbox.SOON, _US).alias("due_at"),
            ),
            actor,
            at,
            batch_id,
        )
    return {"delivered_orders": arrived, "signed": signed, "notices": notices}


def _track_events(new: pl.DataFrame) -> list[TrackEvent]:
    """The new rows as the zone-aware TrackEvents the on_shipment_event hook is given."""
    zone = clock.shop_zone()
    return [
        TrackEvent(code, number, at.replace(tzinfo=zone), TrackingStatus(status), text, place)
        for code, number, at, status, text, place in new.select(
            "carrier_code", "tracking_no", "at", "status", "description", "location"
        ).iter_rows()
    ]


def _notify(registry: CarrierRegistry | None, new: pl.DataFrame) -> list[dict[str, Any]]:
    """Give each new event to the on_shipment_event hook; the plugins that failed, by name, with
    their first error and how many events they failed on."""
    if registry is None or new.height == 0 or not registry.pm.hook.on_shipment_event.get_hookimpls():
        return []
    failed: dict[str, dict[str, Any]] = {}
    for event in _track_events(new):
        for plugin, error in registry.notify(event):
            entry = failed.setdefault(plugin, {"plugin": plugin, "error": error, "events": 0})
            entry["events"] += 1
    return list(failed.values())


def store_events(
    shop: Shop,
    events: pl.DataFrame,
    actor: StaffMember,
    *,
    kind: str,
    source: str,
    registry: CarrierRegistry | None = None,
    now: datetime | None = None,
    notify: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Store events (kit.tracking.words.EVENT_COLUMNS) in one write transaction, update the
    touched shipments' tracking status and the orders that arrived, then tell the plugins.

    Returns the batch id, the events read, stored, already stored (duplicates), of unknown
    status text, of numbers no shipment carries (and those numbers), the shipments whose
    status changed, the orders delivered, signed and notified, and failed plugins."""
    moment = now or clock.now()
    read = events.height
    unique = events.unique(KEY, keep="first", maintain_order=True)
    unknown = unique.filter(pl.col("status") == str(TrackingStatus.UNKNOWN))
    result: dict[str, Any] = {
        "batch_id": None,
        "events": read,
        "stored": 0,
        "duplicates": 0,
        "unknown_status": unknown.height,
        "unknown_texts": unknown["description"]
        .str.extract(r"^【([^】]*)】")
        .drop_nulls()
        .unique(maintain_order=True)
        .head(_SHOWN)
        .to_list(),
        "unmatched": 0,
        "unmatched_numbers": [],
        "shipments_updated": [],
        "delivered_orders": [],
        "signed": [],
        "notices": 0,
        "plugin_errors": [],
        **(extra or {}),
    }
    with shop.store.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        owners = _owners(conn, unique["tracking_no"].unique().to_list()) if unique.height else None
        known = (
            unique.filter(pl.col("tracking_no").is_in(owners["tracking_no"].implode()))
            if owners is not None
            else unique
        )
        lost = unique.filter(~pl.col("tracking_no").is_in(known["tracking_no"].implode()))
        result["unmatched"] = lost.height
        result["unmatched_numbers"] = lost["tracking_no"].unique(maintain_order=True).head(_SHOWN).to_list()
        stored = _existing(conn, known) if known.height else None
        new = known.join(stored, on=KEY, how="anti", maintain_order="left") if stored is not None else known
        result["duplicates"] = read - lost.height - new.height
        batch_id = new_batch(
            conn,
            kind,
            source,
            actor,
            moment,
            lines=new.height,
            details={k: result[k] for k in ("events", "unknown_status", "unmatched")}
            | {"stored": new.height},
        )
        result["batch_id"] = batch_id
        if new.height:
            insert_frame(
                conn,
                schema.tracking_events,
                new.select(
                    "carrier_code", "tracking_no", pl.col("at").cast(_US), "status", "description", "location"
                ),
            )
            touched = owners.filter(pl.col("tracking_no").is_in(new["tracking_no"].implode()))  # type: ignore[union-attr]
            changed = _statuses(conn, touched["shipment_id"].unique().sort().to_list())
            if changed.height:
                _write_statuses(conn, changed, actor, moment, batch_id)
            delivered = changed.filter(pl.col("_new") == str(TrackingStatus.DELIVERED))["order_no"]
            result |= _arrived(conn, delivered.unique().sort().to_list(), actor, moment, batch_id, notify)
            result["shipments_updated"] = changed["shipment_id"].sort().to_list()
        result["stored"] = new.height
    result["plugin_errors"] = _notify(registry, new)
    return result

"""Where every parcel is, from the stored events, whole-column: per tracking number its latest
status, per shipment the status that stands for all its parcels, per order whether every
parcel has arrived and when the last one did.

A number's status is that of its latest event by time (ties: the one stored last) whose
status is known; events of `unknown` status text count as movement but set no status. A
shipment of one parcel has its number's status. A shipment of several parcels (the
`parcels` table) is `delivered` when every parcel is; otherwise it has the status of the
latest event among its parcels not yet delivered (`in_transit` when those have no scan yet).
A shipment without any number counts only when its carrier is not `none` (no logistics,
virtual goods: nothing to follow).
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from kit.models import ShipmentStage, TrackingStatus
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

__all__ = [
    "FINAL",
    "FOLLOWED",
    "MOVING",
    "NO_PARCEL",
    "number_status",
    "order_parcels",
    "read_events",
    "shipment_numbers",
    "shipment_status",
]

_T = TrackingStatus
FINAL = (str(_T.DELIVERED), str(_T.RETURNED), str(_T.LOST))  # not pulled again
MOVING = (str(_T.PICKED_UP), str(_T.IN_TRANSIT), str(_T.OUT_FOR_DELIVERY), str(_T.RETURNING))
NOT_YET = (str(_T.PENDING), str(_T.AWAITING_PICKUP), str(_T.UNKNOWN))  # no sign of the courier
FOLLOWED = (str(ShipmentStage.HANDED_OVER), str(ShipmentStage.CONFIRMED))  # with the courier
NO_PARCEL = "none"  # 无需物流: no parcel to follow
_US = pl.Datetime("us")
NUMBER_STATS = {
    "tracking_no": pl.String(),
    "status": pl.String(),
    "status_at": _US,
    "since": _US,
    "description": pl.String(),
    "first_at": _US,
    "last_at": _US,
    "moved": pl.Boolean(),
    "events": pl.UInt32(),
}


def shipment_numbers(conn: sa.Connection, shipments: pl.DataFrame) -> pl.DataFrame:
    """shipment_id, tracking_no: every number these shipments carry (shipment_id, tracking_no
    columns), their own and their parcels', once each, in the order given."""
    ids = shipments["shipment_id"].unique().to_list()
    parcels = read_by_keys(
        conn, schema.parcels, ["shipment_id", "parcel_no", "tracking_no"], "shipment_id", ids
    )
    numbers = pl.concat(
        [
            shipments.select("shipment_id", "tracking_no", pl.lit(0, pl.Int64).alias("parcel_no")),
            parcels.select("shipment_id", "tracking_no", pl.col("parcel_no").cast(pl.Int64)),
        ]
    )
    return (
        numbers.filter(pl.col("tracking_no").fill_null("") != "")
        .sort("shipment_id", "parcel_no", maintain_order=True)
        .unique(["shipment_id", "tracking_no"], keep="first", maintain_order=True)
        .select(pl.col("shipment_id").cast(pl.Int64), "tracking_no")
    )


def read_events(conn: sa.Connection, numbers: list[str]) -> pl.DataFrame:
    """The stored events of these tracking numbers (any carrier code), in one query, oldest first
    (ties: stored first)."""
    e = schema.tracking_events
    columns = ["event_id", "carrier_code", "tracking_no", "at", "status", "description", "location"]
    return read_by_keys(conn, e, columns, "tracking_no", sorted(set(numbers))).sort("at", "event_id")


def number_status(events: pl.DataFrame) -> pl.DataFrame:
    """Per tracking number: its status (latest known event), when that event was, since when the
    number has had that status, the event's description, first and last event times, whether
    the courier has moved it (any scan beyond awaiting pickup), and its number of events."""
    if events.height == 0:
        return pl.DataFrame(schema=NUMBER_STATS)
    ordered = events.sort("at", "event_id")
    every = ordered.group_by("tracking_no", maintain_order=True).agg(
        pl.col("at").min().alias("first_at"),
        pl.col("at").max().alias("last_at"),
        (~pl.col("status").is_in(NOT_YET)).any().alias("moved"),
        pl.len().alias("events"),
    )
    known = ordered.filter(pl.col("status") != str(_T.UNKNOWN))
    latest = known.group_by("tracking_no", maintain_order=True).agg(
        pl.col("status").last(), pl.col("at").last().alias("status_at"), pl.col("description").last()
    )
    since = (
        known.join(latest.select("tracking_no", pl.col("status").alias("_now")), on="tracking_no")
        .filter(pl.col("status") == pl.col("_now"))
        .group_by("tracking_no")
        .agg(pl.col("at").min().alias("since"))
    )
    out = every.join(latest, on="tracking_no", how="left").join(since, on="tracking_no", how="left")
    return out.select(list(NUMBER_STATS)).cast(NUMBER_STATS)  # type: ignore[arg-type]


def shipment_status(numbers: pl.DataFrame, stats: pl.DataFrame) -> pl.DataFrame:
    """Per shipment of `numbers` (shipment_id, tracking_no): status (null: no known scan yet),
    status_at, since, the chosen number and its event's description, last_at (any scan),
    moved, delivered_at (when the last parcel was delivered), parcels and parcels delivered."""
    per = numbers.join(stats, on="tracking_no", how="left", maintain_order="left")
    delivered = pl.col("status") == str(_T.DELIVERED)
    open_ = per.filter(pl.col("status").is_not_null() & ~delivered)
    chosen = (
        open_.sort("status_at")
        .group_by("shipment_id")
        .agg(
            pl.col("status").last(),
            pl.col("status_at").last(),
            pl.col("since").last(),
            pl.col("tracking_no").last().alias("_open_no"),
            pl.col("description").last().alias("_open_text"),
        )
    )
    done = (
        per.filter(delivered)
        .sort("status_at")
        .group_by("shipment_id")
        .agg(
            pl.col("tracking_no").last().alias("_done_no"),
            pl.col("description").last().alias("_done_text"),
            pl.col("status_at").last().alias("_done_at"),
            pl.col("since").min().alias("_done_since"),
        )
    )
    summary = per.group_by("shipment_id", maintain_order=True).agg(
        pl.len().alias("parcels"),
        delivered.sum().alias("delivered"),
        pl.col("status").is_not_null().sum().alias("_known"),
        pl.col("last_at").max(),
        pl.col("moved").fill_null(False).any(),
        pl.col("tracking_no").first().alias("_first_no"),
    )
    out = summary.join(chosen, on="shipment_id", how="left").join(done, on="shipment_id", how="left")
    all_done = (pl.col("parcels") > 0) & (pl.col("delivered") == pl.col("parcels"))
    return out.select(
        pl.col("shipment_id"),
        pl.when(all_done)
        .then(pl.lit(str(_T.DELIVERED)))
        .when(pl.col("status").is_not_null())
        .then(pl.col("status"))
        .when(pl.col("delivered") > 0)
        .then(pl.lit(str(_T.IN_TRANSIT)))
        .otherwise(None)
        .alias("status"),
        pl.when(all_done).then("_done_at").otherwise("status_at").alias("status_at"),
        pl.when(all_done).then("_done_since").otherwise("since").alias("since"),
        pl.coalesce(pl.when(all_done).then("_done_no").otherwise("_open_no"), "_first_no").alias("number"),
        pl.when(all_done).then("_done_text").otherwise("_open_text").alias("description"),
        "last_at",
        "moved",
        pl.when(all_done).then("_done_at").otherwise(None).alias("delivered_at"),
        pl.col("parcels").cast(pl.Int64),
        pl.col("delivered").cast(pl.Int64),
    )


def order_parcels(conn: sa.Connection, order_nos: list[str]) -> pl.DataFrame:
    """Every parcel of these orders' live shipments (not cancelled; `none` carrier left out; a
    shipment that a live one sent again replaces left out too, kit.exceptions' reship):
    order_no, shipment_id, carrier_code, tracking_no (null: a shipment without a number),
    status (from the events, else the shipment's tracking_status), delivered_at."""
    sh = schema.shipments
    live = read_by_keys(
        conn,
        sh,
        ["shipment_id", "order_no", "carrier_code", "tracking_no", "stage", "tracking_status",
         "replaces_shipment_id"],
        "order_no",
        order_nos,
    ).filter(pl.col("stage") != str(ShipmentStage.CANCELLED))
    replaced = live["replaces_shipment_id"].cast(pl.Int64).drop_nulls().implode()
    shipments = live.filter(
        (pl.col("carrier_code") != NO_PARCEL) & ~pl.col("shipment_id").is_in(replaced)
    ).drop("replaces_shipment_id")
    numbers = shipment_numbers(conn, shipments)
    stats = number_status(read_events(conn, numbers["tracking_no"].to_list()))
    several = numbers.group_by("shipment_id").agg(pl.len().alias("_n"))
    parcels = (
        shipments.drop("tracking_no")
        .join(numbers, on="shipment_id", how="left", maintain_order="left")
        .join(several, on="shipment_id", how="left")
        .join(stats.select("tracking_no", "status", "status_at"), on="tracking_no", how="left")
    )
    # a number without a scan: the shipment's own status when it is its only number, else pending
    fallback = pl.when(pl.col("_n").fill_null(0) <= 1).then("tracking_status").otherwise(pl.lit("pending"))
    status = pl.coalesce("status", fallback)
    return parcels.select(
        "order_no",
        "shipment_id",
        "carrier_code",
        "tracking_no",
        status.alias("status"),
        pl.when(status == str(_T.DELIVERED)).then("status_at").otherwise(None).alias("delivered_at"),
    ).sort("order_no", "shipment_id", "tracking_no", nulls_last=True)


def live_shipments(conn: sa.Connection, stmt_filter: sa.ColumnElement[bool]) -> pl.DataFrame:
    """Shipments with the courier (handed over or confirmed, carrier not `none`) matching a filter:
    shipment_id, order_no, carrier_code, tracking_no, tracking_status, handed_over_at."""
    sh = schema.shipments
    stmt = sa.select(
        sh.c.shipment_id,
        sh.c.order_no,
        sh.c.carrier_code,
        sh.c.tracking_no,
        sh.c.tracking_status,
        sh.c.handed_over_at,
    ).where(sh.c.stage.in_(FOLLOWED), sh.c.carrier_code != NO_PARCEL, stmt_filter)
    return read_frame(conn, stmt.order_by(sh.c.shipment_id))

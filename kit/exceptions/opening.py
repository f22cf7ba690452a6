"""Opening delivery exception cases (S21): one parcel at a time from staff, or one for every
current tracking alert of a lost, damaged or refused parcel that has no case yet.

A case opens `open` (a refused parcel: `return_expected` at once, it is on its way back),
with an audit row (entity exception, action open, field state, from nothing). One live case
per parcel and kind. A lost or damaged parcel's tracking status says so from then on, when
the carrier has not said it yet; the buyer is told (S13) unless notify=False.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput, NotFound, Refused
from kit.exceptions.records import HANDED, LIVE, as_dict, queue_notice
from kit.i18n import t
from kit.lifecycle import audit_rows, label
from kit.lifecycle.apply import read_rows
from kit.models import ExceptionKind, ExceptionState, Role, StaffMember
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys

__all__ = ["ALERT_KINDS", "open_case", "open_from_alerts"]

ALERT_KINDS = (str(ExceptionKind.LOST), str(ExceptionKind.DAMAGED), str(ExceptionKind.REFUSED))
KINDS = tuple(str(k) for k in ExceptionKind)
SAYS_SO = (str(ExceptionKind.LOST), str(ExceptionKind.DAMAGED))  # kinds that are a tracking status
_US = pl.Datetime("us")
_SHIP_COLUMNS = ["shipment_id", "order_no", "stage", "carrier_code", "tracking_no", "tracking_status"]


def check_kind(kind: str) -> str:
    """The kind as stored; BadInput naming the kinds there are."""
    value = str(kind).strip().lower()
    if value not in KINDS:
        raise BadInput(
            "exceptions.bad_kind",
            kind=kind,
            expected="、".join(f"{k}（{t('exception_kind.' + k)}）" for k in KINDS),
        )
    return value


def _owner(shop: Shop, owner: str | None, actor: StaffMember) -> str | None:
    """Who holds a new case: the one named (a staff member), else the person opening it (a
    job of the kit leaves it to be taken)."""
    if owner:
        return shop.staff_member(owner).name
    return None if actor.role == Role.SYSTEM else actor.name


def open_many(
    conn: sa.Connection,
    actor: StaffMember,
    at: datetime,
    cases: pl.DataFrame,
    *,
    owner: str | None,
    notify: bool,
    carrier_names: dict[str, str],
) -> tuple[list[int], int]:
    """Insert cases for `cases` (shipment_id, order_no, kind, description, carrier_code,
    tracking_no, tracking_status) in the caller's transaction, audited; lost and damaged
    parcels marked so; the buyers told. Returns the new case ids and the notices queued."""
    refused = str(ExceptionKind.REFUSED)
    rows = cases.with_columns(
        pl.when(pl.col("kind") == refused)
        .then(pl.lit(str(ExceptionState.RETURN_EXPECTED)))
        .otherwise(pl.lit(str(ExceptionState.OPEN)))
        .alias("state")
    )
    insert_frame(
        conn,
        schema.exception_cases,
        rows.select(
            pl.col("shipment_id").cast(pl.Int64),
            pl.col("order_no").cast(pl.String),
            "kind",
            "state",
            pl.lit(owner, pl.String).alias("owner"),
            pl.lit(actor.name).alias("opened_by"),
            pl.lit(at, _US).alias("opened_at"),
            pl.col("description").cast(pl.String),
            pl.lit(0, pl.Int64).alias("claim_fen"),
            pl.lit(0, pl.Int64).alias("compensation_fen"),
            pl.lit(0, pl.Int64).alias("version"),
            pl.lit(at, _US).alias("updated_at"),
        ),
    )
    ec = schema.exception_cases
    made = read_by_keys(
        conn,
        ec,
        ["case_id", "shipment_id", "kind", "state", "opened_at", "opened_by"],
        "shipment_id",
        rows["shipment_id"].unique().to_list(),
    ).filter((pl.col("opened_at") == at) & pl.col("state").is_in(LIVE) & (pl.col("opened_by") == actor.name))
    rows = rows.join(made.select("case_id", "shipment_id", "kind"), on=["shipment_id", "kind"], how="inner")
    insert_frame(
        conn,
        schema.audit,
        audit_rows(
            rows.select(
                pl.col("case_id").cast(pl.String).alias("entity_id"),
                pl.lit("state").alias("field"),
                pl.lit(None, pl.String).alias("from_state"),
                pl.col("state").alias("to_state"),
                pl.col("description").cast(pl.String).alias("reason"),
            ),
            actor,
            at,
            "exception",
            "open",
        ),
    )
    _mark_parcels(conn, rows, actor, at)
    notices = 0
    if notify:
        told = rows.filter(pl.col("kind").is_in(SAYS_SO)).with_columns(
            pl.col("carrier_code")
            .replace_strict(carrier_names, default=pl.col("carrier_code"))
            .alias("_carrier"),
            pl.col("tracking_no").fill_null("-"),
        )
        for kind in SAYS_SO:
            notices += queue_notice(
                conn,
                actor,
                at,
                told.filter(pl.col("kind") == kind),
                kind,
                order_no="order_no",
                carrier="_carrier",
                number="tracking_no",
            )
    return sorted(int(i) for i in rows["case_id"].to_list()), notices


def _mark_parcels(conn: sa.Connection, rows: pl.DataFrame, actor: StaffMember, at: datetime) -> None:
    """A lost or damaged parcel's tracking status says so (the carrier had not), audited."""
    marked = rows.filter(pl.col("kind").is_in(SAYS_SO) & (pl.col("tracking_status") != pl.col("kind")))
    if marked.height == 0:
        return
    sh = schema.shipments
    for (kind,), group in marked.group_by("kind"):
        conn.execute(
            sh.update()
            .where(sh.c.shipment_id.in_([int(i) for i in group["shipment_id"].to_list()]))
            .values(tracking_status=str(kind), updated_at=at)
        )
    insert_frame(
        conn,
        schema.audit,
        audit_rows(
            marked.select(
                pl.col("shipment_id").cast(pl.String).alias("entity_id"),
                pl.lit("tracking_status").alias("field"),
                pl.col("tracking_status").alias("from_state"),
                pl.col("kind").alias("to_state"),
                pl.format("#{}", "case_id").alias("reason"),
            ),
            actor,
            at,
            "shipment",
            "open_exception",
        ),
    )


def _live_cases(conn: sa.Connection, shipment_ids: list[int]) -> pl.DataFrame:
    """Every case of these parcels: case_id, shipment_id, kind, state, owner, closed_at."""
    return read_by_keys(
        conn,
        schema.exception_cases,
        ["case_id", "shipment_id", "kind", "state", "owner", "closed_at"],
        "shipment_id",
        shipment_ids,
    )


def _names(shop: Shop, notify: bool) -> dict[str, str]:
    """Carrier names for the buyer's notice (only when there is one to write)."""
    if not notify:
        return {}
    from kit.shipping.confirm import carrier_names

    return carrier_names(shop.config)


def open_case(
    shop: Shop,
    shipment_id: int,
    kind: str,
    *,
    description: str | None = None,
    owner: str | None = None,
    notify: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """S21: open a case of `kind` (lost, damaged, wrong_address, refused) for a parcel with the
    courier, in one transaction; refused for an unknown parcel or kind, a parcel not handed
    over, or one that already has a live case of that kind (named). Returns the case."""
    actor = require(shop.actor, "open_exception")
    kind = check_kind(kind)
    holder = _owner(shop, owner, actor)
    names = _names(shop, notify and kind in SAYS_SO)
    moment = now or clock.now()
    with shop.store.write() as conn:
        ships = read_rows(conn, "shipment", [int(shipment_id)])  # locked: one opener at a time
        if ships.height == 0:
            raise NotFound("exceptions.unknown_shipment", shipment_id=shipment_id)
        ship = ships.row(0, named=True)
        if ship["stage"] not in HANDED:
            raise Refused(
                "exceptions.not_handed_over",
                shipment_id=shipment_id,
                order_no=ship["order_no"],
                stage=label("shipment", "stage", ship["stage"]),
            )
        same = _live_cases(conn, [int(shipment_id)]).filter(
            (pl.col("kind") == kind) & pl.col("state").is_in(LIVE)
        )
        if same.height:
            other = same.row(0, named=True)
            raise Refused(
                "exceptions.already_open",
                shipment_id=shipment_id,
                kind=t(f"exception_kind.{kind}"),
                case_id=other["case_id"],
                state=label("exception", "state", other["state"]),
                owner=other["owner"] or t("exceptions.nobody"),
            )
        frame = ships.select(_SHIP_COLUMNS).with_columns(
            pl.lit(kind).alias("kind"), pl.lit(description, pl.String).alias("description")
        )
        ids, notices = open_many(conn, actor, moment, frame, owner=holder, notify=notify, carrier_names=names)
        return as_dict(conn, ids[0]) | {"notices": notices}


def open_from_alerts(
    shop: Shop,
    *,
    kinds: Iterable[str] = ALERT_KINDS,
    notify: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """S21: a case for each current tracking alert of these kinds (lost, damaged, refused)
    whose parcel has no case of that kind for this trouble yet (none live, none settled since
    the alert began), in one transaction, the alert's detail as the description. Returns the
    case ids, how many opened by kind, and how many alerts already had a case."""
    from kit.tracking import alerts

    actor = require(shop.actor, "open_exception")
    wanted = [check_kind(k) for k in kinds]
    odd = [k for k in wanted if k not in ALERT_KINDS]
    if odd:
        raise BadInput("exceptions.bad_alert_kind", kind=odd[0], expected="、".join(ALERT_KINDS))
    moment = now or clock.now()
    found = alerts(shop, now=moment, kinds=wanted)
    names = _names(shop, notify and found.height > 0)
    if found.height == 0:
        return {"case_ids": [], "opened": 0, "by_kind": {}, "already": 0, "notices": 0}
    with shop.store.write() as conn:
        ids = [int(i) for i in found["shipment_id"].to_list()]
        ships = read_rows(conn, "shipment", ids).select(_SHIP_COLUMNS).filter(pl.col("stage").is_in(HANDED))
        known = _live_cases(conn, ids)
        candidates = found.select("shipment_id", "kind", "since", pl.col("detail").alias("description"))
        had = candidates.join(known, on=["shipment_id", "kind"], how="inner").filter(
            pl.col("state").is_in(LIVE) | pl.col("since").is_null() | (pl.col("closed_at") >= pl.col("since"))
        )
        fresh = candidates.join(
            had.select("shipment_id", "kind").unique(), on=["shipment_id", "kind"], how="anti"
        )
        frame = fresh.join(ships, on="shipment_id", how="inner").select(*_SHIP_COLUMNS, "kind", "description")
        if frame.height == 0:
            return {"case_ids": [], "opened": 0, "by_kind": {}, "already": found.height, "notices": 0}
        case_ids, notices = open_many(
            conn, actor, moment, frame, owner=None, notify=notify, carrier_names=names
        )
    by_kind = dict(frame.group_by("kind").len().sort("kind").iter_rows())
    return {
        "case_ids": case_ids,
        "opened": len(case_ids),
        "by_kind": {str(k): int(v) for k, v in by_kind.items()},
        "already": found.height - frame.height,
        "notices": notices,
    }

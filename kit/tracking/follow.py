"""Following the parcels (S21, S23 step 4): pull their events through the carrier adapters that
can `track`, import a carrier's CSV export, or hand over events already in hand; all three
store them through kit.tracking.record.

A pull asks each carrier once per PULL_BATCH numbers, for the shipments with the courier
whose status is not final (delivered, returned, lost). A carrier without the `track`
capability (no API configured), or that fails or times out, is reported by name with the
reason; the others go on and their events are stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa

from kit import carriers
from kit.carriers import CarrierRegistry, TrackEvent
from kit.errors import BadInput, KitError
from kit.i18n import current_lang, t
from kit.models import TrackingStatus
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.tracking.parcels import FINAL, live_shipments, shipment_numbers
from kit.tracking.record import store_events
from kit.tracking.words import (
    CHINA_ZONE,
    EVENT_COLUMNS,
    aware_to_local,
    normalise_numbers,
    read_csv,
    status_of,
)

__all__ = ["PULL_BATCH", "events_frame", "import_events", "pull", "record_events"]

PULL_BATCH = 100  # numbers per call of an adapter's track()


def events_frame(events: Iterable[TrackEvent], words: dict[str, str] | None = None) -> pl.DataFrame:
    """TrackEvents (or objects with their fields) as a frame of EVENT_COLUMNS: times as the shop's
    naive local time (a naive time is China time), numbers normalised, statuses the kit's
    (text it does not know: `unknown`, kept in the description)."""
    rows = [
        (e.carrier_code, e.tracking_no, aware_to_local(e.at), str(e.status), e.description or "", e.location)
        for e in events
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "carrier_code": pl.String,
            "tracking_no": pl.String,
            "at": pl.Datetime("us"),
            "status_text": pl.String,
            "description": pl.String,
            "location": pl.String,
        },
        orient="row",
    )
    status = status_of(pl.col("status_text"), words)
    unknown = status == str(TrackingStatus.UNKNOWN)
    return (
        frame.with_columns(normalise_numbers(frame["tracking_no"]).alias("tracking_no"))
        .select(
            pl.col("carrier_code").str.strip_chars().str.to_lowercase(),
            "tracking_no",
            "at",
            status.alias("status"),
            pl.when(unknown)
            .then(pl.format("【{}】{}", "status_text", "description"))
            .otherwise("description")
            .alias("description"),
            "location",
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row"),
        )
        .filter(pl.col("tracking_no").fill_null("") != "")
    )


def _tracker(shop: Shop, registry: CarrierRegistry | None) -> tuple[Any, CarrierRegistry]:
    """The acting person, allowed to track parcels, and the carrier registry."""
    actor = require(shop.actor, "track_parcels")
    return actor, registry or carriers.for_config(shop.config)


def record_events(
    shop: Shop,
    events: Iterable[TrackEvent] | pl.DataFrame,
    *,
    source: str = "api",
    registry: CarrierRegistry | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store events already in hand (TrackEvents, or a frame of EVENT_COLUMNS), e.g. from a
    carrier's push; the same result as `pull`. Every carrier code must be the registry's."""
    actor, registry = _tracker(shop, registry)
    frame = (
        events
        if isinstance(events, pl.DataFrame)
        else events_frame(events, shop.config.tracking["status_words"])
    )
    for code in frame["carrier_code"].unique().to_list():
        registry.get(code)  # BadInput naming the known codes
    return store_events(
        shop,
        frame.select(list(EVENT_COLUMNS)),
        actor,
        kind="tracking",
        source=source,
        registry=registry,
        now=now,
    )


def import_events(
    shop: Shop,
    path: str | Path,
    carrier: str,
    *,
    registry: CarrierRegistry | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Import a carrier's CSV export of tracking events (UTF-8 or GBK; 运单号, 时间, 状态, 描述,
    地点 or number, time, status, description, location): every event stored once. Rows
    without a number or with a time that cannot be read are listed in `bad_rows` (row in
    the file, reason) and left out; the rest are stored."""
    actor, registry = _tracker(shop, registry)
    code = registry.get(carrier).code
    frame, bad = read_csv(
        path,
        code,
        words=shop.config.tracking["status_words"],
        max_bytes=shop.config.max_file_mb * 1024 * 1024,
    )
    result = store_events(
        shop,
        frame,
        actor,
        kind="tracking_import",
        source=Path(path).name,
        registry=registry,
        now=now,
        extra={"carrier": code, "file": str(path)},
    )
    return {**result, "bad_rows": bad}


def _to_follow(shop: Shop, codes: list[str] | None, shipment_ids: list[int] | None) -> pl.DataFrame:
    """carrier_code, tracking_no of the parcels with the courier whose status is not final."""
    sh = schema.shipments
    where = sh.c.tracking_status.not_in(FINAL)
    if codes is not None:
        where = sa.and_(where, sh.c.carrier_code.in_(codes))
    if shipment_ids is not None:
        where = sa.and_(where, sh.c.shipment_id.in_([int(i) for i in shipment_ids]))
    with shop.store.read() as conn:
        shipments = live_shipments(conn, where)
        numbers = shipment_numbers(conn, shipments)
    return (
        numbers.join(shipments.select("shipment_id", "carrier_code"), on="shipment_id")
        .select("carrier_code", "tracking_no")
        .unique(maintain_order=True)
    )


def pull(
    shop: Shop,
    *,
    carrier_codes: list[str] | None = None,
    shipment_ids: list[int] | None = None,
    registry: CarrierRegistry | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Ask the carriers for the events of every parcel with the courier not yet delivered,
    returned or lost (or of these carriers, these shipments), PULL_BATCH numbers per call,
    and store them. Returns what store_events does, and per carrier (code, name, numbers):
    `carriers_asked` (with the events they gave), `carriers_skipped` (cannot track: no API
    configured; their exports can be imported) and `carriers_failed` (raised, timed out,
    unknown code), each with the reason. Events a carrier gave before failing are kept."""
    actor, registry = _tracker(shop, registry)
    codes = [registry.get(c).code for c in carrier_codes] if carrier_codes else None
    wanted = _to_follow(shop, codes, shipment_ids)
    asked: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    got: list[TrackEvent] = []
    for (code,), group in wanted.group_by("carrier_code", maintain_order=True):
        numbers = group["tracking_no"].to_list()
        entry: dict[str, Any] = {"carrier": code, "name": code, "numbers": len(numbers)}
        try:
            adapter = registry.get(code)
        except KitError as exc:
            failed.append(entry | {"reason": exc.message})
            continue
        entry["name"] = adapter.name.zh if current_lang() == "zh" else adapter.name.en
        if "track" not in adapter.capabilities:
            skipped.append(entry | {"reason": t("tracking.not_capable", carrier=entry["name"], code=code)})
            continue
        events: list[TrackEvent] = []
        try:
            for start in range(0, len(numbers), PULL_BATCH):
                batch = registry.call(code, "track", numbers[start : start + PULL_BATCH])
                events += [_own(e, adapter.code) for e in batch]
        except Exception as exc:  # a carrier must never stop the others: reported by name
            why = exc.message if isinstance(exc, KitError) else f"{type(exc).__name__}: {exc}"[:300]
            reason = t("tracking.carrier_failed", carrier=entry["name"], code=code, reason=why)
            failed.append(entry | {"events": len(events), "reason": reason})
        else:
            asked.append(entry | {"events": len(events)})
        got += events
    frame = events_frame(got, shop.config.tracking["status_words"])
    result = store_events(
        shop,
        frame.select(list(EVENT_COLUMNS)),
        actor,
        kind="tracking",
        source="kit track --pull",
        registry=registry,
        now=now,
    )
    return {
        **result,
        "numbers": wanted.height,
        "carriers_asked": asked,
        "carriers_skipped": skipped,
        "carriers_failed": failed,
    }


def _own(event: Any, code: str) -> TrackEvent:
    """An adapter's event under the adapter's own code (what it returns is its carrier's), its
    time zone-aware (a naive one is China time); BadInput for anything that is not an event."""
    at = getattr(event, "at", None)
    if not isinstance(at, datetime) or not getattr(event, "tracking_no", None):
        raise BadInput("tracking.bad_event", code=code, value=repr(event)[:80])
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(CHINA_ZONE))
    return TrackEvent(
        code,
        str(event.tracking_no),
        at,
        event.status,
        str(getattr(event, "description", "") or ""),
        getattr(event, "location", None),
    )

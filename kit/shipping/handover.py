"""Hand-over to the courier (S8, S24c, S26b): packed shipments get their carrier and tracking
number, checked by the carrier's adapter, never one already used on another parcel; the
buyer's options (insured value, SMS) are recorded; the shipment moves to handed_over and
its order follows once all its parcels are with the courier.

Rows are checked as a whole batch (a file, a scanner session): good rows go in one
transaction, each refused row is listed with its reason, nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import carriers, clock
from kit.carriers.numbers import normalise
from kit.config import Config
from kit.errors import BadInput, KitError, Refused
from kit.i18n import t
from kit.lifecycle import apply_many, audit_rows, check_role, transition
from kit.lifecycle.rollup import follow_shipments
from kit.models import ShipmentStage
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys, read_frame, update_frame

__all__ = ["HANDOVER_COLUMNS", "assign_numbers", "check_sender", "hand_over", "requests_frame"]

HANDOVER_COLUMNS = {
    "shipment_id": pl.Int64,
    "order_no": pl.String,
    "carrier_code": pl.String,
    "tracking_no": pl.String,
    "insured_fen": pl.Int64,
    "sms_notify": pl.Boolean,
}
_BEFORE_HAND_OVER = (str(ShipmentStage.ALLOCATED), str(ShipmentStage.PICKING), str(ShipmentStage.PACKED))
_LOCK_KEY = 731_000_006  # PostgreSQL advisory lock: one hand-over batch at a time checks numbers


def check_sender(config: Config) -> None:
    """Refuse shipping until the shop's sender address is set (S26b), saying where to set it."""
    s = config.sender
    missing = [
        name for name in ("name", "mobile", "province", "city", "detail") if not getattr(s, name).strip()
    ]
    if missing:
        raise Refused(
            "shipping.no_sender",
            fields=", ".join(missing),
            where=config.source or "kit.toml",
            section="[shop.sender]",
        )


def requests_frame(items: list[Mapping[str, Any]] | pl.DataFrame) -> pl.DataFrame:
    """Hand-over rows as a frame of HANDOVER_COLUMNS (missing columns empty), in the given order."""
    frame = items if isinstance(items, pl.DataFrame) else pl.DataFrame(list(items), infer_schema_length=None)
    for name, dtype in HANDOVER_COLUMNS.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    try:
        frame = frame.select(pl.col(n).cast(d, strict=True) for n, d in HANDOVER_COLUMNS.items())
    except pl.exceptions.InvalidOperationError as exc:
        raise BadInput("shipping.bad_rows", error=str(exc).splitlines()[0][:200]) from None
    return frame.with_row_index("_row", offset=1)


def _resolve(conn: sa.Connection, rows: pl.DataFrame) -> pl.DataFrame:
    """Each row's shipment: its id, or the one packed shipment of the order number given, or the
    live shipment whose label carries the tracking number given alone."""
    sh = schema.shipments
    by_number = rows.filter(
        pl.col("shipment_id").is_null() & pl.col("order_no").is_null() & pl.col("tracking_no").is_not_null()
    )
    if by_number.height:
        found = read_by_keys(
            conn,
            sh,
            ["shipment_id", "tracking_no", "stage"],
            "tracking_no",
            sorted({normalise(n) for n in by_number["tracking_no"].to_list()}),
        )
        found = found.filter(pl.col("stage") != str(ShipmentStage.CANCELLED)).select(
            pl.col("tracking_no").alias("_label"), pl.col("shipment_id").alias("_by_label")
        )
        rows = rows.with_columns(
            pl.col("tracking_no").map_elements(normalise, return_dtype=pl.String).alias("_label")
        )
        rows = (
            rows.join(found.unique("_label"), on="_label", how="left", maintain_order="left")
            .with_columns(pl.coalesce("shipment_id", "_by_label").alias("shipment_id"))
            .drop("_label", "_by_label")
        )
    by_order = rows.filter(pl.col("shipment_id").is_null() & pl.col("order_no").is_not_null())
    if by_order.height:
        found = read_by_keys(
            conn,
            sh,
            ["shipment_id", "order_no", "stage"],
            "order_no",
            by_order["order_no"].unique().to_list(),
        )
        packed = (
            found.filter(pl.col("stage") == str(ShipmentStage.PACKED))
            .group_by("order_no")
            .agg(pl.col("shipment_id").min().alias("_sid"), pl.len().alias("_packed"))
        )
        rows = rows.join(packed, on="order_no", how="left").with_columns(
            pl.when(pl.col("shipment_id").is_null() & (pl.col("_packed") == 1))
            .then(pl.col("_sid"))
            .otherwise(pl.col("shipment_id"))
            .alias("shipment_id")
        )
        rows = rows.with_columns(pl.col("_packed").fill_null(0))
    else:
        rows = rows.with_columns(pl.lit(0).alias("_packed"), pl.lit(None, pl.Int64).alias("_sid"))
    ids = rows["shipment_id"].drop_nulls().unique().to_list()
    current = read_by_keys(
        conn,
        sh,
        ["shipment_id", "order_no", "carrier_code", "stage", "tracking_no", "warehouse_code"],
        "shipment_id",
        ids,
    )
    return rows.drop("order_no").join(
        current.rename({"carrier_code": "_carrier", "stage": "_stage", "tracking_no": "_old_no"}),
        on="shipment_id",
        how="left",
        maintain_order="left",
    )


def _verdicts(rows: pl.DataFrame, registry: carriers.CarrierRegistry) -> list[tuple[str | None, str | None]]:
    """(normalised number, refusal text or None) per row, by the carrier's own adapter."""
    out: list[tuple[str | None, str | None]] = []
    for code, number in rows.select("_code", "tracking_no").iter_rows():
        try:
            adapter = registry.get(code or "")
        except KitError as exc:
            out.append((number, str(exc)))
            continue
        verdict = adapter.validate_tracking_number(number or "")
        out.append((verdict.number, None if verdict.valid else verdict.reason))
    return out


def _used_elsewhere(conn: sa.Connection, numbers: list[str]) -> pl.DataFrame:
    """Live shipments already carrying one of these tracking numbers (number, shipment, order)."""
    sh = schema.shipments
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    found = []
    for start in range(0, len(numbers), 5_000):
        found.append(
            read_frame(
                conn,
                sa.select(
                    sh.c.tracking_no, sh.c.shipment_id.label("_other"), sh.c.order_no.label("_other_order")
                ).where(
                    sh.c.tracking_no.in_(numbers[start : start + 5_000]),
                    sh.c.stage != str(ShipmentStage.CANCELLED),
                ),
            )
        )
    return (
        pl.concat(found)
        if found
        else pl.DataFrame(schema={"tracking_no": pl.String, "_other": pl.Int64, "_other_order": pl.String})
    )


def _refusals(rows: pl.DataFrame, stages: tuple[str, ...]) -> list[tuple[int, str]]:
    """(row number, message) of every row that cannot be handed over, first reason only."""
    out = []
    for r in rows.iter_rows(named=True):
        if r["shipment_id"] is None:
            key = "shipping.order_not_packed" if r["_packed"] == 0 else "shipping.order_many_packed"
            msg = t(key, order_no=r["_order_given"]) if r["_order_given"] else t("shipping.no_key")
        elif r["_stage"] is None:
            msg = t("shipping.unknown_shipment", shipment_id=r["shipment_id"])
        elif r["_stage"] not in stages:
            msg = t(
                "shipping.not_packed" if len(stages) == 1 else "shipping.already_gone",
                shipment_id=r["shipment_id"],
                order_no=r["order_no"],
                stage=t(f"shipment_stage.{r['_stage']}"),
            )
        elif r["_bad_number"]:
            msg = t("shipping.bad_number", shipment_id=r["shipment_id"], reason=r["_bad_number"])
        elif r["_dup_in_batch"]:
            msg = t("shipping.number_twice", number=r["_number"], row=r["_first_row"])
        elif r["_other"] is not None:
            msg = t(
                "shipping.number_used",
                number=r["_number"],
                order_no=r["_other_order"],
                shipment_id=r["_other"],
            )
        elif r["insured_fen"] is not None and r["insured_fen"] < 0:
            msg = t("shipping.bad_insured", shipment_id=r["shipment_id"], value=r["insured_fen"])
        else:
            continue
        out.append((int(r["_row"]), msg))
    return out


def _checked(
    conn: sa.Connection, items: Any, registry: carriers.CarrierRegistry, stages: tuple[str, ...]
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """The rows whose shipment is in one of `stages` and whose number its carrier accepts and no
    other parcel carries (one per shipment), and the refused rows with their reasons."""
    rows = _resolve(conn, requests_frame(items).with_columns(pl.col("order_no").alias("_order_given")))
    rows = rows.with_columns(
        pl.coalesce(pl.col("carrier_code").str.strip_chars().str.to_lowercase(), pl.col("_carrier")).alias(
            "_code"
        )
    )
    verdicts = _verdicts(rows, registry)
    rows = rows.with_columns(
        pl.Series("_number", [v[0] for v in verdicts], pl.String),
        pl.Series("_bad_number", [v[1] for v in verdicts], pl.String),
    )
    numbered = rows.filter(pl.col("_number").fill_null("") != "")
    first = numbered.group_by("_number").agg(pl.col("_row").min().alias("_first_row"))
    rows = rows.join(first, on="_number", how="left").with_columns(
        (pl.col("_first_row").is_not_null() & (pl.col("_first_row") != pl.col("_row"))).alias("_dup_in_batch")
    )
    used = _used_elsewhere(conn, numbered["_number"].unique().to_list())
    rows = rows.join(used.rename({"tracking_no": "_number"}), on="_number", how="left")
    rows = rows.with_columns(
        pl.when(pl.col("_other") == pl.col("shipment_id"))
        .then(None)
        .otherwise(pl.col("_other"))
        .alias("_other")
    )
    rows = rows.unique("_row", keep="first").sort("_row")
    refused = _refusals(rows, stages)
    ok = rows.filter(~pl.col("_row").is_in([r for r, _ in refused]))
    again = ok.filter(
        pl.col("shipment_id").is_duplicated() & (pl.int_range(pl.len()).over("shipment_id") > 0)
    )
    first_row = ok.group_by("shipment_id").agg(pl.col("_row").min().alias("_first"))
    for row, sid, first in (
        again.join(first_row, on="shipment_id").select("_row", "shipment_id", "_first").iter_rows()
    ):
        refused.append((int(row), t("shipping.shipment_twice", shipment_id=sid, row=first)))
    return ok.filter(~pl.col("_row").is_in(again["_row"].implode())), refused


def _write_numbers(conn: sa.Connection, done: pl.DataFrame, **extra: pl.Expr) -> None:
    """Write the checked carrier and number (empty: none) of these shipments, and `extra` columns."""
    update_frame(
        conn,
        schema.shipments,
        done.select(
            "shipment_id",
            pl.col("_code").alias("carrier_code"),
            pl.when(pl.col("_number") == "").then(None).otherwise(pl.col("_number")).alias("tracking_no"),
            *[expr.alias(name) for name, expr in extra.items()],
        ),
        "shipment_id",
    )


def assign_numbers(shop: Shop, items: list[Mapping[str, Any]] | pl.DataFrame) -> dict[str, Any]:
    """Give shipments not yet handed over their carrier and tracking number (a pre-printed waybill,
    or the number a booking returned), so that the label can be printed before packing (S18):
    shipment_id (or order_no), tracking_no, optional carrier_code. Same checks as the hand-over."""
    actor = require(shop.actor, "print_documents")
    registry = carriers.for_config(shop.config)
    with shop.store.write() as conn:
        ok, refused = _checked(conn, items, registry, _BEFORE_HAND_OVER)
        if ok.height:
            _write_numbers(conn, ok)
            insert_frame(
                conn,
                schema.audit,
                audit_rows(
                    ok.select(
                        pl.col("shipment_id").alias("entity_id"),
                        pl.lit("tracking_no").alias("field"),
                        pl.col("_old_no").alias("from_state"),
                        pl.col("_number").alias("to_state"),
                    ),
                    actor,
                    clock.now(),
                    "shipment",
                    "assign_number",
                ),
            )
    return {"assigned": ok["shipment_id"].to_list(), "refused": sorted(refused)}


def hand_over(
    shop: Shop, items: list[Mapping[str, Any]] | pl.DataFrame, *, now: datetime | None = None
) -> dict[str, Any]:
    """Record packed shipments handed to the courier: shipment_id (or order_no, or only the tracking
    number already on its label), carrier_code (default: the shipment's), tracking_no, optional
    insured_fen and sms_notify. Returns handed_over (shipment ids) and refused ([row, message]);
    the good rows are written in one transaction."""
    actor = require(shop.actor, "read")
    check_role(actor, transition("shipment", "hand_over").roles, t("action.hand_over"))
    check_sender(shop.config)
    moment = now or clock.now()
    registry = carriers.for_config(shop.config)
    with shop.store.write() as conn:
        ok, refused = _checked(conn, items, registry, (str(ShipmentStage.PACKED),))
        handed: list[int] = []
        if ok.height:
            result = apply_many(conn, "shipment", ok["shipment_id"].to_list(), "hand_over", actor, now=moment)
            by_key = dict(result.refused)
            refused += [
                (int(r), str(by_key[str(s)]))
                for r, s in ok.select("_row", "shipment_id").iter_rows()
                if str(s) in by_key
            ]
            handed = [int(k) for k in result.keys_applied]
            done = ok.filter(pl.col("shipment_id").is_in(handed))
            _write_numbers(
                conn,
                done,
                insured_fen=pl.col("insured_fen").fill_null(0),
                sms_notify=pl.col("sms_notify").fill_null(False),
                handed_over_by=pl.lit(actor.name),
            )
            follow_shipments(conn, done["order_no"].unique().sort().to_list(), "hand_over", actor, moment)
    return {"handed_over": handed, "refused": sorted(refused)}

"""A refused parcel comes back (S21, S3): what is fit to sell goes back on hand (`return` rows
in the stock ledger), what is not into the damaged goods, kept apart from the stock; the
parcel reads `returned`; the case is resolved with resolution restocked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl

from kit import clock
from kit.errors import BadInput
from kit.exceptions.handling import shipment_lines
from kit.exceptions.records import as_dict, audit_one, lock_case, step
from kit.i18n import t
from kit.models import TrackingStatus
from kit.permissions import require
from kit.shop import Shop
from kit.stock.returns import take_back
from kit.store import schema

__all__ = ["receive_return"]

Units = int | Mapping[str, int] | None


def _per_sku(units: Units, skus: list[str], name: str) -> dict[str, int] | None:
    """Units by SKU: a mapping as given, or a whole number for a parcel of one SKU."""
    if units is None:
        return None
    if isinstance(units, Mapping):
        odd = sorted(set(units) - set(skus))
        if odd:
            raise BadInput("exceptions.return_unknown_sku", sku=odd[0], skus="、".join(skus))
        counts = {str(k): v for k, v in units.items()}
    elif len(skus) == 1:
        counts = {skus[0]: units}
    else:
        raise BadInput("exceptions.return_which_sku", name=name, skus="、".join(skus))
    for sku, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise BadInput("exceptions.return_bad_units", name=name, sku=sku, value=n)
    return counts


def _items(lines: pl.DataFrame, good: Units, damaged: Units) -> pl.DataFrame:
    """sku, sent, good, damaged: by default every unit back good; damaged ones as said, the
    rest good, unless good is said too. BadInput when more come back than were sent."""
    sent = lines.group_by("sku", maintain_order=True).agg(pl.col("quantity").sum().alias("sent"))
    skus = sent["sku"].to_list()
    bad = _per_sku(damaged, skus, "damaged") or {}
    fine = _per_sku(good, skus, "good")
    items = sent.with_columns(
        pl.col("sku").replace_strict(bad, default=0, return_dtype=pl.Int64).alias("damaged")
    )
    if fine is None:
        items = items.with_columns((pl.col("sent") - pl.col("damaged")).alias("good"))
    else:
        items = items.with_columns(
            pl.col("sku").replace_strict(fine, default=0, return_dtype=pl.Int64).alias("good")
        )
    over = items.filter((pl.col("good") < 0) | (pl.col("good") + pl.col("damaged") > pl.col("sent")))
    if over.height:
        r = over.row(0, named=True)
        raise BadInput(
            "exceptions.return_too_many",
            sku=r["sku"],
            sent=r["sent"],
            good=max(r["good"], 0),
            damaged=r["damaged"],
        )
    return items


def receive_return(
    shop: Shop,
    case_id: int,
    *,
    good: Units = None,
    damaged: Units = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """S21: the refused parcel is back: `good` and `damaged` units (a number for a parcel of one
    SKU, else {sku: units}; default every unit good) taken back in the parcel's warehouse, in
    one transaction with the case resolved (restocked). Returns the case with the units."""
    actor = require(shop.actor, "read")
    moment = now or clock.now()
    with shop.store.write() as conn:
        rows = lock_case(conn, case_id)
        row = rows.row(0, named=True)
        sh = schema.shipments
        ship = conn.execute(sh.select().where(sh.c.shipment_id == row["shipment_id"])).mappings().one()
        items = _items(shipment_lines(conn, row["shipment_id"]), good, damaged)
        why = t("exceptions.return_reason", case_id=case_id, shipment_id=row["shipment_id"])
        step(
            conn,
            rows,
            "receive_return",
            actor,
            moment,
            expected_version=expected_version,
            reason=why,
            values={"resolution": "restocked"},
        )
        units = take_back(
            conn,
            items.select(
                pl.lit(ship["warehouse_code"]).alias("warehouse_code"),
                "sku",
                "good",
                "damaged",
                pl.lit(row["order_no"]).alias("order_no"),
                pl.lit(int(row["shipment_id"]), pl.Int64).alias("shipment_id"),
            ),
            actor,
            at=moment,
            source=f"exception:{case_id}",
            reason=why,
        )
        back = str(TrackingStatus.RETURNED)
        if ship["tracking_status"] != back:
            conn.execute(
                sh.update()
                .where(sh.c.shipment_id == row["shipment_id"])
                .values(tracking_status=back, updated_at=moment)
            )
            audit_one(
                conn,
                actor,
                moment,
                "shipment",
                row["shipment_id"],
                "receive_return",
                "tracking_status",
                ship["tracking_status"],
                back,
                why,
            )
        return as_dict(conn, case_id) | {"units": units}

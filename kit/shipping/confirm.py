"""Confirmation on the platform (S9, S1b, S24c, S13): shipments handed over are confirmed, their
orders follow (all parcels confirmed → WAIT_BUYER_CONFIRM_GOODS; some → SELLER_CONSIGNED_PART),
the buyer is told the carrier and tracking number through the outbox, and the platform's
batch file (订单编号, 物流公司, 运单号; CSV in GBK) is written for upload."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import carriers, clock, outbox
from kit.config import Config
from kit.errors import BadInput
from kit.i18n import current_lang, message_expr, t
from kit.lifecycle import apply_many, check_role, transition
from kit.lifecycle.rollup import follow_shipments
from kit.models import ShipmentStage
from kit.permissions import require
from kit.shop import Shop
from kit.stock.ledger import new_batch
from kit.store import schema
from kit.store.frames import read_by_keys, read_frame

__all__ = ["BATCH_HEADER", "batch_file", "carrier_names", "confirm", "confirmed_in", "write_batch_file"]

BATCH_HEADER = ("订单编号", "物流公司", "运单号")
_US = pl.Datetime("us")


def carrier_names(config: Config, registry: carriers.CarrierRegistry | None = None) -> dict[str, str]:
    """Carrier code → the name the platform's batch file expects: the shop's setting, else the
    carrier's Chinese name."""
    registry = registry or carriers.for_config(config)
    names = {code: adapter.name.zh for code, adapter in registry.adapters.items()}
    return names | dict(config.platform_carrier_names)


def _shipped_notices(rows: pl.DataFrame, names: dict[str, str], at: datetime, lang: str) -> pl.DataFrame:
    """One "shipped" notice per confirmed shipment with a tracking number (S24c, S13)."""
    numbered = rows.filter(pl.col("tracking_no").is_not_null()).with_columns(
        pl.col("carrier_code").replace_strict(names, default=pl.col("carrier_code")).alias("_carrier")
    )
    return numbered.select(
        "order_no",
        pl.lit("shipped").alias("kind"),
        pl.lit(lang).alias("lang"),
        message_expr(
            "notice.shipped", lang, order_no="order_no", carrier="_carrier", number="tracking_no"
        ).alias("text"),
        pl.struct(pl.col("_carrier").alias("carrier"), "tracking_no", "shipment_id")
        .struct.json_encode()
        .alias("payload"),
        pl.lit(at + outbox.SOON, _US).alias("due_at"),
    )


def confirm(
    shop: Shop, shipment_ids: list[int] | None = None, *, now: datetime | None = None, notify: bool = True
) -> dict[str, Any]:
    """Confirm handed-over shipments on the platform (all of them, or `shipment_ids`), in one
    transaction: shipments → confirmed, orders follow, "shipped" notices queued. Returns the
    batch id, the shipments confirmed and those refused with their reason."""
    actor = require(shop.actor, "read")
    check_role(actor, transition("shipment", "confirm").roles, t("action.confirm"))
    moment = now or clock.now()
    sh = schema.shipments
    registry = carriers.for_config(shop.config)
    names = carrier_names(shop.config, registry)
    with shop.store.write() as conn:
        if shipment_ids is None:
            ids = (
                conn.execute(
                    sa.select(sh.c.shipment_id)
                    .where(sh.c.stage == str(ShipmentStage.HANDED_OVER))
                    .order_by(sh.c.shipment_id)
                )
                .scalars()
                .all()
            )
        else:
            ids = sorted({int(i) for i in shipment_ids})
        if not ids:
            return {"batch_id": None, "confirmed": [], "refused": [], "orders": 0, "notices": 0}
        handed = read_by_keys(
            conn,
            sh,
            ["shipment_id", "order_no", "carrier_code", "tracking_no", "stage"],
            "shipment_id",
            list(ids),
        ).filter(pl.col("stage") == str(ShipmentStage.HANDED_OVER))
        bad = _bad_numbers(handed, registry)
        ids = [i for i in ids if i not in bad]
        result = apply_many(conn, "shipment", list(ids), "confirm", actor, now=moment)
        result.refused.extend(
            (str(i), BadInput("shipping.confirm_bad_number", shipment_id=i, reason=why))
            for i, why in sorted(bad.items())
        )
        done = [int(k) for k in result.keys_applied]
        batch_id, notices = None, 0
        if done:
            batch_id = new_batch(conn, "confirm", "kit ship --confirm", actor, moment, lines=len(done))
            rows = handed.filter(pl.col("shipment_id").is_in(done)).sort("order_no", "shipment_id")
            follow_shipments(conn, rows["order_no"].unique().sort().to_list(), "confirm", actor, moment)
            if notify:
                notices = outbox.queue(
                    conn, _shipped_notices(rows, names, moment, current_lang()), actor, moment, batch_id
                )
            conn.execute(
                schema.batches.update()
                .where(schema.batches.c.batch_id == batch_id)
                .values(orders=rows["order_no"].n_unique(), details=json.dumps({"shipments": done}))
            )
    return {
        "batch_id": batch_id,
        "confirmed": done,
        "orders": len({*rows["order_no"]}) if done else 0,
        "refused": [(int(k), str(e)) for k, e in result.refused],
        "notices": notices,
    }


def _bad_numbers(handed: pl.DataFrame, registry: carriers.CarrierRegistry) -> dict[int, str]:
    """Handed-over shipments whose tracking number its carrier does not accept (checked again
    before the platform sees it: a number typed into the database, or a carrier's rules
    changed), each carrier's adapter once per distinct number."""
    bad: dict[int, str] = {}
    for (code,), group in handed.group_by("carrier_code"):
        try:
            adapter = registry.get(code or "")
        except BadInput as exc:
            bad.update(dict.fromkeys(group["shipment_id"].to_list(), exc.message))
            continue
        quick = getattr(adapter, "accepts", None)  # built-ins: a yes without building the reason
        for shipment_id, number in group.select("shipment_id", "tracking_no").iter_rows():
            if quick is not None and quick(number or ""):
                continue
            verdict = adapter.validate_tracking_number(number or "")
            if not verdict.valid:
                bad[int(shipment_id)] = verdict.reason
    return bad


def confirmed_rows(conn: sa.Connection, shipment_ids: list[int]) -> pl.DataFrame:
    """order_no, shipment_id, carrier_code, tracking_no, confirmed_at of these shipments."""
    sh = schema.shipments
    columns = ["order_no", "shipment_id", "carrier_code", "tracking_no", "confirmed_at"]
    return read_by_keys(conn, sh, columns, "shipment_id", list(shipment_ids)).sort("order_no", "shipment_id")


def confirmed_in(shop: Shop, batch_id: int | None = None, *, day: Any = None) -> pl.DataFrame:
    """The shipments of one confirmation batch, or confirmed on one day: order_no, shipment_id,
    carrier_code, tracking_no, confirmed_at."""
    require(shop.actor, "read")
    b = schema.batches
    with shop.store.read() as conn:
        if batch_id is not None:
            details = conn.execute(
                sa.select(b.c.details).where(b.c.batch_id == int(batch_id), b.c.kind == "confirm")
            ).scalar()
            if details is None:
                raise BadInput("shipping.unknown_batch", batch_id=batch_id)
            return confirmed_rows(conn, json.loads(details)["shipments"])
        sh = schema.shipments
        stmt = sa.select(
            sh.c.order_no, sh.c.shipment_id, sh.c.carrier_code, sh.c.tracking_no, sh.c.confirmed_at
        )
        start = datetime.combine(day or clock.now().date(), time())
        frame = read_frame(
            conn,
            stmt.where(
                sh.c.stage == str(ShipmentStage.CONFIRMED),
                sh.c.confirmed_at >= start,
                sh.c.confirmed_at < start + timedelta(days=1),
            ),
        )
    return frame.sort("order_no", "shipment_id")


def batch_file(rows: pl.DataFrame, config: Config) -> bytes:
    """The platform's batch shipping file for these rows: 订单编号, 物流公司, 运单号, as CSV in GBK
    (what Taobao's 批量发货 takes). Shipments without a number (no logistics) are left out."""
    names = carrier_names(config)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BATCH_HEADER)
    for order_no, code, number in rows.select("order_no", "carrier_code", "tracking_no").iter_rows():
        if number:
            writer.writerow((order_no, names.get(code, code), number))
    try:
        return out.getvalue().encode("gbk")
    except UnicodeEncodeError as exc:
        raise BadInput("shipping.not_gbk", text=exc.object[exc.start : exc.end]) from None


def write_batch_file(shop: Shop, path: str | Path, rows: pl.DataFrame) -> int:
    """Write the platform's batch file for these rows to `path`; the number of lines written."""
    require(shop.actor, "export_confirmation")
    data = batch_file(rows, shop.config)
    Path(path).write_bytes(data)
    return data.count(b"\r\n") - 1

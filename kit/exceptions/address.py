"""A parcel labelled with a wrong address (S21): customer service records the right one from
the buyer, and the carrier is told.

The address is checked (receiver, an 11-digit mobile, province, city, district, street), kept
beside the one the parcel was labelled with, and written on the order so that a reship goes to
it, each change audited. If the carrier's adapter has the optional `redirect(tracking_no,
address)` method (docs/plugins.md), it is called and its answer kept; otherwise, or when it
fails, the case carries a task for a person ("phone 圆通: …"), and nothing is sent to the carrier.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.carriers import CarrierRegistry, Party
from kit.errors import BadInput, KitError
from kit.exceptions.records import as_dict, audit_one, lock_case, queue_notice, step
from kit.i18n import current_lang, t
from kit.models import StaffMember
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema

__all__ = ["ADDRESS_FIELDS", "check_address", "correct_address", "mask_mobile"]

ADDRESS_FIELDS = ("receiver_name", "receiver_mobile", "province", "city", "district", "address_detail")
REQUIRED = ("receiver_name", "receiver_mobile", "province", "city", "address_detail")  # 东莞 has no district
MOBILE = re.compile(r"1\d{10}")


def mask_mobile(mobile: str | None) -> str:
    """A mobile as the audit and notices show it: 138****5678."""
    text = mobile or ""
    return f"{text[:3]}****{text[-4:]}" if MOBILE.fullmatch(text) else "****"


def check_address(address: Mapping[str, Any]) -> dict[str, str]:
    """The corrected receiver, each field stripped; BadInput naming the field, the value and
    what it must be (unknown fields, a missing one, a mobile that is not 11 digits)."""
    unknown = sorted(set(address) - set(ADDRESS_FIELDS))
    if unknown:
        raise BadInput(
            "exceptions.address_unknown_field", fields="、".join(unknown), known="、".join(ADDRESS_FIELDS)
        )
    clean = {f: str(address.get(f) or "").strip() for f in ADDRESS_FIELDS}
    for name in REQUIRED:
        if not clean[name]:
            raise BadInput("exceptions.address_missing", field=t(f"exceptions.field_{name}"), name=name)
    mobile = re.sub(r"[\s-]", "", clean["receiver_mobile"])
    if not MOBILE.fullmatch(mobile):
        raise BadInput("exceptions.address_bad_mobile", value=clean["receiver_mobile"])
    return clean | {"receiver_mobile": mobile}


def _one_line(address: Mapping[str, Any]) -> str:
    """The address in one line for the audit and the task, the mobile masked."""
    place = "".join(str(address.get(f) or "") for f in ("province", "city", "district", "address_detail"))
    return (
        f"{address.get('receiver_name') or ''} {mask_mobile(address.get('receiver_mobile'))} {place}".strip()
    )


def _tell_carrier(
    registry: CarrierRegistry, carrier_code: str, tracking_no: str | None, address: dict[str, str]
) -> tuple[str | None, str | None, str]:
    """Ask the carrier's adapter to deliver to the new address, if it can: (its answer, None,
    the carrier's name), else (None, why a person must phone, the carrier's name)."""
    try:
        adapter = registry.get(carrier_code)
    except KitError as exc:
        return None, exc.message, carrier_code
    name = adapter.name.zh if current_lang() == "zh" else adapter.name.en
    redirect = getattr(adapter, "redirect", None)
    if not callable(redirect) or not tracking_no:
        return None, t("exceptions.no_redirect", carrier=name), name
    party = Party(
        address["receiver_name"],
        address["receiver_mobile"],
        address["province"],
        address["city"],
        address["district"],
        address["address_detail"],
    )
    outcome: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            outcome.put((True, redirect(tracking_no, party)))
        except BaseException as exc:  # handed back below, as the reason a person must phone
            outcome.put((False, exc))

    # a daemon thread, as CarrierRegistry.call does: a carrier that hangs is abandoned
    threading.Thread(target=run, name=f"carrier-{carrier_code}-redirect", daemon=True).start()
    try:
        ok, value = outcome.get(timeout=registry.timeout)
    except queue.Empty:
        why = t("exceptions.redirect_timeout", seconds=registry.timeout)
        return None, t("exceptions.redirect_failed", carrier=name, reason=why), name
    if not ok:
        why = value.message if isinstance(value, KitError) else f"{type(value).__name__}: {value}"[:200]
        return None, t("exceptions.redirect_failed", carrier=name, reason=why), name
    return str(value or t("exceptions.redirect_done", carrier=name)), None, name


def _write_order(
    conn: sa.Connection,
    order: dict[str, Any],
    address: dict[str, str],
    actor: StaffMember,
    at: datetime,
    case_id: int,
) -> None:
    """The order's receiver becomes the corrected one (a reship is labelled with it), one audit
    row per field changed (the old value kept)."""
    changed = {f: v for f, v in address.items() if (order[f] or "") != v}
    if not changed:
        return
    o = schema.orders
    conn.execute(
        o.update()
        .where(o.c.order_no == order["order_no"], o.c.version == order["version"])
        .values(**changed, version=order["version"] + 1, updated_at=at)
    )
    why = t("exceptions.address_order_reason", case_id=case_id)
    for field, value in changed.items():
        shown = (
            (mask_mobile(order[field]), mask_mobile(value))
            if field == "receiver_mobile"
            else (order[field], value)
        )
        audit_one(conn, actor, at, "order", order["order_no"], "correct_address", field, *shown, why)


def correct_address(
    shop: Shop,
    case_id: int,
    address: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    notify: bool = True,
    registry: CarrierRegistry | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """S21: the buyer's right address (receiver_name, receiver_mobile, province, city, district,
    address_detail) for a wrong-address case, in one transaction: recorded beside the old one,
    written on the order, audited with the new address in the reason; the carrier told through
    its adapter's `redirect` when it has one (its answer kept), else a task for a person; the
    buyer told (S13). Returns the case."""
    actor = require(shop.actor, "read")
    clean = check_address(address)
    if registry is None:
        from kit import carriers

        registry = carriers.for_config(shop.config)
    moment = now or clock.now()
    with shop.store.write() as conn:
        rows = lock_case(conn, case_id)
        row = rows.row(0, named=True)
        o, sh = schema.orders, schema.shipments
        order = dict(conn.execute(sa.select(o).where(o.c.order_no == row["order_no"])).mappings().one())
        ship = dict(
            conn.execute(
                sa.select(sh.c.carrier_code, sh.c.tracking_no).where(sh.c.shipment_id == row["shipment_id"])
            )
            .mappings()
            .one()
        )
        before = {f: order[f] for f in ADDRESS_FIELDS}
        change = step(
            conn,
            rows,
            "correct_address",
            actor,
            moment,
            expected_version=expected_version,
            reason=t("exceptions.address_reason", address=_one_line(clean)),
        )
        answered, why, carrier = _tell_carrier(registry, ship["carrier_code"], ship["tracking_no"], clean)
        task = (
            None
            if answered
            else t(
                "exceptions.address_task",
                carrier=carrier,
                why=why,
                number=ship["tracking_no"] or "-",
                address=f"{clean['receiver_name']} {clean['receiver_mobile']} "
                f"{clean['province']}{clean['city']}{clean['district']}{clean['address_detail']}",
            )
        )
        ec = schema.exception_cases
        conn.execute(
            ec.update()
            .where(ec.c.case_id == int(case_id), ec.c.version == change.version)
            .values(
                address_before=json.dumps(before, ensure_ascii=False),
                address_after=json.dumps(clean, ensure_ascii=False),
                carrier_answer=answered,
                task=task,
            )
        )
        if answered:
            audit_one(conn, actor, moment, "exception", case_id, "redirect", None, None, None, answered)
        _write_order(conn, order, clean, actor, moment, int(case_id))
        notices = 0
        if notify:
            told = rows.select("order_no", "case_id").with_columns(pl.lit(_one_line(clean)).alias("_address"))
            notices = queue_notice(
                conn, actor, moment, told, "address", order_no="order_no", address="_address"
            )
        return as_dict(conn, case_id) | {"notices": notices}

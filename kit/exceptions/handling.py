"""The steps of a lost or damaged parcel's case and those every case shares (S21): the claim
with the carrier (amount, evidence), the carrier's answer (text, compensation), the reship as
a new parcel linked to the one it replaces, resolving or closing the case, and taking it over.

Each is one write transaction: the case is locked, the change goes through kit.lifecycle (role,
state, kind, version, audit row), and the case's own columns are written beside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput
from kit.exceptions.records import (
    as_dict,
    audit_one,
    check_live,
    check_version,
    lock_case,
    queue_notice,
    step,
    touch,
)
from kit.i18n import t
from kit.models import ExceptionKind
from kit.permissions import require
from kit.shipping.linked import send_again
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import read_by_keys

__all__ = ["answer", "claim", "close", "reship", "resolve", "take", "yuan"]


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals ("12.50")."""
    return f"{int(fen) / 100:.2f}"


def _fen(value: Any, name: str, *, positive: bool) -> int:
    """A whole number of fen, positive (or zero when allowed); BadInput naming the value."""
    try:
        fen = int(value)
    except (TypeError, ValueError):
        fen = None
    if fen is None or isinstance(value, bool) or fen != value or fen < (1 if positive else 0):
        raise BadInput(
            "exceptions.bad_amount",
            name=name,
            value=value,
            expected=t("exceptions.positive_fen" if positive else "exceptions.fen"),
        )
    return fen


def _text(value: str | None, name: str) -> str:
    """Stripped text that must not be empty; BadInput saying what to write."""
    text = (value or "").strip()
    if not text:
        raise BadInput("exceptions.text_needed", name=t(f"exceptions.field_{name}"))
    return text


def _step_one(
    shop: Shop,
    case_id: int,
    action: str,
    *,
    reason: str | None,
    values: dict[str, Any],
    expected_version: int | None,
    now: datetime | None,
) -> dict[str, Any]:
    """One step of one case in its own transaction (role, state, version, audit through
    kit.exceptions.records.step), writing `values` beside the state; returns the case."""
    actor = require(shop.actor, "read")
    moment = now or clock.now()
    with shop.store.write() as conn:
        rows = lock_case(conn, case_id)
        step(
            conn, rows, action, actor, moment, expected_version=expected_version, reason=reason, values=values
        )
        return as_dict(conn, case_id)


def claim(
    shop: Shop,
    case_id: int,
    *,
    amount_fen: int,
    evidence: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """S21: a claim filed with the carrier for a lost or damaged parcel: the amount (fen) and
    the evidence (photos, the courier's note: where they are kept). Returns the case."""
    require(shop.actor, "read")
    amount = _fen(amount_fen, "amount_fen", positive=True)
    proof = _text(evidence, "evidence")
    return _step_one(
        shop,
        case_id,
        "claim",
        reason=t("exceptions.claim_reason", amount=yuan(amount), evidence=proof),
        values={"claim_fen": amount, "evidence": proof},
        expected_version=expected_version,
        now=now,
    )


def answer(
    shop: Shop,
    case_id: int,
    *,
    text: str,
    compensation_fen: int = 0,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """S21: the carrier's answer to the claim, and what it pays (fen, zero when it refused).
    Returns the case."""
    require(shop.actor, "read")
    words = _text(text, "answer")
    paid = _fen(compensation_fen, "compensation_fen", positive=False)
    return _step_one(
        shop,
        case_id,
        "answer",
        reason=t("exceptions.answer_reason", text=words, compensation=yuan(paid)),
        values={"carrier_answer": words, "compensation_fen": paid},
        expected_version=expected_version,
        now=now,
    )


def _shipment(conn: sa.Connection, shipment_id: int) -> dict[str, Any]:
    """The parcel a case is about."""
    sh = schema.shipments
    return dict(conn.execute(sa.select(sh).where(sh.c.shipment_id == int(shipment_id))).mappings().one())


def shipment_lines(conn: sa.Connection, shipment_id: int) -> pl.DataFrame:
    """line_no, sku, quantity of a parcel."""
    return (
        read_by_keys(
            conn,
            schema.shipment_lines,
            ["shipment_id", "line_no", "sku", "quantity"],
            "shipment_id",
            [int(shipment_id)],
        )
        .sort("line_no")
        .select("line_no", "sku", "quantity")
    )


def _warehouse(conn: sa.Connection, code: str) -> str:
    """A warehouse code the shop has; BadInput naming those it has."""
    known = (
        conn.execute(sa.select(schema.warehouses.c.code).order_by(schema.warehouses.c.code)).scalars().all()
    )
    if code not in known:
        raise BadInput("exceptions.unknown_warehouse", warehouse=code, known="、".join(known))
    return code


def reship(
    shop: Shop,
    case_id: int,
    *,
    warehouse: str | None = None,
    carrier: str | None = None,
    expected_version: int | None = None,
    notify: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """S21: send the parcel again: a new allocated parcel of the same order with the same lines
    (from the same warehouse and carrier unless given), its stock reserved, linked to the one
    it replaces; the case resolved with resolution reship and `new_shipment_id`; the buyer told
    (S13). From there the new parcel is picked, packed and handed over like any other."""
    actor = require(shop.actor, "read")
    code = None
    if carrier:
        from kit import carriers

        code = carriers.for_config(shop.config).get(carrier).code
    moment = now or clock.now()
    with shop.store.write() as conn:
        rows = lock_case(conn, case_id)
        row = rows.row(0, named=True)
        ship = _shipment(conn, row["shipment_id"])
        house = _warehouse(conn, warehouse.strip()) if warehouse else ship["warehouse_code"]
        why = t(
            "exceptions.reship_reason",
            case_id=case_id,
            shipment_id=row["shipment_id"],
            kind=t(f"exception_kind.{row['kind']}"),
        )
        change = step(
            conn,
            rows,
            "reship",
            actor,
            moment,
            expected_version=expected_version,
            reason=why,
            values={"resolution": "reship"},
        )
        new_id = send_again(
            conn,
            actor,
            order_no=row["order_no"],
            lines=shipment_lines(conn, row["shipment_id"]),
            warehouse_code=house,
            carrier_code=code or ship["carrier_code"],
            ship_method=ship["ship_method"],
            at=moment,
            reason=why,
            replaces=int(row["shipment_id"]),
        )
        ec = schema.exception_cases
        conn.execute(
            ec.update()
            .where(ec.c.case_id == int(case_id), ec.c.version == change.version)
            .values(new_shipment_id=new_id)
        )
        notices = 0
        if notify:
            notices = queue_notice(
                conn, actor, moment, rows.select("order_no", "case_id"), "reship", order_no="order_no"
            )
        return as_dict(conn, case_id) | {"notices": notices}


def resolve(
    shop: Shop,
    case_id: int,
    *,
    note: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The case is settled without a reship or refund: a corrected address delivered at last
    (resolution delivered), or a claim answered and nothing more to do (settled); the note
    goes into the audit row. Returns the case."""
    actor = require(shop.actor, "read")
    moment = now or clock.now()
    with shop.store.write() as conn:
        rows = lock_case(conn, case_id)
        kind = rows["kind"][0]
        outcome = "delivered" if kind == str(ExceptionKind.WRONG_ADDRESS) else "settled"
        step(
            conn,
            rows,
            "resolve",
            actor,
            moment,
            expected_version=expected_version,
            reason=(note or "").strip() or None,
            values={"resolution": outcome},
        )
        return as_dict(conn, case_id)


def close(
    shop: Shop,
    case_id: int,
    reason: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Close a live case without a resolution (a false alarm, the buyer withdrew …); the
    reason is required, kept as the resolution and in the audit row. Returns the case."""
    why = (reason or "").strip() or None  # the lifecycle refuses a close without a reason
    return _step_one(
        shop,
        case_id,
        "close_case",
        reason=why,
        values={"resolution": why},
        expected_version=expected_version,
        now=now,
    )


def take(
    shop: Shop,
    case_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The acting person takes the case over (becomes its owner), version guarded and audited:
    of two people taking one case from the same version, the second gets Conflict. Returns
    the case."""
    actor = require(shop.actor, "handle_exception")
    moment = now or clock.now()
    with shop.store.write() as conn:
        rows = lock_case(conn, case_id)
        row = rows.row(0, named=True)
        check_version(conn, row, expected_version)
        check_live(row, "take")
        if row["owner"] != actor.name:
            touch(conn, row, {"owner": actor.name}, moment)
            audit_one(conn, actor, moment, "exception", case_id, "take", "owner", row["owner"], actor.name)
        return as_dict(conn, case_id)

"""Reading the delivery exception cases (S21): the list staff work from, each case with its
parcel, who holds it and how old it is, and one case with its audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.errors import BadInput, NotFound
from kit.exceptions.records import LIVE, as_dict
from kit.i18n import current_lang, t
from kit.models import ExceptionKind, ExceptionState
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import read_frame

__all__ = ["CASE_COLUMNS", "case", "cases"]

CASE_COLUMNS: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "kind": pl.String(),  # lost, damaged, wrong_address, refused
    "kind_label": pl.String(),  # in the staff's language
    "state": pl.String(),  # kit.models.ExceptionState
    "state_label": pl.String(),
    "order_no": pl.String(),
    "shipment_id": pl.Int64(),
    "carrier_code": pl.String(),
    "tracking_no": pl.String(),
    "owner": pl.String(),  # who holds the case (null: nobody yet)
    "opened_by": pl.String(),
    "opened_at": pl.Datetime("us"),
    "age_hours": pl.Float64(),  # now − opened_at, one decimal
    "updated_at": pl.Datetime("us"),
    "closed_at": pl.Datetime("us"),
    "description": pl.String(),
    "claim_fen": pl.Int64(),
    "compensation_fen": pl.Int64(),
    "carrier_answer": pl.String(),
    "resolution": pl.String(),
    "new_shipment_id": pl.Int64(),
    "after_sale_id": pl.Int64(),
    "task": pl.String(),  # what a person must still do
    "version": pl.Int64(),
}
_KINDS = tuple(str(k) for k in ExceptionKind)
_STATES = tuple(str(s) for s in ExceptionState)


def _check(value: str | None, known: tuple[str, ...], name: str) -> None:
    """BadInput naming the values there are."""
    if value is not None and value not in known:
        raise BadInput("exceptions.bad_filter", name=name, value=value, expected="、".join(known))


def cases(
    shop: Shop,
    *,
    state: str | None = None,
    kind: str | None = None,
    owner: str | None = None,
    open_only: bool = False,
    now: datetime | None = None,
) -> pl.DataFrame:
    """The cases (CASE_COLUMNS), oldest first, of one state, kind or owner if given, only the
    live ones (not resolved or closed) with open_only."""
    require(shop.actor, "read")
    _check(state, _STATES, "state")
    _check(kind, _KINDS, "kind")
    ec, sh = schema.exception_cases, schema.shipments
    stmt = sa.select(
        *(ec.c[c] for c in CASE_COLUMNS if c in ec.c and c not in ("tracking_no",)),
        sh.c.carrier_code,
        sh.c.tracking_no,
    ).select_from(ec.join(sh, ec.c.shipment_id == sh.c.shipment_id))
    if state:
        stmt = stmt.where(ec.c.state == state)
    if kind:
        stmt = stmt.where(ec.c.kind == kind)
    if owner:
        stmt = stmt.where(ec.c.owner == owner)
    if open_only:
        stmt = stmt.where(ec.c.state.in_(LIVE))
    with shop.store.read() as conn:
        frame = read_frame(conn, stmt.order_by(ec.c.opened_at, ec.c.case_id))
    moment = now or clock.now()
    lang = current_lang()
    kinds = {k: t(f"exception_kind.{k}", lang=lang) for k in _KINDS}
    states = {s: t(f"exception_state.{s}", lang=lang) for s in _STATES}
    out = frame.with_columns(
        pl.col("kind").replace_strict(kinds, default=pl.col("kind")).alias("kind_label"),
        pl.col("state").replace_strict(states, default=pl.col("state")).alias("state_label"),
        ((pl.lit(moment, pl.Datetime("us")) - pl.col("opened_at")).dt.total_seconds() / 3600)
        .round(1)
        .alias("age_hours"),
    )
    return out.select(list(CASE_COLUMNS)).cast(CASE_COLUMNS)  # type: ignore[arg-type]


def case(shop: Shop, case_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """One case: its columns, addresses as dicts, labels, its parcel's carrier and number, age,
    and its audit trail (at, actor, role, action, field, from_state, to_state, reason)."""
    require(shop.actor, "read")
    a, sh = schema.audit, schema.shipments
    with shop.store.read() as conn:
        ec = schema.exception_cases
        if conn.execute(sa.select(ec.c.case_id).where(ec.c.case_id == int(case_id))).first() is None:
            raise NotFound("exceptions.not_found", case_id=case_id)
        row = as_dict(conn, case_id)
        ship = (
            conn.execute(
                sa.select(sh.c.carrier_code, sh.c.tracking_no, sh.c.tracking_status).where(
                    sh.c.shipment_id == row["shipment_id"]
                )
            )
            .mappings()
            .one()
        )
        trail = read_frame(
            conn,
            sa.select(
                a.c.at, a.c.actor, a.c.role, a.c.action, a.c.field, a.c.from_state, a.c.to_state, a.c.reason
            )
            .where(a.c.entity == "exception", a.c.entity_id == str(case_id))
            .order_by(a.c.audit_id),
        )
    moment = now or clock.now()
    return (
        row
        | dict(ship)
        | {
            "age_hours": round((moment - row["opened_at"]).total_seconds() / 3600, 1),
            "audit": trail.to_dicts(),
        }
    )

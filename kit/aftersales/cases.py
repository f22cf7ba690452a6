"""After-sale cases from the buyer's request to the end (S2, S3, S24d): open, agree, refund,
refuse, reopen, close, and take a case over.

Each Shop-level function is one write transaction: the acting person's role is checked, the
order and the case are locked (kit.aftersales.records), every state change goes through
kit.lifecycle (states, kind guards, audit), and the buyer's notice is queued (S13) unless
`notify=False`. Each returns the case after the change as a dict (every column of after_sales:
case_id, refund_status, version, …) with what else happened.

`open_in` and `refund_in` do the same work inside a caller's transaction (kit.exceptions opens
and refunds a case while resolving a delivery problem) and queue no notice.

A refund that leaves nothing paid on an order whose trade is still open closes the trade
(order transition `close`): before the order shipped that also cancels its fulfilment —
shipments cancelled, reservations released, stock back (kit.lifecycle.followups). A partial
refund before shipment is a compensation: the order goes on shipping.
"""

from __future__ import annotations

import math
from datetime import datetime
from numbers import Real
from typing import Any

import polars as pl
import sqlalchemy as sa

from kit import clock
from kit.aftersales.limits import (
    RETURNING,
    check_amount,
    check_lines,
    check_new_skus,
    check_refund_id,
    check_shipment,
    line_frame,
    paid_fen,
    refunded_fen,
    yuan,
)
from kit.aftersales.notices import queue_step, return_address
from kit.aftersales.records import audit_fields, case_dict, check_version, lock_case, lock_order, write_case
from kit.errors import BadInput
from kit.i18n import t
from kit.lifecycle import apply, check_role, transition
from kit.lifecycle.table import OPEN_TRADE
from kit.models import AfterSaleKind, AfterSaleReason, RefundStatus, StaffMember
from kit.permissions import require
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import insert_frame, read_by_keys

__all__ = [
    "agree",
    "close",
    "open_case",
    "open_in",
    "refund",
    "refund_in",
    "refuse",
    "reopen",
    "take",
]


def _kind(kind: Any) -> str:
    """The kind's code; BadInput listing the kinds."""
    if str(kind) not in {str(k) for k in AfterSaleKind}:
        raise BadInput(
            "aftersales.bad_kind", kind=kind, expected="、".join(f"{k}（{k.label}）" for k in AfterSaleKind)
        )
    return str(kind)


def _reason(reason: Any) -> str:
    """The reason's code; BadInput listing the reasons."""
    if str(reason) not in {str(r) for r in AfterSaleReason}:
        raise BadInput(
            "aftersales.bad_reason",
            reason=reason,
            expected="、".join(f"{r}（{r.label}）" for r in AfterSaleReason),
        )
    return str(reason)


def _amount(amount_fen: Any) -> int:
    """A whole, non-negative number of fen (numpy's numbers too); BadInput otherwise."""
    whole = isinstance(amount_fen, Real) and math.isfinite(amount_fen) and amount_fen == int(amount_fen)
    if isinstance(amount_fen, bool) or not whole:
        raise BadInput("aftersales.bad_amount", value=amount_fen)
    if amount_fen < 0:
        raise BadInput("aftersales.negative_amount", amount=yuan(int(amount_fen)))
    return int(amount_fen)


def open_in(
    conn: sa.Connection,
    actor: StaffMember,
    at: datetime,
    *,
    order_no: str,
    kind: str,
    reason: str,
    amount_fen: int = 0,
    lines: Any = None,
    shipment_id: int | None = None,
    refund_id: str | None = None,
    exception_id: int | None = None,
    note: str | None = None,
) -> int:
    """Open a case in the caller's transaction (WAIT_SELLER_AGREE, owned by the opener, audited
    as `open`); refused when the order is unknown, the amount is over what is still refundable,
    or a return, exchange or repair names no lines or units never shipped. Its case_id."""
    require(actor, "open_after_sale")
    kind, reason, amount = _kind(kind), _reason(reason), _amount(amount_fen)
    order_no = str(order_no).strip()
    order = lock_order(conn, order_no)
    wanted = line_frame(lines, order_no)
    if kind in RETURNING and wanted.height == 0:
        raise BadInput("aftersales.lines_required", order_no=order_no, kind=t(f"after_sale_kind.{kind}"))
    check_new_skus(conn, kind, wanted)
    check_shipment(conn, order_no, shipment_id)
    refund_id = str(refund_id).strip() if refund_id else None
    check_refund_id(conn, refund_id)
    check_amount(conn, order, amount)
    rows = check_lines(conn, order_no, kind, wanted)
    case_id = int(
        conn.execute(
            schema.after_sales.insert()
            .values(
                order_no=order_no,
                kind=kind,
                refund_status=str(RefundStatus.WAIT_SELLER_AGREE),
                reason=reason,
                amount_fen=amount,
                created_at=at,
                version=0,
                updated_at=at,
                shipment_id=shipment_id,
                refund_id=refund_id,
                owner=actor.name,
                created_by=actor.name,
                exception_id=exception_id,
                note=(note or "").strip() or None,
            )
            .returning(schema.after_sales.c.case_id)
        ).scalar_one()
    )
    if rows.height:
        insert_frame(
            conn, schema.after_sale_lines, rows.select(pl.lit(case_id, pl.Int64).alias("case_id"), pl.all())
        )
    audit_fields(
        conn,
        actor,
        at,
        case_id,
        "open",
        [("refund_status", None, str(RefundStatus.WAIT_SELLER_AGREE))],
        reason,
    )
    return case_id


def open_case(
    shop: Shop,
    order_no: str,
    kind: str,
    reason: str,
    *,
    amount_fen: int = 0,
    lines: Any = None,
    shipment_id: int | None = None,
    refund_id: str | None = None,
    note: str | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Register the buyer's request (S2, S3, S24d) as a case awaiting the seller; the case, and
    the notices queued."""
    actor = require(shop.actor, "open_after_sale")
    at = clock.now()
    with shop.store.write() as conn:
        case_id = open_in(
            conn,
            actor,
            at,
            order_no=order_no,
            kind=kind,
            reason=reason,
            amount_fen=amount_fen,
            lines=lines,
            shipment_id=shipment_id,
            refund_id=refund_id,
            note=note,
        )
        case = case_dict(conn, case_id)
        notices = queue_step(conn, actor, at, case, "opened") if notify else 0
    return {**case, "notices": notices}


def _refund(
    conn: sa.Connection,
    actor: StaffMember,
    at: datetime,
    case_id: int,
    amount_fen: Any,
    expected_version: int | None,
) -> dict[str, Any]:
    """The refund in the caller's transaction: the case → SUCCESS, its amount set (never above
    what is refundable), the trade closed when nothing paid is left."""
    order, case = lock_case(conn, case_id)
    check_version(conn, case, expected_version)
    apply(conn, "after_sale", int(case_id), "refund", actor, now=at)  # role, state and kind first
    amount = int(case["amount_fen"]) if amount_fen is None else _amount(amount_fen)
    if amount <= 0:
        raise BadInput("aftersales.nothing_to_refund", case_id=case_id)
    check_amount(conn, order, amount, exclude=int(case_id))
    # written with the refund's own version (the case is locked): one change, one version
    write_case(
        conn,
        actor,
        at,
        int(case_id),
        "refund",
        {"amount_fen": amount, "closed_at": at},
        audited=("amount_fen",),
        bump=False,
    )
    refunded, paid = refunded_fen(conn, order["order_no"]), paid_fen(order)
    closed = refunded >= paid and order["trade_status"] in OPEN_TRADE
    if closed:
        apply(
            conn,
            "order",
            order["order_no"],
            "close",
            actor,
            now=at,
            reason=t("aftersales.order_closed_reason", case_id=case_id, amount=yuan(refunded)),
        )
    return case_dict(conn, int(case_id), order_closed=closed, refunded_fen=refunded, paid_fen=paid)


def refund_in(
    conn: sa.Connection, actor: StaffMember, at: datetime, case_id: int, *, amount_fen: int | None = None
) -> dict[str, Any]:
    """Refund a refund or return case in the caller's transaction (see `refund`); the case with
    order_closed, refunded_fen and paid_fen."""
    return _refund(conn, actor, at, case_id, amount_fen, None)


def _decider(shop: Shop, action: str) -> StaffMember:
    """The acting person, when their role may take this case transition."""
    actor = require(shop.actor, "read")
    check_role(actor, transition("after_sale", action).roles, t(f"action.{action}"))
    return actor


def refund(
    shop: Shop,
    case_id: int,
    *,
    amount_fen: int | None = None,
    expected_version: int | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Refund a refund case (awaiting the seller) or a return case (goods received): SUCCESS with
    the amount (it may be lowered, never above what is refundable); the trade closes when
    refunds reach everything paid. The case, order_closed, refunded_fen, paid_fen, notices."""
    actor = _decider(shop, "refund")
    at = clock.now()
    with shop.store.write() as conn:
        case = _refund(conn, actor, at, case_id, amount_fen, expected_version)
        notices = (
            queue_step(conn, actor, at, case, "refunded", amount=yuan(case["amount_fen"])) if notify else 0
        )
    return {**case, "notices": notices}


def agree(
    shop: Shop, case_id: int, *, expected_version: int | None = None, notify: bool = True
) -> dict[str, Any]:
    """The seller agrees: a refund case is refunded at once (SUCCESS); a return, exchange or repair
    case waits for the goods (WAIT_BUYER_RETURN_GOODS) and the buyer is told where to send them."""
    actor = _decider(shop, "agree_return")
    at = clock.now()
    with shop.store.write() as conn:
        _, case = lock_case(conn, case_id)
        if case["kind"] == str(AfterSaleKind.REFUND):
            check_role(actor, transition("after_sale", "refund").roles, t("action.refund"))
            result = _refund(conn, actor, at, case_id, None, expected_version)
            step, params = "refunded", {"amount": yuan(result["amount_fen"])}
        else:
            check_version(conn, case, expected_version)
            apply(conn, "after_sale", int(case_id), "agree_return", actor, now=at)
            result = case_dict(conn, int(case_id), order_closed=False)
            step, params = "agreed", return_address(shop.config)
        notices = queue_step(conn, actor, at, result, step, **params) if notify else 0
    return {**result, "notices": notices}


def _move(
    shop: Shop,
    case_id: int,
    action: str,
    step: str,
    *,
    reason: str | None,
    expected_version: int | None,
    notify: bool,
) -> dict[str, Any]:
    """One plain case transition (refuse, close_case) with its notice."""
    actor = _decider(shop, action)
    at = clock.now()
    with shop.store.write() as conn:
        _, case = lock_case(conn, case_id)
        check_version(conn, case, expected_version)
        apply(conn, "after_sale", int(case_id), action, actor, reason=reason, now=at)
        result = case_dict(conn, int(case_id))
        notices = queue_step(conn, actor, at, result, step, reason=(reason or "").strip()) if notify else 0
    return {**result, "notices": notices}


def refuse(
    shop: Shop, case_id: int, reason: str, *, expected_version: int | None = None, notify: bool = True
) -> dict[str, Any]:
    """The seller refuses the request, with the reason (SELLER_REFUSE_BUYER); the buyer is told why."""
    return _move(
        shop, case_id, "refuse", "refused", reason=reason, expected_version=expected_version, notify=notify
    )


def close(
    shop: Shop, case_id: int, reason: str, *, expected_version: int | None = None, notify: bool = True
) -> dict[str, Any]:
    """Close a case without a refund (the buyer withdrew, the platform closed it), with the reason
    (action close_case → CLOSED, closed_at stamped); what it claimed is free again."""
    return _move(
        shop, case_id, "close_case", "closed", reason=reason, expected_version=expected_version, notify=notify
    )


def reopen(
    shop: Shop, case_id: int, *, expected_version: int | None = None, notify: bool = True
) -> dict[str, Any]:
    """A refused case is taken up again (WAIT_SELLER_AGREE), when its amount and units are still
    free (another case may have claimed them meanwhile)."""
    actor = _decider(shop, "reopen")
    at = clock.now()
    with shop.store.write() as conn:
        order, case = lock_case(conn, case_id)
        check_version(conn, case, expected_version)
        apply(conn, "after_sale", int(case_id), "reopen", actor, now=at)
        check_amount(conn, order, int(case["amount_fen"]), exclude=int(case_id))
        lines = read_by_keys(
            conn, schema.after_sale_lines, ["line_no", "quantity", "new_sku"], "case_id", [int(case_id)]
        )
        check_lines(
            conn,
            case["order_no"],
            case["kind"],
            lines.with_columns(pl.col("line_no").cast(pl.Int64)),
            exclude=int(case_id),
        )
        result = case_dict(conn, int(case_id))
        notices = queue_step(conn, actor, at, result, "reopened") if notify else 0
    return {**result, "notices": notices}


def take(shop: Shop, case_id: int, *, expected_version: int | None = None) -> dict[str, Any]:
    """The acting person takes the case over (owner), audited; Conflict when it changed since
    `expected_version` was read (another clerk took or moved it first)."""
    actor = _decider(shop, "refuse")
    at = clock.now()
    with shop.store.write() as conn:
        _, case = lock_case(conn, case_id)
        check_version(conn, case, expected_version)
        if case["owner"] != actor.name:
            write_case(conn, actor, at, int(case_id), "take_case", {"owner": actor.name}, audited=("owner",))
        return case_dict(conn, int(case_id), taken=case["owner"] != actor.name)

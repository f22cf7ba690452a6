"""The transition table: every allowed change of an order, a shipment or an after-sale case,
with who may make it, the guards it must pass and what else it writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kit.errors import BadInput
from kit.lifecycle.guards import (
    PAID_OR_COD_CONFIRMED,
    TRADE_STILL_SHIPPABLE,
    Effect,
    Guard,
    add_hold_reason,
    clear_hold_reasons,
    kind_in,
    stamp,
)
from kit.models import (
    AfterSaleKind,
    ExceptionKind,
    ExceptionState,
    RefundStatus,
    Role,
    ShipmentStage,
    Stage,
    TradeStatus,
)


@dataclass(frozen=True)
class Transition:
    """One allowed change: entity.field goes from one of `sources` to `target`."""

    entity: str
    action: str
    field: str
    sources: frozenset[str]
    target: str
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    needs_reason: bool = False
    also: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # field → {from: to}
    effects: tuple[Effect, ...] = ()


P, A, W, L, S, SYS = (Role.PRESALE, Role.AFTERSALE, Role.WAREHOUSE, Role.LOGISTICS,
                      Role.SUPERVISOR, Role.SYSTEM)
ST, TS, SS, RS, XS = Stage, TradeStatus, ShipmentStage, RefundStatus, ExceptionState
AK, XK = AfterSaleKind, ExceptionKind
RETURNING_KINDS = kind_in(AK.RETURN, AK.EXCHANGE, AK.REPAIR, labels="after_sale_kind")
MONEY_KINDS = kind_in(AK.REFUND, AK.RETURN, labels="after_sale_kind")
GOODS_KINDS = kind_in(AK.EXCHANGE, AK.REPAIR, labels="after_sale_kind")
OPEN_CASE = {XS.OPEN, XS.CLAIMED, XS.ANSWERED, XS.ADDRESS_CORRECTED, XS.RETURN_EXPECTED}
PRE_SHIPMENT = {ST.NEW, ST.HELD, ST.APPROVED, ST.BACKORDERED, ST.ALLOCATED, ST.PICKING, ST.PACKED}
OPEN_TRADE = {TS.WAIT_BUYER_PAY, TS.PAID_FORBID_CONSIGN, TS.WAIT_SELLER_SEND_GOODS,
              TS.SELLER_CONSIGNED_PART, TS.WAIT_BUYER_CONFIRM_GOODS, TS.TRADE_BUYER_SIGNED}


def _t(entity: str, action: str, fld: str, sources: set, target: str, roles: set, **kw: Any) -> Transition:
    return Transition(entity, action, fld, frozenset(str(s) for s in sources), str(target),
                      frozenset(roles), **kw)


TRANSITIONS: tuple[Transition, ...] = (
    # order fulfilment stage (the shop's own work)
    _t("order", "approve", "stage", {ST.NEW, ST.HELD}, ST.APPROVED, {P, S, SYS},
       guards=(PAID_OR_COD_CONFIRMED,), effects=(clear_hold_reasons,)),
    _t("order", "hold", "stage", {ST.NEW, ST.APPROVED}, ST.HELD, {P, A, S, SYS},
       needs_reason=True, effects=(add_hold_reason,)),
    _t("order", "allocate", "stage", {ST.APPROVED, ST.BACKORDERED}, ST.ALLOCATED, {A, W, S, SYS},
       guards=(TRADE_STILL_SHIPPABLE,)),
    _t("order", "backorder", "stage", {ST.APPROVED, ST.PICKING}, ST.BACKORDERED, {W, S, SYS},
       needs_reason=True),
    _t("order", "deallocate", "stage", {ST.ALLOCATED}, ST.APPROVED, {W, S, SYS}),
    _t("order", "start_picking", "stage", {ST.ALLOCATED}, ST.PICKING, {W, L, S},
       guards=(TRADE_STILL_SHIPPABLE,)),
    _t("order", "pack", "stage", {ST.PICKING}, ST.PACKED, {W, L, A, S},
       guards=(TRADE_STILL_SHIPPABLE,)),
    _t("order", "hand_over", "stage", {ST.PACKED}, ST.HANDED_OVER, {L, W, S},
       guards=(TRADE_STILL_SHIPPABLE,)),
    _t("order", "confirm", "stage", {ST.HANDED_OVER}, ST.CONFIRMED, {P, L, S, SYS},
       also={"trade_status": {str(TS.WAIT_SELLER_SEND_GOODS): str(TS.WAIT_BUYER_CONFIRM_GOODS),
                              str(TS.SELLER_CONSIGNED_PART): str(TS.WAIT_BUYER_CONFIRM_GOODS)}}),
    _t("order", "cancel", "stage", PRE_SHIPMENT, ST.CANCELLED, {P, A, S, SYS}, needs_reason=True),
    # order trade status (the platform's view; mostly synchronised, sometimes set by staff)
    _t("order", "pay", "trade_status", {TS.WAIT_BUYER_PAY}, TS.WAIT_SELLER_SEND_GOODS, {S, SYS}),
    _t("order", "pay_forbid_consign", "trade_status", {TS.WAIT_BUYER_PAY},
       TS.PAID_FORBID_CONSIGN, {S, SYS}),
    _t("order", "allow_consign", "trade_status", {TS.PAID_FORBID_CONSIGN},
       TS.WAIT_SELLER_SEND_GOODS, {S, SYS}),
    _t("order", "consign_part", "trade_status", {TS.WAIT_SELLER_SEND_GOODS},
       TS.SELLER_CONSIGNED_PART, {P, L, S, SYS}),
    _t("order", "consign", "trade_status", {TS.WAIT_SELLER_SEND_GOODS, TS.SELLER_CONSIGNED_PART},
       TS.WAIT_BUYER_CONFIRM_GOODS, {P, L, S, SYS}),
    _t("order", "buyer_sign", "trade_status", {TS.WAIT_BUYER_CONFIRM_GOODS},
       TS.TRADE_BUYER_SIGNED, {A, L, S, SYS}),
    _t("order", "finish", "trade_status", {TS.WAIT_BUYER_CONFIRM_GOODS, TS.TRADE_BUYER_SIGNED},
       TS.TRADE_FINISHED, {A, S, SYS}),
    _t("order", "close", "trade_status", OPEN_TRADE, TS.TRADE_CLOSED, {A, S, SYS},
       needs_reason=True, also={"stage": {str(s): str(ST.CANCELLED) for s in PRE_SHIPMENT}}),
    _t("order", "close_by_platform", "trade_status", {TS.WAIT_BUYER_PAY},
       TS.TRADE_CLOSED_BY_TAOBAO, {SYS}, also={"stage": {str(s): str(ST.CANCELLED) for s in PRE_SHIPMENT}}),
    # shipment stage
    _t("shipment", "start_picking", "stage", {SS.ALLOCATED}, SS.PICKING, {W, L, S}),
    _t("shipment", "pack", "stage", {SS.PICKING}, SS.PACKED, {W, L, A, S}),
    _t("shipment", "hand_over", "stage", {SS.PACKED}, SS.HANDED_OVER, {L, W, S},
       effects=(stamp("handed_over_at"),)),
    _t("shipment", "confirm", "stage", {SS.HANDED_OVER}, SS.CONFIRMED, {P, L, S, SYS},
       effects=(stamp("confirmed_at"),)),
    # presale staff cancel an order before it ships (S3), and with it its shipments
    _t("shipment", "cancel", "stage", {SS.ALLOCATED, SS.PICKING, SS.PACKED}, SS.CANCELLED,
       {P, W, L, A, S, SYS}, needs_reason=True),
    # after-sale case (Taobao's refund codes; kit.aftersales). Refund only: agreed → refunded.
    # Return, exchange, repair: agreed → the buyer sends the goods back → received and checked →
    # refunded (return) or completed when the replacement or repaired item ships (exchange, repair).
    _t("after_sale", "agree_return", "refund_status", {RS.WAIT_SELLER_AGREE},
       RS.WAIT_BUYER_RETURN_GOODS, {A, S, SYS}, guards=(RETURNING_KINDS,)),
    _t("after_sale", "goods_returned", "refund_status", {RS.WAIT_BUYER_RETURN_GOODS},
       RS.WAIT_SELLER_CONFIRM_GOODS, {A, W, S, SYS}),
    _t("after_sale", "refund", "refund_status",
       {RS.WAIT_SELLER_AGREE, RS.WAIT_SELLER_CONFIRM_GOODS}, RS.SUCCESS, {A, S, SYS},
       guards=(MONEY_KINDS,)),
    _t("after_sale", "complete", "refund_status", {RS.WAIT_SELLER_CONFIRM_GOODS}, RS.SUCCESS,
       {A, W, S, SYS}, guards=(GOODS_KINDS,)),
    _t("after_sale", "refuse", "refund_status",
       {RS.WAIT_SELLER_AGREE, RS.WAIT_SELLER_CONFIRM_GOODS}, RS.SELLER_REFUSE_BUYER, {A, S, SYS},
       needs_reason=True),
    _t("after_sale", "reopen", "refund_status", {RS.SELLER_REFUSE_BUYER}, RS.WAIT_SELLER_AGREE,
       {A, S, SYS}),
    _t("after_sale", "close_case", "refund_status",
       {RS.WAIT_SELLER_AGREE, RS.WAIT_BUYER_RETURN_GOODS, RS.WAIT_SELLER_CONFIRM_GOODS,
        RS.SELLER_REFUSE_BUYER}, RS.CLOSED, {A, S, SYS}, needs_reason=True, effects=(stamp("closed_at"),)),
    # delivery exception case (S21; kit.exceptions): lost or damaged → claim → the carrier's
    # answer → reship or refund; wrong address → corrected → delivered (or reshipped); refused →
    # the parcel comes back → restocked (or refunded)
    _t("exception", "claim", "state", {XS.OPEN}, XS.CLAIMED, {A, L, S},
       guards=(kind_in(XK.LOST, XK.DAMAGED, labels="exception_kind"),)),
    _t("exception", "answer", "state", {XS.CLAIMED}, XS.ANSWERED, {A, L, S}),
    _t("exception", "reship", "state", {XS.OPEN, XS.CLAIMED, XS.ANSWERED, XS.ADDRESS_CORRECTED},
       XS.RESOLVED, {A, L, S},
       guards=(kind_in(XK.LOST, XK.DAMAGED, XK.WRONG_ADDRESS, labels="exception_kind"),),
       effects=(stamp("closed_at"),)),
    _t("exception", "refund", "state", {XS.OPEN, XS.CLAIMED, XS.ANSWERED, XS.RETURN_EXPECTED},
       XS.RESOLVED, {A, S}, effects=(stamp("closed_at"),)),
    _t("exception", "correct_address", "state", {XS.OPEN}, XS.ADDRESS_CORRECTED, {P, A, L, S},
       guards=(kind_in(XK.WRONG_ADDRESS, labels="exception_kind"),)),
    _t("exception", "resolve", "state", {XS.ADDRESS_CORRECTED, XS.ANSWERED}, XS.RESOLVED, {A, L, S, SYS},
       effects=(stamp("closed_at"),)),
    _t("exception", "receive_return", "state", {XS.RETURN_EXPECTED}, XS.RESOLVED, {A, W, S},
       guards=(kind_in(XK.REFUSED, labels="exception_kind"),), effects=(stamp("closed_at"),)),
    _t("exception", "close_case", "state", OPEN_CASE, XS.CLOSED, {A, L, S}, needs_reason=True,
       effects=(stamp("closed_at"),)),
)

_BY_KEY: dict[tuple[str, str], Transition] = {(t.entity, t.action): t for t in TRANSITIONS}


def transition(entity: str, action: str) -> Transition:
    """The transition named `action` of `entity`; BadInput when there is none."""
    try:
        return _BY_KEY[(entity, action)]
    except KeyError:
        known = ", ".join(a for (e, a) in _BY_KEY if e == entity)
        raise BadInput("lifecycle.unknown_action", entity=entity, action=action, known=known) from None


def transitions_for(entity: str, state: str, role: Role | None = None) -> list[Transition]:
    """The changes possible from `state` (for `role`, if given): what a UI may offer."""
    return [
        tr for tr in TRANSITIONS
        if tr.entity == entity and state in tr.sources and (role is None or role in tr.roles)
    ]

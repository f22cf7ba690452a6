"""Single records as small typed objects; bulk data moves as polars frames instead.

Money is kept in fen (分, integer hundredths of a yuan) so sums are exact; `yuan()`
gives a Decimal for display. Times are the shop's local wall-clock time (see kit.clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from kit.models.states import (
    AfterSaleKind,
    PaymentMethod,
    RefundStatus,
    Role,
    ShipmentStage,
    ShipMethod,
    Stage,
    TrackingStatus,
    TradeStatus,
    WarehouseKind,
)


def yuan(fen: int | None) -> Decimal | None:
    """An amount in fen as a Decimal of yuan with two places."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


class _Record:
    """Construction from a database row or a dict, ignoring columns a record does not hold."""

    __slots__ = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build the record from a mapping whose keys are column names."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in row.items() if k in names})


@dataclass(frozen=True, slots=True)
class Address(_Record):
    """A receiver's address, split as Chinese addresses are written."""

    province: str
    city: str
    district: str
    detail: str
    postcode: str | None = None

    def one_line(self) -> str:
        """The address as printed on a waybill: province city district detail."""
        return " ".join(p for p in (self.province, self.city, self.district, self.detail) if p)


@dataclass(frozen=True, slots=True)
class Payment(_Record):
    """How and how much the buyer pays; amounts in fen."""

    method: PaymentMethod
    total_fen: int
    discount_fen: int = 0
    post_fee_fen: int = 0
    payable_fen: int = 0
    paid_fen: int = 0

    @property
    def fully_paid(self) -> bool:
        """True when the paid amount covers the payable amount (S16)."""
        return self.paid_fen >= self.payable_fen


@dataclass(frozen=True, slots=True)
class OrderLine(_Record):
    """One line (子订单) of an order."""

    order_no: str
    line_no: int
    sku: str
    title: str
    quantity: int
    price_fen: int
    amount_fen: int
    spec: str | None = None
    sub_order_no: str | None = None
    discount_fen: int = 0
    is_gift_item: bool = False


@dataclass(frozen=True, slots=True)
class Order:
    """A platform trade with its fulfilment stage, as one record."""

    order_no: str
    platform: str
    shop: str
    buyer_nick: str
    receiver_name: str
    receiver_mobile: str | None
    address: Address
    payment: Payment
    trade_status: TradeStatus
    stage: Stage
    created_at: datetime
    paid_at: datetime | None = None
    receiver_phone: str | None = None
    buyer_message: str | None = None
    seller_memo: str | None = None
    hold_reasons: tuple[str, ...] = ()
    phone_confirmed: bool = False
    no_price_slip: bool = False
    carrier_code: str | None = None
    ship_by: datetime | None = None
    version: int = 0
    lines: tuple[OrderLine, ...] = field(default_factory=tuple)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], lines: tuple[OrderLine, ...] = ()) -> Order:
        """Build an order from an `orders` row (and its lines)."""
        reasons = row.get("hold_reasons") or ""
        return cls(
            order_no=row["order_no"],
            platform=row["platform"],
            shop=row["shop"],
            buyer_nick=row["buyer_nick"],
            receiver_name=row["receiver_name"],
            receiver_mobile=row["receiver_mobile"],
            receiver_phone=row.get("receiver_phone"),
            address=Address(
                row["province"], row["city"], row["district"],
                row["address_detail"], row.get("postcode"),
            ),
            payment=Payment(
                method=PaymentMethod(row["payment_method"]),
                total_fen=row["total_fen"],
                discount_fen=row["discount_fen"],
                post_fee_fen=row["post_fee_fen"],
                payable_fen=row["payable_fen"],
                paid_fen=row["paid_fen"],
            ),
            trade_status=TradeStatus(row["trade_status"]),
            stage=Stage(row["stage"]),
            created_at=row["created_at"],
            paid_at=row.get("paid_at"),
            buyer_message=row.get("buyer_message"),
            seller_memo=row.get("seller_memo"),
            hold_reasons=tuple(r for r in reasons.split("\n") if r),
            phone_confirmed=bool(row.get("phone_confirmed")),
            no_price_slip=bool(row.get("no_price_slip")),
            carrier_code=row.get("carrier_code"),
            ship_by=row.get("ship_by"),
            version=row.get("version", 0),
            lines=lines,
        )


@dataclass(frozen=True, slots=True)
class Parcel(_Record):
    """One box of a shipment, with its own tracking number when the carrier gives one."""

    shipment_id: int
    parcel_no: int
    tracking_no: str | None = None
    weight_g: int | None = None


@dataclass(frozen=True, slots=True)
class ShipmentLine(_Record):
    """How much of an order line travels in a shipment."""

    shipment_id: int
    order_no: str
    line_no: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shipment(_Record):
    """A consignment: one or more parcels of one order from one warehouse by one carrier."""

    shipment_id: int
    order_no: str
    warehouse_code: str
    carrier_code: str
    stage: ShipmentStage
    tracking_status: TrackingStatus = TrackingStatus.PENDING
    ship_method: ShipMethod = ShipMethod.ONLINE_BOOKING
    tracking_no: str | None = None
    expected_weight_g: int | None = None
    weight_g: int | None = None
    created_at: datetime | None = None
    handed_over_at: datetime | None = None
    confirmed_at: datetime | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class Warehouse(_Record):
    """Headquarters, a store or a supplier, with the provinces it serves best (S17)."""

    code: str
    name: str
    kind: WarehouseKind
    province: str
    city: str = ""
    serves: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StockLevel(_Record):
    """Stock of one SKU in one warehouse; available = on hand − reserved."""

    warehouse_code: str
    sku: str
    on_hand: int
    reserved: int = 0

    @property
    def available(self) -> int:
        """What can still be promised to an order."""
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class TrackingEvent(_Record):
    """One scan or status reported by a carrier for a tracking number."""

    carrier_code: str
    tracking_no: str
    at: datetime
    status: TrackingStatus
    description: str
    location: str | None = None


@dataclass(frozen=True, slots=True)
class AfterSale(_Record):
    """An after-sale case: refund, return, exchange or repair, with Taobao's refund status."""

    case_id: int
    order_no: str
    kind: AfterSaleKind
    refund_status: RefundStatus
    reason: str
    amount_fen: int = 0
    created_at: datetime | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class StaffMember(_Record):
    """A person who acts in the kit, with the one role that decides what they may do."""

    name: str
    role: Role
    display_name: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class AuditEntry(_Record):
    """One audited change: who, in which role, when, on what, from which state to which."""

    audit_id: int
    at: datetime
    actor: str
    role: str
    entity: str
    entity_id: str
    action: str
    field: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    batch_id: int | None = None

"""Every state and kind the kit knows, as string enums whose values are stored as-is."""

from __future__ import annotations

import re
from enum import StrEnum

from kit.i18n import t


class _Labelled(StrEnum):
    """A string enum whose members have a label in the message catalogue."""

    @property
    def label(self) -> str:
        """The member's name for staff, in the current language."""
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        return t(f"{prefix}.{self.value}")


class TradeStatus(_Labelled):
    """The platform's trade status (Taobao's codes, which every Chinese ERP maps to)."""

    WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
    PAID_FORBID_CONSIGN = "PAID_FORBID_CONSIGN"
    WAIT_SELLER_SEND_GOODS = "WAIT_SELLER_SEND_GOODS"
    SELLER_CONSIGNED_PART = "SELLER_CONSIGNED_PART"
    WAIT_BUYER_CONFIRM_GOODS = "WAIT_BUYER_CONFIRM_GOODS"
    TRADE_BUYER_SIGNED = "TRADE_BUYER_SIGNED"
    TRADE_FINISHED = "TRADE_FINISHED"
    TRADE_CLOSED = "TRADE_CLOSED"
    TRADE_CLOSED_BY_TAOBAO = "TRADE_CLOSED_BY_TAOBAO"


class Stage(_Labelled):
    """The shop's own fulfilment stage of an order (S8 hand-over and S9 confirmation apart)."""

    NEW = "new"
    HELD = "held"
    APPROVED = "approved"
    BACKORDERED = "backordered"
    ALLOCATED = "allocated"
    PICKING = "picking"
    PACKED = "packed"
    HANDED_OVER = "handed_over"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class ShipmentStage(_Labelled):
    """The stage of one shipment (consignment) from one warehouse."""

    ALLOCATED = "allocated"
    PICKING = "picking"
    PACKED = "packed"
    HANDED_OVER = "handed_over"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class TrackingStatus(_Labelled):
    """The normalized tracking status of a shipment, whatever the carrier calls it."""

    PENDING = "pending"
    AWAITING_PICKUP = "awaiting_pickup"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    REFUSED = "refused"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNING = "returning"
    RETURNED = "returned"
    # A carrier's status text the kit cannot map (kit.tracking keeps the text in the event's
    # description and counts it); stored on events only, never as a shipment's status.
    UNKNOWN = "unknown"


class RefundStatus(_Labelled):
    """Taobao's refund codes, used for every after-sale case."""

    WAIT_SELLER_AGREE = "WAIT_SELLER_AGREE"
    WAIT_BUYER_RETURN_GOODS = "WAIT_BUYER_RETURN_GOODS"
    WAIT_SELLER_CONFIRM_GOODS = "WAIT_SELLER_CONFIRM_GOODS"
    SUCCESS = "SUCCESS"
    SELLER_REFUSE_BUYER = "SELLER_REFUSE_BUYER"
    CLOSED = "CLOSED"


class Role(_Labelled):
    """What a staff member may do; `system` is the kit's own jobs (import, platform sync)."""

    PRESALE = "presale"
    AFTERSALE = "aftersale"
    WAREHOUSE = "warehouse"
    LOGISTICS = "logistics"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMIN = "admin"
    SYSTEM = "system"


HUMAN_ROLES = frozenset(r for r in Role if r is not Role.SYSTEM)


class WarehouseKind(_Labelled):
    """Headquarters, a physical store, or a contracted drop-ship supplier (S17)."""

    HQ = "hq"
    STORE = "store"
    SUPPLIER = "supplier"


class PaymentMethod(_Labelled):
    """Online payment, or cash on delivery (S16)."""

    ONLINE = "online"
    COD = "cod"


class ShipMethod(_Labelled):
    """The four ways a seller ships on the platform (S26b)."""

    TIME_LIMITED = "time_limited"
    ONLINE_BOOKING = "online_booking"
    SELF_ARRANGED = "self_arranged"
    NO_LOGISTICS = "no_logistics"


class AfterSaleKind(_Labelled):
    """Refund only, return and refund, exchange, repair (S24d)."""

    REFUND = "refund"
    RETURN = "return"
    EXCHANGE = "exchange"
    REPAIR = "repair"


class AfterSaleReason(_Labelled):
    """Why the buyer asks (S2, S3, S21, S24d)."""

    LATE_SHIPMENT = "late_shipment"  # S2: the seller did not ship in time
    QUALITY = "quality"
    WRONG_ITEM = "wrong_item"
    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"
    REFUSED_DELIVERY = "refused_delivery"  # S3: the buyer refused the parcel
    LOST = "lost"  # S21: the carrier lost the parcel
    CHANGED_MIND = "changed_mind"  # 七天无理由


class ExceptionKind(_Labelled):
    """A delivery problem that needs a person (S21)."""

    LOST = "lost"
    DAMAGED = "damaged"
    WRONG_ADDRESS = "wrong_address"
    REFUSED = "refused"


class ExceptionState(_Labelled):
    """Where a delivery exception case stands (kit.lifecycle's table has its changes)."""

    OPEN = "open"
    CLAIMED = "claimed"  # a claim is filed with the carrier (lost, damaged)
    ANSWERED = "answered"  # the carrier answered the claim
    ADDRESS_CORRECTED = "address_corrected"  # the buyer's right address is recorded (wrong address)
    RETURN_EXPECTED = "return_expected"  # the parcel is coming back (refused)
    RESOLVED = "resolved"  # reshipped, refunded, delivered at last, or restocked
    CLOSED = "closed"  # closed without a resolution, with the reason

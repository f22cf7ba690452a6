"""What carrier adapters take and return: small frozen records, the same for every carrier.

Money is in fen (integer 分, so CNY with two decimals is exact); weights in grams;
lengths in millimetres; event times are zone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from kit.models import TrackingStatus

CAPABILITIES = ("validate", "quote", "book", "label", "track", "cancel")
LABEL_SIZES = {"76x130": (76, 130), "100x150": (100, 150), "100x180": (100, 180)}
METHODS = {  # capability -> the adapter method it promises
    "validate": "validate_tracking_number", "quote": "quote", "book": "book", "label": "label",
    "track": "track", "cancel": "cancel",
}


@dataclass(frozen=True)
class Names:
    """A carrier's name in Chinese and English."""

    zh: str
    en: str


@dataclass(frozen=True)
class Verdict:
    """Whether a tracking number fits a carrier, the number as normalised, and why."""

    valid: bool
    carrier_code: str
    number: str
    reason: str  # a sentence for staff (catalogue text)


@dataclass(frozen=True)
class Pattern:
    """One tracking-number format of a carrier, with examples that must pass and fail."""

    carrier_code: str
    name: str  # e.g. "YT + 13 digits"
    regex: str  # matched against the whole normalised number
    valid: tuple[str, ...]
    invalid: tuple[str, ...]
    weight: float = 1.0  # how telling a match is (a distinctive prefix > bare digits)
    check: str | None = None  # a check-digit rule, e.g. "upu_s10"


@dataclass(frozen=True)
class Candidate:
    """A carrier a tracking number may belong to, ranked by score (0..1), with the reason."""

    carrier_code: str
    score: float
    pattern: str
    reason: str


@dataclass(frozen=True)
class QuoteRequest:
    """What a quote needs: weight, size, where from, where to, which service."""

    weight_g: int
    destination_province: str
    origin_province: str = "浙江省"
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    service: str = "standard"


@dataclass(frozen=True)
class Quote:
    """A price in fen for one parcel, the weight charged, the zone and the days it takes."""

    carrier_code: str
    service: str
    price_fen: int
    chargeable_weight_g: int
    zone: str
    days: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def price_yuan(self) -> str:
        """The price as CNY with two decimals, e.g. '12.50' (a refund-like negative: '-0.50')."""
        sign, fen = ("-" if self.price_fen < 0 else ""), abs(self.price_fen)
        return f"{sign}{fen // 100}.{fen % 100:02d}"


@dataclass(frozen=True)
class Party:
    """A sender or receiver on a waybill."""

    name: str
    mobile: str | None
    province: str
    city: str
    district: str
    detail: str
    postcode: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class BookingRequest:
    """A shipment to book with a carrier (在线下单)."""

    shipment_id: int
    order_no: str
    sender: Party
    receiver: Party
    parcels: tuple[int, ...]  # weight of each parcel in grams
    service: str = "standard"
    cod_fen: int = 0  # cash to collect on delivery
    insured_fen: int = 0
    note: str | None = None


@dataclass(frozen=True)
class Booking:
    """What booking returned: one tracking number per parcel, and data for the label."""

    carrier_code: str
    tracking_numbers: tuple[str, ...]
    label_data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackEvent:
    """One scan of a parcel, normalised: zone-aware time, status from the kit's set."""

    carrier_code: str
    tracking_no: str
    at: datetime
    status: TrackingStatus
    description: str
    location: str | None = None


@dataclass(frozen=True)
class CancelResult:
    """Whether a booking is cancelled (already cancelled counts as done), else why not."""

    done: bool
    reason: str | None = None


@runtime_checkable
class Carrier(Protocol):
    """What an adapter is: a code, names, capabilities, and the methods those promise."""

    code: str
    name: Names
    capabilities: frozenset[str]

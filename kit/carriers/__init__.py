"""Carriers as pluggy plugins: built-in Chinese carriers, installed third-party adapters, rate
tables and tracking-number patterns, all found through one registry.

    >>> from kit import carriers
    >>> registry = carriers.load()
    >>> registry.get("yto").name.zh
    '圆通速递'
"""

from kit.carriers.hookspecs import hookimpl, hookspec
from kit.carriers.manager import DEFAULT_PLUGINS, CarrierRegistry, CarrierUnavailable, for_config, load
from kit.carriers.types import (
    CAPABILITIES,
    Booking,
    BookingRequest,
    CancelResult,
    Candidate,
    Carrier,
    Names,
    Party,
    Pattern,
    Quote,
    QuoteRequest,
    TrackEvent,
    Verdict,
)

__all__ = [
    "CAPABILITIES",
    "DEFAULT_PLUGINS",
    "Booking",
    "BookingRequest",
    "CancelResult",
    "Candidate",
    "Carrier",
    "CarrierRegistry",
    "CarrierUnavailable",
    "Names",
    "Party",
    "Pattern",
    "Quote",
    "QuoteRequest",
    "TrackEvent",
    "Verdict",
    "for_config",
    "hookimpl",
    "hookspec",
    "load",
]

"""Example Express (示例快递): a Fahuo Kit carrier plugin that talks HTTP JSON to its carrier's API.

Installed, it is found through the entry point `example = "kit_carrier_example"` in the group
`kit.carriers`. Its settings come from kit.toml:

    [carriers.example]
    api_url = "https://api.example-express.invalid/"
    api_key = "…"

Without them the carrier still validates tracking numbers (no API needed); with them it also
quotes, books, prints labels, tracks and cancels.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from fpdf import FPDF

from kit.carriers import (
    CAPABILITIES,
    Booking,
    BookingRequest,
    CancelResult,
    Names,
    Pattern,
    Quote,
    QuoteRequest,
    TrackEvent,
    Verdict,
    hookimpl,
)
from kit.carriers.types import LABEL_SIZES
from kit.i18n import current_lang
from kit.models import TrackingStatus

__all__ = ["PATTERN", "ExampleAPIError", "ExampleCarrier", "register_carriers", "tracking_patterns"]

log = logging.getLogger(__name__)

CODE = "example"
BEIJING = timezone(timedelta(hours=8), "CST")  # the API gives Beijing time without an offset
PATTERN = Pattern(
    carrier_code=CODE, name="EX + 10 digits", regex=r"EX\d{10}",
    valid=("EX0123456789", "EX2024000001"),
    invalid=("EX12345", "EY0123456789", "EX01234567890", "0123456789"),
    weight=0.9)  # a distinctive prefix: a match says a lot
STATUSES = {  # the API's scan codes -> the kit's normalized tracking status
    "CREATED": TrackingStatus.PENDING, "ASSIGNED": TrackingStatus.AWAITING_PICKUP,
    "PICKUP": TrackingStatus.PICKED_UP, "DEPART": TrackingStatus.IN_TRANSIT,
    "ARRIVE": TrackingStatus.IN_TRANSIT, "DELIVERING": TrackingStatus.OUT_FOR_DELIVERY,
    "SIGNED": TrackingStatus.DELIVERED, "FAILED": TrackingStatus.DELIVERY_FAILED,
    "REJECTED": TrackingStatus.REFUSED, "LOST": TrackingStatus.LOST, "DAMAGED": TrackingStatus.DAMAGED,
    "RETURNING": TrackingStatus.RETURNING, "RETURNED": TrackingStatus.RETURNED,
}
TEXTS = {  # staff read these: a plugin brings its own sentences in both of the kit's languages
    "valid": {"zh": "{number} 符合示例快递的运单号格式（EX 加 10 位数字）。",
              "en": "{number} fits Example Express numbers (EX and 10 digits)."},
    "invalid": {"zh": "{number} 不是示例快递的运单号：应为 EX 加 10 位数字。",
                "en": "{number} is not an Example Express number: expected EX and 10 digits."},
    "picked_up": {"zh": "运单 {number} 已被快递员揽收，不能再取消；请联系示例快递拦截。",
                  "en": "{number} has been picked up and can no longer be cancelled; ask Example "
                        "Express to intercept it."},
    "unknown": {"zh": "示例快递没有运单 {number}。", "en": "Example Express has no waybill {number}."},
}


def text(key: str, **params: Any) -> str:
    """One of the plugin's sentences in the staff's language."""
    return TEXTS[key][current_lang()].format(**params)


def masked(mobile: str | None) -> str:
    """A mobile number fit for a log line: 139****9000."""
    return f"{mobile[:3]}****{mobile[-4:]}" if mobile and len(mobile) >= 7 else "-"


class ExampleAPIError(RuntimeError):
    """Example Express's API refused a request or could not be reached (never shows the key)."""


class ExampleCarrier:
    """The adapter: one object for the carrier code `example`."""

    code = CODE
    name = Names(zh="示例快递", en="Example Express")
    label_sizes = ("100x150", "100x180")  # what its thermal printers take; checked by the kit

    def __init__(self, api_url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 5.0, transport: httpx.BaseTransport | None = None) -> None:
        # Capabilities follow the settings: without the API only validation works.
        configured = bool(api_url and api_key)
        self.capabilities = frozenset(CAPABILITIES if configured else ("validate",))
        # The HTTP timeout stays below the kit's carriers.timeout_seconds, so a slow API ends
        # in this adapter's own error rather than in a call the kit stops waiting for.
        self._client = httpx.Client(base_url=api_url, headers={"X-Api-Key": api_key}, timeout=timeout,
                                    transport=transport) if configured else None

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> ExampleCarrier:
        """The adapter for kit.toml's [carriers.example] table (api_url, api_key)."""
        return cls(settings.get("api_url"), settings.get("api_key"))

    def __repr__(self) -> str:  # the kit may log an adapter: never with its key
        url = self._client.base_url if self._client else None
        return f"ExampleCarrier(api_url={str(url)!r}, capabilities={sorted(self.capabilities)})"

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._client is None:
            raise ExampleAPIError("Example Express is not configured: "
                                  "set [carriers.example] api_url and api_key")
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ExampleAPIError(f"Example Express API unreachable: {type(exc).__name__}") from None
        if response.status_code == 401:
            raise ExampleAPIError("Example Express refused the API key (HTTP 401): check [carriers.example]")
        if response.status_code >= 500 or response.status_code == 400:
            raise ExampleAPIError(f"Example Express answered HTTP {response.status_code}: "
                                  f"{response.json().get('error', '')}")
        return response

    # --- the methods of the capabilities ---------------------------------------------------

    def validate_tracking_number(self, number: str) -> Verdict:
        """Whether a number is an Example Express number: EX and 10 digits."""
        normal = "".join(number.split()).replace("-", "").upper()
        valid = re.fullmatch(PATTERN.regex, normal) is not None
        return Verdict(valid, CODE, normal, text("valid" if valid else "invalid", number=normal))

    def quote(self, request: QuoteRequest) -> Quote:
        """The carrier's price for one parcel, from its API."""
        data = self._call("POST", "v1/quote", json={
            "weight_g": request.weight_g, "length_mm": request.length_mm, "width_mm": request.width_mm,
            "height_mm": request.height_mm, "from_province": request.origin_province,
            "to_province": request.destination_province, "service": request.service}).json()
        return Quote(CODE, request.service, int(data["price_fen"]), int(data["chargeable_weight_g"]),
                     str(data["zone"]), days=data.get("days"))

    def book(self, request: BookingRequest, idempotency_key: str) -> Booking:
        """Book a pickup (在线下单); the API answers a repeated Idempotency-Key with the same waybills."""
        log.debug("booking order %s for %s* %s", request.order_no, request.receiver.name[:1],
                  masked(request.receiver.mobile))
        parties = {role: {"name": p.name, "mobile": p.mobile, "phone": p.phone, "province": p.province,
                          "city": p.city, "district": p.district, "detail": p.detail}
                   for role, p in (("sender", request.sender), ("receiver", request.receiver))}
        data = self._call("POST", "v1/waybills", headers={"Idempotency-Key": idempotency_key}, json={
            "order_no": request.order_no, **parties, "parcels": list(request.parcels),
            "service": request.service, "cod_fen": request.cod_fen}).json()
        return Booking(CODE, tuple(data["waybills"]), label_data={
            "sort_code": data["sort_code"], "order_no": request.order_no,
            "weights_g": list(request.parcels)})

    def label(self, shipment: Booking, size: str) -> bytes:
        """A PDF with one page of the given size (e.g. '100x150') per parcel of the booking."""
        width, height = LABEL_SIZES[size]
        pdf = FPDF(unit="mm", format=(width, height))
        pdf.set_auto_page_break(False)
        pdf.set_margins(5, 5, 5)
        # Core fonts cover ASCII only; a real label adds a CJK TrueType font (pdf.add_font)
        # to print the addresses.
        count = len(shipment.tracking_numbers)
        for i, number in enumerate(shipment.tracking_numbers, start=1):
            pdf.add_page()
            pdf.set_font("Helvetica", "B", 14)
            pdf.cell(0, 8, "EXAMPLE EXPRESS", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "B", 28)
            pdf.cell(0, 14, str(shipment.label_data.get("sort_code", "")), new_x="LMARGIN", new_y="NEXT")
            pdf.code39(f"*{number}*", x=5, y=32, w=0.25, h=18)
            pdf.set_xy(5, 52)
            pdf.set_font("Helvetica", "", 12)
            pdf.cell(0, 7, number, new_x="LMARGIN", new_y="NEXT")
            pdf.cell(0, 7, f"Parcel {i}/{count}  Order {shipment.label_data.get('order_no', '')}")
        return bytes(pdf.output())

    def track(self, numbers: Iterable[str]) -> list[TrackEvent]:
        """The scans of the numbers, oldest first per number, in Beijing time."""
        wanted = list(numbers)
        data = self._call("GET", "v1/traces", params={"waybills": ",".join(wanted)}).json()
        events = []
        for trace in data["traces"]:
            status = STATUSES.get(trace["code"])
            if status is None:
                log.warning("unknown Example Express scan code %s; taken as in transit", trace["code"])
            at = datetime.strptime(trace["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
            events.append(TrackEvent(CODE, trace["waybill"], at, status or TrackingStatus.IN_TRANSIT,
                                     trace["desc"], trace.get("city")))
        return sorted(events, key=lambda e: (wanted.index(e.tracking_no), e.at))

    def cancel(self, tracking_number: str) -> CancelResult:
        """Cancel a booking; cancelling again is done too; after pick-up it says why not."""
        response = self._call("POST", f"v1/waybills/{tracking_number}/cancel")
        if response.status_code == 409:
            return CancelResult(False, text("picked_up", number=tracking_number))
        if response.status_code == 404:
            return CancelResult(False, text("unknown", number=tracking_number))
        return CancelResult(bool(response.json().get("cancelled")))


# --- the hooks: what makes this module a Fahuo Kit plugin ------------------------------------

@hookimpl
def register_carriers(register: Callable[[Any], None], settings: dict[str, dict[str, str]]) -> None:
    """Register Example Express, configured from [carriers.example] when present."""
    register(ExampleCarrier.from_settings(settings.get(CODE, {})))


@hookimpl
def tracking_patterns(register: Callable[[Any], None]) -> None:
    """Example Express numbers: EX and 10 digits."""
    register(PATTERN)

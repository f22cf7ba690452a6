"""The nine built-in express carriers (YTO, the default; SF, ZTO, STO, Yunda, JD, EMS, J&T,
Deppon) as one adapter class driven by data.

Offline, each checks tracking numbers against kit/carriers/data/patterns.toml, gives the
carrier's public query page for a number, and builds label data for the documents module.
With `api_url` (and usually `api_key`) in kit.toml's [carriers.CODE] table, the adapter also
tracks, books and cancels through the kit's generic carrier gateway. Real carrier APIs differ
from one another; a small gateway service (or a third-party plugin) translates to this shape.

The gateway shape: JSON over HTTP POST, UTF-8. `api_url` is the base address; `api_key` is
sent as `Authorization: Bearer KEY`, never in the URL (so never in a log line).

    POST {api_url}track
        {"carrier": "yto", "numbers": ["YT6552380417836"]}
     -> {"ok": true, "events": [{"number": "YT6552380417836",
                                 "time": "2025-03-01T09:30:00+08:00",
                                 "status": "in_transit", "description": "已到达杭州转运中心",
                                 "location": "杭州"}]}
    POST {api_url}book             header Idempotency-Key: KEY
        {"carrier": "yto", "idempotency_key": KEY, "order_no": "...", "service": "standard",
         "sender": PARTY, "receiver": PARTY, "parcels": [{"weight_g": 800}],
         "cod_fen": 0, "insured_fen": 0, "note": null}
     -> {"ok": true, "tracking_numbers": ["YT..."], "sort_code": "300-A12"}
    POST {api_url}cancel
        {"carrier": "yto", "tracking_number": "YT..."}
     -> {"ok": true}  or  {"ok": false, "code": "already_cancelled"}  (both: done)
        or {"ok": false, "code": "picked_up", "message": "..."}  (not done, and why)

PARTY is kit.carriers.types.Party as an object (name, mobile, province, city, district,
detail, postcode, phone). `status` is one of kit.models.TrackingStatus's values or a synonym
in STATUS_SYNONYMS; anything else is read as in_transit and logged. `time` is ISO 8601; a time
without an offset is China time (+08:00). A non-2xx answer, a body not of this shape, or
{"ok": false, "code": ..., "message": ...} from track or book raises CarrierUnavailable.
The gateway must treat Idempotency-Key as the booking's identity (same key, same numbers);
the adapter also remembers its own bookings, so a repeat in this process never calls out.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from kit.carriers.hookspecs import hookimpl
from kit.carriers.manager import CarrierUnavailable
from kit.carriers.numbers import accepts, builtin_patterns, normalise, validate
from kit.carriers.types import (
    Booking,
    BookingRequest,
    CancelResult,
    Names,
    Party,
    Pattern,
    TrackEvent,
    Verdict,
)
from kit.errors import BadInput
from kit.i18n import t
from kit.models import TrackingStatus

log = logging.getLogger(__name__)

CHINA = timezone(timedelta(hours=8), "CST")
DEFAULT_TIMEOUT = 10.0
API_CAPABILITIES = frozenset({"track", "book", "cancel"})


@dataclasses.dataclass(frozen=True)
class ExpressSpec:
    """What makes one express carrier: code, names, public query page, whether it has an API."""

    code: str
    name: Names
    url_template: str  # {number} is replaced by the URL-quoted normalised number
    has_api: bool = True


# The public query pages are the carriers' own sites as commonly linked; carriers move them,
# so kit.toml's [carriers.CODE] tracking_url overrides the template.
SPECS: tuple[ExpressSpec, ...] = (
    ExpressSpec("yto", Names("圆通速递", "YTO Express"),
                "https://www.yto.net.cn/query.html?waybillNo={number}"),
    ExpressSpec("sf", Names("顺丰速运", "SF Express"),
                "https://www.sf-express.com/chn/sc/waybill/waybill-detail/{number}"),
    ExpressSpec("zto", Names("中通快递", "ZTO Express"),
                "https://www.zto.com/express/expressCheck.html?txtBill={number}"),
    ExpressSpec("sto", Names("申通快递", "STO Express"),
                "https://www.sto.cn/query.html?billCode={number}"),
    ExpressSpec("yunda", Names("韵达快递", "Yunda Express"),
                "https://www.yundaex.com/cn/track/index?number={number}"),
    ExpressSpec("jd", Names("京东物流", "JD Logistics"),
                "https://www.jdl.com/orderSearch/?waybillCodes={number}"),
    ExpressSpec("ems", Names("中国邮政 EMS", "China Post EMS"),
                "https://www.ems.com.cn/queryList?mailNum={number}"),
    ExpressSpec("jt", Names("极兔速递", "J&T Express"),
                "https://www.jtexpress.com.cn/trajectoryQuery?waybillNo={number}"),
    ExpressSpec("deppon", Names("德邦快递", "Deppon Express"),
                "https://www.deppon.com/track/ordertrack?orderNumList={number}"),
)
NAMES: dict[str, Names] = {spec.code: spec.name for spec in SPECS}

_S = TrackingStatus
STATUS_SYNONYMS: dict[str, TrackingStatus] = {
    "created": _S.AWAITING_PICKUP, "ordered": _S.AWAITING_PICKUP, "待揽收": _S.AWAITING_PICKUP,
    "collected": _S.PICKED_UP, "accepted": _S.PICKED_UP, "揽收": _S.PICKED_UP, "已揽收": _S.PICKED_UP,
    "transit": _S.IN_TRANSIT, "运输中": _S.IN_TRANSIT, "在途": _S.IN_TRANSIT,
    "delivering": _S.OUT_FOR_DELIVERY, "派件": _S.OUT_FOR_DELIVERY, "派送中": _S.OUT_FOR_DELIVERY,
    "signed": _S.DELIVERED, "签收": _S.DELIVERED, "已签收": _S.DELIVERED,
    "failed": _S.DELIVERY_FAILED, "exception": _S.DELIVERY_FAILED, "问题件": _S.DELIVERY_FAILED,
    "疑难": _S.DELIVERY_FAILED, "rejected": _S.REFUSED, "拒收": _S.REFUSED,
    "lost": _S.LOST, "丢失": _S.LOST, "丢件": _S.LOST, "damaged": _S.DAMAGED, "破损": _S.DAMAGED,
    "return": _S.RETURNING, "退回": _S.RETURNING, "退回中": _S.RETURNING, "已退回": _S.RETURNED,
}
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_mobile(text: str) -> str:
    """Text with every mainland mobile number shown as 138****5678."""
    return _MOBILE.sub(r"\1****\2", text)


def party_lines(party: Party, masked: bool = False) -> list[str]:
    """A sender or receiver as label lines: name and phone, region, street address."""
    phone = party.mobile or party.phone or ""
    if masked:
        phone = mask_mobile(phone)
    region = " ".join(x for x in (party.province, party.city, party.district) if x)
    detail = " ".join(x for x in (party.detail, party.postcode) if x)
    return [" ".join(x for x in (party.name, phone) if x), region, detail]


def read_status(value: Any, code: str) -> TrackingStatus:
    """A gateway status as the kit's TrackingStatus; an unknown one is in_transit, and logged."""
    key = str(value).strip().lower()
    try:
        return TrackingStatus(key)
    except ValueError:
        pass
    status = STATUS_SYNONYMS.get(key)
    if status is None:
        log.warning("carrier %s: unknown tracking status %r read as in_transit", code, mask_mobile(key)[:40])
        return TrackingStatus.IN_TRANSIT
    return status


def _seconds(value: Any, code: str) -> float:
    """A per-carrier HTTP timeout from kit.toml; a missing or bad one is the default, logged."""
    try:
        seconds = float(value) if value not in (None, "") else DEFAULT_TIMEOUT
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 600:
        log.warning("carrier %s: timeout_seconds %r is not 0-600 s; using %s", code, value, DEFAULT_TIMEOUT)
        return DEFAULT_TIMEOUT
    return seconds


def read_time(value: Any) -> datetime:
    """An ISO 8601 time from the gateway, zone-aware (no offset given: China time)."""
    at = datetime.fromisoformat(str(value).strip())
    return at if at.tzinfo is not None else at.replace(tzinfo=CHINA)


class ExpressCarrier:
    """One express carrier: number checks, tracking URL and label data; API calls when configured."""

    def __init__(self, spec: ExpressSpec, patterns: Iterable[Pattern],
                 settings: Mapping[str, str] | None = None) -> None:
        self.spec = spec
        self.code = spec.code
        self.name = spec.name
        self.all_patterns = tuple(patterns)
        self.patterns = tuple(p for p in self.all_patterns if p.carrier_code == spec.code)
        settings = dict(settings or {})
        self._url_template = settings.get("tracking_url") or spec.url_template
        self._api_url = (settings.get("api_url") or "").strip()
        self._api_key = settings.get("api_key") or ""
        self._timeout = _seconds(settings.get("timeout_seconds"), self.code)
        self.problem: str | None = None  # why a configured API stays off
        if self._api_url and not self._api_url.lower().startswith(("http://", "https://")):
            self.problem = t("carrier_numbers.api_bad_url", code=self.code)
        elif self._api_url and not self._api_key.isascii():
            self.problem = t("carrier_numbers.api_bad_key", code=self.code)
        if self.problem:
            log.warning("carrier %s: bad api_url or api_key in kit.toml; the API stays off", self.code)
            self._api_url = ""
        if self._api_url and not self._api_url.endswith("/"):
            self._api_url += "/"
        api = bool(self._api_url) and spec.has_api
        self.capabilities = frozenset({"validate"} | (API_CAPABILITIES if api else set()))
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._booked: dict[str, Booking] = {}
        self._cancelled: set[str] = set()

    def __repr__(self) -> str:
        return f"ExpressCarrier({self.code!r}, capabilities={sorted(self.capabilities)})"

    # --- offline ---------------------------------------------------------------------------

    def validate_tracking_number(self, number: str) -> Verdict:
        """Whether a number fits this carrier's formats, normalised, with the reason."""
        return validate(number, self.code, self.all_patterns, NAMES)

    def accepts(self, number: str) -> bool:
        """A quick yes for a number already in printed form that fits this carrier (no reason
        built); False: ask validate_tracking_number why."""
        return accepts(number, self.code, self.patterns)

    def tracking_url(self, number: str) -> str:
        """The carrier's public query page for a number."""
        n = normalise(number)
        if not n:
            raise BadInput("carrier_numbers.empty")
        return self._url_template.replace("{number}", quote(n, safe=""))

    def label_data(self, request: BookingRequest, tracking_number: str, *, sort_code: str | None = None,
                   parcel_index: int = 0, masked: bool = False) -> dict[str, Any]:
        """What a waybill label shows for one parcel: carrier, service, number, sort code, parties."""
        verdict = self.validate_tracking_number(tracking_number)
        if not verdict.valid:
            raise BadInput("carrier_numbers.label_bad_number", number=verdict.number, reason=verdict.reason)
        count = max(len(request.parcels), 1)
        if not 0 <= parcel_index < count:
            raise BadInput("carrier_numbers.label_bad_parcel", index=parcel_index + 1, count=count)
        return {
            "carrier_code": self.code, "carrier_name_zh": self.name.zh, "carrier_name_en": self.name.en,
            "service": request.service, "tracking_number": verdict.number, "barcode": verdict.number,
            "sort_code": sort_code, "order_no": request.order_no,
            "parcel": f"{parcel_index + 1}/{count}",
            "weight_g": request.parcels[parcel_index] if request.parcels else None,
            "cod_fen": request.cod_fen, "insured_fen": request.insured_fen, "note": request.note,
            "sender_lines": party_lines(request.sender, masked),
            "receiver_lines": party_lines(request.receiver, masked),
        }

    # --- through the gateway ---------------------------------------------------------------

    def track(self, numbers: Iterable[str]) -> list[TrackEvent]:
        """The scans of the given numbers, normalised, zone-aware and sorted by time."""
        self._require_api("track")
        wanted = list(dict.fromkeys(n for n in (normalise(x) for x in numbers) if n))
        if not wanted:
            return []
        reply = self._post("track", {"carrier": self.code, "numbers": wanted})
        rows = reply.get("events")
        if not isinstance(rows, list):
            raise self._bad_reply("events is not a list")
        events = set()
        for row in rows:
            try:
                number = normalise(row["number"])
                event = TrackEvent(self.code, number, read_time(row["time"]),
                                   read_status(row["status"], self.code),
                                   str(row.get("description") or ""), row.get("location") or None)
            except (KeyError, TypeError, ValueError) as exc:
                raise self._bad_reply(f"event {type(exc).__name__}") from None
            if number in wanted:
                events.add(event)
        log.info("carrier %s: %d tracking event(s) for %d number(s)", self.code, len(events), len(wanted))
        return sorted(events, key=lambda e: (e.at, wanted.index(e.tracking_no), e.description))

    def book(self, request: BookingRequest, idempotency_key: str) -> Booking:
        """Book the parcels (在线下单); the same key always returns the same tracking numbers."""
        self._require_api("book")
        key = str(idempotency_key or "").strip()
        if not key:
            raise BadInput("carrier_numbers.no_idempotency_key")
        with self._key_lock(key):
            if key in self._booked:
                return self._booked[key]
            payload = {"carrier": self.code, "idempotency_key": key, "order_no": request.order_no,
                       "service": request.service, "sender": dataclasses.asdict(request.sender),
                       "receiver": dataclasses.asdict(request.receiver),
                       "parcels": [{"weight_g": w} for w in request.parcels], "cod_fen": request.cod_fen,
                       "insured_fen": request.insured_fen, "note": request.note}
            reply = self._post("book", payload, {"Idempotency-Key": quote(key, safe="")})
            got = reply.get("tracking_numbers")
            if not isinstance(got, list) or not got or not all(isinstance(n, str) for n in got):
                raise self._bad_reply("tracking_numbers is not a list of text")
            found = tuple(normalise(n) for n in got)
            for n in found:
                if not self.validate_tracking_number(n).valid:
                    log.warning("carrier %s: booked number %s fits none of its known formats", self.code, n)
            sort_code = reply.get("sort_code") or None
            labels = [self._label_or_none(request, n, sort_code, i) for i, n in enumerate(found)]
            booking = Booking(self.code, found, {"carrier_code": self.code, "sort_code": sort_code,
                                                 "labels": labels})
            self._booked[key] = booking
            log.info("carrier %s: booked order %s, %d parcel(s)", self.code, request.order_no, len(found))
            return booking

    def cancel(self, tracking_number: str) -> CancelResult:
        """Cancel a booking; an already cancelled one counts as done, so repeating is safe."""
        self._require_api("cancel")
        n = normalise(tracking_number)
        if not n:
            raise BadInput("carrier_numbers.empty")
        with self._key_lock(f"cancel:{n}"):
            if n in self._cancelled:
                return CancelResult(True)
            reply = self._post("cancel", {"carrier": self.code, "tracking_number": n}, refusal_ok=True)
            if reply.get("ok") is True or reply.get("code") == "already_cancelled":
                self._cancelled.add(n)
                log.info("carrier %s: cancelled %s", self.code, n)
                return CancelResult(True)
            detail = self._scrub(str(reply.get("message") or reply.get("code") or "?"))
            reason = t("carrier_numbers.cancel_refused", code=self.code, number=n, detail=detail)
            return CancelResult(False, reason)

    # --- helpers ---------------------------------------------------------------------------

    def _label_or_none(self, request: BookingRequest, number: str, sort_code: str | None,
                       index: int) -> dict[str, Any] | None:
        """Label data for a booked parcel, or None when the gateway's number cannot carry one."""
        try:
            return self.label_data(request, number, sort_code=sort_code, parcel_index=index)
        except BadInput:
            return None

    def _require_api(self, capability: str) -> None:
        """CarrierUnavailable unless kit.toml switched this carrier's API on."""
        if capability not in self.capabilities:
            raise CarrierUnavailable("carriers.not_capable", code=self.code, capability=capability)

    def _key_lock(self, key: str) -> threading.Lock:
        """One lock per idempotency key, so two calls with the same key book once."""
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _scrub(self, text: str) -> str:
        """Gateway text safe to show or log: no API key, masked mobile numbers, short."""
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return mask_mobile(text)[:200]

    def _bad_reply(self, problem: str) -> CarrierUnavailable:
        """The error for an answer that is not the gateway shape."""
        return CarrierUnavailable("carrier_numbers.api_bad_reply", code=self.code, problem=problem)

    def _post(self, path: str, payload: dict[str, Any], headers: dict[str, str] | None = None,
              refusal_ok: bool = False) -> dict[str, Any]:
        """POST JSON to the gateway and return its JSON object; CarrierUnavailable on failure."""
        self._require_api(path)
        sent = {"Accept": "application/json", **(headers or {})}
        if self._api_key:
            sent["Authorization"] = f"Bearer {self._api_key}"
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
                response = client.post(urljoin(self._api_url, path), json=payload, headers=sent)
        except httpx.HTTPError as exc:
            raise CarrierUnavailable("carrier_numbers.api_unreachable", code=self.code,
                                     error=type(exc).__name__) from None
        if not 200 <= response.status_code < 300:
            raise CarrierUnavailable("carrier_numbers.api_status", code=self.code,
                                     status=response.status_code)
        try:
            reply = response.json()
        except ValueError:
            raise self._bad_reply("not JSON") from None
        if not isinstance(reply, dict):
            raise self._bad_reply("not a JSON object")
        if reply.get("ok") is not True and not refusal_ok:
            detail = self._scrub(str(reply.get("message") or reply.get("code") or "?"))
            raise CarrierUnavailable("carrier_numbers.api_refused", code=self.code, detail=detail)
        return reply


def carriers(settings: Mapping[str, Mapping[str, str]] | None = None) -> list[ExpressCarrier]:
    """The nine express adapters, each switched on by its own [carriers.CODE] settings."""
    patterns = builtin_patterns()
    settings = settings or {}
    return [ExpressCarrier(spec, patterns, settings.get(spec.code)) for spec in SPECS]


@hookimpl
def register_carriers(register: Callable[[Any], None], settings: dict[str, dict[str, str]]) -> None:
    """Register the nine express carriers."""
    for adapter in carriers(settings):
        register(adapter)


@hookimpl
def tracking_patterns(register: Callable[[Any], None]) -> None:
    """Register the built-in tracking-number patterns from kit/carriers/data/patterns.toml."""
    for pattern in builtin_patterns():
        register(pattern)

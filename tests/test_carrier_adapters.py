"""The built-in carrier adapters: the registry's twelve carriers, tracking URLs, label data,
and the generic gateway API against a local HTTP server on 127.0.0.1 (never the internet):
tracking, idempotent booking, repeatable cancel, the registry's timeout, and logs free of
API keys and phone numbers."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kit import carriers
from kit.carriers import BookingRequest, CarrierUnavailable, Party
from kit.carriers.builtin.express import SPECS, ExpressCarrier, read_status, read_time
from kit.carriers.numbers import builtin_patterns
from kit.errors import BadInput
from kit.i18n import set_lang
from kit.models import TrackingStatus

API_KEY = "sekrit-Key-9f8e7d"
SENDER_MOBILE = "13912345678"
RECEIVER_MOBILE = "13800138000"
BUILTINS = ("yto", "sf", "zto", "sto", "yunda", "jd", "ems", "jt", "deppon", "self", "none", "dropship")


class Gateway:
    """What the fake carrier gateway has seen and will answer."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.issued = 0
        self.cancelled: set[str] = set()
        self.release = threading.Event()  # lets a hanging request finish


class Handler(BaseHTTPRequestHandler):
    """Answers POST /track, /book and /cancel in the kit's gateway shape; /hang/* waits."""

    gateway: Gateway

    def log_message(self, *args: Any) -> None:
        """Keep the test output quiet."""

    def do_POST(self) -> None:
        """Record the request and answer it."""
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        self.gateway.requests.append((self.path, dict(self.headers), body))
        if self.path.startswith("/hang/"):
            self.gateway.release.wait(10)
            return self.reply({"ok": True, "events": []})
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self.reply({"ok": False, "code": "auth"}, status=401)
        if self.path == "/track":
            return self.reply({"ok": True, "events": self.events(body["numbers"])})
        if self.path == "/book":
            numbers = []
            for _ in body["parcels"]:  # a new number on every call: idempotency is the adapter's job too
                self.gateway.issued += 1
                numbers.append(f"YT{6552380417800 + self.gateway.issued:013d}")
            return self.reply({"ok": True, "tracking_numbers": numbers, "sort_code": "300-A12"})
        if self.path == "/cancel":
            number = body["tracking_number"]
            if number.endswith("99"):
                return self.reply({"ok": False, "code": "picked_up",
                                   "message": f"already picked up, call {RECEIVER_MOBILE}"})
            if number in self.gateway.cancelled:
                return self.reply({"ok": False, "code": "already_cancelled"})
            self.gateway.cancelled.add(number)
            return self.reply({"ok": True})
        return self.reply({"ok": False, "code": "not_found"}, status=404)

    @staticmethod
    def events(numbers: list[str]) -> list[dict[str, Any]]:
        """Scans out of order, in the gateway's words, one without an offset."""
        out = []
        for n in numbers:
            out += [
                {"number": n, "time": "2025-03-02T08:15:00+08:00", "status": "signed",
                 "description": "已签收，签收人：本人", "location": "上海"},
                {"number": n, "time": "2025-03-01T09:30:00+08:00", "status": "collected",
                 "description": "已揽收", "location": "杭州"},
                {"number": n, "time": "2025-03-01 20:00:00", "status": "in_transit",
                 "description": "已到达杭州转运中心", "location": "杭州"},
                {"number": n, "time": "2025-03-02T00:10:00Z", "status": "派送中",
                 "description": "快递员正在派送", "location": None},
            ]
        return out

    def reply(self, data: dict[str, Any], status: int = 200) -> None:
        """Send a JSON answer."""
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    """A fake gateway on 127.0.0.1 in a thread, and its base URL; shut down after the test."""
    state = Gateway()
    handler = type("BoundHandler", (Handler,), {"gateway": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def booking_request(parcels: tuple[int, ...] = (800,)) -> BookingRequest:
    """A shipment from Hangzhou to Shanghai."""
    sender = Party("发货仓", SENDER_MOBILE, "浙江省", "杭州市", "余杭区", "文一西路 1 号", "311100")
    receiver = Party("张三", RECEIVER_MOBILE, "上海市", "上海市", "浦东新区", "世纪大道 100 号")
    return BookingRequest(shipment_id=7, order_no="2025030112345", sender=sender, receiver=receiver,
                          parcels=parcels, note="易碎")


def with_api(url: str, **extra: str) -> dict[str, dict[str, str]]:
    """Settings that switch yto's API on."""
    return {"yto": {"api_url": url, "api_key": API_KEY, **extra}}


# --- offline ---------------------------------------------------------------------------------


def test_registry_lists_all_twelve_builtins_with_names():
    """yto … deppon, self, none, dropship: each with a Chinese and an English name."""
    registry = carriers.load(entry_points_too=False)

    rows = {row["code"]: row for row in registry.listing() if row["code"]}

    assert set(BUILTINS) <= set(rows)
    for code in BUILTINS:
        assert rows[code]["name_zh"] and rows[code]["name_en"], code
        assert rows[code]["status"] == "ok"
    assert registry.get("yto").name.zh == "圆通速递"


def test_without_an_api_the_express_carriers_only_validate():
    """No api_url: validate only; no quote or label capability is claimed."""
    registry = carriers.load(entry_points_too=False)

    for spec in SPECS:
        assert registry.get(spec.code).capabilities == frozenset({"validate"})
    with pytest.raises(CarrierUnavailable):
        registry.call("yto", "track", ["YT6552380417836"])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.code)
def test_tracking_urls_point_at_the_carriers_public_page(spec):
    """The URL holds the normalised number and is the carrier's https page."""
    adapter = ExpressCarrier(spec, builtin_patterns())
    example = next(p.valid[0] for p in builtin_patterns() if p.carrier_code == spec.code)

    url = adapter.tracking_url(f" {example.lower()} ")

    assert url.startswith("https://") and example in url


def test_tracking_url_can_be_overridden_and_refuses_no_number():
    """kit.toml's tracking_url replaces the template; an empty number is a BadInput."""
    adapter = ExpressCarrier(SPECS[0], builtin_patterns(), {"tracking_url": "https://example.test/q/{number}"})

    assert adapter.tracking_url("yt6552380417836") == "https://example.test/q/YT6552380417836"
    with pytest.raises(BadInput):
        adapter.tracking_url("  ")


def test_label_data_has_carrier_number_and_parties():
    """Label data: carrier code and names, service, number, sort code, sender and receiver lines."""
    adapter = carriers.load(entry_points_too=False).get("yto")

    data = adapter.label_data(booking_request(), "yt 6552380417836", sort_code="300-A12")

    assert data["carrier_code"] == "yto" and data["carrier_name_zh"] == "圆通速递"
    assert data["carrier_name_en"] == "YTO Express" and data["service"] == "standard"
    assert data["tracking_number"] == "YT6552380417836" and data["sort_code"] == "300-A12"
    assert data["receiver_lines"][0] == f"张三 {RECEIVER_MOBILE}"
    assert data["receiver_lines"][1] == "上海市 上海市 浦东新区"
    assert data["sender_lines"][2] == "文一西路 1 号 311100"
    assert data["parcel"] == "1/1" and data["weight_g"] == 800
    masked = adapter.label_data(booking_request(), "YT6552380417836", masked=True)
    assert masked["receiver_lines"][0] == "张三 138****8000"


def test_label_data_refuses_a_number_of_the_wrong_carrier():
    """An SF number on a YTO label is a BadInput with the reason."""
    adapter = carriers.load(entry_points_too=False).get("yto")

    with pytest.raises(BadInput):
        adapter.label_data(booking_request(), "SF1311223344556")


def test_a_bad_api_url_keeps_the_api_off():
    """api_url that is not http(s): validate only, and the adapter says why."""
    adapter = ExpressCarrier(SPECS[0], builtin_patterns(), {"api_url": "ftp://x", "api_key": API_KEY})

    assert adapter.capabilities == frozenset({"validate"})
    assert adapter.problem and "api_url" in adapter.problem


def test_gateway_statuses_and_times_are_normalised():
    """Kit values, synonyms and Chinese words map to TrackingStatus; naive times are +08:00."""
    assert read_status("DELIVERED", "yto") is TrackingStatus.DELIVERED
    assert read_status("揽收", "yto") is TrackingStatus.PICKED_UP
    assert read_status("rejected", "yto") is TrackingStatus.REFUSED
    assert read_status("???", "yto") is TrackingStatus.IN_TRANSIT
    assert read_time("2025-03-01 20:00:00").utcoffset() == timedelta(hours=8)


# --- through the gateway ---------------------------------------------------------------------


def test_configured_api_adds_track_book_cancel(gateway):
    """api_url in settings switches on track, book and cancel for that carrier only."""
    _, url = gateway
    registry = carriers.load(with_api(url), entry_points_too=False)

    assert registry.get("yto").capabilities == frozenset({"validate", "track", "book", "cancel"})
    assert registry.get("sf").capabilities == frozenset({"validate"})


def test_track_returns_sorted_zone_aware_events(gateway):
    """Events come back sorted by time, zone-aware, with the kit's statuses."""
    state, url = gateway
    registry = carriers.load(with_api(url), entry_points_too=False)

    events = registry.call("yto", "track", ["yt 6552380417836"])

    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.at.tzinfo is not None and e.carrier_code == "yto" for e in events)
    assert [e.status for e in events] == [TrackingStatus.PICKED_UP, TrackingStatus.IN_TRANSIT,
                                          TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED]
    assert events[1].at.utcoffset() == timedelta(hours=8)
    path, headers, body = state.requests[-1]
    assert path == "/track" and body == {"carrier": "yto", "numbers": ["YT6552380417836"]}
    assert headers["Authorization"] == f"Bearer {API_KEY}"


def test_book_is_idempotent_by_key(gateway):
    """The same key returns the same numbers without booking again; a new key books anew."""
    state, url = gateway
    registry = carriers.load(with_api(url), entry_points_too=False)

    first = registry.call("yto", "book", booking_request((800, 1200)), "ship-7")
    again = registry.call("yto", "book", booking_request((800, 1200)), "ship-7")
    other = registry.call("yto", "book", booking_request(), "ship-8")

    assert first.tracking_numbers == again.tracking_numbers and len(first.tracking_numbers) == 2
    assert other.tracking_numbers != first.tracking_numbers
    assert [r[0] for r in state.requests].count("/book") == 2
    _, headers, body = state.requests[0]
    assert headers["Idempotency-Key"] == "ship-7" and body["idempotency_key"] == "ship-7"
    assert body["receiver"]["mobile"] == RECEIVER_MOBILE  # the carrier needs it; the logs do not
    labels = first.label_data["labels"]
    assert [lab["tracking_number"] for lab in labels] == list(first.tracking_numbers)
    assert labels[1]["parcel"] == "2/2" and labels[0]["sort_code"] == "300-A12"


def test_book_needs_a_key(gateway):
    """An empty idempotency key is a BadInput, not a second booking."""
    _, url = gateway
    registry = carriers.load(with_api(url), entry_points_too=False)

    with pytest.raises(BadInput):
        registry.call("yto", "book", booking_request(), "  ")


def test_cancel_is_safe_to_repeat(gateway):
    """Cancel twice: done both times; a fresh adapter hears already_cancelled and is done too."""
    _, url = gateway
    registry = carriers.load(with_api(url), entry_points_too=False)

    assert registry.call("yto", "cancel", "YT6552380417801").done
    assert registry.call("yto", "cancel", "YT6552380417801").done
    fresh = carriers.load(with_api(url), entry_points_too=False)
    assert fresh.call("yto", "cancel", "yt6552380417801").done


def test_cancel_refused_says_why_without_the_phone_number(gateway):
    """A refusal is not done, with the gateway's reason, phone numbers masked."""
    _, url = gateway
    registry = carriers.load(with_api(url), entry_points_too=False)

    result = registry.call("yto", "cancel", "YT6552380417899")

    assert not result.done and "picked up" in result.reason
    assert RECEIVER_MOBILE not in result.reason and "138****8000" in result.reason


def test_wrong_key_is_reported_without_the_key(gateway):
    """HTTP 401 becomes CarrierUnavailable naming the status, never the key."""
    _, url = gateway
    registry = carriers.load({"yto": {"api_url": url, "api_key": "wrong-key"}}, entry_points_too=False)

    with pytest.raises(CarrierUnavailable) as caught:
        registry.call("yto", "track", ["YT6552380417836"])

    assert "401" in caught.value.message and "wrong-key" not in caught.value.message


def test_unreachable_gateway_is_carrier_unavailable():
    """Nothing listening on the port: CarrierUnavailable, quickly."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the call: nobody listens
    registry = carriers.load(with_api(f"http://127.0.0.1:{port}/"), entry_points_too=False)

    with pytest.raises(CarrierUnavailable):
        registry.call("yto", "track", ["YT6552380417836"])


def test_a_hanging_gateway_is_cut_off_by_the_registry_timeout(gateway):
    """The registry stops waiting after its timeout and says so."""
    _, url = gateway
    registry = carriers.CarrierRegistry(with_api(url + "hang/"), timeout=0.5)
    registry.add_module("kit.carriers.builtin.express")
    registry.collect()

    started = time.monotonic()
    with pytest.raises(CarrierUnavailable) as caught:
        registry.call("yto", "track", ["YT6552380417836"])

    assert time.monotonic() - started < 3
    assert caught.value.key == "carriers.timeout"


def test_logs_hold_no_api_key_and_no_phone_number(gateway, caplog):
    """Every call at DEBUG level, httpx's own logs included: no key, no mobile number."""
    set_lang("en")
    _, url = gateway
    caplog.set_level(logging.DEBUG)
    registry = carriers.load(with_api(url), entry_points_too=False)

    registry.call("yto", "track", ["YT6552380417836"])
    booking = registry.call("yto", "book", booking_request(), "ship-log")
    registry.call("yto", "cancel", booking.tracking_numbers[0])
    registry.call("yto", "cancel", "YT6552380417899")
    read_status(f"odd {RECEIVER_MOBILE}", "yto")

    assert caplog.records  # the adapter and httpx did log
    for secret in (API_KEY, SENDER_MOBILE, RECEIVER_MOBILE):
        assert secret not in caplog.text

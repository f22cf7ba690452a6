"""A fake of Example Express's HTTP JSON API on 127.0.0.1, for tests: never the internet.

    with FakeExampleAPI(api_key="test-key-123") as api:
        settings = {"example": {"api_url": api.url, "api_key": "test-key-123"}}

The API, as the real carrier documents it (every request needs the header X-Api-Key):

    POST /v1/quote                     {weight_g, length_mm?, width_mm?, height_mm?, from_province,
                                        to_province, service} -> {price_fen, chargeable_weight_g,
                                        zone, days}
    POST /v1/waybills                  header Idempotency-Key; {order_no, sender, receiver,
                                        parcels: [grams], service} -> {waybills: [..], sort_code}
    POST /v1/waybills/NUMBER/cancel    -> {cancelled: true}; 409 once picked up; 404 unknown
    GET  /v1/traces?waybills=A,B       -> {traces: [{waybill, time, code, desc, city}]}, newest
                                        first, times in Beijing time without an offset
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BEIJING = timezone(timedelta(hours=8), "CST")
NEAR = {"浙江省", "江苏省", "上海市", "安徽省"}
FAR = {"新疆维吾尔自治区", "西藏自治区", "青海省", "内蒙古自治区"}
TARIFF = {  # zone -> first kg in fen, each further kg in fen, days
    "same": (800, 200, 1), "near": (1000, 400, 2), "other": (1200, 600, 3), "far": (2000, 1500, 4)}


def _zone(origin: str, destination: str) -> str:
    if origin == destination:
        return "same"
    if destination in FAR:
        return "far"
    return "near" if destination in NEAR and origin in NEAR else "other"


def price(body: dict[str, Any]) -> dict[str, Any]:
    """The carrier's tariff: weight or volume (cm³ / 6000) rounded up to whole kg, per zone."""
    volume_mm3 = (body.get("length_mm") or 0) * (body.get("width_mm") or 0) * (body.get("height_mm") or 0)
    grams = max(int(body["weight_g"]), -(-volume_mm3 // 6000))
    kilos = max(1, -(-grams // 1000))
    zone = _zone(body.get("from_province", ""), body["to_province"])
    first, further, days = TARIFF[zone]
    fen = first + further * (kilos - 1)
    if body.get("service", "standard") == "express":
        fen, days = -(-fen * 3 // 2), max(1, days - 1)
    return {"price_fen": fen, "chargeable_weight_g": kilos * 1000, "zone": zone, "days": days}


class FakeExampleAPI:
    """The fake API server: start() on a free port of 127.0.0.1, stop() when done."""

    def __init__(self, api_key: str = "test-key-123") -> None:
        self.api_key = api_key
        self.bookings: dict[str, dict[str, Any]] = {}  # idempotency key -> the answer given
        self.waybills: dict[str, dict[str, Any]] = {}  # number -> {"cancelled", "events"}
        self.requests: list[tuple[str, str]] = []  # (method, path) seen, for tests
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321/."""
        assert self._server is not None, "start() the fake API first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> FakeExampleAPI:
        """Serve on 127.0.0.1 in a background thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.api = self  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-example-api").start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeExampleAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pick_up(self, number: str) -> None:
        """The courier collects a parcel (a test's move): a scan, and no cancelling any more."""
        self._scan(number, "PICKUP", "快递员已揽收")

    def _scan(self, number: str, code: str, desc: str, at: datetime | None = None) -> None:
        at = at or datetime.now(BEIJING)
        self.waybills[number]["events"].append(
            {"waybill": number, "time": at.strftime("%Y-%m-%d %H:%M:%S"), "code": code, "desc": desc,
             "city": "杭州市"})

    # --- the endpoints: (status, JSON answer) --------------------------------------------------

    def quote(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST /v1/quote."""
        if body.get("service", "standard") not in ("standard", "express"):
            return 400, {"error": f"unknown service {body.get('service')!r}"}
        return 200, price(body)

    def book(self, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST /v1/waybills: the same Idempotency-Key gets the same answer."""
        if not key:
            return 400, {"error": "Idempotency-Key header required"}
        with self.lock:
            if key not in self.bookings:
                numbers = [f"EX{2024000000 + len(self.waybills) + i + 1:010d}"
                           for i in range(len(body["parcels"]))]
                now = datetime.now(BEIJING)
                for number in numbers:
                    self.waybills[number] = {"cancelled": False, "events": []}
                    self._scan(number, "CREATED", "已下单", now - timedelta(minutes=2))
                    self._scan(number, "ASSIGNED", "已分配快递员", now - timedelta(minutes=1))
                self.bookings[key] = {"waybills": numbers, "sort_code": "571-A12"}
            return 200, self.bookings[key]

    def cancel(self, number: str) -> tuple[int, dict[str, Any]]:
        """POST /v1/waybills/NUMBER/cancel: repeating it is fine; after pick-up it is refused."""
        with self.lock:
            waybill = self.waybills.get(number)
            if waybill is None:
                return 404, {"error": f"unknown waybill {number}"}
            if any(e["code"] == "PICKUP" for e in waybill["events"]):
                return 409, {"error": "already picked up"}
            waybill["cancelled"] = True
            return 200, {"cancelled": True}

    def traces(self, numbers: list[str]) -> tuple[int, dict[str, Any]]:
        """GET /v1/traces: newest first, as the real API answers."""
        events = [e for n in numbers for e in self.waybills.get(n, {"events": []})["events"]]
        return 200, {"traces": sorted(events, key=lambda e: e["time"], reverse=True)}


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        api: FakeExampleAPI = self.server.api  # type: ignore[attr-defined]
        url = urlparse(self.path)
        api.requests.append((method, url.path))
        if self.headers.get("X-Api-Key") != api.api_key:
            return self._answer(401, {"error": "bad or missing X-Api-Key"})
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        parts = url.path.strip("/").split("/")
        if method == "POST" and parts == ["v1", "quote"]:
            return self._answer(*api.quote(body))
        if method == "POST" and parts == ["v1", "waybills"]:
            return self._answer(*api.book(self.headers.get("Idempotency-Key", ""), body))
        if method == "POST" and len(parts) == 4 and parts[:2] == ["v1", "waybills"] and parts[3] == "cancel":
            return self._answer(*api.cancel(parts[2]))
        if method == "GET" and parts == ["v1", "traces"]:
            numbers = parse_qs(url.query).get("waybills", [""])[0].split(",")
            return self._answer(*api.traces([n for n in numbers if n]))
        return self._answer(404, {"error": f"no such endpoint {method} {url.path}"})

    def do_GET(self) -> None:
        """Answer a GET."""
        self._route("GET")

    def do_POST(self) -> None:
        """Answer a POST."""
        self._route("POST")

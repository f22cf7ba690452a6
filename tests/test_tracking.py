"""Following the parcels after the hand-over and the buyer's confirmation (kit.tracking; S21, S4,
S13, S3, S16, S1b).

The test shop: headquarters (hq) serves 浙江, a store (gz) serves 广东 and alone holds BAG-A.
Eight orders, built at a fixed Thursday 2026-12-03 15:00, packed, handed to the courier
then and (all but F) confirmed on the platform (WAIT_BUYER_CONFIRM_GOODS, S1b):

    order  lines               pay     shipments (carrier, number)
    A      SOCK-A 1            online  A  yto YT_A
    B      SOCK-A 1            online  B  yto YT_B
    C      TEA-A 1             cod     C  sf  SF_C
    D      BAG-A 1, CUP-A 1    online  D1 (gz) yto YT_D1, D2 (hq) yto YT_D2
    E      CUP-A 1             online  E  zto ZT_E
    F      SOCK-A 1            online  F  yto YT_F   handed over, not confirmed
    G      SOCK-A 1            online  G  yto YT_G
    H      TEA-A 1             cod     H  yto YT_H

Events come from CSV files written by each test (the carrier's export) or from a fake carrier
gateway on 127.0.0.1 (tests/test_carrier_adapters.py's shape). The shop is built once per
database and copied for every test (fulfil_fixtures.built_shops, copy_of).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fulfil_fixtures import (
    NOW,
    add_order,
    built_shops,
    catalogue,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    config,
    db_url_fixture,  # noqa: F401  (a fixture of this module)
    open_shop,
    ship,
    snapshot,
    table,
)
from orders_factory import order_no

import kit
from kit import carriers, tracking
from kit.allocation import allocate
from kit.carriers import hookimpl
from kit.errors import BadInput, ConfigError, PermissionDenied
from kit.models import TrackingStatus

SKUS = catalogue("BAG-A", "CUP-A", "SOCK-A", "TEA-A")
OPENING = [("hq", "CUP-A", 10), ("hq", "SOCK-A", 20), ("hq", "TEA-A", 10), ("gz", "BAG-A", 5)]
API_KEY = "track-Key-123"
# name → (make_orders number: its address decides the warehouse, lines, carrier, payment)
ORDERS: dict[str, tuple[int, list[tuple[str, int]], str, str]] = {
    "A": (7, [("SOCK-A", 1)], "yto", "online"),
    "B": (14, [("SOCK-A", 1)], "yto", "online"),
    "C": (21, [("TEA-A", 1)], "sf", "cod"),
    "D": (1, [("BAG-A", 1), ("CUP-A", 1)], "yto", "online"),
    "E": (28, [("CUP-A", 1)], "zto", "online"),
    "F": (35, [("SOCK-A", 1)], "yto", "online"),
    "G": (42, [("SOCK-A", 1)], "yto", "online"),
    "H": (49, [("TEA-A", 1)], "yto", "cod"),
}
NO = {name: order_no(k) for name, (k, *_) in ORDERS.items()}
NUMBER = {
    "A": "YT1000000000001",
    "B": "YT1000000000002",
    "C": "SF1311223344556",
    "D1": "YT1000000000041",
    "D2": "YT1000000000042",
    "E": "ZT123456789012",
    "F": "YT1000000000006",
    "G": "YT1000000000007",
    "H": "YT1000000000008",
}
CSV_HEAD = "运单号,时间,状态,描述,地点\n"


def shipment_ids(shop: kit.Shop) -> dict[str, int]:
    """The shipment ids by name (A … H; D1 from gz, D2 from hq)."""
    by_order = {no: name for name, no in NO.items()}
    ids = {}
    for sid, no, wh in table(shop, "shipments").select("shipment_id", "order_no", "warehouse_code").rows():
        name = by_order[no]
        ids[name if name != "D" else f"D{1 if wh == 'gz' else 2}"] = sid
    return ids


def build(url: str) -> None:
    """Write the test shop into an empty database: every order packed, handed over at NOW and
    (all but F) confirmed on the platform."""
    with kit.connect(url, actor="店长", config=config()) as boss:
        open_shop(boss, SKUS, OPENING)
        for k, items, carrier, pay in ORDERS.values():
            add_order(boss, k, items, source="tracking", carrier_code=carrier, payment_method=pay)
        assert sorted(allocate(boss.acting_as("仓管小李")).allocated) == sorted(NO.values())
        ids = shipment_ids(boss)
        ship(boss, {ids[n]: NUMBER[n] for n in ids}, confirmed=[sid for n, sid in ids.items() if n != "F"])


built = built_shops(build)  # built(kind) → the test shop's URL; db_url: a fresh copy per test


@dataclass
class World:
    """The copied shop, the logistics clerk acting, the shipment ids by name, a folder for files."""

    url: str
    shop: kit.Shop
    ids: dict[str, int]
    folder: Path

    def as_(self, name: str) -> kit.Shop:
        return self.shop.acting_as(name)

    def csv(
        self, rows: list[str], *, name: str = "轨迹.csv", head: str = CSV_HEAD, encoding: str = "utf-8"
    ) -> Path:
        """A carrier's export with these data lines."""
        path = self.folder / name
        path.write_bytes((head + "\n".join(rows) + "\n").encode(encoding))
        return path

    def load(self, carrier: str, rows: list[str], **kw: Any) -> dict[str, Any]:
        """Import these lines as `carrier`'s export."""
        return tracking.import_events(self.shop, self.csv(rows, **kw), carrier)

    def ship(self, name: str) -> dict[str, Any]:
        return table(self.shop, "shipments", shipment_id=self.ids[name]).row(0, named=True)

    def order(self, name: str) -> dict[str, Any]:
        return table(self.shop, "orders", order_no=NO[name]).row(0, named=True)

    def events(self, number: str | None = None) -> pl.DataFrame:
        rows = table(self.shop, "tracking_events")
        return rows if number is None else rows.filter(pl.col("tracking_no") == number)


@pytest.fixture(name="w")
def world_fixture(db_url: str, clock: dict[str, datetime], tmp_path: Path) -> Iterator[World]:
    """The test shop (SQLite and PostgreSQL), acting as the logistics clerk 物流小张."""
    with kit.connect(db_url, actor="物流小张", config=config()) as shop:
        yield World(db_url, shop, shipment_ids(shop), tmp_path)


def delivered_rows(name: str, day: int = 5, signer: str = "本人") -> list[str]:
    """A whole journey of parcel `name`: picked up Dec 3, in transit Dec 4, delivered Dec `day`."""
    n = NUMBER[name]
    return [
        f"{n},2026-12-03 18:00:00,已揽收,快递员已揽收,杭州",
        f"{n},2026-12-04 02:00:00,运输中,已离开杭州转运中心,杭州",
        f"{n},2026-12-0{day} 09:00:00,派送中,快递员正在派送,上海",
        f"{n},2026-12-0{day} 11:30:00,已签收,快件已签收，签收人：{signer}。,上海",
    ]


# --- storing events once (S21) ------------------------------------------------------------------


def test_import_stores_every_event_once_even_imported_twice_S21(w):
    """S21: a carrier's export imported twice (and a row repeated inside it) leaves each event
    once; the parcel's status is its latest event's; the change is audited; the order is
    told once that it arrived (S13)."""
    rows = delivered_rows("A")
    first = w.load("yto", [*rows, rows[1]])

    assert (first["events"], first["stored"], first["duplicates"], first["unmatched"]) == (5, 4, 1, 0)
    assert first["shipments_updated"] == [w.ids["A"]] and first["delivered_orders"] == [NO["A"]]
    assert w.events(NUMBER["A"]).height == 4
    assert w.ship("A")["tracking_status"] == "delivered"
    trail = w.shop.audit_trail("shipment", str(w.ids["A"])).filter(pl.col("action") == "track")
    assert trail.select("actor", "field", "from_state", "to_state").rows() == [
        ("物流小张", "tracking_status", "pending", "delivered")
    ]
    before = snapshot(w.shop)

    again = w.load("yto", list(reversed(rows)))

    assert (again["stored"], again["duplicates"], again["notices"]) == (0, 4, 0)
    assert w.events(NUMBER["A"]).height == 4
    after = snapshot(w.shop)
    assert after["shipments"] == before["shipments"] and after["outbox"] == before["outbox"]
    notices = table(w.shop, "outbox", kind="delivered")
    assert notices["order_no"].to_list() == [NO["A"]] and NO["A"] in notices["text"][0]


def test_times_from_other_zones_are_stored_as_shop_local_and_naive_csv_time_is_china_S21(w):
    """A time with an offset is converted to the shop's time (Asia/Shanghai); a time without one
    is China time; 2026/12/04 and 2026年12月4日 are read too. The same moment written in two
    zones is one event."""
    n = NUMBER["B"]
    w.load(
        "yto",
        [
            f"{n},2026-12-03T10:00:00Z,已揽收,快递员已揽收,杭州",  # 18:00 in China
            f"{n},2026-12-03 18:00:00+08:00,已揽收,快递员已揽收,杭州",  # the same moment
            f"{n},2026/12/04 01:30,运输中,到达上海转运中心,上海",
            f"{n},2026-12-04 00:00:00-05:00,派送中,快递员正在派送,上海",  # 13:00 in China
            f"{n},2026年12月4日 15:00:00,已签收,已签收，签收人：本人,上海",
        ],
    )

    stored = w.events(n).sort("at")
    assert stored["at"].to_list() == [
        datetime(2026, 12, 3, 18, 0),
        datetime(2026, 12, 4, 1, 30),
        datetime(2026, 12, 4, 13, 0),
        datetime(2026, 12, 4, 15, 0),
    ]
    assert stored["status"].to_list() == ["picked_up", "in_transit", "out_for_delivery", "delivered"]


def test_gbk_export_with_english_headers_and_adapter_events_share_one_store_S21(w):
    """A GBK file is read like UTF-8; English headers (number, time, status, description,
    location) are understood; events handed over as zone-aware TrackEvents dedupe against
    the imported ones."""
    n = NUMBER["G"]
    gbk = w.load("yto", [f"{n},2026-12-03 19:00:00,揽收,快递员已揽收,杭州"], name="gbk.csv", encoding="gbk")
    english = w.load(
        "yto",
        [f"{n},2026-12-04 08:00:00,in transit,Left Hangzhou hub,Hangzhou"],
        name="en.csv",
        head="Number,Time,Status,Description,Location\n",
    )
    from zoneinfo import ZoneInfo

    from kit.carriers import TrackEvent

    utc = ZoneInfo("UTC")
    pushed = tracking.record_events(
        w.shop,
        [
            TrackEvent(
                "yto",
                n,
                datetime(2026, 12, 3, 11, 0, tzinfo=utc),
                TrackingStatus.PICKED_UP,
                "快递员已揽收",
                "杭州",
            ),
            TrackEvent(
                "yto",
                n.lower(),
                datetime(2026, 12, 4, 6, 0, tzinfo=utc),
                TrackingStatus.OUT_FOR_DELIVERY,
                "快递员正在派送",
                "上海",
            ),
        ],
    )

    assert (gbk["stored"], english["stored"]) == (1, 1)
    with pytest.raises(BadInput, match="ups"):  # a carrier the kit does not know
        tracking.record_events(
            w.shop, [TrackEvent("ups", n, datetime(2026, 12, 5, tzinfo=utc), "delivered", "x")]
        )
    assert (pushed["stored"], pushed["duplicates"]) == (1, 1)
    assert w.events(n).sort("at")["status"].to_list() == ["picked_up", "in_transit", "out_for_delivery"]
    assert w.ship("G")["tracking_status"] == "out_for_delivery"


def test_unknown_status_text_is_kept_counted_and_sets_no_status_S21(w):
    """Status text the kit does not know is stored as `unknown` with the text kept in the
    description, counted and listed; the parcel keeps the status of its latest known event.
    kit.toml [tracking] status_words teaches the kit the word."""
    n = NUMBER["B"]
    done = w.load(
        "yto",
        [
            f"{n},2026-12-03 18:00:00,已揽收,快递员已揽收,杭州",
            f"{n},2026-12-04 09:00:00,中转滞留,因天气原因滞留,南京",
        ],
    )

    assert (done["stored"], done["unknown_status"], done["unknown_texts"]) == (2, 1, ["中转滞留"])
    odd = w.events(n).filter(pl.col("status") == "unknown")
    assert odd["description"].to_list() == ["【中转滞留】因天气原因滞留"]
    assert w.ship("B")["tracking_status"] == "picked_up"

    taught = kit.Shop(
        w.shop.store, config(tracking={"status_words": {"中转滞留": "in_transit"}}), w.shop.actor
    )
    again = tracking.import_events(taught, w.csv([f"{n},2026-12-04 10:00:00,中转滞留,仍在南京,南京"]), "yto")
    assert (again["unknown_status"], w.ship("B")["tracking_status"]) == (0, "in_transit")
    with pytest.raises(ConfigError, match="status_words"):
        config(tracking={"status_words": {"中转滞留": "somewhere"}})


def test_events_out_of_order_across_files_give_the_latest_status_S21(w):
    """Events arrive out of order (a later file holds an earlier scan): the status is always
    that of the latest event by time; events of equal time: the one stored last."""
    n = NUMBER["B"]
    w.load("yto", [f"{n},2026-12-05 10:00:00,派送中,快递员正在派送,上海"])
    w.load(
        "yto",
        [f"{n},2026-12-03 18:00:00,已揽收,快递员已揽收,杭州", f"{n},2026-12-04 02:00:00,运输中,在途,杭州"],
    )
    assert w.ship("B")["tracking_status"] == "out_for_delivery"

    w.load("yto", [f"{n},2026-12-05 10:00:00,派送失败,电话无人接听,上海"])  # same time, stored last

    assert w.ship("B")["tracking_status"] == "delivery_failed"
    assert [s for (s,) in w.events(n).sort("at", "event_id").select("status").rows()] == [
        "picked_up",
        "in_transit",
        "out_for_delivery",
        "delivery_failed",
    ]


def test_bad_rows_are_listed_and_the_rest_stored_missing_columns_refused(w):
    """A row without a number or with a time that cannot be read is listed with its row number
    in the file and left out; a numbers of no parcel of the shop is counted, not stored; a
    file without the number, time or status column is refused naming what is missing."""
    n = NUMBER["B"]
    done = w.load(
        "yto",
        [
            f"{n},2026-12-03 18:00:00,已揽收,快递员已揽收,杭州",
            ",2026-12-03 18:00:00,已揽收,没有单号,杭州",
            f"{n},昨天下午,运输中,时间看不懂,杭州",
            "YT9999999999999,2026-12-03 18:00:00,已揽收,别家的包裹,杭州",
        ],
    )

    assert [row for row, _ in done["bad_rows"]] == [3, 4]
    assert "昨天下午" in done["bad_rows"][1][1]
    assert (done["stored"], done["unmatched"], done["unmatched_numbers"]) == (1, 1, ["YT9999999999999"])
    assert w.events().height == 1
    with pytest.raises(BadInput) as missing:
        tracking.import_events(w.shop, w.csv([f"{n},杭州"], head="运单号,地点\n"), "yto")
    assert "时间" in missing.value.message and "状态" in missing.value.message
    with pytest.raises(BadInput, match="ups"):
        w.load("ups", [])


def test_multi_parcel_shipment_is_delivered_only_when_every_parcel_is_S21(w):
    """A shipment of two parcels (the parcels table) is delivered only when both are; until then
    it has the status of its parcel still on the way."""
    from kit.store import schema

    second = "ZT123456789013"
    w.shop.store.insert_frame(
        schema.parcels,
        pl.DataFrame(
            {
                "shipment_id": [w.ids["E"], w.ids["E"]],
                "parcel_no": [1, 2],
                "tracking_no": [NUMBER["E"], second],
                "weight_g": [300, 300],
            }
        ),
    )
    w.load(
        "zto",
        [
            f"{NUMBER['E']},2026-12-05 11:00:00,已签收,签收人：本人,上海",
            f"{second},2026-12-04 11:00:00,运输中,在途,南京",
        ],
    )
    assert w.ship("E")["tracking_status"] == "in_transit"

    w.load("zto", [f"{second},2026-12-06 11:00:00,已签收,签收人：本人,上海"])

    assert w.ship("E")["tracking_status"] == "delivered"
    assert tracking.parcels(w.shop, [NO["E"]]).select("tracking_no", "status").rows() == [
        (NUMBER["E"], "delivered"),
        (second, "delivered"),
    ]


# --- pulling through the adapters (S21) ----------------------------------------------------------


class Gateway:
    """What the fake carrier gateway has been asked, and the events it knows per number."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.events: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture(name="gateway")
def gateway_fixture() -> Iterator[tuple[Gateway, str]]:
    """A fake carrier gateway on 127.0.0.1 answering POST /track in the kit's gateway shape."""
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            state.requests.append(body)
            ok = self.headers.get("Authorization") == f"Bearer {API_KEY}" and self.path == "/track"
            events = [e for n in body.get("numbers", []) for e in state.events.get(n, [])]
            raw = json.dumps({"ok": True, "events": events} if ok else {"ok": False, "code": "auth"}).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def scans(number: str, *steps: tuple[str, str, str]) -> list[dict[str, Any]]:
    """Gateway events of one number: (time, status, description)."""
    return [
        {"number": number, "time": at, "status": s, "description": d, "location": "杭州"}
        for at, s, d in steps
    ]


def with_api(w: World, url: str, **more: dict[str, str]) -> kit.Shop:
    """The clerk's shop with yto's gateway switched on (and other carriers' settings)."""
    settings = {"yto": {"api_url": url, "api_key": API_KEY}, **more}
    return kit.Shop(w.shop.store, config(carriers=settings), w.shop.actor)


def test_pull_asks_each_carrier_in_batches_and_stores_events_once_S21(w, gateway, monkeypatch):
    """S21: a pull asks yto's gateway for its parcels not yet delivered, PULL_BATCH numbers per
    call; sf and zto (no API) are reported by name, skipped; pulling again stores nothing new.
    A delivered parcel is not asked again."""
    state, url = gateway
    state.events[NUMBER["A"]] = scans(
        NUMBER["A"],
        ("2026-12-03T18:00:00+08:00", "collected", "已揽收"),
        ("2026-12-05T03:30:00Z", "signed", "已签收，签收人：本人"),
    )
    state.events[NUMBER["G"]] = scans(NUMBER["G"], ("2026-12-04 02:00:00", "in_transit", "已离开杭州"))
    monkeypatch.setattr(tracking.follow, "PULL_BATCH", 2)
    shop = with_api(w, url)

    done = tracking.pull(shop)

    yto = [NUMBER[n] for n in ("A", "B", "D1", "D2", "F", "G", "H")]
    assert sorted(n for r in state.requests for n in r["numbers"]) == sorted(yto)
    assert all(len(r["numbers"]) <= 2 and r["carrier"] == "yto" for r in state.requests)
    assert [a["carrier"] for a in done["carriers_asked"]] == ["yto"]
    assert sorted(s["carrier"] for s in done["carriers_skipped"]) == ["sf", "zto"]
    assert "顺丰速运" in " ".join(s["reason"] for s in done["carriers_skipped"])
    assert done["carriers_failed"] == [] and done["stored"] == 3
    assert w.ship("A")["tracking_status"] == "delivered" and w.ship("G")["tracking_status"] == "in_transit"
    assert w.events(NUMBER["A"]).sort("at")["at"].to_list() == [
        datetime(2026, 12, 3, 18),
        datetime(2026, 12, 5, 11, 30),
    ]
    state.requests.clear()

    again = tracking.pull(shop)

    assert (again["stored"], again["duplicates"]) == (0, 1)
    assert NUMBER["A"] not in [n for r in state.requests for n in r["numbers"]]
    assert w.events().height == 3


def test_a_failing_carrier_is_named_and_the_others_go_on_S21(w, gateway):
    """zto's gateway cannot be reached: it is reported by name with the reason, and yto's
    events are stored all the same."""
    state, url = gateway
    state.events[NUMBER["B"]] = scans(NUMBER["B"], ("2026-12-03 18:00:00", "揽收", "已揽收"))
    shop = with_api(
        w, url, zto={"api_url": "http://127.0.0.1:9/", "api_key": API_KEY, "timeout_seconds": "2"}
    )

    done = tracking.pull(shop)

    assert [f["carrier"] for f in done["carriers_failed"]] == ["zto"]
    assert "中通快递" in done["carriers_failed"][0]["reason"]
    assert done["stored"] == 1 and w.ship("B")["tracking_status"] == "picked_up"


class Listener:
    """A plugin implementing on_shipment_event: keeps what it is told."""

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[Any] = []
        self.fail = fail

    @hookimpl
    def on_shipment_event(self, event: Any) -> None:
        """Keep the event (or fail, for the test of a broken plugin)."""
        if self.fail:
            raise RuntimeError("webhook down")
        self.seen.append(event)


def test_new_events_go_to_the_on_shipment_event_hook_once_S13(w):
    """S13: every new event reaches the plugins (zone-aware, the kit's status); an event stored
    before is not told again; a plugin that fails is named, the events are stored anyway."""
    good, bad = Listener(), Listener(fail=True)
    registry = carriers.load(entry_points_too=False, extra=((good, "listener"), (bad, "broken")))
    path = w.csv(delivered_rows("A"))

    done = tracking.import_events(w.shop, path, "yto", registry=registry)
    tracking.import_events(w.shop, path, "yto", registry=registry)

    assert len(good.seen) == 4
    last = good.seen[-1]
    assert (last.tracking_no, last.status, last.at.utcoffset().total_seconds()) == (
        NUMBER["A"],
        TrackingStatus.DELIVERED,
        8 * 3600,
    )
    assert done["plugin_errors"] == [{"plugin": "broken", "error": "RuntimeError: webhook down", "events": 4}]
    assert done["stored"] == 4


# --- alerts (S21) -----------------------------------------------------------------------------------


def test_alerts_name_each_kind_of_parcel_that_needs_a_person_S21(w):
    """S21: not picked up, stuck, delivery failed, refused, returned, lost, damaged and signed by
    someone else each come up once, with when it began and a detail; a parcel signed by the
    receiver (本人, or the name masked) raises nothing; a finished trade raises nothing."""
    receiver_g = w.order("G")["receiver_name"]
    n = NUMBER
    w.load(
        "yto",
        [
            *delivered_rows("A", signer="门卫"),
            f"{n['B']},2026-12-03 18:00:00,已揽收,已揽收,杭州",
            f"{n['B']},2026-12-04 02:00:00,运输中,在途,杭州",
            f"{n['D1']},2026-12-05 10:00:00,派送失败,电话无人接听,上海",
            f"{n['D2']},2026-12-05 10:00:00,拒收,收件人拒收,上海",
            f"{n['D2']},2026-12-06 10:00:00,退回中,退回,上海",
            *delivered_rows("G", signer=receiver_g[0] + "*"),
            f"{n['H']},2026-12-05 10:00:00,丢件,快件遗失,南京",
        ],
    )
    w.load("sf", [f"{n['C']},2026-12-05 12:00:00,拒收,收件人拒收,上海"])
    w.load("zto", [f"{n['E']},2026-12-05 12:00:00,破损,外包装破损,上海"])

    found = tracking.alerts(w.shop, now=datetime(2026, 12, 10, 9, 0))

    kinds = {r["tracking_no"]: (r["kind"], r["since"]) for r in found.iter_rows(named=True)}
    assert kinds == {
        n["A"]: ("signed_by_other", datetime(2026, 12, 5, 11, 30)),
        n["B"]: ("stuck", datetime(2026, 12, 4, 2, 0)),
        n["C"]: ("refused", datetime(2026, 12, 5, 12, 0)),
        n["D1"]: ("delivery_failed", datetime(2026, 12, 5, 10, 0)),
        n["D2"]: ("returned", datetime(2026, 12, 6, 10, 0)),
        n["E"]: ("damaged", datetime(2026, 12, 5, 12, 0)),
        n["F"]: ("not_picked_up", NOW),
        n["H"]: ("lost", datetime(2026, 12, 5, 10, 0)),
    }
    assert found["kind"].to_list() == [
        "lost",
        "damaged",
        "refused",
        "delivery_failed",
        "returned",
        "signed_by_other",
        "stuck",
        "not_picked_up",
    ]
    detail = dict(zip(found["kind"], found["detail"], strict=True))
    assert "门卫" in detail["signed_by_other"] and "162" in detail["not_picked_up"] and "6" in detail["stuck"]
    assert set(tracking.ALERT_COLUMNS) == set(found.columns)
    assert tracking.alerts(w.shop, now=datetime(2026, 12, 10, 9, 0), kinds=["stuck"])[
        "tracking_no"
    ].to_list() == [n["B"]]
    early = tracking.alerts(w.shop, now=datetime(2026, 12, 4, 9, 0))  # 18 h after the hand-over
    assert "not_picked_up" not in early["kind"].to_list() and "stuck" not in early["kind"].to_list()
    w.as_("售后小雅").transition("order", NO["A"], "finish")
    assert n["A"] not in tracking.alerts(w.shop, now=datetime(2026, 12, 10, 9, 0))["tracking_no"].to_list()
    with pytest.raises(BadInput, match="late"):
        tracking.alerts(w.shop, kinds=["late"])


# --- buyer confirmation (S4, S16) --------------------------------------------------------------------


def test_confirm_receipt_refused_until_every_parcel_is_delivered_then_finishes_S4(w):
    """S4: an order of two parcels, one delivered and one in transit, cannot be confirmed: the
    refusal names the order and each parcel's status, and nothing changes; once both are
    delivered the buyer's confirmation finishes the trade, audited."""
    w.load("yto", [*delivered_rows("D1"), f"{NUMBER['D2']},2026-12-04 02:00:00,运输中,在途,杭州"])
    aftersales = w.as_("售后小雅")
    before = snapshot(w.shop)

    refused = tracking.confirm_receipt(aftersales, [NO["D"]])

    assert refused["finished"] == [] and [k for k, _ in refused["refused"]] == [NO["D"]]
    message = refused["refused"][0][1]
    assert (
        NO["D"] in message and f"{NUMBER['D1']}：已签收" in message and f"{NUMBER['D2']}：运输中" in message
    )
    assert snapshot(w.shop) == before

    w.load("yto", delivered_rows("D2"))
    done = tracking.confirm_receipt(aftersales, NO["D"])

    assert done == {"finished": [NO["D"]], "signed": [], "refused": []}
    assert w.order("D")["trade_status"] == "TRADE_FINISHED"
    trail = w.shop.audit_trail("order", NO["D"]).filter(pl.col("action") == "finish")
    assert trail.select("actor", "from_state", "to_state").rows() == [
        ("售后小雅", "WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED")
    ]


def test_confirm_receipt_refusals_unknown_unshipped_state_and_role_S4(w):
    """S4: refused, each with its reason: an unknown order, an order whose parcel has no
    delivery scan, an order not yet confirmed on the platform (the lifecycle's refusal naming
    its state); a warehouse worker may not record the buyer's confirmation."""
    w.load("yto", delivered_rows("F"))
    aftersales = w.as_("售后小雅")

    done = tracking.confirm_receipt(aftersales, ["123", NO["B"], NO["F"]])

    why = dict(done["refused"])
    assert done["finished"] == [] and list(why) == ["123", NO["B"], NO["F"]]
    assert "123" in why["123"]
    assert f"{NUMBER['B']}：未揽收" in why[NO["B"]]
    assert "买家已付款，等待卖家发货" in why[NO["F"]]
    with pytest.raises(PermissionDenied):
        tracking.confirm_receipt(w.as_("仓管小李"), [NO["A"]])


def test_cod_parcel_delivered_is_signed_by_the_buyer_then_finished_on_confirmation_S4_S16(w):
    """S16/S4: the last parcel of a cash-on-delivery order delivered → TRADE_BUYER_SIGNED at
    once (system:tracking, audited); the buyer's confirmation then finishes it. mark_signed
    does the same by hand, for COD orders only and only once delivered."""
    w.load("sf", delivered_rows("C"))

    assert w.order("C")["trade_status"] == "TRADE_BUYER_SIGNED"
    trail = w.shop.audit_trail("order", NO["C"]).filter(pl.col("action") == "buyer_sign")
    assert trail.select("actor", "role", "to_state").rows() == [
        ("system:tracking", "system", "TRADE_BUYER_SIGNED")
    ]
    done = tracking.confirm_receipt(w.as_("售后小雅"), [NO["C"]])
    assert done["finished"] == [NO["C"]] and w.order("C")["trade_status"] == "TRADE_FINISHED"

    clerk = w.shop
    not_yet = tracking.mark_signed(clerk, [NO["H"], NO["A"]])
    why = dict(not_yet["refused"])
    assert not_yet["signed"] == [] and "未揽收" in why[NO["H"]] and "不是货到付款" in why[NO["A"]]


def test_cod_signed_by_hand_when_the_kit_cannot_follow_the_parcel_S16(w):
    """S16: a COD order delivered in the kit's events but stored before it could sign (its
    trade still waiting) is signed by mark_signed; an online order is refused."""
    with w.shop.store.write() as conn:  # the events, as an older kit stored them: no follow-up ran
        from kit.store import schema

        conn.execute(
            schema.tracking_events.insert().values(
                carrier_code="yto",
                tracking_no=NUMBER["H"],
                at=datetime(2026, 12, 5, 11),
                status="delivered",
                description="已签收，签收人：本人",
            )
        )
        conn.execute(
            schema.shipments.update()
            .where(schema.shipments.c.shipment_id == w.ids["H"])
            .values(tracking_status="delivered")
        )
        conn.execute(
            schema.tracking_events.insert().values(
                carrier_code="yto",
                tracking_no=NUMBER["A"],
                at=datetime(2026, 12, 5, 11),
                status="delivered",
                description="已签收，签收人：本人",
            )
        )

    done = tracking.mark_signed(w.shop, [NO["H"], NO["A"]])

    assert done["signed"] == [NO["H"]] and w.order("H")["trade_status"] == "TRADE_BUYER_SIGNED"
    assert "不是货到付款" in dict(done["refused"])[NO["A"]]


def test_auto_confirm_finishes_orders_delivered_n_days_ago_by_the_system_S4(w):
    """S4, as the platform does: [tracking] auto_confirm_days (10) after the last parcel was
    delivered, an order still awaiting the buyer (or signed, COD) is finished by
    system:auto_confirm with the reason; one delivered later, or not delivered, waits."""
    w.load("yto", delivered_rows("A", day=5))  # delivered Dec 5 11:30
    w.load("yto", delivered_rows("G", day=7))
    w.load("sf", delivered_rows("C", day=5))  # COD: signed at once
    supervisor = w.as_("店长")

    early = tracking.auto_confirm(supervisor, now=datetime(2026, 12, 15, 11, 0))
    assert early["finished"] == []

    done = tracking.auto_confirm(supervisor, now=datetime(2026, 12, 15, 12, 0))

    assert done["finished"] == sorted([NO["A"], NO["C"]]) and done["days"] == 10
    assert (w.order("A")["trade_status"], w.order("G")["trade_status"]) == (
        "TRADE_FINISHED",
        "WAIT_BUYER_CONFIRM_GOODS",
    )
    trail = w.shop.audit_trail("order", NO["A"]).filter(pl.col("action") == "finish")
    assert trail["actor"].to_list() == ["system:auto_confirm"] and "10" in trail["reason"][0]
    with pytest.raises(PermissionDenied):
        tracking.auto_confirm(w.shop)  # the logistics clerk does not run it


def test_roles_analyst_reads_alerts_but_imports_nothing_S21(w):
    """Tracking changes the shop's records: an analyst may read the alerts and parcels but not
    import or pull; nothing is written by the refused call."""
    analyst = w.as_("分析师")
    before = snapshot(w.shop)

    with pytest.raises(PermissionDenied):
        tracking.import_events(analyst, w.csv(delivered_rows("A")), "yto")
    with pytest.raises(PermissionDenied):
        tracking.pull(analyst)

    assert snapshot(w.shop) == before
    assert tracking.alerts(analyst, now=datetime(2026, 12, 10)).height >= 1
    assert tracking.parcels(analyst, [NO["A"]])["status"].to_list() == ["pending"]


def test_two_staff_importing_the_same_export_at_once_store_it_once_S21(w):
    """S21: two clerks import the same export at the same moment (two connections): the events
    are stored once, no unique-constraint error reaches either of them."""
    path = w.csv([*delivered_rows("A"), *delivered_rows("B")])
    results: list[Any] = []
    start = threading.Barrier(2)

    def clerk() -> None:
        with kit.connect(w.url, actor="物流小张", config=config()) as shop:
            start.wait(5)
            try:
                results.append(tracking.import_events(shop, path, "yto"))
            except Exception as exc:  # reported below
                results.append(exc)

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert all(isinstance(r, dict) for r in results), results
    assert sorted(r["stored"] for r in results) == [0, 8]
    assert w.events().height == 8
    assert table(w.shop, "outbox", kind="delivered").height == 2


def test_a_shop_in_another_zone_gets_china_times_converted(tmp_path, monkeypatch):
    """A naive time in a carrier's file is China time even when the shop keeps another zone
    (KIT_TIMEZONE): 18:00 in China is 10:00 in UTC; a time with an offset is converted too."""
    monkeypatch.setenv("KIT_TIMEZONE", "UTC")
    path = tmp_path / "e.csv"
    path.write_text(
        CSV_HEAD + "yt 1000 0000 00001,2026-12-03 18:00:00,已揽收,,杭州\n"
        "YT1000000000001,2026-12-03T18:00:00+09:00,运输中,,\n",
        "utf-8",
    )

    events, bad = tracking.read_csv(path, "yto")

    assert bad == []
    assert events.select("tracking_no", "at", "status", "description", "location").rows() == [
        ("YT1000000000001", datetime(2026, 12, 3, 10, 0), "picked_up", "已揽收", "杭州"),
        ("YT1000000000001", datetime(2026, 12, 3, 9, 0), "in_transit", "运输中", None),
    ]

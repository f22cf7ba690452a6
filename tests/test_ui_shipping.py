"""The 发货确认 shipping desk's view model and widgets, without a browser (S8, S9, S1b, S24c, S26b),
and the analyst's shipping_confirmation notebook.

The shop, at a fixed clock (15:00, six hours before the 21:00 confirmation deadline): one
warehouse, four SKUs, six approved orders due today at 18:00, allocated and put in one pick
wave; the parcels of orders 1-4 are packed, those of orders 5 and 6 are still being picked.
Parcel 1's label was printed with a tracking number (assign_numbers, S18), so a scan of that
number alone hands it over; the others need "parcel number + tracking number".
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import polars as pl
import pytest
import sqlalchemy as sa
from nbclient import NotebookClient
from orders_factory import PRODUCTS, make_orders, order_no
from ui_support import header_px, visible

import kit
from kit import allocation, carriers, outbox, packing, picking, shipping, stock
from kit.errors import BadInput, PermissionDenied, Refused
from kit.i18n import set_lang, t
from kit.shop import Shop
from kit.store import schema
from kit.store.frames import read_frame
from kit.ui.shipping_desk import KPIS, VIEWS, ShippingDeskModel, parse_scan, shipping_desk
from kit.ui.shipping_view import ShippingDesk
from kit.ui.table import KEY, TableModel

STAFF = {"店长": "supervisor", "仓管老周": "warehouse", "客服小美": "presale", "物流小林": "logistics",
         "分析师": "analyst"}
WAREHOUSES = [{"code": "hq", "name": "杭州总仓", "kind": "hq", "province": "浙江省", "city": "杭州市"}]
SENDER = {"mobile": "13800000000", "detail": "文一西路 1 号"}
NOW = datetime(2026, 11, 30, 15, 0)
DUE = datetime(2026, 11, 30, 18, 0)
LABEL = "YT1234567890123"  # printed on parcel 1's label before packing
NUMBERS = {2: "YT1234567890124", 3: "YT1234567890125", 4: "YT1234567890126"}
PACKED, PICKING = [order_no(k) for k in (1, 2, 3, 4)], [order_no(5), order_no(6)]
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def config(sender: dict[str, str] | None = SENDER) -> kit.config.Config:
    """Staff and warehouse; the sender address (S26b) unless None."""
    shop_section = {"sender": sender} if sender else {}
    return kit.config.parse({"staff": STAFF, "warehouses": WAREHOUSES, "shop": shop_section})


def build(url: str) -> None:
    """The test shop (see the module's note), written through the services."""
    with kit.connect(url, actor="店长", config=config()) as shop:
        shop.sync_settings()
        shop.store.insert_frame(schema.skus, pl.DataFrame({
            "sku": [p[0] for p in PRODUCTS], "title": [p[1] for p in PRODUCTS], "category": "general",
            "spec": [p[2] for p in PRODUCTS], "weight_g": 500, "price_fen": [p[3] for p in PRODUCTS]}))
        stock.receive_goods(shop, [{"warehouse_code": "hq", "sku": p[0], "quantity": 50} for p in PRODUCTS],
                            reason="期初")
        orders, lines = make_orders(6, stage="approved")
        shop.insert_orders(orders.with_columns(ship_by=pl.lit(DUE)), lines, kind="test", source="test")
        assert len(allocation.allocate(shop).allocated) == 6
        picking.start_waves(shop)
        for k in (1, 2, 3, 4):
            sid = shipment_of(shop, order_no(k))
            sheet = packing.sheet(shop, sid)
            packing.pack(shop, sid, dict(sheet["items"].select("sku", "quantity").iter_rows()),
                         sheet["expected_g"])
        assert shipping.assign_numbers(shop, [{"order_no": order_no(1), "tracking_no": LABEL}])["assigned"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    """kit.clock.now() returns clock["now"] (NOW unless a test moves it)."""
    moment = {"now": NOW}
    monkeypatch.setattr(kit.clock, "now", lambda: moment["now"])
    return moment


@pytest.fixture
def shop(sqlite_url: str, clock: dict[str, datetime]) -> Iterator[Shop]:
    """The test shop, the logistics clerk acting (scans and confirms)."""
    build(sqlite_url)
    with kit.connect(sqlite_url, actor="物流小林", config=config()) as opened:
        yield opened


def shipment_of(shop: Shop, order: str) -> int:
    """The one parcel of an order."""
    sh = schema.shipments
    with shop.store.read() as conn:
        return conn.execute(sa.select(sh.c.shipment_id).where(sh.c.order_no == order)).scalar_one()


def parcels(shop: Shop) -> dict[str, tuple[str, str | None]]:
    """Order number → (parcel stage, tracking number), read in a new transaction."""
    sh = schema.shipments
    with shop.store.read() as conn:
        rows = conn.execute(sa.select(sh.c.order_no, sh.c.stage, sh.c.tracking_no)).all()
    return {o: (s, n) for o, s, n in rows}


def trades(shop: Shop) -> dict[str, tuple[str, str]]:
    """Order number → (stage, trade status)."""
    frame = shop.orders()
    return {r["order_no"]: (r["stage"], r["trade_status"]) for r in frame.iter_rows(named=True)}


def desk_for(shop: Shop, name: str | None = None) -> ShippingDesk:
    """The desk as `name` (default: the shop's own actor) would see it, read and drawn."""
    return shipping_desk(shop.acting_as(name) if name else shop)


def keys(model: TableModel) -> list[str]:
    """The row keys the table shows, in order."""
    return model.rows[KEY].to_list()


def column(model: TableModel, label: str) -> dict[str, Any]:
    """Row key → what the named column shows."""
    return dict(zip(model.rows[KEY].to_list(), model.rows[label].to_list(), strict=True))


def classes(widget: Any) -> set[str]:
    """The CSS classes of a widget."""
    return set(widget._dom_classes)



def batch_rows(desk: ShippingDesk) -> list[list[str]]:
    """The CSV the download link carries, decoded from base64 and GBK."""
    html = desk.download.value
    encoded = html.split("data:text/csv;base64,", 1)[1].split('"', 1)[0]
    return list(csv.reader(io.StringIO(base64.b64decode(encoded).decode("gbk"))))


def scan(desk: ShippingDesk, text: str) -> None:
    """What a keyboard-wedge scanner does: the characters, then Enter (the value arrives)."""
    desk.scan.value = text


# --- scanning at the hand-over (S8, S24c) ----------------------------------------------------


def test_scanning_the_number_on_a_label_hands_the_parcel_over_S8(shop: Shop) -> None:
    """The number alone finds parcel 1 by its label: handed over in the database, listed as
    awaiting confirmation with the 21:00 deadline, the field empty for the next scan."""
    desk = desk_for(shop)
    assert desk.model.counts["packed"] == 4 and desk.model.counts["awaiting"] == 0

    scan(desk, f" {LABEL.lower()} ")

    assert desk.scan.value == ""
    assert parcels(shop)[order_no(1)] == ("handed_over", LABEL)
    assert trades(shop)[order_no(1)][0] == "handed_over"
    model = desk.model
    assert model.level == "info" and model.last_error is None
    sid = shipment_of(shop, order_no(1))
    assert model.message == t("shipping_desk.handed", number=LABEL, shipment_id=sid)
    assert keys(model.tables["awaiting"]) == [str(sid)]
    awaiting = model.tables["awaiting"]
    assert column(awaiting, t("shipping_desk.col_tracking_no")) == {str(sid): LABEL}
    assert column(awaiting, t("shipping_desk.col_confirm_by")) == {str(sid): "11-30 21:00"}
    assert column(awaiting, t("shipping_desk.col_carrier")) == {str(sid): "圆通速递"}
    assert model.counts["packed"] == 3 and model.counts["awaiting"] == 1
    assert desk.kpis.tiles["awaiting"].number == 1
    assert model.scans[0]["ok"] is True and "kit-scan-ok" in desk.scan_log.value


def test_scanning_parcel_number_and_tracking_number_S8_S24c(shop: Shop) -> None:
    """Labels without a number: "parcel number + number", "order number + number" and a
    carrier code at the end all hand over, one scan at a time; the DB keeps the numbers."""
    desk = desk_for(shop)
    two, three, four = (shipment_of(shop, order_no(k)) for k in (2, 3, 4))

    scan(desk, f"{two} {NUMBERS[2]}")
    scan(desk, f"{order_no(3)}\t{NUMBERS[3]}")
    scan(desk, f"{four} {NUMBERS[4]} YTO")

    assert desk.model.last_error is None
    assert {o: parcels(shop)[o] for o in PACKED[1:]} == {
        order_no(k): ("handed_over", NUMBERS[k]) for k in (2, 3, 4)}
    assert sorted(keys(desk.model.tables["awaiting"])) == sorted(str(s) for s in (two, three, four))
    assert [s["ok"] for s in desk.model.scans] == [True, True, True]
    assert desk.model.counts["packed"] == 1 and desk.model.counts["awaiting"] == 3
    assert desk.scan.value == ""


def test_a_bad_number_shows_the_carrier_s_reason_and_nothing_changes_S8(shop: Shop) -> None:
    """A number YTO's adapter refuses: the carrier's own reason in words, the parcel still packed
    without a number, the field cleared for the next try, the log says why."""
    desk = desk_for(shop)
    two = shipment_of(shop, order_no(2))
    reason = carriers.for_config(shop.config).get("yto").validate_tracking_number("YT123").reason
    before = parcels(shop)

    scan(desk, f"{two} YT123")

    model = desk.model
    assert isinstance(model.last_error, Refused) and model.level == "error"
    assert reason and reason in model.message
    assert t("shipping.bad_number", shipment_id=two, reason=reason) in model.message
    assert "kit-message-error" in classes(desk.message) and "Traceback" not in model.message
    assert parcels(shop) == before
    assert desk.scan.value == ""
    assert model.scans[0] == {"text": f"{two} YT123", "ok": False,
                              "message": t("shipping.bad_number", shipment_id=two, reason=reason)}
    assert "kit-scan-refused" in desk.scan_log.value


def test_a_number_on_no_label_and_a_garbled_scan_are_explained(shop: Shop) -> None:
    """A valid number that no packed parcel's label carries, and a scan of four words: each a
    sentence saying what to do, nothing handed over."""
    desk = desk_for(shop)
    before = parcels(shop)

    scan(desk, "YT9999999999999")
    assert desk.model.message == t("shipping_desk.not_handed", number="YT9999999999999",
                                   reason=t("shipping_desk.unknown_number", number="YT9999999999999"))
    scan(desk, "1 2 3 4")
    assert isinstance(desk.model.last_error, BadInput)
    assert desk.model.message == t("shipping_desk.bad_scan", text="1 2 3 4")

    assert parcels(shop) == before
    assert [s["ok"] for s in desk.model.scans] == [False, False]


def test_the_same_number_twice_is_refused_the_second_time_S8(shop: Shop) -> None:
    """A double scan of one label: handed over once; the second scan says the parcel is gone."""
    desk = desk_for(shop)

    scan(desk, LABEL)
    scan(desk, LABEL)

    assert desk.model.level == "error"
    assert [s["ok"] for s in desk.model.scans] == [False, True]
    assert desk.model.counts["awaiting"] == 1


@pytest.mark.parametrize(("text", "row"), [
    ("YT1234567890123", {"tracking_no": "YT1234567890123"}),
    ("  41 YT1234567890123 ", {"shipment_id": 41, "tracking_no": "YT1234567890123"}),
    ("#41,SF1311223344556,sf", {"shipment_id": 41, "tracking_no": "SF1311223344556", "carrier_code": "sf"}),
    ("900000000000000003 YT1", {"order_no": "900000000000000003", "tracking_no": "YT1"}),
    ("", None),
])
def test_parse_scan(text: str, row: dict[str, Any] | None) -> None:
    """A scan becomes the hand-over row the service takes."""
    assert parse_scan(text) == row


# --- confirmation on the platform (S9, S1b) --------------------------------------------------


def hand_over_all(desk: ShippingDesk, shop: Shop) -> list[int]:
    """Scan parcels 1-4 in; their ids."""
    scan(desk, LABEL)
    for k in (2, 3, 4):
        scan(desk, f"{shipment_of(shop, order_no(k))} {NUMBERS[k]}")
    assert desk.model.last_error is None
    return [shipment_of(shop, o) for o in PACKED]


def test_confirm_asks_then_confirms_and_offers_the_batch_file_S9_S1b(shop: Shop) -> None:
    """The button asks first (no leaves everything handed over); yes confirms every parcel the
    list shows: shipments confirmed, orders WAIT_BUYER_CONFIRM_GOODS, shipped notices queued,
    and the link downloads the platform's GBK file with its header."""
    desk = desk_for(shop)
    ids = hand_over_all(desk, shop)

    desk.confirm_button.click()
    assert visible(desk.confirm)
    assert desk.confirm.question.value == f"<div>{t('shipping_desk.ask_confirm', count=4)}</div>"
    desk.confirm.no.click()
    assert {parcels(shop)[o][0] for o in PACKED} == {"handed_over"}

    desk.confirm_button.click()
    desk.confirm.yes.click()

    model = desk.model
    assert model.last_error is None and model.level == "info"
    batch_id = int(model.message.rsplit("批次 ", 1)[1].rstrip("）。"))
    assert model.message == t("shipping.confirmed", count=4, orders=4, notices=4, batch_id=batch_id)
    assert {parcels(shop)[o][0] for o in PACKED} == {"confirmed"}
    shipped_state = ("confirmed", "WAIT_BUYER_CONFIRM_GOODS")
    assert {o: trades(shop)[o] for o in PACKED} == dict.fromkeys(PACKED, shipped_state)
    shipped = outbox.notices(shop).filter(pl.col("kind") == "shipped")
    assert sorted(shipped["order_no"].to_list()) == PACKED
    assert f'download="{t("shipping_desk.file_name")}"' in desk.download.value
    assert "kit-download" in classes(desk.download)
    rows = batch_rows(desk)
    assert rows[0] == ["订单编号", "物流公司", "运单号"]
    assert sorted(rows[1:]) == sorted([[order_no(1), "圆通速递", LABEL]]
                                      + [[order_no(k), "圆通速递", NUMBERS[k]] for k in (2, 3, 4)])
    assert model.counts["awaiting"] == 0 and model.counts["confirmed"] == 4
    assert sorted(keys(model.tables["confirmed"])) == sorted(str(i) for i in ids)


def test_confirming_the_same_parcels_again_is_refused_in_words_S9(shop: Shop) -> None:
    """Two desks read the same four parcels; the first confirms them; the second one's confirm
    says in words that they are already confirmed (no traceback), and a fresh desk has nothing
    to confirm."""
    first = desk_for(shop)
    hand_over_all(first, shop)
    second = desk_for(shop, "客服小美")
    assert len(second.model.to_confirm()) == 4

    assert first.model.confirm() is True
    assert second.model.confirm() is False

    assert isinstance(second.model.last_error, Refused) and second.model.level == "error"
    assert second.model.message.startswith(t("shipping_desk.none_confirmed", count=4, reasons="")[:10])
    assert "已确认发货" in second.model.message and "Traceback" not in second.model.message
    assert second.download.value == ""
    assert second.model.counts["awaiting"] == 0  # it read again: the list is up to date
    fresh = desk_for(shop)
    fresh.confirm_button.click()
    assert not visible(fresh.confirm)
    assert fresh.model.message == t("shipping_desk.nothing_to_confirm") and fresh.model.level == "info"


def test_confirm_only_the_selected_parcels_S9(shop: Shop) -> None:
    """Rows selected in the awaiting list: only those are confirmed; the rest keep waiting."""
    desk = desk_for(shop)
    ids = hand_over_all(desk, shop)
    desk.model.tables["awaiting"].select([str(ids[0])])

    assert desk.model.to_confirm() == [ids[0]]
    assert desk.model.confirm() is True

    assert parcels(shop)[order_no(1)][0] == "confirmed"
    assert {parcels(shop)[o][0] for o in PACKED[1:]} == {"handed_over"}
    assert [r[0] for r in batch_rows(desk)[1:]] == [order_no(1)]


def test_after_a_confirmation_the_lists_and_tiles_equal_a_fresh_read_S9(shop: Shop) -> None:
    """The desk moves the confirmed parcels from the awaiting list to today's confirmed list in place
    (no second read of the lists): what it then shows equals what a fresh desk reads."""
    desk = desk_for(shop)
    ids = hand_over_all(desk, shop)
    desk.model.tables["awaiting"].select([str(ids[0]), str(ids[2])])
    assert desk.model.confirm() is True

    fresh = desk_for(shop)
    for view in ("awaiting", "confirmed"):
        shown, read = desk.model.tables[view].frame, fresh.model.tables[view].frame
        assert shown.columns == read.columns
        assert shown.sort("shipment_id").rows() == read.sort("shipment_id").rows(), view
    assert desk.model.counts == fresh.model.counts
    assert desk.model.counts["awaiting"] == 2 and desk.model.counts["confirmed"] == 2


def test_today_s_batch_file_holds_every_parcel_confirmed_today_S9(shop: Shop) -> None:
    """Two confirmations, then the header's download button: one file with both."""
    desk = desk_for(shop)
    ids = hand_over_all(desk, shop)
    desk.model.confirm(ids[:2])
    desk.model.confirm(ids[2:])
    assert len(batch_rows(desk)) == 3  # the last batch: header + 2

    desk.batch_button.click()

    assert len(batch_rows(desk)) == 5
    assert desk.model.message == desk.model.batch_note
    assert t("shipping_desk.batch_today") in desk.download.value


# --- the 21:00 countdown (S9) ---------------------------------------------------------------


def test_countdown_to_the_confirmation_deadline_S9(shop: Shop, clock: dict[str, datetime]) -> None:
    """At 15:00, six hours are left; at 20:25 with parcels waiting it turns amber; at 21:30 it
    says the deadline passed and turns red; each moment read when the desk refreshes."""
    desk = desk_for(shop)
    assert desk.model.minutes_left == 360
    assert "6 小时 0 分" in desk.countdown.value and "21:00" in desk.countdown.value
    assert not classes(desk.countdown) & {"kit-countdown-soon", "kit-countdown-late"}
    scan(desk, LABEL)

    clock["now"] = datetime(2026, 11, 30, 20, 25)
    desk.refresh_button.click()
    assert desk.model.minutes_left == 35
    assert "35 分钟" in desk.countdown.value and "1 个包裹" in desk.countdown.value
    assert "kit-countdown-soon" in classes(desk.countdown)

    clock["now"] = datetime(2026, 11, 30, 21, 30)
    desk.refresh_button.click()
    assert desk.model.minutes_left == -30
    assert t("shipping_desk.countdown_past", deadline="21:00", duration="30 分钟", count=1,
             time="21:30") in desk.countdown.value
    assert "kit-countdown-late" in classes(desk.countdown)
    assert desk.model.counts["late"] == 1
    assert column(desk.model.tables["awaiting"], t("shipping_desk.col_late")) == {
        str(shipment_of(shop, order_no(1))): t("shipping_desk.late_yes")}


# --- orders that did not ship (S8, S9) ------------------------------------------------------


def test_unshipped_orders_get_their_reason_and_the_buyer_a_notice_S8_S9(shop: Shop) -> None:
    """Due at 18:00 and not handed over: all six at first. A reason for two selected orders is
    a not_shipped flag each and a delayed notice each; the list shows it; nothing selected is
    a hint, an empty reason is refused."""
    desk = desk_for(shop, "客服小美")
    model = desk.model
    scan_desk = desk_for(shop)
    scan(scan_desk, LABEL)
    model.refresh()
    assert sorted(keys(model.tables["unshipped"])) == sorted([*PACKED[1:], *PICKING])
    assert model.counts["unshipped"] == 5 and model.counts["no_reason"] == 5
    desk.switch.value = "unshipped"
    assert visible(desk.reason_form)

    desk.reason.value = "等待调货"
    desk.reason_save.click()
    assert model.message == t("shipping_desk.select_orders")
    model.tables["unshipped"].select(PICKING)
    desk.reason.value = "   "
    desk.reason_save.click()
    assert model.message == t("shipping.reason_required") and model.level == "error"

    model.tables["unshipped"].select(PICKING)
    desk.reason.value = t("shipping_desk.reason_stock")
    desk.reason_save.click()

    assert model.last_error is None
    assert model.message == t("shipping.reasons_recorded", reasons=2, notices=2)
    assert desk.reason.value == ""
    reasons = column(model.tables["unshipped"], t("shipping_desk.col_reason"))
    assert {o: reasons[o] for o in PICKING} == dict.fromkeys(PICKING, t("shipping_desk.reason_stock"))
    assert reasons[order_no(2)] == t("shipping.no_reason")
    assert model.counts["no_reason"] == 3
    with shop.store.read() as conn:
        flags = read_frame(conn, sa.select(schema.flags).where(schema.flags.c.kind == "not_shipped"))
    assert sorted(flags["order_no"].to_list()) == PICKING
    assert set(flags["created_by"].to_list()) == {"客服小美"}
    delayed = outbox.notices(shop).filter(pl.col("kind") == "delayed")
    assert sorted(delayed["order_no"].to_list()) == PICKING


def test_call_list_shows_phones_to_pre_sales_and_masks_them_for_others_S9(shop: Shop) -> None:
    """Pre-sales phone the buyers: whole numbers; the logistics clerk sees 138****5678 and the
    surname only."""
    orders = {r["order_no"]: r for r in shop.orders().iter_rows(named=True)}
    mobile, receiver = t("shipping_desk.col_mobile"), t("shipping_desk.col_receiver")
    no = order_no(5)
    whole = orders[no]["receiver_mobile"]

    calls = desk_for(shop, "客服小美").model.tables["calls"]
    assert column(calls, mobile)[no] == whole
    assert column(calls, receiver)[no] == orders[no]["receiver_name"]

    hidden = desk_for(shop).model.tables["calls"]
    assert column(hidden, mobile)[no] == f"{whole[:3]}****{whole[-4:]}"
    assert column(hidden, receiver)[no] == orders[no]["receiver_name"][0] + "*"
    assert all(whole not in str(v) for v in hidden.rows.row(keys(hidden).index(no)))


# --- the sender address (S26b) ----------------------------------------------------------------


def test_without_a_sender_address_the_desk_says_so_and_takes_no_scan_S26b(
        sqlite_url: str, clock: dict[str, datetime]) -> None:
    """kit.toml without [shop.sender] mobile and detail: a red notice naming what to fill in and
    where, the scan field disabled, and a scan forced anyway refused by the core."""
    build(sqlite_url)
    with kit.connect(sqlite_url, actor="物流小林", config=config(sender=None)) as shop:
        desk = desk_for(shop)
        before = parcels(shop)
        model = desk.model
        assert "[shop.sender]" in model.sender_problem and "mobile" in model.sender_problem
        assert visible(desk.sender) and "kit-shipping-sender" in classes(desk.sender)
        assert model.sender_problem in desk.sender.value.replace("&quot;", '"')
        assert desk.scan.disabled is True
        assert model.message == ""  # the notice is its own banner, not a passing message

        assert model.scan(LABEL) is False

        assert isinstance(model.last_error, Refused) and model.last_error.key == "shipping.no_sender"
        assert parcels(shop) == before


def test_a_sender_set_later_is_seen_on_refresh_S26b(sqlite_url: str, clock: dict[str, datetime]) -> None:
    """The shop fixes kit.toml: the desk opened with the new settings takes the scan."""
    build(sqlite_url)
    with kit.connect(sqlite_url, actor="物流小林", config=config(sender=None)) as shop:
        assert desk_for(shop).scan.disabled is True
    with kit.connect(sqlite_url, actor="物流小林", config=config()) as shop:
        desk = desk_for(shop)
        assert not visible(desk.sender) and desk.scan.disabled is False
        scan(desk, LABEL)
        assert parcels(shop)[order_no(1)][0] == "handed_over"


# --- roles -----------------------------------------------------------------------------------


def test_warehouse_hands_over_but_sees_no_confirm_button(shop: Shop) -> None:
    """The warehouse scans parcels out and gives reasons; confirming on the platform and the
    batch file are not theirs: no button, and the core refuses a forced confirm."""
    desk = desk_for(shop, "仓管老周")
    assert desk.model.allowed == ["hand_over", "record_not_shipped"]
    assert not visible(desk.confirm_button) and not visible(desk.batch_button)
    assert visible(desk.scan_form)
    scan(desk, LABEL)
    assert parcels(shop)[order_no(1)][0] == "handed_over"

    assert desk.model.confirm() is False

    assert isinstance(desk.model.last_error, PermissionDenied)
    assert "仓储" in desk.model.message
    assert parcels(shop)[order_no(1)][0] == "handed_over"
    assert desk.model.download_today() is False and desk.download.value == ""


def test_pre_sales_confirm_and_call_but_do_not_scan_S9(shop: Shop) -> None:
    """Pre-sales confirm online by 21:00 and phone the buyers; the hand-over is not theirs."""
    desk = desk_for(shop, "客服小美")

    assert desk.model.allowed == ["confirm", "record_not_shipped", "export_confirmation"]
    assert visible(desk.confirm_button) and visible(desk.batch_button)
    assert not visible(desk.scan_form)
    assert desk.model.scan(LABEL) is False
    assert parcels(shop)[order_no(1)] == ("packed", LABEL)


def test_analyst_reads_but_may_do_nothing(shop: Shop) -> None:
    """An analyst sees the lists and the countdown; no scan field, no button, no reason form."""
    desk = desk_for(shop, "分析师")

    assert desk.model.allowed == []
    assert not any(visible(w) for w in (desk.confirm_button, desk.batch_button, desk.scan_form))
    desk.switch.value = "unshipped"
    assert not visible(desk.reason_form)
    assert desk.model.counts["unshipped"] == 6 and visible(desk.countdown)
    assert desk.model.record_reason("缺货", PICKING) is False
    assert isinstance(desk.model.last_error, PermissionDenied)


def test_supervisor_sees_every_action(shop: Shop) -> None:
    """The supervisor may scan, confirm, give reasons and download."""
    desk = desk_for(shop, "店长")

    assert desk.model.allowed == ["hand_over", "confirm", "record_not_shipped", "export_confirmation"]
    assert all(visible(w) for w in (desk.confirm_button, desk.batch_button, desk.scan_form))


# --- the page --------------------------------------------------------------------------------



def test_every_header_fits_its_column(shop: Shop) -> None:
    """No Chinese header is cut off in the grid: each column is as wide as its label."""
    model = desk_for(shop).model

    narrow = [(v, c.label, c.width) for v in VIEWS for c in model.tables[v].columns
              if c.width < header_px(c.label)]

    assert narrow == []


def test_the_view_switch_shows_exactly_one_table(shop: Shop) -> None:
    """One list at a time; the reason form only with the lists of unshipped orders."""
    desk = desk_for(shop)
    assert [v for v, w in desk.tables.items() if visible(w)] == ["awaiting"]
    assert not visible(desk.reason_form)

    desk.switch.value = "calls"

    assert desk.model.view == "calls"
    assert [v for v, w in desk.tables.items() if visible(w)] == ["calls"]
    assert visible(desk.reason_form)
    assert [label for label, _ in desk.switch.options] == [t(f"shipping_desk.view_{v}") for v in VIEWS]


def test_css_classes_for_browser_tests(shop: Shop) -> None:
    """Root, buttons, banners, tiles, scan field, switch, tables, form and link carry their classes."""
    desk = desk_for(shop)

    assert "kit-shipping" in classes(desk)
    assert "kit-refresh" in classes(desk.refresh_button)
    assert "kit-action-confirm" in classes(desk.confirm_button)
    assert "kit-action-batch" in classes(desk.batch_button)
    assert "kit-shipping-sender" in classes(desk.sender)
    assert "kit-shipping-countdown" in classes(desk.countdown)
    assert {f"kit-kpi-shipping-{k}" for k in KPIS} == {
        c for tile in desk.kpis.tiles.values() for c in classes(tile) if c.startswith("kit-kpi-shipping-")}
    assert {"kit-form", "kit-form-scan"} <= classes(desk.scan_form)
    assert "kit-shipping-scan" in classes(desk.scan) and "kit-shipping-scanlog" in classes(desk.scan_log)
    assert desk.scan.continuous_update is False  # the value comes with the scanner's Enter
    assert "kit-shipping-view" in classes(desk.switch)
    assert [v for v, w in desk.tables.items() if f"kit-shipping-table-{v}" in classes(w)] == list(VIEWS)
    assert {"kit-form", "kit-form-reason"} <= classes(desk.reason_form)
    assert "kit-reason-text" in classes(desk.reason) and "kit-reason-save" in classes(desk.reason_save)
    assert "kit-download" in classes(desk.download)
    assert "kit-confirm" in classes(desk.confirm) and "kit-message" in classes(desk.message)
    assert t("shipping_desk.title") in desk.header.title.value


def test_english(shop: Shop) -> None:
    """With set_lang("en") the desk, its columns, countdown and messages read in English."""
    set_lang("en")

    desk = desk_for(shop)
    scan(desk, "YT9999999999999")

    assert "发货" not in desk.header.title.value
    assert desk.confirm_button.description == t("shipping_desk.button_confirm", lang="en")
    assert "6 h 0 min" in desk.countdown.value
    assert desk.model.message == t("shipping_desk.not_handed", lang="en", number="YT9999999999999",
                                   reason=t("shipping_desk.unknown_number", lang="en",
                                            number="YT9999999999999"))


def test_desk_without_a_database_explains_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that cannot be opened: the store's message, dashes, no action, no countdown."""
    monkeypatch.setenv("KIT_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/folder/kit.db")

    desk = shipping_desk()

    assert desk.model.shop is None and desk.model.last_error is not None
    assert "不存在" in desk.message.value
    assert {tile.number for tile in desk.kpis.tiles.values()} == {None}
    assert desk.model.allowed == [] and not visible(desk.confirm_button) and not visible(desk.countdown)
    assert desk.model.scan(LABEL) is False


def test_scan_then_confirm_on_sqlite_and_postgresql_S8_S9_S1b(
        db_url: str, clock: dict[str, datetime]) -> None:
    """The whole hand-over on both databases: scan, confirm, the trade moves to
    WAIT_BUYER_CONFIRM_GOODS, the file lists the parcel."""
    build(db_url)
    with kit.connect(db_url, actor="物流小林", config=config()) as shop:
        desk = desk_for(shop)
        scan(desk, LABEL)
        assert desk.model.confirm() is True
        assert trades(shop)[order_no(1)] == ("confirmed", "WAIT_BUYER_CONFIRM_GOODS")
        assert batch_rows(desk) == [["订单编号", "物流公司", "运单号"], [order_no(1), "圆通速递", LABEL]]
        assert isinstance(desk.model, ShippingDeskModel)


# --- the analyst's notebook --------------------------------------------------------------------


def test_shipping_confirmation_notebook_runs_on_its_own_demo_shop(monkeypatch: pytest.MonkeyPatch) -> None:
    """notebooks/shipping_confirmation.ipynb top to bottom on a demo shop of its own (S8, S9):
    the confirmation deadlines, the on-time share per day, a hand-over and a confirmation, the
    batch file, the unshipped orders with reasons, the masked call list and the desk itself."""
    monkeypatch.delenv("KIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("KIT_ACTOR", raising=False)
    nb = nbformat.read(NOTEBOOKS / "shipping_confirmation.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()

    shown = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in shown if o.output_type == "error"]
    assert not [o for o in shown if o.output_type == "stream" and "Traceback" in o.get("text", "")]
    results = [o.get("data", {}) for o in shown if o.output_type == "execute_result"]
    html = "\n".join(data.get("text/html", "") for data in results)
    assert "on_time_share" in html and "median_hours" in html
    assert "订单编号" in html and "运单号" in html  # the batch file, read back from GBK
    assert "WAIT_BUYER_CONFIRM_GOODS" in html
    assert "receiver_mobile" in html and "hours_late" in html  # the call list (masked for the analyst)
    plain = "\n".join(data.get("text/plain", "") for data in results)
    assert "'handed_over': " in plain
    assert "'hand_over_refused': 0" in plain and "'confirm_refused': 0" in plain
    widgets = [o for o in shown if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "the shipping desk was not drawn"

"""The 异常与售后 exceptions and after-sales desk's view model and widgets, without a browser (S21,
S2, S3, S4, S13, S24d).

The shop: headquarters (hq) holds the stock; four orders packed, handed to yto and confirmed on
the platform at Thursday 2026-12-03 15:00 (WAIT_BUYER_CONFIRM_GOODS):

    order  lines        number            the test makes it
    L      SOCK-A 1     YT1000000000001   lost (a carrier event 丢失 → a tracking alert)
    D      CUP-A 1      YT1000000000002   damaged (an exception case opened by hand)
    R      TEA-A 1      YT1000000000003   a refund asked for (after-sale case, refund only)
    X      SOCK-A 1     YT1000000000004   a return asked for (after-sale case, return and refund)

The desk lists the exception cases, the after-sale cases and the tracking alerts; the buttons
of the selected row come from the lifecycle table for the acting role; each action is one
service call, refused in words when the core refuses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from fulfil_fixtures import (
    NOW,
    add_order,
    built_shops,
    catalogue,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    config,
    copy_of,
    open_shop,
    ship,
    table,
)
from orders_factory import order_no
from ui_support import header_px, visible

import kit
from kit import aftersales, exceptions, tracking
from kit.errors import BadInput, PermissionDenied
from kit.i18n import set_lang, t
from kit.ui.aftersales_desk import VIEWS, AfterSalesDeskModel, aftersales_desk, parse_yuan
from kit.ui.aftersales_view import AfterSalesDesk

SKUS = catalogue("CUP-A", "SOCK-A", "TEA-A")
OPENING = [("hq", "CUP-A", 10), ("hq", "SOCK-A", 20), ("hq", "TEA-A", 10)]
ORDERS = {
    "L": (7, [("SOCK-A", 1)]),
    "D": (14, [("CUP-A", 1)]),
    "R": (21, [("TEA-A", 1)]),
    "X": (28, [("SOCK-A", 1)]),
}
NO = {name: order_no(k) for name, (k, _) in ORDERS.items()}
NUMBER = {"L": "YT1000000000001", "D": "YT1000000000002", "R": "YT1000000000003", "X": "YT1000000000004"}


def ids_by_name(shop: kit.Shop) -> dict[str, int]:
    """The shipment id of each order by name."""
    by_order = {no: name for name, no in NO.items()}
    return {
        by_order[no]: sid for sid, no in table(shop, "shipments").select("shipment_id", "order_no").rows()
    }


def build(url: str) -> None:
    """Every order packed, handed over and confirmed at NOW."""
    with kit.connect(url, actor="店长", config=config()) as boss:
        open_shop(boss, SKUS, OPENING)
        for k, items in ORDERS.values():
            add_order(boss, k, items, source="aftersales desk", carrier_code="yto")
        from kit.allocation import allocate

        assert sorted(allocate(boss.acting_as("仓管小李")).allocated) == sorted(NO.values())
        ids = ids_by_name(boss)
        ship(boss, {ids[n]: NUMBER[n] for n in NUMBER})


built = built_shops(build)


@pytest.fixture
def shop(built: Callable[[str], str], tmp_path: Path, clock: dict[str, datetime]) -> Iterator[kit.Shop]:
    """A fresh copy of the shop (SQLite) three hours after the hand-over, with L reported lost by the
    carrier, a damaged case for D, a refund asked for R and a return asked for X; the after-sales
    clerk 售后小雅 acts."""
    clock["now"] = NOW + timedelta(hours=3)
    with (
        copy_of(built("sqlite"), tmp_path) as url,
        kit.connect(url, actor="售后小雅", config=config()) as opened,
    ):
        events = tmp_path / "yto.csv"
        events.write_text(
            f"运单号,时间,状态,描述,地点\n{NUMBER['L']},2026-12-03 18:00,丢失,快件在转运中心遗失,杭州\n",
            "utf-8",
        )
        tracking.import_events(opened.acting_as("物流小张"), events, "yto")
        ids = ids_by_name(opened)
        exceptions.open_case(opened, ids["D"], "damaged", description="买家说杯子碎了")
        aftersales.open_case(opened, NO["R"], "refund", "late_shipment", amount_fen=2000)
        aftersales.open_case(
            opened,
            NO["X"],
            "return",
            "not_as_described",
            amount_fen=8900,
            lines=[{"line_no": 1, "quantity": 1}],
        )
        yield opened


def desk_for(shop: kit.Shop, name: str | None = None) -> AfterSalesDesk:
    """The desk as `name` (default: the shop's actor) sees it, read and drawn."""
    return aftersales_desk(shop.acting_as(name) if name else shop)


def shown_buttons(desk: AfterSalesDesk) -> list[str]:
    """The actions whose buttons the desk shows now, in the order the model offers them."""
    shown = [a for a, b in desk.buttons.items() if visible(b)]
    assert sorted(shown) == sorted(desk.model.offered)
    return list(desk.model.offered)


def pick(desk: AfterSalesDesk, view: str, key: object) -> None:
    """Switch to `view` and select the row `key`, as a click on the toggle and the grid does."""
    desk.model.view = view
    desk.model.tables[view].select([str(key)])


def exception_of(shop: kit.Shop, name: str) -> dict:
    """The exception case of order `name`."""
    return exceptions.cases(shop).filter(pl.col("order_no") == NO[name]).row(0, named=True)


def case_of(shop: kit.Shop, name: str) -> dict:
    """The after-sale case of order `name`."""
    return aftersales.cases(shop).filter(pl.col("order_no") == NO[name]).row(0, named=True)


# --- reading --------------------------------------------------------------------------------


def test_the_desk_lists_exceptions_cases_and_alerts_with_their_counts_S21_S24d(shop: kit.Shop) -> None:
    """Three lists (exceptions, after-sale cases, tracking alerts) and the tiles: two alerts (the
    lost parcel, and the damaged one its case marked), one open exception (damaged, held by its
    opener), two open after-sale cases."""
    desk = desk_for(shop)
    model = desk.model

    assert model.tables["exceptions"].frame["order_no"].to_list() == [NO["D"]]
    assert sorted(model.tables["cases"].frame["order_no"].to_list()) == sorted([NO["R"], NO["X"]])
    alerts = model.tables["alerts"].frame
    assert sorted(alerts.select("order_no", "kind").rows()) == sorted(
        [(NO["L"], "lost"), (NO["D"], "damaged")]
    )
    assert model.counts == {
        "alerts": 2,
        "exceptions_open": 1,
        "exceptions_mine": 1,
        "cases_open": 2,
        "cases_goods": 0,
        "oldest_hours": model.counts["oldest_hours"],
    }
    assert 0 <= model.counts["oldest_hours"] <= 3
    assert "异常与售后" in desk.header.title.value and "售后客服" in desk.header.subtitle.value
    row = model.tables["exceptions"].rows.row(0, named=True)
    assert row[t("aftersales_desk.col_kind")] == "破损" and row[t("aftersales_desk.col_state")] == "待处理"
    assert row[t("aftersales_desk.col_owner")] == "售后小雅"


def test_the_selected_row_offers_what_its_state_and_the_role_allow_S21(shop: kit.Shop) -> None:
    """Nothing selected: no button. A damaged case just opened: take, claim, reship, refund, close
    (not answer: nothing claimed yet; not receive_return: that is for refused parcels). A refund-only
    case waiting for the seller: take, agree, refuse, close."""
    desk = desk_for(shop)
    assert shown_buttons(desk) == [] and t("aftersales_desk.select_one") in desk.summary.value

    pick(desk, "exceptions", exception_of(shop, "D")["case_id"])
    assert shown_buttons(desk) == ["take", "claim", "reship", "refund", "close_case"]
    assert visible(desk.amount) and visible(desk.text)

    pick(desk, "cases", case_of(shop, "R")["case_id"])
    assert shown_buttons(desk) == ["take", "agree", "refuse", "close_case"]
    assert f"订单 {NO['R']}" in desk.summary.value


# --- exceptions -----------------------------------------------------------------------------


def test_claim_then_answer_then_reship_from_the_desk_S21(shop: kit.Shop) -> None:
    """Claim (amount in yuan and evidence) → claimed; the carrier's answer → answered; reship asks
    first, then a linked allocated parcel is created and the case is resolved."""
    desk = desk_for(shop)
    case_id = exception_of(shop, "D")["case_id"]
    pick(desk, "exceptions", case_id)
    desk.amount.value, desk.text.value = "59.00", "照片 3 张，已存档"
    desk.buttons["claim"].click()
    assert desk.model.level == "info", desk.model.message
    claimed = exceptions.case(shop, case_id)
    assert (claimed["state"], claimed["claim_fen"], claimed["evidence"]) == (
        "claimed",
        5900,
        "照片 3 张，已存档",
    )
    assert desk.amount.value == "" and desk.text.value == ""

    pick(desk, "exceptions", case_id)
    assert "answer" in shown_buttons(desk) and "claim" not in shown_buttons(desk)
    desk.amount.value, desk.text.value = "30", "快递同意赔付 30 元"
    desk.buttons["answer"].click()
    assert exception_of(shop, "D")["state"] == "answered"

    pick(desk, "exceptions", case_id)
    desk.buttons["reship"].click()
    assert visible(desk.confirm) and t("aftersales_desk.button_reship") in desk.confirm.question.value
    desk.confirm.yes.click()
    done = exceptions.cases(shop).filter(pl.col("case_id") == case_id).row(0, named=True)
    assert done["state"] == "resolved" and done["resolution"] == "reship"
    sent = table(shop, "shipments", shipment_id=done["new_shipment_id"]).row(0, named=True)
    assert sent["stage"] == "allocated" and sent["replaces_shipment_id"] == done["shipment_id"]
    assert desk.model.counts["exceptions_open"] == 0  # the list holds open cases only


def test_a_wrong_address_corrected_from_the_desk_S21(shop: kit.Shop) -> None:
    """A wrong-address case offers the address form; the right address typed in is written to the
    order (audited) and the case is address_corrected; a bad mobile is refused in words first."""
    sid = ids_by_name(shop)["R"]
    case_id = exceptions.open_case(shop, sid, "wrong_address", description="买家说门牌号写错了")["case_id"]
    desk = desk_for(shop)
    pick(desk, "exceptions", case_id)
    assert "correct_address" in shown_buttons(desk) and visible(desk.address_row)
    right = {
        "receiver_name": "测试收件人",
        "receiver_mobile": "1390000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_detail": "文三路 100 号",
    }
    for field, value in right.items():
        desk.address[field].value = value
    desk.buttons["correct_address"].click()
    assert desk.model.level == "error" and "1390000" in desk.model.message
    assert exceptions.case(shop, case_id)["state"] == "open"

    pick(desk, "exceptions", case_id)
    desk.address["receiver_mobile"].value = "13900001111"
    desk.buttons["correct_address"].click()
    assert desk.model.level == "info", desk.model.message
    assert exceptions.case(shop, case_id)["state"] == "address_corrected"
    order = table(shop, "orders", order_no=NO["R"]).row(0, named=True)
    assert (order["receiver_mobile"], order["address_detail"]) == ("13900001111", "文三路 100 号")
    assert all(box.value == "" for box in desk.address.values())


def test_open_exceptions_from_the_alerts_S21(shop: kit.Shop) -> None:
    """The alerts view offers to open cases from every lost, damaged and refused alert; after it
    the lost parcel has its case, and the same again opens nothing more."""
    desk = desk_for(shop)
    desk.model.view = "alerts"
    assert shown_buttons(desk) == ["open_from_alerts"]
    desk.buttons["open_from_alerts"].click()
    desk.confirm.yes.click()
    assert desk.model.level == "info", desk.model.message
    assert exception_of(shop, "L")["kind"] == "lost"
    assert desk.model.counts["exceptions_open"] == 2

    assert desk.model.act("open_from_alerts") is True
    assert exceptions.cases(shop).height == 2


def test_a_wrong_amount_or_a_missing_note_is_explained_and_changes_nothing(shop: kit.Shop) -> None:
    """ "abc" yuan, a negative amount, three decimals, a claim without evidence: refused in words."""
    desk = desk_for(shop)
    case_id = exception_of(shop, "D")["case_id"]
    for amount, text, key in (
        ("abc", "照片", "aftersales_desk.bad_amount"),
        ("-5", "照片", "aftersales_desk.bad_amount"),
        ("1.234", "照片", "aftersales_desk.bad_amount"),
        ("", "照片", "aftersales_desk.amount_needed"),
        ("10", "", "aftersales_desk.text_needed"),
    ):
        pick(desk, "exceptions", case_id)
        assert desk.model.act("claim", amount, text) is False
        assert isinstance(desk.model.last_error, BadInput) and desk.model.last_error.key == key
        assert "Traceback" not in desk.message.value
    assert exception_of(shop, "D")["state"] == "open"


@pytest.mark.parametrize(("text", "fen"), [("12.5", 1250), ("12.50元", 1250), ("¥1,200", 120000), ("0", 0)])
def test_parse_yuan(text: str, fen: int) -> None:
    """Amounts typed in yuan, with or without 元, ¥ or thousands separators."""
    assert parse_yuan(text) == fen


# --- after-sale cases -------------------------------------------------------------------------


def test_agree_to_a_refund_pays_it_and_the_buyer_is_told_S2_S13(shop: kit.Shop) -> None:
    """A refund-only case: agree (asked first) refunds it at once; the case leaves the open list and
    the buyer has a notice queued."""
    desk = desk_for(shop)
    case_id = case_of(shop, "R")["case_id"]
    pick(desk, "cases", case_id)
    desk.buttons["agree"].click()
    desk.confirm.yes.click()
    assert desk.model.level == "info", desk.model.message
    assert case_of(shop, "R")["refund_status"] == "SUCCESS"
    assert desk.model.counts["cases_open"] == 1
    notices = table(shop, "outbox", order_no=NO["R"]).filter(pl.col("kind") == "after_sale")
    assert notices.height >= 2  # opened, refunded


def test_a_return_agreed_sent_back_checked_in_and_refunded_S24d(shop: kit.Shop) -> None:
    """Return and refund: agree → the buyer sends it (return number typed) → checked in good by the
    warehouse → refunded; the sock is back on hand."""
    desk = desk_for(shop)
    case_id = case_of(shop, "X")["case_id"]
    pick(desk, "cases", case_id)
    assert shown_buttons(desk) == ["take", "agree", "refuse", "close_case"]
    assert desk.model.act("agree") is True
    pick(desk, "cases", case_id)
    assert shown_buttons(desk) == ["take", "goods_returned", "close_case"]
    assert desk.model.act("goods_returned", text="YT2000000000001") is True
    assert case_of(shop, "X")["return_tracking_no"] == "YT2000000000001"

    store = desk_for(shop, "仓管小李")
    pick(store, "cases", case_id)
    assert shown_buttons(store) == ["receive"]  # the warehouse checks goods in; money is not theirs
    before = table(shop, "stock_levels", warehouse_code="hq", sku="SOCK-A")["on_hand"][0]
    assert store.model.act("receive") is True, store.model.message
    assert table(shop, "stock_levels", warehouse_code="hq", sku="SOCK-A")["on_hand"][0] == before + 1

    desk.refresh_button.click()  # the clerk's desk reads what the warehouse did
    pick(desk, "cases", case_id)
    assert "refund" in shown_buttons(desk) and "receive" not in shown_buttons(desk)
    assert desk.model.act("refund") is True
    assert case_of(shop, "X")["refund_status"] == "SUCCESS"


def test_refuse_needs_a_reason_S24d(shop: kit.Shop) -> None:
    """Refusing without a reason is refused in words; with one, the case is refused."""
    desk = desk_for(shop)
    case_id = case_of(shop, "R")["case_id"]
    pick(desk, "cases", case_id)
    assert desk.model.act("refuse") is False and desk.model.last_error.key == "aftersales_desk.text_needed"
    pick(desk, "cases", case_id)
    assert desk.model.act("refuse", text="已按时发货，物流记录为证") is True
    assert case_of(shop, "R")["refund_status"] == "SELLER_REFUSE_BUYER"


def test_import_the_platform_refund_export_from_the_desk(shop: kit.Shop, tmp_path: Path) -> None:
    """The uploaded export: one new refund imported, one row with an unknown order quarantined; the
    desk says so and lists the new case."""
    data = (
        "退款编号,订单编号,退款金额,退款状态,退款原因,是否需要退货,申请时间\n"
        f"RF900001,{NO['L']},10.00,买家已经申请退款，等待卖家同意,快递丢件,否,2026-12-04 09:00:00\n"
        "RF900002,T-NO-SUCH,5.00,退款成功,质量问题,否,2026-12-04 09:00:00\n"
    ).encode("gbk")
    desk = desk_for(shop)
    assert visible(desk.import_form)
    assert desk.model.import_refunds("退款导出.csv", data) is True, desk.model.message
    assert "新建 1 条" in desk.model.message and "隔离 1 条" in desk.model.message
    assert NO["L"] in desk.model.tables["cases"].frame["order_no"].to_list()


# --- roles and conflicts ------------------------------------------------------------------------


def test_an_analyst_sees_the_lists_and_no_button_and_the_core_refuses_a_forced_action(shop: kit.Shop) -> None:
    """An analyst reads; no row offers anything; forcing a claim through the model is refused by the
    core (PermissionDenied in words) and nothing changes."""
    desk = desk_for(shop, "分析师")
    case_id = exception_of(shop, "D")["case_id"]
    pick(desk, "exceptions", case_id)
    assert shown_buttons(desk) == [] and not visible(desk.import_form)
    desk.model.offered = ["claim"]  # as if a button had been shown
    assert desk.model.act("claim", "10", "照片") is False
    assert isinstance(desk.model.last_error, PermissionDenied) and "分析员" in desk.model.message
    assert exception_of(shop, "D")["state"] == "open"


def test_two_clerks_acting_on_one_case_one_wins_the_other_is_told_S21(shop: kit.Shop) -> None:
    """Two desks read the same damaged case; both claim it at once: exactly one claim is recorded,
    the other desk shows the conflict in words."""
    first, second = desk_for(shop), desk_for(shop, "店长")
    case_id = exception_of(shop, "D")["case_id"]
    for desk in (first, second):
        pick(desk, "exceptions", case_id)
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda d=d: results.append(d.model.act("claim", "20", f"{d} 的凭证")))
        for d in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    loser = first if first.model.last_error is not None else second
    assert "刚被" in loser.model.message or "已经是" in loser.model.message
    assert len([a for a in shop.audit_trail("exception", str(case_id))["action"] if a == "claim"]) == 1


def test_the_view_switch_shows_exactly_one_table(shop: kit.Shop) -> None:
    """The toggle shows one list at a time."""
    desk = desk_for(shop)
    for view in VIEWS:
        desk.switch.value = view
        assert [v for v, table_ in desk.tables.items() if visible(table_)] == [view]


def test_every_header_fits_its_column(shop: kit.Shop) -> None:
    """No Chinese header is cut off in the grid: each column is as wide as its label."""
    model = desk_for(shop).model
    narrow = [
        (v, c.label, c.width) for v in VIEWS for c in model.tables[v].columns if c.width < header_px(c.label)
    ]
    assert narrow == []


def test_english(shop: kit.Shop) -> None:
    """With KIT_LANG=en the desk speaks English."""
    set_lang("en")
    desk = desk_for(shop)
    assert "Exceptions and after-sales" in desk.header.title.value
    pick(desk, "exceptions", exception_of(shop, "D")["case_id"])
    assert desk.buttons["claim"].description == "Claim from carrier"


def test_desk_without_a_database_explains_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that cannot be opened: the store's message, no button, no import."""
    monkeypatch.setenv("KIT_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/folder/kit.db")
    desk = aftersales_desk()
    assert desk.model.shop is None and desk.model.last_error is not None
    assert desk.model.allowed == [] and shown_buttons(desk) == [] and not visible(desk.import_form)
    assert isinstance(desk.model, AfterSalesDeskModel)

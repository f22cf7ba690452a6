"""The review desk's view model and widgets, without a browser (S6, S11, S16, S24a, S26)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import polars as pl
import pytest
from orders_factory import make_orders, order_no
from ui_support import visible

import kit
from kit import lifecycle, review
from kit.errors import BadInput, Conflict, GuardFailed, PermissionDenied
from kit.i18n import set_lang, t
from kit.shop import Shop
from kit.ui import ReviewDesk, review_desk
from kit.ui.review_desk import masked
from kit.ui.table import KEY, Column, OrderTable, TableModel

STAFF = {"客服小美": "presale", "店长": "supervisor", "分析师": "analyst", "仓管老周": "warehouse"}
DAY = date(2026, 11, 30)
MESSAGE, MARS, COD, CLEAN = order_no(1), order_no(2), order_no(3), order_no(4)


@pytest.fixture
def shop(sqlite_url: str) -> Iterator[Shop]:
    """Four orders reviewed by pre-sales: held for a message, for Mars, for COD; one approved."""
    config = kit.config.parse({"staff": STAFF})
    orders, lines = make_orders(4)
    orders = orders.with_columns(
        pl.Series("buyer_message", ["周末不在家，请工作日送", None, None, None]),
        pl.Series("province", ["浙江省", "火星", "北京市", "上海市"]),
        pl.Series("receiver_mobile", ["13812345678", "12345", "13900001111", "13700002222"]),
        pl.Series("payment_method", ["online", "online", "cod", "online"]),
    )
    with kit.connect(sqlite_url, actor="客服小美", config=config) as shop:
        shop.insert_orders(orders, lines, kind="test", source="test")
        review.run(shop)
        yield shop


def desk_for(shop: Shop, name: str | None = None) -> ReviewDesk:
    """The desk as `name` (default: the shop's own actor) would see it."""
    return review_desk(shop.acting_as(name) if name else shop)


def shown(model: TableModel, label_key: str) -> dict[str, Any]:
    """Order number → the value a column shows on the current page."""
    rows = model.rows
    return dict(zip(rows[KEY].to_list(), rows[t(f"review_desk.{label_key}")].to_list(), strict=True))


def classes(widget: object) -> set[str]:
    """The CSS classes of a widget."""
    return set(widget._dom_classes)  # type: ignore[attr-defined]



def test_held_list_shows_every_reason_in_words(shop: Shop) -> None:
    """The held orders are listed with all their reasons in words, oldest payment first (S11, S26)."""
    desk = desk_for(shop)

    reasons = shown(desk.model.orders, "col_reasons")

    assert list(reasons) == [MESSAGE, MARS, COD]
    assert reasons[MESSAGE] == t("review.buyer_message")
    assert reasons[MARS] == "；".join([t("review.province_unknown"), t("review.phone_invalid")])
    assert reasons[COD] == t("review.cod_unconfirmed")
    assert shown(desk.model.orders, "col_message")[MESSAGE] == "周末不在家，请工作日送"
    assert desk.tiles["held"].number == 3 and desk.tiles["cod"].number == 1
    assert desk.model.message == ""


def test_detail_shows_the_selected_orders_reasons_message_and_lines(shop: Shop) -> None:
    """Selecting one order shows each reason as a list item, the buyer's message and its lines."""
    desk = desk_for(shop)

    desk.model.orders.select([MARS])

    html = desk.held.detail.value
    assert f"订单 {MARS}" in html
    assert f"<li>{t('review.province_unknown')}</li><li>{t('review.phone_invalid')}</li>" in html
    assert desk.model.lines is not None and desk.model.lines["order_no"].unique().to_list() == [MARS]
    assert "×" in html


def test_present_flag_is_shown_S26(shop: Shop) -> None:
    """An order whose message says it is a present shows the no-price-slip flag."""
    orders, lines = make_orders(1, start=20)
    shop.insert_orders(orders.with_columns(pl.lit("送人的，不要放价格单").alias("buyer_message")), lines,
                       kind="test", source="test")
    review.run(shop)

    desk = desk_for(shop)

    assert shown(desk.model.orders, "col_present")[order_no(20)] == t("review_desk.present_yes")
    assert shown(desk.model.orders, "col_present")[MESSAGE] == ""


def test_approve_uses_the_displayed_version_and_the_order_leaves_the_list(shop: Shop) -> None:
    """Approving the selected order approves it as the acting person; the list and tile follow."""
    desk = desk_for(shop)
    desk.model.orders.select([MESSAGE])

    ok = desk.model.approve()

    assert ok is True
    assert shop.order(MESSAGE).stage == "approved"
    assert shop.audit_trail("order", MESSAGE)["actor"][-1] == "客服小美"
    assert desk.model.message == t("review_desk.done", action="审核通过", count=1)
    assert desk.model.level == "info"
    assert MESSAGE not in desk.model.orders.rows[KEY].to_list()
    assert desk.tiles["held"].number == 2


def test_a_stale_approve_shows_the_conflict_not_an_exception(shop: Shop) -> None:
    """Someone changed the order after the desk showed it: the click shows the conflict, acts not."""
    desk = desk_for(shop)
    with shop.store.write() as conn:
        lifecycle.edit(conn, MESSAGE, {"seller_memo": "买家来电"}, shop.staff_member("店长"))

    ok = desk.model.approve([MESSAGE])

    assert ok is False
    assert isinstance(desk.model.last_error, Conflict)
    assert desk.model.level == "error"
    assert desk.model.message == desk.model.last_error.message
    assert "店长" in desk.model.message
    assert "Traceback" not in desk.model.message
    assert shop.order(MESSAGE).stage == "held"
    assert "kit-message-error" in classes(desk.message)


def test_approve_button_asks_for_confirmation_first(shop: Shop) -> None:
    """The approve button only asks; yes approves, no leaves the order as it was."""
    desk = desk_for(shop)
    bar = desk.held.actions
    desk.model.orders.select([MESSAGE, MARS])

    bar.buttons["approve"].click()
    assert visible(bar.confirm)
    assert "2 张" in bar.confirm.question.value
    bar.confirm.no.click()
    assert not visible(bar.confirm) and shop.order(MESSAGE).stage == "held"

    desk.model.orders.select([MESSAGE, MARS])
    bar.buttons["approve"].click()
    bar.confirm.yes.click()

    assert shop.order(MESSAGE).stage == shop.order(MARS).stage == "approved"
    assert desk.model.message == t("review_desk.done", action="审核通过", count=2)


def test_a_refusal_among_many_names_what_was_not_done(shop: Shop) -> None:
    """Approving a COD order not yet confirmed is refused by the core; the other one goes through."""
    desk = desk_for(shop)

    ok = desk.model.approve([MESSAGE, COD])

    assert ok is False
    assert shop.order(MESSAGE).stage == "approved" and shop.order(COD).stage == "held"
    assert desk.model.level == "error"
    assert "已处理 1 张，1 张没有处理" in desk.model.message
    assert desk.model.last_error is not None and desk.model.last_error.message in desk.model.message


def test_hold_needs_a_reason_and_keeps_it(shop: Shop) -> None:
    """Holding an approved order without a reason is refused; with one, the reason is listed."""
    desk = desk_for(shop)
    desk.model.stage = "approved"
    assert "hold" in desk.model.allowed and "approve" not in desk.model.allowed

    assert desk.model.hold("", [CLEAN]) is False
    assert isinstance(desk.model.last_error, GuardFailed)

    assert desk.model.hold("买家来电要求暂缓发货", [CLEAN]) is True
    desk.model.stage = "held"
    assert shown(desk.model.orders, "col_reasons")[CLEAN] == "买家来电要求暂缓发货"


def test_cod_phone_confirmation_releases_the_order_S16(shop: Shop) -> None:
    """'Phone confirmed' records who confirmed and reviews the order again: approved, off the list."""
    desk = desk_for(shop)
    assert desk.model.calls.rows[KEY].to_list() == [COD]
    assert shown(desk.model.calls, "col_mobile")[COD] == "13900001111"
    desk.model.calls.select([COD])

    ok = desk.model.confirm_phone()

    assert ok is True
    order = shop.order(COD)
    assert (order.stage, order.phone_confirmed) == ("approved", True)
    assert desk.model.message == t("review_desk.phone_confirmed", count=1, approved=1, held=0)
    assert desk.model.calls.total == 0 and desk.tiles["cod"].number == 0
    assert visible(desk.cod.table.empty)


def test_analyst_sees_no_action_and_masked_phones(shop: Shop) -> None:
    """An analyst reads the lists with masked numbers; no action button is shown."""
    desk = desk_for(shop, "分析师")

    assert desk.model.allowed == []
    assert not any(visible(b) for b in desk.held.actions.buttons.values())
    assert not visible(desk.cod.button) and not visible(desk.reconcile.run)
    assert not visible(desk.run_review)
    assert shown(desk.model.orders, "col_mobile")[MESSAGE] == "138****5678"
    assert shown(desk.model.calls, "col_mobile")[COD] == "139****1111"
    assert shown(desk.model.orders, "col_receiver")[MESSAGE].endswith("*")
    assert "只能查看" in desk.subtitle.value
    desk.model.orders.select([MESSAGE])
    assert "****" in desk.held.detail.value and "13812345678" not in desk.held.detail.value


def test_the_core_still_refuses_an_analyst_who_forces_an_action(shop: Shop) -> None:
    """A hidden button is not a permission: calling the model anyway shows the core's refusal."""
    desk = desk_for(shop, "分析师")

    ok = desk.model.approve([MESSAGE])

    assert ok is False
    assert isinstance(desk.model.last_error, PermissionDenied)
    assert "分析员" in desk.model.message
    assert shop.order(MESSAGE).stage == "held"
    assert desk.model.confirm_phone([COD]) is False
    assert desk.model.reconcile(DAY, "3") is False
    assert isinstance(desk.model.last_error, PermissionDenied)


def test_warehouse_sees_no_review_actions(shop: Shop) -> None:
    """The warehouse may not approve, edit addresses or reconcile: none of it is offered."""
    desk = desk_for(shop, "仓管老周")

    assert desk.model.allowed == []
    assert shown(desk.model.orders, "col_mobile")[MESSAGE] == "138****5678"


def test_supervisor_sees_everything_pre_sales_does(shop: Shop) -> None:
    """Pre-sales and supervisors get the same review desk, with whole phone numbers."""
    presale, supervisor = desk_for(shop), desk_for(shop, "店长")

    assert set(presale.model.allowed) == set(supervisor.model.allowed) == {
        "approve", "cancel", "recheck", "run_review", "reconcile", "address", "merge", "split",
        "confirm_phone"}
    assert shown(supervisor.model.orders, "col_mobile")[MESSAGE] == "13812345678"


def test_edit_address_saves_what_changed_then_recheck_S24a(shop: Shop) -> None:
    """Fixing the province and phone with the buyer saves only those fields, audited; recheck approves."""
    desk = desk_for(shop)

    ok = desk.model.edit_address(MARS, {"province": "广东省", "receiver_mobile": "13811112222",
                                        "city": "北京市"}, "买家来电更正")

    assert ok is True
    order = shop.order(MARS)
    assert (order.address.province, order.receiver_mobile) == ("广东省", "13811112222")
    trail = shop.audit_trail("order", MARS).filter(pl.col("action") == "edit_address")
    assert sorted(trail["field"].to_list()) == ["province", "receiver_mobile"]
    assert desk.model.message == t("review_desk.address_saved", order_no=MARS)

    assert desk.model.recheck([MARS]) is True
    assert shop.order(MARS).stage == "approved"


def test_edit_address_with_a_stale_version_is_a_conflict(shop: Shop) -> None:
    """The address form saved over someone else's change shows the conflict."""
    desk = desk_for(shop)
    with shop.store.write() as conn:
        lifecycle.edit(conn, MARS, {"seller_memo": "已联系"}, shop.staff_member("店长"))

    assert desk.model.edit_address(MARS, {"province": "广东省"}) is False
    assert isinstance(desk.model.last_error, Conflict)
    assert shop.order(MARS).address.province == "火星"


def test_address_form_opens_prefilled_for_one_order(shop: Shop) -> None:
    """The form opens for exactly one selected order, filled with what is stored."""
    desk = desk_for(shop)
    desk.model.orders.select([MESSAGE, MARS])
    desk.held.actions.buttons["address"].click()
    assert desk.held.forms.children == ()
    assert desk.model.message == t("review_desk.select_one", action="修改收货信息")

    desk.model.orders.select([MARS])
    desk.held.actions.buttons["address"].click()

    form = desk.held.forms.children[0]
    assert "kit-form-address" in classes(form)
    texts = {w.description: w.value for w in form.children[1].children}
    assert texts["省"] == "火星" and texts["手机"] == "12345"


def test_merge_of_different_buyers_is_refused_in_words(shop: Shop) -> None:
    """Merging orders of two buyers is refused by the service, shown as a sentence (合单, S6)."""
    desk = desk_for(shop)

    ok = desk.model.merge(MESSAGE, [MESSAGE, MARS], "同一买家")

    assert ok is False
    assert shop.orders(stage="held").filter(pl.col("order_no") == MARS)["merged_into"][0] is None
    assert desk.model.message == t("review.merge_other_address", into=MESSAGE)
    assert desk.model.merge(MESSAGE, [MESSAGE]) is False  # nothing to merge: says so, acts not


def test_split_assigns_lines_to_parcels(shop: Shop) -> None:
    """Splitting an order puts its second line in parcel 2."""
    desk = desk_for(shop)

    ok = desk.model.split(MESSAGE, {1: 1, 2: 2}, "分两次发")

    assert ok is True
    parts = shop.lines([MESSAGE]).sort("line_no")["ship_part"].to_list()
    assert parts == [1, 2]
    assert desk.model.message == t("review_desk.split_saved", order_no=MESSAGE, parts=2)


def test_run_review_reviews_new_orders_and_says_how_many(shop: Shop) -> None:
    """The run-review button reviews the new orders and shows the counts."""
    desk = desk_for(shop)
    orders, lines = make_orders(2, start=30)
    shop.insert_orders(orders.with_columns(pl.lit(None, dtype=pl.String).alias("buyer_message")), lines,
                       kind="test", source="test")
    desk.refresh_button.click()
    assert desk.tiles["new"].number == 2

    desk.run_review.click()

    assert desk.model.message == t("review_desk.reviewed", reviewed=2, approved=2, held=0, presents=0)
    assert desk.tiles["new"].number == 0


def test_reconciliation_with_a_typed_count_shows_the_difference_S6(shop: Shop) -> None:
    """Pre-sales counted six; four are registered: the difference is two, recorded."""
    desk = desk_for(shop)
    panel = desk.reconcile
    panel.day.value, panel.count.value = DAY, "6"

    panel.run.click()

    result = desk.model.reconciliation
    assert result is not None and not result.balanced
    assert (panel.imported.number, panel.counted.number, panel.difference.number) == (4, 6, 2)
    assert t("review_desk.recon_missing", count=2) in panel.verdict.value
    assert desk.model.message == t("review_desk.recon_recorded", day="2026-11-30", imported=4, counted=6,
                                   difference=2)
    assert "kit-recon-held" in panel.table.value


def test_reconciliation_balanced_and_extra(shop: Shop) -> None:
    """Equal counts read as balanced; fewer counted than registered as possible duplicates."""
    desk = desk_for(shop)

    desk.model.reconcile(DAY, "4")
    assert t("review_desk.recon_balanced") in desk.reconcile.verdict.value
    assert "kit-kpi-zero" in classes(desk.reconcile.difference)

    desk.model.reconcile(DAY, "3")
    assert t("review_desk.recon_extra", count=1) in desk.reconcile.verdict.value


def test_a_count_that_is_not_a_number_is_explained(shop: Shop) -> None:
    """Typing letters into the count gives a sentence, not an exception; nothing is recorded."""
    desk = desk_for(shop)

    assert desk.model.reconcile(DAY, "十二") is False

    assert isinstance(desk.model.last_error, BadInput)
    assert desk.model.message == t("review_desk.bad_count", value="十二")
    assert desk.model.reconciliation is None


def test_english(shop: Shop) -> None:
    """With set_lang("en") the desk, its reasons and its messages read in English."""
    set_lang("en")

    desk = desk_for(shop)

    assert desk.tabs.get_title(0) == "Held orders" and desk.tabs.get_title(2) == "Reconciliation"
    assert desk.held.actions.buttons["approve"].description == "Approve"
    assert shown(desk.model.orders, "col_reasons")[COD] == t("review.cod_unconfirmed", lang="en")
    desk.model.approve([MESSAGE])
    assert desk.model.message == "Approve: 1 orders done."


def test_css_classes_for_browser_tests(shop: Shop) -> None:
    """The root, panels, buttons and inputs carry their stable CSS classes."""
    desk = desk_for(shop)

    assert "kit-review" in classes(desk)
    assert {"kit-review-held", "kit-review-cod", "kit-review-reconcile"} == {
        c for p in (desk.held, desk.cod, desk.reconcile) for c in classes(p) if c.startswith("kit-review-")}
    assert "kit-action-approve" in classes(desk.held.actions.buttons["approve"])
    assert "kit-action-confirm-phone" in classes(desk.cod.button)
    assert "kit-table-grid" in classes(desk.held.table.grid)
    assert "kit-recon-count" in classes(desk.reconcile.count)
    assert "kit-kpi-review-held" in classes(desk.tiles["held"])


def test_desk_without_a_database_explains_in_words(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that cannot be opened gives a desk with the store's message and empty lists."""
    monkeypatch.setenv("KIT_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/folder/kit.db")

    desk = review_desk()

    assert desk.model.shop is None and desk.model.last_error is not None
    assert "不存在" in desk.message.value
    assert desk.model.orders.total == 0 and desk.tiles["held"].number is None


def test_masking_keeps_the_ends() -> None:
    """Masking keeps three digits in front and four at the end."""
    frame = pl.DataFrame({"p": ["13812345678", "0571-88886666", "123", None]})

    assert frame.select(masked("p"))["p"].to_list() == ["138****5678", "057****6666", "****", None]


def table_of(n: int, page_size: int = 15) -> tuple[TableModel, OrderTable]:
    """A table over n rows: order numbers and an amount that falls as the number rises."""
    frame = pl.DataFrame({"order_no": [order_no(k) for k in range(1, n + 1)],
                          "amount": [float(1000 - k) for k in range(1, n + 1)],
                          "city": ["杭州" if k % 2 else "深圳" for k in range(1, n + 1)]})
    model = TableModel([Column("单号", pl.col("order_no")), Column("金额", pl.col("amount"), 80, ",.2f"),
                        Column("城市", pl.col("city"))], search=("城市",), page_size=page_size, frame=frame)
    return model, OrderTable(model)


def test_table_holds_one_page_and_pages_in_polars() -> None:
    """40 rows at 15 a page: the grid holds 15, then 15, then 10."""
    model, table = table_of(40)

    assert (model.total, model.pages, model.rows.height) == (40, 3, 15)
    assert len(table.grid._data["data"]) == 15  # what is sent to the browser: one page
    model.next_page()
    model.next_page()
    model.next_page()  # stays on the last page
    assert model.page == 2 and model.rows[KEY].to_list() == [order_no(k) for k in range(31, 41)]
    assert table.next.disabled and not table.prev.disabled


def test_table_search_and_header_transforms_apply_to_every_page() -> None:
    """The search box and the grid header's sort and filter act on the whole frame."""
    model, table = table_of(40)

    table.search.value = "深圳"
    assert model.total == 20 and model.page == 0

    model.transforms = [{"type": "sort", "column": "金额", "desc": False}]
    assert model.rows[KEY][0] == order_no(40)

    model.transforms = [{"type": "filter", "column": "金额", "operator": ">=", "value": 990}]
    assert model.rows[KEY].to_list() == [order_no(k) for k in (2, 4, 6, 8, 10)]

    table.search.value, model.transforms = "", []
    model.choices = {"城市": "杭州"}
    assert model.total == 20 and model.rows[KEY][0] == order_no(1)


def test_table_selection_from_the_grid_and_back() -> None:
    """Rows picked in the grid become the selected keys; keys selected in Python light up the grid."""
    model, table = table_of(40)
    model.next_page()

    table.grid.selections = [{"r1": 0, "r2": 1, "c1": 0, "c2": 2}, {"r1": 4, "r2": 4, "c1": 0, "c2": 2}]

    assert model.selected == [order_no(16), order_no(17), order_no(20)]
    assert "已选 3 张" in table.count.value
    model.select([order_no(18)])
    assert table.grid.selections == [{"r1": 2, "r2": 2, "c1": 0, "c2": 2}]
    model.next_page()
    assert model.selected == []

"""The 库存 stock desk's view model and widgets, without a browser (S7, S12, S17, S20).

The shop: two warehouses (杭州 hq, 广州 gz), four SKUs, stock for three of them and four
approved orders from orders_factory. Allocation (S17) ships order 3 from hq and
backorders orders 1, 2 (SOCK-WL-5: none anywhere) and 4 (CUP-GL-350: one left after order
3), so the shortage lists (S7), the replenishment list (S12) and the stockout notices
(S20) all have something to show.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from orders_factory import PRODUCTS, make_orders, order_no
from ui_support import header_px, visible

import kit
from kit import allocation, outbox, stock
from kit.errors import BadInput, PermissionDenied
from kit.i18n import set_lang, t
from kit.shop import Shop
from kit.store import schema
from kit.ui import StockDesk, StockDeskModel, stock_desk
from kit.ui.stock_desk import VIEWS
from kit.ui.stock_view import XLSX
from kit.ui.table import KEY, TableModel

STAFF = {"店长": "supervisor", "仓管老周": "warehouse", "客服小美": "presale", "分析师": "analyst"}
WAREHOUSES = [
    {"code": "hq", "name": "杭州总仓", "kind": "hq", "province": "浙江省", "city": "杭州市"},
    {"code": "gz", "name": "广州门店", "kind": "store", "province": "广东省", "city": "广州市"},
]
TEA, CUP, TOWEL, SOCK = (p[0] for p in PRODUCTS)
THRESHOLDS = {TEA: 5, CUP: 2, TOWEL: None, SOCK: 1}  # low-stock thresholds (S12)
OPENING = [  # nothing of SOCK anywhere; four cups, three of them for order 3
    {"warehouse_code": "hq", "sku": TEA, "quantity": 20},
    {"warehouse_code": "hq", "sku": CUP, "quantity": 4},
    {"warehouse_code": "hq", "sku": TOWEL, "quantity": 10},
    {"warehouse_code": "gz", "sku": TOWEL, "quantity": 2},
]
# make_orders(4): 1 = TOWEL×3 + SOCK×1 (广东), 2 = SOCK×1 (北京), 3 = TEA×2 + CUP×3 (上海),
# 4 = CUP×3 (四川)
SHIPPED, BACKORDERED = order_no(3), [order_no(1), order_no(2), order_no(4)]
STOCK_TABLES = ("stock_levels", "stock_ledger", "batches", "audit")


@pytest.fixture
def shop(sqlite_url: str) -> Iterator[Shop]:
    """Staff, warehouses and SKUs in the database, opening stock, four approved orders;
    the supervisor acts."""
    config = kit.config.parse({"staff": STAFF, "warehouses": WAREHOUSES})
    with kit.connect(sqlite_url, actor="店长", config=config) as shop:
        shop.sync_settings()
        shop.store.insert_frame(schema.skus, pl.DataFrame({
            "sku": [p[0] for p in PRODUCTS], "title": [p[1] for p in PRODUCTS], "category": "general",
            "spec": [p[2] for p in PRODUCTS], "weight_g": 500, "price_fen": [p[3] for p in PRODUCTS],
            "low_stock_threshold": [THRESHOLDS[p[0]] for p in PRODUCTS]}))
        stock.receive_goods(shop, OPENING, reason="期初")
        shop.insert_orders(*make_orders(4, stage="approved"), kind="test", source="test")
        yield shop


@pytest.fixture
def allocated(shop: Shop) -> Shop:
    """The same shop after one allocation run through the service (kit allocate)."""
    result = allocation.allocate(shop)
    assert (result.allocated, sorted(result.backordered)) == ([SHIPPED], BACKORDERED)
    return shop


def desk_for(shop: Shop, name: str | None = None) -> StockDesk:
    """The desk as `name` (default: the shop's own actor) would see it, read and drawn."""
    return stock_desk(shop.acting_as(name) if name else shop)


def table(model: TableModel, *labels: str) -> dict[str, tuple[Any, ...]]:
    """Row key → the values the named columns show (labels in the active language)."""
    rows = model.rows
    return {row[KEY]: tuple(row[label] for label in labels) for row in rows.iter_rows(named=True)}


def labels(model: TableModel) -> list[str]:
    """The column headers a table shows, left to right."""
    return [c for c in model.rows.columns if c != KEY]


def tiles(desk: StockDesk) -> dict[str, int | None]:
    """What each KPI tile shows."""
    return {code: tile.number for code, tile in desk.kpis.tiles.items()}


def classes(widget: object) -> set[str]:
    """The CSS classes of a widget."""
    return set(widget._dom_classes)  # type: ignore[attr-defined]



def stock_rows(shop: Shop) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a stock movement writes to, read in a new transaction."""
    with shop.store.read() as conn:
        return {name: sorted(map(tuple, conn.execute(sa.select(schema.metadata.tables[name]))), key=repr)
                for name in STOCK_TABLES}


def shipments(shop: Shop, order_nos: list[str]) -> int:
    """How many parcels (shipments) these orders have."""
    sh = schema.shipments
    with shop.store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).where(sh.c.order_no.in_(order_nos))).scalar_one()


def stages(shop: Shop) -> dict[str, str]:
    """Order number → stage."""
    frame = shop.orders()
    return dict(zip(frame["order_no"].to_list(), frame["stage"].to_list(), strict=True))


# --- reading --------------------------------------------------------------------------------


def test_counts_after_refresh_before_allocation_S12(shop: Shop) -> None:
    """Three SKUs on the shelves, one to replenish (SOCK: none, threshold 1), nothing short yet."""
    model = StockDeskModel(shop)

    ok = model.refresh()

    assert ok is True
    assert model.counts == {"skus": 3, "low": 1, "short": 0, "waiting": 0, "notices": 0}
    assert (model.message, model.level, model.last_error) == ("", "", None)
    assert model.warehouses == ["gz", "hq"]
    assert model.view == "levels" and model.table is model.tables["levels"]


def test_counts_after_allocation_S7_S12_S17(allocated: Shop) -> None:
    """After the run: two SKUs short, three orders waiting, CUP now low too; the tiles agree."""
    desk = desk_for(allocated)

    assert desk.model.counts == {"skus": 3, "low": 2, "short": 2, "waiting": 3, "notices": 0}
    assert tiles(desk) == desk.model.counts
    assert "kit-kpi-zero" in classes(desk.kpis.tiles["notices"])
    assert "kit-kpi-zero" not in classes(desk.kpis.tiles["waiting"])


def test_levels_view_rows_and_columns_S12(allocated: Shop) -> None:
    """Stock per warehouse and SKU: on hand, reserved for order 3, available, threshold."""
    model = desk_for(allocated).model
    levels = model.tables["levels"]

    assert labels(levels) == [t("shortages.col_sku"), t("stock_desk.col_warehouse"), t("shortages.col_title"),
                              t("stock_desk.col_on_hand"), t("stock_desk.col_reserved"),
                              t("stock_desk.col_available"), t("stock_desk.col_threshold")]
    shown = table(levels, t("stock_desk.col_warehouse"), t("stock_desk.col_on_hand"),
                  t("stock_desk.col_reserved"), t("stock_desk.col_available"), t("stock_desk.col_threshold"))
    assert shown == {
        f"hq/{CUP}": ("hq", 4, 3, 1, "2"),
        f"hq/{TEA}": ("hq", 20, 2, 18, "5"),
        f"gz/{TOWEL}": ("gz", 2, 0, 2, ""),
        f"hq/{TOWEL}": ("hq", 10, 0, 10, ""),
    }
    assert levels.total == 4
    assert table(levels, t("shortages.col_title"))[f"hq/{TEA}"] == ("西湖龙井 明前特级 250克",)


def test_low_view_lists_what_to_replenish_S12(allocated: Shop) -> None:
    """At or below the threshold, fewest available first: SOCK (0 ≤ 1), then CUP (1 ≤ 2)."""
    low = desk_for(allocated).model.tables["low"]

    assert labels(low) == [t("shortages.col_sku"), t("shortages.col_title"), t("stock_desk.col_available"),
                           t("stock_desk.col_reserved"), t("stock_desk.col_threshold")]
    shown = table(low, t("stock_desk.col_available"), t("stock_desk.col_reserved"),
                  t("stock_desk.col_threshold"))
    assert list(shown.items()) == [(SOCK, (0, 0, 1)), (CUP, (1, 3, 2))]


def test_shortage_view_per_sku_for_purchasing_S7(allocated: Shop) -> None:
    """Per SKU: what the waiting orders miss, how many wait, what own warehouses hold, to source."""
    shortage = desk_for(allocated).model.tables["shortages"]

    assert labels(shortage) == [t("shortages.col_sku"), t("shortages.col_title"), t("shortages.col_goes_to"),
                                t("shortages.col_missing"), t("shortages.col_orders"),
                                t("shortages.col_available"), t("shortages.col_to_source")]
    shown = table(shortage, t("shortages.col_goes_to"), t("shortages.col_missing"), t("shortages.col_orders"),
                  t("shortages.col_available"), t("shortages.col_to_source"))
    purchasing = t("shortages.purchasing")
    assert shown == {CUP: (purchasing, 2, 1, 1, 2), SOCK: (purchasing, 2, 2, 0, 2)}


def test_waiting_view_lists_every_backordered_line_S20(allocated: Shop) -> None:
    """One row per waiting order line, keyed order#line, with what it misses and where."""
    waiting = desk_for(allocated).model.tables["waiting"]

    assert labels(waiting) == [t("shortages.col_order_no"), t("shortages.col_sku"), t("shortages.col_title"),
                               t("shortages.col_quantity"), t("shortages.col_missing"),
                               t("shortages.col_warehouse_code"), t("shortages.col_since")]
    shown = table(waiting, t("shortages.col_order_no"), t("shortages.col_sku"), t("shortages.col_quantity"),
                  t("shortages.col_missing"))
    assert shown == {
        f"{order_no(1)}#2": (order_no(1), SOCK, 1, 1),
        f"{order_no(2)}#1": (order_no(2), SOCK, 1, 1),
        f"{order_no(4)}#1": (order_no(4), CUP, 3, 2),
    }
    since = waiting.rows[t("shortages.col_since")].to_list()
    assert all(len(s) == len("11-30 09:00") and s[2] == "-" for s in since)


def test_search_reaches_every_list(allocated: Shop) -> None:
    """The search box finds a SKU in the levels and an order number in the waiting lines."""
    desk = desk_for(allocated)

    desk.tables["levels"].search.value = "towel"
    desk.tables["waiting"].search.value = order_no(4)

    assert set(desk.model.tables["levels"].rows[KEY].to_list()) == {f"hq/{TOWEL}", f"gz/{TOWEL}"}
    assert desk.model.tables["waiting"].rows[KEY].to_list() == [f"{order_no(4)}#1"]


# --- actions --------------------------------------------------------------------------------


def test_allocate_asks_first_then_allocates_and_says_so_S17(shop: Shop) -> None:
    """The button only asks; no leaves every order approved; yes allocates order 3, backorders
    the rest and shows the catalogue's sentence; the tiles follow."""
    desk = desk_for(shop)

    desk.allocate_button.click()
    assert visible(desk.confirm)
    assert desk.confirm.question.value == f"<div>{t('stock_desk.ask_allocate')}</div>"
    desk.confirm.no.click()
    assert not visible(desk.confirm)
    assert set(stages(shop).values()) == {"approved"}

    desk.allocate_button.click()
    desk.confirm.yes.click()

    assert stages(shop) == {SHIPPED: "allocated", **dict.fromkeys(BACKORDERED, "backordered")}
    assert desk.model.level == "info" and desk.model.last_error is None
    assert desk.model.message == t("stock.allocated", allocated=1, backordered=3, still_short=0, waiting=0,
                                   shipments=1, units=5)
    assert "分仓完成" in desk.message.value and "kit-message-info" in classes(desk.message)
    assert tiles(desk) == {"skus": 3, "low": 2, "short": 2, "waiting": 3, "notices": 0}
    assert desk.model.tables["waiting"].total == 3


def test_allocate_again_after_goods_arrive_ships_the_waiting_S7_S17(allocated: Shop) -> None:
    """Socks arrive in 广州; the next run ships orders 1 and 2 and they leave the lists."""
    desk = desk_for(allocated)
    assert desk.model.receive("gz", SOCK, "5") is True

    assert desk.model.allocate() is True

    assert stages(allocated)[order_no(1)] == stages(allocated)[order_no(2)] == "allocated"
    assert stages(allocated)[order_no(4)] == "backordered"
    parcels = shipments(allocated, [order_no(1), order_no(2)])  # 1: towels from hq, socks from gz
    assert desk.model.message == t("stock.allocated", allocated=2, backordered=0, still_short=1, waiting=0,
                                   shipments=parcels, units=5)
    assert desk.model.counts["short"] == 1 and desk.model.counts["waiting"] == 1
    assert desk.model.tables["shortages"].rows[KEY].to_list() == [CUP]


def test_notify_queues_one_notice_per_waiting_order_S20(allocated: Shop) -> None:
    """Notify asks, then queues a stockout notice per waiting order; the tile grows; a second
    run queues nothing more."""
    desk = desk_for(allocated)
    assert desk.kpis.tiles["notices"].number == 0

    desk.notify_button.click()
    assert desk.confirm.question.value == f"<div>{t('stock_desk.ask_notify')}</div>"
    desk.confirm.yes.click()

    assert desk.model.message == t("shortages.notified", count=3)
    assert desk.kpis.tiles["notices"].number == 3
    queued = outbox.notices(allocated)
    assert sorted(queued["order_no"].to_list()) == BACKORDERED
    assert set(queued["kind"].to_list()) == {"stockout"}

    assert desk.model.notify() is True
    assert desk.model.message == t("shortages.notified", count=0)
    assert desk.kpis.tiles["notices"].number == 3 and outbox.notices(allocated).height == 3


def test_receive_form_records_goods_and_clears_itself(shop: Shop) -> None:
    """A receipt typed into the form: on hand goes up with a ledger row, the levels list
    shows it, the message says so and the form is empty again."""
    desk = desk_for(shop)
    assert list(desk.warehouse.options) == ["gz", "hq"]
    desk.warehouse.value, desk.sku.value = "gz", f" {SOCK} "
    desk.quantity.value, desk.reason.value = "6", "到货"

    desk.receive_form.children[-1].click()

    assert desk.model.last_error is None
    assert desk.model.message == t("stock_desk.received", sku=SOCK, warehouse="gz", units=6)
    assert (desk.sku.value, desk.quantity.value, desk.reason.value) == ("", "", "")
    assert table(desk.model.tables["levels"], t("stock_desk.col_on_hand"))[f"gz/{SOCK}"] == (6,)
    assert desk.model.counts["skus"] == 4 and desk.model.counts["low"] == 0
    level = stock.levels(shop, warehouse="gz", skus=[SOCK])
    assert level.select("on_hand", "reserved").row(0) == (6, 0)
    with shop.store.read() as conn:
        led = schema.stock_ledger
        ledger = conn.execute(sa.select(led).where(led.c.sku == SOCK)).mappings()
        moves = [(r["kind"], r["on_hand_delta"], r["reason"], r["actor"]) for r in ledger]
    assert moves == [("receipt", 6, "到货", "店长")]


def test_receive_form_starts_on_a_warehouse_and_keeps_the_choice(shop: Shop) -> None:
    """The warehouse list opens on the first warehouse (a Dropdown would otherwise select
    nothing and the browser show it blank), so a receipt typed without touching it goes
    there; a chosen warehouse stays chosen when the desk reads again."""
    desk = desk_for(shop)
    assert desk.warehouse.value == "gz" and desk.warehouse.index == 0
    desk.sku.value, desk.quantity.value = SOCK, "2"

    desk.receive_form.children[-1].click()

    assert desk.model.message == t("stock_desk.received", sku=SOCK, warehouse="gz", units=2)
    desk.warehouse.value = "hq"
    desk.refresh_button.click()
    assert desk.warehouse.value == "hq"


@pytest.mark.parametrize("quantity", ["1.5", "-2", "0", "五", ""])
def test_a_bad_quantity_is_explained_and_nothing_is_written(shop: Shop, quantity: str) -> None:
    """A fraction, a negative, zero, letters or nothing: a sentence naming the value, the form
    keeps what was typed, and the database is exactly as before."""
    desk = desk_for(shop)
    before = stock_rows(shop)
    desk.warehouse.value, desk.sku.value, desk.quantity.value = "hq", SOCK, quantity

    desk.receive_form.children[-1].click()

    assert isinstance(desk.model.last_error, BadInput)
    assert desk.model.level == "error" and "kit-message-error" in classes(desk.message)
    assert f"“{quantity}”" in desk.model.message and t("stock.expected_positive") in desk.model.message
    assert "Traceback" not in desk.model.message
    assert desk.model.last_error.key == "stock_desk.bad_quantity"  # the form's words: no row, no column
    assert (desk.sku.value, desk.quantity.value) == (SOCK, quantity)
    assert stock_rows(shop) == before


def test_receive_without_a_sku_or_with_an_unknown_one_is_refused(shop: Shop) -> None:
    """An empty SKU asks for one; an unknown SKU or warehouse is named; nothing is written."""
    model = desk_for(shop).model
    before = stock_rows(shop)

    assert model.receive("hq", "  ", "3") is False
    assert model.message == t("stock_desk.sku_required")
    assert model.receive("hq", "NO-SUCH-SKU", "3") is False
    assert "NO-SUCH-SKU" in model.message
    assert model.receive("sh", SOCK, "3") is False
    assert "“sh”" in model.message
    assert stock_rows(shop) == before


def test_export_makes_a_workbook_and_a_download_link_S7(allocated: Shop, tmp_path: Path) -> None:
    """The export button makes the shortage workbook: valid XLSX with the purchasing sheet and
    the waiting lines; the link downloads it under its file name."""
    desk = desk_for(allocated)

    desk.export_button.click()

    model = desk.model
    assert model.last_error is None and model.workbook[:2] == b"PK"
    name = model.workbook_name
    assert name.startswith(t("stock_desk.workbook_name")) and name.endswith(".xlsx")
    assert model.message == t("shortages.exported", path=model.workbook_name, skus=2, lines=3, purchasing=2,
                              production=0)
    path = tmp_path / model.workbook_name
    path.write_bytes(model.workbook)
    sheets = pl.read_excel(path, sheet_id=0, engine="calamine")
    assert list(sheets) == [t("shortages.sheet_purchasing"), t("shortages.sheet_production"),
                            t("shortages.sheet_lines")]
    purchasing = sheets[t("shortages.sheet_purchasing")]
    assert sorted(purchasing[t("shortages.col_sku")].to_list()) == [CUP, SOCK]
    assert sheets[t("shortages.sheet_production")].height == 0
    waiting = sheets[t("shortages.sheet_lines")]
    assert sorted(waiting[t("shortages.col_order_no")].cast(pl.String)) == BACKORDERED

    html = desk.download.value
    assert f'download="{model.workbook_name}"' in html
    assert f'href="data:{XLSX};base64,' in html
    encoded = html.split(";base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(encoded) == model.workbook
    assert t("stock_desk.download", name=model.workbook_name) in html


def test_export_with_nothing_short_still_gives_a_workbook(shop: Shop, tmp_path: Path) -> None:
    """Before any allocation nothing is short: the workbook has its headers and no rows."""
    desk = desk_for(shop)
    assert desk.download.value == ""

    assert desk.model.export() is True

    path = tmp_path / "empty.xlsx"
    path.write_bytes(desk.model.workbook)
    sheets = pl.read_excel(path, sheet_id=0, engine="calamine")
    assert all(frame.height == 0 for frame in sheets.values())
    assert "download=" in desk.download.value


# --- roles ----------------------------------------------------------------------------------


def test_analyst_reads_but_sees_no_action(allocated: Shop) -> None:
    """An analyst sees the lists and may export; no allocate or notify button, no receipt form."""
    desk = desk_for(allocated, "分析师")

    assert desk.model.allowed == ["read"]
    assert not visible(desk.allocate_button) and not visible(desk.notify_button)
    assert desk.receive_form.layout.display == "none"
    assert visible(desk.export_button) and visible(desk.refresh_button)
    assert desk.model.counts["waiting"] == 3
    assert "分析员" in desk.header.subtitle.value
    assert desk.model.export() is True


def test_the_core_refuses_an_analyst_who_forces_an_action(allocated: Shop) -> None:
    """A hidden button is not a permission: allocate, notify and receive called anyway show the
    core's refusal in words, and nothing changes."""
    model = desk_for(allocated, "分析师").model
    before, orders_before = stock_rows(allocated), stages(allocated)

    assert model.allocate() is False
    assert isinstance(model.last_error, PermissionDenied)
    assert model.level == "error"
    assert "分析员" in model.message and t("stock.action_run_allocation") in model.message
    assert model.notify() is False and isinstance(model.last_error, PermissionDenied)
    assert model.receive("hq", SOCK, "3") is False and isinstance(model.last_error, PermissionDenied)
    assert stock_rows(allocated) == before and stages(allocated) == orders_before
    assert outbox.notices(allocated).height == 0


def test_warehouse_staff_allocate_and_receive_but_do_not_notify(allocated: Shop) -> None:
    """The warehouse runs allocation and records receipts; telling buyers is customer service's."""
    desk = desk_for(allocated, "仓管老周")

    assert desk.model.allowed == ["run_allocation", "receive_stock", "read"]
    assert visible(desk.allocate_button) and visible(desk.receive_form)
    assert not visible(desk.notify_button)
    assert desk.model.notify() is False
    assert isinstance(desk.model.last_error, PermissionDenied)
    assert outbox.notices(allocated).height == 0
    assert desk.model.receive("hq", SOCK, "2") is True


def test_pre_sales_notify_but_neither_allocate_nor_receive_S20(allocated: Shop) -> None:
    """Pre-sales queue the buyers' notices; allocation and receipts are not theirs."""
    desk = desk_for(allocated, "客服小美")

    assert desk.model.allowed == ["notify_buyers", "read"]
    assert visible(desk.notify_button)
    assert not visible(desk.allocate_button) and not visible(desk.receive_form)
    assert desk.model.notify() is True and desk.kpis.tiles["notices"].number == 3


def test_supervisor_sees_every_action(shop: Shop) -> None:
    """The supervisor may allocate, notify and receive: all of it is offered."""
    desk = desk_for(shop)

    assert desk.model.allowed == ["run_allocation", "notify_buyers", "receive_stock", "read"]
    assert all(visible(w) for w in (desk.allocate_button, desk.notify_button, desk.receive_form))


# --- the page -------------------------------------------------------------------------------


def test_the_view_switch_shows_exactly_one_table(allocated: Shop) -> None:
    """One list at a time: the switch picks it, and the model's view moves the switch."""
    desk = desk_for(allocated)
    assert [v for v, table_ in desk.tables.items() if visible(table_)] == ["levels"]

    desk.switch.value = "shortages"

    assert desk.model.view == "shortages" and desk.model.table is desk.model.tables["shortages"]
    assert [v for v, table_ in desk.tables.items() if visible(table_)] == ["shortages"]
    assert t("stock_desk.page_of", page=1, pages=1, total=2) in desk.tables["shortages"].count.value

    desk.model.view = "waiting"

    assert desk.switch.value == "waiting"
    assert [v for v, table_ in desk.tables.items() if visible(table_)] == ["waiting"]
    assert [label for label, _ in desk.switch.options] == [t(f"stock_desk.view_{v}") for v in VIEWS]



def test_every_header_fits_its_column(shop: Shop) -> None:
    """No Chinese header is cut off in the grid: each column is as wide as its label."""
    model = desk_for(shop).model

    narrow = [(v, c.label, c.width) for v in VIEWS for c in model.tables[v].columns
              if c.width < header_px(c.label)]

    assert narrow == []


def test_refresh_button_reads_again(shop: Shop) -> None:
    """Someone allocates elsewhere: the refresh button brings the desk up to date."""
    desk = desk_for(shop)
    allocation.allocate(shop)
    assert desk.kpis.tiles["waiting"].number == 0

    desk.refresh_button.click()

    assert desk.kpis.tiles["waiting"].number == 3 and desk.model.message == ""


def test_css_classes_for_browser_tests(shop: Shop) -> None:
    """The root, buttons, tiles, switch, tables, form and download carry their CSS classes."""
    desk = desk_for(shop)

    assert "kit-stock" in classes(desk)
    assert "kit-refresh" in classes(desk.refresh_button)
    assert {"kit-action-allocate", "kit-action-notify", "kit-action-export"} == {
        c for b in (desk.allocate_button, desk.notify_button, desk.export_button)
        for c in classes(b) if c.startswith("kit-action-")}
    assert {f"kit-kpi-stock-{k}" for k in ("skus", "low", "short", "waiting", "notices")} == {
        c for tile in desk.kpis.tiles.values() for c in classes(tile) if c.startswith("kit-kpi-stock-")}
    assert "kit-stock-view" in classes(desk.switch)
    assert [v for v, w in desk.tables.items() if f"kit-stock-table-{v}" in classes(w)] == list(VIEWS)
    assert {"kit-form", "kit-form-receive"} <= classes(desk.receive_form)
    assert [c for w in (desk.warehouse, desk.sku, desk.quantity, desk.reason, desk.receive_form.children[-1])
            for c in classes(w)] == ["kit-receive-warehouse", "kit-receive-sku", "kit-receive-quantity",
                                     "kit-receive-reason", "kit-receive-save"]
    assert "kit-download" in classes(desk.download)
    assert "kit-confirm" in classes(desk.confirm) and "kit-message" in classes(desk.message)
    assert t("stock_desk.title") in desk.header.title.value


def test_english(allocated: Shop) -> None:
    """With set_lang("en") the desk, its columns and its messages read in English."""
    set_lang("en")

    desk = desk_for(allocated)

    assert "库存" not in desk.header.title.value
    assert labels(desk.model.tables["levels"])[0] == t("shortages.col_sku", lang="en")
    assert desk.allocate_button.description == t("stock_desk.button_allocate", lang="en")
    desk.model.allocate()
    assert desk.model.message == t("stock.allocated", lang="en", allocated=0, backordered=0, still_short=3,
                                   waiting=0, shipments=0, units=0)


def test_desk_without_a_database_explains_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that cannot be opened gives a desk with the store's message, dashes, no action."""
    monkeypatch.setenv("KIT_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/folder/kit.db")

    desk = stock_desk()

    assert desk.model.shop is None and desk.model.last_error is not None
    assert "不存在" in desk.message.value
    assert set(tiles(desk).values()) == {None}
    assert desk.model.allowed == [] and not visible(desk.allocate_button)
    assert not visible(desk.export_button)  # nothing to export from a shop that did not open
    assert all(desk.model.tables[v].total == 0 for v in VIEWS)

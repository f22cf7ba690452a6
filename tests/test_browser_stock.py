"""The 库存 stock desk served by `kit serve` and driven in headless Chromium: the levels grid
renders, the tiles count, the shortage list (S7) shows after the switch, allocation (S17)
runs after confirming and the tiles follow (S12: a SKU falls below its threshold), the
shortage workbook downloads from the page, and a receipt typed into the form lands in the
warehouse the form shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from browser_support import (
    FIRST_RENDER_MS,
    UPDATE_MS,
    Server,
    desk_page,
    js_errors_of,
    serving,
    shot,
)
from orders_factory import PRODUCTS, make_orders, order_no

import kit
from kit import allocation, stock
from kit.store import schema
from kit.ui.table import HEADER_PX

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STAFF = {"店长": "supervisor", "仓管老周": "warehouse"}
WAREHOUSES = [
    {"code": "hq", "name": "杭州总仓", "kind": "hq", "province": "浙江省", "city": "杭州市"},
    {"code": "gz", "name": "广州门店", "kind": "store", "province": "广东省", "city": "广州市"},
]
TEA, CUP, TOWEL, SOCK = (p[0] for p in PRODUCTS)
THRESHOLDS = {TEA: 5, CUP: 2, TOWEL: None, SOCK: 1}
OPENING = [
    {"warehouse_code": "hq", "sku": TEA, "quantity": 20},
    {"warehouse_code": "hq", "sku": CUP, "quantity": 4},
    {"warehouse_code": "hq", "sku": TOWEL, "quantity": 10},
    {"warehouse_code": "gz", "sku": TOWEL, "quantity": 2},
]


@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kit serve` over a small shop: two warehouses, four SKUs, four approved orders of which
    1 and 2 (socks: none in stock) are already backordered; 3 and 4 wait for the button."""
    folder = tmp_path_factory.mktemp("serve-stock")
    db = f"sqlite:///{folder / 'kit.db'}"
    config = kit.config.parse({"staff": STAFF, "warehouses": WAREHOUSES})
    with kit.connect(db, actor="店长", config=config) as shop:
        shop.sync_settings()
        shop.store.insert_frame(schema.skus, pl.DataFrame({
            "sku": [p[0] for p in PRODUCTS], "title": [p[1] for p in PRODUCTS], "category": "general",
            "spec": [p[2] for p in PRODUCTS], "weight_g": 500, "price_fen": [p[3] for p in PRODUCTS],
            "low_stock_threshold": [THRESHOLDS[p[0]] for p in PRODUCTS]}))
        stock.receive_goods(shop, OPENING, reason="期初")
        shop.insert_orders(*make_orders(4, stage="approved"), kind="test", source="test")
        result = allocation.allocate(shop, order_nos=[order_no(1), order_no(2)])
        assert sorted(result.backordered) == [order_no(1), order_no(2)]
    with serving(db, folder) as server:
        yield server


@pytest.fixture(scope="module")
def page(chromium: str) -> Iterator[Page]:
    """One page for the module, 1280 wide, in Chinese, downloads accepted."""
    with desk_page(chromium, accept_downloads=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def js_errors(page: Page) -> list[str]:
    """The page's uncaught JavaScript errors, collected from before the first visit."""
    return js_errors_of(page)


def tile(page: Page, name: str) -> Locator:
    """The number of the stock tile `name` (skus, low, short, waiting, notices)."""
    return page.locator(f".kit-kpi-stock-{name} .kit-kpi-value")


def expect_tiles(page: Page, **numbers: int) -> None:
    """Wait until every named tile shows its number (the kernel answers asynchronously)."""
    from playwright.sync_api import expect

    for name, number in numbers.items():
        expect(tile(page, name)).to_have_text(f"{number:,}", timeout=UPDATE_MS)


def has_size(grid: Locator) -> bool:
    """Whether the grid's canvas was laid out (a grid drawn while hidden has no size)."""
    box = grid.locator("canvas").first.bounding_box()
    return box is not None and box["height"] > HEADER_PX and box["width"] > 100


def test_stock_desk_in_the_browser(page: Page, js_errors: list[str], server: Server, tmp_path: Path) -> None:
    """Tiles and levels; the shortage list after the switch; allocation after confirming, with
    the tiles and the list following; the workbook downloads; a receipt (S7, S12, S17)."""
    from playwright.sync_api import expect

    page.goto(server.page_url("stock.ipynb"), timeout=FIRST_RENDER_MS)
    desk = page.locator(".kit-stock")
    levels = desk.locator(".kit-stock-table-levels")
    try:
        levels.locator(".kit-table-grid canvas").first.wait_for(timeout=FIRST_RENDER_MS)
    except Exception:
        pytest.fail(f"the stock desk never appeared; server log:\n{server.log_tail()}")
    assert "库存" in desk.locator(".kit-title").inner_text()
    assert "店长" in desk.locator(".kit-subtitle").inner_text()
    expect_tiles(page, skus=3, low=1, short=1, waiting=2, notices=0)
    assert "第 1/1 页，共 4 行" in levels.locator(".kit-table-count").inner_text()
    assert has_size(levels.locator(".kit-table-grid"))
    shot(page, tmp_path, "stock-levels")

    desk.locator(".kit-stock-view button", has_text="缺货汇总").click()
    shortages = desk.locator(".kit-stock-table-shortages")
    expect(shortages).to_be_visible(timeout=UPDATE_MS)
    expect(levels).to_be_hidden(timeout=UPDATE_MS)
    expect(shortages.locator(".kit-table-count")).to_have_text("第 1/1 页，共 1 行", timeout=UPDATE_MS)
    expect(shortages.locator(".kit-table-grid canvas").first).to_be_visible(timeout=UPDATE_MS)
    assert desk.locator(".kit-table-grid:visible").count() == 1

    desk.locator(".kit-action-allocate").click()
    confirm = desk.locator(".kit-confirm")
    expect(confirm).to_be_visible(timeout=UPDATE_MS)
    assert "分仓" in confirm.inner_text()
    confirm.locator(".kit-confirm-yes").click()
    message = desk.locator(".kit-message")
    expect(message).to_contain_text("分仓完成", timeout=UPDATE_MS)
    assert "1 张已分仓" in message.inner_text()
    expect(confirm).to_be_hidden(timeout=UPDATE_MS)
    expect_tiles(page, skus=3, low=2, short=2, waiting=3, notices=0)
    expect(shortages.locator(".kit-table-count")).to_have_text("第 1/1 页，共 2 行", timeout=UPDATE_MS)
    shot(page, tmp_path, "stock-allocated")

    desk.locator(".kit-action-export").click()
    link = desk.locator(".kit-download a[download]")
    expect(link).to_be_visible(timeout=UPDATE_MS)
    name = link.get_attribute("download") or ""
    assert name.startswith("缺货表-") and name.endswith(".xlsx")
    assert name in link.inner_text()
    expect(message).to_contain_text(f"已写出 {name}", timeout=UPDATE_MS)
    with page.expect_download(timeout=UPDATE_MS) as download:
        link.click()
    saved = tmp_path / "downloaded.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename == name
    sheets = pl.read_excel(saved, sheet_id=0, engine="calamine")
    assert sorted(sheets["采购"]["商家编码"].to_list()) == [CUP, SOCK]
    shot(page, tmp_path, "stock-export")

    form = desk.locator(".kit-form-receive")  # the warehouse list opens on the first one: gz
    assert form.locator(".kit-receive-warehouse select").evaluate("s => s.value") == "gz"
    form.locator(".kit-receive-sku input").fill(SOCK)
    form.locator(".kit-receive-quantity input").fill("5")
    form.locator(".kit-receive-quantity input").press("Tab")
    form.locator(".kit-receive-save").click()
    expect(message).to_contain_text(f"已入库：gz 仓 {SOCK} 5 件", timeout=UPDATE_MS)
    expect_tiles(page, skus=4, low=1)
    expect(form.locator(".kit-receive-sku input")).to_have_value("", timeout=UPDATE_MS)
    path = shot(page, tmp_path, "stock-received")

    assert "Traceback" not in page.content()
    assert js_errors == []
    assert path.stat().st_size > 10_000
    with kit.connect(server.db, actor="店长") as shop:
        stages = dict(shop.orders().select("order_no", "stage").iter_rows())
        received = stock.levels(shop, warehouse="gz", skus=[SOCK])["on_hand"].to_list()
    assert stages[order_no(3)] == "allocated" and stages[order_no(4)] == "backordered"
    assert received == [5]

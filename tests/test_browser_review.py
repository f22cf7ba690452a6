"""The review desk served by `kit serve` and driven in headless Chromium: the ipydatagrid table
renders, a row click selects the order, approve asks first, COD phone confirmation and the
reconciliation with a typed count (S6, S16, S26)."""

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
from orders_factory import make_orders, order_no

import kit
from kit import review
from kit.ui.table import HEADER_PX, ROW_PX

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]



@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kit serve` over a shop with three held orders: a buyer's message, a bad province, a COD."""
    folder = tmp_path_factory.mktemp("serve-review")
    db = f"sqlite:///{folder / 'kit.db'}"
    orders, lines = make_orders(3)
    orders = orders.with_columns(
        pl.Series("buyer_message", ["周末不在家，请工作日送", None, None]),
        pl.Series("province", ["浙江省", "火星", "北京市"]),
        pl.Series("payment_method", ["online", "online", "cod"]),
    )
    with kit.connect(db, actor="店长") as shop:
        shop.insert_orders(orders, lines, kind="test", source="test")
        review.run(shop)
    with serving(db, folder) as server:
        yield server


@pytest.fixture(scope="module")
def page(chromium: str) -> Iterator[Page]:
    """One page for the module (the steps build on each other), 1280 wide, in Chinese."""
    with desk_page(chromium) as opened:
        yield opened


@pytest.fixture(scope="module")
def js_errors(page: Page) -> list[str]:
    """The page's uncaught JavaScript errors, collected from before the first visit."""
    return js_errors_of(page)


def click_row(grid: Locator, row: int) -> None:
    """Click a body cell of the grid's row `row` (the grid is a canvas: by position)."""
    box = grid.bounding_box()
    assert box is not None and box["height"] > HEADER_PX, "the grid has no size: not rendered"
    grid.page.mouse.click(box["x"] + 60, box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2)


def tile(page: Page, name: str) -> str:
    """The number a KPI tile shows."""
    return page.locator(f".{name} .kit-kpi-value").inner_text().strip()


def test_review_desk_in_the_browser(page: Page, js_errors: list[str], server: Server, tmp_path: Path) -> None:
    """Held orders with reasons; approve after confirming; COD phone confirmed; reconciliation (S6)."""
    from playwright.sync_api import expect

    page.goto(server.page_url("review.ipynb"), timeout=FIRST_RENDER_MS)
    held = page.locator(".kit-review-held")
    grid = held.locator(".kit-table-grid")
    try:
        grid.locator("canvas").first.wait_for(timeout=FIRST_RENDER_MS)
    except Exception:
        pytest.fail(f"the review desk never appeared; server log:\n{server.log_tail()}")
    expect(page.locator(".kit-kpi-review-held .kit-kpi-value")).to_have_text("3", timeout=UPDATE_MS)
    assert "审单台" in page.locator(".kit-review .kit-title").inner_text()
    assert "第 1/1 页，共 3 张" in held.locator(".kit-table-count").inner_text()

    click_row(grid, 0)  # the grid renders and a click selects the order
    detail = held.locator(".kit-order-detail")
    expect(detail).to_contain_text(f"订单 {order_no(1)}", timeout=UPDATE_MS)
    assert "有买家留言，请人工阅读（S26）" in detail.locator(".kit-reasons").inner_text()
    assert "周末不在家，请工作日送" in detail.inner_text()
    shot(page, tmp_path, "review-held")

    held.locator(".kit-action-approve").click()
    confirm = held.locator(".kit-confirm")
    expect(confirm).to_be_visible(timeout=UPDATE_MS)
    assert "1 张" in confirm.inner_text() and "审核通过" in confirm.inner_text()
    confirm.locator(".kit-confirm-yes").click()
    expect(page.locator(".kit-message")).to_contain_text("审核通过：已处理 1 张订单", timeout=UPDATE_MS)
    expect(page.locator(".kit-kpi-review-held .kit-kpi-value")).to_have_text("2", timeout=UPDATE_MS)
    assert "共 2 张" in held.locator(".kit-table-count").inner_text()
    click_row(grid, 0)  # the approved order left: the first row is now the next one
    expect(detail).to_contain_text(f"订单 {order_no(2)}", timeout=UPDATE_MS)
    assert "省份不认识" in detail.inner_text()

    page.locator(".kit-review-tabs .lm-TabBar-tab", has_text="货到付款电话确认").click()
    cod = page.locator(".kit-review-cod")
    cod_grid = cod.locator(".kit-table-grid")
    expect(cod_grid).to_be_visible(timeout=UPDATE_MS)
    assert tile(page, "kit-kpi-review-cod") == "1"
    click_row(cod_grid, 0)
    expect(cod.locator(".kit-table-count")).to_contain_text("已选 1 张", timeout=UPDATE_MS)
    shot(page, tmp_path, "review-cod")
    cod.locator(".kit-action-confirm-phone").click()
    cod.locator(".kit-confirm-yes").click()
    expect(page.locator(".kit-message")).to_contain_text("已记录电话确认 1 张：1 张审核通过",
                                                         timeout=UPDATE_MS)
    expect(page.locator(".kit-kpi-review-cod .kit-kpi-value")).to_have_text("0", timeout=UPDATE_MS)
    expect(cod.locator(".kit-table-empty")).to_contain_text("没有符合条件的订单", timeout=UPDATE_MS)

    page.locator(".kit-review-tabs .lm-TabBar-tab", has_text="对账").click()
    panel = page.locator(".kit-review-reconcile")
    panel.locator(".kit-recon-day input").fill("2026-11-30")
    panel.locator(".kit-recon-count input").fill("5")
    panel.locator(".kit-recon-count input").press("Tab")
    panel.locator(".kit-recon-run").click()
    expect(panel.locator(".kit-kpi-recon-difference .kit-kpi-value")).to_have_text("2", timeout=UPDATE_MS)
    assert tile(page, "kit-kpi-recon-imported") == "3"
    assert tile(page, "kit-kpi-recon-counted") == "5"
    assert "客服清点比登记多 2 张" in panel.locator(".kit-recon-verdict").inner_text()
    assert "已记录 2026-11-30 的对账" in page.locator(".kit-message").inner_text()
    path = shot(page, tmp_path, "review-reconcile")

    assert "Traceback" not in page.content()
    assert js_errors == []
    assert path.stat().st_size > 10_000
    with kit.connect(server.db) as shop:
        assert shop.order(order_no(1)).stage == "approved"
        assert shop.order(order_no(3)).phone_confirmed is True

"""The status dashboard served by `kit serve` and driven in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_support import (
    CHROMIUM_ARGS,
    FIRST_RENDER_MS,
    UPDATE_MS,
    Server,
    serving,
)
from orders_factory import make_orders

import kit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kit serve` on a free port over a small seeded SQLite shop; stopped after the module."""
    folder = tmp_path_factory.mktemp("serve")
    db = f"sqlite:///{folder / 'kit.db'}"
    with kit.connect(db, actor="店长") as shop:
        shop.insert_orders(*make_orders(6), kind="test", source="test")
        shop.insert_orders(*make_orders(4, stage="approved", start=7), kind="test", source="test")
        shop.insert_orders(*make_orders(3, trade_status="WAIT_BUYER_PAY", start=11),
                           kind="test", source="test")
    with serving(db, folder) as server:
        yield server


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """Headless Chromium (Debian's) through Playwright's sync API, shared by the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own context, 1280 wide, as a staff member's desktop shows it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def js_errors(page: Page) -> list[str]:
    """The page's uncaught JavaScript errors, collected from before the first visit."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def shown_number(page: Page, tile: str) -> int:
    """The count a KPI tile shows ("1,234" reads 1234)."""
    return int(page.locator(f".{tile} .kit-kpi-value").inner_text().replace(",", ""))


def open_status(page: Page, server: Server) -> None:
    """Open the status dashboard and wait for its total tile."""
    page.goto(server.page_url("status.ipynb"), timeout=FIRST_RENDER_MS)
    try:
        page.locator(".kit-kpi-orders .kit-kpi-value").wait_for(timeout=FIRST_RENDER_MS)
    except Exception:
        pytest.fail(f"the status tiles never appeared; server log:\n{server.log_tail()}")


def test_status_page_shows_the_shop_counts(
    page: Page, js_errors: list[str], server: Server, tmp_path: Path
) -> None:
    """The page shows the shop's order count, stage and trade status counts, in Chinese."""
    with kit.connect(server.db) as shop:
        status = shop.status()

    open_status(page, server)
    page.screenshot(path=str(tmp_path / "status.png"), full_page=True)

    assert shown_number(page, "kit-kpi-orders") == status["orders"]
    assert shown_number(page, "kit-kpi-stage-new") == status["stage"]["new"]
    assert shown_number(page, "kit-kpi-stage-approved") == status["stage"]["approved"] == 4
    assert (shown_number(page, "kit-kpi-trade-WAIT_BUYER_PAY")
            == status["trade_status"]["WAIT_BUYER_PAY"] == 3)
    assert page.locator(".kit-kpi").count() == 1 + 1 + 10 + 9 + 6
    assert "订单总数" in page.locator(".kit-kpi-orders").inner_text()
    assert "发货概况" in page.locator(".kit-status").inner_text()
    assert page.locator(".kit-message").inner_text().strip() == ""
    assert "Traceback" not in page.content()
    assert js_errors == []
    assert (tmp_path / "status.png").stat().st_size > 10_000


def test_refresh_shows_orders_inserted_meanwhile(
    page: Page, js_errors: list[str], server: Server, tmp_path: Path
) -> None:
    """Orders registered through the Python API appear after clicking refresh."""
    from playwright.sync_api import expect

    open_status(page, server)
    before = shown_number(page, "kit-kpi-orders")
    held_before = shown_number(page, "kit-kpi-stage-held")
    with kit.connect(server.db, actor="店长") as shop:
        shop.insert_orders(*make_orders(5, stage="held", start=100), kind="test", source="test")
        status = shop.status()

    page.locator(".kit-refresh").click()

    expect(page.locator(".kit-kpi-orders .kit-kpi-value")).to_have_text(
        f"{status['orders']:,}", timeout=UPDATE_MS)
    page.screenshot(path=str(tmp_path / "status-refreshed.png"), full_page=True)
    assert shown_number(page, "kit-kpi-orders") == status["orders"] == before + 5
    assert shown_number(page, "kit-kpi-stage-held") == held_before + 5 == status["stage"]["held"]
    assert page.locator(".kit-message").inner_text().strip() == ""
    assert js_errors == []

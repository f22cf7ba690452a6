"""The 异常与售后 exceptions and after-sales desk served by `kit serve` and driven in headless Chromium
(S21, S24d): the exception cases render in the grid, a row click shows what the case allows, taking
it over changes its owner in the database and the page says so; a second browser that read the
case before claims it with its old version and gets the conflict in words; the after-sale cases
list shows the demo shop's open cases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import (
    CHROMIUM_ARGS,
    FIRST_RENDER_MS,
    UPDATE_MS,
    Server,
    desk_page,
    js_errors_of,
    serving,
    shot,
)

import kit
from kit import aftersales, demo, exceptions
from kit.store import schema
from kit.ui.table import HEADER_PX, ROW_PX

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLERK = "售后小雅"  # the demo shop's after-sales clerk


@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kit serve` over a demo shop where two confirmed parcels have a lost case each, opened by the
    system (nobody holds them yet); the after-sales clerk acts."""
    folder = tmp_path_factory.mktemp("serve-aftersales")
    db = f"sqlite:///{folder / 'kit.db'}"
    with kit.connect(db, actor="店长") as shop:
        demo.seed(shop, orders=300)
        sh = schema.shipments
        with shop.store.read() as conn:
            ids = (
                conn.execute(
                    sa.select(sh.c.shipment_id)
                    .where(sh.c.stage == "confirmed")
                    .order_by(sh.c.shipment_id)
                    .limit(2)
                )
                .scalars()
                .all()
            )
        for sid in ids:
            exceptions.open_case(
                shop.as_system("tracking"), sid, "lost", description="转运中心找不到这个包裹"
            )
    with serving(db, folder, actor=CLERK) as running:
        yield running


def click_row(grid: Locator, row: int) -> None:
    """Click a body cell of the grid's row `row` (the grid is a canvas: by position)."""
    box = grid.bounding_box()
    assert box is not None and box["height"] > HEADER_PX, "the grid has no size: not rendered"
    grid.page.mouse.click(box["x"] + 30, box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2)


def open_desk(page: Page, server: Server) -> Locator:
    """Load the desk and wait until the exception grid is drawn."""
    page.goto(server.page_url("aftersales.ipynb"), timeout=FIRST_RENDER_MS)
    desk = page.locator(".kit-aftersales")
    try:
        desk.locator(".kit-aftersales-table-exceptions .kit-table-grid canvas").first.wait_for(
            timeout=FIRST_RENDER_MS
        )
    except Exception:
        pytest.fail(f"the after-sales desk never appeared; server log:\n{server.log_tail()}")
    return desk


def first_case(server: Server) -> dict:
    """The oldest open exception case, read in a new connection."""
    with kit.connect(server.db, actor="店长") as shop:
        return exceptions.cases(shop, open_only=True).row(0, named=True)


def test_aftersales_desk_in_the_browser(chromium: str, server: Server, tmp_path: Path) -> None:
    """Row click → buttons; take → owner in the database and a message; a second browser's claim on
    its old version → the conflict in words; the after-sale cases list (S21, S24d)."""
    from playwright.sync_api import expect

    case = first_case(server)
    assert case["owner"] is None
    with desk_page(chromium) as page:
        other_browser = page.context.browser.browser_type.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            other = other_browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="zh-CN"
            ).new_page()
            errors, other_errors = js_errors_of(page), js_errors_of(other)
            desk = open_desk(page, server)
            assert "异常与售后" in desk.locator(".kit-title").inner_text()
            assert "售后客服" in desk.locator(".kit-subtitle").inner_text()
            expect(page.locator(".kit-kpi-aftersales-exceptions_open .kit-kpi-value")).to_have_text(
                "2", timeout=UPDATE_MS
            )
            second = open_desk(other, server)  # reads the same case, version and all

            click_row(desk.locator(".kit-aftersales-table-exceptions .kit-table-grid"), 0)
            expect(desk.locator(".kit-case-summary")).to_contain_text(
                f"工单 {case['case_id']}", timeout=UPDATE_MS
            )
            expect(desk.locator(".kit-case-take")).to_be_visible(timeout=UPDATE_MS)
            expect(desk.locator(".kit-case-claim")).to_be_visible()
            assert desk.locator(".kit-case-receive_return").is_hidden()  # a lost parcel does not come back
            shot(page, tmp_path, "aftersales-selected")
            desk.locator(".kit-case-take").click()
            expect(desk.locator(".kit-message")).to_contain_text("已完成", timeout=UPDATE_MS)
            assert first_case(server)["owner"] == CLERK
            expect(page.locator(".kit-kpi-aftersales-exceptions_mine .kit-kpi-value")).to_have_text(
                "1", timeout=UPDATE_MS
            )

            click_row(second.locator(".kit-aftersales-table-exceptions .kit-table-grid"), 0)
            expect(second.locator(".kit-case-claim")).to_be_visible(timeout=UPDATE_MS)
            second.locator(".kit-case-amount input").fill("49.00")
            second.locator(".kit-case-text input").fill("快递面单照片")
            second.locator(".kit-case-claim").click()
            said = second.locator(".kit-message")
            expect(said).to_contain_text("刚被", timeout=UPDATE_MS)
            assert "kit-message-error" in (said.get_attribute("class") or "")
            assert first_case(server)["state"] == "open"  # the stale claim wrote nothing

            desk.locator(".kit-aftersales-view button", has_text="售后单").click()
            cases = desk.locator(".kit-aftersales-table-cases")
            expect(cases).to_be_visible(timeout=UPDATE_MS)
            with kit.connect(server.db, actor="店长") as shop:
                open_cases = aftersales.cases(shop, open_only=True).height
            expect(cases.locator(".kit-table-count")).to_contain_text(
                f"共 {open_cases} 行", timeout=UPDATE_MS
            )
            desk.locator(".kit-aftersales-view button", has_text="异常件").click()
            page.mouse.move(0, 0)
            path = shot(page, tmp_path, "aftersales")
            assert "Traceback" not in page.content() and "Traceback" not in other.content()
            assert errors == [] and other_errors == []
        finally:
            other_browser.close()
    assert path.stat().st_size > 10_000  # kept in KIT_SCREENSHOTS too (make screenshots)

"""The 统计 statistics wall served by `kit serve` and driven in headless Chromium (S22, S15): the
tiles and the shipping list render, the bqplot charts draw their SVG, another period is read on
"统计", and the Excel workbook downloads and opens with openpyxl."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    FIRST_RENDER_MS,
    UPDATE_MS,
    Server,
    desk_page,
    element_shot,
    js_errors_of,
    serving,
    shot,
)

import kit
from kit import deadlines, demo, exceptions, stats

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kit serve` over a demo shop of 300 orders as `kit demo` leaves it (deadlines assigned, the
    exception cases of its lost, damaged and refused parcels opened); the supervisor acts."""
    folder = tmp_path_factory.mktemp("serve-stats")
    db = f"sqlite:///{folder / 'kit.db'}"
    with kit.connect(db, actor="店长") as shop:
        demo.seed(shop, orders=300)
        deadlines.assign(shop)
        exceptions.open_from_alerts(shop.as_system("tracking"), notify=False)
    with serving(db, folder, actor="店长") as running:
        yield running


def test_statistics_wall_in_the_browser(chromium: str, server: Server, tmp_path: Path) -> None:
    """Tiles, list and charts render; per week reads again; the workbook downloads (S22)."""
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    with kit.connect(server.db, actor="店长") as shop:
        last = kit.clock.now().date()
        week = stats.statistics(shop, last.fromordinal(last.toordinal() - 6), last)
    parcels = week.views["summary"]["shipments"][0]
    with desk_page(chromium, accept_downloads=True) as page:
        errors = js_errors_of(page)
        page.goto(server.page_url("stats.ipynb"), timeout=FIRST_RENDER_MS)
        wall = page.locator(".kit-stats")
        try:
            wall.locator(".kit-stats-table-shipping .kit-table-grid canvas").first.wait_for(
                timeout=FIRST_RENDER_MS
            )
        except Exception:
            pytest.fail(f"the statistics wall never appeared; server log:\n{server.log_tail()}")
        assert "发货统计" in wall.locator(".kit-title").inner_text()
        expect(page.locator(".kit-kpi-stats-shipments .kit-kpi-value")).to_have_text(
            f"{parcels:,}", timeout=UPDATE_MS
        )
        charts = wall.locator(".kit-stats-charts")
        expect(charts.locator("svg.svg-figure").first).to_be_visible(timeout=UPDATE_MS)
        assert charts.locator("svg.svg-figure").count() == 4
        shot(page, tmp_path, "stats")
        page.set_viewport_size({"width": 1280, "height": 2600})  # the page scrolls inside: show it all
        charts.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)  # the charts draw as they come into view, with transitions
        assert element_shot(charts, tmp_path, "stats-charts").stat().st_size > 10_000
        page.set_viewport_size({"width": 1280, "height": 900})

        wall.locator(".kit-stats-period select").select_option(label="周")
        wall.locator(".kit-stats-apply").click()
        shipping = wall.locator(".kit-stats-table-shipping")
        with kit.connect(server.db, actor="店长") as shop:
            weekly = stats.statistics(shop, last.fromordinal(last.toordinal() - 6), last, period="week")
        expect(shipping.locator(".kit-table-count")).to_contain_text(
            f"共 {weekly.views['shipping'].height} 行", timeout=UPDATE_MS
        )

        wall.locator(".kit-action-export").click()
        link = wall.locator(".kit-download a")
        expect(link).to_be_visible(timeout=UPDATE_MS)
        with page.expect_download(timeout=UPDATE_MS) as download:
            link.click()
        saved = tmp_path / "stats.xlsx"
        download.value.save_as(saved)
        book = load_workbook(saved)
        assert stats.table.view_title("shipping") in book.sheetnames
        page.mouse.move(0, 0)
        path = shot(page, tmp_path, "stats-week")
        assert "Traceback" not in page.content() and errors == []
    assert path.stat().st_size > 10_000

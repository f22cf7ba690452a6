"""The 发货确认 shipping desk served by `kit serve` and driven in headless Chromium (S8, S9, S1b,
S26b): a tracking number typed into the scan field as a keyboard-wedge scanner types it
(characters, then Enter) hands the parcel over, the page says so and the database agrees; the
confirm button confirms on the platform, the page shows the count and the batch-file link,
which downloads the GBK file; a second browser confirming the same parcels gets words, not a
traceback. The desk runs with a kit.toml that sets the sender address (S26b)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
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
from kit import deadlines, demo, packing, picking, shipping
from kit.store import schema

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLERK = "物流小林"  # the demo shop's logistics clerk: scans and confirms
KIT_TOML = """\
[shop]
name = "示例小店"

[shop.sender]
mobile = "13800000000"
detail = "文一西路 1 号"
"""
NUMBER = "YT7512345678901"  # the label number of the parcel the test scans


def packed_with_label(shop: kit.Shop, number: str) -> int:
    """A packed parcel whose label carries `number` (S18): one the demo packed, else one it
    allocated, picked and packed here; its id."""
    sh = schema.shipments
    def first(stage: str) -> int | None:
        with shop.store.read() as conn:
            query = sa.select(sh.c.shipment_id).where(sh.c.stage == stage, sh.c.carrier_code == "yto")
            return conn.execute(query.order_by(sh.c.shipment_id)).scalars().first()

    packed, allocated = first("packed"), first("allocated")
    if packed is None:
        assert allocated is not None, "the demo shop has neither a packed nor an allocated parcel"
        picking.start_waves(shop, shipment_ids=[allocated])
        sheet = packing.sheet(shop, allocated)
        packing.pack(shop, allocated, dict(sheet["items"].select("sku", "quantity").iter_rows()),
                     sheet["expected_g"])
        packed = allocated
    with shop.store.write() as conn:  # free the number in case the demo's label carries another
        conn.execute(sh.update().where(sh.c.shipment_id == packed).values(tracking_no=None))
    assert shipping.assign_numbers(shop, [{"shipment_id": packed, "tracking_no": number}])["assigned"]
    return packed


@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kit serve` over a demo shop with a sender address, its deadlines assigned, and one packed
    parcel whose label carries NUMBER; the logistics clerk acts."""
    folder = tmp_path_factory.mktemp("serve-shipping")
    db = f"sqlite:///{folder / 'kit.db'}"
    toml = folder / "kit.toml"
    toml.write_text(KIT_TOML, "utf-8")
    with kit.connect(db, actor="店长", config=str(toml)) as shop:
        demo.seed(shop, orders=300)
        deadlines.assign(shop)
        packed_with_label(shop, NUMBER)
    with serving(db, folder, toml, CLERK) as running:
        yield running


def stages(server: Server) -> dict[int, str]:
    """Shipment id → stage, read in a new connection."""
    sh = schema.shipments
    with kit.connect(server.db, actor="店长") as shop, shop.store.read() as conn:
        return dict(conn.execute(sa.select(sh.c.shipment_id, sh.c.stage)).all())


@contextmanager
def second_browser(page: Page, chromium: str) -> Iterator[Page]:
    """Another Chromium, launched by the same Playwright (it runs one per thread), as another
    clerk's computer: its own page in Chinese, 1280 wide."""
    browser = page.context.browser.browser_type.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    try:
        yield browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    finally:
        browser.close()


def tile(page: Page, name: str) -> Locator:
    """The number of the shipping tile `name`."""
    return page.locator(f".kit-kpi-shipping-{name} .kit-kpi-value")


def open_desk(page: Page, server: Server) -> Locator:
    """Load the desk and wait until the kernel drew it."""
    page.goto(server.page_url("shipping.ipynb"), timeout=FIRST_RENDER_MS)
    desk = page.locator(".kit-shipping")
    try:
        desk.locator(".kit-shipping-scan input").wait_for(timeout=FIRST_RENDER_MS)
    except Exception:
        pytest.fail(f"the shipping desk never appeared; server log:\n{server.log_tail()}")
    return desk


def test_shipping_desk_in_the_browser(chromium: str, server: Server, tmp_path: Path) -> None:
    """Scan → handed over (page and database); confirm → count and link, the file downloads in
    GBK; a second browser confirming the same parcels gets a sentence (S8, S9, S1b)."""
    from playwright.sync_api import expect

    before = stages(server)
    waiting = sorted(s for s, stage in before.items() if stage == "handed_over")
    scanned = next(s for s, stage in before.items() if stage == "packed")
    with desk_page(chromium, accept_downloads=True) as page, second_browser(page, chromium) as other:
        errors, other_errors = js_errors_of(page), js_errors_of(other)
        desk = open_desk(page, server)
        assert "发货确认" in desk.locator(".kit-title").inner_text()
        assert "物流员" in desk.locator(".kit-subtitle").inner_text()
        expect(desk.locator(".kit-shipping-countdown")).to_contain_text("21:00", timeout=UPDATE_MS)
        expect(tile(page, "awaiting")).to_have_text(f"{len(waiting):,}", timeout=UPDATE_MS)
        assert desk.locator(".kit-shipping-sender").is_hidden()
        second = open_desk(other, server)  # the second browser reads the same list first

        field = desk.locator(".kit-shipping-scan input")
        field.click()
        field.press_sequentially(NUMBER.lower(), delay=5)  # a keyboard-wedge scanner: keys, then Enter
        field.press("Enter")
        message = desk.locator(".kit-message")
        expect(message).to_contain_text(f"已交接：运单号 {NUMBER}", timeout=UPDATE_MS)
        expect(field).to_have_value("", timeout=UPDATE_MS)
        expect(tile(page, "awaiting")).to_have_text(f"{len(waiting) + 1:,}", timeout=UPDATE_MS)
        expect(desk.locator(".kit-shipping-scanlog .kit-scan-ok")).to_have_count(1, timeout=UPDATE_MS)
        assert stages(server)[scanned] == "handed_over"
        shot(page, tmp_path, "shipping-scanned")

        second.locator(".kit-refresh").click()  # both desks now show the same parcels
        expect(tile(other, "awaiting")).to_have_text(f"{len(waiting) + 1:,}", timeout=UPDATE_MS)

        desk.locator(".kit-action-confirm").click()
        confirm = desk.locator(".kit-confirm")
        expect(confirm).to_be_visible(timeout=UPDATE_MS)
        assert f"确认这 {len(waiting) + 1} 个" in confirm.inner_text()
        confirm.locator(".kit-confirm-yes").click()
        expect(message).to_contain_text(f"已确认发货：{len(waiting) + 1} 个包裹", timeout=UPDATE_MS)
        link = desk.locator('.kit-download a[download="发货确认.csv"]')
        expect(link).to_be_visible(timeout=UPDATE_MS)
        expect(tile(page, "awaiting")).to_have_text("0", timeout=UPDATE_MS)
        with page.expect_download(timeout=UPDATE_MS) as download:
            link.click()
        saved = tmp_path / "batch.csv"
        download.value.save_as(saved)
        assert download.value.suggested_filename == "发货确认.csv"
        batch = pl.read_csv(saved, encoding="gbk", infer_schema=False)
        assert batch.columns == ["订单编号", "物流公司", "运单号"]
        assert NUMBER in batch["运单号"].to_list()
        after = stages(server)
        assert {after[s] for s in [*waiting, scanned]} == {"confirmed"}
        desk.locator(".kit-shipping-view button", has_text="今天已确认").click()
        done = desk.locator(".kit-shipping-table-confirmed")
        expect(done).to_be_visible(timeout=UPDATE_MS)
        with kit.connect(server.db, actor="店长") as shop:
            today = shipping.confirmed_in(shop, day=kit.clock.now().date()).height
        assert today >= len(waiting) + 1
        expect(done.locator(".kit-table-count")).to_contain_text(f"共 {today} 行", timeout=UPDATE_MS)
        page.mouse.move(0, 0)
        path = shot(page, tmp_path, "shipping")

        second.locator(".kit-action-confirm").click()
        second.locator(".kit-confirm .kit-confirm-yes").click()
        said = second.locator(".kit-message")
        expect(said).to_contain_text("都没有确认", timeout=UPDATE_MS)
        expect(said).to_contain_text("已确认发货", timeout=UPDATE_MS)
        assert "kit-message-error" in (said.get_attribute("class") or "")
        expect(tile(other, "awaiting")).to_have_text("0", timeout=UPDATE_MS)
        second.locator(".kit-action-confirm").click()  # read again: nothing left to confirm
        expect(said).to_contain_text("没有待网上确认的包裹", timeout=UPDATE_MS)

        assert "Traceback" not in page.content() and "Traceback" not in other.content()
        assert errors == [] and other_errors == []
    assert path.stat().st_size > 10_000  # kept in KIT_SCREENSHOTS too (make screenshots)

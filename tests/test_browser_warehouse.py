"""The 仓库作业 warehouse desk served by `kit serve` over the demo shop and driven in headless
Chromium: waves are formed after confirming (S23), the pick list downloads as a PDF, and at
the packing station an order number and then every unit are typed into the scan field
with Enter, as a keyboard-wedge scanner does; a wrong unit is shown and taken out again,
the weight is entered and the box closes (S8): the page says packed and so does the
database. `make screenshots` keeps the screenshot in docs/screenshots/."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

import kit
from kit import demo, packing, picking

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO_ORDERS, DEMO_DAY = 600, date(2026, 11, 30)  # eight allocated parcels in four groups


@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kit serve` over the demo shop (its allocated parcels not yet in a wave)."""
    folder = tmp_path_factory.mktemp("serve-warehouse")
    db = f"sqlite:///{folder / 'kit.db'}"
    with kit.connect(db, actor="店长") as shop:
        demo.seed(shop, orders=DEMO_ORDERS, today=DEMO_DAY)
        assert picking.plan(shop)["shipments"].sum() > 0
    with serving(db, folder) as server:
        yield server


@pytest.fixture(scope="module")
def page(chromium: str) -> Iterator[Page]:
    """One page for the module, 1280 wide, in Chinese."""
    with desk_page(chromium) as opened:
        yield opened


@pytest.fixture(scope="module")
def js_errors(page: Page) -> list[str]:
    """The page's uncaught JavaScript errors, collected from before the first visit."""
    return js_errors_of(page)


def tile(page: Page, name: str) -> Locator:
    """The number of the warehouse tile `name` (to_wave, waves, picking, packed_today)."""
    return page.locator(f".kit-kpi-warehouse-{name} .kit-kpi-value")


def parcel_to_pack(db: str) -> dict[str, Any]:
    """The picking parcel with the most units (a physical one, with a carrier), and its sheet."""
    with kit.connect(db, actor="店长") as shop:
        best: dict[str, Any] | None = None
        for wave in picking.waves(shop)["wave_id"].to_list():
            for row in picking.wave_shipments(shop, wave).iter_rows(named=True):
                if row["stage"] != "picking" or row["carrier_code"] in ("none", "dropship"):
                    continue
                sheet = packing.sheet(shop, row["shipment_id"])
                units = int(sheet["items"]["quantity"].sum())
                if best is None or units > best["units"]:
                    best = {**sheet, "units": units}
    assert best is not None, "the demo shop has no parcel to pack"
    return best


def stage_of(db: str, shipment_id: int) -> str:
    """A parcel's stage, read in a new connection."""
    with kit.connect(db, actor="店长") as shop:
        return packing.sheet(shop, shipment_id)["stage"]


def scan(field: Locator, code: str) -> None:
    """Type a code key by key and press Enter, then wait until the desk empties the field."""
    from playwright.sync_api import expect

    field.press_sequentially(code)
    field.press("Enter")
    expect(field).to_have_value("", timeout=UPDATE_MS)


def test_warehouse_desk_in_the_browser(
    page: Page, js_errors: list[str], server: Server, tmp_path: Path
) -> None:
    """Form waves, download a pick list, scan an order and its units (one wrong, taken out),
    weigh and pack; the page and the database agree (S8, S23)."""
    from playwright.sync_api import expect

    page.goto(server.page_url("warehouse.ipynb"), timeout=FIRST_RENDER_MS)
    desk = page.locator(".kit-warehouse")
    try:
        desk.locator(".kit-action-waves").wait_for(timeout=FIRST_RENDER_MS)
    except Exception:
        pytest.fail(f"the warehouse desk never appeared; server log:\n{server.log_tail()}")
    assert "仓库作业" in desk.locator(".kit-title").inner_text()
    expect(tile(page, "to_wave")).not_to_have_text("—", timeout=UPDATE_MS)
    to_wave = int(tile(page, "to_wave").inner_text().replace(",", ""))
    packed_before = int(tile(page, "packed_today").inner_text().replace(",", ""))
    assert to_wave > 0

    desk.locator(".kit-action-waves").click()
    confirm = desk.locator(".kit-confirm")
    expect(confirm).to_be_visible(timeout=UPDATE_MS)
    confirm.locator(".kit-confirm-yes").click()
    message = desk.locator(".kit-message")
    expect(message).to_contain_text("个拣货波次", timeout=UPDATE_MS)
    expect(tile(page, "picking")).to_have_text(f"{to_wave:,}", timeout=UPDATE_MS)
    expect(tile(page, "to_wave")).to_have_text("0", timeout=UPDATE_MS)

    desk.locator(".kit-print-picklist").click()
    link = desk.locator(".kit-download a[download]")
    expect(link).to_be_visible(timeout=UPDATE_MS)
    assert (link.get_attribute("download") or "").startswith("拣货单-波次")
    href = link.get_attribute("href") or ""
    assert href.startswith("data:application/pdf;base64,")
    assert base64.b64decode(href.split(",", 1)[1]).startswith(b"%PDF")

    parcel = parcel_to_pack(server.db)
    field = desk.locator(".kit-scan input")
    scan(field, parcel["order_no"])
    sheet = desk.locator(".kit-pack-sheet")
    expect(sheet).to_contain_text(parcel["order_no"], timeout=UPDATE_MS)
    check = desk.locator(".kit-pack-check")
    expect(check).to_contain_text(f"应装 {parcel['units']} 件", timeout=UPDATE_MS)

    units = [sku for sku, n in parcel["items"].select("sku", "quantity").iter_rows() for _ in range(n)]
    scan(field, units[0])
    scan(field, "SKU-NOT-HERE")
    expect(message).to_contain_text("SKU-NOT-HERE 不属于这个订单", timeout=UPDATE_MS)
    expect(check).to_contain_text("与订单不符", timeout=UPDATE_MS)
    desk.locator(".kit-scan-undo").click()
    expect(check).not_to_contain_text("SKU-NOT-HERE", timeout=UPDATE_MS)
    for sku in units[1:]:
        scan(field, sku)
    expect(check).to_contain_text("货品核对无误", timeout=UPDATE_MS)
    expect(sheet.locator(".kit-line-ok")).to_have_count(parcel["items"]["sku"].n_unique(), timeout=UPDATE_MS)

    weight = desk.locator(".kit-pack-weight input")
    weight.fill(str(parcel["expected_g"]))
    weight.press("Enter")
    desk.locator(".kit-pack-shipment").evaluate("e => e.scrollIntoView({block: 'start'})")
    path = shot(page, tmp_path, "warehouse")  # the packing station, ready to close the box
    desk.locator(".kit-action-pack").click()
    expect(message).to_contain_text(f"已打包：包裹 {parcel['shipment_id']}", timeout=UPDATE_MS)
    expect(tile(page, "packed_today")).to_have_text(f"{packed_before + 1:,}", timeout=UPDATE_MS)
    expect(check).to_contain_text("已打包", timeout=UPDATE_MS)
    expect(weight).to_have_value("", timeout=UPDATE_MS)
    shot(page, tmp_path, "warehouse-packed")

    assert "Traceback" not in page.content()
    assert js_errors == []
    assert path.stat().st_size > 10_000
    assert stage_of(server.db, parcel["shipment_id"]) == "packed"
    with kit.connect(server.db, actor="店长") as shop:
        register = packing.register(shop)
    assert register.filter(pl.col("shipment_id") == parcel["shipment_id"])["weight_g"].to_list() == [
        parcel["expected_g"]
    ]

"""The 仓库作业 warehouse desk's view model and widgets, without a browser (S7, S8, S18, S22,
S23, S25, S26).

The shop (fulfil_fixtures.build_gift_shop, the numbers of tests/test_packing.py): headquarters
(hq) serves 浙江/上海/江苏, a store (gz) serves 广东/湖北; three approved orders, allocated at a
fixed clock, not yet in a wave:

    GIFT   (浙江)  CUP-A 1 (fragile 400 g), TSHIRT-A 2 (apparel 200 g), SCARF-A 1 (apparel
                  150 g, a gift line); a present (no price slip, S26). Items 950 g + the
                  fragile packing 320 g = 1270 g expected.
    PLAIN  (上海)  TSHIRT-A 1: 200 g + 60 g = 260 g.
    SPLIT  (浙江)  CUP-A 1 from hq, TEA-A 1 from gz: two parcels.

Every scan is set into the scan field the way a keyboard-wedge scanner's Enter sends it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from fulfil_fixtures import (
    GIFT,
    GIFT_SCANS,
    PACKED_AT,
    PLAIN,
    SPLIT,
    build_gift_shop,
    built_shops,
    clock_fixture,  # noqa: F401  (a fixture of this module)
    config,
    copy_of,
)
from ui_support import visible

import kit
from kit.errors import BadInput, NeedsConfirmation, PermissionDenied, Refused
from kit.i18n import set_lang, t
from kit.store import schema
from kit.ui.warehouse_desk import WarehouseDeskModel, parse_grams, warehouse_desk
from kit.ui.warehouse_view import PDF, WarehouseDesk

GIFT_G = 1270
WAYBILL = "YT6552380417836"  # a valid YTO number (kit/carriers/data/patterns.toml)


def build(url: str) -> None:
    """The shop on a fresh database: every order allocated, none in a wave yet."""
    build_gift_shop(url, waves=False, source="warehouse desk")


built = built_shops(build)  # built("sqlite") → the shop's URL, built once; each test works on a copy


@pytest.fixture
def url(built: Callable[[str], str], tmp_path: Path, clock: dict[str, datetime]) -> Iterator[str]:
    """A fresh copy of the shop (SQLite), the clock fixed an hour after it was built."""
    clock["now"] = PACKED_AT
    with copy_of(built("sqlite"), tmp_path) as target:
        yield target


@pytest.fixture
def shop(url: str) -> Iterator[kit.Shop]:
    """The shop, acting as the warehouse packer 仓管小李."""
    with kit.connect(url, actor="仓管小李", config=config()) as opened:
        yield opened


def desk_for(shop: kit.Shop, name: str | None = None) -> WarehouseDesk:
    """The desk as `name` (default: the shop's actor) sees it, read and drawn."""
    return warehouse_desk(shop.acting_as(name) if name else shop)


@pytest.fixture
def waved(shop: kit.Shop) -> WarehouseDesk:
    """The packer's desk after forming the waves from it (one wave per warehouse here)."""
    desk = desk_for(shop)
    assert desk.model.form_waves() is True
    return desk


def classes(widget: Any) -> set[str]:
    """The CSS classes of a widget."""
    return set(widget._dom_classes)


def shipments(shop: kit.Shop) -> dict[str, list[tuple[str, str]]]:
    """Order number → its parcels' (warehouse, stage)."""
    sh = schema.shipments
    with shop.store.read() as conn:
        rows = conn.execute(
            sa.select(sh.c.order_no, sh.c.warehouse_code, sh.c.stage).order_by(sh.c.shipment_id))
        out: dict[str, list[tuple[str, str]]] = {}
        for no, warehouse, stage in rows:
            out.setdefault(no, []).append((warehouse, stage))
    return out


def register_rows(shop: kit.Shop) -> list[tuple[Any, ...]]:
    """The packer's register: (order, weight, expected, packer, warning)."""
    pr = schema.pack_register
    with shop.store.read() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(pr.c.order_no, pr.c.weight_g, pr.c.expected_weight_g, pr.c.packer, pr.c.warning)
            .order_by(pr.c.entry_id))]


def scan(desk: WarehouseDesk, *codes: str) -> None:
    """Scan codes one by one, as the scanner types each and presses Enter; the field empties."""
    for code in codes:
        desk.scan.value = code
        assert desk.scan.value == ""


def opened(desk: WarehouseDesk, order: str) -> WarehouseDesk:
    """The desk with the order's (hq) parcel open, by scanning its order number."""
    scan(desk, order)
    assert desk.model.sheet["order_no"] == order, desk.model.message
    return desk


def pdf_of(desk: WarehouseDesk) -> bytes:
    """The PDF behind the download link, decoded from its data: URI."""
    html = desk.download.value
    assert f'href="data:{PDF};base64,' in html
    return base64.b64decode(html.split(";base64,", 1)[1].split('"', 1)[0])


# --- waves and pick lists -------------------------------------------------------------------


def test_form_waves_from_the_desk_and_see_them_listed_S23(shop: kit.Shop) -> None:
    """The plan shows four parcels waiting; the button asks first, then forms one wave per
    warehouse, moves the parcels to picking and lists the waves; the tiles follow."""
    desk = desk_for(shop)
    model = desk.model
    assert model.counts == {"to_wave": 4, "waves": 0, "picking": 0, "packed_today": 0}
    assert model.tables["plan"].total == 2 and model.wave_choices == []
    assert visible(desk.wave_form)

    desk.waves_button.click()
    assert visible(desk.confirm) and t("warehouse_desk.scope_all") in desk.confirm.question.value
    desk.confirm.no.click()
    assert {s for parcels in shipments(shop).values() for _, s in parcels} == {"allocated"}

    desk.waves_button.click()
    desk.confirm.yes.click()

    assert model.last_error is None
    assert model.message == t("warehouse_desk.waves_formed", count=2, shipments=4, units=7)
    assert model.counts == {"to_wave": 0, "waves": 2, "picking": 4, "packed_today": 0}
    assert model.tables["waves"].total == 2 and model.tables["plan"].total == 0
    assert len(model.wave_choices) == 2 and desk.wave_choice.value == model.wave_id
    assert {s for parcels in shipments(shop).values() for _, s in parcels} == {"picking"}
    assert shop.orders().filter(pl.col("stage") != "picking").height == 0


def test_form_waves_of_one_warehouse_and_bad_max_are_handled_S23(shop: kit.Shop) -> None:
    """A warehouse chosen in the form limits the waves to it; a max that is no number is explained."""
    desk = desk_for(shop)
    assert [v for _, v in desk.warehouse.options] == ["", "gz", "hq"]

    assert desk.model.form_waves("hq", "零") is False
    assert desk.model.message == t("warehouse_desk.bad_max", value="零")
    desk.warehouse.value = "gz"
    desk.waves_button.click()
    desk.confirm.yes.click()

    assert desk.model.message == t("warehouse_desk.waves_formed", count=1, shipments=1, units=1)
    assert sorted(shipments(shop)[SPLIT]) == [("gz", "picking"), ("hq", "allocated")]
    assert desk.model.counts["to_wave"] == 3


def test_pick_list_of_a_wave_downloads_as_pdf_S12_S23(waved: WarehouseDesk) -> None:
    """The chosen wave's pick list is a PDF offered under its name as a data: link."""
    desk, model = waved, waved.model
    hq = next(w for label, w in model.wave_choices if " hq " in label)
    desk.wave_choice.value = hq
    assert model.wave_id == hq and model.tables["shipments"].total == 3

    desk.picklist_button.click()

    assert model.last_error is None and model.document.startswith(b"%PDF")
    assert model.document_name == t("warehouse_desk.file_picklist", wave_id=hq)
    assert pdf_of(desk) == model.document
    assert f'download="{model.document_name}"' in desk.download.value
    assert model.message == t("warehouse_desk.document_ready", name=model.document_name)


# --- the packing station --------------------------------------------------------------------


def test_scan_every_unit_weigh_and_pack_S8(shop: kit.Shop, waved: WarehouseDesk) -> None:
    """Scanning the order number opens its parcel; each unit scanned counts; the check says all
    is there; with the weight the box closes: packed in the database, in the register."""
    desk = opened(waved, GIFT)
    model = desk.model
    assert model.sheet["expected_g"] == GIFT_G and model.scans == []
    assert desk.check.value.endswith(f"{t('warehouse_desk.check_waiting', units=4)}</div>")

    scan(desk, *GIFT_SCANS[:2])
    assert model.message == t("warehouse_desk.scanned", sku="TSHIRT-A", scanned=1, expected=2)
    assert "kit-check-differ" in classes(desk.check)
    scan(desk, *GIFT_SCANS[2:])

    assert model.scans == GIFT_SCANS and model.differences == []
    assert t("warehouse_desk.check_ok", units=4) in desk.check.value
    assert "kit-check-ok" in classes(desk.check)
    desk.weight.value = "1280"
    desk.pack_button.click()

    assert model.last_error is None, model.message
    assert model.message == t("warehouse_desk.packed", shipment_id=model.shipment_id, order_no=GIFT,
                              weight_g=1280, expected_weight_g=GIFT_G)
    assert shipments(shop)[GIFT] == [("hq", "packed")]
    assert register_rows(shop) == [(GIFT, 1280, GIFT_G, "仓管小李", None)]
    register = model.tables["register"]
    assert register.frame["order_no"].to_list() == [GIFT]
    assert model.counts["packed_today"] == 1 and desk.kpis.tiles["packed_today"].number == 1
    assert model.sheet["stage"] == "packed" and model.scans == [] and desk.weight.value == ""
    assert "kit-line-ok" not in desk.sheet.value  # a closed box has nothing left to count
    assert t("warehouse_desk.check_closed", stage=t("shipment_stage.packed")) in desk.check.value


def test_a_wrong_sku_shows_the_difference_and_packing_is_refused_S8(
    shop: kit.Shop, waved: WarehouseDesk
) -> None:
    """A unit of another order scanned into the box: the message names it, the sheet marks it,
    closing the box is refused with what differs; taken out again, the box closes."""
    desk = opened(waved, PLAIN)
    model = desk.model

    scan(desk, "TSHIRT-A", "CUP-A")

    assert isinstance(model.last_error, Refused) and model.level == "error"
    wrong = t("packing.diff_wrong_item", sku="CUP-A", scanned=1)
    assert model.message == t("warehouse_desk.scan_wrong", difference=wrong)
    assert "kit-line-wrong" in desk.sheet.value and "kit-check-differ" in classes(desk.check)
    desk.weight.value = "260"
    desk.pack_button.click()
    assert model.last_error.key == "packing.items_differ"
    assert "CUP-A" in model.message and "Traceback" not in model.message
    assert shipments(shop)[PLAIN] == [("hq", "picking")] and register_rows(shop) == []

    desk.undo_button.click()
    assert model.scans == ["TSHIRT-A"] and model.message == ""
    desk.pack_button.click()
    assert shipments(shop)[PLAIN] == [("hq", "packed")]


def test_a_missing_unit_is_refused_too_S8(shop: kit.Shop, waved: WarehouseDesk) -> None:
    """One T-shirt short: the box does not close, and the message says which SKU misses how many."""
    desk = opened(waved, GIFT)
    scan(desk, "CUP-A", "TSHIRT-A", "SCARF-A")

    assert desk.model.pack(str(GIFT_G)) is False

    assert t("packing.diff_missing", sku="TSHIRT-A", short=1, scanned=1, expected=2) in desk.model.message
    assert shipments(shop)[GIFT] == [("hq", "picking")]


def test_weight_outside_the_tolerance_asks_and_the_accept_button_packs_S8(
    shop: kit.Shop, waved: WarehouseDesk
) -> None:
    """1600 g against 1270 g expected: nothing is written, the accept button appears; clicking
    it closes the box and the register keeps the packer's acceptance."""
    desk = opened(waved, GIFT)
    scan(desk, *GIFT_SCANS)
    assert not visible(desk.accept_button)
    desk.weight.value = "1600"

    desk.pack_button.click()

    assert isinstance(desk.model.last_error, NeedsConfirmation) and desk.model.needs_accept
    assert visible(desk.accept_button)
    assert t("warehouse_desk.button_accept") in desk.model.message
    assert shipments(shop)[GIFT] == [("hq", "picking")] and register_rows(shop) == []

    desk.accept_button.click()

    assert desk.model.last_error is None and not visible(desk.accept_button)
    warning = t("packing.weight_warning", value="1.600", expected="1.270")
    assert register_rows(shop) == [(GIFT, 1600, GIFT_G, "仓管小李", warning)]
    assert shipments(shop)[GIFT] == [("hq", "packed")]
    assert warning in desk.model.message


def test_bad_weights_are_explained_S8(shop: kit.Shop, waved: WarehouseDesk) -> None:
    """No weight, letters, zero: a sentence each, nothing written; kilograms are understood."""
    desk = opened(waved, PLAIN)
    scan(desk, "TSHIRT-A")
    for typed, key in (("", "warehouse_desk.weight_required"), ("重", "packing.bad_weight"),
                       ("0", "packing.weight_not_positive")):
        assert desk.model.pack(typed) is False
        assert isinstance(desk.model.last_error, BadInput) and desk.model.last_error.key == key
    assert shipments(shop)[PLAIN] == [("hq", "picking")]
    assert (parse_grams("0.26kg"), parse_grams("820克"), parse_grams(" 1,270 ")) == (260, 820, 1270)


def test_sheet_shows_the_packing_guides_present_and_gift_S25_S26(waved: WarehouseDesk) -> None:
    """The present's parcel: no price slip warning (S26), the fragile and soft guides (S25),
    the buyer's message and the gift line."""
    desk = opened(waved, GIFT)
    html = desk.sheet.value

    assert "kit-pack-present" in html and t("warehouse_desk.present") in html
    assert [g["guide"] for g in desk.model.sheet["guides"]] == ["fragile", "soft"]
    for guide in ("fragile", "soft"):
        assert t(f"packing.guide.{guide}") in html and f"kit-guide-{guide}" in html
    assert "送朋友的生日礼物" in html and t("warehouse_desk.gift") in html
    assert t("warehouse_desk.expected", expected_g=GIFT_G, items_g=950, packaging_g=320) in html


def test_unknown_scan_and_no_parcel_are_explained(waved: WarehouseDesk) -> None:
    """A code that is no parcel of the wave, and packing before opening one: words, not errors."""
    model = waved.model
    scan(waved, "NOT-AN-ORDER")
    assert model.message == t("warehouse_desk.scan_unknown", code="NOT-AN-ORDER")
    assert model.pack("100") is False and model.message == t("warehouse_desk.no_shipment")
    assert model.shipment_id is None


def test_the_next_order_number_opens_the_next_parcel_S8(waved: WarehouseDesk) -> None:
    """A packer who moves on scans the next order number: that parcel opens, nothing is
    counted as a unit; a waybill number opens its parcel too."""
    desk = opened(waved, GIFT)
    gift = desk.model.shipment_id
    scan(desk, "CUP-A", PLAIN)

    assert desk.model.sheet["order_no"] == PLAIN and desk.model.scans == []
    assert desk.shipment_choice.value == desk.model.shipment_id
    desk.shipment_choice.value = gift
    desk.tracking.value = WAYBILL
    desk.shipment_choice.value = next(s for label, s in desk.model.shipment_choices if PLAIN in label)
    scan(desk, "TSHIRT-A")
    assert desk.model.pack("260") is True
    scan(desk, WAYBILL)  # PLAIN is packed: the next scan opens a parcel
    assert desk.model.shipment_id == gift


def test_waybill_number_then_label_note_and_card_S18_S22(shop: kit.Shop, waved: WarehouseDesk) -> None:
    """The label needs a number first (said in words); the pre-printed number is scanned in,
    then the label, the shipping note and the warranty card download as PDFs."""
    desk = opened(waved, GIFT)
    model = desk.model
    desk.label_button.click()
    assert isinstance(model.last_error, BadInput) and model.last_error.key == "documents.no_tracking"

    desk.tracking.value = WAYBILL.lower()

    assert model.message == t("warehouse_desk.number_assigned", shipment_id=model.shipment_id,
                              tracking_no=WAYBILL)
    assert desk.tracking.value == "" and model.sheet["tracking_no"] == WAYBILL
    with shop.store.read() as conn:
        sh = schema.shipments
        assert conn.execute(sa.select(sh.c.tracking_no).where(sh.c.order_no == GIFT)).scalar_one() == WAYBILL
    for button, key in ((desk.label_button, "file_labels"), (desk.note_button, "file_notes"),
                        (desk.warranty_button, "file_warranty")):
        button.click()
        assert model.last_error is None, model.message
        assert model.document_name == t(f"warehouse_desk.{key}", shipment_id=model.shipment_id)
        assert pdf_of(desk).startswith(b"%PDF")


def test_a_bad_waybill_number_is_refused_in_words_S18(shop: kit.Shop, waved: WarehouseDesk) -> None:
    """A number YTO never issues: the carrier's reason, the field keeps it, nothing written."""
    desk = opened(waved, PLAIN)
    desk.tracking.value = "YT123"

    assert desk.model.last_error.key == "warehouse_desk.number_refused"
    assert desk.tracking.value == "YT123" and desk.model.sheet["tracking_no"] is None


def test_wave_documents_need_every_number_S18_S23(waved: WarehouseDesk) -> None:
    """The whole wave's batch: refused in words while a parcel has no number."""
    waved.wave_docs_button.click()
    assert waved.model.last_error.key == "documents.no_tracking"


def test_report_a_short_pick_S7(shop: kit.Shop, waved: WarehouseDesk) -> None:
    """None of PLAIN's T-shirt on the shelf: asked first, then the order waits for stock and its
    parcel is cancelled; the sheet says there is nothing more to scan."""
    desk = opened(waved, PLAIN)
    assert list(desk.short_sku.options) == ["TSHIRT-A"] and visible(desk.short_form)
    desk.short_found.value = "0"

    desk.short_form.children[-1].click()
    assert visible(desk.confirm) and "TSHIRT-A" in desk.confirm.question.value
    desk.confirm.yes.click()

    model = desk.model
    assert model.last_error is None, model.message
    assert model.message.startswith(t("warehouse_desk.short_done", order_no=PLAIN, sku="TSHIRT-A", needed=1,
                                      found=0, corrected=1)[:20])
    assert shipments(shop)[PLAIN] == [("hq", "cancelled")]
    assert shop.orders().filter(pl.col("order_no") == PLAIN)["stage"].to_list() == ["backordered"]
    assert model.sheet["stage"] == "cancelled"


def test_report_short_with_a_bad_count_is_explained_S7(waved: WarehouseDesk) -> None:
    """'some' is no count: the sentence names it."""
    desk = opened(waved, PLAIN)
    assert desk.model.report_short("TSHIRT-A", "some") is False
    assert desk.model.message == t("warehouse_desk.bad_found", value="some")


# --- roles ----------------------------------------------------------------------------------


def test_presale_sees_no_pack_or_plan_buttons_and_the_core_refuses(shop: kit.Shop) -> None:
    """Pre-sales reads the desk but sees no wave form, scan field, pack, print or short form;
    asked anyway, the services refuse."""
    desk = desk_for(shop, "客服小美")
    model = desk.model

    assert model.allowed == []
    for part in (desk.wave_form, desk.scan_row, desk.pack_form, desk.print_form, desk.short_form,
                 desk.picklist_button, desk.wave_docs_button):
        assert not visible(part)
    assert model.counts["to_wave"] == 4
    assert model.form_waves() is False and isinstance(model.last_error, PermissionDenied)
    assert {s for parcels in shipments(shop).values() for _, s in parcels} == {"allocated"}


def test_presale_cannot_pack_even_through_the_model(shop: kit.Shop, waved: WarehouseDesk) -> None:
    """A parcel opened by pre-sales: packing it is refused by the lifecycle."""
    model = WarehouseDeskModel(shop.acting_as("客服小美"))
    model.refresh()
    model.wave_id = next(w for label, w in model.wave_choices if " hq " in label)
    parcel = next(s for label, s in model.shipment_choices if PLAIN in label)
    assert model.open_shipment(parcel) is True
    model.scan("TSHIRT-A")

    assert model.pack("260") is False and isinstance(model.last_error, PermissionDenied)
    assert shipments(shop)[PLAIN] == [("hq", "picking")]


@pytest.mark.parametrize(("who", "allowed"), [
    ("物流小张", ["plan_waves", "pack", "print_documents"]),
    ("售后小雅", ["pack", "print_documents"]),
    ("店长", ["plan_waves", "pack", "report_short_pick", "print_documents"]),
    ("分析师", []),
])
def test_each_role_sees_its_own_actions(shop: kit.Shop, who: str, allowed: list[str]) -> None:
    """kit.permissions and the lifecycle decide which controls show."""
    desk = desk_for(shop, who)
    assert desk.model.allowed == allowed
    assert visible(desk.pack_form) == ("pack" in allowed)
    assert visible(desk.short_form) == ("report_short_pick" in allowed)


def test_the_desk_speaks_english(shop: kit.Shop) -> None:
    """With KIT_LANG=en every label comes from the English catalogue."""
    set_lang("en")
    desk = desk_for(shop)
    assert "Warehouse" in desk.header.title.value
    assert desk.waves_button.description == "Form waves"
    assert desk.model.form_waves() is True
    assert desk.model.message.startswith("Formed 2 pick waves")

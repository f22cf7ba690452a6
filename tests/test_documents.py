"""Printed documents read back as a printer and a scanner would see them: page sizes in mm,
the Chinese text, the embedded font, the barcode decoded from pixels (S8, S14, S18, S22, S26)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import polars as pl
import pypdf
import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp

import kit
from kit import documents
from kit.demo import seed
from kit.documents import fonts
from kit.errors import BadInput, NotFound, PermissionDenied
from kit.i18n import set_lang
from kit.models import Role, StaffMember
from kit.store import schema
from kit.store.frames import read_frame

TODAY = dt.date(2026, 11, 30)
EXPRESS = ("yto", "sf", "zto", "sto", "yunda", "jd", "ems", "jt", "deppon")
C = pl.col


# --- the shop and how PDFs are read back ---------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """A demo shop of 150 orders on SQLite, shared by the module's tests (each test that changes
    a row changes its own)."""
    path = tmp_path_factory.mktemp("documents") / "kit.db"
    shop = kit.connect(f"sqlite:///{path}", actor="店长")
    seed(shop, orders=150, today=TODAY)
    yield shop
    shop.close()


@pytest.fixture(scope="module")
def rows(shop):
    """The demo's shipments with their order's receiver and payment columns."""
    s, o = schema.shipments, schema.orders
    with shop.store.read() as conn:
        return read_frame(conn, sa.select(
            s, o.c.receiver_name, o.c.receiver_mobile, o.c.province, o.c.city, o.c.district,
            o.c.address_detail, o.c.payment_method, o.c.payable_fen, o.c.no_price_slip,
        ).select_from(s.join(o, o.c.order_no == s.c.order_no)).order_by(s.c.shipment_id))


@pytest.fixture(scope="module")
def labelled(rows):
    """Handed-over or confirmed express shipments of online orders that are no presents, one per
    order: they have tracking numbers."""
    ready = rows.filter(C("tracking_no").is_not_null() & C("carrier_code").is_in(EXPRESS)
                        & C("stage").is_in(["handed_over", "confirmed"]) & C("order_no").is_unique())
    return ready.filter((C("payment_method") == "online") & ~C("no_price_slip"))


def text_of(pdf: bytes, page: int | None = None) -> str:
    """The text pypdf extracts from one page (or all), whitespace removed: extraction spaces CJK
    glyphs, and pypdf reads fpdf2's embedded Identity CMap a byte at a time, so a NUL comes
    before each character (pdfium reads it as two-byte codes, as viewers do)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = reader.pages if page is None else [reader.pages[page]]
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in pages))


def sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's width and height in mm."""
    return [(float(p.mediabox.width) / 72 * 25.4, float(p.mediabox.height) / 72 * 25.4)
            for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def barcodes(pdf: bytes, page: int = 0) -> list:
    """The barcodes a scanner finds on a page rasterised at 300 dpi."""
    image = pdfium.PdfDocument(pdf)[page].render(scale=300 / 72).to_pil()
    return zxingcpp.read_barcodes(image)


def with_documents(shop: kit.Shop, **settings) -> kit.Shop:
    """The same shop with [documents] settings changed."""
    config = dataclasses.replace(shop.config, documents={**shop.config.documents, **settings})
    return kit.Shop(shop.store, config, shop.actor)


def no_spaces(*parts: str) -> str:
    """Parts joined as extracted text compares them."""
    return re.sub(r"\s+", "", "".join(parts))


# --- waybill labels ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["76x130", "100x150", "100x180"])
def test_S8_S14_every_label_page_is_exactly_the_label_size_and_its_barcode_scans(shop, labelled, size):
    """Each label page is W x H mm (within 0.1 mm), one per shipment, and its Code 128 decodes
    to the tracking number (S8: the waybill is filled in and checked)."""
    picked = labelled.head(2)
    width, height = documents.SIZES[size]

    pdf = documents.waybills(shop, picked["shipment_id"].to_list(), size=size)

    pages = sizes_mm(pdf)
    assert len(pages) == picked.height
    assert all(abs(w - width) < 0.1 and abs(h - height) < 0.1 for w, h in pages)
    found = barcodes(pdf, 0)
    assert [(b.text, b.format) for b in found] == [(picked["tracking_no"][0], zxingcpp.BarcodeFormat.Code128)]


def test_S14_label_has_the_full_address_phone_carrier_order_and_weight_in_chinese(shop, labelled):
    """The receiver's name, mobile and full address, the carrier's Chinese name, the tracking and
    order numbers and the weight in kg are on the label as text (S14, S8)."""
    row = labelled.row(0, named=True)

    text = text_of(documents.waybills(shop, [row["shipment_id"]]))

    assert row["receiver_name"] in text
    assert row["receiver_mobile"] in text
    assert no_spaces(row["province"], row["city"], row["district"], row["address_detail"]) in text
    carrier = kit.carriers.for_config(shop.config).get(row["carrier_code"]).name.zh
    assert carrier in text
    assert row["tracking_no"] in text and row["order_no"] in text
    grams = row["weight_g"] or row["expected_weight_g"]
    assert f"{grams / 1000:.2f}kg" in text


def test_labels_embed_the_chinese_font_and_carry_metadata(shop, labelled, monkeypatch):
    """Every font is embedded (FontFile2/3); title, author (the shop) and creation date are set,
    and the same input at the same moment gives the same bytes."""
    monkeypatch.setattr("kit.clock.now", lambda: dt.datetime(2026, 11, 30, 15, 30, 5))
    ids = labelled["shipment_id"].head(2).to_list()

    pdf = documents.waybills(shop, ids)

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
    meta = reader.metadata
    assert meta.author == shop.config.shop_name and shop.config.shop_name in meta.title
    assert meta.creation_date.replace(tzinfo=None) == dt.datetime(2026, 11, 30, 15, 30, 5)
    assert documents.waybills(shop, ids) == pdf


def test_S14_phone_is_masked_when_the_setting_says_so(shop, labelled):
    """mask_receiver_phone prints 138****5678: the full mobile is nowhere on the label."""
    row = labelled.row(1, named=True)
    mobile = row["receiver_mobile"]

    text = text_of(documents.waybills(with_documents(shop, mask_receiver_phone=True), [row["shipment_id"]]))

    assert mobile not in text
    assert f"{mobile[:3]}****{mobile[-4:]}" in text


def test_S8_cod_amount_and_insured_value_are_on_the_label(shop, rows):
    """A COD order's label shows the amount to collect; a shipment insured shows its value."""
    cod = rows.filter((C("payment_method") == "cod") & C("tracking_no").is_not_null()
                      & C("carrier_code").is_in(EXPRESS) & C("order_no").is_unique()).row(0, named=True)
    with shop.store.write() as conn:
        conn.execute(sa.update(schema.shipments).where(schema.shipments.c.shipment_id == cod["shipment_id"])
                     .values(insured_fen=50_000))

    text = text_of(documents.waybills(shop, [cod["shipment_id"]]))

    payable = cod["payable_fen"]
    assert f"代收货款¥{payable // 100:,}.{payable % 100:02d}" in text
    assert "保价¥500.00" in text


def test_S8_a_shipment_of_two_parcels_gets_a_label_for_each(shop, labelled):
    """Each parcel has its own label with its own number and weight, and says which of how many."""
    row = labelled.row(4, named=True)
    with shop.store.write() as conn:
        conn.execute(schema.parcels.insert().values(shipment_id=row["shipment_id"], parcel_no=2,
                                                    tracking_no="YT8800000000002", weight_g=800))

    pdf = documents.waybills(shop, [row["shipment_id"]])

    assert len(sizes_mm(pdf)) == 2
    assert [b.text for b in barcodes(pdf, 0)] == [row["tracking_no"]]
    assert [b.text for b in barcodes(pdf, 1)] == ["YT8800000000002"]
    assert "第1/2件" in text_of(pdf, 0) and "第2/2件" in text_of(pdf, 1) and "0.80kg" in text_of(pdf, 1)


def test_unknown_label_size_is_refused_naming_the_three_sizes(shop, labelled):
    """A size that is not one of the three is refused with BadInput naming it and the allowed ones."""
    with pytest.raises(BadInput) as refused:
        documents.waybills(shop, labelled["shipment_id"].head(1).to_list(), size="A4")

    assert refused.value.key == "documents.unknown_size"
    assert all(name in refused.value.message for name in ("A4", "76x130", "100x150", "100x180"))


def test_S18_shipment_without_tracking_number_gets_no_label(shop, rows):
    """A shipment not yet booked or handed over is refused, naming it and saying what to do first;
    a shipment with no logistics (carrier none) has no label at all."""
    untracked = rows.filter(C("tracking_no").is_null() & (C("carrier_code") != "none"))["shipment_id"][0]
    virtual = rows.filter(C("carrier_code") == "none")["shipment_id"][0]

    with pytest.raises(BadInput) as no_number:
        documents.waybills(shop, [untracked])
    with pytest.raises(BadInput) as no_label:
        documents.waybills(shop, [virtual])

    assert no_number.value.key == "documents.no_tracking" and str(untracked) in no_number.value.message
    assert "运单号" in no_number.value.message
    assert no_label.value.key == "documents.no_label" and str(virtual) in no_label.value.message


def test_a_cancelled_shipment_gets_no_documents(shop, labelled):
    """Nothing is printed for a cancelled shipment: the refusal names it."""
    sid = labelled["shipment_id"][5]
    with shop.store.write() as conn:
        conn.execute(sa.update(schema.shipments).where(schema.shipments.c.shipment_id == sid)
                     .values(stage="cancelled"))

    for make in (documents.waybills, documents.shipping_notes, documents.warranty_cards):
        with pytest.raises(BadInput) as refused:
            make(shop, [sid])
        assert refused.value.key == "documents.cancelled" and str(sid) in refused.value.message


def test_unknown_shipment_is_not_found(shop):
    """An id that is no shipment is named in a NotFound."""
    with pytest.raises(NotFound) as missing:
        documents.shipping_notes(shop, [987654])

    assert "987654" in missing.value.message


def test_a_role_without_print_documents_is_refused(shop, labelled):
    """Analysts read everything but print nothing: PermissionDenied for every document."""
    analyst = kit.Shop(shop.store, shop.config, StaffMember("分析师小陈", Role.ANALYST))
    ids = labelled["shipment_id"].head(1).to_list()

    for make in (documents.waybills, documents.shipping_notes, documents.warranty_cards,
                 documents.wave_documents):
        with pytest.raises(PermissionDenied):
            make(analyst, ids)


# --- shipping notes and warranty cards -----------------------------------------------------------


def _order_lines(shop, order_no: str) -> pl.DataFrame:
    with shop.store.read() as conn:
        lines = schema.order_lines
        return read_frame(conn, sa.select(lines).where(lines.c.order_no == order_no))


def _prices(lines: pl.DataFrame) -> set[str]:
    amounts = lines["price_fen"].to_list() + lines["amount_fen"].to_list() + [lines["amount_fen"].sum()]
    return {f"{a // 100:,}.{a % 100:02d}" for a in amounts if a}


def test_S22_a_normal_shipping_note_shows_items_prices_and_total(shop, labelled):
    """The note lists each line's title, quantity, unit price and amount, and the total."""
    row = labelled.row(2, named=True)
    lines = _order_lines(shop, row["order_no"])

    pdf = documents.shipping_notes(shop, [row["shipment_id"]])

    text = text_of(pdf)
    (width, height), = sizes_mm(pdf)
    assert abs(width - 148) < 0.1 and abs(height - 210) < 0.1
    assert "发货单" in text and row["order_no"] in text and row["receiver_name"] in text
    assert all(no_spaces(title) in text for title in lines["title"])
    assert all(f"¥{p}" in text for p in _prices(lines))


def test_S22_printing_is_kept_in_the_audit_trail(shop, labelled):
    """Which note was printed for which parcel, by whom, is kept: one audit row per shipment
    and print; a refused print leaves none."""
    row = labelled.row(3, named=True)
    sid = str(row["shipment_id"])

    def printed() -> pl.DataFrame:
        trail = shop.audit_trail("shipment", sid)
        return trail.filter(pl.col("action") == "print")

    before = printed().height
    documents.shipping_notes(shop, [row["shipment_id"]])
    documents.waybills(shop, [row["shipment_id"]])
    with pytest.raises(kit.errors.BadInput):
        documents.waybills(shop, [row["shipment_id"]], size="90x90")

    rows = printed()
    assert rows.height == before + 2
    assert rows["reason"].tail(2).to_list() == ["note", "waybill"]
    assert set(rows["actor"].tail(2)) == {shop.actor.name}


def test_S26_a_presents_note_has_no_price_anywhere(shop, labelled):
    """no_price_slip: no ¥, no unit price, amount or total on the note, a line saying so instead;
    gift items are marked as gifts."""
    row = labelled.row(3, named=True)
    lines = _order_lines(shop, row["order_no"])
    with shop.store.write() as conn:
        conn.execute(sa.update(schema.orders).where(schema.orders.c.order_no == row["order_no"])
                     .values(no_price_slip=True))
        conn.execute(sa.update(schema.order_lines).where(schema.order_lines.c.order_no == row["order_no"],
                                                          schema.order_lines.c.line_no == 1)
                     .values(is_gift_item=True))

    text = text_of(documents.shipping_notes(shop, [row["shipment_id"]]))

    assert "¥" not in text
    assert not [p for p in _prices(lines) if p in text]
    assert "礼品包裹，不含价格" in text
    assert "【赠品】" + no_spaces(lines.filter(C("line_no") == 1)["title"][0]) in text
    assert all(no_spaces(title) in text for title in lines["title"])


def test_S18_warranty_card_names_shop_order_items_date_and_months(shop, labelled):
    """An A6 card: shop, order number, items, the hand-over date and the warranty months from it."""
    row = labelled.row(0, named=True)
    lines = _order_lines(shop, row["order_no"])

    pdf = documents.warranty_cards(with_documents(shop, warranty_months=24), [row["shipment_id"]])

    text = text_of(pdf)
    (width, height), = sizes_mm(pdf)
    assert abs(width - 105) < 0.1 and abs(height - 148) < 0.1
    assert "保修卡" in text and shop.config.shop_name in text and row["order_no"] in text
    shipped = row["handed_over_at"].date()
    assert f"发货日期：{shipped:%Y-%m-%d}" in text
    assert f"保修期：24个月，至{shipped.replace(year=shipped.year + 2):%Y-%m-%d}" in text
    assert all(no_spaces(title) in text for title in lines["title"])
    assert "¥" not in text


def test_documents_follow_the_staff_language(shop, labelled):
    """In English the note's headings and the carrier's name are English."""
    row = labelled.row(0, named=True)
    set_lang("en")

    text = text_of(documents.shipping_notes(shop, [row["shipment_id"]]))

    carrier = kit.carriers.for_config(shop.config).get(row["carrier_code"]).name.en
    assert "Shippingnote" in text and no_spaces(carrier) in text


# --- the batch for a wave ------------------------------------------------------------------------


def test_S18_S23_wave_documents_print_label_note_and_card_per_shipment_in_order(shop, labelled):
    """One PDF, every page the label size: per shipment its label, its note, its card, in the
    order given; pages = labels + notes + cards."""
    ids = labelled["shipment_id"].head(3).to_list()[::-1]

    pdf = documents.wave_documents(shop, ids, size="100x150")

    pages = sizes_mm(pdf)
    assert len(pages) == 3 * len(ids)
    assert all(abs(w - 100) < 0.1 and abs(h - 150) < 0.1 for w, h in pages)
    tracking = dict(labelled.select("shipment_id", "tracking_no").iter_rows())
    for k, sid in enumerate(ids):
        assert barcodes(pdf, 3 * k)[0].text == tracking[sid]
        assert "发货单" in text_of(pdf, 3 * k + 1) and "保修卡" in text_of(pdf, 3 * k + 2)


# --- the pick list -------------------------------------------------------------------------------


WAVE = {"wave_id": 41, "warehouse_code": "hq", "warehouse_name": "总仓", "carrier_code": "yto",
        "ship_by": dt.datetime(2026, 11, 30, 16), "shipments": 40, "units": 300,
        "created_at": dt.datetime(2026, 11, 30, 9, 5), "created_by": "仓管甲"}


def _wave_frames(n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """n lines, deliberately not in location order, three per order."""
    totals = pl.DataFrame({
        "location": [f"A-{(n - i) % 9:02d}-{i % 5}" for i in range(n)],
        "sku": [f"SKU-P{i:03d}" for i in range(n)],
        "title": [f"测试商品{i}号" for i in range(n)],
        "spec": ["颜色分类：黑色"] * n, "quantity": [i % 4 + 1 for i in range(n)], "orders": [1] * n,
    })
    per_order = totals.select(
        pl.Series("order_no", [f"9{i // 3:017d}" for i in range(n)]),
        pl.Series("shipment_id", [i // 3 + 1 for i in range(n)]),
        "location", "sku", "title", "spec", "quantity")
    return totals, per_order


def test_S23_pick_list_runs_over_pages_sorted_by_location_then_sku():
    """120 lines run over several A4 pages, each with the wave and warehouse on top and its page
    number; the totals come by location then SKU; every SKU is on it."""
    totals, per_order = _wave_frames(120)

    pdf = documents.pick_list_pdf(WAVE, totals, per_order)

    pages = sizes_mm(pdf)
    assert len(pages) > 2
    assert all(abs(w - 210) < 0.1 and abs(h - 297) < 0.1 for w, h in pages)
    texts = [text_of(pdf, k) for k in range(len(pages))]
    assert all("波次41" in page and "总仓" in page for page in texts)
    assert all(f"第{k + 1}/{len(pages)}页" in page for k, page in enumerate(texts))
    whole = "".join(texts)
    assert all(sku in whole for sku in totals["sku"])
    in_order = totals.sort("location", "sku")["sku"].to_list()
    first_section = whole[:whole.index("二、")]
    assert sorted(in_order, key=first_section.index) == in_order


# --- fonts ---------------------------------------------------------------------------------------


def test_no_chinese_font_found_says_what_was_searched_and_what_to_install(monkeypatch):
    """Without any known CJK font the message lists the folders searched and the fix."""
    monkeypatch.setattr(fonts, "KNOWN_PATHS", ("/nonexistent/NotoSansCJK-Regular.ttc",))
    fonts.find_font.cache_clear()
    try:
        with pytest.raises(BadInput) as missing:
            fonts.find_font(None)
    finally:
        fonts.find_font.cache_clear()

    assert missing.value.key == "documents.no_font"
    message = missing.value.message
    assert "fonts-noto-cjk" in message and "[documents]" in message and "font" in message
    assert "/nonexistent" in message and "NotoSansCJK-Regular.ttc" in message


def test_a_font_setting_must_be_a_chinese_font(shop, labelled, tmp_path):
    """[documents] font naming a missing file, or a font without Chinese glyphs, is refused by name."""
    ids = labelled["shipment_id"].head(1).to_list()
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

    with pytest.raises(BadInput) as missing:
        documents.waybills(with_documents(shop, font=str(tmp_path / "none.ttf")), ids)

    assert missing.value.key == "documents.font_missing" and "none.ttf" in missing.value.message
    if fonts.Path(latin).is_file():
        with pytest.raises(BadInput) as latin_only:
            documents.waybills(with_documents(shop, font=latin), ids)
        assert latin_only.value.key == "documents.font_no_chinese"


def test_the_collection_face_is_simplified_chinese():
    """In a collection the SC face is chosen by name, whatever its index."""
    font = fonts.find_font(None)

    assert "SC" in font.family.split() or "WenQuanYi" in font.family or font.index == 0


# --- reading ---------------------------------------------------------------------------------------


def test_documents_read_a_fixed_number_of_queries_whatever_the_count(db_url):
    """Ten shipments or two: the same number of SELECTs (one per table, never one per shipment),
    on SQLite and PostgreSQL."""
    shop = kit.connect(db_url, actor="店长")
    try:
        seed(shop, orders=40, today=TODAY)
        s = schema.shipments
        ids = shop.store.frame(sa.select(s.c.shipment_id).where(
            s.c.tracking_no.is_not(None), s.c.carrier_code.in_(EXPRESS)).order_by(s.c.shipment_id))
        ids = ids["shipment_id"].to_list()
        counts = []
        for n in (2, 10):
            selects: list[str] = []

            def listen(_conn, _cursor, statement, *_args, seen=selects) -> None:
                if statement.lstrip().upper().startswith("SELECT"):
                    seen.append(statement)

            sa.event.listen(shop.store.engine, "before_cursor_execute", listen)
            try:
                pdf = documents.wave_documents(shop, ids[:n])
            finally:
                sa.event.remove(shop.store.engine, "before_cursor_execute", listen)
            counts.append(len(selects))
            assert len(sizes_mm(pdf)) == 3 * n
    finally:
        shop.close()

    assert counts[0] == counts[1]

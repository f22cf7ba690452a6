"""The 统计 statistics wall's view model and widgets, without a browser (S22, S15, S6, S9, S20).

The shop: the demo shop of 300 orders (deterministic, ending 2026-11-30) with its ship-by
deadlines assigned, as `kit demo` leaves it. The wall shows kit.stats' table of a window: the
tiles and lists are the service's numbers, nothing recomputed in the UI.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fulfil_fixtures import built_shops, clock_fixture, copy_of  # noqa: F401  (clock: a fixture)
from ui_support import header_px, visible

import kit
from kit import deadlines, demo, stats
from kit.errors import BadInput
from kit.i18n import set_lang, t
from kit.ui.stats_desk import VIEWS, StatsDeskModel, stats_desk
from kit.ui.stats_view import XLSX, StatsDesk

END = date(2026, 11, 30)
FIRST = date(2026, 11, 24)


def build(url: str) -> None:
    """The demo shop of 300 orders ending on END, its deadlines assigned."""
    with kit.connect(url, actor="店长") as shop:
        demo.seed(shop, orders=300, today=END)
        deadlines.assign(shop)


built = built_shops(build)


@pytest.fixture
def shop(built: Callable[[str], str], tmp_path: Path, clock: dict[str, datetime]) -> Iterator[kit.Shop]:
    """A fresh copy of the shop (SQLite) on the evening of END; the supervisor acts."""
    clock["now"] = datetime(2026, 11, 30, 20, 0)
    with copy_of(built("sqlite"), tmp_path) as url, kit.connect(url, actor="店长") as opened:
        yield opened


def desk_for(shop: kit.Shop, name: str | None = None) -> StatsDesk:
    """The wall as `name` (default: the shop's actor) sees it, read and drawn."""
    return stats_desk(shop.acting_as(name) if name else shop)


def test_the_wall_shows_the_service_s_table_of_the_last_week_S22(shop: kit.Shop) -> None:
    """First read: the last seven days by day × carrier × warehouse; tiles and lists hold exactly
    what kit.stats.statistics gives for that window."""
    desk = desk_for(shop)
    model = desk.model
    expected = stats.statistics(shop, FIRST, END, period="day", by=["carrier", "warehouse"])

    assert (model.first, model.last, model.period, model.by) == (FIRST, END, "day", "carrier,warehouse")
    assert model.last_error is None
    head = expected.views["summary"].row(0, named=True)
    assert model.counts["shipments"] == head["shipments"] > 0
    assert model.counts["on_time_pct"] == round(head["on_time_rate"] * 100)
    assert model.counts["hours_median"] == round(head["hours_median"])
    for view in VIEWS:
        assert model.tables[view].total == expected.views[view].height, view
    shown = model.tables["shipping"].rows.row(0, named=True)
    assert shown[t("stats.col.period")] == expected.views["shipping"]["period"][0].isoformat()
    assert "发货统计" in desk.header.title.value
    assert [type(c).__name__ for c in desk.charts.children] == ["VBox"]
    assert "kit-stats-charts" in desk.charts.children[0]._dom_classes
    assert len(desk.charts.children[0].children) == 4  # on time, hourly, exceptions, backlog


def test_another_period_and_breakdown(shop: kit.Shop) -> None:
    """Per week by carrier: the shipping list has a week column and a carrier column, no warehouse;
    carriers are shown by name."""
    desk = desk_for(shop)
    desk.period.value, desk.by.value = "week", "carrier"
    desk.apply.click()

    model = desk.model
    assert model.last_error is None and (model.period, model.by) == ("week", "carrier")
    labels = [c.label for c in model.tables["shipping"].columns]
    assert t("stats.col.carrier_code") in labels and t("stats.col.warehouse_code") not in labels
    carriers = set(model.tables["shipping"].rows[t("stats.col.carrier_code")].to_list())
    assert "圆通速递" in carriers and "yto" not in carriers


def test_a_window_ending_before_it_starts_is_explained_and_the_table_kept(shop: kit.Shop) -> None:
    """From after to: refused in words; the wall keeps showing the last table."""
    desk = desk_for(shop)
    before = desk.model.counts
    assert desk.model.choose(date(2026, 11, 30), date(2026, 11, 1)) is False
    assert isinstance(desk.model.last_error, BadInput) and desk.model.level == "error"
    assert "2026-11-30" in desk.model.message and desk.model.counts == before
    assert (desk.model.first, desk.model.last) == (FIRST, END)


def test_an_empty_window_shows_zeros_and_dashes_never_nan(shop: kit.Shop) -> None:
    """A window in the future: zero parcels, the on-time and hours tiles a dash, empty lists; the
    charts are drawn empty (no exception)."""
    desk = desk_for(shop)
    assert desk.model.choose(date(2027, 1, 1), date(2027, 1, 7)) is True
    counts = desk.model.counts
    assert counts["shipments"] == 0 and counts["on_time_pct"] is None and counts["hours_median"] is None
    assert desk.kpis.tiles["on_time_pct"].number is None
    assert desk.model.tables["shipping"].total == 0
    assert len(desk.charts.children[0].children) == 4
    rendered = " ".join(str(v) for f in desk.model.statistics.views.values() for v in f.to_dicts())
    assert "nan" not in rendered.lower()


def test_the_workbook_downloads_with_one_sheet_per_view_S22(shop: kit.Shop) -> None:
    """Download Excel: a real workbook (openpyxl opens it) with a sheet per view and Chinese
    headers, offered as a link."""
    from openpyxl import load_workbook

    desk = desk_for(shop)
    desk.export_button.click()
    assert desk.model.level == "info", desk.model.message
    assert desk.model.workbook_name.endswith(".xlsx") and XLSX in desk.download.value
    book = load_workbook(io.BytesIO(desk.model.workbook))
    titles = [stats.table.view_title(v) for v in stats.VIEWS]
    assert [s for s in book.sheetnames if s in titles] == titles
    sheet = book[stats.table.view_title("shipping")]
    assert sheet.cell(1, 1).value == t("stats.col.period")

    desk.apply.click()  # another read: the old workbook is no longer offered
    assert desk.model.workbook == b"" and desk.download.value == ""


def test_every_role_reads_an_analyst_too(shop: kit.Shop) -> None:
    """Statistics are for everyone with a role: the analyst sees the tables and the workbook button."""
    desk = desk_for(shop, "分析师小陈")
    assert desk.model.allowed == ["read"] and visible(desk.export_button)
    assert desk.model.counts["shipments"] > 0


def test_every_header_fits_its_column(shop: kit.Shop) -> None:
    """No Chinese header is cut off in the grid."""
    model = desk_for(shop).model
    narrow = [
        (v, c.label, c.width) for v in VIEWS for c in model.tables[v].columns if c.width < header_px(c.label)
    ]
    assert narrow == []


def test_english(shop: kit.Shop) -> None:
    """With KIT_LANG=en the wall speaks English."""
    set_lang("en")
    desk = desk_for(shop)
    assert "Shipping statistics" in desk.header.title.value
    assert desk.export_button.description == "Download Excel"


def test_wall_without_a_database_explains_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that cannot be opened: the store's message, dashes, no workbook button."""
    monkeypatch.setenv("KIT_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/folder/kit.db")
    desk = stats_desk()
    assert desk.model.shop is None and desk.model.last_error is not None
    assert not visible(desk.export_button) and desk.charts.children == ()
    assert isinstance(desk.model, StatsDeskModel)

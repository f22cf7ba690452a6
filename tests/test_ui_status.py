"""The status board's view model and widgets, without a browser."""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from orders_factory import make_orders

import kit
from kit.errors import StoreError
from kit.i18n import catalogue, set_lang, t
from kit.models import ShipmentStage, Stage, TradeStatus
from kit.shop import Shop
from kit.ui import StatusBoard, StatusModel, open_shop, status_dashboard


@pytest.fixture
def shop(sqlite_url: str) -> Iterator[Shop]:
    """A shop with 4 new orders, 3 approved ones and 2 the buyer has not paid yet."""
    with kit.connect(sqlite_url, actor="店长") as shop:
        shop.insert_orders(*make_orders(4), kind="test", source="test")
        shop.insert_orders(*make_orders(3, stage="approved", start=5), kind="test", source="test")
        shop.insert_orders(*make_orders(2, trade_status="WAIT_BUYER_PAY", start=8),
                           kind="test", source="test")
        yield shop


def classes(widget: object) -> set[str]:
    """The CSS classes of a widget."""
    return set(widget._dom_classes)  # type: ignore[attr-defined]


def test_model_holds_what_the_shop_counts(shop: Shop) -> None:
    """After refresh() the model holds exactly Shop.status(), with no message."""
    model = StatusModel(shop)

    ok = model.refresh()

    assert ok is True
    assert model.counts == shop.status()
    assert model.updated_at is not None
    assert (model.message, model.level, model.last_error) == ("", "", None)


def test_tiles_show_the_counts(shop: Shop) -> None:
    """Every tile shows the count Shop.status() gives for its state."""
    status = shop.status()

    board = status_dashboard(shop)

    assert board.orders_tile.number == status["orders"] == 9
    assert {s: board.stages.tiles[s].number for s in status["stage"]} == status["stage"]
    assert ({s: board.trade.tiles[s].number for s in status["trade_status"]}
            == status["trade_status"])
    assert board.stages.tiles["new"].number == 6
    assert board.trade.tiles["WAIT_BUYER_PAY"].number == 2
    assert board.shipments_tile.number == sum(status["shipments"].values()) == 0
    assert '<div class="kit-kpi-value">9</div>' in board.orders_tile.value


def test_refresh_button_shows_orders_inserted_since(shop: Shop) -> None:
    """Clicking refresh after more orders arrive updates the total and the stage tiles."""
    board = status_dashboard(shop)
    shop.insert_orders(*make_orders(5, stage="held", start=20), kind="test", source="test")

    board.refresh_button.click()

    assert board.orders_tile.number == 14
    assert board.stages.tiles["held"].number == 5
    assert "kit-kpi-zero" not in classes(board.stages.tiles["held"])
    assert board.model.busy is False
    assert board.refresh_button.disabled is False


def test_big_counts_use_thousands_separators(shop: Shop) -> None:
    """A count of thousands reads 1,234 on its tile."""
    board = status_dashboard(shop)

    board.orders_tile.number = 12345

    assert '<div class="kit-kpi-value">12,345</div>' in board.orders_tile.value


def test_css_classes_for_browser_tests(shop: Shop) -> None:
    """The root, every tile, the button and the message area carry their stable CSS classes."""
    board = status_dashboard(shop)

    assert "kit-status" in classes(board)
    assert {"kit-kpi", "kit-kpi-orders"} <= classes(board.orders_tile)
    assert {"kit-kpi", "kit-kpi-shipments"} <= classes(board.shipments_tile)
    for stage in Stage:
        assert {"kit-kpi", f"kit-kpi-stage-{stage}"} <= classes(board.stages.tiles[stage])
    for status in TradeStatus:
        assert {"kit-kpi", f"kit-kpi-trade-{status}"} <= classes(board.trade.tiles[status])
    for stage in ShipmentStage:
        assert f"kit-kpi-shipment-{stage}" in classes(board.shipments.tiles[stage])
    assert "kit-refresh" in classes(board.refresh_button)
    assert "kit-message" in classes(board.message)
    assert "kit-updated" in classes(board.updated)


def test_labels_are_chinese_by_default(shop: Shop) -> None:
    """Without a language chosen, tiles, button and title read in Chinese."""
    board = status_dashboard(shop)

    assert board.orders_tile.label == "订单总数"
    assert board.stages.tiles["new"].label == "新单待审"
    assert board.refresh_button.description == "刷新"
    assert "发货概况" in board.title.value
    assert "操作人：店长（主管）" in board.subtitle.value


def test_labels_in_english(shop: Shop) -> None:
    """With set_lang("en"), the same board reads in English."""
    set_lang("en")

    board = status_dashboard(shop)

    assert board.orders_tile.label == "Orders in total"
    assert board.stages.tiles["new"].label == Stage.NEW.label == "New, to review"
    assert board.trade.tiles["WAIT_BUYER_PAY"].label == TradeStatus.WAIT_BUYER_PAY.label
    assert board.refresh_button.description == "Refresh"
    assert board.updated.value.startswith("Updated ")


def test_refusal_becomes_a_message_not_an_exception(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KitError during refresh shows its own message; the tiles keep the last counts."""
    board = status_dashboard(shop)
    error = StoreError("store.unreachable", url="postgresql://kit@db/kit", detail="timeout")

    def unreachable() -> dict[str, object]:
        raise error

    monkeypatch.setattr(shop, "status", unreachable)

    board.refresh_button.click()

    assert board.model.last_error is error
    assert board.model.level == "error"
    assert board.model.message == error.message
    assert "连不上数据库" in board.message.value
    assert "kit-message-error" in classes(board.message)
    assert board.message.layout.display is None
    assert board.orders_tile.number == 9
    assert board.model.busy is False


def test_unexpected_error_becomes_a_generic_message_and_is_logged(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Any other exception shows the catalogue's generic sentence and is logged with its traceback."""
    model = StatusModel(shop)

    def broken() -> dict[str, object]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(shop, "status", broken)

    with caplog.at_level(logging.ERROR, logger="kit.ui"):
        ok = model.refresh()

    assert ok is False
    assert isinstance(model.last_error, RuntimeError)
    assert model.message == t("ui.unexpected_error", error="RuntimeError")
    assert "disk on fire" not in model.message
    assert "Traceback" not in model.message
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [RuntimeError]


def test_successful_refresh_clears_the_error(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the shop answers again, refresh empties the message area."""
    board = status_dashboard(shop)
    with monkeypatch.context() as patch:
        patch.setattr(shop, "status", lambda: 1 / 0)
        board.refresh_button.click()
    assert board.model.last_error is not None

    board.refresh_button.click()

    assert (board.model.message, board.model.last_error) == ("", None)
    assert board.message.value == ""
    assert board.message.layout.display == "none"


def test_dashboard_without_a_database_explains_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KIT_DATABASE_URL naming a missing folder gives a board with the store's message."""
    monkeypatch.setenv("KIT_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/folder/kit.db")

    board = status_dashboard()

    assert isinstance(board, StatusBoard)
    assert isinstance(board.model.last_error, StoreError)
    assert board.model.last_error.key == "store.sqlite_no_directory"
    assert "不存在" in board.message.value
    assert board.model.shop is None
    assert board.orders_tile.number is None
    assert board.stages.tiles["new"].number is None
    assert '<div class="kit-kpi-value">—</div>' in board.orders_tile.value


def test_refresh_retries_opening_the_shop(sqlite_url: str) -> None:
    """A shop that could not be opened is opened again by the next refresh."""
    attempts: list[int] = []

    def flaky_open() -> Shop:
        attempts.append(1)
        if len(attempts) == 1:
            raise StoreError("store.unreachable", url="postgresql://db/kit", detail="down")
        return kit.connect(sqlite_url)

    model = StatusModel(opener=flaky_open)
    board = StatusBoard(model)
    assert model.refresh() is False

    board.refresh_button.click()

    assert len(attempts) == 2
    assert model.shop is not None
    assert model.last_error is None
    assert "示例小店" in board.subtitle.value
    model.shop.close()


def test_open_shop_reads_what_kit_serve_sets(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """open_shop() uses KIT_DATABASE_URL and acts as KIT_ACTOR."""
    monkeypatch.setenv("KIT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("KIT_ACTOR", "店长")

    with open_shop() as shop:
        assert shop.actor is not None and shop.actor.name == "店长"
        assert shop.store.url.database == sqlite_url.removeprefix("sqlite:///")


def test_open_shop_without_actor_reads_only(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty KIT_ACTOR means nobody acts: the board can still count."""
    monkeypatch.setenv("KIT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("KIT_ACTOR", "")

    board = status_dashboard()

    assert board.model.shop is not None and board.model.shop.actor is None
    assert board.model.last_error is None
    assert "操作人" not in board.subtitle.value
    board.model.shop.close()


def test_unknown_state_in_the_database_gets_its_own_tile(shop: Shop) -> None:
    """A stage the enums do not know (a newer kit's data) still shows, under its code."""
    board = status_dashboard(shop)
    counts = {**board.model.counts, "stage": {**board.model.counts["stage"], "on hold!": 2}}

    board.model.counts = counts

    tile = board.stages.tiles["on hold!"]
    assert tile.number == 2
    assert "kit-kpi-stage-on_hold_" in classes(tile)
    assert tile in board.stages.row.children


def test_ui_messages_exist_in_both_languages() -> None:
    """Every ui.* message has a zh and an en text with the same placeholders."""
    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    zh = {k: v for k, v in catalogue("zh").items() if k.startswith("ui.")}
    en = {k: v for k, v in catalogue("en").items() if k.startswith("ui.")}

    assert zh.keys() == en.keys()
    assert {k: fields(v) for k, v in zh.items()} == {k: fields(v) for k, v in en.items()}
    assert all(re.search(r"[\u4e00-\u9fff]", v) for v in zh.values())

"""The outbox and its notifiers (S13, S24c, S19): notices queued by shipping reach the buyer
through a `send_notice` plugin; without one they stay queued and can be exported."""

from __future__ import annotations

import csv
from datetime import datetime

import polars as pl
import pytest

import kit
from kit import outbox
from kit.carriers import DEFAULT_PLUGINS, CarrierRegistry, hookimpl
from kit.errors import PermissionDenied
from kit.store import schema
from kit.store.frames import insert_frame


def _registry(*plugins: tuple[object, str]) -> CarrierRegistry:
    registry = CarrierRegistry(timeout=1)
    for module in DEFAULT_PLUGINS:
        registry.add_module(module)
    for plugin, name in plugins:
        registry.add(plugin, name, "extra")
    registry.collect()
    return registry


class Sms:
    """Sends "shipped" notices to a mobile, declines the rest."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    @hookimpl
    def send_notice(self, notice):
        if notice["kind"] != "shipped" or not notice["receiver_mobile"]:
            return None
        self.sent.append((notice["receiver_mobile"], notice["text"]))
        return True


class Mail:
    """Sends every notice."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    @hookimpl
    def send_notice(self, notice):
        self.sent.append(notice["notice_id"])
        return True


class Down:
    @hookimpl
    def send_notice(self, notice):
        raise ConnectionError("gateway down")


@pytest.fixture
def shop(db_url):
    """A shop with one order and a shipped and a delayed notice queued for it."""
    with kit.connect(db_url, actor="店长") as shop:
        shop.sync_settings()
        at = datetime(2026, 11, 30, 10, 0)
        with shop.store.write() as conn:
            insert_frame(conn, schema.orders, pl.DataFrame({
                "order_no": ["5001"], "platform": ["taobao"], "shop": ["示例小店"], "buyer_nick": ["tb_a"],
                "receiver_name": ["买家甲"], "receiver_mobile": ["13900001111"], "province": ["浙江省"],
                "city": ["杭州市"], "district": ["西湖区"], "address_detail": ["文三路 1 号"],
                "payment_method": ["online"], "total_fen": [1000], "payable_fen": [1000], "paid_fen": [1000],
                "created_at": [at], "trade_status": ["WAIT_BUYER_CONFIRM_GOODS"], "stage": ["confirmed"],
                "updated_at": [at]}))
            outbox.queue(conn, pl.DataFrame({
                "order_no": ["5001", "5001"], "kind": ["shipped", "delayed"], "lang": ["zh", "zh"],
                "text": ["已发货 YT1", "晚一点发"], "payload": [None, None], "due_at": [at, at]},
                schema_overrides={"payload": pl.String}), shop.staff_member("店长"), at)
        yield shop


def test_send_notice_without_a_notifier_leaves_notices_queued_and_exportable(shop, tmp_path):
    """S13: no notifier installed → nothing is marked sent; the CSV holds both notices."""
    result = outbox.send(shop, registry=_registry())
    path = tmp_path / "notices.csv"

    count = outbox.export_csv(shop, str(path))

    assert result["sent"] == [] and result["left"] == 2 and result["notifiers"] == []
    assert outbox.notices(shop).height == 2
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert count == 2 and {r["kind"] for r in rows} == {"shipped", "delayed"}
    assert rows[0]["text"] in ("已发货 YT1", "晚一点发")


def test_send_notice_asks_notifiers_in_turn_and_marks_each_notice_sent_once(shop):
    """S24c: the SMS plugin takes the shipped notice, the mail plugin the one SMS declined;
    each notice is sent by one plugin, marked sent by it, with an audit row."""
    sms, mail = Sms(), Mail()
    registry = _registry((sms, "sms"), (mail, "mail"))

    result = outbox.send(shop, registry=registry)
    again = outbox.send(shop, registry=registry)

    assert sms.sent == [("13900001111", "已发货 YT1")]
    assert len(mail.sent) == 1 and len(result["sent"]) == 2 and result["left"] == 0
    done = outbox.notices(shop, status="sent").sort("kind")
    assert done["sent_by"].to_list() == ["plugin:mail", "plugin:sms"]
    assert again["sent"] == [] and len(mail.sent) == 1
    trail = shop.audit_trail("order", "5001").filter(pl.col("action") == "notice_sent")
    assert trail.height == 2


def test_send_notice_reports_a_failing_notifier_and_asks_the_next(shop):
    """A notifier that raises is named with its error; the next one still sends."""
    mail = Mail()

    result = outbox.send(shop, registry=_registry((Down(), "down"), (mail, "mail")))

    assert len(result["sent"]) == 2
    assert {(plugin, error) for _, plugin, error in result["errors"]} == {
        ("down", "ConnectionError: gateway down")}


def test_send_notice_needs_a_role_that_notifies_buyers(shop):
    """A warehouse clerk cannot send buyer notices."""
    shop.config.staff["仓管甲"] = kit.models.Role.WAREHOUSE
    shop.sync_settings()

    with pytest.raises(PermissionDenied):
        outbox.send(shop.acting_as("仓管甲"), registry=_registry((Mail(), "mail")))
    assert outbox.notices(shop).height == 2


def test_ask_queues_an_address_check_or_cod_confirmation_notice(shop):
    """S24a, S16: staff ask a buyer to check the address, or to expect the COD call; the
    notice's text names the order, it is due within the hour; other kinds and unknown
    orders are refused, nothing queued."""
    count = outbox.ask(shop, ["5001"], "address_check")

    asked = outbox.notices(shop, kind="address_check")
    assert count == 1 and asked["order_no"].to_list() == ["5001"]
    assert "5001" in asked["text"][0] and "地址" in asked["text"][0]
    assert asked["overdue"].to_list() == [False]
    with pytest.raises(kit.errors.BadInput):
        outbox.ask(shop, ["5001"], "shipped")
    with pytest.raises(kit.errors.BadInput):
        outbox.ask(shop, ["9999"], "cod_confirm")
    assert outbox.notices(shop).height == 3

"""Daily reconciliation (S6): the typed-in count against the orders registered that day,
broken down by stage, so a missing order shows up as a difference."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from orders_factory import make_orders

import kit
from kit.reconcile import reconcile
from kit.store import schema

DAY = date(2026, 11, 30)


@pytest.fixture
def shop(db_url):
    """A shop with five paid orders on 30 November: three new, two held."""
    config = kit.config.parse({"staff": {"客服小美": "presale", "店长": "supervisor"}})
    with kit.connect(db_url, actor="客服小美", config=config) as shop:
        shop.insert_orders(*make_orders(3), kind="test", source="day")
        shop.insert_orders(*make_orders(2, start=4, stage="held"), kind="test", source="day")
        shop.insert_orders(*make_orders(1, start=6, trade_status="WAIT_BUYER_PAY"), kind="test",
                           source="day")
        yield shop


def test_counts_match_when_nothing_is_missing_S6(shop):
    """Pre-sales counted five paid orders; five are registered: balanced, stages add up."""
    result = reconcile(shop, DAY, counted=5)

    row = result.channels.row(0, named=True)
    assert result.balanced
    assert (row["imported"], row["counted"], row["difference"]) == (5, 5, 0)
    assert (row["new"], row["held"]) == (3, 2)
    assert row["imported"] == sum(row[s] for s in ("new", "held", "approved", "backordered", "allocated",
                                                     "picking", "packed", "handed_over", "confirmed",
                                                     "cancelled"))


def test_a_missing_order_shows_as_a_difference_and_is_recorded_S6(shop):
    """Pre-sales counted six: one order is missing, and the reconciliation is kept."""
    result = reconcile(shop, DAY, counted=6)

    assert not result.balanced
    assert result.channels["difference"][0] == 1
    with shop.store.read() as conn:
        kept = conn.execute(sa.select(schema.reconciliations)).mappings().one()
    assert (kept["counted"], kept["imported"], kept["actor"]) == (6, 5, "客服小美")


def test_another_day_has_nothing(shop):
    """A day without orders reconciles to zero, not to an error."""
    result = reconcile(shop, date(2026, 11, 1), counted=0)

    assert result.balanced
    assert result.channels["imported"][0] == 0


def test_anyone_may_read_a_reconciliation_but_only_staff_record_one(db_url):
    """An analyst sees the day's counts; typing a count in is pre-sales' work."""
    config = kit.config.parse({"staff": {"分析师": "analyst", "店长": "supervisor"}})
    with kit.connect(db_url, actor="分析师", config=config) as shop:
        assert reconcile(shop, DAY).channels["imported"][0] == 0
        with pytest.raises(kit.errors.PermissionDenied):
            reconcile(shop, DAY, counted=3)

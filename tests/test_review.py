"""Order review (审单): all rules pass → approved automatically; any fails → held with every
reason; presents get no price slip; COD waits for the phone (S11, S16, S26, S6)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from orders_factory import make_orders

import kit
from kit import review
from kit.errors import PermissionDenied

STAFF = {"客服小美": "presale", "店长": "supervisor", "分析师": "analyst"}


@pytest.fixture
def shop(db_url):
    """A shop on a fresh database (SQLite and PostgreSQL), acting as pre-sales."""
    config = kit.config.parse({"staff": STAFF})
    with kit.connect(db_url, actor="客服小美", config=config) as shop:
        yield shop


def add(shop: kit.Shop, start: int, **over: Any) -> str:
    """One clean new order (no message, fully paid), changed by `over`; its number."""
    orders, lines = make_orders(1, start=start)
    orders = orders.with_columns(pl.lit(None, dtype=pl.String).alias("buyer_message"))
    for column, value in over.items():
        if column in lines.columns and column != "order_no":
            lines = lines.with_columns(pl.lit(value, dtype=lines.schema[column]).alias(column))
        else:
            orders = orders.with_columns(pl.lit(value, dtype=orders.schema[column]).alias(column))
    shop.insert_orders(orders, lines, kind="test", source="review")
    return orders["order_no"][0]


def held_for(shop: kit.Shop, no: str) -> list[str]:
    """The rule codes an order is held for."""
    reasons = shop.order(no).hold_reasons
    return [r.removeprefix("review.") for r in reasons]


def test_clean_orders_are_approved_automatically(shop):
    """An order that passes every rule is approved by the review run, audited as the review job."""
    no = add(shop, 1)

    result = review.run(shop)

    assert result.approved == [no]
    assert shop.order(no).stage == "approved"
    trail = shop.audit_trail("order", no)
    assert trail["actor"][-1] == "system:review:客服小美"


def test_unpaid_online_order_is_held_S16(shop):
    """S16: online payment not complete → held with the reason."""
    no = add(shop, 1, paid_fen=100)

    review.run(shop)

    assert held_for(shop, no) == ["payment_incomplete"]


def test_cod_waits_for_the_phone_then_is_released_S16(shop):
    """S16: a COD order is held until pre-sales confirms by phone, then released."""
    no = add(shop, 1, payment_method="cod", paid_fen=0)
    review.run(shop)
    assert held_for(shop, no) == ["cod_unconfirmed"]
    assert review.cod_call_list(shop)["order_no"].to_list() == [no]

    review.confirm_phone(shop, no)

    order = shop.order(no)
    assert (order.stage, order.phone_confirmed) == ("approved", True)
    assert review.cod_call_list(shop).height == 0


def test_every_reason_is_listed(shop):
    """An order failing several rules is held with all of them, in a fixed order."""
    no = add(shop, 1, province="火星", receiver_mobile="12345", buyer_message="周末别送")

    review.run(shop)

    assert held_for(shop, no) == ["province_unknown", "phone_invalid", "buyer_message"]
    assert "火星" not in review.describe(shop.order(no).hold_reasons[0])
    assert review.describe("\n".join(shop.order(no).hold_reasons))[0].startswith("收货地址的省份")


@pytest.mark.parametrize(("over", "reason"), [
    ({"address_detail": " "}, "address_incomplete"),
    ({"quantity": 500}, "quantity_suspect"),
    ({"price_fen": 0, "amount_fen": 0}, "price_suspect"),
    ({"payable_fen": 1, "paid_fen": 1}, "amount_mismatch"),
    ({"sku": ""}, "sku_missing"),
], ids=["address", "quantity", "price", "amounts", "sku"])
def test_sanity_rules_hold_what_needs_a_look_S11(shop, over, reason):
    """S11: product, quantity, price and address are checked before anything moves."""
    no = add(shop, 1, **over)

    review.run(shop)

    assert reason in held_for(shop, no)


def test_present_gets_no_price_slip_S26(shop):
    """S26: '送人的，不要放价格单' marks the parcel as a present; the message is read by a person."""
    no = add(shop, 1, buyer_message="送人的，不要放价格单")

    result = review.run(shop)

    order = shop.order(no)
    assert order.no_price_slip is True
    assert result.presents == [no]
    assert held_for(shop, no) == ["buyer_message"]


def test_present_in_the_seller_memo_counts_too_S26(shop):
    """A present noted by customer service in the memo is obeyed as well."""
    no = add(shop, 1, seller_memo="客户说是生日礼物")

    review.run(shop)

    assert shop.order(no).no_price_slip is True
    assert shop.order(no).stage == "approved"


def test_same_buyer_same_address_is_offered_for_merging_S6(shop):
    """Two open orders of one buyer to one address: held as mergeable, or as a duplicate."""
    first = add(shop, 1)
    second = add(shop, 2, buyer_nick=shop.order(first).buyer_nick,
                 receiver_name=shop.order(first).receiver_name,
                 receiver_mobile=shop.order(first).receiver_mobile,
                 province="浙江省", city="杭州市", district="余杭区",
                 address_detail=shop.order(first).address.detail)
    with shop.store.write() as conn:  # same city: align the first's address fields
        conn.exec_driver_sql(
            f"UPDATE orders SET province='浙江省', city='杭州市', district='余杭区' "
            f"WHERE order_no IN ('{first}', '{second}')")

    review.run(shop)

    assert "mergeable" in held_for(shop, first)
    assert "mergeable" in held_for(shop, second)


def test_blacklisted_buyer_is_held(shop):
    """A blacklisted mobile holds the order."""
    no = add(shop, 1)
    review.add_to_blacklist(shop, "mobile", shop.order(no).receiver_mobile, "恶意拒收三次")

    review.run(shop)

    assert held_for(shop, no) == ["blacklisted"]


def test_disabled_rule_does_not_hold(db_url):
    """A rule switched off in kit.toml does not hold orders."""
    config = kit.config.parse({"staff": STAFF, "review": {"disabled_rules": ["buyer_message"]}})
    with kit.connect(db_url, actor="客服小美", config=config) as shop:
        no = add(shop, 1, buyer_message="谢谢")
        review.run(shop)
        assert shop.order(no).stage == "approved"


def test_unpaid_and_closed_orders_are_not_reviewed(shop):
    """Orders not awaiting shipment stay out of the review: nothing is released early."""
    unpaid = add(shop, 1, trade_status="WAIT_BUYER_PAY", paid_fen=0)
    closed = add(shop, 2, trade_status="TRADE_CLOSED")

    result = review.run(shop)

    assert result.reviewed == 0
    assert {shop.order(unpaid).stage, shop.order(closed).stage} == {"new"}


def test_analyst_may_not_run_the_review(shop):
    """Running the review needs pre-sales or supervisor."""
    analyst = shop.acting_as("分析师")

    with pytest.raises(PermissionDenied):
        review.run(analyst)


def test_thousands_of_orders_are_reviewed_in_one_pass(shop):
    """Review is whole-frame: 3,000 orders approved or held in one run, each audited once."""
    orders, lines = make_orders(3000)
    shop.insert_orders(orders, lines, kind="test", source="bulk")

    result = review.run(shop)

    assert len(result.approved) + result.held.height == 3000
    status = shop.status()["stage"]
    assert status["approved"] + status["held"] == 3000
    trail = shop.audit_trail("order")
    assert trail.filter(pl.col("action").is_in(["approve", "hold"])).height == 3000


def test_recheck_refreshes_rule_reasons_and_keeps_typed_ones(shop):
    """After the address is fixed, a recheck drops the old rule reason; a person's note stays."""
    no = add(shop, 1, province="火星", buyer_message="周末别送")
    review.run(shop)
    with shop.store.write() as conn:
        kit.lifecycle.edit(conn, no, {"province": "浙江省"}, shop.actor)
        conn.exec_driver_sql(f"UPDATE orders SET hold_reasons = hold_reasons || '\n客户要求改地址' "
                             f"WHERE order_no = '{no}'")

    review.run(shop, recheck=True)

    assert shop.order(no).hold_reasons == ("客户要求改地址", "review.buyer_message")
    reasons = review.held_orders(shop)["reasons"][0].to_list()
    assert reasons == ["客户要求改地址", "有买家留言，请人工阅读（S26）"]


def test_merge_checks_buyer_address_and_state_S6(shop):
    """合单 only for open orders of one buyer to one address; otherwise a clear refusal."""
    first = add(shop, 1)
    twin = add(shop, 8, **{c: getattr(shop.order(first), c) for c in ("buyer_nick", "receiver_name",
                                                                        "receiver_mobile")},
               province=shop.order(first).address.province, city=shop.order(first).address.city,
               district=shop.order(first).address.district, address_detail=shop.order(first).address.detail)
    stranger = add(shop, 2)

    with pytest.raises(kit.errors.GuardFailed):
        review.merge(shop, [stranger], into=first)
    with pytest.raises(kit.errors.BadInput):
        review.merge(shop, [first], into=first)
    merged = review.merge(shop, [twin], into=first, reason="同一买家同一地址")

    assert merged == [twin]
    assert shop.orders().filter(pl.col("order_no") == twin)["merged_into"][0] == first


def test_bulk_transition_lists_refusals_per_order(shop):
    """Approving several at once: the ones that may go, go; each refusal names its order."""
    ok = add(shop, 1)
    unpaid = add(shop, 2, paid_fen=1)

    result = shop.acting_as("店长").transition_many("order", [ok, unpaid], "approve")

    assert result.keys_applied == [ok]
    assert [k for k, _ in result.refused] == [unpaid]
    assert unpaid in result.refused[0][1].message

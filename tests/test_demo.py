"""The demo shop: deterministic, consistent with the shop's rules, and written whole by seed()."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
import sqlalchemy as sa

import kit
from kit.config import SPEC
from kit.demo import DemoShop, generate, seed
from kit.demo.catalog import REQUIRED_CATEGORIES
from kit.demo.geography import places
from kit.errors import BadInput, PermissionDenied
from kit.models import (
    RefundStatus,
    Role,
    ShipmentStage,
    StaffMember,
    Stage,
    TrackingStatus,
    TradeStatus,
)
from kit.store import schema
from kit.store.frames import polars_dtype

TODAY = dt.date(2026, 11, 30)
SEEN = dt.datetime(2026, 11, 30, 20, 0)
C = pl.col


@pytest.fixture(scope="module")
def demo() -> DemoShop:
    """The default demo shop: 3000 orders seen at 20:00 on 30 November 2026."""
    return generate(orders=3000, seed=20261130, today=TODAY)


# --- the frames ------------------------------------------------------------------------------


def test_same_arguments_give_equal_frames(demo):
    """Generating twice with the same orders, seed and day gives equal frames; another seed differs."""
    again = generate(orders=3000, seed=20261130, today=TODAY)
    other = generate(orders=3000, seed=7, today=TODAY)

    for name, frame in demo.tables().items():
        assert frame.equals(again.tables()[name]), name
    assert not demo.orders.equals(other.orders)


def test_without_a_day_the_shop_is_seen_now(monkeypatch):
    """Without `today` the demo is seen at the shop's clock: nothing in it happens later than now."""
    morning = dt.datetime(2026, 11, 30, 9, 15)
    monkeypatch.setattr("kit.clock.now", lambda: morning)

    demo = generate(orders=500, seed=4)

    assert demo.orders.equals(generate(orders=500, seed=4, today=TODAY, until=morning).orders)
    assert demo.orders["created_at"].max() <= morning
    latest = {"shipments": "updated_at", "tracking_events": "at", "after_sales": "updated_at"}
    for name, column in latest.items():
        assert demo.tables()[name][column].max() <= morning, name


def test_frames_have_the_tables_columns_and_dtypes(demo):
    """Every frame has its table's columns in order and dtype (orders less what insert_orders adds)."""
    left_out = {"orders": {"batch_id", "updated_at", "version",  # insert_orders adds these
                           "extra", "merged_into", "phone_confirmed_by", "phone_confirmed_at"},
                "order_lines": {"extra", "ship_part"},
                "staff": {"active", "created_at"}}

    for name, frame in demo.tables().items():
        table = schema.metadata.tables[name]
        expected = {c.name: polars_dtype(c.type) for c in table.columns
                    if c.name not in left_out.get(name, set())}
        assert dict(frame.schema) == expected, name


def test_every_trade_status_and_stage_appears(demo):
    """A few thousand orders show every trade status, every fulfilment stage and every shipment stage."""
    assert set(demo.orders["trade_status"]) == {str(s) for s in TradeStatus}
    assert set(demo.orders["stage"]) == {str(s) for s in Stage}
    assert set(demo.shipments["stage"]) == {str(s) for s in ShipmentStage}
    assert set(demo.after_sales["refund_status"]) == {str(s) for s in RefundStatus}
    assert set(demo.shipments["tracking_status"]) <= {str(s) for s in TrackingStatus}


def test_stage_fits_the_trade_status(demo):
    """Each trade status comes with the stages that make sense for it (kit.lifecycle)."""
    allowed = {
        "WAIT_BUYER_PAY": {"new"},
        "PAID_FORBID_CONSIGN": {"new"},
        "WAIT_SELLER_SEND_GOODS": {"new", "held", "approved", "backordered", "allocated", "picking",
                                   "packed", "handed_over"},
        "SELLER_CONSIGNED_PART": {"handed_over", "confirmed"},
        "WAIT_BUYER_CONFIRM_GOODS": {"confirmed"},
        "TRADE_BUYER_SIGNED": {"confirmed"},
        "TRADE_FINISHED": {"confirmed"},
        "TRADE_CLOSED": {"cancelled", "confirmed"},
        "TRADE_CLOSED_BY_TAOBAO": {"cancelled"},
    }

    pairs = demo.orders.select("trade_status", "stage").unique().iter_rows()

    assert all(stage in allowed[trade] for trade, stage in pairs)


def test_orders_are_spread_over_the_last_14_days_evenings_busiest(demo):
    """Orders span the last 14 days, evenings busiest; recent ones wait, old ones are finished."""
    o = demo.orders
    hours = o["created_at"].dt.hour()

    assert o["created_at"].min() >= dt.datetime(2026, 11, 17) and o["created_at"].max() <= SEEN
    assert ((hours >= 19) & (hours <= 22)).mean() > ((hours >= 3) & (hours <= 6)).mean() * 5
    late = o.filter(C("trade_status") == "WAIT_SELLER_SEND_GOODS", C("paid_at").dt.hour() >= 16)
    assert late.height > 0  # paid after the 16:00 cut-off, shipping tomorrow (S5b)
    assert o.filter(C("trade_status") == "WAIT_BUYER_PAY")["created_at"].min() > SEEN - dt.timedelta(days=1)
    waiting = o.filter(C("trade_status") == "WAIT_SELLER_SEND_GOODS")
    assert waiting["created_at"].median() > SEEN - dt.timedelta(days=2)
    assert o.filter(C("created_at") < dt.datetime(2026, 11, 20))["trade_status"].mode()[0] == "TRADE_FINISHED"


def test_paid_at_is_null_exactly_for_trades_never_paid(demo):
    """paid_at is null for WAIT_BUYER_PAY and TRADE_CLOSED_BY_TAOBAO (never paid), set otherwise."""
    unpaid = C("trade_status").is_in(["WAIT_BUYER_PAY", "TRADE_CLOSED_BY_TAOBAO"])

    assert demo.orders.filter(unpaid != C("paid_at").is_null()).height == 0
    assert demo.orders.filter(unpaid & (C("paid_fen") != 0)).height == 0
    assert demo.orders.filter(C("paid_at") < C("created_at")).height == 0


def test_cash_on_delivery_is_paid_on_delivery_and_confirmed_by_phone(demo):
    """About 8% COD, paid once signed for (TRADE_BUYER_SIGNED only for COD), phone-confirmed (S16)."""
    o = demo.orders
    cod = o.filter(C("payment_method") == "cod")
    signed = C("trade_status").is_in(["TRADE_BUYER_SIGNED", "TRADE_FINISHED"])
    reviewed = ~C("stage").is_in(["new", "held", "cancelled"])

    assert 0.06 < cod.height / o.height < 0.10
    assert set(o.filter(C("trade_status") == "TRADE_BUYER_SIGNED")["payment_method"]) == {"cod"}
    assert cod.filter(signed != (C("paid_fen") == C("payable_fen"))).height == 0
    assert cod.filter(~signed & (C("paid_fen") != 0)).height == 0
    assert cod.filter(reviewed)["phone_confirmed"].all()
    assert not cod.filter(C("stage") == "new")["phone_confirmed"].all()
    assert not o.filter(C("payment_method") == "online")["phone_confirmed"].any()


def test_amounts_add_up(demo):
    """Line and order amounts in fen add up; paid online orders are paid in full; gifts are free (S5)."""
    lines, o = demo.order_lines, demo.orders
    goods = lines.group_by("order_no").agg(goods=C("amount_fen").sum())
    joined = o.join(goods, on="order_no", how="left")
    online_paid = (C("payment_method") == "online") & C("paid_at").is_not_null()

    assert lines.filter(C("amount_fen") != C("price_fen") * C("quantity") - C("discount_fen")).height == 0
    assert lines.filter(C("is_gift_item") & (C("price_fen") != 0)).height == 0
    assert lines.filter(C("is_gift_item")).height > 0
    assert joined.filter(C("total_fen") != C("goods") + C("post_fee_fen")).height == 0
    assert joined.filter(C("payable_fen") != C("total_fen") - C("discount_fen")).height == 0
    assert joined.filter(online_paid & (C("paid_fen") != C("payable_fen"))).height == 0
    assert (o["discount_fen"] > 0).any() and (o["payable_fen"] > 0).all()
    assert set(lines.filter(~C("is_gift_item")).group_by("order_no").len()["len"]) == {1, 2, 3, 4}
    assert lines.filter(~C("is_gift_item"))["quantity"].is_between(1, 3).all()
    assert lines.select("order_no", "sku").is_unique().all() and lines["sub_order_no"].is_unique().all()


def test_order_numbers_and_receivers_look_real(demo):
    """Order numbers are unique 18–19 digit strings; mobiles valid-looking; places real."""
    o = demo.orders
    known = places().select("province", "city", "district").unique()

    assert o["order_no"].is_unique().all()
    assert o["order_no"].str.contains(r"^[1-9]\d{17,18}$").all()
    assert o["receiver_mobile"].str.contains(r"^1(3\d|5[0-35-9]|7[035-8]|8\d|9[135689])\d{8}$").all()
    assert o["postcode"].str.contains(r"^\d{6}$").all()
    assert o.join(known, on=["province", "city", "district"], how="anti").height == 0
    assert o["province"].n_unique() >= 25 and places()["province"].n_unique() == 31
    assert set(o["platform"]) == {"taobao", "tmall"} and set(o["shop"]) == {"示例小店", "示例天猫旗舰店"}
    assert o["receiver_name"].str.len_chars().is_between(2, 3).all()
    assert o["address_detail"].str.contains("号").all()


def test_people_are_synthetic(demo):
    """Names are built from characters, nicks are synthetic; nothing in English leaks into text."""
    o = demo.orders

    assert o["buyer_nick"].str.contains(r"^(tb\d{10}|t_\d{13}|[a-z]+_\d{4})$").all()
    assert not o["receiver_name"].str.contains(r"[A-Za-z]").any()
    assert re.fullmatch(r"[\u4e00-\u9fff]+", demo.orders["city"][0])


def test_present_notes_set_no_price_slip(demo):
    """A buyer message with a present keyword marks the order no_price_slip, and only those (S26)."""
    keywords = "|".join(SPEC["review"]["gift_keywords"].default)
    o = demo.orders.with_columns(gift=C("buyer_message").str.contains(keywords).fill_null(False))

    assert o.filter(C("gift") != C("no_price_slip")).height == 0
    assert 0.01 < o["no_price_slip"].mean() < 0.06
    assert o["buyer_message"].null_count() > o.height / 2


def test_other_carriers_are_noted_and_held_orders_say_why(demo):
    """Orders carry a carrier only when not the default YTO (S5); held orders have reasons."""
    o = demo.orders

    assert o["carrier_code"].null_count() > o.height * 0.8
    assert "sf" in set(o["carrier_code"]) and "yto" not in set(o["carrier_code"])
    assert o.filter((C("stage") == "held") != C("hold_reasons").is_not_null()).height == 0


# --- goods, warehouses, stock ------------------------------------------------------------------


def test_catalogue_has_150_skus_in_the_required_categories(demo):
    """150+ SKUs with codes like SKU-FRG-001, in every required category; virtual goods weigh nothing."""
    skus = demo.skus

    assert skus.height >= 150 and skus["sku"].is_unique().all()
    assert skus["sku"].str.contains(r"^SKU-[A-Z]{3}-\d{3}$").all()
    assert set(REQUIRED_CATEGORIES) <= set(skus["category"])
    assert skus.filter(C("is_virtual") != (C("category") == "virtual")).height == 0
    assert skus.filter(C("is_virtual") != (C("weight_g") == 0)).height == 0
    assert (skus["price_fen"] > 0).all() and skus["spec"].str.contains("：").all()


def test_three_warehouses_and_a_drop_ship_supplier(demo):
    """Headquarters, two stores in other provinces and one supplier of shoes (S17)."""
    w = {r["code"]: r for r in demo.warehouses.iter_rows(named=True)}
    supplier = demo.stock_levels.filter(C("warehouse_code") == "sup-qz").join(demo.skus, on="sku")

    assert sorted(r["kind"] for r in w.values()) == ["hq", "store", "store", "supplier"]
    assert len({r["province"] for r in w.values() if r["kind"] != "supplier"}) == 3
    assert w["hq"]["serves"].split("\n")[0] == "浙江省"
    assert set(supplier["category"]) == {"shoes"}
    assert set(demo.shipments.filter(C("warehouse_code") == "sup-qz")["carrier_code"]) == {"dropship"}


def test_stock_levels_hold_reservations_and_shortages(demo):
    """0 <= reserved <= on_hand; reservations are the allocated shipments' units; some SKUs are short."""
    stock = demo.stock_levels
    waiting = (demo.shipment_lines.join(demo.shipments, on="shipment_id")
               .filter(C("stage").is_in(["allocated", "picking", "packed"]))
               .group_by("warehouse_code", "sku").agg(held=C("quantity").sum()))
    joined = stock.join(waiting, on=["warehouse_code", "sku"], how="full", coalesce=True)
    backordered = demo.order_lines.join(demo.orders.filter(C("stage") == "backordered"), on="order_no")
    short = stock.filter(C("warehouse_code") == "hq", C("on_hand") == C("reserved"))["sku"]

    shipped_from = (demo.shipment_lines.join(demo.shipments, on="shipment_id")
                    .select("warehouse_code", "sku").unique())

    assert shipped_from.join(stock, on=["warehouse_code", "sku"], how="anti").height == 0
    assert stock.filter((C("reserved") < 0) | (C("reserved") > C("on_hand"))).height == 0
    assert joined.filter(C("reserved").fill_null(0) != C("held").fill_null(0)).height == 0
    assert stock.select("warehouse_code", "sku").is_unique().all()
    assert (stock["on_hand"] == 0).any()
    assert backordered.filter(C("line_no") == 1)["sku"].is_in(short.implode()).all()


# --- shipments and tracking -------------------------------------------------------------------


def test_shipments_follow_their_orders(demo):
    """Orders from allocation on have shipments in their stage covering their lines, a few split."""
    s, o = demo.shipments, demo.orders
    per_order = s.group_by("order_no").agg(n=pl.len(), stages=C("stage").unique())
    joined = o.join(per_order, on="order_no", how="left")
    shipping = ["allocated", "picking", "packed", "handed_over", "confirmed"]
    plain = joined.filter(C("stage").is_in(shipping), C("trade_status") != "SELLER_CONSIGNED_PART")
    covered = demo.shipment_lines.join(demo.order_lines, on=["order_no", "line_no"], how="inner")

    assert joined.filter(C("stage").is_in(shipping), C("n").is_null()).height == 0
    assert joined.filter(~C("stage").is_in([*shipping, "cancelled"]), C("n").is_not_null()).height == 0
    assert plain.filter(C("stages").list.len() != 1).height == 0
    assert plain.filter(C("stages").list.first() != C("stage")).height == 0
    assert 0 < (per_order["n"] == 2).sum() < per_order.height * 0.15 and per_order["n"].max() == 2
    assert joined.filter(C("trade_status") == "SELLER_CONSIGNED_PART")["n"].eq(2).all()
    assert covered.height == demo.shipment_lines.height
    assert covered.filter(C("quantity") != C("quantity_right")).height == 0
    assert demo.shipment_lines.select("order_no", "line_no").is_unique().all()


def test_tracking_numbers_from_packing_on_in_each_carriers_form(demo):
    """Tracking numbers exist exactly from packing on, are unique, in their carrier's form, and
    accepted by their carrier's adapter (a demo label must survive the hand-over check)."""
    s = demo.shipments
    numbered = C("stage").is_in(["packed", "handed_over", "confirmed"]) & (C("carrier_code") != "none")
    forms = {"yto": r"^YT\d{13}$", "sf": r"^SF\d{12}$", "zto": r"^75\d{12}$", "jd": r"^JD\d{13}$",
             "ems": r"^\d{13}$", "yunda": r"^43\d{11}$", "dropship": r"^78\d{12}$"}
    parcels = demo.parcels.join(s, on="shipment_id")

    assert s.filter(numbered != C("tracking_no").is_not_null()).height == 0
    assert s.filter(numbered != C("weight_g").is_not_null()).height == 0
    assert s["tracking_no"].drop_nulls().is_unique().all()
    for carrier, form in forms.items():
        numbers = s.filter(C("carrier_code") == carrier)["tracking_no"].drop_nulls()
        assert numbers.len() > 0 and numbers.str.contains(form).all(), carrier
    assert s.filter(C("carrier_code") == "none")["ship_method"].eq("no_logistics").all()
    registry = kit.carriers.load()
    refused = [(code, number) for code, number in s.filter(C("tracking_no").is_not_null())
               .select("carrier_code", "tracking_no").iter_rows()
               if not registry.get(code).validate_tracking_number(number).valid]
    assert refused == []
    assert parcels.filter(C("tracking_no") != C("tracking_no_right")).height == 0
    assert parcels.filter(C("weight_g") != C("weight_g_right")).height == 0
    assert (parcels["parcel_no"] == 1).all()
    off = s.filter((C("weight_g") - C("expected_weight_g")).abs() > C("expected_weight_g") * 0.03 + 1)
    assert off.height == 0 and (s["expected_weight_g"] > 0).sum() > 0


def test_tracking_events_tell_each_handed_over_parcels_story(demo):
    """Handed-over parcels have 2–5 events in order, the last giving the tracking status (S21)."""
    s, ev = demo.shipments, demo.tracking_events
    tracked = C("stage").is_in(["handed_over", "confirmed"]) & (C("carrier_code") != "none")
    story = (ev.sort("event_id").group_by("carrier_code", "tracking_no", maintain_order=True)
             .agg(n=pl.len(), last=C("status").last(), ordered=C("at").diff().drop_nulls().min() > 0,
                  latest=C("at").max()))
    joined = s.filter(tracked).join(story, on=["carrier_code", "tracking_no"], how="left")

    assert joined["n"].is_between(2, 5).all()
    assert joined.filter(C("last") != C("tracking_status")).height == 0
    assert joined["ordered"].all() and joined["latest"].max() <= SEEN
    assert story.height == joined.height
    assert ev.select("carrier_code", "tracking_no", "at", "description").is_unique().all()
    assert ev["description"].str.contains(r"^【.+】").all()
    assert s.filter(C("stage").is_in(["allocated", "picking", "packed", "cancelled"]))["tracking_status"].eq(
        "pending").all()
    finished = demo.orders.filter(C("trade_status") == "TRADE_FINISHED").join(s, on="order_no")
    assert finished["tracking_status"].eq("delivered").all()


def test_shipment_times_follow_the_stage(demo):
    """handed_over_at from hand-over on, confirmed_at once confirmed (S8, S9), in order."""
    s = demo.shipments

    assert s.filter((C("handed_over_at").is_not_null())
                    != C("stage").is_in(["handed_over", "confirmed"])).height == 0
    assert s.filter((C("confirmed_at").is_not_null()) != (C("stage") == "confirmed")).height == 0
    assert s.filter(C("confirmed_at") < C("handed_over_at")).height == 0
    assert s.filter((C("handed_over_at") < C("created_at")) | (C("updated_at") > SEEN)).height == 0


def test_after_sale_cases(demo):
    """A few dozen cases per few thousand orders, on paid orders, amounts within what was paid."""
    cases = demo.after_sales.join(demo.orders, on="order_no", how="left")

    assert 20 <= cases.height <= 200
    assert set(cases["kind"]) == {"refund", "return", "exchange", "repair"}
    assert cases.filter(C("amount_fen") > C("payable_fen")).height == 0
    assert cases.filter(C("paid_fen") == 0, C("amount_fen") > 0).height == 0
    assert cases.filter((C("updated_at") < C("created_at_right")) | (C("updated_at") > SEEN)).height == 0
    assert cases["case_id"].is_unique().all()
    # S24d: refund only never waits for goods; the other kinds name the units that were shipped
    assert cases.filter(C("kind") == "refund", C("refund_status") == "WAIT_SELLER_CONFIRM_GOODS").height == 0
    goods = cases.filter(C("kind") != "refund")
    lines = demo.after_sale_lines
    assert set(lines["case_id"]) <= set(goods["case_id"])
    assert lines.filter(C("quantity") <= 0).height == 0
    shipped = demo.shipment_lines.group_by("order_no", "line_no").agg(C("quantity").sum().alias("sent"))
    joined = lines.join(cases.select("case_id", "order_no"), on="case_id").join(
        shipped, on=["order_no", "line_no"])
    assert joined.height == lines.height and joined.filter(C("quantity") > C("sent")).height == 0


def test_the_team(demo):
    """The demo team covers every human role, with nicknames."""
    roles = dict(demo.staff.select("name", "role").iter_rows())

    assert roles["店长"] == "supervisor" and roles["管理员"] == "admin"
    assert set(roles.values()) == {"presale", "aftersale", "warehouse", "logistics", "supervisor",
                                   "analyst", "admin"}


def test_twenty_thousand_orders_scale(demo):
    """Larger shops keep the same shape: unique numbers, every trade status, similar mix."""
    big = generate(orders=20_000, seed=1, today=TODAY)

    assert big.orders.height == 20_000 and big.orders["order_no"].is_unique().all()
    assert set(big.orders["trade_status"]) == {str(s) for s in TradeStatus}
    assert 1.2 < big.order_lines.height / big.orders.height < 1.6
    assert big.shipments["tracking_no"].drop_nulls().is_unique().all()


# --- seeding a database -------------------------------------------------------------------------


@pytest.fixture
def shop(tmp_path):
    """A new SQLite shop, acting as the shop manager (店长, supervisor)."""
    with kit.connect(str(tmp_path / "demo.db"), actor="店长") as shop:
        yield shop


def _check_seeded(shop: kit.Shop, demo: DemoShop) -> None:
    """The database holds the demo's rows, and shop.status() counts them as the frames do."""
    status = shop.status()
    counts = {k: dict(demo.orders[k].value_counts().iter_rows()) for k in ("trade_status", "stage")}
    assert status["orders"] == demo.orders.height
    assert {k: v for k, v in status["trade_status"].items() if v} == counts["trade_status"]
    assert {k: v for k, v in status["stage"].items() if v} == counts["stage"]
    assert {k: v for k, v in status["shipments"].items() if v} == dict(
        demo.shipments["stage"].value_counts().iter_rows())
    with shop.store.read() as conn:
        for name, frame in demo.tables().items():
            n = conn.execute(sa.select(sa.func.count()).select_from(schema.metadata.tables[name])).scalar()
            assert n == frame.height, name


def test_seed_writes_the_whole_shop(shop):
    """seed() writes every table in one audited batch, and shop.status() reports the orders."""
    batch_id = seed(shop, orders=500, seed=3, today=TODAY)

    _check_seeded(shop, generate(orders=500, seed=3, today=TODAY))
    trail = shop.audit_trail("batch", str(batch_id))
    assert trail.height == 1 and trail["actor"][0] == "店长" and "--orders 500" in trail["reason"][0]


def test_seed_refuses_a_database_with_orders(shop):
    """A second seed is refused with a message naming the database, and writes nothing."""
    seed(shop, orders=200, seed=1, today=TODAY)

    with pytest.raises(BadInput) as refused:
        seed(shop, orders=200, seed=2, today=TODAY)

    assert refused.value.key == "demo.not_empty" and refused.value.params["orders"] == 200
    assert shop.status()["orders"] == 200


def test_seed_keeps_staff_and_warehouses_already_there(shop):
    """Staff synced from kit.toml (店长) and existing rows are kept, not duplicated."""
    shop.sync_settings()

    seed(shop, orders=100, seed=5, today=TODAY)

    staff = shop.store.frame(sa.select(schema.staff))
    assert staff["name"].is_unique().all() and staff.height == 9


def test_seed_needs_a_supervisor_or_admin(shop):
    """An analyst may not seed the demo shop (kit.permissions: seed_demo)."""
    analyst = kit.Shop(shop.store, shop.config, StaffMember("分析师小陈", Role.ANALYST))

    with pytest.raises(PermissionDenied):
        seed(analyst, orders=50, seed=1, today=TODAY)

    assert shop.status()["orders"] == 0


def _insert_one_more(shop: kit.Shop) -> None:
    """Rows added after seeding get new ids, not ones the demo used."""
    now = dt.datetime(2026, 12, 1, 9, 0)
    with shop.store.write() as conn:
        order_no = conn.execute(sa.select(schema.orders.c.order_no).limit(1)).scalar_one()
        new_id = conn.execute(schema.shipments.insert().values(
            order_no=order_no, warehouse_code="hq", carrier_code="yto", ship_method="online_booking",
            stage="allocated", created_at=now, updated_at=now,
        ).returning(schema.shipments.c.shipment_id)).scalar_one()
        case_id = conn.execute(schema.after_sales.insert().values(
            order_no=order_no, kind="refund", refund_status="WAIT_SELLER_AGREE", reason="测试",
            created_at=now, updated_at=now,
        ).returning(schema.after_sales.c.case_id)).scalar_one()
        event_id = conn.execute(schema.tracking_events.insert().values(
            carrier_code="yto", tracking_no="YT0000000000001", at=now, status="picked_up",
            description="测试",
        ).returning(schema.tracking_events.c.event_id)).scalar_one()
        for table, key, got in ((schema.shipments, "shipment_id", new_id),
                                (schema.after_sales, "case_id", case_id),
                                (schema.tracking_events, "event_id", event_id)):
            assert got == conn.execute(sa.select(sa.func.max(table.c[key]))).scalar_one()
            assert conn.execute(sa.select(sa.func.count()).where(table.c[key] == got)).scalar_one() == 1


def test_rows_added_after_seeding_get_new_ids(shop):
    """After seeding with explicit ids, the next shipment, case and event get fresh ids (SQLite)."""
    seed(shop, orders=300, seed=9, today=TODAY)

    _insert_one_more(shop)


def test_seeded_orders_move_on_through_the_lifecycle(shop):
    """Seeded orders move on: a new paid order can be approved, a handed-over one confirmed (S9)."""
    seed(shop, orders=1000, seed=20261130, today=TODAY)
    orders = shop.orders()
    new = orders.filter(C("stage") == "new", C("trade_status") == "WAIT_SELLER_SEND_GOODS",
                        C("payment_method") == "online")["order_no"][0]
    handed = orders.filter(C("stage") == "handed_over",
                           C("trade_status") == "WAIT_SELLER_SEND_GOODS")["order_no"][0]

    shop.transition("order", new, "approve")
    shop.transition("order", handed, "confirm")

    assert shop.order(new).stage == Stage.APPROVED
    assert shop.order(handed).trade_status == TradeStatus.WAIT_BUYER_CONFIRM_GOODS


# --- PostgreSQL ------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_seed_on_postgresql(pg_url):
    """On PostgreSQL the whole shop is written and the id sequences move past the demo's ids."""
    with kit.connect(pg_url, actor="店长") as shop:
        seed(shop, orders=500, seed=3, today=TODAY)

        _check_seeded(shop, generate(orders=500, seed=3, today=TODAY))
        _insert_one_more(shop)

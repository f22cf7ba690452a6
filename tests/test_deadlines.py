"""Ship-by deadlines: each policy's rule (S1, S5b, S19, working hours) by worked examples on
the 2026 calendar, the holiday data's limits, the lists (S2, S9, at risk) and `kit deadlines`."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, timedelta

import chinese_calendar
import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from orders_factory import make_orders, order_no

import kit
from kit import config, deadlines
from kit.cli import cli
from kit.cli.deadlines import deadlines as deadlines_command
from kit.errors import ConfigError
from kit.store import schema

NOON = datetime(2026, 11, 30, 12, 0)  # a Monday


def settings(**values: object) -> deadlines.DeadlineSettings:
    """[deadlines] settings as kit.toml would give them (validated)."""
    return config.parse({"deadlines": values}).deadlines


def due(paid: datetime, policy: str = "mall", *, cod: bool = False, cod_confirmed: datetime | None = None,
        toml: str = "", **values: object) -> datetime | None:
    """One order's ship_by under a policy; a COD order when `cod` or `cod_confirmed` is given."""
    parsed = config.parse(tomllib.loads(toml) | {"deadlines": {"policy": policy, **values}})
    cod = cod or cod_confirmed is not None
    frame = pl.DataFrame({"paid_at": [paid], "payment_method": ["cod" if cod else "online"],
                          "phone_confirmed_at": [cod_confirmed]},
                         schema={"paid_at": pl.Datetime("us"), "payment_method": pl.String,
                                 "phone_confirmed_at": pl.Datetime("us")})
    return deadlines.ship_by(frame, parsed.deadlines, deadlines.calendar_for(parsed.calendar))[0]


# --- the rules ---------------------------------------------------------------------------------

def test_S1_taobao_ships_within_72_hours_of_payment():
    """S1: three days from payment, holidays or not (the platform's clock does not stop)."""
    assert due(datetime(2026, 11, 30, 9, 15), "taobao") == datetime(2026, 12, 3, 9, 15)
    assert due(datetime(2026, 9, 30, 19, 0), "taobao") == datetime(2026, 10, 3, 19, 0)


def test_S5b_tmall_paid_1559_ships_the_same_day_1601_the_next():
    """S5b: paid before 16:00 ships by the end of the day; 16:00 sharp and later, the next day."""
    assert due(datetime(2026, 11, 30, 15, 59), "tmall") == datetime(2026, 11, 30, 23, 59, 59)
    assert due(datetime(2026, 11, 30, 16, 1), "tmall") == datetime(2026, 12, 1, 23, 59, 59)
    assert due(datetime(2026, 11, 30, 16, 0), "tmall") == datetime(2026, 12, 1, 23, 59, 59)


def test_S5b_tmall_counts_calendar_days():
    """S5b names no exception: paid on the eve of National Day after 16:00, due on 1 October."""
    assert due(datetime(2026, 9, 30, 16, 30), "tmall") == datetime(2026, 10, 1, 23, 59, 59)


def test_S19_mall_paid_monday_1659_ships_that_day_1701_the_next():
    """S19: before 17:00 → by 18:00 the same day; after → by 18:00 the next shipping day."""
    assert due(datetime(2026, 11, 30, 16, 59)) == datetime(2026, 11, 30, 18, 0)
    assert due(datetime(2026, 11, 30, 17, 1)) == datetime(2026, 12, 1, 18, 0)


def test_S19_mall_saturday_before_1700_ships_saturday_1730_ships_monday():
    """S19: Saturday is a shipping day; after its cut-off the next one is Monday (Sunday is not)."""
    assert due(datetime(2026, 12, 5, 16, 30)) == datetime(2026, 12, 5, 18, 0)
    assert due(datetime(2026, 12, 5, 17, 30)) == datetime(2026, 12, 7, 18, 0)


def test_S19_mall_eve_of_national_day_ships_after_golden_week():
    """S19: paid 2026-09-30 in the evening; 1–7 October are holidays, so due Thursday 8 October."""
    assert chinese_calendar.is_holiday(date(2026, 10, 1)) and chinese_calendar.is_holiday(date(2026, 10, 7))

    assert due(datetime(2026, 9, 30, 19, 0)) == datetime(2026, 10, 8, 18, 0)
    assert due(datetime(2026, 9, 30, 16, 0)) == datetime(2026, 9, 30, 18, 0)
    assert due(datetime(2026, 10, 3, 10, 0)) == datetime(2026, 10, 8, 18, 0)  # a Saturday off


def test_S19_mall_make_up_sunday_is_a_shipping_day():
    """S19 with 调休: 2026-09-20 is a Sunday worked in exchange for the Mid-Autumn holiday."""
    make_up = date(2026, 9, 20)
    assert make_up.isoweekday() == 7 and chinese_calendar.is_workday(make_up)

    assert due(datetime(2026, 9, 19, 17, 30)) == datetime(2026, 9, 20, 18, 0)  # Saturday late
    assert due(datetime(2026, 9, 20, 10, 0)) == datetime(2026, 9, 20, 18, 0)   # on the Sunday
    assert due(datetime(2026, 11, 29, 10, 0)) == datetime(2026, 11, 30, 18, 0)  # an ordinary Sunday


def test_S19_cod_order_counts_from_the_phone_confirmation():
    """S19 "paid (or COD-confirmed)": a COD order confirmed later than placed counts from the call;
    one not yet confirmed has no deadline (S16: it may not ship)."""
    assert due(datetime(2026, 11, 30, 10, 0), cod_confirmed=datetime(2026, 11, 30, 17, 30)) \
        == datetime(2026, 12, 1, 18, 0)
    assert due(datetime(2026, 11, 30, 10, 0), cod_confirmed=datetime(2026, 11, 30, 16, 0)) \
        == datetime(2026, 11, 30, 18, 0)
    assert due(datetime(2026, 11, 30, 10, 0), cod=True) is None


def test_working_hours_count_only_working_time_across_a_weekend():
    """8 working hours from Friday 16:00 (09:00–18:00): 2 on Friday, 6 on Monday → Monday 15:00."""
    rule = {"within_working_hours": 8, "workday_start": "09:00", "workday_end": "18:00"}

    assert due(datetime(2026, 11, 27, 16, 0), "working_hours", **rule) == datetime(2026, 11, 30, 15, 0)
    assert due(datetime(2026, 11, 28, 11, 0), "working_hours", **rule) == datetime(2026, 11, 30, 17, 0)
    assert due(datetime(2026, 11, 27, 8, 0), "working_hours", within_working_hours=9) \
        == datetime(2026, 11, 27, 18, 0)  # ends on the window's end, not the next morning


def test_working_hours_skip_holidays_and_work_make_up_days():
    """From the eve of National Day: Golden Week is skipped, the make-up Saturday 10 October counts."""
    assert due(datetime(2026, 9, 30, 19, 0), "working_hours", within_working_hours=24) \
        == datetime(2026, 10, 10, 15, 0)


def test_ship_by_is_whole_column_and_keeps_nulls():
    """Many orders in, one column out, same length and order; unpaid orders stay null."""
    paid = [datetime(2026, 11, 30, 16, 59), None, datetime(2026, 12, 5, 17, 30)]
    frame = pl.DataFrame({"paid_at": paid}, schema={"paid_at": pl.Datetime("us")})

    out = deadlines.ship_by(frame, settings(policy="mall"))

    assert out.to_list() == [datetime(2026, 11, 30, 18, 0), None, datetime(2026, 12, 7, 18, 0)]


# --- the calendar's limits -----------------------------------------------------------------------

def test_year_beyond_the_package_is_refused_naming_the_date_and_the_fix():
    """No data for 2027: refused, naming the date, [calendar.2027] and chinese-calendar; never guessed."""
    with pytest.raises(ConfigError) as info:
        due(datetime(2027, 1, 6, 10, 0))

    assert "2027-01-06" in info.value.message
    assert "[calendar.2027]" in info.value.message and "chinese-calendar" in info.value.message


def test_year_end_order_that_needs_next_year_is_refused():
    """Paid 2026-12-31 after the cut-off: the next shipping day lies in 2027, which nobody knows."""
    with pytest.raises(ConfigError, match="2027-01-01"):
        due(datetime(2026, 12, 31, 17, 30))
    assert due(datetime(2027, 1, 6, 10, 0), "taobao") == datetime(2027, 1, 9, 10, 0)  # no calendar needed


def test_calendar_table_in_kit_toml_adds_a_year():
    """[calendar.2027] in kit.toml: New Year 1–3 January off, so 2026-12-31 evening → 4 January."""
    toml = '[calendar.2027]\nholidays = ["2027-01-01", "2027-01-02", 2027-01-03]\nworkdays = []\n'

    assert due(datetime(2026, 12, 31, 17, 30), toml=toml) == datetime(2027, 1, 4, 18, 0)
    assert due(datetime(2027, 1, 6, 10, 0), toml=toml) == datetime(2027, 1, 6, 18, 0)


def test_kit_toml_make_up_day_opens_a_sunday():
    """A workday listed in [calendar.YYYY] is a shipping day even on a Sunday."""
    toml = '[calendar.2027]\nholidays = []\nworkdays = ["2027-01-10"]\n'

    assert due(datetime(2027, 1, 9, 17, 30), toml=toml) == datetime(2027, 1, 10, 18, 0)


# --- bad settings -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "key", "value"), [
    ('[deadlines]\npolicy = "jd"', "deadlines.policy", "jd"),
    ('[shop]\ndeadline_policy = "fast"', "deadlines.policy", "fast"),
    ('[deadlines]\nmall_cutoff = "25:00"', "deadlines.mall_cutoff", "25:00"),
    ('[deadlines]\nconfirm_by = "9pm"', "deadlines.confirm_by", "9pm"),
    ('[deadlines]\nworkday_start = "18:00"\nworkday_end = "09:00"', "deadlines.workday_start", "18:00"),
    ('[deadlines]\nshipping_weekdays = [0, 1]', "deadlines.shipping_weekdays", "0"),
    ('[deadlines]\nat_risk_hours = -1', "deadlines.at_risk_hours", "-1"),
    ('[calendar.2027]\nholidays = ["2026-10-01"]', "calendar.2027.holidays", "2026-10-01"),
    ('[calendar.2027]\nholidays = ["2027-02-30"]', "calendar.2027.holidays", "2027-02-30"),
    ('[calendar.2027]\nholidays = ["2027-01-02"]\nworkdays = ["2027-01-02"]', "calendar.2027", "2027-01-02"),
    ('[calendar.2027]\nholiday = []', "calendar.2027.holiday", "holidays"),
    ('[calendar.27]\nholidays = []', "calendar.27", "2027"),
    ('[shop]\ndeadline_policy = "mall"\n[deadlines]\npolicy = "tmall"', "shop.deadline_policy", "mall"),
])
def test_bad_deadline_settings_are_refused_naming_key_and_value(text, key, value):
    """An unknown policy, 25:00, a reversed working day, a date of the wrong year: key and value named."""
    with pytest.raises(ConfigError) as info:
        config.parse(tomllib.loads(text))

    assert key in info.value.message
    assert value in info.value.message


def test_old_key_shop_deadline_policy_still_works():
    """shop.deadline_policy, the old name, sets deadlines.policy."""
    parsed = config.parse(tomllib.loads('[shop]\ndeadline_policy = "mall"'))

    assert parsed.deadline_policy == "mall" and parsed.deadlines.policy == "mall"


# --- the shop's lists ------------------------------------------------------------------------------

MALL = config.parse({"deadlines": {"policy": "mall"}})
NOW = datetime(2026, 11, 30, 15, 0)  # Monday afternoon
ORDERS = [  # number, paid_at, stage, payment_method: mall ship_by in the comment
    (1, datetime(2026, 11, 30, 9, 0), "approved", "online"),     # today 18:00: due, at risk
    (2, datetime(2026, 11, 27, 17, 30), "allocated", "online"),  # Sat 28th 18:00: overdue, refundable
    (3, datetime(2026, 11, 30, 9, 10), "packed", "online"),      # today 18:00: due, packed
    (4, datetime(2026, 11, 30, 9, 20), "handed_over", "online"), # shipped: only S2 (not confirmed)
    (5, datetime(2026, 11, 27, 17, 40), "cancelled", "online"),  # in no list
    (6, datetime(2026, 11, 27, 17, 50), "approved", "cod"),      # overdue, but COD: not refundable
    (7, datetime(2026, 11, 30, 17, 30), "new", "online"),        # tomorrow 18:00: in no list today
]


@pytest.fixture
def shop(db_url):
    """A mall shop with the orders above, ship_by assigned, on SQLite and on PostgreSQL."""
    frames = []
    for number, paid, stage, method in ORDERS:
        orders, lines = make_orders(1, start=number, stage=stage, payment_method=method)
        frames.append((orders.with_columns(
            paid_at=pl.lit(paid, dtype=pl.Datetime("us")),
            phone_confirmed_at=pl.lit(paid if method == "cod" else None, dtype=pl.Datetime("us"))), lines))
    with kit.connect(db_url, actor="店长", config=MALL) as opened:
        opened.insert_orders(pl.concat([o for o, _ in frames]), pl.concat([ln for _, ln in frames]),
                             kind="test", source="deadlines")
        deadlines.assign(opened, now=NOW)
        yield opened


def numbers(frame: pl.DataFrame) -> list[int]:
    """The test numbers of a list's orders, in its order."""
    return [int(no) - 9 * 10**17 for no in frame["order_no"]]


def test_assign_writes_ship_by_and_one_audit_row(shop):
    """Every started order gets its ship_by (cancelled ones not), and the run leaves one audit row."""
    ship = dict(shop.orders().select("order_no", "ship_by").iter_rows())

    assert ship[order_no(1)] == datetime(2026, 11, 30, 18, 0)
    assert ship[order_no(2)] == datetime(2026, 11, 28, 18, 0)
    assert ship[order_no(5)] is None
    trail = shop.audit_trail("deadlines")
    assert trail.height == 1 and trail["to_state"][0] == "6"
    assert deadlines.assign(shop, now=NOW).height == 0  # nothing lacks one any more


def test_due_today_lists_orders_not_handed_over(shop):
    """Due today: ship_by today and not yet handed over, with the hours left."""
    frame = deadlines.due_today(shop, NOW)

    assert numbers(frame) == [1, 3]
    assert frame["hours_left"].to_list() == [3.0, 3.0]
    assert not frame["overdue"].any()


def test_overdue_lists_orders_past_ship_by(shop):
    """Overdue: past ship_by and not handed over, COD included, cancelled not."""
    frame = deadlines.overdue(shop, NOW)

    assert numbers(frame) == [2, 6]
    assert frame["hours_late"][0] == 45.0


def test_at_risk_lists_orders_not_packed_near_ship_by(shop):
    """At risk: not packed and less than at_risk_hours (4) before ship_by; the packed one is safe."""
    assert numbers(deadlines.at_risk(shop, NOW)) == [1]
    assert numbers(deadlines.at_risk(shop, NOW - timedelta(hours=2))) == []


def test_S2_refund_eligible_lists_paid_orders_the_platform_sees_late(shop):
    """S2: past ship_by and not confirmed on the platform, even if handed over; COD left out."""
    assert numbers(deadlines.refund_eligible(shop, NOW)) == [2]
    assert numbers(deadlines.refund_eligible(shop, datetime(2026, 11, 30, 18, 30))) == [2, 1, 3, 4]


def test_S2_refund_after_hours_delays_the_list(sqlite_url):
    """refund_after_hours = 72: 45 hours late is not yet refundable."""
    orders, lines = make_orders(1, start=2, stage="allocated")
    orders = orders.with_columns(paid_at=pl.lit(datetime(2026, 11, 27, 17, 30), dtype=pl.Datetime("us")))
    settings_ = config.parse({"deadlines": {"policy": "mall", "refund_after_hours": 72}})
    with kit.connect(sqlite_url, actor="店长", config=settings_) as opened:
        opened.insert_orders(orders, lines, kind="test", source="deadlines")
        deadlines.assign(opened)

        assert deadlines.refund_eligible(opened, NOW).height == 0
        assert deadlines.refund_eligible(opened, NOW + timedelta(hours=30))["refundable_from"].to_list() \
            == [datetime(2026, 12, 1, 18, 0)]


def add_shipment(shop, number: int, handed_over: datetime, stage: str = "handed_over") -> None:
    """A parcel of order `number` handed over at that time, in that stage."""
    with shop.store.write() as conn:
        if conn.execute(sa.select(schema.warehouses.c.code)).first() is None:
            conn.execute(schema.warehouses.insert().values(code="hq", name="总仓", kind="hq",
                                                           province="浙江省"))
        conn.execute(schema.shipments.insert().values(
            order_no=order_no(number), warehouse_code="hq", carrier_code="yto", ship_method="online",
            tracking_no=f"YT{number:012d}", stage=stage, created_at=handed_over, handed_over_at=handed_over,
            confirmed_at=handed_over if stage == "confirmed" else None, updated_at=handed_over))


def test_S9_confirm_deadline_lists_parcels_handed_over_not_confirmed(shop):
    """S9: parcels handed over today are confirmed on the platform before 21:00; confirmed ones and
    tomorrow's are not listed; at 21:30 the unconfirmed one is late."""
    add_shipment(shop, 4, datetime(2026, 11, 30, 16, 0))
    add_shipment(shop, 3, datetime(2026, 11, 30, 16, 30), stage="confirmed")
    add_shipment(shop, 1, datetime(2026, 12, 1, 10, 0))

    frame = deadlines.confirm_deadline(shop, date(2026, 11, 30), now=datetime(2026, 11, 30, 21, 30))

    assert numbers(frame) == [4]
    assert frame["confirm_by"].to_list() == [datetime(2026, 11, 30, 21, 0)]
    assert frame["late"].to_list() == [True]
    assert deadlines.confirm_by(date(2026, 11, 30), shop.config.deadlines) == datetime(2026, 11, 30, 21, 0)


def test_assign_of_50000_orders_is_one_bulk_update(sqlite_url, monkeypatch):
    """50,000 orders: one read, one bulk update (one executemany), one audit row; not one per order."""
    orders, lines = make_orders(50_000)
    orders = orders.with_columns(paid_at=pl.lit(NOW) + pl.duration(minutes=pl.int_range(pl.len()) % 2880))
    with kit.connect(sqlite_url, actor="店长", config=MALL) as opened:
        opened.insert_orders(orders, lines, kind="test", source="deadlines")
        updates: list[int] = []
        real = deadlines.lists.update_frame
        monkeypatch.setattr(deadlines.lists, "update_frame",
                            lambda conn, table, frame, key: updates.append(frame.height) or real(
                                conn, table, frame, key))
        statements: list[str] = []
        sa.event.listen(opened.store.engine, "before_cursor_execute",
                        lambda *args: statements.append(args[2]))

        done = deadlines.assign(opened, now=NOW)

        assert done.height == 50_000 and updates == [50_000]
        assert len(statements) <= 3  # the read, the audit row
        with opened.store.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).where(schema.orders.c.ship_by.is_(None))
                                .select_from(schema.orders)).scalar_one() == 0


# --- the command line --------------------------------------------------------------------------------

def run(*args: str) -> tuple[int, dict]:
    """Run kit with --json; exit code and the JSON object."""
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def cli_db(sqlite_url, tmp_path, monkeypatch):
    """A database with orders 1–3 above and a kit.toml choosing the mall rule; kit deadlines registered."""
    if "deadlines" not in cli.commands:
        monkeypatch.setitem(cli.commands, "deadlines", deadlines_command)
    toml = tmp_path / "kit.toml"
    toml.write_text('[deadlines]\npolicy = "mall"\n', "utf-8")
    frames = [make_orders(1, start=n, stage=stage) for n, _, stage, _ in ORDERS[:3]]
    orders = pl.concat([o for o, _ in frames]).with_columns(
        paid_at=pl.Series([p for _, p, _, _ in ORDERS[:3]], dtype=pl.Datetime("us")))
    with kit.connect(sqlite_url, actor="店长") as opened:
        opened.insert_orders(orders, pl.concat([ln for _, ln in frames]), kind="test", source="cli")
    return sqlite_url, str(toml)


def test_cli_assigns_and_lists_with_json(cli_db):
    """kit deadlines --assign, then --due / --overdue: one JSON object each; no list: the counts."""
    db, toml = cli_db
    common = ["--db", db, "--config", toml, "--now", "2026-11-30 15:00"]

    code, assigned = run("deadlines", "--assign", *common)
    _, due_list = run("deadlines", "--due", *common)
    _, late = run("deadlines", "--overdue", *common)
    _, counts = run("deadlines", *common)

    assert code == 0 and assigned["assigned"] == 3 and assigned["policy"] == "mall"
    assert [o["order_no"] for o in due_list["orders"]] == [order_no(1), order_no(3)]
    assert due_list["orders"][0]["ship_by"] == "2026-11-30T18:00:00"
    assert [o["order_no"] for o in late["orders"]] == [order_no(2)]
    assert counts["counts"] == {"due": 2, "overdue": 1, "at_risk": 1, "refundable": 1, "confirm": 0}


def test_cli_refuses_two_lists_at_once(cli_db):
    """Two lists in one call is bad usage: exit code 2, the reason in JSON."""
    db, toml = cli_db

    code, payload = run("deadlines", "--due", "--overdue", "--db", db, "--config", toml)

    assert code == 2 and payload["key"] == "deadlines.one_list"


def test_cli_bad_policy_in_kit_toml_names_key_and_value(cli_db, tmp_path):
    """A kit.toml with policy = "jd" stops the command, naming deadlines.policy and 'jd'."""
    db, _ = cli_db
    bad = tmp_path / "bad.toml"
    bad.write_text('[deadlines]\npolicy = "jd"\n', "utf-8")

    code, payload = run("deadlines", "--db", db, "--config", str(bad))

    assert code == 2 and "deadlines.policy" in payload["message"] and "jd" in payload["message"]

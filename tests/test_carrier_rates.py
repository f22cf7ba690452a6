"""Rate tables and carrier choice (S15, S5): first and additional weight, volumetric weight,
exact fen, tables refused at load with file, line and reason, the sample tables, a shop's
own folder, adjust_quote plugins, and ranking carriers by cost, speed and reliability."""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import kit
from kit import carriers
from kit.carriers import quoting
from kit.carriers.builtin.tables import sample_tables
from kit.carriers.manager import CarrierUnavailable
from kit.carriers.rate_files import load_folder, load_table
from kit.carriers.rates import MAINLAND, RateTable, quote_from_table
from kit.carriers.types import QuoteRequest
from kit.config import Config
from kit.demo import seed
from kit.errors import BadInput, NotFound
from kit.i18n import set_lang
from kit.store import schema

NEAR = ["浙江", "上海", "江苏", "安徽"]
FAR = [p for p in MAINLAND if p not in ("浙江省", "上海市", "江苏省", "安徽省")]
ZONES = [  # zone, provinces, first g, first yuan, step g, step yuan, days
    ["近", NEAR, 1000, "3.00", 1000, "1.00", 1],
    ["远", FAR, 1000, "5.00", 1000, "2.50", 3],
]


def toml_text(zones: list[list], carrier: str = "yto", service: str = "standard", origin: str = "浙江省",
              divisor: int = 8000, extra: str = "") -> str:
    """A TOML rate table."""
    out = [f'carrier = "{carrier}"', f'service = "{service}"', f'origin = "{origin}"',
           f"volumetric_divisor = {divisor}", extra, ""]
    for name, provinces, first_g, first, step_g, step, days in zones:
        listed = ", ".join(f'"{p}"' for p in provinces)
        out += ["[[zones]]", f'zone = "{name}"', f"provinces = [{listed}]", f"first_weight_g = {first_g}",
                f'first_price = "{first}"', f"step_g = {step_g}", f'step_price = "{step}"',
                f"days = {days}", ""]
    return "\n".join(out)


def csv_text(zones: list[list], carrier: str = "yto", service: str = "standard", origin: str = "浙江省",
             divisor: int = 8000, extra: str = "") -> str:
    """A CSV rate table: key rows, the header, one row per zone."""
    out = ["# 测试用费率表", f"承运商/carrier,{carrier}", f"服务/service,{service}",
           f"始发省/origin,{origin}", f"抛重系数/volumetric_divisor,{divisor}", extra,
           "区域/zone,省份/provinces,首重克/first_weight_g,首重价/first_price,续重克/step_g,续重价/step_price,"
           "时效天/days"]
    out += [f"{z[0]},{'、'.join(z[1])},{z[2]},{z[3]},{z[4]},{z[5]},{z[6]}" for z in zones]
    return "\n".join(out) + "\n"


def write(folder: Path, fmt: str, zones: list[list] = ZONES, name: str | None = None, **meta) -> Path:
    """Write a rate table file into `folder` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name or meta.get('carrier', 'yto')}.{fmt}"
    path.write_text((toml_text if fmt == "toml" else csv_text)(zones, **meta), "utf-8")
    return path


def line_of(path: Path, marker: str) -> int:
    """The number of the first line of the file holding `marker`."""
    return next(i for i, text in enumerate(path.read_text("utf-8").splitlines(), 1) if marker in text)


def shop_config(folder: Path, default: str = "yto", **weights: float) -> Config:
    """Settings with the shop's own rate table folder and choice weights."""
    return Config(rate_tables=str(folder), default_carrier=default,
                  choice_weights={"cost": 0.5, "speed": 0.3, "reliability": 0.2} | weights)


@pytest.fixture(scope="module")
def registry() -> carriers.CarrierRegistry:
    """The built-in carriers and sample tables."""
    return carriers.load(entry_points_too=False)


# --- first and additional weight, volume, money ------------------------------------------------


@pytest.mark.parametrize(("grams", "charged", "fen"), [
    (1, 1000, 300), (1000, 1000, 300), (1001, 2000, 400), (1300, 2000, 400), (2000, 2000, 400),
    (10_001, 11_000, 1300),
])
def test_weight_above_the_first_is_rounded_up_to_the_step(tmp_path, grams, charged, fen):
    """1.3 kg with first 1 kg and step 1 kg is charged as 2 kg: first price + one step."""
    table = load_table(write(tmp_path, "toml"))

    q = quote_from_table(table, QuoteRequest(grams, "浙江省"))

    assert (q.chargeable_weight_g, q.price_fen, q.zone, q.days) == (charged, fen, "近", 1)


def test_a_half_kilo_step_rounds_to_the_half_kilo(tmp_path):
    """With a 500 g step, 1.3 kg is charged as 1.5 kg."""
    zones = [[*z[:4], 500, "0.60", z[6]] for z in ZONES]
    q = quote_from_table(load_table(write(tmp_path, "csv", zones)), QuoteRequest(1300, "广东省"))

    assert (q.chargeable_weight_g, q.price_fen) == (1500, 500 + 60)


def test_volumetric_weight_beats_a_light_parcel(tmp_path):
    """40×30×20 cm at divisor 8000 weighs 3 kg by volume: that is charged, not the 0.8 kg."""
    table = load_table(write(tmp_path, "toml"))
    request = QuoteRequest(800, "广东", length_mm=400, width_mm=300, height_mm=200)

    q = quote_from_table(table, request)
    small = quote_from_table(table, replace(request, length_mm=100, width_mm=100, height_mm=100))

    assert (q.chargeable_weight_g, q.price_fen) == (3000, 500 + 2 * 250)
    assert any("3000" in note for note in q.notes)
    assert (small.chargeable_weight_g, small.notes) == (1000, ())


def test_prices_are_exact_cny_with_two_decimals(tmp_path):
    """Ten steps of ¥0.10 on ¥0.20 are ¥1.20 exactly (fen integers, no float drift)."""
    zones = [[z[0], z[1], 1000, "0.20", 1000, "0.10", z[6]] for z in ZONES]
    q = quote_from_table(load_table(write(tmp_path, "toml", zones)), QuoteRequest(11_000, "新疆"))

    assert (q.price_fen, q.price_yuan) == (120, "1.20")


@pytest.mark.parametrize("written", ["广东", "广东省", " 广东省 "])
def test_the_zone_is_found_however_the_province_is_written(tmp_path, written):
    """广东 and 广东省 are one place; 广西 is 广西壮族自治区."""
    table = load_table(write(tmp_path, "toml"))

    assert quote_from_table(table, QuoteRequest(500, written)).zone == "远"
    assert table.zone_for("广西").name == table.zone_for("广西壮族自治区").name == "远"
    assert table.zone_for("上海").name == "近"


def test_a_parcel_the_table_cannot_price_is_refused_with_the_reason(tmp_path):
    """Unknown places and bad weights are bad input; no zone or another origin: carrier unavailable."""
    table = load_table(write(tmp_path, "toml", extra="max_weight_g = 30000"))

    with pytest.raises(BadInput, match="火星"):
        quote_from_table(table, QuoteRequest(500, "火星"))
    with pytest.raises(BadInput):
        quote_from_table(table, QuoteRequest(0, "广东"))
    with pytest.raises(BadInput):
        quote_from_table(table, QuoteRequest(500, "广东", length_mm=100))
    with pytest.raises(CarrierUnavailable, match="香港"):
        quote_from_table(table, QuoteRequest(500, "香港"))
    with pytest.raises(CarrierUnavailable, match="广东"):
        quote_from_table(table, QuoteRequest(500, "上海", origin_province="广东"))
    with pytest.raises(CarrierUnavailable, match="30000"):
        quote_from_table(table, QuoteRequest(30_001, "上海"))


# --- loading and refusing tables -----------------------------------------------------------------


def test_csv_and_toml_hold_the_same_table(tmp_path):
    """The two layouts load to equal zones, keys and divisors."""
    a = load_table(write(tmp_path / "a", "toml"))
    b = load_table(write(tmp_path / "b", "csv"))

    assert a.key == b.key == ("yto", "standard", "浙江省")
    assert [replace(z, line=0) for z in a.zones] == [replace(z, line=0) for z in b.zones]
    assert a.zones[0].provinces == ("浙江省", "上海市", "江苏省", "安徽省")
    assert (a.volumetric_divisor, a.zones[1].first_price_fen, a.zones[1].step_price_fen) == (8000, 500, 250)


def test_a_csv_saved_by_excel_in_gbk_loads(tmp_path):
    """Excel saves CSV as GBK on Chinese Windows; the table still loads."""
    path = tmp_path / "yto.csv"
    path.write_bytes(csv_text(ZONES).encode("gbk"))

    assert load_table(path).zones[0].name == "近"


def _far(**change) -> list[list]:
    """ZONES with the far zone changed: provinces, first price or step price."""
    far = list(ZONES[1])
    far[1] = change.get("provinces", far[1])
    far[3] = change.get("first", far[3])
    far[5] = change.get("step", far[5])
    return [ZONES[0], far]


BAD_TABLES = {  # case -> (zones, the text on the line that is wrong, reason code, words in the reason)
    "gap": (_far(provinces=[p for p in FAR if p != "西藏自治区"]), None, "gap", "西藏自治区"),
    "duplicate_province": (_far(provinces=[*FAR, "浙江"]), "新疆", "duplicate_province", "浙江省"),
    "unknown_province": (_far(provinces=[*FAR, "火星省"]), "新疆", "unknown_province", "火星省"),
    "negative_price": (_far(first="-1.00"), "-1.00", "negative_price", "-1.00"),
    "bad_number": (_far(step="abc"), "abc", "bad_number", "abc"),
    "too_precise": (_far(step="1.005"), "1.005", "too_precise", "1.005"),
    "zero_step": ([ZONES[0], [*ZONES[1][:4], 0, *ZONES[1][5:]]], "0", "not_positive", "step_g"),
}


@pytest.mark.parametrize("fmt", ["toml", "csv"])
@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_a_bad_table_is_refused_at_load_naming_file_line_and_reason(tmp_path, fmt, case):
    """Gap, duplicate or unknown province, negative or bad price: file, line and reason."""
    zones, marker, why, words = BAD_TABLES[case]
    path = write(tmp_path, fmt, zones)
    if marker is None:  # a gap is reported where the zones begin
        expected = line_of(path, "[[zones]]" if fmt == "toml" else "区域/zone")
    elif case == "zero_step":
        expected = line_of(path, "step_g = 0") if fmt == "toml" else line_of(path, ",0,")
    else:
        lines = path.read_text("utf-8").splitlines()
        far_start = line_of(path, "远")
        expected = next(i for i, text in enumerate(lines, 1) if i >= far_start and marker in text)

    with pytest.raises(BadInput) as caught:
        load_table(path)

    err = caught.value
    assert (err.key, err.params["file"], err.params["line"], err.params["why"]) == (
        "rates.bad_table", str(path), expected, why)
    assert str(path) in err.message and f"第 {expected} 行" in err.message and words in err.message


def test_the_refusal_reads_in_english_too(tmp_path):
    """KIT_LANG=en: the same refusal, in English."""
    set_lang("en")
    path = write(tmp_path, "csv", BAD_TABLES["gap"][0])

    with pytest.raises(BadInput, match=r"line \d+: these mainland provinces are in no zone: 西藏自治区"):
        load_table(path)


@pytest.mark.parametrize(("text", "why"), [
    ("carrier = 'yto'\nservice = 'standard'\norigin = '浙江'\n", "missing_key"),
    ("carrier = 'yto'\nservice = 'standard'\norigin = '浙江'\nvolumetric_divisor = 8000\nfoo = 1\n",
     "unknown_key"),
    ("carrier = 'yto'\nservice = 'standard'\norigin = '浙江'\nvolumetric_divisor = 0\n", "not_positive"),
    ("carrier = 'yto\n", "bad_toml"),
    ("carrier = 'Y T O'\nservice = 'standard'\norigin = '浙江'\nvolumetric_divisor = 8000\n", "bad_code"),
    ("carrier = 'yto'\nservice = 'standard'\norigin = '浙江'\nvolumetric_divisor = 8000\n", "no_zones"),
])
def test_a_table_missing_its_head_is_refused(tmp_path, text, why):
    """Missing or unknown keys, a zero divisor, broken TOML, a bad code, no zones."""
    path = tmp_path / "t.toml"
    path.write_text(text, "utf-8")

    with pytest.raises(BadInput) as caught:
        load_table(path)

    assert caught.value.params["why"] == why


def test_a_csv_without_its_columns_is_refused(tmp_path):
    """A header lacking 时效天/days, or a row with a cell too many."""
    path = tmp_path / "t.csv"
    path.write_text(csv_text(ZONES).replace(",时效天/days", ""), "utf-8")
    with pytest.raises(BadInput) as caught:
        load_table(path)
    header = line_of(path, "区域/zone")
    assert (caught.value.params["why"], caught.value.params["line"]) == ("missing_column", header)

    path.write_text(csv_text(ZONES).replace(",1\n", ",1,9\n"), "utf-8")
    with pytest.raises(BadInput) as caught:
        load_table(path)
    assert (caught.value.params["why"], caught.value.params["line"]) == ("cells", line_of(path, "近,"))


def test_a_folder_is_refused_when_missing_empty_or_holding_a_table_twice(tmp_path):
    """Each (carrier, service, origin) once; a folder without tables is a mistake."""
    with pytest.raises(BadInput, match="nowhere"):
        load_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("notes", "utf-8")
    with pytest.raises(BadInput, match="empty"):
        load_folder(tmp_path / "empty")
    write(tmp_path / "twice", "toml", name="a")
    write(tmp_path / "twice", "csv", name="b")
    with pytest.raises(BadInput) as caught:
        load_folder(tmp_path / "twice")
    assert caught.value.params["why"] == "duplicate_table" and "a.toml" in caught.value.message


# --- the sample tables ---------------------------------------------------------------------------


def test_the_samples_cover_every_mainland_province_for_every_table():
    """yto, sf (standard and express), zto, yunda, sto, jd, ems, jt, deppon; all 31 provinces."""
    tables = sample_tables()

    assert sorted(t.key[:2] for t in tables) == sorted(
        [("yto", "standard"), ("sf", "standard"), ("sf", "express"), ("zto", "standard"),
         ("yunda", "standard"), ("sto", "standard"), ("jd", "standard"), ("ems", "standard"),
         ("jt", "standard"), ("deppon", "standard")])
    for table in tables:
        covered = {p for z in table.zones for p in z.provinces}
        assert set(MAINLAND) <= covered, table.source
        assert table.sample and "SAMPLE" in Path(table.source).read_text("utf-8")


def test_the_samples_are_in_a_plausible_order():
    """SF dearer and faster than YTO; remote provinces dearer and slower; Deppon cheaper for heavy goods."""
    tables = {t.key[:2]: t for t in sample_tables()}

    def q(code, service, grams, to):
        return quote_from_table(tables[(code, service)], QuoteRequest(grams, to))

    assert q("sf", "standard", 1000, "广东").price_fen > q("yto", "standard", 1000, "广东").price_fen
    assert q("sf", "express", 1000, "广东").days <= q("yto", "standard", 1000, "广东").days
    for table in tables.values():
        near = quote_from_table(table, QuoteRequest(1000, "浙江"))
        for remote in ("新疆", "西藏", "青海", "宁夏", "甘肃", "内蒙古"):
            far = quote_from_table(table, QuoteRequest(1000, remote))
            assert far.price_fen > near.price_fen and far.days > near.days
    assert q("deppon", "standard", 20_000, "广东").price_fen < q("yto", "standard", 20_000, "广东").price_fen
    assert q("deppon", "standard", 1000, "广东").price_fen > q("yto", "standard", 1000, "广东").price_fen
    assert "样例" in q("yto", "standard", 1000, "广东").notes[-1]


def test_the_registry_quotes_every_sample_carrier(registry):
    """The tables plugin registers the samples; quotes() prices the parcel with each."""
    assert {t.carrier_code for t in registry.rate_tables} >= {"yto", "sf", "deppon"}

    found = quoting.quotes(registry, QuoteRequest(1300, "广东省"))

    assert {q.carrier_code for q in found} == {"yto", "sf", "zto", "yunda", "sto", "jd", "ems", "jt",
                                               "deppon"}
    assert [q.price_fen for q in found] == sorted(q.price_fen for q in found)
    assert quoting.quote(registry, "sf", QuoteRequest(1300, "广东", service="express")).service == "express"
    with pytest.raises(BadInput):
        quoting.quote(registry, "nosuch", QuoteRequest(1300, "广东"))
    with pytest.raises(CarrierUnavailable):
        quoting.quote(registry, "yto", QuoteRequest(1300, "广东", service="express"))


# --- plugins and the shop's own tables ------------------------------------------------------------


class Acme:
    """A third-party adapter that quotes by itself (capability "quote")."""

    code, name, capabilities = "acme", carriers.Names("阿克米", "Acme"), frozenset({"quote"})

    def quote(self, request):
        """A flat ¥4.00 in two days."""
        return carriers.Quote("acme", request.service, 400, request.weight_g, "全国", 2)


class Broken(Acme):
    """An adapter whose quote raises."""

    code = "broken"

    def quote(self, request):
        """Always fails."""
        raise RuntimeError("gateway down")


class AcmePlugin:
    """Registers the two adapters."""

    @carriers.hookimpl
    def register_carriers(self, register):
        """Acme and Broken."""
        register(Acme())
        register(Broken())


def test_an_adapter_that_quotes_itself_is_asked_and_a_failing_one_left_out():
    """quote() asks an adapter declaring "quote"; quotes() skips one that raises."""
    registry = carriers.load(entry_points_too=False, extra=((AcmePlugin(), "acme"),))
    request = QuoteRequest(1300, "广东")

    assert quoting.quote(registry, "acme", request).price_fen == 400
    found = {q.carrier_code for q in quoting.quotes(registry, request)}
    assert "acme" in found and "broken" not in found and "yto" in found
    with pytest.raises(RuntimeError):
        quoting.quote(registry, "broken", request)


class Margin:
    """A plugin adding ¥1.00 to every quote (adjust_quote)."""

    @carriers.hookimpl
    def adjust_quote(self, quote, request):
        """The quote plus 100 fen."""
        return replace(quote, price_fen=quote.price_fen + 100, notes=(*quote.notes, "margin"))


def test_adjust_quote_from_a_plugin_changes_the_price(registry):
    """An extra plugin's adjust_quote is applied to table quotes."""
    adjusted = carriers.load(entry_points_too=False, extra=((Margin(), "margin"),))
    request = QuoteRequest(1300, "广东")

    plain = quoting.quote(registry, "yto", request)
    margin = quoting.quote(adjusted, "yto", request)

    assert margin.price_fen == plain.price_fen + 100 and "margin" in margin.notes


def test_a_shop_folder_replaces_the_samples(registry, tmp_path):
    """[carriers] rate_tables: only the shop's tables quote, at the shop's prices."""
    write(tmp_path / "rates", "csv", carrier="yto")
    config = shop_config(tmp_path / "rates")

    found = quoting.quotes(registry, QuoteRequest(1300, "广东"), config)

    assert [(q.carrier_code, q.price_fen, q.notes) for q in found] == [("yto", 750, ())]
    with pytest.raises(CarrierUnavailable):
        quoting.quote(registry, "sf", QuoteRequest(1300, "广东"), config)
    relative = replace(config, rate_tables="rates", source=str(tmp_path / "kit.toml"))
    assert quoting.tables_in_force(registry, relative)[0].carrier_code == "yto"


# --- choosing --------------------------------------------------------------------------------------


def _cheap_slow_and_dear_fast(folder: Path) -> None:
    """zto: cheap and slow; sf: dear and fast."""
    write(folder, "toml", carrier="zto")
    write(folder, "toml", [[z[0], z[1], 1000, "15.00", 1000, "5.00", 1] for z in ZONES], carrier="sf")


def test_choose_ranks_by_the_weights_in_kit_toml(registry, tmp_path):
    """Cost first: the cheap carrier; speed first: the fast one."""
    _cheap_slow_and_dear_fast(tmp_path)
    request = QuoteRequest(1300, "广东")

    by_cost = quoting.choose(registry, request, shop_config(tmp_path, cost=0.8, speed=0.2, reliability=0.0))
    by_speed = quoting.choose(registry, request, shop_config(tmp_path, cost=0.2, speed=0.8, reliability=0.0))

    assert by_cost["carrier_code"].to_list() == ["zto", "sf"]
    assert by_speed["carrier_code"].to_list() == ["sf", "zto"]
    assert by_cost.columns[:8] == ["carrier_code", "name", "price_fen", "days", "reliability", "score",
                                   "rank", "reason"]
    assert by_cost["rank"].to_list() == [1, 2] and by_cost["score"][0] > by_cost["score"][1]
    assert "最便宜" in by_cost["reason"][0] and "最快" in by_cost["reason"][1]
    with pytest.raises(BadInput):
        quoting.choose(registry, request, shop_config(tmp_path, cost=-1.0))


@pytest.mark.parametrize("default", ["yto", "zto"])
def test_S5_the_default_carrier_wins_a_tie(registry, tmp_path, default):
    """Equal price, days and record: the default carrier ranks first (S5)."""
    write(tmp_path, "toml", carrier="yto")
    write(tmp_path, "csv", carrier="zto")

    ranked = quoting.choose(registry, QuoteRequest(1300, "广东"), shop_config(tmp_path, default=default))

    assert ranked["score"][0] == ranked["score"][1]
    assert ranked["carrier_code"][0] == default
    assert "S5" in ranked["reason"][0]


@pytest.fixture
def demo_shop(sqlite_url):
    """A small demo shop in a temporary SQLite database."""
    shop = kit.connect(sqlite_url, actor="店长")
    seed(shop, orders=300, today=datetime.date(2026, 11, 30))
    yield shop
    shop.close()


def test_reliability_from_the_shops_history_changes_the_ranking(registry, tmp_path, demo_shop):
    """zto wins the tie as the default, until the shop's record shows its parcels lost."""
    write(tmp_path, "toml", carrier="yto")
    write(tmp_path, "toml", carrier="zto")
    config = shop_config(tmp_path, default="zto")
    request = QuoteRequest(1300, "广东")
    s = schema.shipments
    with demo_shop.store.write() as conn:
        handed = s.c.handed_over_at.is_not(None)
        conn.execute(sa.update(s).where(handed).values(carrier_code="yto"))
        conn.execute(sa.update(s).where(handed & (s.c.shipment_id % 3 == 0))
                     .values(carrier_code="zto", tracking_status="lost"))
    with demo_shop.store.read() as conn:
        stats = quoting.carrier_stats(conn, quoting.tables_in_force(registry, config))

    before = quoting.choose(registry, request, config)
    after = quoting.choose(registry, request, config, stats)

    assert before["carrier_code"].to_list() == ["zto", "yto"]
    assert after["carrier_code"].to_list() == ["yto", "zto"]
    row = stats.filter(pl.col("carrier_code") == "zto").row(0, named=True)
    assert row["damage_rate"] == 1.0 and row["reliability"] == 0.0
    yto = stats.filter(pl.col("carrier_code") == "yto").row(0, named=True)
    assert yto["timed"] > 0 and 0 <= yto["on_time"] <= yto["timed"] and 0 < yto["reliability"] <= 1
    assert "本店" in after["reason"][0]


def test_carrier_stats_without_history_is_an_empty_frame(sqlite_url):
    """A new shop: no rows, the right columns."""
    with kit.connect(sqlite_url, actor="店长") as shop, shop.store.read() as conn:
        stats = quoting.carrier_stats(conn)

    assert stats.height == 0 and stats.schema == pl.Schema(quoting.STATS_SCHEMA)


def test_choose_for_a_demo_order(demo_shop):
    """The order's province and SKU weights + 100 g packing; every sample carrier ranked."""
    with demo_shop.store.read() as conn:
        goods = pl.DataFrame(conn.execute(
            sa.select(schema.orders.c.order_no, schema.order_lines.c.quantity, schema.skus.c.weight_g)
            .join(schema.order_lines, schema.order_lines.c.order_no == schema.orders.c.order_no)
            .join(schema.skus, schema.skus.c.sku == schema.order_lines.c.sku)).all(),
            schema=["order_no", "quantity", "weight_g"], orient="row")
    order_no = goods["order_no"][0]
    expected = int(goods.filter(pl.col("order_no") == order_no)
                   .select((pl.col("quantity") * pl.col("weight_g")).sum()).item()) + quoting.PACKAGING_G

    ranked = quoting.choose_for_order(demo_shop, order_no)

    assert ranked["rank"].to_list() == list(range(1, ranked.height + 1))
    assert set(ranked["carrier_code"]) >= {"yto", "sf", "zto"}
    assert (ranked["weight_g"] == expected).all() and (ranked["order_no"] == order_no).all()
    assert ranked["score"].is_sorted(descending=True)
    assert all(ranked["reason"].str.contains("元"))
    assert ranked["requested"].sum() <= 1 and "100" in ranked["weight_note"][0]
    with pytest.raises(NotFound):
        quoting.choose_for_order(demo_shop, "NO-SUCH-ORDER")


def test_an_order_with_an_unknown_sku_is_quoted_at_the_stated_default(demo_shop):
    """Goods weights incomplete: DEFAULT_PARCEL_G, and the note says so."""
    lines = schema.order_lines
    with demo_shop.store.write() as conn:
        order_no = conn.execute(sa.select(lines.c.order_no).limit(1)).scalar_one()
        conn.execute(sa.update(lines).where(lines.c.order_no == order_no).values(sku="SKU-UNKNOWN"))

    ranked = quoting.choose_for_order(demo_shop, order_no)

    assert (ranked["weight_g"] == quoting.DEFAULT_PARCEL_G).all()
    assert str(quoting.DEFAULT_PARCEL_G) in ranked["weight_note"][0]


def test_rate_tables_are_frozen_records():
    """A RateTable is a frozen record with a key; to_frame has one row per province."""
    table = sample_tables()[0]

    assert isinstance(table, RateTable) and len(table.key) == 3
    assert table.to_frame().height == sum(len(z.provinces) for z in table.zones)

"""kit.toml: documented defaults, and a wrong key or value fails naming key, value and
what was expected."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kit import config
from kit.errors import ConfigError
from kit.i18n import set_lang
from kit.models import Role

EXAMPLE = Path(__file__).parent.parent / "kit.example.toml"


def test_defaults_without_a_file(tmp_path, monkeypatch):
    """With no kit.toml every default holds: YTO, Taobao rule, one supervisor."""
    monkeypatch.chdir(tmp_path)

    settings = config.load()

    assert settings.default_carrier == "yto"
    assert settings.deadline_policy == "taobao"
    assert settings.staff == {"店长": Role.SUPERVISOR}
    assert settings.source is None


def test_example_file_is_valid_and_equals_the_defaults():
    """kit.example.toml documents exactly the defaults."""
    loaded = config.load(EXAMPLE)

    assert loaded == config.Config(source=str(EXAMPLE))


def test_example_file_shows_every_setting():
    """Every key of the settings spec appears in kit.example.toml."""
    text = EXAMPLE.read_text("utf-8")

    def keys(spec: dict, prefix: str = ""):
        for name, value in spec.items():
            if isinstance(value, dict):
                yield from keys(value, f"{prefix}{name}.")
            else:
                yield name

    assert [k for k in keys(config.SPEC) if f"\n{k} =" not in text] == []


@pytest.mark.parametrize(("text", "key", "expected"), [
    ('[shop]\nnmae = "x"', "shop.nmae", "name"),
    ('[shipping]\ndefault_carrier = "UPS!"', "shipping.default_carrier", "yto"),
    ('[shop]\nplatform = 3', "shop.platform", "text"),
    ('[review]\ngift_keywords = "送礼"', "review.gift_keywords", "list"),
    ('[staff]\n"小王" = "boss"', "staff.小王", "supervisor"),
    ('[[warehouses]]\ncode = "hq"\nname = "总仓"\nkind = "depot"\nprovince = "浙江省"',
     "warehouses[0].kind", "supplier"),
    ('[[warehouses]]\ncode = "hq"\nname = "总仓"\nkind = "hq"', "warehouses[0].province", "province"),
    ('colour = "red"', "colour", "shop"),
])
def test_bad_setting_names_key_value_and_expectation(text, key, expected):
    """Each kind of mistake is reported with the key and what would be right."""
    with pytest.raises(ConfigError) as info:
        config.parse(tomllib.loads(text))

    assert key in info.value.message
    assert expected in info.value.message


def test_duplicate_warehouse_code_is_refused():
    """Two warehouses may not share a code."""
    row = '[[warehouses]]\ncode = "hq"\nname = "总仓"\nkind = "hq"\nprovince = "浙江省"\n'

    with pytest.raises(ConfigError, match="hq"):
        config.parse(tomllib.loads(row + row))


def test_broken_toml_and_missing_file_are_reported(tmp_path):
    """A file that is not TOML, or a --config path that does not exist, fails clearly."""
    bad = tmp_path / "kit.toml"
    bad.write_text("[shop\nname=", "utf-8")

    with pytest.raises(ConfigError, match=r"TOML"):
        config.load(bad)
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        config.load(tmp_path / "nope.toml")


def test_messages_follow_the_language():
    """The same mistake reads in English when the language is en."""
    set_lang("en")

    with pytest.raises(ConfigError, match=r"Unknown setting shop\.nmae"):
        config.parse({"shop": {"nmae": "x"}})


def test_warehouses_and_staff_are_read():
    """Warehouses keep their serving order; staff get their roles."""
    parsed = config.parse(tomllib.loads(
        '[staff]\n"仓管老周" = "warehouse"\n'
        '[[warehouses]]\ncode = "gz"\nname = "广州门店"\nkind = "store"\nprovince = "广东省"\n'
        'serves = ["广东省", "广西壮族自治区"]\n'))

    assert parsed.staff == {"仓管老周": Role.WAREHOUSE}
    assert parsed.warehouses[0].serves == ("广东省", "广西壮族自治区")


def test_default_carrier_must_be_installed_S5():
    """S5: the default carrier must be one the kit knows, built-in or from a plugin."""
    from kit import carriers

    with pytest.raises(ConfigError, match="ups"):
        carriers.for_config(config.parse({"shipping": {"default_carrier": "ups"}}), entry_points_too=False)
    assert "yto" in carriers.for_config(config.Config(), entry_points_too=False).adapters


def test_choice_weights_must_make_sense():
    """Weights for choosing a carrier may not be negative or all zero."""
    with pytest.raises(ConfigError, match=r"carriers\.weights"):
        config.parse({"carriers": {"weights": {"cost": 0, "speed": 0, "reliability": 0}}})

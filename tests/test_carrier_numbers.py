"""Tracking numbers: every pattern example passes or fails as declared, normalisation of what
staff type, UPU S10 check digits, ranked candidates for ambiguous numbers, and the special
carriers self, none and dropship."""

from __future__ import annotations

import pytest

from kit import carriers
from kit.carriers.builtin.express import NAMES
from kit.carriers.numbers import (
    builtin_patterns,
    detect,
    normalise,
    parse_patterns,
    pattern_matches,
    upu_s10_check,
    upu_s10_digit,
    validate,
)
from kit.errors import BadInput
from kit.i18n import set_lang

PATTERNS = builtin_patterns()
EXPRESS = ("yto", "sf", "zto", "sto", "yunda", "jd", "ems", "jt", "deppon")


@pytest.fixture(scope="module")
def registry() -> carriers.CarrierRegistry:
    """The built-in carriers only (no installed plugins)."""
    return carriers.load(entry_points_too=False)


# --- the pattern file ------------------------------------------------------------------------


def test_every_express_carrier_has_patterns_with_enough_examples():
    """Nine carriers, each pattern with 3+ valid and 3+ invalid examples and a weight in (0, 1]."""
    assert {p.carrier_code for p in PATTERNS} == set(EXPRESS)
    for p in PATTERNS:
        assert len(p.valid) >= 3 and len(p.invalid) >= 3, p.name
        assert 0 < p.weight <= 1, p.name


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: f"{p.carrier_code}:{p.name}")
def test_valid_examples_pass_pattern_and_carrier(pattern):
    """Every declared valid example fits its pattern and validates for its carrier."""
    for example in pattern.valid:
        assert pattern_matches(pattern, example), example
        assert validate(example, pattern.carrier_code, PATTERNS).valid, example


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: f"{p.carrier_code}:{p.name}")
def test_invalid_examples_fail_pattern_and_carrier(pattern):
    """Every declared invalid example fits neither its pattern nor any pattern of its carrier."""
    for example in pattern.invalid:
        assert not pattern_matches(pattern, example), example
        assert not validate(example, pattern.carrier_code, PATTERNS).valid, example


def test_distinctive_prefixes_outweigh_digit_runs():
    """YT, SF, JD, JT and DPK patterns weigh more than any bare digit run."""
    prefixed = [p.weight for p in PATTERNS if p.regex[1:3].isalpha()]
    digits = [p.weight for p in PATTERNS if all(v.isdigit() for v in p.valid)]
    assert len(prefixed) >= 6 and len(digits) >= 6
    assert min(prefixed) > max(digits)


def test_a_broken_pattern_file_is_refused_by_name():
    """A pattern with too few examples or a bad regex is named in a BadInput."""
    text = ('[[pattern]]\ncarrier = "x"\nname = "X"\nregex = "^X\\\\d+$"\nweight = 0.5\n'
            'valid = ["X1"]\ninvalid = ["Y"]\n')
    with pytest.raises(BadInput) as caught:
        parse_patterns(text, source="mine.toml")
    assert "mine.toml" in caught.value.message and "valid needs 3" in caught.value.message
    with pytest.raises(BadInput):
        parse_patterns(text.replace('"^X\\\\d+$"', '"^X(("').replace('["X1"]', '["1","2","3"]'))


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("YT 6552 3804 17836", "YT6552380417836"),            # spaces
    ("YT-6552-3804-17836", "YT6552380417836"),            # dashes
    ("ＹＴ６５５２３８０４１７８３６", "YT6552380417836"),  # full-width letters and digits
    ("yt6552380417836", "YT6552380417836"),                # lower-case prefix
    ("No: SF1311223344556", "SF1311223344556"),            # a "No:" label
    ("no.sf1311223344556", "SF1311223344556"),
    ("运单号：JT5012345678901", "JT5012345678901"),        # a Chinese label, full-width colon
    ("\u200bDPK202312345678\u3000", "DPK202312345678"),    # zero-width and ideographic space
    ("１２３", "123"),
])
def test_normalise_makes_what_staff_type_comparable(typed, expected):
    """Spaces, dashes, labels, full-width forms and case are all made safe."""
    assert normalise(typed) == expected


def test_normalised_numbers_validate_and_say_how_they_were_read():
    """A typed number that had to be tidied validates, and the reason says what it was read as."""
    set_lang("en")

    verdict = validate(" ｙｔ 6552-3804-17836 ", "yto", PATTERNS, NAMES)

    assert verdict.valid and verdict.number == "YT6552380417836"
    assert "Read" in verdict.reason and "YT + 13 digits" in verdict.reason


@pytest.mark.parametrize(("typed", "words"), [
    ("", "No tracking number"),
    ("   ", "No tracking number"),
    ("YT655238041783!", "characters no tracking number has: !"),
    ("YT6552380417836 张三", "characters no tracking number has"),
    ("1" * 60, "too many"),
    ("YT123", "fits none of YTO Express's number formats"),
])
def test_bad_numbers_get_a_clear_verdict(typed, words):
    """Empty, odd characters, too long, wrong format: not valid, and the reason says why."""
    set_lang("en")

    verdict = validate(typed, "yto", PATTERNS, NAMES)

    assert not verdict.valid
    assert words in verdict.reason


def test_a_number_of_another_carrier_is_named_in_the_reason():
    """An SF number checked as YTO is refused with SF suggested."""
    set_lang("en")

    verdict = validate("SF1311223344556", "yto", PATTERNS, NAMES)

    assert not verdict.valid and "SF Express" in verdict.reason


def test_reasons_read_in_chinese_by_default():
    """Without a language set, reasons are in Chinese."""
    verdict = validate("YT123", "yto", PATTERNS, NAMES)

    assert "圆通速递" in verdict.reason and "不符合" in verdict.reason


# --- UPU S10 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("serial", "digit"), [
    ("12345678", 5), ("98765432", 6), ("47312482", 9), ("00000000", 5),
])
def test_upu_s10_check_digit(serial, digit):
    """The weights 8,6,4,2,3,5,9,7; 11 - sum mod 11; 10 -> 0 and 11 -> 5."""
    assert upu_s10_digit(serial) == digit


def test_upu_s10_ten_becomes_zero():
    """A serial whose remainder is 1 gets check digit 0."""
    serial = next(f"{i:08d}" for i in range(10_000) if 11 - sum(
        int(d) * w for d, w in zip(f"{i:08d}", (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11 == 10)
    assert upu_s10_digit(serial) == 0
    assert upu_s10_check(f"EA{serial}0CN")


@pytest.mark.parametrize("number", ["EA123456785CN", "RR987654326CN", "cp 473 124 829 cn",
                                    "ＬＸ102030405ＣＮ"])
def test_upu_s10_valid(number):
    """Correct S10 numbers pass, however they were typed."""
    assert upu_s10_check(number)


@pytest.mark.parametrize("number", ["EA123456784CN", "EA123456795CN", "EA213456785CN", "EA12345678CN", "123"])
def test_upu_s10_tampered_or_malformed(number):
    """A changed digit, swapped digits or a wrong shape fails."""
    assert not upu_s10_check(number)


def test_ems_check_digit_failure_is_explained():
    """A tampered EMS number is refused with the digit it should have had."""
    set_lang("en")

    verdict = validate("EA123456784CN", "ems", PATTERNS, NAMES)

    assert not verdict.valid
    assert "check digit is wrong" in verdict.reason and "should be 5" in verdict.reason


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "code"), [
    ("YT6552380417836", "yto"), ("sf1311223344556", "sf"), ("JDVA00123456789", "jd"),
    ("JT5012345678901", "jt"), ("DPK202312345678", "deppon"), ("EA123456785CN", "ems"),
])
def test_distinctive_numbers_have_one_clear_candidate(number, code):
    """A prefixed number ranks its carrier first with a high score."""
    found = detect(number, PATTERNS, NAMES)

    assert found[0].carrier_code == code
    assert found[0].score >= 0.9
    assert len(found) == 1


def test_ambiguous_digit_runs_return_several_ranked_candidates_with_reasons():
    """A bare 12-digit run fits ZTO, STO and SF: all listed, ranked, each reason naming the others."""
    set_lang("en")

    found = detect("768123456789", PATTERNS, NAMES)

    codes = [c.carrier_code for c in found]
    assert set(codes) >= {"zto", "sto", "sf"}
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert codes[0] == "zto"
    for cand in found:
        assert cand.pattern in cand.reason
        assert "also fits" in cand.reason


def test_thirteen_digits_starting_1_are_ems_or_yunda():
    """13 digits starting 1 fit domestic EMS and older Yunda; neither is a sure thing."""
    found = detect("1202345678901", PATTERNS, NAMES)

    assert {c.carrier_code for c in found} == {"ems", "yunda"}
    assert all(c.score < 0.5 for c in found)


def test_a_failed_check_digit_ranks_far_down():
    """A tampered S10 number stays a candidate, with a low score and the reason."""
    set_lang("en")

    good = detect("EA123456785CN", PATTERNS, NAMES)[0]
    bad = detect("EA123456784CN", PATTERNS, NAMES)[0]

    assert bad.carrier_code == "ems" and bad.score < good.score / 5
    assert "check digit is wrong" in bad.reason


def test_nothing_fits_returns_no_candidate():
    """Junk gets an empty list, not a guess."""
    assert detect("12345", PATTERNS) == []
    assert detect("", PATTERNS) == []
    assert detect("YT-？？", PATTERNS) == []


def test_registry_collects_the_patterns(registry):
    """The tracking_patterns hook gives the registry every built-in pattern."""
    assert {p.carrier_code for p in registry.patterns} >= set(EXPRESS)


# --- carrier codes and special carriers -----------------------------------------------------


def test_unknown_carrier_code_is_a_clear_bad_input(registry):
    """get('ups') names the code and the known ones."""
    set_lang("en")

    with pytest.raises(BadInput) as caught:
        registry.get("ups")

    assert "ups" in caught.value.message and "yto" in caught.value.message


def test_carrier_codes_are_read_case_insensitively(registry):
    """' YTO ' finds yto."""
    assert registry.get(" YTO ").code == "yto"


def test_self_accepts_any_printable_number_and_asks_for_the_carrier(registry):
    """self: any non-empty printable number, normalised, with the carrier noted."""
    set_lang("en")
    adapter = registry.get("self")

    verdict = adapter.validate_tracking_number(" ab-123 ", carrier_name="安能物流")

    assert verdict.valid and verdict.number == "AB123" and "安能物流" in verdict.reason
    assert "Note on the order" in adapter.validate_tracking_number("AB123").reason
    assert not adapter.validate_tracking_number("  ").valid
    assert not adapter.validate_tracking_number("x" * 80).valid
    assert not adapter.validate_tracking_number("AB\x07123").valid


def test_self_hints_at_a_built_in_carrier(registry):
    """A typed SF number under self suggests choosing SF, so it can be tracked."""
    set_lang("en")

    verdict = registry.get("self").validate_tracking_number("SF1311223344556")

    assert verdict.valid and "SF Express" in verdict.reason


def test_none_expects_no_number(registry):
    """none: no number is valid; any number is refused with the reason."""
    set_lang("en")
    adapter = registry.get("none")

    assert adapter.validate_tracking_number("").valid
    refused = adapter.validate_tracking_number("YT6552380417836")
    assert not refused.valid and "needs no tracking number" in refused.reason


def test_dropship_accepts_the_suppliers_number_with_a_note(registry):
    """dropship: accepted with a note; checked against the supplier's carrier when it is known."""
    set_lang("en")
    adapter = registry.get("dropship")

    verdict = adapter.validate_tracking_number("4316985123456")
    assert verdict.valid and "check it against the carrier" in verdict.reason
    assert adapter.validate_tracking_number("4316985123456", supplier_carrier="yunda").valid
    wrong = adapter.validate_tracking_number("4316985123456", supplier_carrier="yto")
    assert not wrong.valid and "YTO Express" in wrong.reason
    assert not adapter.validate_tracking_number("").valid


@pytest.mark.parametrize("code", ["self", "none", "dropship"])
def test_special_carriers_only_validate(registry, code):
    """The special carriers declare validate and nothing else."""
    adapter = registry.get(code)

    assert adapter.capabilities == frozenset({"validate"})
    assert adapter.tracking_url("123") is None


def test_accepts_is_validates_quick_yes_on_every_example():
    """`accepts` (the quick yes confirmation uses on stored numbers) never says yes where
    `validate` says no, and says yes to every valid example in its printed form."""
    from kit.carriers.numbers import accepts

    patterns = builtin_patterns()
    for p in patterns:
        for example in (*p.valid, *p.invalid):
            printed = normalise(example)
            full = validate(printed, p.carrier_code, patterns)
            quick = accepts(printed, p.carrier_code, patterns)
            assert not quick or full.valid, (p.carrier_code, example)
            if example in p.valid:
                assert quick == full.valid, (p.carrier_code, example)
    assert not accepts("yt1234567890123", "yto", patterns)  # not in printed form: ask validate

"""Tracking numbers: normalising what staff type or paste, the UPU S10 check digit, and matching
numbers against carrier patterns to validate one carrier or rank the carriers a number may be.

All pure functions apart from reading the pattern file. Formats are community knowledge and
overlap (ZTO, STO, Yunda and EMS all issue bare 12-15 digit runs), so `detect` returns ranked
candidates with reasons and never one silent guess.

    >>> normalise(" yt 1234-5678 90123 ")
    'YT1234567890123'
    >>> upu_s10_check("EA123456785CN"), upu_s10_check("EA123456784CN")
    (True, False)
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

from kit.carriers.types import Candidate, Names, Pattern, Verdict
from kit.errors import BadInput
from kit.i18n import current_lang, t

__all__ = [
    "CHECKS",
    "MAX_LENGTH",
    "accepts",
    "builtin_patterns",
    "detect",
    "load_patterns",
    "normalise",
    "parse_patterns",
    "pattern_matches",
    "upu_s10_check",
    "upu_s10_digit",
    "validate",
]

MAX_LENGTH = 40  # longer than any carrier's number: extra text was pasted along
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
CHECKS = ("upu_s10",)
CHECK_FAILED_FACTOR = 0.1  # a pattern whose check digit fails is kept, far down the ranking
CHECK_PASSED_BONUS = 0.05

_S10 = re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}")
_ALLOWED = re.compile(r"[0-9A-Z]+")
# A label in front of the number: "No: 123", "No. 123", "运单号：123", "单号 123".
_PREFIX = re.compile(r"^(?:(?:NO|NUMBER|TRACKING\s*NO)(?:\s*[:.#]\s*|\s+)"
                     r"|(?:运单号码?|快递单号|物流单号|单号)\s*[:#]?\s*)", re.IGNORECASE)
_DASHES = "-‐‑‒–—―−"


# --- normalising -----------------------------------------------------------------------------


def normalise(number: str) -> str:
    """The number as carriers print it: half-width, no spaces, dashes or label, upper case."""
    text = unicodedata.normalize("NFKC", "" if number is None else str(number)).strip()
    text = _PREFIX.sub("", text, count=1)
    kept = [ch for ch in text
            if not ch.isspace() and ch not in _DASHES and unicodedata.category(ch) != "Cf"]
    return "".join(kept).upper()


def _odd_characters(number: str) -> str:
    """The characters of a normalised number that no tracking number has, each once."""
    odd = dict.fromkeys(ch for ch in number if not _ALLOWED.fullmatch(ch))
    return " ".join(odd)


def _join(*sentences: str) -> str:
    """Sentences of a reason joined as the active language writes them."""
    glue = "" if current_lang() == "zh" else " "
    return glue.join(s for s in sentences if s)


# --- check digits ----------------------------------------------------------------------------


def upu_s10_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number (weights 8,6,4,2,3,5,9,7)."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError(f"an S10 serial number has 8 digits, not {serial!r}")
    total = sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True))
    digit = 11 - total % 11
    return {10: 0, 11: 5}.get(digit, digit)


def upu_s10_check(number: str) -> bool:
    """Whether a number is a UPU S10 item identifier (EA123456785CN) with a correct check digit."""
    n = normalise(number)
    if not _S10.fullmatch(n):
        return False
    return upu_s10_digit(n[2:10]) == int(n[10])


def _check(pattern: Pattern, number: str) -> bool | None:
    """The pattern's check-digit rule on a number that matches its regex; None without a rule."""
    if pattern.check is None:
        return None
    if pattern.check == "upu_s10":
        return upu_s10_check(number)
    raise ValueError(f"unknown check rule {pattern.check!r}")


def _expected_digit(pattern: Pattern, number: str) -> str:
    """What the check digit should have been (for the reason), or '?'."""
    if pattern.check == "upu_s10" and _S10.fullmatch(number):
        return str(upu_s10_digit(number[2:10]))
    return "?"


def pattern_matches(pattern: Pattern, number: str) -> bool:
    """Whether a number (normalised here) fits a pattern: its regex and its check digit, if any."""
    n = normalise(number)
    return bool(re.fullmatch(pattern.regex, n)) and _check(pattern, n) is not False


# --- the pattern file ------------------------------------------------------------------------


def parse_patterns(text: str, source: str = "patterns.toml") -> list[Pattern]:
    """Patterns from TOML text ([[pattern]] tables); BadInput naming the first bad entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput("carrier_numbers.bad_pattern", source=source, pattern="-", problem=str(exc)) from None
    out = []
    for i, entry in enumerate(data.get("pattern", []), 1):
        label = f"#{i} {entry.get('carrier', '?')} {entry.get('name', '')}".strip()
        problem = _entry_problem(entry)
        if problem:
            raise BadInput("carrier_numbers.bad_pattern", source=source, pattern=label, problem=problem)
        out.append(Pattern(carrier_code=entry["carrier"], name=entry["name"], regex=entry["regex"],
                           valid=tuple(entry["valid"]), invalid=tuple(entry["invalid"]),
                           weight=float(entry["weight"]), check=entry.get("check")))
    return out


def _entry_problem(entry: Mapping[str, object]) -> str | None:
    """What is wrong with one [[pattern]] table, in a few words, or None."""
    for key in ("carrier", "name", "regex", "weight", "valid", "invalid"):
        if key not in entry:
            return f"missing key {key}"
    try:
        re.compile(str(entry["regex"]))
    except re.error as exc:
        return f"regex does not compile: {exc}"
    weight = entry["weight"]
    if not isinstance(weight, int | float) or not 0 < weight <= 1:
        return "weight must be a number in (0, 1]"
    if entry.get("check") not in (None, *CHECKS):
        return f"check must be one of {', '.join(CHECKS)}"
    for key in ("valid", "invalid"):
        examples = entry[key]
        if not isinstance(examples, list) or len(examples) < 3:
            return f"{key} needs 3 or more examples"
    return None


def load_patterns(path: str | None = None) -> list[Pattern]:
    """Patterns from a TOML file; without a path, the kit's own kit/carriers/data/patterns.toml."""
    if path is None:
        return list(builtin_patterns())
    with open(path, encoding="utf-8") as fh:
        return parse_patterns(fh.read(), source=path)


@cache
def builtin_patterns() -> tuple[Pattern, ...]:
    """The built-in carriers' patterns, read once from the package data."""
    text = resources.files("kit.carriers").joinpath("data/patterns.toml").read_text("utf-8")
    return tuple(parse_patterns(text, source="kit/carriers/data/patterns.toml"))


# --- detecting and validating ----------------------------------------------------------------


def _display(code: str, names: Mapping[str, Names] | None) -> str:
    """A carrier's name in the active language, else its code in capitals."""
    if names and code in names:
        return names[code].zh if current_lang() == "zh" else names[code].en
    return code.upper()


def detect(number: str, patterns: Iterable[Pattern],
           names: Mapping[str, Names] | None = None) -> list[Candidate]:
    """The carriers a number may belong to, best first, one per carrier, each with its reason."""
    n = normalise(number)
    if not n or len(n) > MAX_LENGTH or not _ALLOWED.fullmatch(n):
        return []
    best: dict[str, Candidate] = {}
    for pattern in patterns:
        if not re.fullmatch(pattern.regex, n):
            continue
        carrier = _display(pattern.carrier_code, names)
        passed = _check(pattern, n)
        if passed is False:
            score = pattern.weight * CHECK_FAILED_FACTOR
            reason = t("carrier_numbers.candidate_check_failed", carrier=carrier, pattern=pattern.name,
                       expected=_expected_digit(pattern, n))
        elif passed:
            score = min(1.0, pattern.weight + CHECK_PASSED_BONUS)
            reason = t("carrier_numbers.candidate_check_ok", carrier=carrier, pattern=pattern.name)
        else:
            score = pattern.weight
            reason = t("carrier_numbers.candidate", carrier=carrier, pattern=pattern.name)
        current = best.get(pattern.carrier_code)
        if current is None or score > current.score:
            best[pattern.carrier_code] = Candidate(pattern.carrier_code, round(score, 3), pattern.name,
                                                   reason)
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.carrier_code))
    if len(ranked) < 2:
        return ranked
    out = []
    for cand in ranked:
        others = ", ".join(_display(o.carrier_code, names) for o in ranked if o is not cand)
        also = t("carrier_numbers.also_fits", others=others)
        out.append(Candidate(cand.carrier_code, cand.score, cand.pattern, _join(cand.reason, also)))
    return out


def _first_problem(n: str, code: str) -> Verdict | None:
    """A verdict for a number that is empty, too long or has odd characters; else None."""
    if not n:
        return Verdict(False, code, n, t("carrier_numbers.empty"))
    if len(n) > MAX_LENGTH:
        return Verdict(False, code, n, t("carrier_numbers.too_long", number=n[:MAX_LENGTH] + "…",
                                          length=len(n), limit=MAX_LENGTH))
    if not _ALLOWED.fullmatch(n):
        return Verdict(False, code, n, t("carrier_numbers.bad_chars", number=n, chars=_odd_characters(n)))
    return None


@cache
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def accepts(number: str, carrier_code: str, patterns: Iterable[Pattern]) -> bool:
    """Whether a number already in the carriers' printed form (upper-case letters and digits,
    as stored after a hand-over) fits one of the carrier's patterns and its check digit: the
    quick yes of `validate`, without building the reason. False means "ask `validate` why"."""
    if not number or len(number) > MAX_LENGTH or not _ALLOWED.fullmatch(number):
        return False
    return any(p.carrier_code == carrier_code and _compiled(p.regex).fullmatch(number)
               and _check(p, number) is not False for p in patterns)


def validate(number: str, carrier_code: str, patterns: Iterable[Pattern],
             names: Mapping[str, Names] | None = None) -> Verdict:
    """Whether a number fits a carrier's patterns, as normalised, with the reason in words."""
    raw = str(number)
    n = normalise(raw)
    code = carrier_code.strip().lower()
    problem = _first_problem(n, code)
    if problem is not None:
        return problem
    every = list(patterns)
    own = [p for p in every if p.carrier_code == code]
    carrier = _display(code, names)
    read_as = t("carrier_numbers.normalised", raw=raw.strip(), number=n) if raw.strip() != n else ""
    if not own:
        return Verdict(False, code, n, t("carrier_numbers.no_formats", carrier=carrier, number=n))
    matching = [p for p in own if re.fullmatch(p.regex, n)]
    passing = [p for p in matching if _check(p, n) is not False]
    if passing:
        best = max(passing, key=lambda p: p.weight)
        key = "carrier_numbers.check_ok" if best.check else "carrier_numbers.valid"
        return Verdict(True, code, n, _join(read_as, t(key, number=n, carrier=carrier, pattern=best.name)))
    if matching:
        p = matching[0]
        reason = t("carrier_numbers.check_failed", number=n, carrier=carrier, pattern=p.name,
                   expected=_expected_digit(p, n), actual=n[10] if p.check == "upu_s10" else "?")
        return Verdict(False, code, n, _join(read_as, reason))
    formats = "; ".join(p.name for p in own)
    reason = t("carrier_numbers.no_match", number=n, length=len(n), carrier=carrier, formats=formats)
    others = [c for c in detect(n, every, names) if c.carrier_code != code]
    if others:
        listed = ", ".join(f"{_display(c.carrier_code, names)} ({c.pattern})" for c in others[:3])
        reason = _join(reason, t("carrier_numbers.looks_like", candidates=listed))
    return Verdict(False, code, n, _join(read_as, reason))

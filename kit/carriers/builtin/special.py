"""The three special ways to ship (S26b): `self` (自己联系物流, any carrier, number typed in),
`none` (无需物流, virtual goods, no number) and `dropship` (一件代发, the supplier's number).

None of them can be checked against a carrier's formats the way the express carriers can, so
they accept what is typed (normalised, printable, not absurdly long) and say what staff
should still check; a number that plainly fits a built-in carrier gets a hint to choose it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kit.carriers.builtin.express import NAMES
from kit.carriers.hookspecs import hookimpl
from kit.carriers.numbers import MAX_LENGTH, builtin_patterns, detect, normalise, validate
from kit.carriers.types import Names, Verdict
from kit.i18n import current_lang, t

HINT_SCORE = 0.8  # only a distinctive format (a prefix such as SF, YT, JD) earns a hint


def _free_form(code: str, number: str) -> tuple[str, Verdict | None]:
    """A typed number normalised, and a refusing verdict when it is empty, too long or unprintable."""
    n = normalise(number)
    if not n:
        return n, Verdict(False, code, n, t("carrier_numbers.empty"))
    if len(n) > MAX_LENGTH:
        return n, Verdict(False, code, n, t("carrier_numbers.too_long", number=n[:MAX_LENGTH] + "…",
                                             length=len(n), limit=MAX_LENGTH))
    if not n.isprintable():
        odd = " ".join(dict.fromkeys(repr(ch) for ch in n if not ch.isprintable()))
        return n, Verdict(False, code, n, t("carrier_numbers.bad_chars", number=n, chars=odd))
    return n, None


def _hint(number: str) -> str:
    """A sentence naming the built-in carrier a number clearly belongs to, or ''."""
    likely = [c for c in detect(number, builtin_patterns(), NAMES) if c.score >= HINT_SCORE]
    if not likely:
        return ""
    names = ", ".join(_name(c.carrier_code) for c in likely)
    return t("carrier_numbers.self_hint", candidates=names)


def _name(code: str) -> str:
    """A built-in carrier's name in the active language."""
    return NAMES[code].zh if current_lang() == "zh" else NAMES[code].en


def _join(*sentences: str) -> str:
    """Sentences joined as the active language writes them."""
    return ("" if current_lang() == "zh" else " ").join(s for s in sentences if s)


class SpecialCarrier:
    """Common ground of the special carriers: a code, names, only the validate capability."""

    code = ""
    name = Names("", "")
    capabilities = frozenset({"validate"})

    def tracking_url(self, number: str) -> None:
        """No public query page is known for this way of shipping."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r})"


class SelfArranged(SpecialCarrier):
    """自己联系物流: the shop used a carrier of its own choice and types in its number."""

    code = "self"
    name = Names("自己联系物流", "Self-arranged carrier")

    def validate_tracking_number(self, number: str, carrier_name: str | None = None) -> Verdict:
        """Accept any non-empty printable number, asking that the carrier be noted on the order."""
        n, refused = _free_form(self.code, number)
        if refused is not None:
            return refused
        carrier = (carrier_name or "").strip()
        if carrier:
            reason = t("carrier_numbers.self_ok", number=n, carrier=carrier)
        else:
            reason = t("carrier_numbers.self_no_name", number=n)
        return Verdict(True, self.code, n, _join(reason, _hint(n)))


class NoLogistics(SpecialCarrier):
    """无需物流: virtual goods, nothing is shipped and no tracking number is expected."""

    code = "none"
    name = Names("无需物流", "No logistics (virtual goods)")

    def validate_tracking_number(self, number: str | None = None) -> Verdict:
        """Valid only without a number; a number given is refused with the reason."""
        n = normalise(number or "")
        if not n:
            return Verdict(True, self.code, "", t("carrier_numbers.none_ok"))
        return Verdict(False, self.code, n, t("carrier_numbers.none_unexpected", number=n))


class Dropship(SpecialCarrier):
    """一件代发: the supplier ships and sends back its carrier's tracking number."""

    code = "dropship"
    name = Names("一件代发", "Drop-ship (supplier's number)")

    def validate_tracking_number(self, number: str, supplier_carrier: str | None = None) -> Verdict:
        """Accept the supplier's number with a note to check it; against its carrier when known."""
        n, refused = _free_form(self.code, number)
        if refused is not None:
            return refused
        code = (supplier_carrier or "").strip().lower()
        if code in NAMES:
            verdict = validate(n, code, builtin_patterns(), NAMES)
            return Verdict(verdict.valid, self.code, verdict.number,
                           _join(t("carrier_numbers.dropship_ok", number=n), verdict.reason))
        return Verdict(True, self.code, n, _join(t("carrier_numbers.dropship_ok", number=n), _hint(n)))


@hookimpl
def register_carriers(register: Callable[[Any], None]) -> None:
    """Register self, none and dropship."""
    for adapter in (SelfArranged(), NoLogistics(), Dropship()):
        register(adapter)

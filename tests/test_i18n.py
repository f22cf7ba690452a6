"""One message catalogue: zh and en have the same keys and placeholders, every key the
code uses exists, and every state has a label."""

from __future__ import annotations

import re
import string
from enum import StrEnum
from pathlib import Path

import pytest

import kit.models.states as states
from kit.i18n import LANGUAGES, catalogue, set_lang, t

KIT = Path(__file__).parent.parent / "kit"


def placeholders(template: str) -> set[str]:
    """The {names} a message template fills."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_languages_have_the_same_keys_and_placeholders():
    """Every zh message has an en twin with the same placeholders."""
    zh, en = catalogue("zh"), catalogue("en")

    assert sorted(set(zh) ^ set(en)) == []
    assert [k for k in zh if placeholders(zh[k]) != placeholders(en[k])] == []


def keys_used_in_code() -> set[str]:
    """Catalogue keys written literally in kit/ (t("..."), errors, labels)."""
    callers = r"\bt\(|Error\(|Refused\(|Input\(|Denied\(|Failed\(|Conflict\(|Transition\(|NotFound\(|return "
    pattern = re.compile(rf"""(?:{callers})\s*f?["']([a-z_]+\.[a-z_{{}}]+)["']""")
    found = set()
    for path in KIT.rglob("*.py"):
        found |= set(pattern.findall(path.read_text("utf-8")))
    return {k for k in found if "{" not in k}


def test_every_key_used_in_code_exists():
    """No message key in the code is missing from the catalogue."""
    used = keys_used_in_code()

    assert len(used) > 20
    assert sorted(used - set(catalogue("zh"))) == []


@pytest.mark.parametrize("enum", [v for v in vars(states).values()
                                  if isinstance(v, type) and issubclass(v, StrEnum)
                                  and v.__module__ == states.__name__ and len(v)])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_state_and_kind_has_a_label(enum, lang):
    """Each enum member reads in both languages."""
    set_lang(lang)

    labels = [member.label for member in enum]

    assert all(labels) and len(set(labels)) == len(labels)


def test_language_comes_from_kit_lang(monkeypatch):
    """KIT_LANG picks the language; unknown values fall back to Chinese."""
    monkeypatch.setenv("KIT_LANG", "en_US.UTF-8")
    assert t("stage.held") == "Held"
    monkeypatch.setenv("KIT_LANG", "fr")
    assert t("stage.held") == "挂起"

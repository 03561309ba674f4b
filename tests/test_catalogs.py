"""Every user-facing message has its translation, the translations keep the placeholders, the
catalogs are in sync with the code, and the language is chosen per task, never per process."""

from __future__ import annotations

import asyncio
import gettext as gnu_gettext
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords
from babel.messages.pofile import read_po

from conversations.i18n import (
    LOCALES,
    CatalogMissing,
    current_locale,
    default_locale,
    gettext,
    translations,
    use_locale,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = tuple(ROOT / name for name in ("bot", "channels", "conversations"))
LOCALE_DIR = ROOT / "locales"
# The keywords of `pybabel extract` in the README.
KEYWORDS = parse_keywords(["_", "gettext", "ngettext:1,2", "pgettext:1c,2", "N_"])
COMPLETE = ("id", "en")  # every message translated; su may fall back to id


@dataclass(frozen=True, slots=True, order=True)
class MessageId:
    context: str | None
    id: str | tuple[str, ...]

    def __str__(self) -> str:
        text = " | ".join(self.id) if isinstance(self.id, tuple) else self.id
        return f"[{self.context}] {text!r}" if self.context else repr(text)


@cache
def extracted() -> frozenset[MessageId]:
    """The messages the code asks to translate, found as `pybabel extract` finds them."""
    found = set()
    for package in PACKAGES:
        for _filename, _lineno, message, _comments, context in extract_from_dir(
            package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(MessageId(context, message))
    return frozenset(found)


@cache
def catalog(name: str) -> Catalog:
    path = LOCALE_DIR / "taros.pot" if name == "pot" else po_path(name)
    with path.open("rb") as handle:
        return read_po(handle, locale=None if name == "pot" else name)


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "taros.po"


def entries(name: str) -> dict[MessageId, Message]:
    return {MessageId(m.context, m.id): m for m in catalog(name) if m.id}


def forms(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def is_translated(message: Message, num_plurals: int) -> bool:
    filled = forms(message)
    if message.pluralizable and len(filled) != num_plurals:
        return False
    return not message.fuzzy and all(filled)


def placeholders(text: str) -> list[str]:
    """``%(name)s``, ``%(n)d``, ``%s``: what ``text % values`` needs, in order."""
    return [
        f"%({name}){kind}" if name else f"%{kind}"
        for name, _flags, kind in PYTHON_FORMAT.findall(text)
        if kind != "%"
    ]


def named(text: str) -> list[str]:
    return [p for p in placeholders(text) if p.startswith("%(")]


# --- completeness ---------------------------------------------------------------------------


def test_the_code_has_messages_to_translate() -> None:
    assert len(extracted()) > 50
    assert any(m.context for m in extracted()), "pgettext messages are extracted with context"
    assert any(isinstance(m.id, tuple) for m in extracted()), "ngettext messages are plural"


@pytest.mark.parametrize("locale", COMPLETE)
def test_every_message_has_a_translation(locale: str) -> None:
    translated = entries(locale)
    plurals = catalog(locale).num_plurals
    missing = sorted(
        str(m)
        for m in extracted()
        if m not in translated or not is_translated(translated[m], plurals)
    )
    assert not missing, f"{len(missing)} message(s) without a {locale} translation:\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_their_message(locale: str) -> None:
    wrong: list[str] = []
    for key, message in entries(locale).items():
        originals = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = [placeholders(o) for o in originals]
        formatted = message.python_format or "python-format" in message.flags
        for text in forms(message):
            if not text:
                continue  # untranslated (su only; the completeness test covers id and en)
            if formatted and placeholders(text) not in expected:
                wrong.append(f"{key}: {text!r} has {placeholders(text)}, wants {expected[0]}")
            elif not formatted and named(text):
                wrong.append(f"{key}: {text!r} has {named(text)} but is never formatted")
    assert not wrong, f"{locale} placeholders differ from the source:\n" + "\n".join(wrong)


# --- in sync with the code ------------------------------------------------------------------


def test_the_template_lists_exactly_the_messages_of_the_code() -> None:
    template = set(entries("pot"))
    code = set(extracted())
    assert template == code, (
        "locales/taros.pot is stale; run `pybabel extract` (see README).\n"
        f"in the code only: {sorted(map(str, code - template))}\n"
        f"in the template only: {sorted(map(str, template - code))}"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_each_catalog_lists_exactly_the_messages_of_the_template(locale: str) -> None:
    template = set(entries("pot"))
    catalog_ids = set(entries(locale))
    assert catalog_ids == template, (
        f"{po_path(locale)} is out of date; run `pybabel update` (see README).\n"
        f"missing: {sorted(map(str, template - catalog_ids))}\n"
        f"extra: {sorted(map(str, catalog_ids - template))}"
    )


# --- loading and choosing a language --------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_each_shipped_catalog_loads_and_answers_with_its_translations(locale: str) -> None:
    loaded = translations(locale)
    fallback = entries("id")
    checked = 0
    for key, message in entries(locale).items():
        if message.pluralizable or message.fuzzy:
            continue
        # Sundanese shows Indonesian for what it does not translate, never English.
        expected = message.string or fallback[key].string
        if key.context:
            assert loaded.pgettext(key.context, str(key.id)) == expected, key
        else:
            assert loaded.gettext(str(key.id)) == expected, key
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_messages_follow_the_language_rules(locale: str) -> None:
    loaded = translations(locale)
    rule = gnu_gettext.c2py(catalog(locale).plural_expr)
    checked = 0
    for key, message in entries(locale).items():
        if not message.pluralizable or not all(forms(message)):
            continue
        for n in (0, 1, 2, 5, 21):
            assert loaded.ngettext(*message.id, n) == forms(message)[rule(n)], (key, n)
        checked += 1
    assert checked > 0


def test_an_untranslated_sundanese_plural_falls_back_to_indonesian() -> None:
    untranslated = [
        message.id
        for message in entries("su").values()
        if message.pluralizable and not all(forms(message))
    ]
    if not untranslated:
        pytest.skip("every Sundanese plural message is translated")
    for singular, plural in untranslated:
        for n in (1, 3):
            assert translations("su").ngettext(singular, plural, n) == translations("id").ngettext(
                singular, plural, n
            )


@pytest.mark.parametrize("unknown", ["fr", "", "ID", "../id", "xx_YY"])
def test_an_unknown_locale_fails_fast(unknown: str) -> None:
    with pytest.raises(CatalogMissing):
        translations(unknown)


def distinct_message() -> tuple[str, str, str]:
    """A message whose Indonesian and English texts differ: (msgid, id text, en text)."""
    indonesian = entries("id")
    for key, message in entries("en").items():
        if key.context or message.pluralizable:
            continue
        other = indonesian[key].string
        if message.string and other and message.string != other:
            return str(key.id), str(other), str(message.string)
    raise AssertionError("no message reads differently in id and en")


async def test_each_task_speaks_its_own_language() -> None:
    msgid, in_indonesian, in_english = distinct_message()
    both_chosen = asyncio.Barrier(2)

    async def speak(locale: str) -> list[str]:
        heard = []
        with use_locale(locale):
            await both_chosen.wait()  # the other task has now chosen its language too
            for _ in range(3):
                heard.append(gettext(msgid))
                await asyncio.sleep(0)
        return heard

    outside = current_locale()
    english, indonesian = await asyncio.gather(speak("en"), speak("id"))

    assert english == [in_english] * 3
    assert indonesian == [in_indonesian] * 3
    assert current_locale() == outside == default_locale()


def test_use_locale_restores_the_previous_language_and_ignores_unknown_ones() -> None:
    msgid, in_indonesian, in_english = distinct_message()
    with use_locale("en") as chosen:
        assert chosen == "en"
        assert gettext(msgid) == in_english
        with use_locale("klingon") as fallback:
            assert fallback == default_locale()
        assert current_locale() == "en"
    with use_locale("id"):
        assert gettext(msgid) == in_indonesian

"""Languages: gettext catalogs per user, chosen through a ContextVar.

Source strings are English in the code. The catalogs in ``locales/<lang>/LC_MESSAGES/
taros.po`` are read directly with Babel at first use (no compile step that can go stale);
they are kept with ``pybabel extract/update`` (see README). Every message handled sets the
user's locale with :func:`use_locale`; nothing is process-wide.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "taros"
DEFAULT_LOCALE = "id"
LOCALES = ("id", "en", "su")

_current: ContextVar[str | None] = ContextVar("taros_locale", default=None)
# The language of a user who has not chosen one (TAROS_LOCALE): configuration, set by the
# application when it opens, inherited by every task it starts afterwards.
_default: ContextVar[str] = ContextVar("taros_default_locale", default=DEFAULT_LOCALE)


class CatalogMissing(RuntimeError):
    """A locale was asked for whose catalog is not shipped: a packaging error, fail fast."""


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``locale``; Sundanese falls back to Indonesian for any message
    it does not translate (English never shows to a Sundanese speaker)."""
    if locale not in LOCALES:
        raise CatalogMissing(f"no catalog for locale {locale!r}")
    po = resources.files("locales") / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        raise CatalogMissing(f"catalog {po} is missing")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    for message in list(catalog):
        if message.id and not _translated(message.string):
            del catalog[message.id]  # untranslated: let the fallback answer, not the msgid
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    result = Translations(fp=buffer, domain=DOMAIN)
    if locale == "su":
        result.add_fallback(translations("id"))
    return result


def _translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def current_locale() -> str:
    return _current.get() or _default.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Speak ``locale`` (or the default) inside the block."""
    chosen = locale if locale in LOCALES else _default.get()
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)



def set_default_locale(locale: str) -> None:
    """The language used when a user has not chosen one (``TAROS_LOCALE``)."""
    translations(locale)  # fail fast when its catalog is missing
    _default.set(locale)


def default_locale() -> str:
    return _default.get()


def gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(current_locale()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


_ = gettext

"""Dates and numbers in the user's language and the configured time zone, through Babel."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_decimal

from conversations.i18n import current_locale

# Babel's Sundanese data lacks zone names; Indonesian ones are what a Sundanese reader knows.
_ZONE_LOCALE = {"su": "id"}


@lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    """Babel's data for ``code``, parsed once (Babel parses a code given as text each time)."""
    return Locale.parse(code)


def _zone_locale(code: str) -> Locale:
    return _locale(_ZONE_LOCALE.get(code, code))


def format_moment(moment: datetime, tz: ZoneInfo, locale: str | None = None) -> str:
    """``Sabtu, 28 November 2026 21.05 WIB`` in the user's language."""
    code = locale or current_locale()
    lang = _locale(code)
    local = moment.astimezone(tz)
    zone = get_timezone_name(local, "short", locale=_zone_locale(code))
    day = format_date(local, "full", locale=lang)
    return f"{day} {format_time(local, 'short', locale=lang)} {zone}"


def format_day(moment: datetime, tz: ZoneInfo, locale: str | None = None) -> str:
    return format_date(moment.astimezone(tz), "full", locale=_locale(locale or current_locale()))


def format_number(value: float, locale: str | None = None) -> str:
    return format_decimal(value, locale=_locale(locale or current_locale()))


def format_span(
    start: datetime, end: datetime | None, tz: ZoneInfo, locale: str | None = None
) -> str:
    """``Jumat, 27 November 2026 05.00–10.00 WIB`` for a span within a day; a moment when the
    end is unknown or on another day."""
    code = locale or current_locale()
    lang = _locale(code)
    first, last = start.astimezone(tz), end.astimezone(tz) if end is not None else None
    if last is None or last.date() != first.date() or last <= first:
        return format_moment(start, tz, code)
    zone = get_timezone_name(first, "short", locale=_zone_locale(code))
    day = format_date(first, "full", locale=lang)
    since = format_time(first, "short", locale=lang)
    until = format_time(last, "short", locale=lang)
    return f"{day} {since}–{until} {zone}"

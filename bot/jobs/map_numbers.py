"""The numbers behind the map: reports per kecamatan in a period, and the urgent and overdue
reports by place, as they stood at the period's end; and the map's words in the reader's
language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
from babel.dates import format_interval

from bot.clock import to_db
from bot.jobs.map_drawing import MapData, MapWords, Mark, MarkKind, render_map
from bot.storage.database import Database
from conversations.i18n import _, ngettext, use_locale
from conversations.understanding.places import Gazetteer

OPEN_AT_END = "created_at < :end AND (closed_at IS NULL OR closed_at >= :end)"
OVERDUE_AT_END = (
    f"{OPEN_AT_END} AND due_at < :end AND (first_response_at IS NULL OR first_response_at >= :end)"
)
_INTERVAL_LOCALE = {"su": "id"}  # Babel's Sundanese date intervals read oddly


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first`` to ``last`` (inclusive); ``end`` may cut the last day short."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def days_to(cls, end: datetime, days: int, tz: ZoneInfo) -> Period:
        """The ``days`` local days ending with ``end``'s day, that day counted up to ``end``."""
        last = end.astimezone(tz).date()
        first = last - timedelta(days=days - 1)
        return cls(first, last, datetime.combine(first, time(0), tzinfo=tz), end)

    @classmethod
    def whole_days(cls, first: date, last: date, tz: ZoneInfo) -> Period:
        """Local days ``first`` to ``last``, whole."""
        return cls(
            first,
            last,
            datetime.combine(first, time(0), tzinfo=tz),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz),
        )

    @property
    def span(self) -> dict[str, str]:
        return {"start": to_db(self.start), "end": to_db(self.end)}

    def label(self, locale: str) -> str:
        """``21–27 Nov 2026`` in ``locale``."""
        lang = _INTERVAL_LOCALE.get(locale, locale)
        return format_interval(self.first, self.last, "yMMMd", locale=lang)


@dataclass(frozen=True, slots=True)
class MapNumbers:
    counts: tuple[tuple[str, int], ...]  # kecamatan code -> reports created in the period
    marks: tuple[Mark, ...]

    @property
    def total(self) -> int:
        return sum(n for _code, n in self.counts)

    def marked(self, kind: MarkKind) -> int:
        return sum(m.count for m in self.marks if m.kind is kind)


async def collect_map(conn: aiosqlite.Connection, period: Period) -> MapNumbers:
    span = period.span
    async with conn.execute(
        "SELECT kecamatan_code, COUNT(*) FROM tickets WHERE created_at >= :start"
        " AND created_at < :end AND kecamatan_code IS NOT NULL GROUP BY kecamatan_code"
        " ORDER BY kecamatan_code",
        span,
    ) as cursor:
        counts = tuple((str(r[0]), int(r[1])) for r in await cursor.fetchall())
    place = "COALESCE(desa_code, kecamatan_code)"
    urgent = f"urgent = 1 AND ((created_at >= :start AND created_at < :end) OR ({OPEN_AT_END}))"
    marks: list[Mark] = []
    for kind, where in ((MarkKind.URGENT, urgent), (MarkKind.OVERDUE, OVERDUE_AT_END)):
        async with conn.execute(
            f"SELECT {place}, COUNT(*) FROM tickets WHERE {place} IS NOT NULL AND ({where})"
            f" GROUP BY {place} ORDER BY {place}",
            span,
        ) as cursor:
            marks += [Mark(str(r[0]), kind, int(r[1])) for r in await cursor.fetchall()]
    return MapNumbers(counts, tuple(marks))


def map_words(period: Period, locale: str) -> MapWords:
    with use_locale(locale):
        return MapWords(
            title=_("Reports per kecamatan, %(period)s") % {"period": period.label(locale)},
            reports=_("Reports"),
            urgent=_("Urgent"),
            overdue=_("Overdue (no response)"),
            polsek=_("Polsek"),
            empty=_("No reports in this period"),
        )


def map_caption(numbers: MapNumbers, period: Period, locale: str) -> str:
    """``Peta laporan 21–27 Nov 2026: 12 laporan · 1 mendesak · 2 terlambat``."""
    with use_locale(locale):
        head = _("Map of reports, %(period)s") % {"period": period.label(locale)}
        parts = [
            ngettext("%(n)d report", "%(n)d reports", numbers.total) % {"n": numbers.total},
            _("%(n)d urgent") % {"n": numbers.marked(MarkKind.URGENT)},
            _("%(n)d overdue") % {"n": numbers.marked(MarkKind.OVERDUE)},
        ]
        return f"{head}: {' · '.join(parts)}"


@dataclass(frozen=True, slots=True)
class DrawnPeriod:
    """A map written to a file, with its caption."""

    path: Path
    caption: str
    numbers: MapNumbers


async def period_map(
    db: Database,
    gazetteer: Gazetteer,
    period: Period,
    locale: str,
    folder: Path,
    stem: str,
) -> DrawnPeriod:
    """Read the period's numbers and draw its map into ``folder`` (in a worker thread)."""
    numbers = await db.read(lambda conn: collect_map(conn, period))
    data = MapData(numbers.counts, numbers.marks, map_words(period, locale))
    path = await render_map(data, gazetteer, folder, stem)
    return DrawnPeriod(path, map_caption(numbers, period, locale), numbers)

"""The Kapolres' digest: one glance at the last 24 hours, plus a chart and a map of the last
7 days.

:class:`Digest` reads the numbers (:func:`collect`), writes the text in the reader's language
and draws the chart and the map; it is the ``DigestSource`` of ``/digest`` and ``/peta`` and
what ``taros digest`` prints or sends. :class:`DigestScheduler` sends it to every Kapolres at
each ``TAROS_DIGEST_AT`` time, once per slot (:mod:`bot.jobs.slots`). The reporter never
appears: only ticket numbers and counts.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
from babel.dates import format_date, format_timedelta
from babel.numbers import format_decimal, format_percent

from bot.clock import Clock, from_db, to_db
from bot.jobs.digest_chart import ChartData, Series, render_chart
from bot.jobs.drawing import save_file
from bot.jobs.hotspots import Hotspot, find_hotspots, hotspot_lines
from bot.jobs.map_drawing import stacked
from bot.jobs.map_numbers import OPEN_AT_END, OVERDUE_AT_END, DrawnPeriod, Period, period_map
from bot.jobs.slots import Mailer, Reporting, SlotScheduler
from bot.storage.corrections import CorrectionStats, correction_stats
from conversations.categories import Categories
from conversations.formatting import format_day, format_moment
from conversations.i18n import _, ngettext, use_locale
from conversations.messages import ChatKey, Media, Outbound, Purpose, Template
from conversations.understanding.places import Gazetteer

log = logging.getLogger(__name__)

PERIOD = timedelta(hours=24)
LEARNING_PERIOD = timedelta(days=30)
"""The officers' corrections the digest reports on."""
CHART_DAYS = 7
TOP_PLACES = 5
MAX_NUMBERS = 15  # ticket numbers listed before "+N more"
_DURATION_LOCALE = {"su": "id"}  # Babel's Sundanese units are bare abbreviations


@dataclass(frozen=True, slots=True)
class DigestStats:
    """The numbers of one digest: the period ``[start, end)`` and the 7 days ending with the
    day of ``end`` (local time)."""

    start: datetime
    end: datetime
    new: int
    open: int
    closed: int
    by_category: tuple[tuple[str, int], ...]
    top_kecamatan: tuple[tuple[str, int], ...]
    overdue: tuple[str, ...]
    urgent: tuple[str, ...]
    median_first_response: timedelta | None
    responses: int
    days: tuple[date, ...]
    daily: tuple[tuple[str, tuple[int, ...]], ...]  # category -> count per day
    hotspots: tuple[Hotspot, ...] = ()
    corrections: CorrectionStats | None = None  # over the 30 days ending at ``end``


async def collect(conn: aiosqlite.Connection, end: datetime, tz: ZoneInfo) -> DigestStats:
    """The digest's numbers for the 24 hours ending at ``end``, as they stood at ``end``."""
    start = end - PERIOD
    span = {"start": to_db(start), "end": to_db(end)}
    in_period = "created_at >= :start AND created_at < :end"
    counts = await _rows(
        conn,
        f"SELECT COALESCE(SUM({in_period}), 0), COALESCE(SUM({OPEN_AT_END}), 0),"
        " COALESCE(SUM(closed_at >= :start AND closed_at < :end), 0) FROM tickets",
        span,
    )
    by_category = await _rows(
        conn,
        f"SELECT category, COUNT(*) FROM tickets WHERE {in_period}"
        " GROUP BY category ORDER BY COUNT(*) DESC, category",
        span,
    )
    places = await _rows(
        conn,
        f"SELECT kecamatan_code, COUNT(*) FROM tickets WHERE {in_period}"
        " AND kecamatan_code IS NOT NULL GROUP BY kecamatan_code"
        " ORDER BY COUNT(*) DESC, kecamatan_code LIMIT :top",
        {**span, "top": TOP_PLACES},
    )
    overdue = await _rows(
        conn,
        f"SELECT number FROM tickets WHERE {OVERDUE_AT_END} ORDER BY due_at, id",
        span,
    )
    urgent = await _rows(
        conn,
        f"SELECT number FROM tickets WHERE urgent = 1 AND (({in_period}) OR ({OPEN_AT_END}))"
        " ORDER BY id",
        span,
    )
    responses = await _rows(
        conn,
        "SELECT created_at, first_response_at FROM tickets"
        " WHERE first_response_at >= :start AND first_response_at < :end",
        span,
    )
    days, daily = await _daily(conn, end, tz)
    waits = [(from_db(r[1]) - from_db(r[0])).total_seconds() for r in responses]
    return DigestStats(
        start=start,
        end=end,
        new=counts[0][0],
        open=counts[0][1],
        closed=counts[0][2],
        by_category=tuple((r[0], r[1]) for r in by_category),
        top_kecamatan=tuple((r[0], r[1]) for r in places),
        overdue=tuple(r[0] for r in overdue),
        urgent=tuple(r[0] for r in urgent),
        median_first_response=timedelta(seconds=statistics.median(waits)) if waits else None,
        responses=len(waits),
        days=days,
        daily=daily,
        hotspots=await find_hotspots(conn, end),
        corrections=await correction_stats(conn, end - LEARNING_PERIOD, end),
    )


async def _daily(
    conn: aiosqlite.Connection, end: datetime, tz: ZoneInfo
) -> tuple[tuple[date, ...], tuple[tuple[str, tuple[int, ...]], ...]]:
    """Tickets created per local day and category, over the 7 days ending with ``end``'s day
    (that day counted up to ``end``)."""
    last = end.astimezone(tz).date()
    days = tuple(last - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1))
    first = datetime.combine(days[0], time(0), tzinfo=tz)
    rows = await _rows(
        conn,
        "SELECT created_at, category FROM tickets WHERE created_at >= :first AND created_at < :end",
        {"first": to_db(first), "end": to_db(end)},
    )
    index = {day: i for i, day in enumerate(days)}
    per: dict[str, list[int]] = {}
    for created, category in rows:
        slot = index.get(from_db(created).astimezone(tz).date())
        if slot is not None:
            per.setdefault(category, [0] * len(days))[slot] += 1
    return days, tuple((code, tuple(counts)) for code, counts in sorted(per.items()))


async def _rows(
    conn: aiosqlite.Connection, sql: str, params: Mapping[str, object]
) -> list[aiosqlite.Row]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


# --- text ------------------------------------------------------------------------------------


def duration(value: timedelta, locale: str) -> str:
    """``2 jam 30 menit``: the two largest units, through Babel."""
    lang = _DURATION_LOCALE.get(locale, locale)
    seconds = max(0, round(value.total_seconds()))
    if seconds < 60:
        return format_timedelta(timedelta(seconds=seconds), threshold=1, locale=lang)
    units = (("day", 86400), ("hour", 3600), ("minute", 60))
    parts: list[str] = []
    for _name, size in units:
        amount, seconds = divmod(seconds, size)
        if amount and len(parts) < 2:
            parts.append(
                format_timedelta(timedelta(seconds=amount * size), threshold=1, locale=lang)
            )
        elif parts:
            break
    return " ".join(parts)


def _numbers(numbers: Sequence[str]) -> str:
    shown = ", ".join(numbers[:MAX_NUMBERS])
    if len(numbers) > MAX_NUMBERS:
        shown += " " + _("(+%(n)d more)") % {"n": len(numbers) - MAX_NUMBERS}
    return shown


def digest_text(
    stats: DigestStats, categories: Categories, gazetteer: Gazetteer, tz: ZoneInfo, locale: str
) -> str:
    """The digest as the Kapolres reads it, in ``locale``."""
    with use_locale(locale):
        return "\n".join(
            [
                *_headline(stats, tz),
                "",
                *_breakdown(stats, categories, gazetteer, locale),
                "",
                *_follow_up(stats, locale),
                *_hotspots(stats, categories, gazetteer, locale),
                *_learning(stats, locale),
            ]
        )


def _headline(stats: DigestStats, tz: ZoneInfo) -> list[str]:
    return [
        _("Daily digest — %(day)s") % {"day": format_day(stats.end, tz)},
        _("Period: %(start)s – %(end)s")
        % {"start": format_moment(stats.start, tz), "end": format_moment(stats.end, tz)},
        "",
        _("New: %(new)d · Open: %(open)d · Closed: %(closed)d")
        % {"new": stats.new, "open": stats.open, "closed": stats.closed},
    ]


def _breakdown(
    stats: DigestStats, categories: Categories, gazetteer: Gazetteer, locale: str
) -> list[str]:
    """The new reports by category and by kecamatan."""
    if not stats.by_category:
        return [_("No new reports in this period.")]
    lines = [_("New reports by category:")]
    lines += [f"• {_label(categories, code, locale)}: {n}" for code, n in stats.by_category]
    lines += ["", _("Top kecamatan:")]
    for code, count in stats.top_kecamatan:
        place = gazetteer.kecamatan_by_code(code)
        lines.append(f"• {place.name if place else code}: {count}")
    if not stats.top_kecamatan:
        lines.append("• -")
    return lines


def _follow_up(stats: DigestStats, locale: str) -> list[str]:
    """Overdue and urgent tickets by number, and how fast the units answered."""
    lines = [
        ngettext(
            "Overdue (no response yet): %(n)d report",
            "Overdue (no response yet): %(n)d reports",
            len(stats.overdue),
        )
        % {"n": len(stats.overdue)}
    ]
    if stats.overdue:
        lines.append(_numbers(stats.overdue))
    lines.append(
        ngettext("Urgent: %(n)d report", "Urgent: %(n)d reports", len(stats.urgent))
        % {"n": len(stats.urgent)}
    )
    if stats.urgent:
        lines.append(_numbers(stats.urgent))
    if stats.median_first_response is None:
        lines.append(_("Median time to first response: no responses in this period."))
    else:
        lines.append(
            ngettext(
                "Median time to first response: %(time)s (%(n)d report)",
                "Median time to first response: %(time)s (%(n)d reports)",
                stats.responses,
            )
            % {"time": duration(stats.median_first_response, locale), "n": stats.responses}
        )
    return lines


def _hotspots(
    stats: DigestStats, categories: Categories, gazetteer: Gazetteer, locale: str
) -> list[str]:
    if not stats.hotspots:
        return []
    lines = hotspot_lines(stats.hotspots, categories, gazetteer, locale)
    return ["", _("Rising (hotspots):"), *(f"• {line}" for line in lines)]


def _learning(stats: DigestStats, locale: str) -> list[str]:
    """How the bot's first reading of topics fared: officers' corrections over 30 days."""
    learned = stats.corrections
    if learned is None or not (learned.tickets or learned.corrections or learned.place_corrections):
        return []
    lines = [
        "",
        _("Officers' corrections (30 days): %(topics)s topic, %(places)s place.")
        % {
            "topics": format_decimal(learned.corrections, locale=locale),
            "places": format_decimal(learned.place_corrections, locale=locale),
        },
    ]
    accuracy = learned.first_guess_accuracy
    if accuracy is not None:
        lines.append(
            _("Topic right the first time: %(share)s of %(tickets)s reports.")
            % {
                "share": format_percent(accuracy, locale=locale),
                "tickets": format_decimal(learned.tickets, locale=locale),
            }
        )
    return lines


def chart_data(stats: DigestStats, categories: Categories, locale: str) -> ChartData:
    order = {c.code: i for i, c in enumerate(categories.all)}
    with use_locale(locale):
        series = tuple(
            Series(_label(categories, code, locale), order.get(code, len(order)), counts)
            for code, counts in sorted(stats.daily, key=lambda s: order.get(s[0], len(order)))
        )
        return ChartData(
            title=chart_caption(stats, locale),
            days=tuple(format_date(day, "EEE d/M", locale=locale) for day in stats.days),
            series=series,
            empty_note=_("No reports in these 7 days."),
        )


def chart_caption(stats: DigestStats, locale: str) -> str:
    with use_locale(locale):
        return _("Reports per day by category, %(first)s – %(last)s") % {
            "first": format_date(stats.days[0], "d MMM", locale=locale),
            "last": format_date(stats.days[-1], "d MMM yyyy", locale=locale),
        }


def _label(categories: Categories, code: str, locale: str) -> str:
    category = categories.get(code)
    return category.label(locale) if category else code


# --- the digest ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Composed:
    """One digest, written and drawn: what is sent to each reader. Its chart and its map
    go out as one album where the platform has albums (Telegram), else as ``combined``,
    the two in one image."""

    text: str
    chart: Path
    caption: str
    map: DrawnPeriod
    combined: Path
    locale: str
    summary: tuple[str, ...] = ()  # the day, new, open and overdue counts (the template's)

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.chart, self.map.path, self.combined)

    def outbounds(self, to: ChatKey) -> list[Outbound]:
        """The text, then the chart and the map (both captions under the combined image).
        Outside WhatsApp's 24-hour window the text goes as the digest template, filled with
        the summary."""
        captions = f"{self.caption}\n{self.map.caption}"
        template = Template(Purpose.DIGEST, self.summary) if self.summary else None
        return [
            Outbound(to.channel, to.chat_id, self.text, locale=self.locale, template=template),
            Outbound(
                to.channel,
                to.chat_id,
                captions,
                media=Media(self.combined, "image/png", captions),
                locale=self.locale,
                album=(
                    Media(self.chart, "image/png", self.caption),
                    Media(self.map.path, "image/png", self.map.caption),
                ),
            ),
        ]


def slot_key(slot: datetime, tz: ZoneInfo) -> str:
    """``2026-11-27T07:00+07:00``: the slot in local time, as recorded in ``digests``."""
    return slot.astimezone(tz).isoformat(timespec="minutes")


@dataclass(kw_only=True)
class Digest(Reporting):
    """Composes digests and maps; the ``/digest`` and ``/peta`` commands' source."""

    charts_dir: Path

    async def stats(self, end: datetime) -> DigestStats:
        return await self.db.read(lambda conn: collect(conn, end, self.tz))

    def _stem(self, kind: str, end: datetime, locale: str) -> str:
        return f"{kind}-{end.astimezone(self.tz):%Y%m%dT%H%M%S}-{locale}"

    async def compose(self, end: datetime, locale: str) -> Composed:
        """The digest of the 24 hours ending at ``end``, in ``locale``, with its chart and
        the map of the chart's 7 days."""
        stats = await self.stats(end)
        text = digest_text(stats, self.categories, self.gazetteer, self.tz, locale)
        chart = await render_chart(
            chart_data(stats, self.categories, locale),
            self.charts_dir,
            self._stem("digest", end, locale),
        )
        drawn = await self.map(end, CHART_DAYS, locale)
        combined = await asyncio.to_thread(
            _combine, (chart, drawn.path), self.charts_dir, self._stem("digest-map", end, locale)
        )
        day = format_date(end.astimezone(self.tz).date(), "d MMM yyyy", locale=locale)
        summary = (day, str(stats.new), str(stats.open), str(len(stats.overdue)))
        return Composed(
            text, chart, chart_caption(stats, locale), drawn, combined, locale, summary
        )

    async def map(self, end: datetime, days: int, locale: str) -> DrawnPeriod:
        """The map of the ``days`` local days ending with ``end``'s day."""
        return await period_map(
            self.db,
            self.gazetteer,
            Period.days_to(end, days, self.tz),
            locale,
            self.charts_dir,
            self._stem(f"peta{days}", end, locale),
        )

    async def render(self, now: datetime, locale: str, to: ChatKey) -> list[Outbound]:
        """``/digest``: the digest ending now, addressed to ``to``."""
        return (await self.compose(now, locale)).outbounds(to)

    async def render_map(
        self, now: datetime, days: int, locale: str, to: ChatKey
    ) -> list[Outbound]:
        """``/peta``: the map of the last ``days`` days, addressed to ``to``."""
        drawn = await self.map(now, days, locale)
        media = Media(drawn.path, "image/png", drawn.caption)
        return [Outbound(to.channel, to.chat_id, drawn.caption, media=media, locale=locale)]


def _combine(images: tuple[Path, ...], folder: Path, stem: str) -> Path:
    return save_file(stacked([p.read_bytes() for p in images]), folder, stem)


class DigestScheduler(SlotScheduler):
    """Sends the digest to every Kapolres at each daily time (``TAROS_DIGEST_AT``, local).

    At start and on each wake, the most recent slot that is due and not yet in ``digests`` is
    sent: a slot missed while the bot was down is sent once at the next start (only the
    latest, not every one of a long downtime), never twice.
    """

    name = "digest scheduler"

    def __init__(
        self,
        digest: Digest,
        mailer: Mailer,
        clock: Clock,
        *,
        times: tuple[time, ...],
        locale: str,
        on_outbox: Callable[[tuple[int, ...]], None],
        max_sleep: float = 60.0,
    ) -> None:
        super().__init__(mailer, clock, on_outbox=on_outbox, max_sleep=max_sleep)
        self.digest = digest
        self.times = tuple(sorted(times))
        self.locale = locale

    @property
    def tz(self) -> ZoneInfo:
        return self.digest.tz

    def latest_slot(self, now: datetime) -> datetime | None:
        """The most recent digest time at or before ``now``."""
        today = now.astimezone(self.tz).date()
        for day in (today, today - timedelta(days=1)):
            for moment in reversed(self.times):
                slot = datetime.combine(day, moment, tzinfo=self.tz)
                if slot <= now:
                    return slot
        return None

    def next_slot(self, now: datetime) -> datetime | None:
        """The first digest time after ``now``."""
        today = now.astimezone(self.tz).date()
        for day in (today, today + timedelta(days=1)):
            for moment in self.times:
                slot = datetime.combine(day, moment, tzinfo=self.tz)
                if slot > now:
                    return slot
        return None

    def slot_key(self, slot: datetime) -> str:
        return slot_key(slot, self.tz)

    async def compose(self, slot: datetime) -> Composed:
        return await self.digest.compose(slot, self.locale)

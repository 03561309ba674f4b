"""The Kapolres' digest: one glance at the last 24 hours, plus a chart of the last 7 days.

:class:`Digest` reads the numbers (:func:`collect`), writes the text in the reader's language
and draws the chart; it is the ``DigestSource`` of ``/digest`` and what ``taros digest`` prints
or sends. :class:`DigestScheduler` sends it to every Kapolres at each ``TAROS_DIGEST_AT``
time. A slot is recorded in ``digests`` in the same transaction as its outbox rows, so a
digest is sent once, never twice, and the latest slot missed while the bot was down is sent
at the next start. The reporter never appears: only ticket numbers and counts.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
from babel.dates import format_date, format_timedelta

from bot.clock import Clock, from_db, to_db
from bot.jobs.background import Background
from bot.jobs.digest_chart import ChartData, Series, render_chart
from bot.storage.database import Database
from bot.storage.outbox import enqueue_in
from conversations.categories import Categories
from conversations.domain import Role
from conversations.formatting import format_day, format_moment
from conversations.i18n import _, ngettext, use_locale
from conversations.messages import ChatKey, Media, Outbound, Purpose, Template
from conversations.ports import Officer, Store
from conversations.understanding.places import Gazetteer

log = logging.getLogger(__name__)

PERIOD = timedelta(hours=24)
CHART_DAYS = 7
TOP_PLACES = 5
MAX_NUMBERS = 15  # ticket numbers listed before "+N more"
_OPEN_AT_END = "created_at < :end AND (closed_at IS NULL OR closed_at >= :end)"
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


async def collect(conn: aiosqlite.Connection, end: datetime, tz: ZoneInfo) -> DigestStats:
    """The digest's numbers for the 24 hours ending at ``end``, as they stood at ``end``."""
    start = end - PERIOD
    span = {"start": to_db(start), "end": to_db(end)}
    in_period = "created_at >= :start AND created_at < :end"
    counts = await _rows(
        conn,
        f"SELECT COALESCE(SUM({in_period}), 0), COALESCE(SUM({_OPEN_AT_END}), 0),"
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
        f"SELECT number FROM tickets WHERE {_OPEN_AT_END} AND due_at < :end"
        " AND (first_response_at IS NULL OR first_response_at >= :end) ORDER BY due_at, id",
        span,
    )
    urgent = await _rows(
        conn,
        f"SELECT number FROM tickets WHERE urgent = 1 AND (({in_period}) OR ({_OPEN_AT_END}))"
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
    """One digest, written and drawn: what is sent to each reader."""

    text: str
    chart: Path
    caption: str
    locale: str
    summary: tuple[str, ...] = ()  # the day, new, open and overdue counts (the template's)

    def outbounds(self, to: ChatKey) -> list[Outbound]:
        """The text, then the chart as an image. Outside WhatsApp's 24-hour window the text
        goes as the digest template, filled with the summary."""
        template = Template(Purpose.DIGEST, self.summary) if self.summary else None
        return [
            Outbound(to.channel, to.chat_id, self.text, locale=self.locale, template=template),
            Outbound(
                to.channel,
                to.chat_id,
                self.caption,
                media=Media(self.chart, "image/png", self.caption),
                locale=self.locale,
            ),
        ]


def slot_key(slot: datetime, tz: ZoneInfo) -> str:
    """``2026-11-27T07:00+07:00``: the slot in local time, as recorded in ``digests``."""
    return slot.astimezone(tz).isoformat(timespec="minutes")


class Digest:
    """Composes digests and puts them in the outbox; the ``/digest`` command's source."""

    def __init__(
        self,
        db: Database,
        store: Store,
        categories: Categories,
        gazetteer: Gazetteer,
        *,
        tz: ZoneInfo,
        charts_dir: Path,
    ) -> None:
        self.db = db
        self.store = store
        self.categories = categories
        self.gazetteer = gazetteer
        self.tz = tz
        self.charts_dir = charts_dir

    async def stats(self, end: datetime) -> DigestStats:
        return await self.db.read(lambda conn: collect(conn, end, self.tz))

    async def compose(self, end: datetime, locale: str) -> Composed:
        """The digest of the 24 hours ending at ``end``, in ``locale``, with its chart."""
        stats = await self.stats(end)
        text = digest_text(stats, self.categories, self.gazetteer, self.tz, locale)
        stem = f"digest-{end.astimezone(self.tz):%Y%m%dT%H%M%S}-{locale}"
        chart = await render_chart(
            chart_data(stats, self.categories, locale), self.charts_dir, stem
        )
        day = format_date(end.astimezone(self.tz).date(), "d MMM yyyy", locale=locale)
        summary = (day, str(stats.new), str(stats.open), str(len(stats.overdue)))
        return Composed(text, chart, chart_caption(stats, locale), locale, summary)

    async def render(self, now: datetime, locale: str, to: ChatKey) -> list[Outbound]:
        """``/digest``: the digest ending now, addressed to ``to``."""
        return (await self.compose(now, locale)).outbounds(to)

    async def kapolres(self) -> list[Officer]:
        return await self.store.officers(roles=(Role.KAPOLRES,))

    async def send(
        self,
        composed: Composed,
        readers: Iterable[Officer],
        now: datetime,
        *,
        slot: str | None = None,
    ) -> list[int]:
        """Put ``composed`` in the outbox for each reader; returns the outbox ids. With a
        ``slot``, the slot is recorded in the same transaction, and nothing is sent when it
        already was (by this process or another)."""
        outbounds = [
            o for r in readers for o in composed.outbounds(ChatKey(r.channel, r.external_id))
        ]
        stamp = to_db(now)

        async def job(conn: aiosqlite.Connection) -> list[int]:
            if slot is not None:
                cursor = await conn.execute(
                    "INSERT OR IGNORE INTO digests(slot, sent_at) VALUES (?, ?)", (slot, stamp)
                )
                if cursor.rowcount == 0:
                    return []
            return [await enqueue_in(conn, o, stamp) for o in outbounds]

        return await self.db.write(job)

    async def was_sent(self, slot: str) -> bool:
        async def job(conn: aiosqlite.Connection) -> bool:
            async with conn.execute("SELECT 1 FROM digests WHERE slot = ?", (slot,)) as cursor:
                return await cursor.fetchone() is not None

        return await self.db.read(job)


class DigestScheduler(Background):
    """Sends the digest to every Kapolres at each daily time (``TAROS_DIGEST_AT``, local).

    At start and on each wake, the most recent slot that is due and not yet in ``digests`` is
    sent: a slot missed while the bot was down is sent once at the next start (only the
    latest, not every one of a long downtime), never twice. While no Kapolres is registered
    nothing is sent or recorded, so one registered later still gets the day's digest.
    """

    name = "digest scheduler"

    def __init__(
        self,
        digest: Digest,
        clock: Clock,
        *,
        times: tuple[time, ...],
        locale: str,
        on_outbox: Callable[[tuple[int, ...]], None],
        max_sleep: float = 60.0,
    ) -> None:
        super().__init__()
        self.digest = digest
        self.clock = clock
        self.times = tuple(sorted(times))
        self.locale = locale
        self.on_outbox = on_outbox
        self.max_sleep = max_sleep
        self.passes = 0

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

    async def send_due(self) -> str | None:
        """Send the latest due slot if it was not sent; returns its key when sent now."""
        now = self.clock.now()
        slot = self.latest_slot(now)
        if slot is None:
            return None
        key = slot_key(slot, self.tz)
        if await self.digest.was_sent(key):
            return None
        readers = await self.digest.kapolres()
        if not readers:
            return None
        composed = await self.digest.compose(slot, self.locale)
        ids = await self.digest.send(composed, readers, now, slot=key)
        if not ids:  # another process sent this slot meanwhile
            with contextlib.suppress(OSError):
                composed.chart.unlink()
            return None
        log.info("digest %s sent to %d kapolres", key, len(readers))
        self.on_outbox(tuple(ids))
        return key

    async def tick(self) -> float:
        try:
            await self.send_due()
        finally:
            self.passes += 1
        now = self.clock.now()
        upcoming = self.next_slot(now)
        if upcoming is None:
            return self.max_sleep
        return min(self.max_sleep, max(0.05, (upcoming - now).total_seconds()))

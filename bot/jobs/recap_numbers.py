"""The numbers of the weekly and monthly recap, for the staff meeting.

Of the reports created in the period (local days, whole), as they stood at its end: counts by
category against the period before; SLA compliance (the share with a first response by their
due time, ``TAROS_SLA_HOURS`` after creation, among those whose response or due time has come);
the median time to the first response and to closing (``selesai``); the reporters' answers to
"has your problem been handled?" (yes, not yet, no answer yet to a closed report); the
hotspots at the period's end; the map's numbers and the busiest kecamatan.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import from_db
from bot.jobs.hotspots import Hotspot, find_hotspots
from bot.jobs.map_numbers import MapNumbers, Period, collect_map

TOP_PLACES = 5


class RecapKind(StrEnum):
    WEEK = "week"
    MONTH = "month"

    def period_before(self, day: date, tz: ZoneInfo) -> Period:
        """The last whole week (Monday to Sunday) or month that ended before ``day``."""
        if self is RecapKind.WEEK:
            monday = day - timedelta(days=day.weekday())
            return Period.whole_days(monday - timedelta(days=7), monday - timedelta(days=1), tz)
        last = day.replace(day=1) - timedelta(days=1)
        return Period.whole_days(last.replace(day=1), last, tz)

    def previous(self, period: Period, tz: ZoneInfo) -> Period:
        """The period of the same kind just before ``period``."""
        return self.period_before(period.first, tz)


@dataclass(frozen=True, slots=True)
class RecapStats:
    kind: RecapKind
    period: Period
    previous: Period
    total: int
    previous_total: int
    by_category: tuple[tuple[str, int, int], ...]  # code, this period, the period before
    sla_met: int
    sla_judged: int
    median_response: timedelta | None
    median_closing: timedelta | None
    handled_yes: int
    handled_no: int
    handled_unanswered: int
    hotspots: tuple[Hotspot, ...]
    map: MapNumbers

    @property
    def top_kecamatan(self) -> tuple[tuple[str, int], ...]:
        ranked = sorted(self.map.counts, key=lambda c: (-c[1], c[0]))
        return tuple(ranked[:TOP_PLACES])

    @property
    def sla_share(self) -> float | None:
        return self.sla_met / self.sla_judged if self.sla_judged else None


async def collect_recap(
    conn: aiosqlite.Connection, kind: RecapKind, period: Period, tz: ZoneInfo
) -> RecapStats:
    previous = kind.previous(period, tz)
    now = await _categories(conn, period)
    before = await _categories(conn, previous)
    rows = await _tickets(conn, period)
    judged = [r for r in rows if r.response is not None or r.due < period.end]
    met = [r for r in judged if r.response is not None and r.response <= r.due]
    return RecapStats(
        kind=kind,
        period=period,
        previous=previous,
        total=sum(now.values()),
        previous_total=sum(before.values()),
        by_category=tuple(
            (code, now.get(code, 0), before.get(code, 0))
            for code in sorted(now.keys() | before.keys(), key=lambda c: (-now.get(c, 0), c))
        ),
        sla_met=len(met),
        sla_judged=len(judged),
        median_response=_median([(r.created, r.response) for r in rows]),
        median_closing=_median([(r.created, r.closed) for r in rows if r.status == "selesai"]),
        handled_yes=sum(1 for r in rows if r.resolved_ok == 1),
        handled_no=sum(1 for r in rows if r.resolved_ok == 0),
        handled_unanswered=sum(
            1 for r in rows if r.status == "selesai" and r.closed and r.resolved_ok is None
        ),
        hotspots=await find_hotspots(conn, period.end),
        map=await collect_map(conn, period),
    )


async def _categories(conn: aiosqlite.Connection, period: Period) -> dict[str, int]:
    async with conn.execute(
        "SELECT category, COUNT(*) FROM tickets WHERE created_at >= :start AND created_at < :end"
        " GROUP BY category",
        period.span,
    ) as cursor:
        return {str(r[0]): int(r[1]) for r in await cursor.fetchall()}


@dataclass(frozen=True, slots=True)
class _Row:
    created: datetime
    due: datetime
    status: str
    response: datetime | None  # the first response, when it came before the period's end
    closed: datetime | None
    resolved_ok: int | None


async def _tickets(conn: aiosqlite.Connection, period: Period) -> list[_Row]:
    """The period's reports, with what had happened to them by its end."""
    async with conn.execute(
        "SELECT created_at, due_at, status,"
        " CASE WHEN first_response_at < :end THEN first_response_at END,"
        " CASE WHEN closed_at < :end THEN closed_at END, resolved_ok"
        " FROM tickets WHERE created_at >= :start AND created_at < :end",
        period.span,
    ) as cursor:
        return [
            _Row(
                from_db(r[0]),
                from_db(r[1]),
                str(r[2]),
                from_db(r[3]) if r[3] else None,
                from_db(r[4]) if r[4] else None,
                None if r[5] is None else int(r[5]),
            )
            for r in await cursor.fetchall()
        ]


def _median(spans: list[tuple[datetime, datetime | None]]) -> timedelta | None:
    waits = [(done - began).total_seconds() for began, done in spans if done is not None]
    return timedelta(seconds=statistics.median(waits)) if waits else None

"""Hotspots: a category rising in one desa or kecamatan.

The rule (README, "Hotspots"): at least ``MIN_RECENT`` (3) reports of one category in one
place within the ``WINDOW`` (14 days) ending at the moment asked, where the ``BASELINE`` (90
days) before that window averaged under one report of that category there per 14 days (at
most 6 in 90 days). A desa is looked at first; a kecamatan is named only when none of its desa
is already named for that category (the rise is spread over several desa, or the desa is not
known). Reports rejected (``ditolak``, pranks included) and reports linked as duplicates of
another do not count: one incident reported five times is one incident.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.clock import from_db, to_db
from conversations.categories import Categories
from conversations.i18n import _, use_locale
from conversations.intake.prompts import place_label
from conversations.understanding.places import Gazetteer

WINDOW = timedelta(days=14)
BASELINE = timedelta(days=90)
MIN_RECENT = 3
MAX_SHOWN = 10  # hotspots listed; the strongest first


@dataclass(frozen=True, slots=True)
class Hotspot:
    category: str
    kecamatan: str
    desa: str | None  # None: the kecamatan as a whole
    numbers: tuple[str, ...]  # the reports of the window, oldest first
    before: int  # reports of the category there in the baseline

    @property
    def place(self) -> str:
        return self.desa or self.kecamatan


def rising(recent: int, before: int) -> bool:
    """The rule: enough reports now, and under one per window on average before."""
    return recent >= MIN_RECENT and before * WINDOW.days < BASELINE.days


async def find_hotspots(conn: aiosqlite.Connection, end: datetime) -> tuple[Hotspot, ...]:
    """The hotspots of the window ending at ``end``, the strongest first."""
    window_start = end - WINDOW
    async with conn.execute(
        "SELECT number, category, kecamatan_code, desa_code, created_at FROM tickets"
        " WHERE created_at >= ? AND created_at < ? AND kecamatan_code IS NOT NULL"
        " AND status != 'ditolak' AND duplicate_of IS NULL ORDER BY created_at, id",
        (to_db(window_start - BASELINE), to_db(end)),
    ) as cursor:
        rows = list(await cursor.fetchall())
    recent: dict[tuple[str, str], list[str]] = defaultdict(list)
    before: dict[tuple[str, str], int] = defaultdict(int)
    kecamatan_of: dict[str, str] = {}
    for number, category, kecamatan, desa, created in rows:
        places = [kecamatan] if desa is None else [desa, kecamatan]
        if desa is not None:
            kecamatan_of[desa] = kecamatan
        for place in places:
            if from_db(created) >= window_start:
                recent[(category, place)].append(number)
            else:
                before[(category, place)] += 1
    found: list[Hotspot] = []
    named: set[tuple[str, str]] = set()  # (category, kecamatan) already named through a desa
    for (category, place), numbers in sorted(recent.items(), key=lambda i: -len(i[0][1])):
        if not rising(len(numbers), before[(category, place)]):
            continue
        if place in kecamatan_of:  # a desa (codes are longer; sorted first)
            named.add((category, kecamatan_of[place]))
            hotspot = Hotspot(
                category, kecamatan_of[place], place, tuple(numbers), before[(category, place)]
            )
        elif (category, place) in named:
            continue
        else:
            hotspot = Hotspot(category, place, None, tuple(numbers), before[(category, place)])
        found.append(hotspot)
    found.sort(key=lambda h: (-len(h.numbers), h.category, h.place))
    return tuple(found)


def hotspot_lines(
    hotspots: tuple[Hotspot, ...], categories: Categories, gazetteer: Gazetteer, locale: str
) -> list[str]:
    """One line per hotspot, in ``locale``, with the report numbers."""
    with use_locale(locale):
        lines = []
        for spot in hotspots[:MAX_SHOWN]:
            category = categories.get(spot.category)
            lines.append(
                _(
                    "%(category)s in %(place)s: %(n)d reports in %(days)d days (%(before)d in "
                    "the %(baseline)d days before): %(numbers)s"
                )
                % {
                    "category": category.label(locale) if category else spot.category,
                    "place": place_label(gazetteer, spot.kecamatan, spot.desa),
                    "n": len(spot.numbers),
                    "days": WINDOW.days,
                    "before": spot.before,
                    "baseline": BASELINE.days,
                    "numbers": ", ".join(spot.numbers),
                }
            )
        if len(hotspots) > MAX_SHOWN:
            lines.append(_("(+%(n)d more)") % {"n": len(hotspots) - MAX_SHOWN})
        return lines

"""Hotspots: a category rising in one desa or kecamatan (≥ 3 reports in 14 days where the 90
days before averaged under one per 14 days), on crafted histories, and named in the digest
in one line each with the report numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

from history import Seed, seed
from support import Harness

from bot.jobs.hotspots import find_hotspots, rising
from conversations.understanding.places import Gazetteer

CIBATU, LELES = "32.05.12", "32.05.09"
DAY = timedelta(days=1)


def desa(kecamatan: str, index: int = 0) -> str:
    return Gazetteer.load().desa_of(kecamatan)[index].code


async def spots(bot: Harness, end: datetime) -> list[tuple[str, str, int]]:
    found = await bot.app.db.read(lambda conn: find_hotspots(conn, end))
    return [(h.category, h.place, len(h.numbers)) for h in found]


def test_the_rule() -> None:
    assert rising(3, 0) and rising(3, 6)  # 6 in 90 days: 0.93 per 14 days
    assert not rising(3, 7)  # 7 in 90 days: 1.09 per 14 days, as usual
    assert not rising(2, 0)


async def test_three_in_a_desa_within_two_weeks_is_a_hotspot(bot: Harness) -> None:
    now = bot.clock.now()
    place = desa(CIBATU)
    numbers = await seed(
        bot.app,
        [Seed(now - d * DAY, desa=place) for d in (13, 6, 1)]
        + [Seed(now - 2 * DAY, category="kecelakaan", desa=place)],  # another category
    )
    found = await bot.app.db.read(lambda conn: find_hotspots(conn, now))
    assert [(h.category, h.desa, h.kecamatan) for h in found] == [("uang_palsu", place, CIBATU)]
    assert found[0].numbers == tuple(numbers[:3]) and found[0].before == 0  # no kecamatan twice


async def test_a_usual_level_is_not_a_rise(bot: Harness) -> None:
    now = bot.clock.now()
    place = desa(CIBATU)
    usual = [Seed(now - (101 - 12 * n) * DAY, desa=place) for n in range(7)]  # 7 in 90 days
    await seed(bot.app, usual + [Seed(now - d * DAY, desa=place) for d in (3, 2, 1)])
    assert await spots(bot, now) == []
    # the oldest of the seven leaves the 90 days 4 days later: under one per 14 days
    assert await spots(bot, now + 4 * DAY) == [("uang_palsu", place, 3)]


async def test_a_rise_spread_over_a_kecamatan_names_the_kecamatan(bot: Harness) -> None:
    now = bot.clock.now()
    await seed(
        bot.app,
        [Seed(now - (n + 1) * DAY, kecamatan=LELES, desa=desa(LELES, n)) for n in range(3)]
        + [Seed(now - DAY, kecamatan=LELES)],  # the desa not known
    )
    assert await spots(bot, now) == [("uang_palsu", LELES, 4)]


async def test_rejected_and_duplicate_reports_do_not_count(bot: Harness) -> None:
    now = bot.clock.now()
    place = desa(CIBATU)
    first = await seed(bot.app, [Seed(now - 3 * DAY, desa=place)])
    await seed(
        bot.app,
        [
            Seed(now - 2 * DAY, desa=place),
            Seed(now - 2 * DAY, desa=place, closed_after=DAY, status="ditolak"),  # a prank
        ],
    )
    await seed(bot.app, [Seed(now - DAY, desa=place, duplicate_of=first[0])])
    assert await spots(bot, now) == []
    assert await spots(bot, now + 13 * DAY) == []  # 14 days are 14 days: the first falls out


async def test_the_digest_names_each_hotspot_in_one_line(bot: Harness) -> None:
    now = bot.clock.now()
    place = desa(CIBATU)
    numbers = await seed(bot.app, [Seed(now - d * DAY, desa=place) for d in (4, 2, 1)])
    text = (await bot.app.digest.compose(now, "id")).text
    name = Gazetteer.load().desa_by_code(place)
    assert name is not None
    line = next(x for x in text.splitlines() if "dalam 14 hari" in x)
    assert line.startswith("• Uang palsu (upal) di ")
    assert f"Desa {name.name}, Kec. Cibatu" in line
    assert "3 laporan dalam 14 hari (0 dalam 90 hari sebelumnya)" in line
    assert line.endswith(", ".join(numbers))
    assert "Meningkat (titik rawan):" in text
    english = (await bot.app.digest.compose(now, "en")).text
    assert "3 reports in 14 days (0 in the 90 days before)" in english

"""Reports of one incident are linked: same category, near each other, within 48 hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import Harness, register, report, texts, ticket_number

from conversations.desk.duplicates import distance_metres
from conversations.messages import Location

STORY = "Ada orang belanja pakai uang palsu pecahan 100 ribu di warung sekitar sini."


async def test_a_second_report_in_the_same_desa_is_linked(bot: Harness) -> None:
    await register(bot)
    first = ticket_number(await report(bot, "ani", place="Ds. Sukamaju Kec. Cilawu", story=STORY))
    bot.clock.advance(timedelta(hours=3))
    second = await report(bot, "budi", place="desa sukamaju cilawu", story=STORY)
    assert f"Laporan serupa ({first}) sudah ditangani" in second
    assert "bukti Anda tetap dihitung" in second
    assert f"Kemungkinan sama dengan {first}" in texts(bot.channel.to("reskrim")[-1:])
    rows = await bot.query("SELECT number, duplicate_of FROM tickets ORDER BY id")
    assert rows[1][1] is not None and rows[0][1] is None
    linked = await bot.query("SELECT note FROM ticket_events WHERE kind = 'linked'")
    assert linked == [(first,)]


@pytest.mark.parametrize(
    ("second_place", "hours", "topic", "linked"),
    [
        (Location(-7.2850, 107.8990), 2, "1", True),  # about 300 m away
        (Location(-7.3010, 107.8990), 2, "1", False),  # about 2 km away
        (Location(-7.2850, 107.8990), 49, "1", False),  # too late
        (Location(-7.2850, 107.8990), 2, "3", False),  # another category
    ],
)
async def test_pins_are_linked_only_near_soon_and_alike(
    bot: Harness, second_place: Location, hours: int, topic: str, linked: bool
) -> None:
    first_pin = Location(-7.2823, 107.8990)
    assert 250 < distance_metres(-7.2823, 107.8990, -7.2850, 107.8990) < 350
    first = ticket_number(await report(bot, "ani", place=first_pin, story=STORY))
    bot.clock.advance(timedelta(hours=hours))
    second = await report(bot, "budi", place=second_place, topic=topic, story=STORY)
    assert (f"Laporan serupa ({first})" in second) == linked


async def test_a_closed_ticket_is_not_linked(bot: Harness) -> None:
    await register(bot)
    first = ticket_number(await report(bot, "ani", place="Ds. Sukamaju Kec. Cilawu", story=STORY))
    await bot.send(f"/status {first} selesai", chat="reskrim")
    second = await report(bot, "budi", place="desa sukamaju cilawu", story=STORY)
    assert "Laporan serupa" not in second


async def test_reports_placed_only_by_their_kecamatan_are_not_linked(bot: Harness) -> None:
    """A kecamatan is too large to say two reports are one incident (and nothing is read)."""
    await register(bot)
    await report(bot, "ani", place="Cilawu", story=STORY)
    second = await report(bot, "budi", place="Cilawu", story=STORY)
    assert "Laporan serupa" not in second
    assert await bot.query("SELECT duplicate_of FROM tickets WHERE duplicate_of IS NOT NULL") == []

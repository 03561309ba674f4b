"""The Kapolres' digest: its numbers and words, its chart, ``/digest``, the daily schedule
(sent at the slot, once after downtime, never twice) and ``taros digest --send``."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from support import Harness, eventually, running, texts

from bot.app import App
from bot.clock import ManualClock
from bot.config import Settings
from bot.identity import ChannelId
from bot.jobs.digest import duration
from bot.jobs.digest_chart import PNG_MAGIC
from bot.officers import add_officer
from channels.recording import RecordingChannel
from conversations.intake.prefill import Prefill

STORY = "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya."
TICKET = re.compile(r"GRT-\d{4}-\d{5}")
WIB = timedelta(hours=7)
SLOT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC) - WIB  # Friday 27 November 2026, 07:00 WIB
SLOT_KEY = "2026-11-27T07:00+07:00"


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - WIB


class Urgent:
    def prefill(self, text: str, now: datetime) -> Prefill:
        return Prefill(category="pencurian", urgent=True, chronology=text)


async def register(bot: Harness, chat: str, role: str, unit: str | None = None) -> None:
    await add_officer(
        bot.app.db,
        ChannelId("test", chat),
        name=f"Petugas {chat}",
        role=role,
        unit=unit,
        now=bot.clock.now(),
    )


async def report(bot: Harness, chat: str, topic: str, place: str) -> str:
    for line in ["halo", topic, place, STORY, "tidak ada"]:
        await bot.send(line, chat=chat)
    found = TICKET.search(texts(await bot.send("1", chat=chat)))
    assert found, f"no ticket for {chat}"
    return found.group()


async def urgent_report(bot: Harness, chat: str) -> str:
    intake = bot.app.engine.intake
    usual, intake.understander = intake.understander, Urgent()
    try:
        for line in ["tolong ada begal sekarang di jalan raya", "ya", "Cibatu", "tidak ada"]:
            await bot.send(line, chat=chat)
        found = TICKET.search(texts(await bot.send("1", chat=chat)))
    finally:
        intake.understander = usual
    assert found
    return found.group()


async def at(bot: Harness, moment: datetime) -> None:
    bot.clock.advance(moment - bot.clock.now())


async def history(bot: Harness) -> dict[str, str]:
    """A week of reports (times in WIB), worked by the officers:

    - Sat 21 09:00 ``old`` uang palsu, Cibatu; done on Sun 22.
    - Tue 24 09:00 ``late`` kecelakaan, Leles; never answered: overdue.
    - Thu 26 09:00 ``fast`` uang palsu, Cibatu; in progress at 12:00 (3 h), done at 15:00.
    - Thu 26 10:00 ``slow`` kecelakaan, Leles; in progress at 14:00 (4 h).
    - Thu 26 11:00 ``urgent`` pencurian, Cibatu, urgent; never answered (not yet due).
    - Fri 27 08:00 ``after`` uang palsu, after the 07:00 slot.
    """
    await register(bot, "reskrim", "officer", "SATRESKRIM")
    await register(bot, "lantas", "officer", "SATLANTAS")
    await register(bot, "kapolres", "kapolres")
    await register(bot, "admin", "admin")
    n: dict[str, str] = {}
    await at(bot, wib(21, 9))
    n["old"] = await report(bot, "pelapor-ani", "1", "Cibatu")
    await at(bot, wib(22, 10))
    await bot.send(f"/status {n['old']} selesai sudah ditangani", chat="reskrim")
    await at(bot, wib(24, 9))
    n["late"] = await report(bot, "pelapor-budi", "6", "Leles")
    await at(bot, wib(26, 9))
    n["fast"] = await report(bot, "pelapor-cici", "1", "Cibatu")
    await at(bot, wib(26, 10))
    n["slow"] = await report(bot, "pelapor-dedi", "6", "Leles")
    await at(bot, wib(26, 11))
    n["urgent"] = await urgent_report(bot, "pelapor-euis")
    await at(bot, wib(26, 12))
    await bot.send(f"/status {n['fast']} proses", chat="reskrim")
    await at(bot, wib(26, 14))
    await bot.send(f"/status {n['slow']} proses", chat="lantas")
    await at(bot, wib(26, 15))
    await bot.send(f"/status {n['fast']} selesai", chat="reskrim")
    await at(bot, wib(27, 8))
    n["after"] = await report(bot, "pelapor-fajar", "1", "Cibatu")
    return n


@pytest.fixture
async def week(settings: Settings) -> AsyncIterator[tuple[Harness, dict[str, str]]]:
    async with running(settings, clock=ManualClock(wib(21, 8))) as bot:
        yield bot, await history(bot)


def is_png(path: str | Path) -> bool:
    return Path(path).read_bytes().startswith(PNG_MAGIC)


async def outbox_to(bot: Harness, chat: str) -> list[dict[str, object]]:
    rows = await bot.query("SELECT payload FROM outbox WHERE chat_id = ? ORDER BY id", (chat,))
    return [json.loads(str(payload)) for (payload,) in rows]


# --- content ---------------------------------------------------------------------------------


async def test_the_digest_counts_the_day_in_indonesian(
    week: tuple[Harness, dict[str, str]],
) -> None:
    bot, n = week
    stats = await bot.app.digest.stats(SLOT)
    assert (stats.new, stats.open, stats.closed) == (3, 3, 1)
    assert dict(stats.by_category) == {"uang_palsu": 1, "kecelakaan": 1, "pencurian": 1}
    assert stats.overdue == (n["late"],)
    assert stats.urgent == (n["urgent"],)
    assert stats.median_first_response == timedelta(hours=3, minutes=30)

    composed = await bot.app.digest.compose(SLOT, "id")
    text = composed.text
    assert "Jumat, 27 November 2026" in text
    assert "Kamis, 26 November 2026 07.00 WIB" in text  # the period starts 24 hours before
    assert "Baru: 3 · Terbuka: 3 · Ditutup: 1" in text
    assert "• Uang palsu (upal): 1" in text
    assert "• Kecelakaan lalu lintas: 1" in text
    assert "• Cibatu: 2" in text and "• Leles: 1" in text
    assert text.index("• Cibatu: 2") < text.index("• Leles: 1")
    overdue = text.split("Terlambat")[1].split("\n")
    assert "1 laporan" in overdue[0] and overdue[1] == n["late"]
    assert n["urgent"] in text.split("Mendesak")[1]
    assert "3 jam 30 menit" in text
    assert n["old"] not in text and n["after"] not in text  # closed before; after the slot
    assert "pelapor" not in text and "Petugas" not in text  # no reporter, no officer, ever


async def test_the_digest_speaks_the_readers_language(
    week: tuple[Harness, dict[str, str]],
) -> None:
    bot, _numbers = week
    text = (await bot.app.digest.compose(SLOT, "en")).text
    assert "Friday, November 27, 2026" in text
    assert "New: 3 · Open: 3 · Closed: 1" in text
    assert "3 hours 30 minutes" in text
    assert "• Counterfeit money: 1" in text


def test_durations_use_the_two_largest_units() -> None:
    assert duration(timedelta(hours=3, minutes=30), "id") == "3 jam 30 menit"
    assert duration(timedelta(days=1, minutes=5), "id") == "1 hari"
    assert duration(timedelta(seconds=40), "en") == "40 seconds"
    assert duration(timedelta(hours=2), "su") == "2 jam"


async def test_the_chart_is_a_png_of_the_week(week: tuple[Harness, dict[str, str]]) -> None:
    bot, _numbers = week
    stats = await bot.app.digest.stats(SLOT)
    assert [d.day for d in stats.days] == [21, 22, 23, 24, 25, 26, 27]
    assert dict(stats.daily) == {
        "uang_palsu": (1, 0, 0, 0, 0, 1, 0),  # Friday's 08:00 report is after the slot
        "kecelakaan": (0, 0, 0, 1, 0, 1, 0),
        "pencurian": (0, 0, 0, 0, 0, 1, 0),
    }
    composed = await bot.app.digest.compose(SLOT, "id")
    data = composed.chart.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert composed.chart.parent == bot.app.settings.data_dir / "charts"
    assert composed.chart.stat().st_mode & 0o777 == 0o600
    image = pytest.importorskip("PIL.Image")
    with image.open(composed.chart) as png:
        png.verify()
        assert png.format == "PNG" and png.size == (800, 450)
    assert composed.caption.startswith("Laporan per hari menurut kategori, 21 Nov")


async def test_an_empty_day_still_has_a_digest_and_a_chart(bot: Harness) -> None:
    composed = await bot.app.digest.compose(bot.clock.now(), "id")
    assert "Baru: 0 · Terbuka: 0 · Ditutup: 0" in composed.text
    assert "Tidak ada laporan baru" in composed.text
    assert is_png(composed.chart)


# --- /digest -----------------------------------------------------------------------------------


async def test_digest_command_for_the_kapolres_not_for_an_officer(
    week: tuple[Harness, dict[str, str]],
) -> None:
    bot, n = week
    replies = await bot.send("/digest", chat="kapolres")
    assert len(replies) == 2
    text, chart = replies
    assert "Ringkasan harian — Jumat, 27 November 2026" in text.text
    assert n["late"] in text.text  # still overdue at 08:00
    assert chart.media is not None and chart.media.mime == "image/png"
    assert is_png(chart.media.path)
    assert chart.media.caption == chart.text

    assert len(await bot.send("/digest", chat="admin")) == 2
    refused = texts(await bot.send("/digest", chat="reskrim"))
    assert "Hanya Kapolres dan admin" in refused
    assert "Ringkasan" not in refused


# --- the schedule ------------------------------------------------------------------------------


async def test_the_scheduler_sends_at_the_slot_and_never_twice(
    week: tuple[Harness, dict[str, str]],
) -> None:
    bot, _numbers = week
    await register(bot, "wakapolres", "kapolres")
    scheduler = bot.app.digests
    await at(bot, SLOT - timedelta(minutes=1))
    assert await scheduler.send_due() == "2026-11-26T07:00+07:00"  # yesterday's, never sent
    assert await scheduler.send_due() is None
    before = {chat: len(await outbox_to(bot, chat)) for chat in ("kapolres", "wakapolres")}

    await at(bot, SLOT)
    assert await scheduler.send_due() == SLOT_KEY
    assert await scheduler.send_due() is None
    await bot.app.dispatcher.flush()
    for chat in ("kapolres", "wakapolres"):
        rows = await outbox_to(bot, chat)
        assert len(rows) == before[chat] + 2
        text, chart = rows[-2:]
        assert "Jumat, 27 November 2026" in str(text["text"])
        media = chart["media"]
        assert isinstance(media, dict) and media["mime"] == "image/png"
        assert is_png(media["path"])
        delivered = bot.channel.to(chat)[-2:]
        assert delivered[1].media is not None
    assert bot.channel.to("reskrim")[-1].media is None  # officers get no digest
    slots = await bot.query("SELECT slot FROM digests ORDER BY slot")
    assert slots == [("2026-11-26T07:00+07:00",), (SLOT_KEY,)]


def twice_a_day(settings: Settings) -> Settings:
    return replace(settings, digest_at=(time(7, 0), time(17, 30)))


async def digests_after_start(settings: Settings, clock: ManualClock) -> list[str]:
    """Open the app as ``taros run`` does (scheduler on), let the scheduler look once, close;
    returns the chats the digest was delivered to."""
    channel = RecordingChannel()
    app = await App.open(settings, clock=clock)
    app.add_channel(channel)
    try:
        await app.start(timers=True)
        await eventually(lambda: app.digests.passes > 0)
        await app.dispatcher.flush()
    finally:
        await app.close()
    return [o.chat_id for o in channel.sent if o.media and o.media.mime == "image/png"]


async def test_a_digest_missed_while_down_is_sent_once_at_start(settings: Settings) -> None:
    settings = twice_a_day(settings)
    clock = ManualClock(SLOT)
    async with running(settings, clock=clock) as bot:
        await register(bot, "kapolres", "kapolres")
        await register(bot, "reskrim", "officer", "SATRESKRIM")
        assert await bot.app.digests.send_due() == SLOT_KEY
        await bot.app.dispatcher.flush()
    clock.advance(timedelta(days=2, hours=12))  # down until Sunday 29 November, 19:00

    assert await digests_after_start(settings, clock) == ["kapolres"]
    assert await digests_after_start(settings, clock) == []  # restarted: nothing more
    clock.advance(timedelta(hours=12, minutes=30))  # Monday 07:30
    assert await digests_after_start(settings, clock) == ["kapolres"]

    with sqlite3.connect(settings.database_path) as db:
        daily = "SELECT slot FROM digests WHERE slot LIKE '2%' ORDER BY slot"  # not the recaps
        slots = [row[0] for row in db.execute(daily)]
    # only the latest missed slot of the downtime, not the 28th's nor the 29th's morning
    assert slots == [SLOT_KEY, "2026-11-29T17:30+07:00", "2026-11-30T07:00+07:00"]


async def test_without_a_kapolres_nothing_is_sent_or_recorded(bot: Harness) -> None:
    await register(bot, "reskrim", "officer", "SATRESKRIM")
    assert await bot.app.digests.send_due() is None
    assert await bot.query("SELECT COUNT(*) FROM digests") == [(0,)]
    await register(bot, "kapolres", "kapolres")
    assert await bot.app.digests.send_due() == "2026-11-27T07:00+07:00"


def test_slots_are_local_times() -> None:
    from zoneinfo import ZoneInfo

    from bot.jobs.digest import slot_key

    jakarta = ZoneInfo("Asia/Jakarta")
    assert slot_key(SLOT, jakarta) == SLOT_KEY


# --- taros digest --send ----------------------------------------------------------------------


def taros(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_taros_digest_send_puts_text_and_chart_in_the_kapolres_outbox(tmp_path: Path) -> None:
    env = {**os.environ, "TAROS_DATA_DIR": str(tmp_path / "data")}
    added = taros(
        "officer", "add", "console:kapolres", "--name", "K", "--role", "kapolres", env=env
    )
    assert added.returncode == 0, added.stderr

    printed = taros("digest", env=env)
    assert printed.returncode == 0, printed.stderr
    assert "Ringkasan harian" in printed.stdout
    assert re.search(r"chart: .*\.png", printed.stdout)

    sent = taros("digest", "--send", env=env)
    assert sent.returncode == 0, sent.stderr
    assert "console:kapolres" in sent.stdout and "taros chat --as console:kapolres" in sent.stdout
    with sqlite3.connect(tmp_path / "data" / "taros.db") as db:
        rows = db.execute(
            "SELECT channel, chat_id, payload, sent_at FROM outbox ORDER BY id"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("console", "kapolres")] * 2
    text, chart = (json.loads(r[2]) for r in rows)
    assert "Ringkasan harian" in text["text"]
    assert chart["media"]["mime"] == "image/png"
    assert is_png(chart["media"]["path"])  # the chart and the map in one image
    assert [Path(m["path"]).name[:5] for m in chart["album"]] == ["diges", "peta7"]

    shown = taros("chat", "--as", "console:kapolres", env=env)  # the kapolres' console
    assert shown.returncode == 0, shown.stderr
    assert "Ringkasan harian" in shown.stdout
    for media in chart["album"]:  # the console shows the chart and the map apart
        assert f"[image/png: {media['path']}]" in shown.stdout
    with sqlite3.connect(tmp_path / "data" / "taros.db") as db:
        assert db.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone() == (0,)


def test_taros_digest_send_without_a_kapolres_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "TAROS_DATA_DIR": str(tmp_path / "data")}
    result = taros("digest", "--send", env=env)
    assert result.returncode == 1
    assert "no kapolres" in result.stderr


async def test_the_digest_tells_the_officers_corrections_and_the_first_guess_accuracy(
    bot: Harness,
) -> None:
    from support import register, reported

    first = await reported(bot, "warga1")
    await reported(bot, "warga2")
    await register(bot, "reskrim")
    await bot.send(f"/kategori {first} penipuan", chat="reskrim")
    await bot.send(f"/lokasi {first} Leles", chat="reskrim")
    composed = await bot.app.digest.compose(bot.clock.now() + timedelta(minutes=1), "id")
    assert "Koreksi petugas (30 hari): 1 topik, 1 lokasi." in composed.text
    assert "Topik benar sejak awal: 50% dari 2 laporan." in composed.text
    english = await bot.app.digest.compose(bot.clock.now() + timedelta(minutes=1), "en")
    assert "Topic right the first time: 50% of 2 reports." in english.text

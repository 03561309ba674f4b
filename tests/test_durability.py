"""Nothing a citizen said is lost: restarts, crashes, redeliveries, many chats at once."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

from support import START, running, texts

from bot.clock import ManualClock
from bot.config import Settings
from channels.base import Transient
from channels.recording import RecordingChannel, file_attachment, inbound
from conversations.engine import Handled
from conversations.intake.prefill import Prefill
from conversations.messages import Outbound
from conversations.state import Step

TICKET = re.compile(r"GRT-\d{4}-\d{5}")
STORY = "Motor saya dicuri semalam di depan rumah, kuncinya masih di motor."


async def test_a_draft_survives_a_restart_of_the_process(settings: Settings) -> None:
    async with running(settings) as bot:
        await bot.send("halo")
        await bot.send("2")
        await bot.send("Tarogong Kidul")
    async with running(settings) as bot:
        replies = texts(await bot.send(STORY))
        assert "Apakah ada bukti?" in replies
        await bot.send("tidak ada")
        done = texts(await bot.send("1"))
        assert TICKET.search(done)
        rows = await bot.query("SELECT category, kecamatan_code, chronology FROM tickets")
        assert rows == [("pencurian", "32.05.05", STORY)]


async def test_a_crash_between_commit_and_send_redelivers_and_makes_no_second_ticket(
    settings: Settings,
) -> None:
    """The ticket and its confirmation are committed, then the process dies before the
    platform got the reply. The platform redelivers the citizen's message after the restart."""
    down = RecordingChannel()

    def platform_unreachable(_outbound: Outbound) -> None:
        raise Transient("connection reset")

    async with running(settings) as bot:
        await bot.send("halo")
        await bot.send("1")
        await bot.send("Cibatu")
        await bot.send(STORY)
        await bot.send("tidak ada")
        confirm = inbound("1", message_id="platform-42", when=bot.clock.now())
        down.fail = platform_unreachable
        bot.app.channels["test"] = down
        assert await bot.app.engine.handle(confirm) == Handled.APPLIED
        await asyncio.sleep(0)  # the dispatcher tries once and fails: the "crash" follows
        assert not any(TICKET.search(o.text) for o in down.sent)

    async with running(settings) as bot:
        await bot.app.dispatcher.flush()
        delivered = texts(bot.channel.sent)
        assert "GRT-2026-00001" in delivered  # the confirmation survived the crash
        assert await bot.deliver(confirm) == []  # the platform's redelivery
        assert bot.last_outcome == Handled.DUPLICATE
        assert await bot.query("SELECT number FROM tickets") == [("GRT-2026-00001",)]
        assert texts(bot.channel.sent).count("GRT-2026-00001 ") <= 1


async def test_a_crash_before_commit_loses_nothing_the_redelivery_is_handled(
    settings: Settings,
) -> None:
    async with running(settings) as bot:
        await bot.send("halo")
        original = bot.app.store.apply
        calls = 0

        async def crash_once(changes, now):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            if calls == 1:
                raise OSError("disk went away")
            return await original(changes, now)

        bot.app.store.apply = crash_once  # type: ignore[method-assign]
        message = inbound("1", message_id="wa-1", when=bot.clock.now())
        sorry = texts(await bot.deliver(message))
        assert bot.last_outcome == Handled.FAILED
        assert "terjadi gangguan" in sorry
        assert "Di mana kejadiannya?" in texts(await bot.deliver(message))
        assert bot.last_outcome == Handled.APPLIED


async def test_two_hundred_chats_in_parallel_get_two_hundred_distinct_tickets(
    settings: Settings,
) -> None:
    async with running(settings) as bot:
        script = ["halo", "1", "Cibatu", STORY, "tidak ada", "1"]

        async def citizen(n: int) -> None:
            for line in script:
                await bot.app.engine.handle(inbound(line, chat=f"c{n}", when=bot.clock.now()))

        await asyncio.gather(*(citizen(n) for n in range(200)))
        await bot.app.dispatcher.flush()
        numbers = await bot.query("SELECT number FROM tickets")
        assert len(numbers) == 200
        assert len({n for (n,) in numbers}) == 200
        confirmations = [o for o in bot.channel.sent if TICKET.search(o.text)]
        assert len(confirmations) == 200
        assert len({o.chat_id for o in confirmations}) == 200
        assert bot.app.db.commits < bot.app.db.write_jobs  # writes were grouped


async def test_messages_of_one_chat_are_handled_in_order(settings: Settings) -> None:
    async with running(settings) as bot:
        futures = [
            bot.app.engine.submit(inbound(line, chat="fast", when=bot.clock.now()))
            for line in ["halo", "1", "Cibatu", STORY, "tidak ada", "1"]
        ]
        assert await asyncio.gather(*futures) == [Handled.APPLIED] * 6
        await bot.app.dispatcher.flush()
        assert await bot.query("SELECT category, kecamatan_code FROM tickets") == [
            ("uang_palsu", "32.05.12")
        ]


async def test_a_redelivered_file_is_not_downloaded_twice(settings: Settings) -> None:
    async with running(settings) as bot:
        await bot.send("halo")
        downloads = 0
        photo = file_attachment(b"jpeg")

        async def counting() -> bytes:
            nonlocal downloads
            downloads += 1
            return await photo.fetch()

        from dataclasses import replace

        message = inbound("", message_id="dup-photo", attachments=(replace(photo, fetch=counting),))
        await bot.deliver(message)
        await bot.deliver(message)
        assert downloads == 1
        assert bot.last_outcome == Handled.DUPLICATE


# --- the pre-fill hook -------------------------------------------------------------------


class KnowsEverything:
    """A stand-in for the understanding of free text: it reads the one-shot message."""

    def prefill(self, text: str, now: datetime) -> Prefill:
        if "upal" not in text:
            return Prefill()
        return Prefill(
            category="uang_palsu",
            kecamatan_code="32.05.12",
            address="warung di Cibatu",
            chronology=text,
            incident_time=now - timedelta(hours=2),
        )


class Panics:
    def prefill(self, text: str, now: datetime) -> Prefill:
        raise RuntimeError("model exploded")


async def test_a_one_shot_message_is_confirmed_in_one_line_and_not_asked_again(
    settings: Settings,
) -> None:
    one_shot = "tlg pak td pagi ada yg belanja pk upal di warung sy cibatu"
    async with running(settings, understander=KnowsEverything()) as bot:
        replies = await bot.send(one_shot)
        said = texts(replies)
        assert (
            "Laporan Uang palsu (upal) di Kec. Cibatu — warung di Cibatu,"
            " Jumat, 27 November 2026 07.00 WIB — benar?" in said
        )
        assert [o.label for o in replies[-1].options] == ["Ya", "Bukan"]
        assert "Laporan Anda tentang apa?" not in said
        after_yes = texts(await bot.send("ya"))
        assert "Di mana kejadiannya?" not in after_yes
        assert "Ceritakan apa yang terjadi" not in after_yes
        assert "Apakah ada bukti?" in after_yes  # only the missing step is asked
        summary = texts(await bot.send("tidak ada"))
        assert "Waktu kejadian: Jumat, 27 November 2026 07.00 WIB" in summary
        await bot.send("1")
        rows = await bot.query(
            "SELECT category, kecamatan_code, chronology, incident_time FROM tickets"
        )
        assert rows[0][:3] == ("uang_palsu", "32.05.12", one_shot)
        assert rows[0][3] is not None


async def test_a_wrong_understanding_is_corrected_step_by_step(settings: Settings) -> None:
    async with running(settings, understander=KnowsEverything()) as bot:
        await bot.send("ada upal di warung, pelakunya kabur naik motor")
        corrected = texts(await bot.send("bukan"))
        assert "kita isi satu per satu" in corrected
        assert "Laporan Anda tentang apa?" in corrected
        assert "Di mana kejadiannya?" in texts(await bot.send("3"))
        rows = await bot.app.store.load_conversation(bot.channel.sent[0].key)
        assert rows is not None and rows.draft is not None
        assert rows.draft.category == "penipuan"
        assert rows.draft.incident_time is None
        assert rows.draft.chronology == "ada upal di warung, pelakunya kabur naik motor"


class Urgent:
    def prefill(self, text: str, now: datetime) -> Prefill:
        return Prefill(category="pencurian", urgent=True, chronology=text)


async def test_an_emergency_gets_the_110_advice_before_anything_else(settings: Settings) -> None:
    async with running(settings, understander=Urgent()) as bot:
        replies = await bot.send("tolong ada begal sekarang di jalan, korbannya berdarah")
        assert len(replies) == 1  # one message: the advice first, then the welcome
        text = replies[0].text
        assert text.index("segera hubungi 110") < text.index("Selamat datang")
        for line in ["ya", "Cibatu", "tidak ada"]:
            await bot.send(line)
        summary = texts(bot.channel.sent[-1:])
        assert "Ditandai MENDESAK" in summary
        await bot.send("1")
        assert await bot.query("SELECT urgent FROM tickets") == [(1,)]


class Sundanese:
    def prefill(self, text: str, now: datetime) -> Prefill:
        return Prefill(category="miras", language="su", chronology=text)


async def test_a_citizen_writing_sundanese_is_asked_once_and_answered_in_sundanese(
    settings: Settings,
) -> None:
    async with running(settings, understander=Sundanese()) as bot:
        first = await bot.send("punten pak, aya nu ngajual ciu di deket pasar unggal peuting")
        said = texts(first)
        assert "Wilujeng sumping di TAROS" in said
        assert "Hoyong diwaler dina Basa Sunda?" in said
        confirm = texts(await bot.send("1"))
        assert "Laporan Inuman keras (miras) — leres?" in confirm
        where = texts(await bot.send("muhun"))
        assert "Kajadianana di mana?" in where
        await bot.send("Wanaraja")
        summary = texts(await bot.send("teu aya"))
        assert "Ringkesan laporan Anjeun" in summary
        done = texts(await bot.send("1"))
        assert "Hatur nuhun" in done
        assert "WIB" in done
        # the choice is remembered: the next report starts in Sundanese without asking
        again = texts(await bot.send("punten, aya deui"))
        assert "Hoyong diwaler" not in again
        assert "Wilujeng sumping" in again


async def test_indonesian_is_kept_when_the_citizen_declines_sundanese(
    settings: Settings,
) -> None:
    async with running(settings, understander=Sundanese()) as bot:
        await bot.send("punten, aya nu mabok unggal wengi")
        replies = texts(await bot.send("2"))
        assert "Laporan Minuman keras (miras) — benar?" in replies


async def test_a_failing_pre_fill_hook_falls_back_to_asking(settings: Settings) -> None:
    async with running(settings, understander=Panics()) as bot:
        replies = texts(await bot.send("ada upal di cibatu"))
        assert "Laporan Anda tentang apa?" in replies
        assert bot.last_outcome == Handled.APPLIED


# --- durable timers ----------------------------------------------------------------------


async def test_a_silent_draft_gets_one_reminder_then_expires(settings: Settings) -> None:
    clock = ManualClock(START)
    async with running(settings, clock=clock) as bot:
        await bot.send("halo")
        await bot.send("1")
        clock.advance(timedelta(minutes=29))
        assert await bot.fire_timers() == []
        clock.advance(timedelta(minutes=2))
        reminder = texts(await bot.fire_timers())
        assert "Laporan Anda belum selesai" in reminder
        assert "Di mana kejadiannya?" in reminder
        clock.advance(timedelta(hours=1))
        assert await bot.fire_timers() == []  # one reminder, not one every half hour
    clock.advance(timedelta(hours=23))
    async with running(settings, clock=clock) as bot:  # the expiry was due while down
        expired = texts(await bot.fire_timers())
        assert "Draf laporan Anda kami hapus" in expired
        conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
        assert conv is not None and conv.step == Step.IDLE and conv.draft is None
        assert await bot.query("SELECT * FROM timers") == []


async def test_an_answer_restarts_the_reminder_and_a_ticket_clears_the_timers(
    settings: Settings,
) -> None:
    clock = ManualClock(START)
    async with running(settings, clock=clock) as bot:
        await bot.send("halo")
        clock.advance(timedelta(minutes=20))
        await bot.send("1")
        clock.advance(timedelta(minutes=20))
        assert await bot.fire_timers() == []  # 40 minutes since start, 20 since the answer
        for line in ["Cibatu", STORY, "tidak ada", "1"]:
            await bot.send(line)
        assert await bot.query("SELECT * FROM timers") == []

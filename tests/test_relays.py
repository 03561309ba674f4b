"""Every relayed answer reaches a person: questions are kept per report, a reply whose officer
was removed goes to the report's unit, a removed officer gets nothing more, and an officer
hears when their message could not be delivered or was shortened."""

from __future__ import annotations

import asyncio

from support import Harness, register, reported, running, texts

from bot.config import Settings
from bot.identity import ChannelId
from bot.officers import remove_officer
from channels.base import Permanent, RetryAfter
from channels.recording import RecordingChannel, inbound
from conversations.messages import Outbound


async def two_questions(bot: Harness) -> tuple[str, str]:
    await register(bot)
    first = await reported(bot)
    second = await reported(bot)
    await bot.send(f"/status {first} selesai pelaku diamankan", chat="reskrim")
    await bot.send(f"/balas {second} Apakah uangnya masih ada?", chat="reskrim")
    return first, second


async def test_two_questions_the_citizen_says_which_report(bot: Harness) -> None:
    first, second = await two_questions(bot)
    asked = await bot.send("sudah")
    assert "Jawaban Anda untuk laporan yang mana?" in texts(asked)
    assert [o.label for o in asked[-1].options] == [
        f"{first}: sudah tertangani?",
        f"{second}: pesan petugas",
    ]
    assert "ditutup" in texts(await bot.send("1"))  # "sudah" answers the closing question
    assert await bot.query("SELECT resolved_ok FROM tickets WHERE number = ?", (first,)) == [(1,)]
    # the officer's question is still open, and now the only one: answered directly
    before = len(bot.channel.to("reskrim"))
    told = texts(await bot.send("Masih ada, saya simpan di laci"))
    assert "diteruskan ke petugas" in told
    relayed = texts(bot.channel.to("reskrim")[before:])
    assert f"tentang {second}" in relayed and "saya simpan di laci" in relayed


async def test_an_answer_naming_its_report_needs_no_question(bot: Harness) -> None:
    first, second = await two_questions(bot)
    told = texts(await bot.send(f"{second}: masih ada pak"))
    assert "diteruskan ke petugas" in told
    assert "masih ada pak" in texts(bot.channel.to("reskrim")[-1:])
    assert "ditutup" in texts(await bot.send("sudah"))  # then the closing one, alone
    assert await bot.query("SELECT resolved_ok FROM tickets WHERE number = ?", (first,)) == [(1,)]


async def test_a_choice_by_button(bot: Harness) -> None:
    _first, second = await two_questions(bot)
    asked = await bot.send("sudah")
    button = asked[-1].options[1].id
    assert "diteruskan" in texts(await bot.send(chosen_option=button))
    assert "sudah" in texts(bot.channel.to("reskrim")[-1:])
    assert second in texts(bot.channel.to("reskrim")[-1:])


async def test_a_reply_to_a_removed_officer_goes_to_the_unit(bot: Harness) -> None:
    await register(bot)
    await register(bot, "reskrim2", name="Briptu Ujang")
    number = await reported(bot)
    await bot.send(f"/balas {number} Ada saksi?", chat="reskrim")
    await remove_officer(bot.app.db, ChannelId(bot.channel.name, "reskrim"), now=bot.clock.now())
    before = len(bot.channel.to("reskrim"))
    told = texts(await bot.send("Ada, tetangga saya"))
    assert "diteruskan ke petugas" in told
    assert len(bot.channel.to("reskrim")) == before
    reached = texts(bot.channel.to("reskrim2")[-1:])
    assert "Ada, tetangga saya" in reached and "tidak terdaftar lagi" in reached


async def test_a_removed_officer_gets_no_queued_alert(settings: Settings) -> None:
    attempts: list[str] = []
    tried = asyncio.Event()

    def busy(outbound: Outbound) -> None:
        if outbound.chat_id == "reskrim":
            attempts.append(outbound.text)
            tried.set()
            raise RetryAfter(0.3)

    async with running(settings, channel=RecordingChannel(fail=busy)) as bot:
        await register(bot)
        for line in ("halo", "1", "Cibatu", "Ada uang palsu di warung saya tadi pagi", "tidak ada"):
            await bot.send(line)
        await bot.app.engine.handle(inbound("1", chat="warga", when=bot.clock.now()))
        await tried.wait()  # the alert is on its way, waiting to be tried again
        assert await remove_officer(
            bot.app.db, ChannelId(bot.channel.name, "reskrim"), now=bot.clock.now()
        )
        bot.channel.fail = None
        await bot.app.dispatcher.flush()
        assert bot.channel.to("reskrim") == []
        assert len(attempts) == 1
        purged = await bot.query("SELECT last_error FROM outbox WHERE chat_id = 'reskrim'")
        assert purged == [("officer removed",)]


async def test_an_officer_hears_when_a_message_was_not_delivered(settings: Settings) -> None:
    def blocked_the_bot(outbound: Outbound) -> None:
        if outbound.chat_id == "warga" and "Pesan petugas" in outbound.text:
            raise Permanent("403 Forbidden: bot was blocked by the user")

    async with running(settings, channel=RecordingChannel(fail=blocked_the_bot)) as bot:
        await register(bot)
        number = await reported(bot)
        sent = texts(await bot.send(f"/balas {number} Mohon kirim fotonya", chat="reskrim"))
        assert "Terkirim ke Pelapor #" in sent
        told = texts(bot.channel.to("reskrim")[-1:])
        assert f"Laporan {number}: pesan untuk pelapor tidak terkirim" in told
        assert "bot was blocked by the user" in told  # the reason, as the platform gave it
        long = texts(await bot.send(f"/balas {number} {'x' * 2500}", chat="reskrim"))
        assert "Dipotong menjadi 2000 karakter pertama" in long

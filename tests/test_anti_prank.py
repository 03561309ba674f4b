"""Anti-prank without an ID card: rate limits, prank strikes, the block list."""

from __future__ import annotations

import re
from datetime import timedelta

from support import STORY, Harness, register, reported, running, texts

from bot.config import Settings
from conversations.engine import Handled


async def test_a_flooder_gets_one_notice_then_silence_and_others_are_untouched(
    bot: Harness,
) -> None:
    for i in range(20):
        await bot.send(f"pesan {i}", chat="flooder")
        assert bot.last_outcome == Handled.APPLIED
    notice = await bot.send("pesan 21", chat="flooder")
    assert bot.last_outcome == Handled.LIMITED
    assert "terlalu cepat" in texts(notice)
    assert await bot.send("pesan 22", chat="flooder") == []
    assert bot.last_outcome == Handled.LIMITED
    assert "Laporan Anda tentang apa?" in texts(await bot.send("halo", chat="tetangga"))
    bot.clock.advance(timedelta(seconds=61))
    await bot.send("pesan 23", chat="flooder")
    assert bot.last_outcome == Handled.APPLIED


async def test_a_sixth_report_in_a_day_waits(settings: Settings) -> None:
    async with running(settings) as bot:
        for _ in range(5):
            await reported(bot, "rajin")
            bot.clock.advance(timedelta(minutes=2))
        for line in ["halo", "1", "Cibatu", STORY, "tidak ada"]:
            await bot.send(line, chat="rajin")
        refused = texts(await bot.send("1", chat="rajin"))
        assert "sudah mengirim 5 laporan dalam 24 jam" in refused
        assert "Ringkasan laporan Anda" in refused  # the draft is kept
        assert len(await bot.query("SELECT id FROM tickets")) == 5
        bot.clock.advance(timedelta(hours=24))
        assert re.search(r"GRT-\d{4}-\d{5}", texts(await bot.send("1", chat="rajin")))


async def test_three_pranks_block_the_reporter_with_a_notice(bot: Harness) -> None:
    await register(bot)
    for strike in (1, 2, 3):
        number = await reported(bot, "iseng")
        reply = texts(await bot.send(f"/status {number} tolak iseng laporan palsu", chat="reskrim"))
        if strike < 3:
            assert f"Peringatan {strike} dari 3" in reply
        else:
            assert "diblokir sampai" in reply
        bot.clock.advance(timedelta(hours=1))
    told = texts(bot.channel.to("iseng")[-2:])
    assert "Nomor Anda diblokir dari layanan ini sampai" in told
    assert "110" in told
    reminder = texts(await bot.send("halo lagi", chat="iseng"))
    assert bot.last_outcome == Handled.BLOCKED
    assert "diblokir" in reminder
    assert await bot.send("halo lagi", chat="iseng") == []  # reminded once a day at most
    assert bot.last_outcome == Handled.BLOCKED
    assert await bot.query("SELECT COUNT(*) FROM strikes") == [(3,)]
    assert await bot.query("SELECT action FROM audit_log WHERE action = 'block'") == [("block",)]
    bot.clock.advance(timedelta(days=31))
    bot.app.engine.blocks.invalidate()  # type: ignore[union-attr]
    await bot.send("halo", chat="iseng")
    assert bot.last_outcome == Handled.APPLIED


async def test_a_plain_rejection_is_no_strike(bot: Harness) -> None:
    await register(bot)
    number = await reported(bot, "warga")
    await bot.send(f"/status {number} tolak bukan wewenang polisi", chat="reskrim")
    assert await bot.query("SELECT COUNT(*) FROM strikes") == [(0,)]

"""Anti-prank without an ID card: rate limits, prank strikes, the block list."""

from __future__ import annotations

import re
from datetime import timedelta

from support import STORY, Harness, register, reported, running, texts

from bot.config import Settings
from conversations.engine import Handled
from conversations.understanding.understander import Understander


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


async def block_by_two_officers(bot: Harness, who: str = "iseng") -> None:
    """Three prank strikes: two from one officer, the third from another."""
    await register(bot)
    await register(bot, "reskrim2", name="Briptu Ujang")
    for strike in (1, 2, 3):
        number = await reported(bot, who)
        officer = "reskrim" if strike < 3 else "reskrim2"
        await bot.send(f"/status {number} tolak iseng laporan palsu", chat=officer)
        bot.clock.advance(timedelta(hours=1))


async def test_three_pranks_block_the_reporter_with_a_notice(bot: Harness) -> None:
    await register(bot)
    await register(bot, "reskrim2", name="Briptu Ujang")
    for strike in (1, 2, 3):
        number = await reported(bot, "iseng")
        officer = "reskrim" if strike < 3 else "reskrim2"  # a block needs a second officer
        reply = texts(await bot.send(f"/status {number} tolak iseng laporan palsu", chat=officer))
        if strike < 3:
            assert f"Peringatan {strike} dari 3" in reply
        else:
            assert "diblokir sampai" in reply
        bot.clock.advance(timedelta(hours=1))
    told = texts(bot.channel.to("iseng")[-2:])
    assert "Nomor Anda diblokir untuk mengirim laporan sampai" in told
    assert "ditolak petugas sebagai laporan iseng" in told  # the real reason
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


async def test_one_officer_alone_does_not_block(bot: Harness) -> None:
    await register(bot)
    numbers = [await reported(bot, "korban") for _ in range(3)]
    for number in numbers:  # three rejections within a second, by one officer
        reply = texts(await bot.send(f"/status {number} tolak iseng", chat="reskrim"))
    assert "Peringatan 3 dari 3" in reply
    assert "Tidak diblokir" in reply
    assert await bot.query("SELECT COUNT(*) FROM blocks") == [(0,)]
    await bot.send("halo", chat="korban")
    assert bot.last_outcome == Handled.APPLIED


async def test_the_kapolres_confirms_a_block(bot: Harness) -> None:
    await register(bot)
    await register(bot, "kapolres", "kapolres", None, "AKBP Kapolres")
    numbers = [await reported(bot, "iseng") for _ in range(3)]
    for number in numbers[:2]:
        await bot.send(f"/status {number} tolak iseng", chat="reskrim")
    reply = texts(await bot.send(f"/status {numbers[2]} tolak iseng", chat="kapolres"))
    assert "diblokir sampai" in reply
    assert await bot.query("SELECT COUNT(*) FROM blocks") == [(1,)]


async def test_a_block_never_silences_an_emergency_or_a_right(settings: Settings) -> None:
    async with running(settings, understander=Understander(settings.tz)) as bot:
        await a_blocked_citizen_in_danger(bot)


async def a_blocked_citizen_in_danger(bot: Harness) -> None:
    await block_by_two_officers(bot)
    await register(bot, "kapolres", "kapolres", None, "AKBP Kapolres")
    first = await reported(bot, "tetangga")  # someone else's report: not theirs to see
    ordinary = texts(await bot.send("halo", chat="iseng"))
    assert bot.last_outcome == Handled.BLOCKED
    assert "ditolak petugas sebagai laporan iseng" in ordinary

    danger = "Tolong ada orang ditusuk sekarang di pasar Cibatu! 081311112222"
    advice = texts(await bot.send(danger, chat="iseng"))
    assert bot.last_outcome == Handled.APPLIED
    assert "hubungi 110" in advice
    alert = texts(bot.channel.to("kapolres")[-1:])
    assert "MENDESAK" in alert and "ditusuk sekarang" in alert
    assert "0813****2222" in alert and "081311112222" not in alert

    mine = await bot.query("SELECT number FROM tickets ORDER BY id LIMIT 1")
    status = texts(await bot.send(f"/status {mine[0][0]}", chat="iseng"))
    assert "Status: ditolak" in status
    assert "tidak ditemukan" in texts(await bot.send(f"/status {first}", chat="iseng"))
    assert "/hapusdata" in texts(await bot.send("/bantuan", chat="iseng"))
    assert "Hapus data Anda?" in texts(await bot.send("/hapusdata", chat="iseng"))
    assert "Data Anda sudah dihapus" in texts(await bot.send("1", chat="iseng"))
    assert await bot.query("SELECT COUNT(*) FROM identities WHERE external_id = 'iseng'") == [
        (0,)
    ]
    await bot.send("/mulai", chat="iseng")
    assert bot.last_outcome == Handled.BLOCKED  # the block itself stays

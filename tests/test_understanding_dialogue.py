"""The intake with the real understanding of free text: one-shot messages, emergencies and
Sundanese, as a citizen lives them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support import Harness, running, texts

from bot.config import Settings
from conversations.understanding.understander import Understander


@pytest.fixture
async def listening(settings: Settings) -> AsyncIterator[Harness]:
    async with running(settings, understander=Understander(settings.tz)) as harness:
        yield harness


async def test_a_one_shot_report_is_confirmed_and_only_the_rest_is_asked(
    listening: Harness,
) -> None:
    bot = listening
    first = await bot.send("tlg pak td pagi ada yg belanja pk upal di warung sy cibatu")
    assert len(first) == 1  # the welcome and the confirmation come as one message
    line = first[-1].text.split("\n\n")[-1]
    assert line.startswith("Laporan Uang palsu (upal) di Kec. Cibatu")
    assert "Jumat, 27 November 2026" in line  # "tadi pagi", in Garut's time
    assert line.endswith("— benar?")
    asked = texts(await bot.send("ya"))
    assert "Apakah ada bukti?" in asked
    for question in ("Laporan Anda tentang apa?", "Di mana kejadiannya?", "Ceritakan apa"):
        assert question not in asked
    await bot.send("tidak ada")
    await bot.send("1")
    rows = await bot.query(
        "SELECT category, kecamatan_code, chronology, incident_time FROM tickets"
    )
    assert rows[0][0:2] == ("uang_palsu", "32.05.12")
    assert "upal" in str(rows[0][2])
    assert str(rows[0][3]).startswith("2026-11-27")


async def test_a_greeting_alone_gets_the_menu(listening: Harness) -> None:
    replies = texts(await listening.send("P"))
    assert "Laporan Anda tentang apa?" in replies
    assert "benar?" not in replies


async def test_an_emergency_gets_110_before_anything_else(listening: Harness) -> None:
    replies = await listening.send(
        "tolong pak ada begal sekarang di jalan raya leles, korbannya berdarah"
    )
    assert "segera hubungi 110" in replies[0].text
    assert "Kec. Leles" in replies[-1].text
    await listening.send("ya")
    await listening.send("tidak ada")
    summary = texts(listening.channel.sent[-1:])
    assert "Ditandai MENDESAK" in summary
    await listening.send("1")
    assert await listening.query("SELECT urgent, category FROM tickets") == [(1, "pencurian")]


async def test_a_past_theft_is_not_an_emergency(listening: Harness) -> None:
    replies = await listening.send(
        "kemarin malam motor saya hilang dicuri di parkiran pasar kadungora"
    )
    assert "110 (gratis" not in texts(replies)


async def test_a_sundanese_conversation_stays_in_sundanese(listening: Harness) -> None:
    bot = listening
    first = texts(
        await bot.send("punten pak, aya nu ngajual ciu di deket pasar wanaraja unggal peuting")
    )
    assert "Wilujeng sumping" in first
    assert "Hoyong diwaler dina Basa Sunda?" in first
    confirm = texts(await bot.send("1"))
    assert "Inuman keras (miras) di Kec. Wanaraja" in confirm
    assert "leres?" in confirm
    assert "Aya buktina?" in texts(await bot.send("muhun"))
    summary = texts(await bot.send("teu aya"))
    assert "Ringkesan laporan Anjeun" in summary
    assert "Hatur nuhun" in texts(await bot.send("1"))


async def test_an_ambiguous_desa_is_not_guessed(listening: Harness) -> None:
    bot = listening
    replies = texts(await bot.send("ada penipuan cod di mekarsari, barang tidak sesuai pesanan"))
    assert "Kec." not in replies.split("—")[0] or "benar?" not in replies
    conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
    assert conv is not None and conv.draft is not None
    assert conv.draft.kecamatan_code is None


async def test_p_then_the_whole_story_is_read_like_a_one_shot_message(
    listening: Harness,
) -> None:
    bot = listening
    assert "Laporan Anda tentang apa?" in texts(await bot.send("P"))
    confirm = texts(
        await bot.send("punten pak, aya nu ngajual ciu di deket pasar wanaraja unggal peuting")
    )
    assert "Minuman keras (miras) di Kec. Wanaraja" in confirm
    asked = texts(await bot.send("ya"))
    assert "Apakah ada bukti?" in asked  # no question about the place or the story
    conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
    assert conv is not None and conv.draft is not None
    assert conv.draft.chronology is not None and "ciu" in conv.draft.chronology


async def test_a_story_at_the_topic_question_is_kept_without_the_understanding(
    bot: Harness,
) -> None:
    await bot.send("halo")
    story = "motor saya dicuri semalam di depan rumah, kuncinya masih nempel di motor"
    confirm = texts(await bot.send(story))
    assert "Laporan Pencurian / curanmor / begal — benar?" in confirm
    assert "Di mana kejadiannya?" in texts(await bot.send("ya"))
    assert "Apakah ada bukti?" in texts(await bot.send("Leles"))  # the story is not asked again
    conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
    assert conv is not None and conv.draft is not None
    assert conv.draft.chronology == story


async def test_a_short_topic_answer_is_just_the_topic(bot: Harness) -> None:
    await bot.send("halo")
    assert "Di mana kejadiannya?" in texts(await bot.send("mau lapor penipuan"))
    await bot.send("Leles")
    assert "Ceritakan apa yang terjadi" in texts(bot.channel.sent[-1:])


async def test_a_citizen_writing_english_is_asked_once_in_english(listening: Harness) -> None:
    bot = listening
    first = texts(
        await bot.send(
            "Hello, my motorbike was stolen last night near the market in Leles, please help"
        )
    )
    assert "Welcome to TAROS" in first
    assert "You wrote in English. Shall I answer in English?" in first
    confirm = texts(await bot.send("1"))
    assert "is that right?" in confirm
    assert "Kec. Leles" in confirm


async def test_declining_english_keeps_indonesian(listening: Harness) -> None:
    bot = listening
    await bot.send("Hello, my motorbike was stolen last night near the market in Leles")
    assert "benar?" in texts(await bot.send("Bahasa Indonesia"))

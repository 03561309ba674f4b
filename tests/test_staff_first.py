"""Staff first: a registered officer, Kapolres or admin always reaches the officer interface
with a staff command — after Telegram's /start, and while they write a report of their own as
a citizen (the draft is kept) — and a citizen report begins only with an explicit /mulai."""

from __future__ import annotations

import pytest
from support import Harness, register, reported, texts

from conversations.desk.commands import is_staff_command


@pytest.mark.parametrize(
    ("text", "drafting", "staff"),
    [
        ("/start", False, True),
        ("/start", True, True),
        ("/bantuan", True, True),
        ("/status GRT-2026-00001", True, True),
        ("status GRT-2026-00001", True, True),  # WhatsApp: the same words without /
        ("status GRT-2026-00001 proses", False, True),
        ("daftar", True, True),
        ("daftar terlambat", False, True),
        ("balas GRT-2026-00001 mohon kirim foto", True, True),
        # a citizen report's own words, while the officer writes one
        ("Status saya warga biasa, motor saya hilang kemarin", True, False),
        ("bukti ada di hp saya", True, False),
        ("daftar belanjaan saya dicuri", True, False),
        ("/mulai", False, False),
        ("halo pak", False, False),
        ("", True, False),
    ],
)
def test_what_counts_as_a_staff_command(text: str, drafting: bool, staff: bool) -> None:
    assert is_staff_command(text, drafting=drafting) is staff


async def test_an_officer_with_a_draft_open_still_works_tickets_in_plain_words(
    bot: Harness,
) -> None:
    """As on WhatsApp or the console: words without "/"."""
    number = await reported(bot)
    await register(bot, "reskrim")
    assert "Perintah petugas" in texts(await bot.send("start", chat="reskrim"))
    assert "Laporan Anda tentang apa" in texts(await bot.send("/mulai", chat="reskrim"))

    details = texts(await bot.send(f"status {number}", chat="reskrim"))
    assert f"Laporan {number}" in details and "tidak ditemukan" not in details
    changed = texts(await bot.send(f"status {number} proses tim berangkat", chat="reskrim"))
    assert "diproses" in changed
    assert "Perintah petugas" in texts(await bot.send("/bantuan", chat="reskrim"))

    # The draft is kept: the officer's report goes on where it was.
    assert "Di mana kejadiannya" in texts(await bot.send("uang palsu", chat="reskrim"))
    rows = await bot.query(
        "SELECT COUNT(*) FROM tickets WHERE status = 'diproses' AND number = ?", (number,)
    )
    assert rows == [(1,)]


async def test_a_citizen_who_types_start_or_a_command_word_gets_the_citizen_dialogue(
    bot: Harness,
) -> None:
    assert "Laporan Anda tentang apa" in texts(await bot.send("/start", chat="warga"))
    replies = texts(await bot.send("/status GRT-2026-00001", chat="warga"))
    assert "tidak ditemukan di antara laporan Anda" in replies


async def test_an_officer_corrects_the_topic_and_the_correction_is_kept_as_an_example(
    bot: Harness,
) -> None:
    number = await reported(bot)  # uang palsu, SATRESKRIM
    await register(bot, "reskrim")
    corrected = texts(await bot.send(f"/kategori {number} penipuan", chat="reskrim"))
    assert f"Topik {number} dikoreksi menjadi Penipuan" in corrected
    assert await bot.query("SELECT category FROM tickets WHERE number = ?", (number,)) == [
        ("penipuan",)
    ]
    assert await bot.query(
        "SELECT from_category, to_category, actor LIKE 'officer:%' FROM category_corrections"
    ) == [("uang_palsu", "penipuan", 1)]
    details = texts(await bot.send(f"/status {number}", chat="reskrim"))
    assert "Penipuan" in details

    again = texts(await bot.send(f"kategori {number} penipuan", chat="reskrim"))
    assert "sudah bertopik Penipuan" in again
    unknown = texts(await bot.send(f"/kategori {number} entahlah", chat="reskrim"))
    assert "tidak dikenal" in unknown and "uang_palsu" in unknown
    moved = texts(await bot.send(f"/kategori {number} narkoba", chat="reskrim"))
    assert f"/tugaskan {number} SATRESNARKOBA" in moved
    assert await bot.query("SELECT COUNT(*) FROM category_corrections") == [(2,)]


async def test_an_officer_of_another_unit_cannot_correct_the_topic(bot: Harness) -> None:
    number = await reported(bot)
    await register(bot, "lantas", unit="SATLANTAS")
    replies = texts(await bot.send(f"/kategori {number} penipuan", chat="lantas"))
    assert "tidak ditemukan" in replies
    assert await bot.query("SELECT COUNT(*) FROM category_corrections") == [(0,)]


async def test_an_officer_corrects_the_place_and_the_polsek_follows(bot: Harness) -> None:
    number = await reported(bot)  # Kec. Cibatu: POLSEK-CIBATU
    await register(bot, "reskrim")
    moved = texts(await bot.send(f"/lokasi {number} desa Jangkurang Leles", chat="reskrim"))
    assert f"Lokasi {number} dikoreksi menjadi" in moved and "Leles" in moved
    assert "POLSEK-LELES" in moved
    assert await bot.query(
        "SELECT kecamatan_code, polsek FROM tickets WHERE number = ?", (number,)
    ) == [("32.05.09", "POLSEK-LELES")]
    assert await bot.query(
        "SELECT from_kecamatan, to_kecamatan, actor LIKE 'officer:%' FROM place_corrections"
    ) == [("32.05.12", "32.05.09", 1)]
    assert "Leles" in texts(await bot.send(f"/status {number}", chat="reskrim"))

    same = texts(await bot.send(f"lokasi {number} Leles", chat="reskrim"))
    assert "sudah berada di" in same
    shared = texts(await bot.send(f"/lokasi {number} Mekarsari", chat="reskrim"))
    assert "beberapa kecamatan" in shared
    nowhere = texts(await bot.send(f"/lokasi {number} Gotham", chat="reskrim"))
    assert f"/lokasi {number} Cibatu" in nowhere
    assert await bot.query("SELECT COUNT(*) FROM place_corrections") == [(1,)]

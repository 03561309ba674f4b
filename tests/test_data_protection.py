"""UU 27/2022: a reporter can be forgotten, and data is not kept longer than needed."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from support import STORY, Harness, register, reported, texts

from channels.recording import file_attachment


async def setup(bot: Harness) -> tuple[str, str]:
    await register(bot)
    closed = await reported(bot, "ani", evidence=(b"photo of a closed case",))
    still_open = await reported(bot, "ani", evidence=(b"photo of an open case",))
    await bot.send(f"/status {closed} selesai", chat="reskrim")
    return closed, still_open


async def test_hapusdata_explains_asks_and_forgets(bot: Harness) -> None:
    closed, still_open = await setup(bot)
    question = await bot.send("/hapusdata", chat="ani")
    said = texts(question)
    assert "Hapus data Anda?" in said
    assert "bukti dari laporan yang sudah selesai" in said
    # what stays of the open report is said before confirming
    assert f"Laporan Anda yang masih diproses ({still_open}) tetap disimpan polisi" in said
    assert [o.label for o in question[-1].options] == [
        "Ya, hapus data saya",
        "Tidak, jangan dihapus",
    ]
    files_before = len(list(bot.app.settings.media_dir.glob("??/*")))
    assert "Data Anda sudah dihapus" in texts(await bot.send("1", chat="ani"))

    assert await bot.query("SELECT * FROM identities WHERE external_id = 'ani'") == []
    evidence = await bot.query(
        "SELECT t.number FROM evidence e JOIN tickets t ON t.id = e.ticket_id ORDER BY t.id"
    )
    assert evidence == [(still_open,)]  # the open report keeps its evidence
    # the closed report's evidence file is gone at once, not at the next retention pass
    assert len(list(bot.app.settings.media_dir.glob("??/*"))) == files_before - 1
    chats = dict(await bot.query("SELECT number, chat_id FROM tickets"))
    assert chats == {closed: "", still_open: ""}  # nobody reaches them through a report
    assert await bot.query("SELECT COUNT(*) FROM conversations WHERE chat_id = 'ani'") == [(0,)]
    assert await bot.query("SELECT COUNT(*) FROM outbox WHERE chat_id = 'ani'") == [(0,)]
    assert await bot.query("SELECT action FROM audit_log WHERE action = 'reporter.erase'") == [
        ("reporter.erase",)
    ]
    # the open report is still worked; the reporter is no longer written to
    told = len(bot.channel.to("ani"))
    await bot.send(f"/status {still_open} proses", chat="reskrim")
    relay = texts(await bot.send(f"/balas {still_open} Mohon datang", chat="reskrim"))
    assert "tidak dapat dihubungi lagi" in relay
    assert len(bot.channel.to("ani")) == told
    await bot.send(f"/status {still_open} selesai", chat="reskrim")
    done = await bot.app.retention.purge()
    assert done["erased_reports_evidence"] == 1 and done["files_deleted"] == 1
    assert await bot.query("SELECT COUNT(*) FROM evidence") == [(0,)]
    assert list(bot.app.settings.media_dir.glob("??/*")) == []
    # what is left of the reports is pseudonymous
    assert await bot.query("SELECT COUNT(*) FROM tickets") == [(2,)]


async def test_saying_no_deletes_nothing_and_continues(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("1")
    assert "Hapus data Anda?" in texts(await bot.send("/hapusdata"))
    back = texts(await bot.send("tidak"))
    assert "Tidak ada yang dihapus" in back
    assert "Di mana kejadiannya?" in back


async def test_evidence_expires_a_year_after_closing_and_files_are_collected(
    bot: Harness,
) -> None:
    _closed, still_open = await setup(bot)
    bot.clock.advance(timedelta(days=366))
    for path in bot.app.settings.media_dir.glob("??/*"):
        os.utime(path, (time.time() - 3 * 86400, time.time() - 3 * 86400))
    done = await bot.app.retention.purge()
    assert done["evidence_expired"] == 1
    assert done["files_deleted"] == 1
    left = await bot.query("SELECT t.number FROM evidence e JOIN tickets t ON t.id = e.ticket_id")
    assert left == [(still_open,)]
    assert len(list(bot.app.settings.media_dir.glob("??/*"))) == 1


async def test_inactive_reporters_become_pseudonymous(bot: Harness) -> None:
    _closed, still_open = await setup(bot)
    await bot.send(f"/status {still_open} selesai", chat="reskrim")
    bot.clock.advance(timedelta(days=731))
    done = await bot.app.retention.purge()
    assert done["identities_pseudonymised"] >= 1
    assert await bot.query("SELECT * FROM identities WHERE external_id = 'ani'") == []
    assert await bot.query("SELECT COUNT(*) FROM tickets") == [(2,)]


async def test_a_file_of_a_draft_in_progress_is_kept(bot: Harness) -> None:
    for line in ["halo", "1", "Cibatu", STORY]:
        await bot.send(line)
    await bot.send(attachments=(file_attachment(b"draft photo"),))
    for path in bot.app.settings.media_dir.glob("??/*"):
        os.utime(path, (time.time() - 3 * 86400, time.time() - 3 * 86400))
    bot.clock.advance(timedelta(days=3))
    assert (await bot.app.retention.purge())["files_deleted"] == 0

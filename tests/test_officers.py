"""Officers and the Kapolres work tickets in chat; the reporter is told and stays hidden."""

from __future__ import annotations

import pytest
from support import STORY, TICKET, Harness, register, reported, texts

from bot.identity import ChannelId
from bot.officers import RegistryError, add_officer, list_officers, remove_officer


@pytest.fixture
async def desk(bot: Harness) -> Harness:
    await register(bot, "reskrim", "officer", "SATRESKRIM", "Bripka Asep")
    await register(bot, "cibatu", "officer", "polsek cibatu", "Aipda Dedi")
    await register(bot, "lantas", "officer", "SATLANTAS", "Brigpol Euis")
    await register(bot, "spkt", "officer", "SPKT", "Bripda Rina")
    await register(bot, "kapolres", "kapolres", None, "AKBP Kapolres")
    return bot


async def test_a_report_reaches_the_unit_and_the_polsek_then_moves_to_done(desk: Harness) -> None:
    bot = desk
    number = await reported(bot)
    notice = texts(bot.channel.to("reskrim"))
    assert f"Laporan baru {number}" in notice
    assert "Kec. Cibatu" in notice
    assert "Pelapor #" in notice
    assert number in texts(bot.channel.to("cibatu"))
    assert bot.channel.to("lantas") == []
    assert bot.channel.to("spkt") == []  # Cibatu has its own Polsek
    assert bot.channel.to("kapolres") == []  # not urgent

    detail = texts(await bot.send(f"/status {number}", chat="reskrim"))
    assert "Status: baru" in detail
    assert STORY in detail
    assert "Bukti: 0 file" in detail

    ok = texts(await bot.send(f"/status {number} proses sedang kami cek ke lokasi", chat="reskrim"))
    assert "sekarang diproses" in ok
    told = texts(bot.channel.to("warga")[-1:])
    assert f"Perkembangan laporan {number}: diproses" in told
    assert "sedang kami cek ke lokasi" in told

    await bot.send(f"status {number} selesai pelaku sudah diamankan", chat="cibatu")
    closing = bot.channel.to("warga")[-1]
    assert "Apakah masalah Anda sudah tertangani?" in closing.text
    assert [o.label for o in closing.options] == ["Ya, sudah", "Belum"]
    thanks = texts(await bot.send("1"))
    assert "Terima kasih atas konfirmasinya" in thanks
    rows = await bot.query("SELECT status, resolved_ok, first_response_at IS NOT NULL FROM tickets")
    assert rows == [("selesai", 1, 1)]
    kinds = await bot.query("SELECT actor, kind, to_status FROM ticket_events ORDER BY id")
    assert [k[1:] for k in kinds] == [
        ("created", "baru"),
        ("status", "diproses"),
        ("status", "selesai"),
        ("reporter_satisfied", None),
    ]
    assert kinds[1][0].startswith("officer:")


async def test_not_handled_reopens_the_ticket_for_its_unit(desk: Harness) -> None:
    bot = desk
    number = await reported(bot)
    await bot.send(f"/status {number} selesai", chat="reskrim")
    reopened = texts(await bot.send("belum"))
    assert "dibuka kembali" in reopened
    assert "dibuka kembali" in texts(bot.channel.to("reskrim")[-1:])
    assert await bot.query("SELECT status, resolved_ok FROM tickets") == [("diproses", 0)]


async def test_a_relayed_message_and_the_reporters_answer(desk: Harness) -> None:
    bot = desk
    number = await reported(bot, "ani")
    sent = texts(await bot.send(f"/balas {number} Mohon kirim ciri-ciri pelakunya", chat="reskrim"))
    assert "Terkirim ke Pelapor #" in sent
    asked = texts(bot.channel.to("ani")[-1:])
    assert f"Pesan petugas tentang laporan {number}" in asked
    assert "Mohon kirim ciri-ciri pelakunya" in asked
    assert "reskrim" not in asked and "Asep" not in asked
    answer = texts(await bot.send("Laki-laki, jaket hitam, naik motor merah"))  # chat warga
    assert "Laporan Anda tentang apa?" in answer  # warga had no question pending
    answer = texts(await bot.send("Laki-laki, jaket hitam, naik motor merah", chat="ani"))
    assert "sudah diteruskan ke petugas" in answer
    back = texts(bot.channel.to("reskrim")[-1:])
    assert "Balasan dari Pelapor #" in back and number in back
    assert "jaket hitam" in back
    assert "ani" not in back
    events = await bot.query("SELECT kind, note FROM ticket_events WHERE kind LIKE 'relay%'")
    assert events == [
        ("relay_out", "Mohon kirim ciri-ciri pelakunya"),
        ("relay_in", "Laki-laki, jaket hitam, naik motor merah"),
    ]


async def test_reassigning_to_another_unit_notifies_it(desk: Harness) -> None:
    bot = desk
    number = await reported(bot)
    done = texts(await bot.send(f"/tugaskan {number} satlantas", chat="reskrim"))
    assert "diserahkan ke SATLANTAS" in done
    assert number in texts(bot.channel.to("lantas"))
    assert await bot.query("SELECT unit FROM tickets") == [("SATLANTAS",)]
    refused = texts(await bot.send(f"/status {number} proses", chat="reskrim"))
    assert "tidak ditemukan" in refused  # no longer reskrim's ticket... the polsek still may:
    assert "sekarang diproses" in texts(await bot.send(f"/status {number} proses", chat="cibatu"))


async def test_an_unknown_polsek_routes_to_the_spkt(desk: Harness) -> None:
    bot = desk
    number = await reported(bot, place="Sucinaraja")  # no Polsek of its own
    assert number in texts(bot.channel.to("spkt"))
    assert bot.channel.to("cibatu") == []


async def test_an_urgent_ticket_alerts_the_kapolres(desk: Harness) -> None:
    from conversations.intake.prefill import Prefill

    class Urgent:
        def prefill(self, text, now):  # type: ignore[no-untyped-def]
            return Prefill(category="pencurian", urgent=True, chronology=text)

    bot = desk
    bot.app.engine.intake.understander = Urgent()
    for line in ["tolong ada begal sekarang di jalan raya", "ya", "Cibatu", "tidak ada", "1"]:
        await bot.send(line, chat="budi")
    alert = texts(bot.channel.to("kapolres"))
    assert "MENDESAK: laporan baru GRT-" in alert


async def test_the_list_is_per_unit_and_flags_overdue(desk: Harness) -> None:
    from datetime import timedelta

    bot = desk
    first = await reported(bot, "a")
    second = await reported(bot, "b", topic="6", place="Leles")  # kecelakaan -> SATLANTAS
    mine = texts(await bot.send("/daftar", chat="reskrim"))
    assert first in mine and second not in mine
    everything = texts(await bot.send("/daftar", chat="kapolres"))
    assert first in everything and second in everything
    bot.clock.advance(timedelta(hours=25))
    late = texts(await bot.send("/daftar terlambat", chat="kapolres"))
    assert "⏰" in late
    assert "sendiri" in texts(await bot.send("/daftar satlantas", chat="reskrim"))


async def test_officer_commands_need_a_registered_officer(desk: Harness) -> None:
    bot = desk
    number = await reported(bot)
    stranger = texts(await bot.send(f"/status {number} selesai", chat="penipu"))
    assert "tidak ditemukan di antara laporan Anda" in stranger
    assert await bot.query("SELECT status FROM tickets") == [("baru",)]
    assert "Perintah petugas" in texts(await bot.send("/bantuan", chat="reskrim"))
    officer_report = texts(await bot.send("/mulai", chat="reskrim"))
    assert "Laporan Anda tentang apa?" in officer_report  # an officer may report too


async def test_the_registry_validates_and_audits(desk: Harness) -> None:
    bot = desk
    with pytest.raises(RegistryError):
        await add_officer(
            bot.app.db,
            ChannelId("test", "x"),
            name="X",
            role="officer",
            unit=None,
            now=bot.clock.now(),
        )
    with pytest.raises(RegistryError):
        await add_officer(
            bot.app.db,
            ChannelId("test", "x"),
            name="X",
            role="officer",
            unit="SATPAM",
            now=bot.clock.now(),
        )
    assert len(await list_officers(bot.app.db)) == 5
    assert await remove_officer(bot.app.db, ChannelId("test", "lantas"), now=bot.clock.now())
    assert len(await list_officers(bot.app.db)) == 4
    actions = await bot.query("SELECT action FROM audit_log ORDER BY id")
    assert [a for (a,) in actions] == ["officer.add"] * 5 + ["officer.remove"]


async def test_evidence_reaches_officers_without_photo_metadata(desk: Harness) -> None:
    import io

    from PIL import Image

    from channels.recording import file_attachment
    from conversations.messages import AttachmentKind

    bot = desk
    image = Image.new("RGB", (8, 8), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretPhone Inc."  # Make
    exif[0x0131] = "reporter-phone-model"  # Software
    raw = io.BytesIO()
    image.save(raw, format="JPEG", exif=exif)
    photo = raw.getvalue()
    assert b"SecretPhone" in photo
    for line in ["halo", "1", "Cibatu", STORY]:
        await bot.send(line)
    await bot.send(attachments=(file_attachment(photo),))
    await bot.send(
        attachments=(
            file_attachment(
                b"%PDF-1.4 receipt", kind=AttachmentKind.DOCUMENT, mime="application/pdf"
            ),
        )
    )
    await bot.send("selesai")
    number = TICKET.search(texts(await bot.send("1")))
    assert number
    replies = await bot.send(f"/bukti {number.group()}", chat="reskrim")
    media = [r.media for r in replies if r.media is not None]
    assert len(media) == 2
    officer_photo = media[0].path.read_bytes()
    assert officer_photo[:2] == b"\xff\xd8"
    assert b"SecretPhone" not in officer_photo
    assert b"reporter-phone-model" not in officer_photo
    with Image.open(media[0].path) as opened:
        assert opened.size == (8, 8)
        assert not opened.getexif()
    original = await bot.query("SELECT stored_path FROM evidence WHERE kind = 'photo'")
    assert bot.app.media.path_of(str(original[0][0])).read_bytes() == photo  # untouched
    assert media[1].mime == "application/pdf"
    refused = texts(await bot.send(f"/bukti {number.group()}", chat="lantas"))
    assert "tidak ditemukan" in refused


async def test_the_unit_is_reminded_once_at_three_quarters_of_the_promise(desk: Harness) -> None:
    from datetime import timedelta

    bot = desk
    number = await reported(bot)
    answered = await reported(bot, "budi")
    await bot.send(f"/status {answered} proses", chat="reskrim")
    bot.clock.advance(timedelta(hours=17))
    assert await bot.app.sla.remind_due() == 0
    bot.clock.advance(timedelta(hours=1, minutes=1))
    assert await bot.app.sla.remind_due() == 2  # reskrim and the Polsek, for one ticket
    await bot.app.dispatcher.flush()
    reminder = texts(bot.channel.to("reskrim")[-1:])
    assert f"Pengingat: laporan {number} belum ditanggapi" in reminder
    assert answered not in reminder
    assert number in texts(bot.channel.to("cibatu")[-1:])
    bot.clock.advance(timedelta(hours=3))
    assert await bot.app.sla.remind_due() == 0  # once only


async def test_the_reporter_is_told_in_their_own_language(desk: Harness) -> None:
    bot = desk
    await bot.send("halo", chat="tourist")
    await bot.send("/bahasa en", chat="tourist")
    for line in [
        "1",
        "Cibatu",
        "Someone paid with a fake 100,000 note at my shop this morning.",
        "none",
    ]:
        await bot.send(line, chat="tourist")
    number = TICKET.search(texts(await bot.send("1", chat="tourist")))
    assert number
    await bot.send(f"/status {number.group()} proses kami cek", chat="reskrim")
    told = texts(bot.channel.to("tourist")[-1:])
    assert f"Update on your report {number.group()}: in progress." in told
    assert "Officer's note: kami cek" in told
    assert "Perkembangan" not in told

"""Officers on WhatsApp: the same words without "/", the reporter told on their phone, and the
Kapolres's digest chart as an image. (The worker holds neonize's client with only its network
calls replaced; see tests/test_whatsapp.py.)"""

from __future__ import annotations

from test_whatsapp import PHONE, PHONE_JID, PIN, STORY, TICKET, serving
from whatsapp_fakes import PN, eventually, extended, pin, text

from bot.config import Settings
from bot.identity import ChannelId
from bot.officers import add_officer

OFFICER = "6281200000001"
KAPOLRES = "6281200000009"


async def test_an_officer_works_a_report_on_whatsapp(settings: Settings) -> None:
    async with serving(settings) as wa:
        now = wa.app.clock.now()
        await add_officer(
            wa.app.db,
            ChannelId("whatsapp", OFFICER),
            name="Bripka Asep",
            role="officer",
            unit="SATRESKRIM",
            now=now,
        )
        await add_officer(
            wa.app.db,
            ChannelId("whatsapp", KAPOLRES),
            name="Kapolres",
            role="kapolres",
            unit=None,
            now=now,
        )
        officer = {"chat": (OFFICER, PN), "to": f"{OFFICER}@s.whatsapp.net"}
        kapolres = {"chat": (KAPOLRES, PN), "to": f"{KAPOLRES}@s.whatsapp.net"}
        # officers wrote to the bot once (WhatsApp: replies only to people who wrote first)
        await wa.say(text("bantuan"), "Perintah petugas", **officer)
        await wa.say(text("bantuan"), "Perintah petugas", **kapolres)

        await wa.say(text("halo"), "Laporan Anda tentang apa")
        await wa.say(extended("1"), "Di mana kejadiannya")
        await wa.say(pin(*PIN, name="Pasar Cibatu"), "Ceritakan apa yang terjadi")
        await wa.say(text(STORY), "Apakah ada bukti")
        await wa.say(text("tidak ada"), "Ringkasan laporan Anda")
        number = TICKET.search(await wa.say(text("1"), "GRT-"))
        assert number is not None
        n = number.group()
        notice = await wa.fake.reply(officer["to"], f"Laporan baru {n}", after=0)
        assert "Pelapor #" in notice
        assert "0812****7890" in notice  # the masked number, never the number
        assert PHONE not in notice and PHONE[2:] not in notice

        # the same words without "/"
        await wa.say(text(f"status {n} proses tim menuju lokasi"), "sekarang diproses", **officer)
        told = await wa.fake.reply(PHONE_JID, f"Perkembangan laporan {n}: diproses", after=0)
        assert "tim menuju lokasi" in told
        await wa.say(text(f"status {n} selesai"), "sekarang selesai", **officer)
        closing = await wa.fake.reply(PHONE_JID, "Apakah masalah Anda sudah tertangani?", after=0)
        assert "1. Ya, sudah" in closing
        await wa.say(text("1"), "Terima kasih atas konfirmasinya")

        await wa.say(text("digest"), "Ringkasan harian", **kapolres)
        images = await eventually(
            lambda: [r for r in wa.fake.sent(kapolres["to"]) if "image" in r],
            what="the digest chart and map, in one image",
        )
        assert images[0]["text"].startswith("Laporan per hari")

        await wa.say(text("peta 7"), "Peta laporan", **kapolres)  # the same words, no "/"
        maps = await eventually(
            lambda: [r for r in wa.fake.sent(kapolres["to"]) if "image" in r][1:],
            what="the map",
        )
        assert maps[0]["text"].startswith("Peta laporan")

        # the weekly recap: its summary, then the PDF and the XLSX as documents
        assert await wa.app.recap_schedulers[0].send_due() is not None
        documents = await eventually(
            lambda: [r for r in wa.fake.sent(kapolres["to"]) if "document" in r][1:],
            what="the recap's two documents",
        )
        names = [r["document"] for r in wa.fake.sent(kapolres["to"]) if "document" in r]
        assert [name.rsplit(".", 1)[1] for name in names] == ["pdf", "xlsx"]
        assert names[0].startswith("taros-rekap-")
        assert documents[0]["text"].startswith("Semua laporan")
        assert any("Rekap mingguan" in t for t in wa.fake.texts(kapolres["to"]))

"""The promise "your number will not be spread": nothing that identifies a reporter reaches an
officer or the Kapolres, whatever happens to the ticket."""

from __future__ import annotations

import re

from support import running, texts

from bot.config import Settings
from bot.identity import ChannelId
from bot.officers import add_officer
from channels.recording import RecordingChannel

PHONE = "6281113404040"
NAME = "Siti Aminah"
LID = "84512345678901@lid"
STORY = "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya."
OFFICERS = {
    "6281200000001": ("officer", "SATRESKRIM"),
    "6281200000002": ("officer", "POLSEK-CIBATU"),
    "6281200000003": ("kapolres", None),
    "6281200000004": ("officer", "SATLANTAS"),
}


def identifying(text: str) -> list[str]:
    """Every trace of the reporter in ``text``: the number in any formatting, the name, the
    lid identity."""
    digits = re.sub(r"\D", "", text)
    found = []
    for form in (PHONE, "0" + PHONE[2:], PHONE[2:]):
        if form in digits:
            found.append(form)
    for needle in (NAME.lower(), "siti", "aminah", LID.split("@")[0]):
        if needle in text.lower():
            found.append(needle)
    return found


async def test_no_officer_message_identifies_the_reporter(settings: Settings) -> None:
    async with running(settings, channel=RecordingChannel("whatsapp")) as bot:
        for phone, (role, unit) in OFFICERS.items():
            await add_officer(
                bot.app.db,
                ChannelId("whatsapp", phone),
                name=f"Petugas {phone[-1]}",
                role=role,
                unit=unit,
                now=bot.clock.now(),
            )

        async def citizen(text: str) -> str:
            return texts(await bot.send(text, chat=PHONE, channel="whatsapp", sender_name=NAME))

        async def officer(n: int, text: str) -> str:
            return texts(await bot.send(text, chat=f"628120000000{n}", channel="whatsapp"))

        for line in [
            "Assalamualaikum, saya Siti Aminah 0811-1340-4040",
            "1",
            "Cibatu",
            STORY,
            "tidak ada",
        ]:
            await citizen(line)
        number = re.search(r"GRT-\d{4}-\d{5}", await citizen("1"))
        assert number
        n = number.group()
        await officer(1, f"/status {n}")
        await officer(3, f"/status {n}")
        await officer(1, f"/balas {n} Mohon ceritakan ciri-ciri pelakunya")
        await citizen("Pelakunya laki-laki, saya Siti, nomor saya 081113404040")
        await officer(2, f"/status {n} proses")
        await officer(1, f"/tugaskan {n} SATLANTAS")
        await officer(4, f"/status {n}")
        await officer(3, "/daftar")
        await officer(4, f"/status {n} selesai")
        await citizen("belum")
        await officer(1, f"status {n}")

        to_officers = [o for o in bot.channel.sent if o.chat_id in OFFICERS]
        assert len(to_officers) >= 10
        assert any("Pelapor #" in o.text for o in to_officers)
        assert any("0811****4040" in o.text for o in to_officers)  # masked, as promised
        leaks = {o.text: identifying(o.text) for o in to_officers if identifying(o.text)}
        # The name the citizen chose to write in the story is theirs to tell; a number typed
        # anywhere is masked, and everything the bot adds (headers, reporter lines, relays'
        # framing) identifies nobody.
        assert all(set(found) <= {"siti", "aminah", "siti aminah"} for found in leaks.values())
        assert leaks
        reporter_lines = [
            line
            for o in to_officers
            for line in o.text.splitlines()
            if line.startswith("Pelapor") or line.startswith("Balasan dari")
        ]
        assert reporter_lines
        assert not any(identifying(line) for line in reporter_lines)

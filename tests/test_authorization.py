"""Who may do what: every officer command × every role × own and other tickets."""

from __future__ import annotations

import re

import pytest
from support import Harness, texts

from bot.identity import ChannelId
from bot.officers import add_officer

STORY = "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya."
OWN = "own"  # a ticket of the officer's unit (uang palsu in Cibatu: SATRESKRIM, POLSEK-CIBATU)
OTHER = "other"  # a ticket of another unit (kecelakaan in Leles: SATLANTAS, POLSEK-LELES)

ROLES = {
    "reskrim": ("officer", "SATRESKRIM"),
    "polsek": ("officer", "POLSEK-CIBATU"),
    "lantas": ("officer", "SATLANTAS"),
    "kapolres": ("kapolres", None),
    "admin": ("admin", None),
}


async def setup(bot: Harness) -> dict[str, str]:
    for chat, (role, unit) in ROLES.items():
        await add_officer(
            bot.app.db,
            ChannelId("test", chat),
            name=chat.title(),
            role=role,
            unit=unit,
            now=bot.clock.now(),
        )
    numbers = {}
    for which, topic, place in ((OWN, "1", "Cibatu"), (OTHER, "6", "Leles")):
        for line in ["halo", topic, place, STORY, "tidak ada"]:
            await bot.send(line, chat=f"warga-{which}")
        found = re.search(r"GRT-\d{4}-\d{5}", texts(await bot.send("1", chat=f"warga-{which}")))
        assert found
        numbers[which] = found.group()
    return numbers


async def status_of(bot: Harness, number: str) -> tuple[str, str]:
    rows = await bot.query("SELECT status, unit FROM tickets WHERE number = ?", (number,))
    return rows[0]  # type: ignore[return-value]


# who -> may act on OWN-unit tickets / on OTHER-unit tickets / may ask for the digest
ALLOWED = {
    "reskrim": (True, False, False),
    "polsek": (True, False, False),
    "lantas": (False, True, False),
    "kapolres": (True, True, True),
    "admin": (True, True, True),
    "warga-own": (False, False, False),  # the reporter of the OWN ticket
    "stranger": (False, False, False),  # nobody registered
}


@pytest.mark.parametrize("who", list(ALLOWED))
@pytest.mark.parametrize("which", [OWN, OTHER])
@pytest.mark.parametrize("command", ["detail", "status", "tugaskan", "balas", "bukti"])
async def test_ticket_commands(bot: Harness, who: str, which: str, command: str) -> None:
    numbers = await setup(bot)
    number = numbers[which]
    before = await status_of(bot, number)
    sent_before = len(bot.channel.sent)
    line = {
        "detail": f"/status {number}",
        "status": f"/status {number} proses dicek",
        "tugaskan": f"/tugaskan {number} SATINTELKAM",
        "balas": f"/balas {number} mohon info tambahan",
        "bukti": f"/bukti {number}",
    }[command]
    reply = texts(await bot.send(line, chat=who))
    allowed = ALLOWED[who][0 if which == OWN else 1]
    after = await status_of(bot, number)
    reporter_chat = f"warga-{which}"
    to_reporter = [
        o
        for o in bot.channel.sent[sent_before:]
        if o.chat_id == reporter_chat and who != reporter_chat
    ]
    if allowed:
        assert "tidak ditemukan" not in reply
        if command == "status":
            assert after == ("diproses", before[1])
            assert to_reporter
        elif command == "tugaskan":
            assert after == (before[0], "SATINTELKAM")
        elif command == "balas":
            assert "mohon info tambahan" in texts(to_reporter)
        elif command == "detail":
            assert STORY in reply
    else:
        assert after == before
        assert to_reporter == []
        if who != "warga-own" or which != OWN:
            assert STORY not in reply  # nothing of another's ticket is revealed


@pytest.mark.parametrize("who", list(ALLOWED))
async def test_list_and_digest(bot: Harness, who: str) -> None:
    numbers = await setup(bot)
    listing = texts(await bot.send("/daftar", chat=who))
    own_ok, other_ok, digest_ok = ALLOWED[who]
    assert (numbers[OWN] in listing) == own_ok
    assert (numbers[OTHER] in listing) == other_ok
    digest = await bot.send("/digest", chat=who)
    refused = "Hanya Kapolres dan admin" in texts(digest)
    if who in ROLES:
        assert refused != digest_ok
    else:  # for a citizen it is no command at all: the intake starts
        assert not refused
        assert "Laporan Anda tentang apa?" in texts(digest)

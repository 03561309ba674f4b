"""The logs of a whole scenario name nobody: no chat id, no phone number, no name and no word
of what citizens or officers wrote, at DEBUG, whatever went wrong on the way (a retry, a
chat that blocked the bot, an erasure)."""

from __future__ import annotations

import re

import pytest
from support import captured_logs, register, running, texts, ticket_number

from bot.config import Settings
from bot.ops.metrics import Metrics, observe
from channels.base import Permanent, RetryAfter
from channels.recording import RecordingChannel
from conversations.messages import Outbound

IDS = {
    "whatsapp": ("6281299887766", "6281311112222", "6281200000001", "6281200000003"),
    "telegram": ("555123456", "555765432", "777000111", "777000333"),
}
NAMES = ("Rina", "Marlina", "Dewi", "Asep", "Kapolres Garut")
STORY = (
    "Saya Rina Marlina, tadi pagi ada yang belanja pakai uang palsu di warung saya di "
    "Cibatu. Nomor pelaku 081311112222, email pelaku@contoh.id."
)


@pytest.mark.parametrize("platform", ["whatsapp", "telegram"])
async def test_a_whole_scenario_logs_no_id_number_or_name(
    settings: Settings, platform: str
) -> None:
    citizen, other, officer, chief = IDS[platform]
    retried: set[str] = set()

    def platform_trouble(outbound: Outbound) -> None:
        if outbound.chat_id == officer and outbound.text not in retried:
            retried.add(outbound.text)
            raise RetryAfter(0.01)
        if outbound.chat_id == other and "Pesan petugas" in outbound.text:
            raise Permanent(f"403 Forbidden: bot was blocked by the user {other}")

    channel = RecordingChannel(platform, fail=platform_trouble)
    with captured_logs() as logs:
        async with running(settings, channel=channel) as bot:
            observe(bot.app, Metrics())
            await register(bot, officer, name="Bripka Asep")
            await register(bot, chief, "kapolres", None, "AKBP Kapolres Garut")

            async def say(chat: str, text: str, name: str = "Rina Marlina") -> str:
                return texts(await bot.send(text, chat=chat, channel=platform, sender_name=name))

            numbers = []
            for who, name in ((citizen, "Rina Marlina"), (other, "Dewi")):
                for line in ("halo", "1", "Cibatu", STORY, "tidak ada"):
                    await say(who, line, name)
                numbers.append(ticket_number(await say(who, "1", name)))
            await say(officer, f"/status {numbers[0]}")
            await say(officer, f"/balas {numbers[0]} Mohon ciri-ciri pelakunya, Bu Rina")
            await say(citizen, "Pelakunya tinggi, saya Rina, hubungi 0812-9988-7766")
            await say(officer, f"/balas {numbers[1]} Bu Dewi, ada fotonya?")
            await say(officer, f"/status {numbers[0]} selesai")
            await say(citizen, "sudah")
            await say(chief, "/daftar")
            await say(citizen, "/hapusdata")
            await say(citizen, "1")
    logged = logs.getvalue()
    assert "inbound message applied" in logged and "retried" in logged and "failed" in logged
    joined = re.sub(r"[\s.()-]", "", logged)  # numbers written with separators
    for value in (*IDS[platform], "81299887766", "81311112222"):
        assert value not in joined, value
    for word in (*NAMES, "pelaku@contoh.id", "uang palsu", "ciri-ciri", "Pelakunya"):
        assert word.lower() not in logged.lower(), word

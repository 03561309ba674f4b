"""Messages per intake on WhatsApp, and what they cost at WhatsApp's pacing.

Each citizen does the whole intake as a WhatsApp user does (no buttons: numbers and words):
"halo", the topic's number, a pin, the story, one photo, "selesai", "1" (send). Everything runs
through the real engine, database and outbox dispatcher, on a recording channel named
``whatsapp``. Printed: the bot's messages per intake (and per citizen message), and the time
for N citizens who all write at once to be answered in full at the default pacing (30 messages
a minute overall in bursts of 5, ``TAROS_WHATSAPP_PER_MINUTE``): the overall rate is what bounds
a crowd, so that time is the messages over the rate, computed, not waited for.

    python -m bench.intake_messages                 # 100 citizens
    PYTHONPATH=../other-checkout python -m bench.intake_messages   # the same, another version

Exits non-zero when a citizen did not get a ticket.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from pathlib import Path

from bot.ops.process import configure_process

PHOTO = b"\xff\xd8\xff\xe0intake-photo" + bytes(range(256)) * 4
PIN = (-7.0853, 107.9983)  # Pasar Cibatu
STORY = "Tadi pagi jam 9 ada orang belanja di warung saya pakai uang palsu 100 ribu."
PER_MINUTE = 30.0  # the default TAROS_WHATSAPP_PER_MINUTE
BURST = 5


async def intakes(data_dir: Path, citizens: int) -> tuple[int, int, int]:
    """(tickets, the bot's messages, the citizens' messages) for ``citizens`` intakes."""
    from bot.app import App
    from bot.config import Settings
    from channels.recording import RecordingChannel, file_attachment, inbound
    from conversations.messages import Location

    app = await App.open(Settings(data_dir=data_dir), poll_interval=1.0)
    channel = RecordingChannel("whatsapp")
    app.add_channel(channel)
    await app.start(timers=False)
    sent_by_citizens = 0
    tickets = 0
    try:
        for n in range(citizens):
            chat = f"62812000{n:05d}"
            steps: list[dict[str, object]] = [
                {"text": "halo"},
                {"text": "1"},
                {"location": Location(*PIN)},
                {"text": STORY},
                {"attachments": (file_attachment(PHOTO + n.to_bytes(4, "big")),)},
                {"text": "selesai"},
                {"text": "1"},
            ]
            for fields in steps:
                await app.engine.handle(inbound(chat=chat, channel="whatsapp", **fields))
                sent_by_citizens += 1
            await app.dispatcher.flush()
            last = [o.text for o in channel.sent if o.chat_id == chat][-1]
            tickets += bool(re.search(r"GRT-\d{4}-\d{5}", last))
        await app.dispatcher.flush()
        return tickets, len(channel.sent), sent_by_citizens
    finally:
        await app.close()


def main(argv: list[str] | None = None) -> int:
    configure_process()  # as the taros command does at start
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="taros-intake-") as tmp:
        tickets, bot, citizens_sent = asyncio.run(intakes(Path(tmp) / "data", args.citizens))
    per_intake = bot / max(1, args.citizens)
    minutes = max(0.0, bot - BURST) / PER_MINUTE
    print(
        f"{args.citizens} intakes on WhatsApp: {tickets} tickets; the bot sent {bot} messages"
        f" for {citizens_sent} of the citizens' ({per_intake:.1f} per intake,"
        f" {bot / max(1, citizens_sent):.2f} per citizen message)"
    )
    print(
        f"{args.citizens} citizens at once, default pacing ({PER_MINUTE:.0f}/min, bursts of"
        f" {BURST}): all answered in {minutes:.1f} min"
    )
    ok = tickets == args.citizens
    print(f"intake messages {'PASS' if ok else 'FAIL'}: {per_intake:.1f} messages per intake")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

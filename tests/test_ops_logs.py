"""Structured logs: one line per message with its channel and ticket number, and never a phone
number, a token or what anyone wrote, even at debug level and when things go wrong."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from support import captured_logs, running, texts

from bot.config import Settings
from bot.identity import ChannelId
from bot.officers import add_officer
from bot.ops.logs import redact, setup_logging
from bot.ops.metrics import Metrics, observe
from channels.base import Transient
from channels.recording import RecordingChannel, inbound
from conversations.messages import Outbound

PHONE = "6281234567890"
OFFICER_PHONE = "6285711112222"
TOKEN = "987654321:AAF-secret_Token_value_XYZ0123456"
STORY = "Tadi pagi ada yang belanja pakai uang palsu seratus ribu di warung Bu Imas."
WORDS = ["Tadi pagi", "uang palsu seratus", "Bu Imas", "Cibatu, dekat pasar", "Pak Asep mohon"]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    with captured_logs(secrets=[TOKEN]) as stream:
        yield stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_whole_whatsapp_scenario_logs_no_phone_token_or_text(
    settings: Settings, captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A citizen on a WhatsApp-like channel (chat ids are phone numbers) reports; a delivery
    fails once; a handler crashes once; an officer relays a message. At DEBUG level."""
    failures = iter([True])

    def flaky(_outbound: Outbound) -> None:
        if next(failures, False):
            raise Transient(f"send to {PHONE}@s.whatsapp.net failed")

    channel = RecordingChannel("whatsapp", fail=flaky)
    async with running(settings, channel=channel) as bot:
        observe(bot.app, Metrics())
        await add_officer(
            bot.app.db,
            ChannelId("whatsapp", OFFICER_PHONE),
            name="Asep",
            role="kapolres",
            unit=None,
            now=bot.clock.now(),
        )

        async def say(text: str, chat: str = PHONE) -> str:
            message = inbound(text, chat=chat, channel="whatsapp", when=bot.clock.now())
            return texts(await bot.deliver(message))

        await say("halo")
        for line in ["1", "Cibatu, dekat pasar", STORY, "tidak ada"]:
            await say(line)
        number = re.search(r"GRT-\d{4}-\d{5}", await say("1"))
        assert number
        await say(f"/balas {number.group()} Pak Asep mohon kirim foto uang palsunya", OFFICER_PHONE)

        original = bot.app.engine.intake.on_inbound

        async def crash(*args: object, **kwargs: object) -> object:
            monkeypatch.setattr(bot.app.engine.intake, "on_inbound", original)
            raise RuntimeError(f"token {TOKEN} for {PHONE}")

        monkeypatch.setattr(bot.app.engine.intake, "on_inbound", crash)
        await say("Tadi pagi saya lupa bilang, Bu Imas juga lihat")
        logging.getLogger("probe").debug(
            "a careless line: %s https://api.telegram.org/bot%s/getMe",
            f"+62 812-3456-7890 / 0812 3456 7890 / {PHONE}",
            TOKEN,
        )

    text = captured.getvalue()
    for secret in [PHONE, PHONE[2:], PHONE[-8:], OFFICER_PHONE, TOKEN, TOKEN.split(":")[1]]:
        assert secret not in text
    assert "812-3456-7890" not in text and "3456 7890" not in text
    for words in WORDS:
        assert words not in text
    records = lines(captured)
    assert "<phone>" in text and "<token>" in text
    assert any(r["level"] == "error" and "RuntimeError" in r.get("exc", "") for r in records)

    inbound_lines = [r for r in records if r.get("direction") == "inbound"]
    outbound_lines = [r for r in records if r.get("direction") == "outbound"]
    assert len(inbound_lines) == 8  # every message, once
    assert {r["channel"] for r in inbound_lines + outbound_lines} == {"whatsapp"}
    assert [r["status"] for r in inbound_lines].count("failed") == 1
    ticketed = [r for r in inbound_lines if r.get("ticket")]
    assert [r["ticket"] for r in ticketed] == [number.group()]
    assert any(r.get("ticket") == number.group() for r in outbound_lines)
    assert {"sent", "retried"} <= {r["status"] for r in outbound_lines}
    for record in inbound_lines + outbound_lines:
        assert set(record) <= {
            "ts", "level", "logger", "msg", "direction", "channel", "status", "ticket", "outbox"
        }  # fmt: skip


def test_key_value_lines_are_one_line_each(captured: io.StringIO) -> None:
    stream = io.StringIO()
    setup_logging("INFO", "keyvalue", stream=stream)
    log = logging.getLogger("taros.test")
    log.info("delivered", extra={"channel": "telegram", "ticket": "GRT-2026-00001"})
    try:
        raise ValueError(f"bad\nthing for {PHONE}")
    except ValueError:
        log.exception("it broke: %s", 'with "quotes" and spaces')
    out = stream.getvalue().splitlines()
    assert len(out) == 2
    assert re.fullmatch(
        r"ts=\S+ level=info logger=taros.test msg=delivered channel=telegram"
        r" ticket=GRT-2026-00001",
        out[0],
    )
    assert 'msg="it broke: with \\"quotes\\" and spaces"' in out[1]
    assert "exc=" in out[1] and "<phone>" in out[1] and PHONE not in out[1]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("call 081234567890 now", "call <phone> now"),
        ("+62 812-3456-7890", "<phone>"),
        ("62 812 3456 7890.", "<phone>."),
        ("jid 6281234567890:12@s.whatsapp.net", "jid <phone>"),
        ("lid 123456789012345@lid", "lid <phone>"),
        ("+1 415 555 2671", "<phone>"),
        (f"/bot{TOKEN}/sendMessage", "/bot<token>/sendMessage"),
        ("outbox 42 at 2026-11-27T02:00:00.000000+00:00", None),
        ("GRT-2026-00042 telegram chat 31337 ticket 12", None),
        ("outbox 16 to telegram:555777 given up", "outbox 16 to telegram:<id> given up"),
        ('{"chat": "telegram:-1001234567890"}', '{"chat": "telegram:<id>"}'),
    ],
)
def test_redaction(raw: str, clean: str | None) -> None:
    assert redact(raw) == (raw if clean is None else clean)

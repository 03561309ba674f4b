"""``taros run`` as an operator runs it: a process serving Telegram (the fake Bot API) with
``/healthz`` and ``/metrics``, stopped with SIGTERM in the middle of a conversation and started
again: nothing is lost, nothing is said twice, and the logs hold no token and no text."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fake_bot_api import FakeBotApi
from prometheus_client.parser import text_string_to_metric_families
from support import running

from bot.config import Settings
from bot.ops.shutdown import SendGate
from channels.recording import RecordingChannel, inbound
from conversations.messages import Outbound

CHAT = 31337
CATEGORY_Q = "Laporan Anda tentang apa"
LOCATION_Q = "Di mana kejadiannya"
STORY_Q = "Ceritakan apa yang terjadi"
EVIDENCE_Q = "Apakah ada bukti"
SUMMARY = "Ringkasan laporan Anda"
TICKET = r"GRT-\d{4}-\d{5}"
PLACE = "Cibatu, dekat pasar hewan"
STORY = "Tadi pagi ada orang belanja pakai uang palsu seratus ribu di warung Bu Imas."


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Run:
    """One ``taros run`` process; its stderr goes to a file of its own."""

    def __init__(self, tmp_path: Path, fake: FakeBotApi, port: int, name: str) -> None:
        self.log = tmp_path / f"{name}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TAROS_")},
            "TAROS_DATA_DIR": str(tmp_path / "data"),
            "TAROS_TELEGRAM_TOKEN": fake.token,
            "TAROS_TELEGRAM_API_URL": fake.url,
            "TAROS_HTTP": f"127.0.0.1:{port}",
            "TAROS_LOG_LEVEL": "DEBUG",
            "TAROS_LOG_FORMAT": "json",
        }
        self.url = f"http://127.0.0.1:{port}"
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Run:
        with self.log.open("wb") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)

    async def get(self, path: str) -> tuple[int, str]:
        for _ in range(300):  # the server comes up once the channel has started
            try:
                async with aiohttp.ClientSession() as http, http.get(self.url + path) as resp:
                    return resp.status, await resp.text()
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        raise AssertionError(f"{path} never answered")

    async def counters(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, body = await self.get("/metrics")
        assert status == 200
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
        }


async def step(fake: FakeBotApi, action: Any, expect: str) -> str:
    seen = len(fake.bot_texts(CHAT))
    action()
    return await fake.reply(CHAT, expect, after=seen, within=30)


async def test_sigterm_mid_conversation_then_a_restart_loses_nothing(
    tmp_path: Path, fake: FakeBotApi
) -> None:
    port = free_port()
    async with Run(tmp_path, fake, port, "first") as first:
        await fake.wait_for(lambda: fake.calls_of("getUpdates"), 60, "taros run to poll")
        await step(fake, lambda: fake.text(CHAT, "/start"), CATEGORY_Q)
        await step(fake, lambda: fake.press_option(CHAT, "uang_palsu"), LOCATION_Q)

        status, body = await first.get("/healthz")
        assert status == 200, body
        assert json.loads(body)["channels"] == {"telegram": "connected"}
        counters = await first.counters()
        applied = (
            "taros_inbound_messages_total",
            (("channel", "telegram"), ("outcome", "applied")),
        )
        sent = ("taros_outbound_messages_total", (("channel", "telegram"), ("status", "sent")))
        assert counters[applied] == 2
        assert counters[sent] >= 2

        # The answer comes in; its reply is on its way to Telegram (slowly) when SIGTERM lands.
        fake.faults.latency = 0.5
        sends = len(fake.calls_of("sendMessage"))
        fake.text(CHAT, PLACE)
        await fake.wait_for(lambda: len(fake.calls_of("sendMessage")) > sends, 30, "the reply")
        assert await first.stop() == 0
        fake.faults.latency = 0.0
    with pytest.raises(aiohttp.ClientConnectionError):  # the endpoint stopped with it
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz"):
            pass

    async with Run(tmp_path, fake, port, "second") as second:
        await fake.reply(CHAT, STORY_Q, within=60)  # sent once, before stopping
        await step(fake, lambda: fake.text(CHAT, STORY), EVIDENCE_Q)
        await step(fake, lambda: fake.press_option(CHAT, "none"), SUMMARY)
        done = await step(fake, lambda: fake.press_option(CHAT, "submit"), TICKET)
        counters = await second.counters()
        assert counters[("taros_tickets", (("status", "baru"),))] == 1
        assert await second.stop() == 0

    said = fake.bot_texts(CHAT)
    for question in (CATEGORY_Q, LOCATION_Q, STORY_Q, EVIDENCE_Q, SUMMARY):
        assert sum(question in text for text in said) == 1, (question, said)
    assert sum("GRT-" in text for text in said) == 1
    with sqlite3.connect(tmp_path / "data" / "taros.db") as db:
        assert db.execute("SELECT COUNT(*) FROM tickets").fetchone() == (1,)
        unsent = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        assert db.execute(unsent).fetchone() == (0,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    assert not fake.queue  # every update was confirmed to Telegram

    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    for secret in (fake.token, fake.token.split(":")[1], PLACE, STORY, "Bu Imas", "uang palsu"):
        assert secret not in logs
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    messages = [r for r in records if r.get("logger") == "taros.messages"]
    assert {r["channel"] for r in messages} == {"telegram"}
    ticket = [r["ticket"] for r in messages if r.get("direction") == "inbound" and "ticket" in r]
    assert ticket and ticket[0] in done
    assert any(r["msg"] == "stopped cleanly" for r in records)


async def test_a_send_in_progress_finishes_and_no_new_one_starts(settings: Settings) -> None:
    started = asyncio.Event()

    class Slow(RecordingChannel):
        async def send(self, outbound: Outbound) -> None:
            started.set()
            await asyncio.sleep(0.3)
            await super().send(outbound)

    channel = Slow()
    gate = SendGate()
    gate.guard([channel])
    async with running(settings, channel=channel) as bot:
        await bot.app.engine.handle(inbound("halo", when=bot.clock.now()))
        await asyncio.wait_for(started.wait(), 5)
        assert await gate.close() == 1
        await bot.app.engine.handle(inbound("1", when=bot.clock.now()))
        await asyncio.sleep(0.1)
        await bot.app.close()  # as taros run does next: the held send is cancelled
        delivered = len(channel.sent)
    assert delivered == 1
    async with running(settings) as again:
        rows = await again.query("SELECT id, sent_at IS NOT NULL FROM outbox ORDER BY id")
    assert rows[0][1] == 1  # the send that was in progress is recorded as sent
    assert all(not sent for _id, sent in rows[1:])  # the rest waits for the next start
    assert len(rows) > 1

"""``/healthz`` and ``/metrics`` over real HTTP (aiohttp on 127.0.0.1, a free port) in front of
the real engine, database and dispatcher; the channel is a recording one that can lose its
connection or fail to deliver."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import Harness, running, texts

from bot.config import Settings
from bot.ops.health import HealthServer
from bot.ops.metrics import Metrics, observe
from channels.base import Transient
from channels.recording import RecordingChannel, inbound
from channels.whatsapp.channel import LOGGED_OUT_STATES
from conversations.messages import Outbound

LIMIT = 300  # seconds a reply may wait before /healthz fails
STORY = "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya."


class Platform(RecordingChannel):
    """A recording channel with a connection that can drop, and deliveries that can fail."""

    def __init__(self, name: str = "test") -> None:
        super().__init__(name, fail=self._fail)
        self.up = True
        self.session = "connected"
        self.down = False
        self.attempts = 0

    @property
    def connected(self) -> bool:
        return self.up

    @property
    def state(self) -> str:
        return self.session

    @property
    def logged_in(self) -> bool:
        return self.session not in LOGGED_OUT_STATES

    def _fail(self, _outbound: Outbound) -> None:
        self.attempts += 1
        if self.down:
            raise Transient("platform unreachable")


@dataclass
class Served:
    bot: Harness
    channel: Platform
    url: str
    http: aiohttp.ClientSession

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.url}/healthz") as response:
            return response.status, await response.json()

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        async with self.http.get(f"{self.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            body = await response.text()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    channel = Platform()
    async with running(settings, channel=channel) as bot:
        metrics = Metrics()
        observe(bot.app, metrics)
        server = HealthServer(bot.app, metrics, outbox_limit=LIMIT)
        address = await server.start("127.0.0.1:0")
        assert address.host == "127.0.0.1" and address.port > 0
        try:
            async with aiohttp.ClientSession() as http:
                yield Served(bot, channel, f"http://{address}", http)
        finally:
            await server.stop()


async def report(bot: Harness, chat: str = "warga") -> str:
    for line in ["halo", "1", "Cibatu, dekat pasar", STORY, "tidak ada"]:
        await bot.send(line, chat=chat)
    found = re.search(r"GRT-\d{4}-\d{5}", texts(await bot.send("1", chat=chat)))
    assert found
    return found.group()


async def test_healthz_fails_while_a_channel_is_disconnected(served: Served) -> None:
    status, body = await served.health()
    assert (status, body["status"], body["reasons"]) == (200, "ok", [])
    assert body["channels"] == {"test": "connected"}
    assert body["database"] == "ok"

    served.channel.up = False
    status, body = await served.health()
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["reasons"] == ["channel test: not connected"]
    assert body["channels"] == {"test": "disconnected"}
    metrics = await served.metrics()
    assert metrics[("taros_channel_connected", (("channel", "test"),))] == 0

    served.channel.up = True
    status, body = await served.health()
    assert (status, body["reasons"]) == (200, [])
    metrics = await served.metrics()
    assert metrics[("taros_channel_connected", (("channel", "test"),))] == 1


async def test_healthz_fails_while_a_reply_is_stuck_in_the_outbox(served: Served) -> None:
    bot, channel = served.bot, served.channel
    channel.down = True
    await bot.app.engine.handle(inbound("halo", when=bot.clock.now()))
    await _until(lambda: channel.attempts >= 1, "a first failed delivery")
    status, body = await served.health()
    assert status == 200  # waiting, but not for long yet
    assert body["outbox"]["waiting"] >= 1

    bot.clock.advance(timedelta(seconds=LIMIT + 60))
    status, body = await served.health()
    assert status == 503
    assert len(body["reasons"]) == 1
    assert re.fullmatch(
        rf"outbox: a reply has waited 36\d s \(limit {LIMIT} s\); \d+ waiting", body["reasons"][0]
    ), body["reasons"]
    metrics = await served.metrics()
    assert metrics[("taros_outbox_backlog", ())] >= 1
    assert metrics[("taros_outbox_oldest_age_seconds", ())] >= LIMIT + 60
    assert metrics[("taros_outbound_messages_total", (("channel", "test"), ("status", "retried")))]

    channel.down = False  # the platform is back: the retry delivers, and health recovers
    for _ in range(100):
        status, body = await served.health()
        if status == 200:
            break
        await asyncio.sleep(0.1)
    assert (status, body["reasons"], body["outbox"]["waiting"]) == (200, [], 0)
    assert channel.to("warga")


async def test_healthz_fails_when_the_database_does_not_answer(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_job: object) -> object:
        raise OSError("disk I/O error")

    monkeypatch.setattr(served.bot.app.db, "read", broken)
    status, body = await served.health()
    assert status == 503
    assert body["reasons"] == ["database: not answering (OSError: disk I/O error)"]
    assert body["database"] == "error"
    assert (await served.metrics())[("taros_database_up", ())] == 0
    monkeypatch.undo()
    assert (await served.health())[0] == 200


async def test_whatsapp_logged_out_or_disconnected_fails_healthz(settings: Settings) -> None:
    """The WhatsApp channel tells its connection, its session and its state in its word."""
    whatsapp = Platform("whatsapp")
    whatsapp.up = False
    whatsapp.session = "banned"
    async with running(settings, channel=whatsapp) as bot:
        metrics = Metrics()
        server = HealthServer(bot.app, metrics, outbox_limit=LIMIT)
        healthy, body = await server.check()
        assert not healthy
        assert body["reasons"] == [
            "channel whatsapp: not connected",
            "whatsapp: not logged in (banned; see the log, then: taros whatsapp link)",
        ]
        assert (body["whatsapp_logged_in"], body["whatsapp_state"]) == (False, "banned")
        assert b"taros_whatsapp_logged_in 0.0" in metrics.render()

        whatsapp.session = "connected"
        whatsapp.up = True
        healthy, body = await server.check()
        assert healthy, body
        assert b"taros_whatsapp_logged_in 1.0" in metrics.render()
        assert b'taros_channel_connected{channel="whatsapp"} 1.0' in metrics.render()


async def test_metrics_count_a_conversation(served: Served) -> None:
    before = await served.metrics()
    applied = ("taros_inbound_messages_total", (("channel", "test"), ("outcome", "applied")))
    sent = ("taros_outbound_messages_total", (("channel", "test"), ("status", "sent")))
    assert before.get(applied, 0) == 0
    assert before[("taros_tickets", (("status", "baru"),))] == 0

    number = await report(served.bot)
    await served.bot.send("/status GRT-2000-99999", chat="warga")  # a command, no ticket
    after = await served.metrics()
    assert after[applied] == 7
    assert after[sent] == len(served.channel.sent) >= 7
    assert after[("taros_tickets", (("status", "baru"),))] == 1
    assert after[("taros_tickets_overdue", ())] == 0
    assert after[("taros_outbox_backlog", ())] == 0
    assert after[("taros_database_up", ())] == 1
    assert after[("taros_channel_connected", (("channel", "test"),))] == 1
    assert after.get(("taros_handler_errors_total", (("channel", "test"),)), 0) == 0

    duplicate = inbound("halo", message_id="again", when=served.bot.clock.now())
    await served.bot.deliver(duplicate)
    await served.bot.deliver(duplicate)
    served.bot.clock.advance(timedelta(hours=25))  # past the 24-hour promise, no response
    later = await served.metrics()
    key = ("taros_inbound_messages_total", (("channel", "test"), ("outcome", "duplicate")))
    assert later[key] == 1
    assert later[("taros_tickets_overdue", ())] == 1
    assert number.startswith("GRT-")


async def test_a_handler_error_is_counted(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(served.bot.app.engine.intake, "on_inbound", broken)
    await served.bot.send("halo")
    metrics = await served.metrics()
    assert metrics[("taros_handler_errors_total", (("channel", "test"),))] == 1
    failed = ("taros_inbound_messages_total", (("channel", "test"), ("outcome", "failed")))
    assert metrics[failed] == 1


async def _until(check: Any, what: str, within: float = 5.0) -> None:
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")

"""The WhatsApp Cloud API channel against the fake Graph API and Meta's signed webhooks.

Everything goes over real HTTP on 127.0.0.1: pywa talks to the fake Graph API
(``fake_graph_api.FakeGraphApi``) through ``TAROS_WHATSAPP_CLOUD_API_URL``, and Meta's side
(``fake_graph_api.Meta``) posts signed webhooks to ``/webhooks/whatsapp`` on the same HTTP
server that serves ``/healthz``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from fake_graph_api import APP_SECRET, PHONE_ID, TOKEN, VERIFY_TOKEN, FakeGraphApi, Meta
from local_http import LocalServer

from channels.pacing import Rate
from channels.whatsapp_cloud.channel import (
    WEBHOOK_PATH,
    CloudCredentials,
    CloudOptions,
    WhatsAppCloudChannel,
)
from channels.whatsapp_cloud.outbound import Waits
from conversations.messages import Inbound, Option, Outbound

CLOUD_FAST = CloudOptions(
    per_second=0,
    per_chat=Rate(0),
    waits=Waits(throughput=0.2, pair=0.2, throttled=0.2),
    token_wait=0.5,
    media_backoff=0.01,
    answer_within=10.0,
    stop_grace=5.0,
)
NUMBER = "6281234567890"


def cloud_channel(
    fake: FakeGraphApi, data_dir: Path, options: CloudOptions = CLOUD_FAST, **kw: object
) -> WhatsAppCloudChannel:
    from dataclasses import replace

    return WhatsAppCloudChannel(
        CloudCredentials(PHONE_ID, TOKEN, APP_SECRET, VERIFY_TOKEN),
        data_dir,
        options=replace(options, api_url=fake.url),
        **kw,  # type: ignore[arg-type]
    )


class WebhookServer(LocalServer):
    """The channel's HTTP routes on 127.0.0.1 (what ``TAROS_HTTP`` serves in production)."""

    def __init__(self, channel: WhatsAppCloudChannel) -> None:
        app = web.Application()
        for method, path, handler in channel.http_routes():
            app.router.add_route(method, path, handler)
        super().__init__(app)

    async def start(self) -> str:
        return await super().start() + WEBHOOK_PATH


class Alone:
    """The channel started, the fake Graph API and Meta, and what reached the handler."""

    def __init__(self, fake: FakeGraphApi, channel: WhatsAppCloudChannel, meta: Meta) -> None:
        self.fake = fake
        self.channel = channel
        self.meta = meta
        self.received: list[Inbound] = []

    async def on_inbound(self, message: Inbound) -> None:
        self.received.append(message)


@pytest.fixture
async def alone(tmp_path: Path) -> AsyncIterator[Alone]:
    async with FakeGraphApi() as fake:
        channel = cloud_channel(fake, tmp_path / "data")
        server = WebhookServer(channel)
        cloud = Alone(fake, channel, Meta(await server.start()))
        await channel.start(cloud.on_inbound)
        try:
            yield cloud
        finally:
            await channel.stop()
            await server.stop()


async def test_the_handshake_answers_the_challenge_only_for_the_verify_token(
    alone: Alone,
) -> None:
    url = alone.meta.webhook_url
    async with aiohttp.ClientSession() as http:
        good = {
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        }
        async with http.get(url, params=good) as response:
            assert (response.status, await response.text()) == (200, "1158201444")
        for bad in ({**good, "hub.verify_token": "tebakan"}, {**good, "hub.mode": "x"}):
            async with http.get(url, params=bad) as response:
                assert response.status == 403
                assert "1158201444" not in await response.text()


async def test_a_forged_or_missing_signature_is_refused_and_nothing_is_read(
    alone: Alone,
) -> None:
    meta = alone.meta
    payload = meta.text(NUMBER, "pesan palsu")
    assert await meta.post(payload, signature=None) == 401
    assert await meta.post(payload, signature="sha256=" + "0" * 64) == 401
    assert await meta.post(payload, signature="sha256=é") == 401
    forged = Meta(meta.webhook_url, secret="bukan-rahasia-aplikasi")
    assert await forged.post(payload) == 401
    assert alone.received == []
    assert await meta.post(payload) == 200
    assert [m.text for m in alone.received] == ["pesan palsu"]


async def test_a_long_menu_is_split_into_balanced_lists_with_every_id(alone: Alone) -> None:
    fake, meta = alone.fake, alone.meta
    assert await meta.post(meta.text(NUMBER, "halo")) == 200
    options = tuple(Option(f"kat{i}", f"Kategori pengaduan nomor {i}") for i in range(13))
    await alone.channel.send(Outbound("whatsapp", NUMBER, "Pilih topik:", options=options))
    first, second = fake.to(NUMBER)
    assert [first.text, second.text] == ["Pilih topik:", "Pilihan lain (2/2)"]
    assert first.option_ids + second.option_ids == [o.id for o in options]
    assert (len(first.labels), len(second.labels)) == (7, 6)
    assert all(len(label) <= 24 for label in first.labels + second.labels)
    rows = first.body["interactive"]["action"]["sections"][0]["rows"]
    assert rows[0]["description"] == "Kategori pengaduan nomor 0"

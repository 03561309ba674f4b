"""``taros run`` with the WhatsApp Cloud API configured: the real command, as a process, its
webhook on ``TAROS_HTTP`` beside ``/healthz``, against the fake Graph API; a whole report
through Meta's signed webhooks, then SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from pathlib import Path

import aiohttp
from fake_graph_api import APP_SECRET, PHONE_ID, TOKEN, VERIFY_TOKEN, FakeGraphApi, Meta
from support import start_taros_run

NUMBER = "6281234567890"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthz(base: str, within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status in (200, 503):
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("taros run never served /healthz")
            await asyncio.sleep(0.2)


async def test_taros_run_serves_the_cloud_api_webhook_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "stderr.txt"
    async with FakeGraphApi() as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TAROS_")},
            "TAROS_DATA_DIR": str(tmp_path / "data"),
            "TAROS_HTTP": f"127.0.0.1:{port}",
            "TAROS_WHATSAPP_CLOUD_PHONE_ID": PHONE_ID,
            "TAROS_WHATSAPP_CLOUD_TOKEN": TOKEN,
            "TAROS_WHATSAPP_CLOUD_APP_SECRET": APP_SECRET,
            "TAROS_WHATSAPP_CLOUD_VERIFY_TOKEN": VERIFY_TOKEN,
            "TAROS_WHATSAPP_CLOUD_API_URL": fake.url,
            "TAROS_WHATSAPP_CLOUD_CHAT_GAP": "0.1",
            "TAROS_LOG_LEVEL": "DEBUG",
        }
        process = await start_taros_run(env, log)
        try:
            await wait_healthz(base)
            meta = Meta(f"{base}/webhooks/whatsapp")
            async with aiohttp.ClientSession() as http:
                handshake = {
                    "hub.mode": "subscribe",
                    "hub.verify_token": VERIFY_TOKEN,
                    "hub.challenge": "42",
                }
                async with http.get(meta.webhook_url, params=handshake) as response:
                    assert await response.text() == "42"
            assert await meta.post(meta.text(NUMBER, "halo")) == 200
            [menu] = await fake.wait_sent(NUMBER, 1, within=30)
            steps = [
                (meta.press(NUMBER, menu, "uang_palsu"), "Di mana kejadiannya"),
                (meta.location(NUMBER, -7.0853, 107.9983), "Ceritakan apa yang terjadi"),
                (meta.text(NUMBER, "Tadi pagi ada yang belanja pakai uang palsu."), "bukti"),
            ]
            for payload, expect in steps:
                seen = len(fake.to(NUMBER))
                assert await meta.post(payload) == 200
                sent = await fake.wait_sent(NUMBER, seen + 1, within=30)
                assert expect in sent[-1].text, sent[-1].text
            seen = len(fake.to(NUMBER))
            assert await meta.post(meta.press(NUMBER, fake.to(NUMBER)[-1], "none")) == 200
            summary = (await fake.wait_sent(NUMBER, seen + 1, within=30))[-1]
            seen = len(fake.to(NUMBER))
            assert await meta.post(meta.press(NUMBER, summary, "submit")) == 200
            done = (await fake.wait_sent(NUMBER, seen + 1, within=30))[-1]
            assert re.search(r"GRT-\d{4}-\d{5}", done.text), done.text
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = log.read_text()
    assert "serving WhatsApp (Cloud API" in output
    for secret in (TOKEN, APP_SECRET, VERIFY_TOKEN):
        assert secret not in output
    assert NUMBER not in output

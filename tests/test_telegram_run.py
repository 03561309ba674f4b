"""``taros run`` with a Telegram token: the real command, as a process, against the fake Bot
API server; it serves until SIGTERM and then exits cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_bot_api import FakeBotApi
from support import start_taros_run


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def _taros_run(
    tmp_path: Path, fake: FakeBotApi, token: str
) -> tuple[asyncio.subprocess.Process, Path]:
    log = tmp_path / "stderr.txt"
    env = {
        **os.environ,
        "TAROS_DATA_DIR": str(tmp_path / "data"),
        "TAROS_TELEGRAM_TOKEN": token,
        "TAROS_TELEGRAM_API_URL": fake.url,
        "TAROS_LOG_LEVEL": "DEBUG",
    }
    process = await start_taros_run(env, log)
    return process, log


async def test_taros_run_serves_telegram_until_sigterm(tmp_path: Path, fake: FakeBotApi) -> None:
    process, log = await _taros_run(tmp_path, fake, fake.token)
    try:
        await fake.wait_for(lambda: fake.calls_of("getUpdates"), 60, "taros run to poll")
        fake.text(31337, "/start")
        await fake.reply(31337, "Laporan Anda tentang apa")
        steps = [
            (lambda: fake.press_option(31337, "uang_palsu"), "Di mana kejadiannya"),
            (lambda: fake.location(31337, -7.0853, 107.9983), "Ceritakan apa yang terjadi"),
            (
                lambda: fake.text(31337, "Tadi pagi ada yang belanja pakai uang palsu di warung."),
                "Apakah ada bukti",
            ),
            (lambda: fake.press_option(31337, "none"), "Ringkasan laporan Anda"),
            (lambda: fake.press_option(31337, "submit"), r"GRT-\d{4}-\d{5}"),
        ]
        for action, expect in steps:  # the whole dialogue, through the served process
            seen = len(fake.bot_texts(31337))
            action()
            await fake.reply(31337, expect, after=seen, within=30)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert "serving Telegram (long polling)" in output
    assert fake.token not in output
    assert fake.token.split(":")[1] not in output
    assert (tmp_path / "data" / "taros.db").exists()


async def test_taros_run_refuses_a_rejected_token(tmp_path: Path, fake: FakeBotApi) -> None:
    wrong = "111:not-the-token"
    process, log = await _taros_run(tmp_path, fake, wrong)
    try:
        assert await asyncio.wait_for(process.wait(), 60) == 2
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert "rejected TAROS_TELEGRAM_TOKEN" in output
    assert "not-the-token" not in output

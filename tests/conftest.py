from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from support import Harness, running

from bot.config import Settings
from bot.ops.process import configure_process

configure_process()  # as the taros command does at start


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[Harness]:
    async with running(settings) as harness:
        yield harness


# CI replays the same generated examples every run (a red CI must mean a real regression);
# a developer's run explores new ones (`HYPOTHESIS_PROFILE=explore` forces it anywhere).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "explore")
)

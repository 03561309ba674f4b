from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import Harness, running

from taros.bot.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[Harness]:
    async with running(settings) as harness:
        yield harness

"""Process-wide settings (bot/ops/process.py): once started, what TAROS loaded for its whole
life is set aside from the garbage collector, so a full collection is no longer a pause every
message in progress waits for (issue 18)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, sys
    from pathlib import Path
    from bot.app import App
    from bot.config import Settings
    from bot.ops.process import configure_process, settle_heap

    async def main() -> None:
        configure_process()
        app = await App.open(Settings(data_dir=Path(sys.argv[1])))
        await app.start(timers=False)
        try:
            loaded = len(gc.get_objects())
            settle_heap()
            print(loaded, gc.get_freeze_count(), len(gc.get_objects()))
        finally:
            await app.close()

    asyncio.run(main())
    """
)


def test_a_started_taros_sets_what_it_loaded_aside_from_the_collector(tmp_path: Path) -> None:
    # in a process of its own: frozen objects are never freed
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded, frozen, left = map(int, run.stdout.split())
    assert loaded > 20_000  # the gazetteer, the catalogs, the modules
    assert frozen >= loaded * 0.9
    assert left < loaded / 20  # what a full collection still walks


def test_the_process_hands_the_gil_over_within_a_millisecond() -> None:
    # the database thread takes the GIL back after every statement (bench/README.md)
    script = textwrap.dedent(
        """
        import gc, sys
        from bot.ops.process import configure_process
        before = sys.getswitchinterval()
        configure_process()
        after = sys.getswitchinterval()
        sys.setswitchinterval(0.0002)
        configure_process()  # a lower one set by someone else is kept
        print(before, after, sys.getswitchinterval(), gc.get_threshold()[0])
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, after, kept, young = run.stdout.split()
    assert float(before) == 0.005 and float(after) == 0.001
    assert float(kept) == pytest.approx(0.0002)
    assert int(young) >= 10_000

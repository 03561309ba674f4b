"""The crash soak at smoke size: killed with SIGKILL mid-run, TAROS loses nothing and makes no
ticket twice. (Full size by hand: ``python -m bench.soak --conversations 1000 --kills 50``.)"""

from __future__ import annotations

from pathlib import Path

from support import run_bench


def test_killing_the_bot_loses_nothing(tmp_path: Path) -> None:
    summary = run_bench("soak", "--conversations", "60", "--kills", "4", "--work", str(tmp_path))
    assert summary.startswith("soak PASS: 60 conversations")
    assert " 0 duplicates, 0 lost," in summary

"""The bad-input fuzz at smoke size: hostile messages of every kind, nothing fails.
(Full size by hand: ``python -m bench.fuzz --messages 100000``.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_hostile_input_never_breaks_the_bot() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.fuzz", "--messages", "3000", "--chats", "80"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("fuzz PASS: 3000 messages, 0 failed")

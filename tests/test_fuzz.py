"""The bad-input fuzz at smoke size: hostile messages of every kind, nothing fails.
(Full size by hand: ``python -m bench.fuzz --messages 100000``.)"""

from __future__ import annotations

from support import run_bench


def test_hostile_input_never_breaks_the_bot() -> None:
    summary = run_bench("fuzz", "--messages", "3000", "--chats", "80")
    assert summary.startswith("fuzz PASS: 3000 messages, 0 failed")

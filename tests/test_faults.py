"""Platform faults at smoke size: 5 % of sends answered 502 or 429 with retry_after, 100 ms
latency per call; every reply arrives exactly once, in each chat's order.
(Full size by hand: ``python -m bench.faults --citizens 200``.)"""

from __future__ import annotations

from support import run_bench


def test_a_misbehaving_bot_api_loses_and_reorders_nothing() -> None:
    summary = run_bench("faults", "--citizens", "10")
    assert summary.startswith("faults PASS: 10 citizens")
    assert "0 missing, 0 duplicated, 0 chats out of order" in summary

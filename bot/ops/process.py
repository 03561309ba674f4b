"""Process-wide settings, made once by whoever starts the process (the ``taros`` command, a
benchmark, the test session), never as a side effect of importing or constructing a part."""

from __future__ import annotations

import gc
import os
import sys

GC_YOUNG_THRESHOLD = 10_000
"""Every message allocates many short-lived objects (Inbound, Outbound, Changes, futures,
rows). At CPython's default generation-0 threshold (700) the collector runs every few
messages and, with the large static data loaded at start (gazetteer, catalogs), its older
generations are costly: raising the threshold gives about a third more messages a second
(bench/README.md). Cycles are still collected; never lowered."""

SWITCH_INTERVAL = 0.001
"""Seconds a thread may keep the GIL while another waits for it (CPython's default: 0.005).
The database thread lets the GIL go around every SQLite statement and must take it back
before the next; while the event loop is busy (a burst of messages) each taking-back waited
up to the whole interval, a dozen times per message, and every message of the batch waited
with it. At 1 ms the latency run's p99 fell by about a third (bench/README.md, issue 18).
Never raised."""


def configure_process() -> None:
    """The garbage collector's young threshold, and python-telegram-bot's time periods as
    ``timedelta`` (its v23 behaviour, so reading ``RetryAfter.retry_after`` warns of nothing;
    the library reads the variable when it builds such an error), and the GIL's switch
    interval."""
    young, *older = gc.get_threshold()
    if 0 < young < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, *older)
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def settle_heap() -> None:
    """Once the process has loaded what it keeps for its whole life (modules, the gazetteer,
    the categories, the catalogs, the open application), move those objects out of the
    garbage collector's generations (``gc.freeze``): a full collection then no longer walks
    them. A full collection of a started TAROS took about 30 ms, a pause that every message in
    progress waited for, and takes well under 1 ms once they are set aside (bench/README.md,
    issue 18). Objects made later are collected as before; the frozen ones are never freed,
    which is what they are for."""
    gc.collect()
    gc.freeze()

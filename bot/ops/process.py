"""Process-wide settings, made once by whoever starts the process (the ``taros`` command, a
benchmark, the test session), never as a side effect of importing or constructing a part."""

from __future__ import annotations

import gc
import os

GC_YOUNG_THRESHOLD = 10_000
"""Every message allocates many short-lived objects (Inbound, Outbound, Changes, futures,
rows). At CPython's default generation-0 threshold (700) the collector runs every few
messages and, with the large static data loaded at start (gazetteer, catalogs), its older
generations are costly: raising the threshold gives about a third more messages a second
(bench/README.md). Cycles are still collected; never lowered."""


def configure_process() -> None:
    """The garbage collector's young threshold, and python-telegram-bot's time periods as
    ``timedelta`` (its v23 behaviour, so reading ``RetryAfter.retry_after`` warns of nothing;
    the library reads the variable when it builds such an error)."""
    young, *older = gc.get_threshold()
    if 0 < young < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, *older)
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

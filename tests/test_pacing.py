"""The pacer's limits: a sliding window never lets more than its calls into any stretch of its
length, whatever the arrivals; a token bucket allows its burst, then its rate."""

from __future__ import annotations

import bisect
import itertools

from hypothesis import given
from hypothesis import strategies as st

from channels.pacing import Pacer, Rate, Window


def reservations(limit: Rate | Window, arrivals: list[float]) -> list[float]:
    """When each call (arriving at the given times, in order) may go, on a fake clock."""
    pacer = Pacer(limit, Rate(0), clock=lambda: 0.0)
    times: list[float] = []
    for at in arrivals:
        if isinstance(limit, Rate):  # a bucket hands out reservations: one take, one wait
            times.append(at + pacer._global.take(at))
            continue
        went = max(at, times[-1] if times else at)  # one caller after the other
        while (delay := pacer._global.take(went)) > 0:
            went += delay  # it waits, then asks again
        times.append(went)
    return times


def most_in_any_window(times: list[float], seconds: float) -> int:
    ordered = sorted(times)
    # a window [t, t + seconds) starting at each reservation holds the most there can be
    return max(
        (bisect.bisect_left(ordered, t + seconds - 1e-9) - i for i, t in enumerate(ordered)),
        default=0,
    )


arrivals = st.lists(st.floats(0, 5, allow_nan=False), max_size=200).map(sorted)


@given(arrivals, st.integers(1, 40), st.sampled_from([0.5, 1.0, 2.0]))
def test_a_sliding_window_never_lets_more_than_its_calls_into_any_window(
    times: list[float], calls: int, seconds: float
) -> None:
    gone = reservations(Window(calls, seconds), times)
    assert most_in_any_window(gone, seconds) <= calls
    assert all(g >= t for g, t in zip(gone, times, strict=True))  # never before it arrived
    assert gone == sorted(gone)  # in the order they came


@given(st.integers(1, 40))
def test_a_window_spreads_its_calls_evenly(calls: int) -> None:
    """A burst goes out one call every ``seconds / calls``: a server whose network delays
    some calls more than others still never sees more than its window."""
    gone = reservations(Window(calls, 1.0), [0.0] * (2 * calls))
    gaps = [b - a for a, b in itertools.pairwise(gone)]
    assert all(gap >= 1.0 / calls - 1e-9 for gap in gaps)
    assert gone[-1] <= 2.0  # and no slower than that


def test_a_token_bucket_can_put_twice_its_rate_into_one_second() -> None:
    """Why Telegram's overall limit is a window: a full bucket of 30 plus 30 a second of
    refill lets about 60 calls into the first second."""
    gone = reservations(Rate(30.0, 30), [0.0] * 60)
    assert most_in_any_window(gone, 1.0) > 50
    gone = reservations(Window(30, 1.0), [0.0] * 60)
    assert most_in_any_window(gone, 1.0) == 30


def test_the_load_says_how_much_of_the_window_is_taken() -> None:
    now = [0.0]
    pacer = Pacer(Window(10, 1.0), Rate(0), clock=lambda: now[0])
    assert pacer.load() == 0.0
    for step in range(6):
        now[0] = step * 0.1
        assert pacer._global.take(now[0]) == 0
    assert pacer.load() == 0.6
    now[0] = 2.0  # a second later the window is empty again
    assert pacer.load() == 0.0


async def test_keyboards_are_not_edited_away_while_the_bot_is_busy() -> None:
    from channels.telegram.chores import Chores

    edits: list[int] = []

    class Bot:
        async def edit_message_reply_markup(self, *, chat_id: int, message_id: int) -> None:
            edits.append(message_id)

    pacer = Pacer(Window(10, 1.0), Rate(0))
    chores = Chores(lambda: Bot(), pacer)  # type: ignore[arg-type, return-value]
    chores.retire("5001", 1)
    await chores.drain(1.0)
    assert edits == [1]
    for _ in range(6):  # replies take more than half of the window
        await pacer.wait("5002")
    chores.retire("5001", 2)
    await chores.drain(1.0)
    assert edits == [1]  # left in place: the replies come first

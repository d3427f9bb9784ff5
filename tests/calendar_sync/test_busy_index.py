"""BusyIndex.busy_now: every agent blocked at an instant, reused and moved along with time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from calendar_sync.index import BusyIndex

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
AGENTS = ("a", "b", "c", "d")

rows = st.lists(st.tuples(st.sampled_from(AGENTS), st.integers(0, 240), st.integers(0, 120),
                          st.booleans()), max_size=30)
# Instants on and around the span boundaries (whole minutes), forwards, backwards and far.
instants = st.lists(st.one_of(st.integers(-10, 400).map(lambda m: T0 + m * MIN),
                              st.integers(0, 400 * 60).map(lambda s: T0 + s * timedelta(
                                  seconds=1))), min_size=1, max_size=25)


def index_of(spec: list[tuple[str, int, int, bool]]) -> BusyIndex:
    """Intervals starting `start` minutes after T0 and lasting `length` minutes."""
    return BusyIndex([(a, T0 + s * MIN, T0 + (s + n) * MIN, blocks, None)
                      for a, s, n, blocks in spec])


@settings(max_examples=300, deadline=None)
@given(rows, instants)
def test_busy_now_is_busy_until_of_every_agent_whatever_order_time_comes_in(
        spec: list[tuple[str, int, int, bool]], times: list[datetime]) -> None:
    idx = index_of(spec)
    for now in times:
        want = {a: idx.busy_until(a, now) for a in AGENTS}
        got = dict(idx.busy_now(now))
        assert got == {a: until for a, until in want.items() if until is not None}


def test_spans_block_from_their_start_up_to_not_including_their_end() -> None:
    idx = index_of([("a", 60, 30, True), ("a", 90, 30, True), ("b", 0, 600, False),
                    ("c", 100, 10, True)])
    assert dict(idx.busy_now(T0 + 59 * MIN)) == {}
    assert dict(idx.busy_now(T0 + 60 * MIN)) == {"a": T0 + 120 * MIN}  # touching spans merge
    assert dict(idx.busy_now(T0 + 105 * MIN)) == {"a": T0 + 120 * MIN, "c": T0 + 110 * MIN}
    assert dict(idx.busy_now(T0 + 110 * MIN)) == {"a": T0 + 120 * MIN}
    assert dict(idx.busy_now(T0 + 120 * MIN)) == {}
    assert dict(idx.busy_now(T0 + 61 * MIN)) == {"a": T0 + 120 * MIN}  # back in time


def test_decisions_between_boundaries_reuse_the_set_and_passing_one_moves_it_along() -> None:
    idx = index_of([("a", 60, 30, True), ("b", 70, 30, True)])
    first = idx.busy_now(T0 + 61 * MIN)
    assert idx.busy_now(T0 + 69 * MIN) is first  # no boundary passed: the same answer
    assert idx.recomputes == 1 and idx.advances == 0
    assert dict(idx.busy_now(T0 + 95 * MIN)) == {"b": T0 + 100 * MIN}
    assert idx.recomputes == 1 and idx.advances == 2  # b's start and a's end, one by one
    assert dict(first) == {"a": T0 + 90 * MIN}  # what an earlier caller holds never changes


def test_an_agent_without_blocking_spans_and_times_without_offset() -> None:
    idx = BusyIndex([("n", T0, T0 + MIN, False, "all_day_free"),
                     ("m", T0.replace(tzinfo=None), (T0 + MIN).replace(tzinfo=None), True,
                      None)])
    assert dict(idx.busy_now(T0)) == {"m": T0 + MIN}  # stored without offset: UTC
    assert idx.busy_until("m", T0) == T0 + MIN and idx.busy_until("n", T0) is None
    assert dict(BusyIndex().busy_now(T0)) == {}

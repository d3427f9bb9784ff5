"""The ring strategies as pure orderings (CONTRACT §4: strategies, ties by file order)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from routing.strategies import RINGALL_LIMIT, Candidate, order

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MEMBERS = ("a", "b", "c", "d", "e")


def cands(*ids: str, **kw: dict[str, object]) -> list[Candidate]:
    """Candidates at their positions in MEMBERS; kw maps a field to {agent: value}."""
    out = []
    for agent_id in ids:
        fields = {name: values[agent_id] for name, values in kw.items() if agent_id in values}
        out.append(Candidate(agent_id, MEMBERS.index(agent_id), **fields))  # type: ignore[arg-type]
    return out


def test_linear_is_file_order_whatever_order_the_candidates_come_in() -> None:
    assert order("linear", cands("d", "a", "c"), members=MEMBERS) == ["a", "c", "d"]


def test_round_robin_continues_after_the_member_rung_last() -> None:
    everyone = cands(*MEMBERS)
    assert order("round_robin", everyone, members=MEMBERS, last_rung="b") == [
        "c", "d", "e", "a", "b"]
    assert order("round_robin", everyone, members=MEMBERS, last_rung="e") == [
        "a", "b", "c", "d", "e"]


def test_round_robin_continues_after_last_rung_even_when_that_member_is_unavailable() -> None:
    # c was rung last and is now logged out (not a candidate): d comes next, not a.
    without_c = cands("a", "b", "d", "e")
    assert order("round_robin", without_c, members=MEMBERS, last_rung="c") == [
        "d", "e", "a", "b"]


def test_round_robin_without_history_starts_at_the_top() -> None:
    assert order("round_robin", cands("c", "a"), members=MEMBERS, last_rung=None) == ["a", "c"]


def test_least_recent_longest_since_last_answered_first_never_answered_first() -> None:
    history = {"a": T0 - timedelta(minutes=5), "b": T0 - timedelta(hours=2),
               "d": T0 - timedelta(minutes=30)}  # c and e never answered
    got = order("least_recent", cands(*MEMBERS, last_answered_at=history), members=MEMBERS)
    assert got == ["c", "e", "b", "d", "a"]


def test_least_recent_ties_go_by_file_order() -> None:
    same = {m: T0 - timedelta(minutes=10) for m in MEMBERS}
    got = order("least_recent", cands("e", "b", "d", last_answered_at=same), members=MEMBERS)
    assert got == ["b", "d", "e"]


def test_fewest_calls_fewest_answered_today_first_ties_by_file_order() -> None:
    counts = {"a": 4, "b": 1, "c": 0, "d": 1, "e": 7}
    got = order("fewest_calls", cands(*MEMBERS, answered_today=counts), members=MEMBERS)
    assert got == ["c", "b", "d", "a", "e"]


def test_random_is_a_permutation_and_follows_the_injected_rng() -> None:
    everyone = cands(*MEMBERS)
    first = order("random", everyone, members=MEMBERS, rng=random.Random(7))
    assert sorted(first) == sorted(MEMBERS)
    assert order("random", everyone, members=MEMBERS, rng=random.Random(7)) == first
    seen = {tuple(order("random", everyone, members=MEMBERS, rng=random.Random(s)))
            for s in range(20)}
    assert len(seen) > 1


def test_ringall_rings_everyone_in_file_order_up_to_ten() -> None:
    members = tuple(f"m{i:02d}" for i in range(10))
    everyone = [Candidate(m, i) for i, m in enumerate(members)]
    assert order("ringall", everyone, members=members) == list(members)


def test_ringall_caps_at_ten_keeping_the_ten_idle_longest() -> None:
    members = tuple(f"m{i:02d}" for i in range(14))
    # m00..m03 just finished calls; the rest have been idle longer (m13 longest).
    idle = {m: T0 - timedelta(minutes=60 - i) for i, m in enumerate(members)}
    idle.update({m: T0 - timedelta(seconds=10) for m in members[:4]})
    idle["m13"] = T0 - timedelta(hours=3)
    everyone = [Candidate(m, i, idle_since=idle[m]) for i, m in enumerate(members)]
    got = order("ringall", everyone, members=members)
    assert len(got) == RINGALL_LIMIT == 10
    assert got == list(members[4:])  # the four busiest out, the rest in file order


def test_ringall_cap_never_idle_counts_as_idle_longest_ties_by_file_order() -> None:
    members = tuple(f"m{i:02d}" for i in range(12))
    idle = {m: T0 - timedelta(seconds=30) for m in members}
    idle["m11"] = None  # never offered: idle longest of all
    everyone = [Candidate(m, i, idle_since=idle[m]) for i, m in enumerate(members)]
    got = order("ringall", everyone, members=members)
    assert got == [*members[:9], "m11"]


def test_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError):
        order("ring_everyone_twice", cands("a"), members=MEMBERS)

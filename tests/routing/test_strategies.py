"""The ring strategies as pure orderings (docs/routing.md#strategies: ties by file order)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.strategies import (
    RINGALL_LIMIT,
    STRATEGIES,
    Candidate,
    first_untried,
    order,
    pick_ringall,
)

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


# --- The same strategies through the webhooks, with the history the database keeps ---------

AGENT_IDS = [f"m{i:02d}" for i in range(1, 13)]
STRATEGY_ORG = "\n".join([
    "organisation: {name: Strategiforbundet, timezone: Europe/Oslo}",
    'numbers: [{number: "+4722000000", kind: switchboard}]',
    'menu: {"1": alle, "2": rr, "3": lr, "4": fc}',
    "agents:",
    *[f'  - {{id: {a}, name: Agent {a}, phone: "+47900002{a[1:]}"}}' for a in AGENT_IDS],
    "loops:",
    f"  - {{id: alle, name: Alle, members: [{', '.join(AGENT_IDS)}], strategy: ringall}}",
    "  - {id: rr, name: Runde, members: [m01, m02, m03], strategy: round_robin}",
    "  - {id: lr, name: Lengst, members: [m01, m02, m03], strategy: least_recent}",
    "  - {id: fc, name: Færrest, members: [m01, m02, m03], strategy: fewest_calls}",
])


@pytest.fixture
def tw(settings, engine):  # type: ignore[no-untyped-def]
    from tests.twilio_harness import make_app

    return make_app(settings, engine, STRATEGY_ORG)


def one_round(tw, digit: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """A caller presses `digit`; nobody answers; returns each <Dial>'s agents in turn."""
    from tests.ivr_steps import dial_ends, press, rung, status
    from tests.twilio_harness import new_sid

    sid = new_sid()
    root, _ = press(tw, sid, digit)
    dials = []
    while root.find("Dial") is not None and len(dials) < 20:
        dials.append(rung(root))
        tw.clock.advance(1)
        root, _ = dial_ends(tw, root, sid, "no-answer")
    assert root.find("Record") is not None  # max_wait 0: one round, then voicemail
    status(tw, sid, "completed")
    tw.clock.advance(1)
    return dials


def answered_by(tw, digit: str, agent_id: str) -> None:  # type: ignore[no-untyped-def]
    """A call into loop `digit` that `agent_id` takes (the first <Dial> must ring them)."""
    from tests.ivr_steps import confirm, dial_ends, press, rung, status
    from tests.twilio_harness import new_sid

    sid = new_sid()
    root, _ = press(tw, sid, digit)
    assert agent_id in rung(root)
    assert confirm(tw, root, agent_id, "CL" + sid[2:]) == "connected"
    tw.clock.advance(30)
    dial_ends(tw, root, sid, "completed")
    status(tw, sid, "completed")
    tw.clock.advance(1)


def test_webhook_ringall_caps_at_ten_then_prefers_who_idled_longest(tw) -> None:
    assert one_round(tw, "1") == [AGENT_IDS[:10]]
    # m01..m10 were just offered; m11 and m12 have idled longest, ties by file order.
    assert one_round(tw, "1") == [[*AGENT_IDS[:8], "m11", "m12"]]


def test_webhook_round_robin_continues_after_an_agent_who_is_now_logged_out(tw) -> None:
    from sqlalchemy import update

    from routing.models import Agent

    assert one_round(tw, "2") == [["m01"], ["m02"], ["m03"]]
    assert one_round(tw, "2") == [["m01"], ["m02"], ["m03"]]  # after m03 comes m01
    answered_by(tw, "2", "m01")
    answered_by(tw, "2", "m02")
    agent = Agent.__table__  # type: ignore[attr-defined]
    with tw.client.app.state.engine.begin() as conn:
        conn.execute(update(agent).where(agent.c.id == "m02").values(logged_in=False))
    # m02 was rung last and is gone now: the next call goes on after m02, at m03 (not m01).
    assert one_round(tw, "2") == [["m03"], ["m01"]]


def test_webhook_least_recent_orders_by_last_answered_call(tw) -> None:
    assert one_round(tw, "3") == [["m01"], ["m02"], ["m03"]]  # nobody answered yet
    answered_by(tw, "3", "m01")
    assert one_round(tw, "3") == [["m02"], ["m03"], ["m01"]]
    answered_by(tw, "3", "m02")  # m02 answers next (the first rung)
    answered_by(tw, "3", "m03")
    assert one_round(tw, "3") == [["m01"], ["m02"], ["m03"]]


def test_webhook_fewest_calls_counts_answered_calls_today(tw) -> None:
    answered_by(tw, "4", "m01")  # all at 0: file order, m01 first
    answered_by(tw, "4", "m02")  # m01 has 1: m02 first
    assert one_round(tw, "4") == [["m03"], ["m01"], ["m02"]]  # m01, m02 tie at 1: file order
    answered_by(tw, "4", "m03")
    assert one_round(tw, "4") == [["m01"], ["m02"], ["m03"]]  # 1, 1, 1
    answered_by(tw, "4", "m01")
    assert one_round(tw, "4") == [["m02"], ["m03"], ["m01"]]
    tw.clock.advance(24 * 3600)  # a new day in Oslo: everyone starts from zero
    assert one_round(tw, "4") == [["m01"], ["m02"], ["m03"]]


def test_webhook_fewest_calls_day_is_the_organisations_day_not_utcs(tw) -> None:
    tw.clock.now = datetime(2026, 11, 25, 22, 40, tzinfo=UTC)  # 23:40 in Oslo
    answered_by(tw, "4", "m01")
    assert one_round(tw, "4") == [["m02"], ["m03"], ["m01"]]
    tw.clock.now = datetime(2026, 11, 25, 23, 10, tzinfo=UTC)  # 00:10 in Oslo: a new day
    assert one_round(tw, "4") == [["m01"], ["m02"], ["m03"]]


# --- The id-based strategies decide_roster uses agree with order() -----------------------------

BIG = tuple(f"b{i:02d}" for i in range(30))
times = st.sampled_from([None, None, T0 - timedelta(minutes=1), T0 - timedelta(hours=2),
                         T0 - timedelta(hours=3)])


@st.composite
def big_loops(draw: st.DrawFn) -> tuple[list[Candidate], list[str], str | None, int]:
    """Offerable candidates (few distinct keys, so ties are common), tried agents, last rung."""
    n = draw(st.integers(1, len(BIG)))
    members = BIG[:n]
    chosen = draw(st.lists(st.sampled_from(members), unique=True, min_size=1))
    offerable = [Candidate(a, members.index(a), draw(times), draw(st.integers(0, 2)), draw(times))
                 for a in sorted(chosen, key=members.index)]
    tried = draw(st.one_of(st.lists(st.sampled_from(members), unique=True),
                           st.just(list(chosen))))
    return offerable, tried, draw(st.sampled_from((None, *members))), n


@settings(max_examples=500, deadline=None)
@given(big_loops(), st.sampled_from(STRATEGIES), st.integers(0, 100))
def test_id_based_picks_are_order_s_first_untried_and_first(loop, strategy: str,
                                                            seed: int) -> None:
    offerable, tried, last_rung, n = loop
    members = BIG[:n]
    ids = [c.agent_id for c in offerable]
    want = order(strategy, offerable, members=members, last_rung=last_rung,
                 rng=random.Random(seed))
    if strategy == "ringall":
        idle = {c.agent_id: c.idle_since for c in offerable if c.idle_since is not None}
        assert pick_ringall(ids, idle) == want
        return
    got = first_untried(
        strategy, ids, set(tried), members=members, excluded=set(members) - set(ids),
        last_answered={c.agent_id: c.last_answered_at for c in offerable
                       if c.last_answered_at is not None},
        # zeros included here; Roster.from_states leaves them out (tests/test_decide.py)
        answered_today={c.agent_id: c.answered_today for c in offerable},
        last_rung=last_rung, rng=random.Random(seed))
    assert got == (next((a for a in want if a not in tried), None), want[0])

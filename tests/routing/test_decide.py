"""The pure routing decision: who may be offered, rounds, waiting in line and overflow (§4)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.decide import (
    OCCUPIED,
    AgentState,
    Decision,
    LoopSpec,
    Roster,
    RouteState,
    decide,
    decide_roster,
    reasons,
)
from routing.strategies import STRATEGIES, Candidate, order

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
IDS = tuple(f"ag{i:02d}" for i in range(12))


def may_be_offered(s: AgentState, *, busy: bool, open_now: bool) -> bool:
    """docs/routing.md in words, written out independently of routing.decide.reasons."""
    resting = s.wrap_up_until is not None and s.wrap_up_until > NOW
    return (s.logged_in and not s.routing_stop and s.live_offer is None and not resting
            and not busy and open_now)


def merely_occupied(s: AgentState, *, busy: bool, open_now: bool) -> bool:
    """Ringing, on a call or in wrap-up, and nothing else keeping them away."""
    resting = s.wrap_up_until is not None and s.wrap_up_until > NOW
    return ((s.live_offer is not None or resting) and s.logged_in and not s.routing_stop
            and not busy and open_now)


agent_states = st.builds(
    AgentState,
    agent_id=st.just(""),
    logged_in=st.booleans(),
    routing_stop=st.booleans(),
    wrap_up_until=st.sampled_from([None, NOW - timedelta(seconds=5), NOW,
                                   NOW + timedelta(seconds=8)]),
    live_offer=st.sampled_from([None, None, "ringing", "on_call"]),
    last_answered_at=st.sampled_from([None, NOW - timedelta(minutes=3),
                                      NOW - timedelta(hours=1)]),
    answered_today=st.integers(0, 5),
    idle_since=st.sampled_from([None, NOW - timedelta(minutes=1), NOW - timedelta(hours=2)]),
)


@st.composite
def situations(draw: st.DrawFn) -> dict:
    """A loop, its members' states and calendars, and a call's progress in it."""
    n = draw(st.integers(1, 12))
    members = tuple(draw(st.permutations(IDS))[:n])
    states = {}
    for m in members:
        if draw(st.integers(0, 9)) == 0:
            continue  # an agent removed from the file: no state at all
        s = draw(agent_states)
        states[m] = AgentState(m, s.logged_in, s.routing_stop, s.wrap_up_until, s.live_offer,
                               s.last_answered_at, s.answered_today, s.idle_since)
    loop = LoopSpec("loop", members, draw(st.sampled_from(STRATEGIES)),
                    draw(st.integers(5, 60)), draw(st.sampled_from([0, 0, 30, 120])))
    route = RouteState(used=draw(st.sampled_from([0.0, 10.0, 29.0, 45.0, 130.0])),
                       tried=draw(st.lists(st.sampled_from(members), unique=True)),
                       rounds=draw(st.integers(0, 2)))
    return dict(loop=loop, states=states, busy={m: draw(st.booleans()) for m in members},
                open_now=draw(st.booleans()), route=route,
                ahead=draw(st.sampled_from([0, 0, 0, 1, 3])),
                last_rung=draw(st.sampled_from((None, *members))),
                seed=draw(st.integers(0, 1000)))


@settings(max_examples=400, deadline=None)
@given(situations())
def test_nobody_who_is_not_offerable_is_ever_offered(s: dict) -> None:
    d = decide(s["loop"], s["states"], s["busy"], now=NOW, open_now=s["open_now"],
               route=s["route"], ahead_in_line=s["ahead"], last_rung=s["last_rung"],
               rng=random.Random(s["seed"]))
    offerable = {m for m, a in s["states"].items()
                 if may_be_offered(a, busy=s["busy"][m], open_now=s["open_now"])}
    assert d.kind in ("dial", "wait", "overflow")
    if d.kind == "dial":
        assert d.agents and set(d.agents) <= offerable
        assert len(d.agents) == len(set(d.agents))
        assert len(d.agents) == 1 or s["loop"].strategy == "ringall"
        assert 1 <= d.timeout <= s["loop"].ring_timeout
        if s["loop"].max_wait > 0:
            assert d.timeout <= max(1, s["loop"].max_wait - s["route"].used)
    else:
        assert d.agents == ()


@settings(max_examples=400, deadline=None)
@given(situations())
def test_wait_only_while_someone_is_merely_occupied_else_overflow_at_once(s: dict) -> None:
    loop = s["loop"]
    d = decide(loop, s["states"], s["busy"], now=NOW, open_now=s["open_now"], route=s["route"],
               ahead_in_line=0, last_rung=s["last_rung"], rng=random.Random(s["seed"]))
    kw = dict(open_now=s["open_now"])
    offerable = [m for m, a in s["states"].items() if may_be_offered(a, busy=s["busy"][m], **kw)]
    occupied = [m for m, a in s["states"].items()
                if merely_occupied(a, busy=s["busy"][m], **kw)]
    if d.kind == "wait":
        assert loop.max_wait > 0 and s["route"].used < loop.max_wait
        assert occupied and not offerable
    if not offerable and not occupied:
        assert d.kind == "overflow"
    if loop.max_wait > 0 and s["route"].used >= loop.max_wait:
        assert d.kind == "overflow"


def everyone(*ids: str, **changes: object) -> dict[str, AgentState]:
    """Available agents, with `changes` applied to each."""
    return {a: AgentState(a, **changes) for a in ids}  # type: ignore[arg-type]


def play_round(loop: LoopSpec, states: dict[str, AgentState], *, last_rung: str | None = None,
               limit: int = 20) -> tuple[list[tuple[str, ...]], str]:
    """Decide again and again as the call flow does after each unanswered <Dial>."""
    route = RouteState()
    dialled: list[tuple[str, ...]] = []
    for _ in range(limit):
        d = decide(loop, states, {}, now=NOW, open_now=True, route=route, last_rung=last_rung)
        if d.kind != "dial":
            return dialled, d.kind
        dialled.append(d.agents)
        route.tried = ([] if d.new_round else route.tried) + list(d.agents)
        route.used += d.timeout
        if loop.strategy == "ringall":
            route.rounds += 1
        if loop.strategy == "round_robin":
            last_rung = d.agents[-1]
    return dialled, "still ringing"


def test_max_wait_zero_linear_is_one_round_in_file_order_then_overflow() -> None:
    states = everyone("a", "b", "c", "d")
    states["b"] = AgentState("b", routing_stop=True)
    loop = LoopSpec("l", ("a", "b", "c", "d"), "linear", 20, 0)
    assert play_round(loop, states) == ([("a",), ("c",), ("d",)], "overflow")


def test_max_wait_zero_ringall_is_one_dial_then_overflow() -> None:
    loop = LoopSpec("l", ("a", "b", "c"), "ringall", 20, 0)
    assert play_round(loop, everyone("a", "b", "c")) == ([("a", "b", "c")], "overflow")


def test_max_wait_zero_round_robin_round_starts_after_last_rung() -> None:
    loop = LoopSpec("l", ("a", "b", "c"), "round_robin", 20, 0)
    got = play_round(loop, everyone("a", "b", "c"), last_rung="a")
    assert got == ([("b",), ("c",), ("a",)], "overflow")


def test_rounds_start_over_in_strategy_order_until_max_wait_runs_out() -> None:
    loop = LoopSpec("l", ("a", "b"), "linear", 20, 100)
    dialled, end = play_round(loop, everyone("a", "b"))
    # 20 + 20 (round one), 20 + 20 (round two), then 20 left: a once more, then overflow.
    assert dialled == [("a",), ("b",), ("a",), ("b",), ("a",)] and end == "overflow"


def test_ringall_rounds_repeat_while_max_wait_lasts_last_dial_gets_the_time_left() -> None:
    loop = LoopSpec("l", ("a", "b"), "ringall", 20, 50)
    route = RouteState(used=40.0, rounds=2)
    d = decide(loop, everyone("a", "b"), {}, now=NOW, open_now=True, route=route)
    assert d.kind == "dial" and d.agents == ("a", "b") and d.timeout == 10
    route.used = 50.0
    d = decide(loop, everyone("a", "b"), {}, now=NOW, open_now=True, route=route)
    assert d.kind == "overflow"


def test_waits_in_line_when_members_are_ringing_on_call_or_in_wrap_up() -> None:
    loop = LoopSpec("l", ("a", "b", "c"), "ringall", 20, 120)
    states = {"a": AgentState("a", live_offer="ringing"),
              "b": AgentState("b", live_offer="on_call"),
              "c": AgentState("c", wrap_up_until=NOW + timedelta(seconds=5))}
    for only in ("a", "b", "c"):
        others_away = {k: (v if k == only else AgentState(k, logged_in=False))
                       for k, v in states.items()}
        d = decide(loop, others_away, {}, now=NOW, open_now=True, route=RouteState())
        assert d.kind == "wait", only


def test_overflows_at_once_when_everyone_is_away_for_good_reasons() -> None:
    loop = LoopSpec("l", ("a", "b", "c", "d"), "linear", 20, 120)
    states = {"a": AgentState("a", logged_in=False), "b": AgentState("b", routing_stop=True),
              "c": AgentState("c"),
              # on a call but also logged out: not *merely* occupied
              "d": AgentState("d", logged_in=False, live_offer="on_call")}
    d = decide(loop, states, {"c": True}, now=NOW, open_now=True, route=RouteState())
    assert d.kind == "overflow"
    closed = decide(loop, everyone("a", "b", "c", "d", live_offer="on_call"), {}, now=NOW,
                    open_now=False, route=RouteState())
    assert closed.kind == "overflow"


def test_max_wait_zero_never_waits_in_line() -> None:
    loop = LoopSpec("l", ("a", "b"), "ringall", 20, 0)
    d = decide(loop, everyone("a", "b", live_offer="on_call"), {}, now=NOW, open_now=True,
               route=RouteState())
    assert d.kind == "overflow"


def test_wrap_up_ends_exactly_at_its_time() -> None:
    loop = LoopSpec("l", ("a",), "linear", 20, 60)
    resting = {"a": AgentState("a", wrap_up_until=NOW + timedelta(seconds=10))}
    assert decide(loop, resting, {}, now=NOW, open_now=True, route=RouteState()).kind == "wait"
    later = NOW + timedelta(seconds=10)
    d = decide(loop, resting, {}, now=later, open_now=True, route=RouteState())
    assert d.kind == "dial" and d.agents == ("a",)


def test_callers_ahead_are_served_first() -> None:
    loop = LoopSpec("l", ("a", "b"), "linear", 20, 60)
    states = {"a": AgentState("a"), "b": AgentState("b", live_offer="on_call")}
    d = decide(loop, states, {}, now=NOW, open_now=True, route=RouteState(), ahead_in_line=1)
    assert d.kind == "wait"
    d = decide(loop, states, {}, now=NOW, open_now=True, route=RouteState(), ahead_in_line=0)
    assert d.kind == "dial" and d.agents == ("a",)


@settings(max_examples=200, deadline=None)
@given(situations())
def test_max_wait_zero_round_offers_each_offerable_member_once_then_overflows(s: dict) -> None:
    loop = s["loop"]
    loop = LoopSpec(loop.loop_id, loop.members, loop.strategy, loop.ring_timeout, 0)
    # Nobody occupied: each member is offerable or away for good, so nothing changes mid-round.
    states = {m: AgentState(m, a.logged_in, a.routing_stop, None, None, a.last_answered_at,
                            a.answered_today, a.idle_since) for m, a in s["states"].items()}
    offerable = [m for m in loop.members if m in states
                 and may_be_offered(states[m], busy=s["busy"][m], open_now=s["open_now"])]
    route, last_rung, dialled = RouteState(), s["last_rung"], []
    rng = random.Random(s["seed"])
    for _ in range(len(loop.members) + 2):
        d = decide(loop, states, s["busy"], now=NOW, open_now=s["open_now"], route=route,
                   last_rung=last_rung, rng=rng)
        if d.kind != "dial":
            break
        dialled.append(d.agents)
        route.tried = ([] if d.new_round else route.tried) + list(d.agents)
        route.rounds += loop.strategy == "ringall"
        last_rung = d.agents[-1]
    assert d.kind == "overflow"
    if loop.strategy == "ringall":
        assert len(dialled) == (1 if offerable else 0)  # one <Dial> is the whole round
        if offerable:
            assert set(dialled[0]) <= set(offerable)
            assert len(dialled[0]) == min(10, len(offerable))
            assert list(dialled[0]) == sorted(dialled[0], key=loop.members.index)
    else:
        flat = [a for group in dialled for a in group]
        assert sorted(flat) == sorted(offerable)  # each offerable member exactly once
        if loop.strategy == "linear":
            assert flat == offerable


def reference_decide(loop: LoopSpec, states: dict[str, AgentState], busy: dict[str, bool], *,
                     open_now: bool, route: RouteState, ahead_in_line: int,
                     last_rung: str | None, rng: random.Random) -> Decision:
    """The plain definition: reasons() for every member, then order() of the candidates."""
    offerable: list[Candidate] = []
    occupied = 0
    for pos, m in enumerate(loop.members):
        s = states.get(m)
        if s is None:
            continue
        why = reasons(s, now=NOW, open_now=open_now, busy=busy.get(m, False))
        if not why:
            offerable.append(Candidate(m, pos, s.last_answered_at, s.answered_today,
                                       s.idle_since))
        elif set(why) <= OCCUPIED:
            occupied += 1
    left = loop.max_wait - route.used
    if loop.max_wait > 0 and left <= 0:
        return Decision("overflow", why="max_wait")
    timeout = loop.ring_timeout if loop.max_wait <= 0 else max(1, min(loop.ring_timeout,
                                                                       int(left)))
    if not offerable:
        if occupied and loop.max_wait > 0:
            return Decision("wait", why="members_occupied")
        return Decision("overflow", why="nobody_offerable")
    if ahead_in_line >= len(offerable) or (loop.strategy == "ringall" and ahead_in_line):
        return Decision("wait" if loop.max_wait > 0 else "overflow", why="callers_ahead")
    ordered = order(loop.strategy, offerable, members=loop.members, last_rung=last_rung, rng=rng)
    if loop.strategy == "ringall":
        if route.rounds >= 1 and loop.max_wait <= 0:
            return Decision("overflow", why="round_done")
        return Decision("dial", tuple(ordered), timeout, new_round=True)
    remaining = [a for a in ordered if a not in route.tried]
    if remaining:
        return Decision("dial", (remaining[0],), timeout, new_round=not route.tried)
    if loop.max_wait <= 0:
        return Decision("overflow", why="round_done")
    return Decision("dial", (ordered[0],), timeout, new_round=True)


BIG = tuple(f"bg{i:02d}" for i in range(40))
big_states = st.builds(
    AgentState,
    agent_id=st.just(""),
    logged_in=st.sampled_from([True, True, True, False]),
    routing_stop=st.sampled_from([False, False, False, True]),
    wrap_up_until=st.sampled_from([None, None, NOW - timedelta(seconds=5), NOW,
                                   NOW + timedelta(seconds=8)]),
    live_offer=st.sampled_from([None, None, None, "ringing", "on_call"]),
    # few distinct values, so ties (broken by file order) are common
    last_answered_at=st.sampled_from([None, NOW - timedelta(minutes=3),
                                      NOW - timedelta(hours=1)]),
    answered_today=st.integers(0, 3),
    idle_since=st.sampled_from([None, None, None, NOW - timedelta(minutes=1),
                                NOW - timedelta(hours=2), NOW - timedelta(hours=3)]),
)


@st.composite
def big_situations(draw: st.DrawFn) -> dict:
    """Like situations(), in loops of 11 to 40 members (past ringall's cap of ten)."""
    s = draw(situations())
    n = draw(st.integers(11, len(BIG)))
    members = tuple(draw(st.permutations(BIG))[:n])
    states = {}
    for m in members:
        if draw(st.integers(0, 19)):
            a = draw(big_states)
            if draw(st.integers(0, 2)):  # most members of a big loop are offerable
                a = AgentState("", True, False, None, None, a.last_answered_at,
                               a.answered_today, a.idle_since)
            states[m] = AgentState(m, a.logged_in, a.routing_stop, a.wrap_up_until, a.live_offer,
                                   a.last_answered_at, a.answered_today, a.idle_since)
    loop = LoopSpec("big", members, s["loop"].strategy, s["loop"].ring_timeout,
                    s["loop"].max_wait)
    # often the whole loop: the round is over, and the next one starts at its head
    tried = draw(st.one_of(st.lists(st.sampled_from(members), unique=True),
                           st.just(list(members))))
    # mostly open and free, so that more than ten are often offerable
    busy = {m: draw(st.integers(0, 5)) == 0 for m in members}
    return dict(s, loop=loop, states=states, busy=busy,
                open_now=draw(st.sampled_from([True, True, True, False])),
                route=RouteState(s["route"].used, tried, s["route"].rounds),
                last_rung=draw(st.sampled_from((None, *members))))


@settings(max_examples=600, deadline=None)
@given(st.one_of(situations(), big_situations()))
def test_fast_decision_is_the_plain_reasons_based_definition(s: dict) -> None:
    kw = dict(open_now=s["open_now"], route=s["route"], ahead_in_line=s["ahead"],
              last_rung=s["last_rung"])
    want = reference_decide(s["loop"], s["states"], s["busy"], rng=random.Random(s["seed"]),
                            **kw)
    got = decide(s["loop"], s["states"], s["busy"], now=NOW, rng=random.Random(s["seed"]), **kw)
    assert got == want
    # The roster as the database gives it: only the exceptions, the busy set as BusyIndex
    # gives it (with agents of other loops in it too).
    roster = Roster.from_states(s["loop"].members, s["states"], now=NOW)
    busy = {m for m, b in s["busy"].items() if b} | {"someone_elsewhere"}
    assert decide_roster(s["loop"], roster, busy, rng=random.Random(s["seed"]), **kw) == want

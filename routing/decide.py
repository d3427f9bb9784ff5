"""Who may be offered a call now, and what a loop does next: pure functions over plain data."""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime

from routing.strategies import first_untried, pick_ringall

# docs/http-api.md#presence: the order in which reasons are listed and `state` is chosen.
REASON_ORDER = ("logged_out", "routing_stop", "ringing", "on_call", "wrap_up",
                "calendar_busy", "closed")
OCCUPIED = frozenset({"ringing", "on_call", "wrap_up"})
LIVE_OFFERS = frozenset({"ringing", "on_call"})


# Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__, which
# made building 2,000 states per decision five times slower (bench/routing_bench.py).
@dataclass(slots=True)
class AgentState:
    """An agent's run-time state as routing sees it (treat as read-only)."""

    agent_id: str
    logged_in: bool = True
    routing_stop: bool = False
    wrap_up_until: datetime | None = None
    live_offer: str | None = None  # "ringing" | "on_call" | None
    last_answered_at: datetime | None = None
    answered_today: int = 0
    idle_since: datetime | None = None


def reasons(state: AgentState, *, now: datetime, open_now: bool, busy: bool) -> list[str]:
    """Every reason (docs/http-api.md#presence) the agent cannot be offered a loop call now."""
    out: list[str] = []
    if not state.logged_in:
        out.append("logged_out")
    if state.routing_stop:
        out.append("routing_stop")
    if state.live_offer == "ringing":
        out.append("ringing")
    elif state.live_offer == "on_call":
        out.append("on_call")
    if state.wrap_up_until is not None and state.wrap_up_until > now:
        out.append("wrap_up")
    if busy:
        out.append("calendar_busy")
    if not open_now:
        out.append("closed")
    return out


@dataclass(frozen=True)
class LoopSpec:
    """The parts of a loop the decision needs."""

    loop_id: str
    members: tuple[str, ...]  # resolved member order: named first, then role holders
    strategy: str = "ringall"
    ring_timeout: int = 20
    max_wait: int = 0


@dataclass(frozen=True)
class Decision:
    """What to do next: dial some agents, wait in line, or overflow."""

    kind: str  # dial | wait | overflow
    agents: tuple[str, ...] = ()
    timeout: int = 0
    new_round: bool = False
    why: str = ""


@dataclass
class RouteState:
    """A call's progress in its current loop."""

    used: float = 0.0  # seconds counted against max_wait
    tried: list[str] = field(default_factory=list)  # offered in the current round
    rounds: int = 0  # completed rounds


@dataclass(slots=True)
class Roster:
    """Routing's view of one loop's members at one instant: only the exceptions are listed.

    Almost every member of a big loop is offerable, so per-member work is spent only on the few
    who are not (docs/benchmarks.md: a decision for 2,000 members in under a millisecond). `away`:
    logged out, routing-stopped, removed, or without a state at all (never offerable, and not
    *merely* occupied). `occupied`: ringing, on a call or in wrap-up now (and not away). The
    key maps feed the strategies that need them; a member missing from `idle_since` or
    `last_answered` never was idle/answered, one missing from `answered_today` answered none.
    """

    away: set[str] | frozenset[str] = frozenset()
    occupied: set[str] | frozenset[str] = frozenset()
    idle_since: Mapping[str, datetime] = field(default_factory=dict)
    last_answered: Mapping[str, datetime] = field(default_factory=dict)
    answered_today: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_states(cls, members: Sequence[str], states: Mapping[str, AgentState], *,
                    now: datetime) -> Roster:
        """The roster of `members` from full AgentStates (one pass over every member)."""
        away: set[str] = set()
        occupied: set[str] = set()
        idle: dict[str, datetime] = {}
        last: dict[str, datetime] = {}
        count: dict[str, int] = {}
        for agent_id in members:
            st = states.get(agent_id)
            if st is None or not st.logged_in or st.routing_stop:
                away.add(agent_id)
                continue
            if st.live_offer in LIVE_OFFERS or (st.wrap_up_until is not None
                                                and st.wrap_up_until > now):
                occupied.add(agent_id)
            if st.idle_since is not None:
                idle[agent_id] = st.idle_since
            if st.last_answered_at is not None:
                last[agent_id] = st.last_answered_at
            if st.answered_today:
                count[agent_id] = st.answered_today
        return cls(away, occupied, idle, last, count)


def decide(
    loop: LoopSpec,
    states: Mapping[str, AgentState],
    busy: Mapping[str, bool],
    *,
    now: datetime,
    open_now: bool,
    route: RouteState,
    ahead_in_line: int = 0,
    last_rung: str | None = None,
    rng: random.Random | None = None,
) -> Decision:
    """The next step for a call in `loop` (docs/routing.md), from every member's full state.

    A convenience over decide_roster for callers that hold AgentStates (tests, small loops).
    """
    roster = Roster.from_states(loop.members, states, now=now)
    return decide_roster(loop, roster, {a for a, b in busy.items() if b}, open_now=open_now,
                         route=route, ahead_in_line=ahead_in_line, last_rung=last_rung, rng=rng)


def decide_roster(
    loop: LoopSpec,
    roster: Roster,
    busy: Collection[str],
    *,
    open_now: bool,
    route: RouteState,
    ahead_in_line: int = 0,
    last_rung: str | None = None,
    rng: random.Random | None = None,
) -> Decision:
    """The next step for a call in `loop` (docs/routing.md: strategies, rounds, waiting, overflow).

    `busy`: the agents calendar-busy now (BusyIndex.busy_now), any superset of the loop's.
    """
    offerable: list[str] = []
    excluded: AbstractSet[str] = frozenset()
    occupied = False
    if open_now:  # closed: nobody is offerable, and nobody merely occupied either
        away = roster.away
        occupied = any(a not in away and a not in busy for a in roster.occupied)
        # Set lookups at C speed: the only per-member work of a decision.
        excluded = away.union(roster.occupied, busy)
        offerable = [m for m in loop.members if m not in excluded]
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
        if loop.max_wait > 0:
            return Decision("wait", why="callers_ahead")
        return Decision("overflow", why="callers_ahead")
    if loop.strategy == "ringall":
        if route.rounds >= 1 and loop.max_wait <= 0:
            return Decision("overflow", why="round_done")
        return Decision("dial", tuple(pick_ringall(offerable, roster.idle_since)), timeout,
                        new_round=True)
    untried, head = first_untried(
        loop.strategy, offerable, set(route.tried), members=loop.members, excluded=excluded,
        last_answered=roster.last_answered, answered_today=roster.answered_today,
        last_rung=last_rung, rng=rng)
    if untried is not None:
        return Decision("dial", (untried,), timeout, new_round=not route.tried)
    # The round is over: every offerable member had its turn.
    if loop.max_wait <= 0:
        return Decision("overflow", why="round_done")
    return Decision("dial", (head,), timeout, new_round=True)


def loop_members(named: Sequence[str], roles: Sequence[str],
                 agents: Sequence[tuple[str, Sequence[str]]]) -> tuple[str, ...]:
    """Named members in the file's order, then every holder of the roles in agent-file order."""
    out: list[str] = []
    known = {a for a, _ in agents}
    for a in named:
        if a in known and a not in out:
            out.append(a)
    wanted = set(roles)
    if wanted:
        for agent_id, agent_roles in agents:
            if agent_id not in out and wanted.intersection(agent_roles):
                out.append(agent_id)
    return tuple(out)

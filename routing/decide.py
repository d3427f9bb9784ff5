"""Who may be offered a call now, and what a loop does next: pure functions over plain data."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from routing.strategies import Candidate, order

# CONTRACT §6: the order in which reasons are listed and `state` is chosen.
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
    """Every reason (CONTRACT §6) the agent cannot be offered a loop call now."""
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
    """The next step for a call in `loop` (CONTRACT §4: strategies, rounds, waiting, overflow)."""
    offerable: list[Candidate] = []
    occupied = 0
    if open_now:  # closed: nobody is offerable, and nobody merely occupied either
        # The test of `reasons` inlined: this loop runs once per member per decision.
        busy_get = busy.get
        for pos, agent_id in enumerate(loop.members):
            st = states.get(agent_id)
            if st is None or not st.logged_in or st.routing_stop or busy_get(agent_id, False):
                continue
            wrap = st.wrap_up_until
            if st.live_offer in LIVE_OFFERS or (wrap is not None and wrap > now):
                occupied += 1
            else:
                offerable.append(Candidate(agent_id, pos, st.last_answered_at,
                                           st.answered_today, st.idle_since))
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
    ordered = order(loop.strategy, offerable, members=loop.members, last_rung=last_rung, rng=rng)
    if loop.strategy == "ringall":
        if route.rounds >= 1 and loop.max_wait <= 0:
            return Decision("overflow", why="round_done")
        return Decision("dial", tuple(ordered), timeout, new_round=True)
    remaining = [a for a in ordered if a not in route.tried]
    if remaining:
        return Decision("dial", (remaining[0],), timeout, new_round=not route.tried)
    # The round is over: every offerable member had its turn.
    if loop.max_wait <= 0:
        return Decision("overflow", why="round_done")
    return Decision("dial", (ordered[0],), timeout, new_round=True)


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

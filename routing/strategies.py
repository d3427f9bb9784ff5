"""The six ring strategies as pure orderings of a loop's members (CONTRACT §4)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter

STRATEGIES = ("ringall", "linear", "round_robin", "least_recent", "fewest_calls", "random")
RINGALL_LIMIT = 10  # the most <Number>s one Twilio <Dial> takes
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # UTC, as stored: the fast compare
_POSITION = attrgetter("position")


# Not frozen, for the same reason as routing.decide.AgentState: one is built per offerable
# member per decision, and a frozen dataclass's __init__ costs five times as much.
@dataclass(slots=True)
class Candidate:
    """What a strategy may look at for one member. `position` is the loop's member order."""

    agent_id: str
    position: int
    last_answered_at: datetime | None = None
    answered_today: int = 0
    idle_since: datetime | None = None  # the end of the agent's last call or offer


def _last(c: Candidate) -> datetime:
    return c.last_answered_at or _EPOCH


def order(
    strategy: str,
    candidates: Sequence[Candidate],
    *,
    members: Sequence[str] = (),
    last_rung: str | None = None,
    rng: random.Random | None = None,
) -> list[str]:
    """The order in which one round offers `candidates` (already filtered to offerable ones).

    `members` is the loop's whole member order, which round_robin needs to continue after the
    member rung last even when that member is not offerable now. Ties go by file order.
    """
    by_pos = sorted(candidates, key=_POSITION)
    if strategy in ("ringall", "linear"):
        if strategy == "ringall" and len(by_pos) > RINGALL_LIMIT:
            # the ten idle longest (ties by file order), then in file order; nsmallest over
            # plain tuples picks ten without sorting a large loop's every member
            keyed = [(c.idle_since or _EPOCH, c.position, c.agent_id) for c in by_pos]
            chosen = {k[2] for k in heapq.nsmallest(RINGALL_LIMIT, keyed)}
            return [c.agent_id for c in by_pos if c.agent_id in chosen]
        return [c.agent_id for c in by_pos]
    if strategy == "round_robin":
        ids = [c.agent_id for c in by_pos]
        ring = list(members) or ids
        if last_rung is None or last_rung not in ring:
            return ids
        start = ring.index(last_rung) + 1
        rotated = ring[start:] + ring[:start]
        present = set(ids)
        return [a for a in rotated if a in present]
    if strategy == "least_recent":
        return [c.agent_id for c in sorted(by_pos, key=lambda c: (_last(c), c.position))]
    if strategy == "fewest_calls":
        return [c.agent_id for c in sorted(by_pos, key=lambda c: (c.answered_today, c.position))]
    if strategy == "random":
        ids = [c.agent_id for c in by_pos]
        (rng or random.Random()).shuffle(ids)
        return ids
    raise ValueError(f"unknown strategy {strategy!r}")

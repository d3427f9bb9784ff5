"""The six ring strategies as pure orderings of a loop's members (docs/routing.md#strategies)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
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


# --- The same orderings over a loop's offerable members as plain ids -------------------------
# routing.decide.decide_roster calls these once per decision with a big loop's offerable members
# (thousands), so none of them builds a Candidate per member or sorts more than it must.
# `offerable` is always in the loop's member order, so "first in iteration order" is the tie
# rule of docs/routing.md (file order) everywhere below: heapq.nsmallest and min() keep the first
# of equal keys.


def pick_ringall(offerable: Sequence[str], idle_since: Mapping[str, datetime]) -> list[str]:
    """Who one ringall <Dial> rings: all of them, or the ten idle longest, in file order.

    Members missing from `idle_since` were never offered or answered: idle longest of all.
    """
    if len(offerable) <= RINGALL_LIMIT:
        return list(offerable)
    never = [i for i, a in enumerate(offerable) if a not in idle_since]
    if len(never) >= RINGALL_LIMIT:
        return [offerable[i] for i in never[:RINGALL_LIMIT]]
    keyed = [(idle_since[a], i) for i, a in enumerate(offerable) if a in idle_since]
    chosen = never + [i for _, i in heapq.nsmallest(RINGALL_LIMIT - len(never), keyed)]
    return [offerable[i] for i in sorted(chosen)]


def first_untried(
    strategy: str,
    offerable: Sequence[str],
    tried: AbstractSet[str],
    *,
    members: Sequence[str],
    excluded: AbstractSet[str],
    last_answered: Mapping[str, datetime],
    answered_today: Mapping[str, int],
    last_rung: str | None = None,
    rng: random.Random | None = None,
) -> tuple[str | None, str]:
    """(first member in strategy order not in `tried` or None, first in strategy order).

    The one-at-a-time strategies need only these two of `order(...)`'s list; `offerable` must
    not be empty. `excluded` is everyone not offerable (round_robin walks `members`). Keys:
    a member missing from `last_answered` never answered, one missing from `answered_today`
    (or with 0) answered none today.
    """
    if strategy == "linear" or (strategy == "round_robin"
                                and (last_rung is None or last_rung not in members)):
        return next((a for a in offerable if a not in tried), None), offerable[0]
    if strategy == "round_robin":
        start = members.index(last_rung) + 1  # type: ignore[arg-type]
        ring = [*members[start:], *members[:start]]
        head = next(a for a in ring if a not in excluded)
        return next((a for a in ring if a not in excluded and a not in tried), None), head
    if strategy == "least_recent":
        # Never answered sorts first (the epoch in `order`), then by time; ties by file order.
        fresh = [a for a in offerable if a not in last_answered]
        head = fresh[0] if fresh else min(offerable, key=last_answered.__getitem__)
        untried = next((a for a in fresh if a not in tried), None)
        if untried is None:
            rest = [a for a in offerable if a in last_answered and a not in tried]
            untried = min(rest, key=last_answered.__getitem__) if rest else None
        return untried, head
    if strategy == "fewest_calls":
        # As least_recent: those who answered none today come first, in file order.
        calls = answered_today.get
        none_yet = [a for a in offerable if not calls(a)]
        head = none_yet[0] if none_yet else min(offerable, key=answered_today.__getitem__)
        untried = next((a for a in none_yet if a not in tried), None)
        if untried is None:
            rest = [a for a in offerable if calls(a) and a not in tried]
            untried = min(rest, key=answered_today.__getitem__) if rest else None
        return untried, head
    if strategy == "random":
        ids = list(offerable)
        (rng or random.Random()).shuffle(ids)  # the same draws as `order`
        return next((a for a in ids if a not in tried), None), ids[0]
    raise ValueError(f"unknown strategy {strategy!r}")

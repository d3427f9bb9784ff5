"""An in-memory index of stored busy intervals: who is blocked now, and until when.

Routing asks "which of these agents are blocked now?" once per decision (docs/benchmarks.md:
the cost may grow with members, never with members x intervals). Each agent's blocking intervals are
merged into sorted, non-overlapping spans, kept as integer epoch microseconds in `array('q')`:
contiguous machine integers, where lists of datetime objects scattered over the heap made every
bisect a run of CPU cache misses (README, Performance).

`busy_now(now)` answers for every agent at once. It keeps the set of agents blocked now, the
instant it was computed for, and each agent's next span boundary (start or end) in a heap.
Decisions from that instant up to the earliest of those boundaries reuse the set as it is;
when `now` passes boundaries, only the agents whose boundary passed are looked at again (one
bisect each); when `now` goes back before the computation time, the set is recomputed with one
bisect per agent. Building the index stays as cheap as before: a snapshot reload builds it in
the request path (routing.snapshot), so there is no global sorted list of every boundary.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from calendar_sync.models import BusyInterval, CalendarSource

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_NEVER = datetime.max.replace(tzinfo=UTC)


def _utc(dt: datetime) -> datetime:
    """Stored times without an offset are UTC (databases without time zone support)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _micros(dt: datetime) -> int:
    return (_utc(dt) - _EPOCH) // _US


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass
class AgentBlocks:
    """Merged blocking spans (epoch microseconds) and note spans for one agent."""

    starts: array[int] = field(default_factory=lambda: array("q"))
    ends: array[int] = field(default_factory=lambda: array("q"))
    notes: list[tuple[datetime, datetime, str]] = field(default_factory=list)

    def until(self, t: int) -> int | None:
        """End of the span covering t (start <= t < end), or None when free at t."""
        i = bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.ends[i]:
            return self.ends[i]
        return None


def _merge(spans: list[tuple[int, int]]) -> tuple[array[int], array[int]]:
    spans.sort()
    starts: array[int] = array("q")
    ends: array[int] = array("q")
    for s, e in spans:
        if e <= s:
            continue
        if ends and s <= ends[-1]:  # overlapping or touching: one span
            if e > ends[-1]:
                ends[-1] = e
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


@dataclass(frozen=True, slots=True)
class _Now:
    """Who is blocked from `valid_from` up to (not including) `valid_until`.

    Immutable and replaced as a whole, so threads of one server process can share an index
    without a lock: each reads one consistent _Now, and a thread that moves on publishes a new one.
    """

    valid_from: datetime  # the instant this was computed for
    valid_until: datetime  # the earliest next span boundary of any agent
    blocked: dict[str, datetime]  # agent id -> end of the span covering this time
    heap: list[tuple[int, int]]  # (next boundary in epoch us, agent number), a heap


class BusyIndex:
    """Blocking spans for every agent; built from BusyInterval rows."""

    def __init__(self, rows: Iterable[tuple[str, datetime, datetime, bool, str | None]] = (),
                 last_success: dict[str, datetime | None] | None = None) -> None:
        spans: dict[str, list[tuple[int, int]]] = {}
        self._agents: dict[str, AgentBlocks] = {}
        agents = self._agents
        for agent_id, start, end, blocks, note in rows:
            blk = agents.get(agent_id)
            if blk is None:  # not setdefault: that would build an AgentBlocks per row
                blk = agents[agent_id] = AgentBlocks()
            if blocks:  # _micros inlined: a big organisation stores 100,000s of intervals
                if start.tzinfo is None:
                    start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
                spans.setdefault(agent_id, []).append(((start - _EPOCH) // _US,
                                                       (end - _EPOCH) // _US))
            if note:
                blk.notes.append((_utc(start), _utc(end), note))
        for agent_id, agent_spans in spans.items():
            blk = self._agents[agent_id]
            blk.starts, blk.ends = _merge(agent_spans)
        # The agents with blocking spans, numbered for the heap of next boundaries.
        self._blocking = [(a, blk) for a, blk in self._agents.items() if blk.starts]
        self._now: _Now | None = None
        self.recomputes = 0  # full recomputes of busy_now (the bench reports them)
        self.advances = 0  # agents looked at again as their span boundary passed
        self.last_success: dict[str, datetime | None] = last_success or {}

    def busy_until(self, agent_id: str, now: datetime) -> datetime | None:
        """End of the blocking span covering now (start <= now < end), or None when free."""
        blk = self._agents.get(agent_id)
        if blk is None or not blk.starts:
            return None
        end = blk.until(_micros(now))
        return None if end is None else _at(end)

    def busy_now(self, now: datetime) -> Mapping[str, datetime]:
        """Every agent blocked at `now`, with the end of their current block (read-only)."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        cur = self._now
        if cur is not None and cur.valid_from <= now < cur.valid_until:
            return cur.blocked
        if cur is not None and now >= cur.valid_until:
            self._now = self._advance(cur, now)
        else:
            self._now = self._recompute(now)
        return self._now.blocked

    def _look(self, number: int, t: int, blocked: dict[str, datetime]) -> int | None:
        """Set one agent's entry in `blocked` for time t; returns their next boundary."""
        agent_id, blk = self._blocking[number]
        i = bisect_right(blk.starts, t)
        if i and t < blk.ends[i - 1]:
            blocked[agent_id] = _at(blk.ends[i - 1])
            return blk.ends[i - 1]
        blocked.pop(agent_id, None)
        return blk.starts[i] if i < len(blk.starts) else None

    def _advance(self, cur: _Now, now: datetime) -> _Now:
        t = _micros(now)
        # Copies: other threads may still read the old ones.
        blocked, heap = dict(cur.blocked), list(cur.heap)
        while heap and heap[0][0] <= t:
            number = heap[0][1]
            nxt = self._look(number, t, blocked)
            if nxt is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (nxt, number))
            self.advances += 1
        return _Now(now, _at(heap[0][0]) if heap else _NEVER, blocked, heap)

    def _recompute(self, now: datetime) -> _Now:
        t = _micros(now)
        blocked: dict[str, datetime] = {}
        heap: list[tuple[int, int]] = []
        # _look inlined: this runs once per agent with blocking spans.
        for number, (agent_id, blk) in enumerate(self._blocking):
            starts = blk.starts
            i = bisect_right(starts, t)
            if i and t < (end := blk.ends[i - 1]):
                blocked[agent_id] = _EPOCH + timedelta(microseconds=end)
                heap.append((end, number))
            elif i < len(starts):
                heap.append((starts[i], number))
        heapq.heapify(heap)
        self.recomputes += 1
        return _Now(now, _at(heap[0][0]) if heap else _NEVER, blocked, heap)

    def notes(self, agent_id: str, now: datetime) -> list[str]:
        """Non-blocking notes (such as all_day_free) for spans covering now."""
        blk = self._agents.get(agent_id)
        if blk is None:
            return []
        now = _utc(now)
        return sorted({n for s, e, n in blk.notes if s <= now < e})

    @classmethod
    def load(cls, conn: Connection) -> BusyIndex:
        """Read every stored interval and source state."""
        rows = conn.execute(
            select(BusyInterval.agent_id, BusyInterval.start, BusyInterval.end,  # type: ignore[call-overload]
                   BusyInterval.blocks, BusyInterval.note)
        ).all()
        sources = conn.execute(
            select(CalendarSource.agent_id, CalendarSource.last_success_at)  # type: ignore[call-overload]
        ).all()
        return cls(rows, {a: t for a, t in sources})

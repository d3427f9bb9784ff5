"""An in-memory index of stored busy intervals: who is blocked now, and until when.

Routing asks "which of these agents are blocked now?" once per decision (CONTRACT §7: the cost
may grow with members, never with members x intervals). Each agent's blocking intervals are
merged into sorted, non-overlapping spans, kept as integer epoch microseconds in `array('q')`:
contiguous machine integers, where lists of datetime objects scattered over the heap made every
bisect a run of CPU cache misses (bench/README-section.md).

`busy_now(now)` answers for every agent at once. It keeps the set of agents blocked now together
with the interval of time over which that set stays the same (from the last span boundary at or
before `now` to the next one after it, across all agents). Decisions inside that interval reuse
the set as it is; when `now` passes the next boundary, the boundaries passed are applied one by
one from a single sorted list of every agent's boundaries; when `now` goes back in time (or
jumps far ahead), the set is recomputed with one bisect per agent.
"""

from __future__ import annotations

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
_ALWAYS = datetime.min.replace(tzinfo=UTC)


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

    valid_from: datetime
    valid_until: datetime
    cursor: int  # boundaries[:cursor] are at or before valid_from
    blocked: dict[str, datetime]  # agent id -> end of the span covering this time


class BusyIndex:
    """Blocking spans for every agent; built from BusyInterval rows."""

    def __init__(self, rows: Iterable[tuple[str, datetime, datetime, bool, str | None]] = (),
                 last_success: dict[str, datetime | None] | None = None) -> None:
        spans: dict[str, list[tuple[int, int]]] = {}
        self._agents: dict[str, AgentBlocks] = {}
        for agent_id, start, end, blocks, note in rows:
            blk = self._agents.setdefault(agent_id, AgentBlocks())
            if blocks:
                spans.setdefault(agent_id, []).append((_micros(start), _micros(end)))
            if note:
                blk.notes.append((_utc(start), _utc(end), note))
        events: list[tuple[int, int, str]] = []  # (time, 1 start | 0 end, agent)
        for agent_id, agent_spans in spans.items():
            blk = self._agents[agent_id]
            blk.starts, blk.ends = _merge(agent_spans)
            events.extend((s, 1, agent_id) for s in blk.starts)
            events.extend((e, 0, agent_id) for e in blk.ends)
        # One sorted list of every boundary, for moving `busy_now` forward boundary by boundary.
        # Sorted by time only matters; an agent's own spans never touch (merged above).
        events.sort()
        self._times: array[int] = array("q", (t for t, _, _ in events))
        # For a start: the span's end as a datetime (what busy_now maps to); for an end: None.
        self._changes: list[tuple[str, datetime | None]] = []
        for t, kind, agent_id in events:
            if kind:
                blk = self._agents[agent_id]
                self._changes.append((agent_id, _at(blk.until(t) or t)))
            else:
                self._changes.append((agent_id, None))
        self._now: _Now | None = None
        self.recomputes = 0  # full recomputes of busy_now (the bench reports them)
        self.advances = 0  # boundaries applied one by one
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
        t = _micros(now)
        if cur is not None and now >= cur.valid_until:
            stop = bisect_right(self._times, t)
            # Apply the boundaries passed, unless that is more work than starting over.
            if stop - cur.cursor <= len(self._agents):
                self._now = self._advance(cur, stop)
                return self._now.blocked
        self._now = self._recompute(t)
        return self._now.blocked

    def _window(self, cursor: int) -> tuple[datetime, datetime]:
        times = self._times
        start = _at(times[cursor - 1]) if cursor else _ALWAYS
        end = _at(times[cursor]) if cursor < len(times) else _NEVER
        return start, end

    def _advance(self, cur: _Now, stop: int) -> _Now:
        blocked = dict(cur.blocked)  # a copy: other threads may still read the old one
        for agent_id, until in self._changes[cur.cursor:stop]:
            if until is None:
                blocked.pop(agent_id, None)
            else:
                blocked[agent_id] = until
        self.advances += stop - cur.cursor
        return _Now(*self._window(stop), stop, blocked)

    def _recompute(self, t: int) -> _Now:
        blocked: dict[str, datetime] = {}
        for agent_id, blk in self._agents.items():
            if blk.starts:
                end = blk.until(t)
                if end is not None:
                    blocked[agent_id] = _at(end)
        self.recomputes += 1
        cursor = bisect_right(self._times, t)
        return _Now(*self._window(cursor), cursor, blocked)

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

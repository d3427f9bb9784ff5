"""An in-memory index of stored busy intervals, so a routing decision costs O(log n) per agent.

Routing asks only "is this agent blocked now, and until when?". Intervals are kept per agent
as merged, sorted, non-overlapping blocking spans, so one bisect answers it whatever the
number of intervals (CONTRACT §7: cost grows with members, never members x intervals).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from calendar_sync.models import BusyInterval, CalendarSource


@dataclass
class AgentBlocks:
    """Merged blocking spans and note spans for one agent."""

    starts: list[datetime] = field(default_factory=list)
    ends: list[datetime] = field(default_factory=list)
    notes: list[tuple[datetime, datetime, str]] = field(default_factory=list)


def _merge(spans: list[tuple[datetime, datetime]]) -> tuple[list[datetime], list[datetime]]:
    spans.sort()
    starts: list[datetime] = []
    ends: list[datetime] = []
    for s, e in spans:
        if e <= s:
            continue
        if ends and s <= ends[-1]:
            if e > ends[-1]:
                ends[-1] = e
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


class BusyIndex:
    """Blocking spans for every agent; built from BusyInterval rows."""

    def __init__(self, rows: Iterable[tuple[str, datetime, datetime, bool, str | None]] = (),
                 last_success: dict[str, datetime | None] | None = None) -> None:
        spans: dict[str, list[tuple[datetime, datetime]]] = {}
        self._agents: dict[str, AgentBlocks] = {}
        for agent_id, start, end, blocks, note in rows:
            blk = self._agents.setdefault(agent_id, AgentBlocks())
            if blocks:
                spans.setdefault(agent_id, []).append((start, end))
            if note:
                blk.notes.append((start, end, note))
        for agent_id, agent_spans in spans.items():
            blk = self._agents[agent_id]
            blk.starts, blk.ends = _merge(agent_spans)
        self.last_success: dict[str, datetime | None] = last_success or {}

    def busy_until(self, agent_id: str, now: datetime) -> datetime | None:
        """End of the blocking span covering now (start <= now < end), or None when free."""
        blk = self._agents.get(agent_id)
        if blk is None or not blk.starts:
            return None
        i = bisect_right(blk.starts, now) - 1
        if i >= 0 and now < blk.ends[i]:
            return blk.ends[i]
        return None

    def notes(self, agent_id: str, now: datetime) -> list[str]:
        """Non-blocking notes (such as all_day_free) for spans covering now."""
        blk = self._agents.get(agent_id)
        if blk is None:
            return []
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

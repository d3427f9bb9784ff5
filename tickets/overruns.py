"""Overruns per agent over a period (docs/tickets.md#overruns): the team lead's material.

Counted per agent, with the local dates they happened on, and nothing about members:
- `late_done`: tickets the agent marked done after their due date;
- `late_promises`: promises the agent recorded after the deadline in force had passed;
- `missed_promises`: the agent's promises that passed with the ticket not done;
- `escalations`: escalations of tickets the agent owned when they were escalated (tickets
  nobody owned count under "nobody", agent None).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from tickets.models import Ticket, TicketEscalation, TicketEvent, TicketPromise

TICKET = Ticket.__table__  # type: ignore[attr-defined]
EVENT = TicketEvent.__table__  # type: ignore[attr-defined]
ESCALATION = TicketEscalation.__table__  # type: ignore[attr-defined]
PROMISE = TicketPromise.__table__  # type: ignore[attr-defined]
KINDS = ("late_done", "late_promises", "missed_promises", "escalations")
MAX_DAYS = 400  # a period longer than a year and a bit is refused (a typo, and a slow page)


def bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The period from local midnight starting `start` to local midnight ending `end`, in UTC."""
    lo = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return lo, hi


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def overruns(conn: Connection, *, start: date, end: date,
             zone: ZoneInfo) -> list[dict[str, Any]]:
    """Per agent (None: nobody owned it): each kind's count and local dates, most first."""
    lo, hi = bounds(start, end, zone)
    found: list[tuple[str | None, str, datetime]] = []
    for r in conn.execute(
            select(EVENT.c.actor, EVENT.c.at)
            .join(TICKET, TICKET.c.id == EVENT.c.ticket_id)
            .where(EVENT.c.kind == "status", EVENT.c.new == "done", EVENT.c.at >= lo,
                   EVENT.c.at < hi, TICKET.c.due_at.is_not(None),
                   EVENT.c.at > TICKET.c.due_at)):
        found.append((r.actor, "late_done", r.at))
    for r in conn.execute(select(PROMISE.c.by_agent, PROMISE.c.at).where(
            PROMISE.c.late.is_(True), PROMISE.c.at >= lo, PROMISE.c.at < hi)):
        found.append((r.by_agent, "late_promises", r.at))
    for r in conn.execute(select(PROMISE.c.by_agent, PROMISE.c.missed_at).where(
            and_(PROMISE.c.missed_at >= lo, PROMISE.c.missed_at < hi))):
        found.append((r.by_agent, "missed_promises", r.missed_at))
    for r in conn.execute(select(ESCALATION.c.owner, ESCALATION.c.at).where(
            ESCALATION.c.at >= lo, ESCALATION.c.at < hi)):
        found.append((r.owner, "escalations", r.at))
    per: dict[str | None, dict[str, Any]] = {}
    for agent, kind, at in found:
        row = per.setdefault(agent, {"agent": agent, **{k: 0 for k in KINDS},
                                     **{f"{k}_dates": [] for k in KINDS}})
        row[kind] += 1
        row[f"{kind}_dates"].append(_aware(at).astimezone(zone).date())
    out = list(per.values())
    for row in out:
        row["total"] = sum(row[k] for k in KINDS)
        for k in KINDS:
            row[f"{k}_dates"].sort()
    return sorted(out, key=lambda r: (-r["total"], r["agent"] or "~"))

"""Escalation (docs/tickets.md#escalation): quiet, overdue and broken-promise tickets.

A ticket on a department's list that is not done is escalated to the department's
`escalation` contact (its inbox when it names none) for each of these causes, once per cause:

- `untouched`: nobody has done anything to it for `tickets.untouched_hours` (default 24)
  hours counted on working days only (the clock stops at weekends, public holidays and the
  organisation's closed days);
- `overdue`: its due date has passed, and no promise was recorded before it did;
- `promise:<id>`: the promise that counts (its newest) has passed with the ticket not done.

Escalating writes a `ticket_escalation` row (unique per ticket and cause, so two server
processes never escalate twice), sets the ticket's `escalated_at` the first time, adds an
`escalated` entry to its history, and queues one mail per department and pass listing the
tickets with links only. The background job also runs the daily look (tickets.daily).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from routing.models import Organisation
from tickets import daily, mail, promises
from tickets.departments import department_row, work_calendar
from tickets.models import Ticket, TicketEscalation, TicketEvent
from tickets.service import add_event
from tickets.workdays import MAX_SCAN_DAYS, WorkCalendar, is_working_day

log = logging.getLogger("switchboard.tickets.escalation")
TICKET = Ticket.__table__  # type: ignore[attr-defined]
EVENT = TicketEvent.__table__  # type: ignore[attr-defined]
ESCALATION = TicketEscalation.__table__  # type: ignore[attr-defined]
PROMISE = promises.PROMISE
ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
DEFAULT_UNTOUCHED_HOURS = 24
MAX_OPEN = 5000  # one pass looks at this many open tickets at most (soonest due first)
JOB_EVERY = 60.0
CAUSE_NB = {"untouched": "ingen har rørt den", "overdue": "fristen er ute",
            "promise": "løftet til medlemmet er brutt"}


def untouched_hours(conn: Connection) -> int:
    """The org file's `tickets.untouched_hours` (docs/org-file.md#tickets), default 24."""
    config = conn.execute(select(ORGANISATION.c.config)).scalar() or {}
    value = (config.get("tickets") or {}).get("untouched_hours")
    return int(value) if value else DEFAULT_UNTOUCHED_HOURS


def add_working_hours(start: datetime, hours: float, cal: WorkCalendar) -> datetime:
    """The moment `hours` hours have passed on working days since `start` (UTC)."""
    left = timedelta(hours=hours)
    zone = cal.zone
    local = start.astimezone(zone)
    day = local.date()
    for _ in range(MAX_SCAN_DAYS):
        day_start = datetime.combine(day, time(0), tzinfo=zone)
        day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        if is_working_day(day, cal):
            begin = max(day_start, local)
            # In UTC, so that a day with a clock change has its 23 or 25 real hours.
            span = day_end.astimezone(UTC) - begin.astimezone(UTC)
            if span >= left:
                return (begin.astimezone(UTC) + left)
            left -= span
        day += timedelta(days=1)
    raise ValueError("no working day within ten years: check working_days and closed_days")


def _last_touched(conn: Connection, ids: list[int]) -> dict[int, datetime]:
    """When a person last did something to each ticket (system entries do not count)."""
    if not ids:
        return {}
    rows = conn.execute(select(EVENT.c.ticket_id, func.max(EVENT.c.at))
                        .where(EVENT.c.ticket_id.in_(ids), EVENT.c.actor.is_not(None))
                        .group_by(EVENT.c.ticket_id)).all()
    return {r[0]: _aware(r[1]) for r in rows}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def due_causes(conn: Connection, *, now: datetime) -> list[tuple[dict[str, Any], str]]:
    """(ticket, cause) pairs that should be escalated now and have not been yet."""
    cal = work_calendar(conn)
    hours = untouched_hours(conn)
    tickets = [dict(r._mapping) for r in conn.execute(
        select(TICKET).where(TICKET.c.status != "done", TICKET.c.department_id.is_not(None))
        .order_by(TICKET.c.due_at.is_(None), TICKET.c.due_at, TICKET.c.id).limit(MAX_OPEN))]
    ids = [t["id"] for t in tickets]
    done: set[tuple[int, str]] = set()
    timely: set[int] = set()
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        done |= {(r.ticket_id, r.cause) for r in conn.execute(
            select(ESCALATION.c.ticket_id, ESCALATION.c.cause)
            .where(ESCALATION.c.ticket_id.in_(part)))}
        timely |= set(conn.execute(select(PROMISE.c.ticket_id).where(
            PROMISE.c.ticket_id.in_(part), PROMISE.c.late.is_(False))).scalars())
    touched = _last_touched(conn, ids)
    out: list[tuple[dict[str, Any], str]] = []
    for t in tickets:
        due = _aware(t["due_at"]) if t["due_at"] else None
        if due is not None and due <= now and t["id"] not in timely \
                and (t["id"], "overdue") not in done:
            out.append((t, "overdue"))
        if (t["id"], "untouched") not in done:
            since = max(_aware(t["created_at"]), touched.get(t["id"], _aware(t["created_at"])))
            if add_working_hours(since, hours, cal) <= now:
                out.append((t, "untouched"))
    by_id = {t["id"]: t for t in tickets}
    for p in promises.missed(conn, now=now):
        ticket = by_id.get(p["ticket_id"])
        if ticket is not None and promises.mark_missed(conn, promise_id=p["id"], now=now):
            out.append((ticket, f"promise:{p['id']}"))
    return out


def _insert_once(conn: Connection, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on the (ticket, cause) index: True when this one won."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ESCALATION).values(**values).on_conflict_do_nothing(
        index_elements=["ticket_id", "cause"]).returning(ESCALATION.c.id)
    # RETURNING, not rowcount: the drivers disagree on rowcount for ON CONFLICT DO NOTHING.
    return conn.execute(stmt).first() is not None


def escalate(conn: Connection, *, now: datetime) -> list[tuple[int, str]]:
    """One escalation pass in the caller's transaction; the (ticket, cause) pairs escalated."""
    cal = work_calendar(conn)
    per_department: dict[str, list[tuple[dict[str, Any], str]]] = {}
    out: list[tuple[int, str]] = []
    for ticket, cause in due_causes(conn, now=now):
        dept = department_row(conn, ticket["department_id"])
        if dept is None:
            continue
        to = dept.get("escalation") or dept["email"]
        if not _insert_once(conn, {"ticket_id": ticket["id"], "cause": cause, "at": now,
                                   "owner": ticket["owner"], "department_id": dept["id"],
                                   "to_addr": to}):
            continue
        conn.execute(update(TICKET).where(TICKET.c.id == ticket["id"],
                                          TICKET.c.escalated_at.is_(None))
                     .values(escalated_at=now))
        add_event(conn, ticket_id=ticket["id"], at=now, actor=None, kind="escalated",
                  new=cause, note=to)
        per_department.setdefault(dept["id"], []).append((ticket, cause))
        out.append((ticket["id"], cause))
    for dept_id, items in per_department.items():
        dept = department_row(conn, dept_id)
        if dept is None:
            continue
        lines = "".join(
            f"- sak #{t['id']}: {CAUSE_NB[cause.split(':')[0]]}"
            f"{_due_part(t, cal)}: {mail.LINK_BASE}/tickets/{t['id']}\n" for t, cause in items)
        mail.enqueue(conn, to=dept.get("escalation") or dept["email"], now=now,
                     subject=f"Eskalert: {len(items)} saker i {dept['name']}",
                     body=(f"Disse sakene i {dept['name']} er eskalert til deg:\n\n{lines}\n"
                           f"Avdelingens liste: {mail.LINK_BASE}/tickets?department="
                           f"{dept['id']}\n"))
    return out


def _due_part(ticket: dict[str, Any], cal: WorkCalendar) -> str:
    if not ticket["due_at"]:
        return ""
    return f" (frist {mail.due_text(_aware(ticket['due_at']), cal.timezone)})"


def run_escalations(engine: Engine, *, now: datetime) -> list[tuple[int, str]]:
    """One escalation pass in its own transaction."""
    with engine.begin() as conn:
        return escalate(conn, now=now)


def deadline_job(engine: Engine, clock: Callable[[], datetime],
                 every: float = JOB_EVERY) -> Callable[[], Any]:
    """The background job (for app.state.jobs): escalations and the daily look every minute."""
    async def job() -> None:
        while True:
            for name, step in (("escalation", run_escalations), ("daily look", daily.run_daily)):
                try:
                    await asyncio.to_thread(step, engine, now=clock())
                except Exception as exc:  # keep the job alive; the next pass tries again
                    log.warning("%s pass failed (%s)", name, type(exc).__name__)
            await asyncio.sleep(every)
    return job

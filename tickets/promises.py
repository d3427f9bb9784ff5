"""Promises (docs/tickets.md#promises): when a deadline cannot be kept, a new date and a note.

Recording a promise also makes a phone task (a ticket of kind `phone_task` for the same
department, owned by the promising agent, due by the deadline in force) so that the member is
told before that deadline passes. A promise recorded after the deadline in force had already
passed is marked late. The newest promise of a ticket is the one that counts; when it passes
with the ticket not done it is missed, and tickets.escalation escalates it.

Functions take a `Connection` inside the caller's transaction; the clock is an argument.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from tickets.departments import work_calendar
from tickets.models import Ticket, TicketPromise
from tickets.schemas import has_personal_number
from tickets.service import TicketError, add_event, get_ticket
from tickets.workdays import WorkCalendar

TICKET = Ticket.__table__  # type: ignore[attr-defined]
PROMISE = TicketPromise.__table__  # type: ignore[attr-defined]
PHONE_TASK = "phone_task"
MAX_NOTE = 2000
MAX_AHEAD = timedelta(days=366)  # a promise a year out is a typo, not a promise
# The phone task's text is the same for everyone: who to call is on the ticket it links to.
TASK_TEXT = "Ring medlemmet før fristen og fortell om løftet i sak #{id}: ny dato {when}."


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def parse_promised_by(raw: Any, cal: WorkCalendar) -> datetime:
    """A date (the end of that day, local) or a date and time (local when no zone) in UTC."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw + timedelta(days=1), time(0), tzinfo=cal.zone)
    elif isinstance(raw, str) and raw.strip():
        text = raw.strip()
        try:
            if len(text) == 10:
                return parse_promised_by(date.fromisoformat(text), cal)
            value = datetime.fromisoformat(text)
        except ValueError:
            raise TicketError("promised_by", f'"{text[:40]}" is not a date (2026-12-24) or a '
                              "date and time (2026-12-24T12:00)") from None
    else:
        raise TicketError("promised_by", "give the promised date (2026-12-24) or date and time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=cal.zone)
    return value.astimezone(UTC)


def check_note(note: Any) -> str:
    """The promise's note: required, at most 2,000 characters, no national ID or KID."""
    if not isinstance(note, str) or not note.strip():
        raise TicketError("note", "say what was promised (the note is required)")
    if len(note) > MAX_NOTE:
        raise TicketError("note", f"at most {MAX_NOTE} characters")
    if has_personal_number(note):
        raise TicketError("note", "looks like a national ID or KID number: leave it out")
    return note.strip()


def current(conn: Connection, ticket_id: int) -> dict[str, Any] | None:
    """The promise that counts for a ticket now: its newest, or None."""
    row = conn.execute(select(PROMISE).where(PROMISE.c.ticket_id == ticket_id)
                       .order_by(PROMISE.c.id.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def newest_for(conn: Connection, ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The promise that counts for each of these tickets that has one (for the lists)."""
    if not ticket_ids:
        return {}
    newest = (select(func.max(PROMISE.c.id)).where(PROMISE.c.ticket_id.in_(ticket_ids))
              .group_by(PROMISE.c.ticket_id))
    rows = conn.execute(select(PROMISE).where(PROMISE.c.id.in_(newest))).all()
    return {r.ticket_id: dict(r._mapping) for r in rows}


def for_ticket(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
    """Every promise of a ticket, oldest first."""
    rows = conn.execute(select(PROMISE).where(PROMISE.c.ticket_id == ticket_id)
                        .order_by(PROMISE.c.id)).all()
    return [dict(r._mapping) for r in rows]


def deadline_in_force(ticket: dict[str, Any], promise: dict[str, Any] | None) -> datetime | None:
    """The deadline that counts: the newest promise's date, else the ticket's due date."""
    if promise is not None:
        return _aware(promise["promised_by"])
    return _aware(ticket.get("due_at"))


def record(conn: Connection, *, ticket_id: int, agent_id: str, promised_by: Any, note: Any,
           now: datetime) -> dict[str, Any]:
    """Record a promise and its phone task; the promise row (with `late` and `phone_task_id`).

    TicketError names the field when the date is not ahead, the note is missing, or the
    ticket is done; TicketNotFound when there is no such ticket.
    """
    ticket = get_ticket(conn, ticket_id)
    if ticket["status"] == "done":
        raise TicketError("ticket", "the ticket is done: there is nothing left to promise")
    cal = work_calendar(conn)
    when = parse_promised_by(promised_by, cal)
    text = check_note(note)
    if when <= now:
        raise TicketError("promised_by", "the promised date must be in the future")
    if when > now + MAX_AHEAD:
        raise TicketError("promised_by", "the promised date must be within a year")
    before = current(conn, ticket_id)
    in_force = deadline_in_force(ticket, before)
    late = in_force is not None and in_force <= now
    # The member must hear of the promise before the deadline in force; past it, today.
    task_due = in_force if in_force is not None and in_force > now else (
        datetime.combine(now.astimezone(cal.zone).date() + timedelta(days=1), time(0),
                         tzinfo=cal.zone).astimezone(UTC))
    task_id = int(conn.execute(insert(TICKET).values(
        kind=PHONE_TASK, parent_id=ticket_id, department_id=ticket["department_id"],
        agent_id=ticket["agent_id"], category="Løfte",
        text=TASK_TEXT.format(id=ticket_id, when=_local_text(when, cal)),
        follow_up="we_call", status="open", owner=agent_id, due_at=task_due, version=1,
        created_by=agent_id, created_at=now, updated_at=now, progress="",
    ).returning(TICKET.c.id)).scalar_one())
    add_event(conn, ticket_id=task_id, at=now, actor=agent_id, kind="created",
              new=ticket["department_id"], note=f"sak #{ticket_id}")
    promise_id = int(conn.execute(insert(PROMISE).values(
        ticket_id=ticket_id, at=now, by_agent=agent_id, promised_by=when, note=text,
        original_due_at=_aware(ticket["due_at"]), late=late, phone_task_id=task_id,
    ).returning(PROMISE.c.id)).scalar_one())
    conn.execute(update(TICKET).where(TICKET.c.id == ticket_id).values(
        version=TICKET.c.version + 1, updated_at=now))
    add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="promise",
              new=when.isoformat(), note=text)
    add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="phone_task",
              new=str(task_id))
    if late:
        add_event(conn, ticket_id=ticket_id, at=now, actor=None, kind="promise_late",
                  old=in_force.isoformat() if in_force else None, new=when.isoformat())
    row = conn.execute(select(PROMISE).where(PROMISE.c.id == promise_id)).one()
    return dict(row._mapping)


def _local_text(when: datetime, cal: WorkCalendar) -> str:
    local = when.astimezone(cal.zone)
    if local.hour == local.minute == 0:
        return f"innen utgangen av {local - timedelta(days=1):%d.%m.%Y}"
    return f"{local:%d.%m.%Y} kl. {local:%H:%M}"


def missed(conn: Connection, *, now: datetime) -> list[dict[str, Any]]:
    """Promises that count (each ticket's newest), have passed, and whose ticket is not done."""
    newest = (select(PROMISE.c.ticket_id, func.max(PROMISE.c.id).label("id"))
              .group_by(PROMISE.c.ticket_id).subquery())
    rows = conn.execute(
        select(PROMISE, TICKET.c.department_id, TICKET.c.owner)
        .join(newest, newest.c.id == PROMISE.c.id)
        .join(TICKET, TICKET.c.id == PROMISE.c.ticket_id)
        .where(PROMISE.c.promised_by <= now, PROMISE.c.missed_at.is_(None),
               TICKET.c.status != "done")
        .order_by(PROMISE.c.id)).all()
    return [dict(r._mapping) for r in rows]


def mark_missed(conn: Connection, *, promise_id: int, now: datetime) -> bool:
    """Mark a promise missed; False when another pass already did (so it escalates once)."""
    done = conn.execute(update(PROMISE).where(PROMISE.c.id == promise_id,
                                              PROMISE.c.missed_at.is_(None))
                        .values(missed_at=now))
    return done.rowcount == 1


def public(promise: dict[str, Any]) -> dict[str, Any]:
    """A promise as the API shows it."""
    return {k: (_aware(v).isoformat() if isinstance(v, datetime) else v)  # type: ignore[union-attr]
            for k, v in promise.items()}

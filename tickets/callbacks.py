"""Callback tickets for unanswered callers (docs/routing.md#callback-tickets: who gets one)."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from identity.phone import WITHHELD
from tickets.departments import department_for_loop, department_of_agent, due_for
from tickets.models import Ticket

TICKET = Ticket.__table__  # type: ignore[attr-defined]
MIN_SECONDS_IN_LOOP = 5  # a caller who hangs up sooner is counted but gets no ticket


def callable_number(raw: str | None) -> str | None:
    """The caller's number in E.164, or None when it is withheld or not a number.

    Laxer than identity.phone.normalise (a *possible* number is enough): a callback to a
    number in a range phonenumbers does not know yet is better than no callback at all.
    """
    if not raw:
        return None
    raw = raw.strip()
    if raw.lower() in WITHHELD or not any(ch.isdigit() for ch in raw):
        return None
    try:
        num = phonenumbers.parse(raw, "NO")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def callback_due(*, stage: str, answered: bool, number: str | None, recorded: bool,
                 seconds_in_loop: float | None) -> bool:
    """Whether an ended call earns a callback ticket."""
    if answered:
        return False
    if recorded:
        return True
    if number is None:  # withheld: only with a voicemail
        return False
    if stage in ("voicemail", "closed"):
        return True
    if stage in ("loop", "queue", "direct"):
        return seconds_in_loop is not None and seconds_in_loop >= MIN_SECONDS_IN_LOOP
    return False  # hung up at the menu


def upsert_callback(conn: Connection, *, call_sid: str, now: datetime, loop_id: str | None,
                    agent_id: str | None, number: str | None, progress: str,
                    recording_url: str | None = None,
                    recording_duration: int | None = None) -> None:
    """One callback ticket per call: create it, or add the recording to it.

    A new one goes on the loop's department list (a direct line's: its agent's department,
    owned by that agent) with the department's deadline, and the department is mailed.
    """
    from tickets.service import on_callback_created  # the service imports this module's peers

    department = (department_for_loop(conn, loop_id) if loop_id
                  else department_of_agent(conn, agent_id))
    ins = (postgresql.insert(TICKET) if conn.dialect.name == "postgresql"
           else sqlite.insert(TICKET))
    ticket_id = conn.execute(ins.values(
        kind="callback", call_sid=call_sid, loop_id=loop_id, agent_id=agent_id,
        caller_number=number, progress=progress, recording_url=recording_url,
        recording_duration=recording_duration, status="open", created_at=now,
        department_id=department["id"] if department else None,
        due_at=due_for(conn, department, now) if department else None,
        owner=agent_id, follow_up="we_call", version=1, updated_at=now,
    ).on_conflict_do_nothing().returning(TICKET.c.id)).scalar()
    if ticket_id is not None:
        on_callback_created(conn, ticket_id=ticket_id, now=now, public_url=None)
    if recording_url:
        conn.execute(update(TICKET).where(TICKET.c.call_sid == call_sid).values(
            recording_url=recording_url, recording_duration=recording_duration))


def open_callbacks(conn: Connection) -> list[dict]:
    """Open callback tickets, newest first."""
    rows = conn.execute(select(TICKET).where(TICKET.c.status == "open")
                        .order_by(TICKET.c.created_at.desc())).all()
    return [dict(r._mapping) for r in rows]

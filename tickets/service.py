"""Ticket rules: create, list, take, note, change status; every change is one timeline entry.

Functions take a SQLAlchemy `Connection` inside the caller's transaction (the callback tickets
are written from the webhook's own transaction, the API opens its own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from identity.models import CallIdentity
from ivr.models import Call
from routing.models import Agent
from tickets import mail
from tickets.departments import department_row, due_for, work_calendar
from tickets.models import Department, Ticket, TicketEvent
from tickets.schemas import TicketCreate, TicketPatch
from tickets.workdays import WorkCalendar, time_left

TICKET = Ticket.__table__  # type: ignore[attr-defined]
EVENT = TicketEvent.__table__  # type: ignore[attr-defined]
DEPARTMENT = Department.__table__  # type: ignore[attr-defined]
AGENT = Agent.__table__  # type: ignore[attr-defined]
CALL = Call.__table__  # type: ignore[attr-defined]
IDENTITY = CallIdentity.__table__  # type: ignore[attr-defined]
MAX_LIST = 500


class TicketError(Exception):
    """A request the rules refuse: `field` names what is wrong (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class TicketNotFound(Exception):
    """No ticket with this id (404)."""


class StaleTicket(Exception):
    """The ticket changed since the caller read it (412); `current` is the ticket now."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("the ticket has changed")
        self.current = current


def add_event(conn: Connection, *, ticket_id: int, at: datetime, actor: str | None, kind: str,
              old: str | None = None, new: str | None = None, note: str | None = None) -> None:
    """Append one entry to a ticket's timeline."""
    conn.execute(insert(EVENT).values(ticket_id=ticket_id, at=at, actor=actor, kind=kind,
                                      old=old, new=new, note=note))


def _verified_member(conn: Connection, *, call_sid: str, member_id: int | None,
                     agent_id: str | None) -> tuple[int | None, str]:
    """(member, level) from the call's own verification state; never from the request."""
    state = conn.execute(select(IDENTITY.c.step, IDENTITY.c.level, IDENTITY.c.member_id)
                         .where(IDENTITY.c.call_sid == call_sid)).first()
    level = state.level if state else "none"
    if member_id is None:
        return None, level
    answered_by = conn.execute(select(CALL.c.answered_by)
                               .where(CALL.c.call_sid == call_sid)).scalar()
    verified = (state is not None and state.step == "done" and state.level != "none"
                and state.member_id == member_id)
    if agent_id is None or answered_by != agent_id or not verified:
        # One generic answer: it does not say whether the member exists
        # (docs/identity-and-privacy.md).
        raise TicketError("member_id", "the member is not verified on this call by you")
    return member_id, level


def create_ticket(conn: Connection, *, data: TicketCreate, actor: str | None,
                  agent_id: str | None, now: datetime, public_url: str) -> dict[str, Any]:
    """A message ticket for a department: due date from its deadline, mail to its inbox."""
    department = department_row(conn, data.department)
    if department is None:
        raise TicketError("department", f'department "{data.department}" does not exist')
    level: str | None = None
    member_id: int | None = None
    if data.call_sid is not None:
        if conn.execute(select(CALL.c.call_sid).where(CALL.c.call_sid == data.call_sid)
                        ).first() is None:
            raise TicketError("call_sid", "no such call")
        member_id, level = _verified_member(conn, call_sid=data.call_sid,
                                            member_id=data.member_id, agent_id=agent_id)
    elif data.member_id is not None:
        raise TicketError("member_id", "a member can be linked only from a call that verified "
                          "them (give call_sid)")
    if data.confirm_to_agent and agent_id is None:
        raise TicketError("confirm_to_agent", "only an agent can ask to be told when it is done")
    ticket_id = conn.execute(insert(TICKET).values(
        kind="message", call_sid=data.call_sid, department_id=department["id"],
        category=data.category, text=data.text, member_id=member_id, verification_level=level,
        follow_up=data.follow_up, confirm_to_agent=data.confirm_to_agent,
        due_at=due_for(conn, department, now), status="open", owner=None, version=1,
        created_by=agent_id or actor, created_at=now, updated_at=now, progress="",
    ).returning(TICKET.c.id)).scalar_one()
    add_event(conn, ticket_id=ticket_id, at=now, actor=actor, kind="created",
              new=department["id"])
    ticket = _load(conn, ticket_id)
    mail.queue_new_ticket(conn, ticket=ticket, department=department, now=now,
                          public_url=public_url)
    return ticket


def on_callback_created(conn: Connection, *, ticket_id: int, now: datetime,
                        public_url: str | None) -> None:
    """A callback ticket was just made: its timeline starts, and its department hears of it."""
    add_event(conn, ticket_id=ticket_id, at=now, actor=None, kind="created")
    ticket = _load(conn, ticket_id)
    if ticket["department_id"]:
        department = department_row(conn, ticket["department_id"])
        if department is not None:
            mail.queue_new_ticket(conn, ticket=ticket, department=department, now=now,
                                  public_url=public_url)


def _load(conn: Connection, ticket_id: int) -> dict[str, Any]:
    row = conn.execute(select(TICKET).where(TICKET.c.id == ticket_id)).first()
    if row is None:
        raise TicketNotFound(ticket_id)
    return dict(row._mapping)


def get_ticket(conn: Connection, ticket_id: int) -> dict[str, Any]:
    """One ticket as stored (TicketNotFound when there is none)."""
    return _load(conn, ticket_id)


def history(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
    """The ticket's timeline, oldest first: creation, changes, notes, mails."""
    rows = conn.execute(select(EVENT).where(EVENT.c.ticket_id == ticket_id)
                        .order_by(EVENT.c.at, EVENT.c.id)).all()
    return [dict(r._mapping) for r in rows]


def list_tickets(conn: Connection, *, department: str | None = None, status: str | None = None,
                 owner: str | None = None, unassigned: bool = False, include_done: bool = False,
                 call_sid: str | None = None, member_id: int | None = None,
                 limit: int = MAX_LIST) -> list[dict[str, Any]]:
    """Tickets matching the filters, soonest due first (no due date last, then oldest first).

    Without a status filter, done tickets are left out unless include_done. `member_id` is for
    the desk after verification only (a member's open tickets are member data).
    """
    q = select(TICKET)
    if call_sid:
        q = q.where(TICKET.c.call_sid == call_sid)
    if member_id is not None:
        q = q.where(TICKET.c.member_id == member_id)
    if department:
        q = q.where(TICKET.c.department_id == department)
    if status:
        q = q.where(TICKET.c.status == status)
    elif not include_done:
        q = q.where(TICKET.c.status != "done")
    if unassigned:
        q = q.where(TICKET.c.owner.is_(None))
    elif owner:
        q = q.where(TICKET.c.owner == owner)
    q = q.order_by(TICKET.c.due_at.is_(None), TICKET.c.due_at, TICKET.c.created_at,
                   TICKET.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q).all()]


def _active_agent(conn: Connection, agent_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(AGENT.c.id, AGENT.c.name, AGENT.c.email)
                       .where(AGENT.c.id == agent_id, AGENT.c.active.is_(True))).first()
    return dict(row._mapping) if row else None


def update_ticket(conn: Connection, *, ticket_id: int, expected_version: int,
                  changes: TicketPatch, actor: str | None, now: datetime,
                  public_url: str) -> dict[str, Any]:
    """Take, let go, change status, add a note: only if nobody changed it since `expected_version`.

    The version check and the write are one conditional UPDATE, so two agents who read the
    same version cannot both win, on SQLite or PostgreSQL.
    """
    ticket = _load(conn, ticket_id)
    if ticket["version"] != expected_version:
        raise StaleTicket(ticket)
    values: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    if "owner" in changes.model_fields_set and changes.owner != ticket["owner"]:
        if changes.owner is not None and _active_agent(conn, changes.owner) is None:
            raise TicketError("owner", f'agent "{changes.owner}" does not exist')
        values["owner"] = changes.owner
        events.append({"kind": "owner", "old": ticket["owner"], "new": changes.owner})
    if changes.status is not None and changes.status != ticket["status"]:
        if changes.status == "done" and ticket["kind"] == "callback" and not ticket["outcome"]:
            # A callback closes with what happened (tickets.claims), never silently.
            raise TicketError("status", "a callback is closed with its outcome: reached, "
                              "no_answer or wrong_number (POST .../callback-outcome)")
        values["status"] = changes.status
        events.append({"kind": "status", "old": ticket["status"], "new": changes.status})
    if changes.note is not None:
        events.append({"kind": "note", "note": changes.note})
    if not events:
        return ticket
    values |= {"version": expected_version + 1, "updated_at": now}
    done = conn.execute(update(TICKET).where(TICKET.c.id == ticket_id,
                                             TICKET.c.version == expected_version)
                        .values(**values))
    if done.rowcount != 1:
        raise StaleTicket(_load(conn, ticket_id))
    for ev in events:
        add_event(conn, ticket_id=ticket_id, at=now, actor=actor, **ev)
    ticket = _load(conn, ticket_id)
    if values.get("status") == "done" and ticket["confirm_to_agent"] and ticket["created_by"]:
        agent = _active_agent(conn, ticket["created_by"])
        mail.queue_done_to_agent(conn, ticket=ticket, agent=agent, now=now,
                                 public_url=public_url)
    return ticket


def public(ticket: dict[str, Any], *, now: datetime, conn: Connection,
           cal: WorkCalendar | None = None) -> dict[str, Any]:
    """The ticket as the API shows it, with the time left to its due date (give `cal` when
    showing many, so the organisation's calendar is read once)."""
    out = {k: (v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v)
           for k, v in ticket.items()}
    out["department"] = out.pop("department_id")
    due = ticket["due_at"]
    if due is not None and ticket["status"] != "done":
        left = time_left(now, _aware(due), cal or work_calendar(conn))
        out["time_left"] = {"urgency": left.urgency, "seconds": left.seconds,
                            "working_days": left.working_days, "label": left.label,
                            "label_en": left.label_en}
    else:
        out["time_left"] = None
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def public_event(event: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry as the API shows it."""
    return {k: (v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v)
            for k, v in event.items() if k != "ticket_id"}

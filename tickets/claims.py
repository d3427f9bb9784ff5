"""Claiming a ticket and closing a callback with its outcome (docs/tickets.md#callbacks).

A claim is one conditional UPDATE (`… WHERE owner IS NULL AND status = 'open'`) whose row
count says who won: no read comes before it, so two agents can never both get the same
ticket, whether they sit in one server process or several, on SQLite (one writer at a time)
or PostgreSQL (the second UPDATE waits for the first's row lock, then finds the row taken).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from routing.models import Organisation
from tickets import mail
from tickets.departments import department_row, due_for
from tickets.models import Ticket
from tickets.service import TicketError, TicketNotFound, add_event, get_ticket

TICKET = Ticket.__table__  # type: ignore[attr-defined]
ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
Outcome = Literal["reached", "no_answer", "wrong_number"]
OUTCOMES = ("reached", "no_answer", "wrong_number")
DEFAULTS = {"handover_confirm_hours": 24, "callback_max_attempts": 3, "retention_days": 30}
# The task text is the same for everyone: no name, number or address (those are on the member).
TASK_TEXT = {
    "letter": "Vi har ikke nådd medlemmet på telefon etter {n} forsøk. Send et brev om "
              "henvendelsen (tilbakeringing #{id}).",
    "email": "Vi har ikke nådd medlemmet på telefon etter {n} forsøk. Send en e-post om "
             "henvendelsen (tilbakeringing #{id}).",
}


class ClaimTaken(Exception):
    """Someone else has the ticket, or it is no longer open (409); `ticket` is it now."""

    def __init__(self, ticket: dict[str, Any]) -> None:
        super().__init__("the ticket is taken")
        self.ticket = ticket


def ticket_rules(conn: Connection) -> dict[str, int]:
    """The org file's `tickets:` numbers, with their defaults (docs/org-file.md#tickets)."""
    config = conn.execute(select(ORGANISATION.c.config)).scalar() or {}
    given = config.get("tickets") or {}
    return {k: int(given.get(k) or v) for k, v in DEFAULTS.items()}


def claim(conn: Connection, *, ticket_id: int, agent_id: str, now: datetime) -> dict[str, Any]:
    """Make `agent_id` the owner of an open, unowned ticket; ClaimTaken when someone has it.

    Claiming one's own ticket again (a double click, a direct line's callback) is a success.
    """
    won = conn.execute(update(TICKET).where(
        TICKET.c.id == ticket_id, TICKET.c.owner.is_(None), TICKET.c.status == "open",
    ).values(owner=agent_id, status="in_progress", version=TICKET.c.version + 1,
             updated_at=now)).rowcount == 1
    if won:
        add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="owner", old=None,
                  new=agent_id)
        add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="status",
                  old="open", new="in_progress")
        return get_ticket(conn, ticket_id)
    ticket = get_ticket(conn, ticket_id)  # TicketNotFound when there is none
    if ticket["owner"] == agent_id and ticket["status"] != "done":
        return ticket
    raise ClaimTaken(ticket)


def record_outcome(conn: Connection, *, ticket_id: int, agent_id: str, outcome: str,
                   now: datetime, public_url: str) -> dict[str, Any]:
    """Close a callback as reached or wrong number, or count an unanswered attempt.

    The agent must hold the callback (claim it first). After `callback_max_attempts`
    unanswered attempts it closes: with a letter or e-mail task for the department when the
    member is known, else as unreachable. Otherwise it goes back on the department's list.
    """
    if outcome not in OUTCOMES:
        raise TicketError("outcome", f"use one of: {', '.join(OUTCOMES)}")
    ticket = get_ticket(conn, ticket_id)
    if ticket["kind"] != "callback":
        raise TicketError("outcome", "only a callback has an outcome")
    if ticket["status"] == "done":
        raise ClaimTaken(ticket)
    if ticket["owner"] != agent_id:
        raise ClaimTaken(ticket)
    version = ticket["version"]
    values: dict[str, Any] = {"version": version + 1, "updated_at": now}
    closing = outcome != "no_answer"
    attempts = ticket["attempts"] or 0
    if outcome == "no_answer":
        attempts += 1
        values |= {"attempts": attempts, "last_attempt_at": now}
        if attempts >= ticket_rules(conn)["callback_max_attempts"]:
            closing = True
            outcome = "unreachable"
        else:
            # Back on the list, so whoever is free makes the next try.
            values |= {"status": "open", "owner": None}
    if closing:
        values |= {"status": "done", "outcome": outcome}
    done = conn.execute(update(TICKET).where(TICKET.c.id == ticket_id,
                                             TICKET.c.version == version).values(**values))
    if done.rowcount != 1:
        raise ClaimTaken(get_ticket(conn, ticket_id))
    if "attempts" in values:
        add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="attempt",
                  new=str(attempts))
    if closing:
        add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="outcome",
                  new=outcome)
        add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="status",
                  old=ticket["status"], new="done")
        if outcome == "unreachable" and ticket["member_id"] is not None:
            task = _written_task(conn, ticket=ticket, attempts=attempts, now=now,
                                 public_url=public_url)
            add_event(conn, ticket_id=ticket_id, at=now, actor=None, kind="task",
                      new=str(task))
    else:
        add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="owner",
                  old=agent_id, new=None)
        add_event(conn, ticket_id=ticket_id, at=now, actor=agent_id, kind="status",
                  old=ticket["status"], new="open")
    return get_ticket(conn, ticket_id)


def _written_task(conn: Connection, *, ticket: dict[str, Any], attempts: int, now: datetime,
                  public_url: str) -> int:
    """A letter task (an e-mail task when the member has an address) for the department."""
    from identity.models import Member

    member = Member.__table__  # type: ignore[attr-defined]
    has_email = conn.execute(select(member.c.email).where(
        member.c.id == ticket["member_id"])).scalar()
    kind = "email" if has_email else "letter"
    department = department_row(conn, ticket["department_id"]) \
        if ticket["department_id"] else None
    task_id = conn.execute(insert(TICKET).values(
        kind=kind, call_sid=ticket["call_sid"], department_id=ticket["department_id"],
        text=TASK_TEXT[kind].format(n=attempts, id=ticket["id"]),
        member_id=ticket["member_id"], verification_level=ticket["verification_level"],
        follow_up="none", due_at=due_for(conn, department, now) if department else None,
        status="open", owner=None, version=1, created_by=None, created_at=now,
        updated_at=now, progress="", attempts=0,
    ).returning(TICKET.c.id)).scalar_one()
    add_event(conn, ticket_id=task_id, at=now, actor=None, kind="created",
              new=ticket["department_id"])
    if department is not None:
        mail.queue_new_ticket(conn, ticket=get_ticket(conn, task_id), department=department,
                              now=now, public_url=public_url)
    return int(task_id)


__all__ = ["ClaimTaken", "OUTCOMES", "TicketNotFound", "claim", "record_outcome",
           "ticket_rules"]

"""Tickets: messages to departments and callback tickets for unanswered callers (docs/tickets.md).

Every change, note and mail of a ticket is one row of `ticket_event`: the ticket's page is its
history. Mail goes through `outbox` first so that none is lost when SMTP is down or missing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

KINDS = ("callback", "message")
STATUSES = ("open", "in_progress", "waiting", "done")
FOLLOW_UPS = ("we_call", "caller_calls", "none")


class Department(SQLModel, table=True):
    """A department from the org file. Removed ones stay (active=false): tickets point at them."""

    __tablename__ = "department"
    id: str = Field(primary_key=True, max_length=64)
    name: str
    email: str  # the department's shared inbox (staff data)
    deadline: str  # "N hours" | "N working days"
    escalation: str | None = None
    members: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    loops: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = 0
    active: bool = True


class Ticket(SQLModel, table=True):
    """A piece of work for a department: a message from the desk, or a callback."""

    __tablename__ = "ticket"
    __table_args__ = (
        # One callback ticket per call (Twilio retries); message tickets may share a call.
        Index("uq_ticket_callback_call", "call_sid", unique=True,
              sqlite_where=text("kind = 'callback'"), postgresql_where=text("kind = 'callback'")),
        Index("ix_ticket_department_due", "department_id", "status", "due_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = "callback"
    call_sid: str | None = Field(default=None, max_length=64)
    loop_id: str | None = None
    agent_id: str | None = None  # a direct line's agent (callbacks)
    caller_number: str | None = None  # personal data: never logged, never mailed
    progress: str = ""  # how far the caller got: menu, loop:<id>, queue, voicemail, closed …
    recording_url: str | None = None
    recording_duration: int | None = None
    status: str = "open"
    created_at: datetime = Field(sa_type=UTCDateTime)
    department_id: str | None = Field(default=None, max_length=64)
    category: str | None = None
    text: str = ""
    member_id: int | None = None  # only once verified on the call
    verification_level: str | None = None
    follow_up: str = "none"
    confirm_to_agent: bool = False
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner: str | None = Field(default=None, max_length=64)
    version: int = 1
    created_by: str | None = Field(default=None, max_length=64)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Callbacks (tickets.claims): unanswered attempts, the last one, and how it ended.
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=32)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # tickets.retention
    # Promises and escalation (tickets.promises, tickets.escalation): a phone task points at
    # the ticket it is about; escalated_at is the first time any cause escalated it.
    parent_id: int | None = Field(default=None, index=True)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketEvent(SQLModel, table=True):
    """One entry of a ticket's timeline: created, a field changed, a note, a mail queued/sent."""

    __tablename__ = "ticket_event"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str | None = Field(default=None, max_length=64)  # agent id, "admin" or None (system)
    kind: str  # created | status | owner | note | mail_queued | mail_sent
    old: str | None = None
    new: str | None = None
    note: str | None = None


class OutboxMail(SQLModel, table=True):
    """A mail waiting to be sent (or sent). Never deleted by the sender: nothing is lost."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    to_addr: str  # staff addresses only: a department's inbox or an agent's work mail
    subject: str
    body: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = None  # the error's class and SMTP code, never the message's text
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Handover(SQLModel, table=True):
    """An absence handover note: what moved from an agent to their cover (tickets.handover).

    `to_agent` None: back to the departments' unassigned lists. `items`: [{"id", "kind"}, …],
    each with "returned_at" once taken back.
    """

    __tablename__ = "handover"
    __table_args__ = (Index("ix_handover_to", "to_agent", "confirmed_at"),
                      Index("ix_handover_from", "from_agent", "at"))
    id: int | None = Field(default=None, primary_key=True)
    from_agent: str = Field(max_length=64)
    to_agent: str | None = Field(default=None, max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=32)
    items: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketPromise(SQLModel, table=True):
    """A concrete promise when a deadline cannot be kept (tickets.promises): a new date, a note.

    `late`: recorded after the original deadline had passed. The newest promise of a ticket is
    the one that counts; `missed_at` is set when it passed with the ticket not done.
    """

    __tablename__ = "ticket_promise"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    by_agent: str = Field(max_length=64)
    promised_by: datetime = Field(sa_type=UTCDateTime)
    note: str
    original_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late: bool = False
    phone_task_id: int | None = None
    missed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketEscalation(SQLModel, table=True):
    """One escalation of one ticket for one cause (untouched, overdue, promise:<id>): once each."""

    __tablename__ = "ticket_escalation"
    __table_args__ = (Index("uq_ticket_escalation", "ticket_id", "cause", unique=True),
                      Index("ix_ticket_escalation_at", "at"))
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    cause: str = Field(max_length=32)
    at: datetime = Field(sa_type=UTCDateTime)
    owner: str | None = Field(default=None, max_length=64)  # who had it then (overruns page)
    department_id: str | None = Field(default=None, max_length=64)
    to_addr: str | None = None  # the escalation contact (staff address)


class DailyLook(SQLModel, table=True):
    """The morning mail of one department on one local date: the row is the once-a-day lock."""

    __tablename__ = "daily_look"
    department_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    recipients: int = 0


class DepartmentView(SQLModel, table=True):
    """Someone opened a department's /tickets list (the wallboard flags unwatched lists)."""

    __tablename__ = "department_view"
    __table_args__ = (Index("ix_department_view_at", "department_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    department_id: str = Field(max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)

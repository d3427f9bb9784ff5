"""Tickets. A callback ticket is made for each unanswered caller (CONTRACT §4)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Ticket(SQLModel, table=True):
    """A piece of work for a loop or an agent."""

    __tablename__ = "ticket"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = "callback"
    call_sid: str | None = Field(default=None, unique=True, max_length=64)
    loop_id: str | None = None
    agent_id: str | None = None
    caller_number: str | None = None  # personal data: never logged
    progress: str = ""  # how far the caller got: menu, loop:<id>, queue, voicemail, closed …
    recording_url: str | None = None
    recording_duration: int | None = None
    status: str = "open"
    created_at: datetime

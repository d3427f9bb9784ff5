"""Calls and the answers already given to each of their steps (for Twilio's retries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class Call(SQLModel, table=True):
    """One inbound call and where it is on its way."""

    __tablename__ = "call"
    __table_args__ = (Index("ix_call_queue", "loop_id", "queued_at"),
                      Index("ix_call_started", "started_at"))  # reports read one period
    call_sid: str = Field(primary_key=True, max_length=64)
    from_number: str | None = None  # personal data: never logged
    to_number: str | None = None
    kind: str = "switchboard"  # switchboard | direct
    lang: str = "nb"
    direct_agent_id: str | None = None
    stage: str = "menu"  # menu | loop | queue | voicemail | connected | closed | ended
    loop_id: str | None = None
    loop_entered_at: datetime | None = None
    loop_used: float = 0.0  # seconds counted against max_wait (docs/routing.md)
    queued_at: datetime | None = None  # set while waiting in line
    last_seen_at: datetime | None = None
    route: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    answered_by: str | None = None
    answered_at: datetime | None = None  # when answered_by confirmed (pressed a key)
    started_at: datetime
    ended_at: datetime | None = None
    status: str | None = None  # Twilio's final CallStatus
    outcome: str | None = None  # connected | voicemail | closed | hangup
    verification: str | None = None  # the identity level reached (identity/)
    # Every loop entered, with when: [[loop_id, iso time], ...], and ["voicemail", time] when
    # an overflow sent the call there; the statistics read it (console/stats.py).
    loop_path: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class CallStep(SQLModel, table=True):
    """The TwiML already answered for (call, step), so a retry gets the same answer."""

    __tablename__ = "call_step"
    call_sid: str = Field(primary_key=True, max_length=64)
    step: str = Field(primary_key=True, max_length=255)
    twiml: str
    stage: str | None = None  # the call's stage after this step (the simulator reads it)
    created_at: datetime

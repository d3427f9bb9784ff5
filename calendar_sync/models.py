"""Busy intervals per agent and the state of each agent's calendar source."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, String
from sqlmodel import Field, SQLModel


class BusyInterval(SQLModel, table=True):
    """One stored calendar block, in UTC. `blocks` is the policy's verdict at sync time."""

    __tablename__ = "busy_interval"
    __table_args__ = (Index("ix_busy_agent_start", "agent_id", "start"),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: str = Field(max_length=64)
    start: datetime
    end: datetime
    status: str = "busy"  # busy | tentative | oof | free | workingElsewhere
    all_day: bool = False
    blocks: bool = True
    note: str | None = None  # e.g. all_day_free


class CalendarSource(SQLModel, table=True):
    """Per agent: when its calendar last synced well, and the last error."""

    __tablename__ = "calendar_source"
    agent_id: str = Field(primary_key=True, max_length=64)
    kind: str
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    # Added in migration 0002: which URL or mailbox the state above belongs to, and the last
    # ICS body, so a 304 Not Modified can still be expanded over the moving window.
    source_key: str | None = Field(default=None, sa_column=Column(String, nullable=True))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))

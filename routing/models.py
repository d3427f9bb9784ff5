"""Tables for the organisation's configuration (from the org file) and agent state."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel


class Organisation(SQLModel, table=True):
    """One row: the organisation's settings as the last applied org file gave them."""

    __tablename__ = "organisation"
    id: int = Field(default=1, primary_key=True)
    name: str
    name_en: str | None = None
    timezone: str = "Europe/Oslo"
    # Everything else of the file that is not a table of its own (hours, prompts, policies).
    config: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    applied_at: datetime | None = None


class Agent(SQLModel, table=True):
    """A member of staff. Removed agents stay (active=false) so old calls still point at them."""

    __tablename__ = "agent"
    id: str = Field(primary_key=True, max_length=64)
    name: str
    phone: str
    email: str | None = None
    roles: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    calendar: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    position: int = 0  # the file's order, for ties
    active: bool = True
    # Run-time state; the file_* columns remember what the org file said last time.
    logged_in: bool = True
    logout_reason: str | None = None
    back_on: date | None = None  # logged back in on this local date (console.agent_state)
    routing_stop: bool = False
    stop_reason: str | None = None
    file_logged_in: bool | None = None
    file_logout_reason: str | None = None
    file_routing_stop: bool | None = None
    wrap_up_until: datetime | None = None
    last_answered_at: datetime | None = None
    last_offered_at: datetime | None = None
    answered_day: str | None = None  # local date of answered_today
    answered_today: int = 0
    token_hash: str | None = None
    access: str = Field(default="agent", max_length=16)  # agent | admin (org file)
    cover: str | None = Field(default=None, max_length=64)  # who takes their work (org file)


class Loop(SQLModel, table=True):
    """A group of agents that a menu digit, a direct line's overflow or another loop leads to."""

    __tablename__ = "loop"
    id: str = Field(primary_key=True, max_length=64)
    name: str
    name_en: str | None = None  # what an English-speaking caller hears; `name` when empty
    members: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    roles: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    strategy: str = "ringall"
    ring_timeout: int = 20
    max_wait: int = 0
    wrap_up: int = 0
    overflow: str = "voicemail"
    service_level_seconds: int = 20  # answered within this counts for the service level
    position: int = 0
    active: bool = True
    last_rung_agent: str | None = None


class PhoneNumber(SQLModel, table=True):
    """A number Twilio sends calls for: the switchboard or a direct line."""

    __tablename__ = "phone_number"
    number: str = Field(primary_key=True, max_length=32)
    kind: str = "switchboard"
    agent_id: str | None = None


class MenuEntry(SQLModel, table=True):
    """Digit -> loop."""

    __tablename__ = "menu_entry"
    digit: str = Field(primary_key=True, max_length=2)
    loop_id: str


class Offer(SQLModel, table=True):
    """A reservation of one agent for one call. At most one live offer per agent (unique index)."""

    __tablename__ = "offer"
    __table_args__ = (
        Index(
            "uq_offer_live_agent",
            "agent_id",
            unique=True,
            sqlite_where=text("live = 1"),
            postgresql_where=text("live"),
        ),
        Index("ix_offer_call", "call_sid"),
    )
    id: int | None = Field(default=None, primary_key=True)
    call_sid: str = Field(max_length=64)
    agent_id: str = Field(max_length=64)
    loop_id: str | None = None  # None for a direct line
    attempt: int = 0
    state: str = "ringing"  # ringing | on_call | released | ended | expired
    live: bool = True  # ringing or on_call: holds the agent
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None

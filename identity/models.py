"""Tables of the member register and the identity checks: members, phones, per-call script
state, consents and the audit log. National IDs are stored only as keyed hash + mask."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime


class Member(SQLModel, table=True):
    """One member of the union, as the membership system exported them."""

    __tablename__ = "member"
    id: int | None = Field(default=None, primary_key=True)
    membership_number: str = Field(max_length=32, unique=True, index=True)
    name: str
    birth_date: date | None = None
    national_id_hash: str | None = Field(default=None, max_length=64, index=True)
    national_id_masked: str | None = Field(default=None, max_length=16)  # "DDMMYY *****"
    needs_correction: bool = False  # placeholder, invalid or missing national ID
    email: str | None = None
    address: str | None = None
    postal_code: str | None = Field(default=None, max_length=16)
    city: str | None = None
    returned_mail: bool = False  # "bladretur": the magazine came back
    branch: str | None = None
    status: str | None = None
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MemberPhone(SQLModel, table=True):
    """A member's phone number in E.164 (a member may have several; a number several members)."""

    __tablename__ = "member_phone"
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    e164: str = Field(max_length=20, primary_key=True, index=True)
    position: int = 0


class CallIdentity(SQLModel, table=True):
    """The verification script's state for one call (one row per call)."""

    __tablename__ = "call_identity"
    call_sid: str = Field(primary_key=True, max_length=64)
    script: str | None = None  # member | invoice | case
    step: str = "idle"
    member_id: int | None = None  # the member the script is about; hidden until verified
    failures: int = 0
    level: str = "none"
    factors: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consent_id: int | None = None
    callback_offered: bool = False
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Consent(SQLModel, table=True):
    """An oral consent from a member, taken on a callback to their registered number."""

    __tablename__ = "member_consent"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    call_sid: str = Field(max_length=64, index=True)
    given_to: str  # who may speak for the member (the caller's name as given)
    scope: str  # what the consent covers
    method: str = "callback_registered_number"
    agent_id: str = Field(max_length=64)  # who took it
    given_at: datetime = Field(sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """One identity step: who, when, which call and script, which factors, the outcome.
    Never the values themselves."""

    __tablename__ = "identity_audit"
    __table_args__ = (Index("ix_identity_audit_call", "call_sid", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    agent_id: str | None = Field(default=None, max_length=64)
    call_sid: str | None = Field(default=None, max_length=64)
    script: str | None = None
    action: str
    factors: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome: str
    member_id: int | None = None

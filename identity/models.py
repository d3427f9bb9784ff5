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
    # Valid, but ends in one of the org file's placeholder suffixes: the agent asks the member.
    national_id_possible_placeholder: bool = False
    # The hash of the ID an agent confirmed with the member (not asked again while it stands).
    national_id_confirmed_hash: str | None = Field(default=None, max_length=64)
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
    # The member who verified themself by script 1 on this call (kept across script changes:
    # the case script's consent may come from the member on this very call).
    self_member_id: int | None = None
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Consent(SQLModel, table=True):
    """A member's oral consent: who gave it (member_id), to whom, for what, how, when, taken by
    which agent. How: the member on this call (verified by script 1), or the agent rang the
    member's registered number (phone_position says which one)."""

    __tablename__ = "member_consent"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    call_sid: str = Field(max_length=64, index=True)
    given_to: str  # who may speak for the member (the caller's name as given)
    scope: str  # what the consent covers
    method: str = "callback_registered_number"  # | member_on_call
    phone_position: int | None = None  # 1-based: which registered number the agent rang
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
    note: str | None = None  # the agent's own words, e.g. why they know the member


class IdentityFailure(SQLModel, table=True):
    """One failed verification attempt, counted per call, per member and per calling number
    (a keyed hash, never the number) over the org file's lock window."""

    __tablename__ = "identity_failure"
    __table_args__ = (Index("ix_identity_failure_member", "member_id", "at"),
                      Index("ix_identity_failure_caller", "caller_hash", "at"),
                      Index("ix_identity_failure_call", "call_sid"))
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    call_sid: str = Field(max_length=64)
    member_id: int | None = None  # the member the attempt named, when it named one
    caller_hash: str | None = Field(default=None, max_length=64)
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # admin unlock

"""Every table, gathered for alembic, plus the small key/value table for versions and locks."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from calendar_sync.models import BusyInterval, CalendarSource  # noqa: F401
from console.audit import AuditRecord  # noqa: F401
from identity.models import AuditEntry, CallIdentity, Consent, Member, MemberPhone  # noqa: F401
from ivr.models import Call, CallStep  # noqa: F401
from routing.models import Agent, Loop, MenuEntry, Offer, Organisation, PhoneNumber  # noqa: F401
from tickets.models import Ticket  # noqa: F401


class Meta(SQLModel, table=True):
    """Counters that tell server processes to reload cached data (org_version, calendar_version)
    and leases such as the calendar-sync lock."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: int = 0
    holder: str | None = None


metadata = SQLModel.metadata

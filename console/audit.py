"""The audit log of configuration and state changes: who, when, what object, before and after.

Identity steps keep their own log (identity.models.AuditEntry, by factor name, never values);
this one holds the admin pages' and API's edits and agents' state changes, with the object's
JSON as it was before and after the change. Other packages call `record` inside their own
transaction, so a change and its audit row commit (or roll back) together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

SYSTEM = "system"  # the `who` of changes the server makes by itself (an agent's return date)
ADMIN_TOKEN = "admin-token"  # the `who` of changes made with SWITCHBOARD_ADMIN_TOKEN


class AuditRecord(SQLModel, table=True):
    """One change to one object."""

    __tablename__ = "audit"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_object", "kind", "object_id", "at"),
        Index("ix_audit_who", "who", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    who: str = Field(max_length=64)
    kind: str = Field(max_length=32)  # agent | loop | numbers | menu | organisation | …
    object_id: str = Field(max_length=128)
    action: str = Field(max_length=32)  # create | update | delete | state | member_add | …
    before: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


AUDIT = AuditRecord.__table__  # type: ignore[attr-defined]


def record(conn: Connection, *, who: str, kind: str, object_id: str, action: str,
           before: Any, after: Any, at: datetime) -> None:
    """Write one audit row in the caller's transaction."""
    conn.execute(insert(AUDIT).values(at=at, who=who, kind=kind, object_id=object_id,
                                      action=action, before=before, after=after))


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page and API filter on; None means any."""

    who: str | None = None
    kind: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    limit: int = 200


def entries(conn: Connection, f: AuditFilter) -> list[dict[str, Any]]:
    """Audit rows matching the filter, newest first."""
    q = select(AUDIT)
    if f.who:
        q = q.where(AUDIT.c.who == f.who)
    if f.kind:
        q = q.where(AUDIT.c.kind == f.kind)
    if f.object_id:
        q = q.where(AUDIT.c.object_id == f.object_id)
    if f.since is not None:
        q = q.where(AUDIT.c.at >= f.since)
    if f.until is not None:
        q = q.where(AUDIT.c.at < f.until)
    q = q.order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc()).limit(max(1, min(f.limit, 1000)))
    return [
        {"id": r.id, "at": r.at.isoformat(), "who": r.who, "kind": r.kind,
         "object_id": r.object_id, "action": r.action, "before": r.before, "after": r.after}
        for r in conn.execute(q)
    ]

"""Departments from the org file, and the look-ups a new ticket needs (department, due date)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session
from sqlmodel import select as sm_select

from routing.models import Organisation
from tickets.models import Department
from tickets.workdays import WorkCalendar, due_at, parse_deadline

DEPARTMENT = Department.__table__  # type: ignore[attr-defined]
ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]


def apply_departments(session: Session, org: Any) -> tuple[int, int, int]:
    """Make the department table match the file's `departments:`; (created, updated, removed).

    Runs inside org apply's transaction. Removed departments are kept inactive, because
    tickets point at them; applying the same file twice changes nothing.
    """
    loops_of: dict[str, list[str]] = {}
    for loop in org.loops:
        if loop.department:
            loops_of.setdefault(loop.department, []).append(loop.id)
    rows = {d.id: d for d in session.exec(sm_select(Department)).all()}
    created = updated = removed = 0
    for position, spec in enumerate(org.departments):
        values = {
            "name": spec.name, "email": spec.email, "deadline": spec.deadline,
            "escalation": spec.escalation, "members": list(spec.members),
            "loops": loops_of.get(spec.id, []), "position": position, "active": True,
        }
        row = rows.pop(spec.id, None)
        if row is None:
            session.add(Department(id=spec.id, **values))
            created += 1
            continue
        changed = False
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        updated += changed
    for row in rows.values():
        if row.active:
            row.active, row.loops = False, []
            removed += 1
    return created, updated, removed


def work_calendar(conn: Connection) -> WorkCalendar:
    """The organisation's working-day rules, as the last applied org file set them."""
    row = conn.execute(select(ORGANISATION.c.config, ORGANISATION.c.timezone)
                       .where(ORGANISATION.c.id == 1)).first()
    if row is None:
        return WorkCalendar()
    return WorkCalendar.from_config(row.config or {}, row.timezone or "Europe/Oslo")


def department_row(conn: Connection, department_id: str) -> dict | None:
    """An active department as a dict, or None."""
    row = conn.execute(select(DEPARTMENT).where(DEPARTMENT.c.id == department_id,
                                                DEPARTMENT.c.active.is_(True))).first()
    return dict(row._mapping) if row else None


def departments(conn: Connection) -> list[dict]:
    """Every active department, in the file's order."""
    rows = conn.execute(select(DEPARTMENT).where(DEPARTMENT.c.active.is_(True))
                        .order_by(DEPARTMENT.c.position)).all()
    return [dict(r._mapping) for r in rows]


def department_for_loop(conn: Connection, loop_id: str | None) -> dict | None:
    """The department whose list gets this loop's callback tickets."""
    if not loop_id:
        return None
    return next((d for d in departments(conn) if loop_id in (d["loops"] or [])), None)


def department_of_agent(conn: Connection, agent_id: str | None) -> dict | None:
    """The first department listing this agent among its people (their /tickets opens on it)."""
    if not agent_id:
        return None
    return next((d for d in departments(conn) if agent_id in (d["members"] or [])), None)


def due_for(conn: Connection, department: dict, received: datetime) -> datetime:
    """The due date of a ticket for `department` received at `received`."""
    return due_at(received, parse_deadline(department["deadline"]), work_calendar(conn))

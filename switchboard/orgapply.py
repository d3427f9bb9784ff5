"""Apply a validated organisation file to the database, all of it in one transaction."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from routing.models import Agent, Loop, MenuEntry, Organisation, PhoneNumber
from switchboard.db import session_scope
from switchboard.models import Meta
from switchboard.orgschema import Agent as FileAgent
from switchboard.orgschema import OrgFile
from tickets.departments import apply_departments
from tickets.handover import hand_over

ORG_VERSION_KEY = "org_version"
FILE_STOP_REASON = "org_file"


@dataclass
class ApplyReport:
    """What the file holds and how many rows the apply created, updated and removed."""

    agents: int
    loops: int
    numbers: int
    menu_entries: int
    created: int = 0
    updated: int = 0
    removed: int = 0
    version: int = 0

    @property
    def changes(self) -> int:
        """Rows touched in all (the version bump aside)."""
        return self.created + self.updated + self.removed

    def summary(self, source: str) -> str:
        """The one line `switchboard org apply` prints."""
        return (
            f"applied {source}: {self.agents} agents, {self.loops} loops, {self.numbers} numbers, "
            f"{self.menu_entries} menu entries (created {self.created}, updated {self.updated}, "
            f"removed {self.removed})"
        )


def org_config(org: OrgFile) -> dict[str, Any]:
    """Organisation.config: exactly the keys the IVR reads (names fixed, see the task)."""
    o = org.organisation
    return {
        "opening_hours": o.opening_hours.as_config() if o.opening_hours else None,
        "holidays": o.holidays,
        "closed_days": [d.isoformat() for d in o.closed_days],
        "special_hours": {d.isoformat(): v for d, v in o.special_hours.items()},
        "kid": org.kid.model_dump(),
        "identity": org.identity.model_dump(),
        "calendar_policy": org.calendar_policy.model_dump(),
        "prompts": {lang: dict(texts) for lang, texts in org.prompts.items()},
        "english": org.english.model_dump() if org.english else None,
        "menu_default": org.menu_default,
        "greeting_line": o.greeting_line.model_dump(),
        "working_days": org.organisation.working_days.model_dump(),
        "tickets": org.tickets.model_dump(),
    }


def file_warnings(org: OrgFile) -> list[str]:
    """What `org apply` warns about but applies anyway: calendar files that do not exist.

    A path may name a file another job writes later (an export, the demo's calendars), so it
    is no reason to refuse the file; until it exists the agent has no calendar blocks and
    presence notes `calendar_stale` (docs/org-file.md).
    """
    out = []
    for i, agent in enumerate(org.agents):
        cal = agent.calendar
        if cal is None or cal.source != "ics" or urlsplit(cal.url).scheme in ("http", "https"):
            continue
        if not Path(cal.url).is_file():
            out.append(f"agents[{i}].calendar.url: {agent.id}'s calendar file {cal.url} does "
                       "not exist; no calendar blocks for them until it does")
    return out


def _set(row: Any, values: dict[str, Any]) -> bool:
    """Assign values to row; True when anything differed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def _state(row: Agent, spec: FileAgent, is_new: bool) -> bool:
    """Write the state fields only where the file changed since it was last applied.

    The desk, admin pages and rules change logged_in/routing_stop at run time; re-applying an
    unchanged file (scripts/demo does on every start) must not undo that, while an edit to the
    file must take effect. logged_in and logout_reason go together so they never contradict.
    """
    remembered = not is_new and row.file_logged_in is not None
    values: dict[str, Any] = {}
    if not remembered or (row.file_logged_in, row.file_logout_reason) != (
        spec.logged_in, spec.logout_reason
    ):
        values |= {"logged_in": spec.logged_in, "logout_reason": spec.logout_reason}
        if not is_new:
            values["back_on"] = None  # the file's word replaces a dated logout from the desk
    if not remembered or row.file_routing_stop != spec.routing_stop:
        values |= {
            "routing_stop": spec.routing_stop,
            "stop_reason": FILE_STOP_REASON if spec.routing_stop else None,
        }
    values |= {
        "file_logged_in": spec.logged_in,
        "file_logout_reason": spec.logout_reason,
        "file_routing_stop": spec.routing_stop,
    }
    return _set(row, values)


def _apply_agents(session: Session, org: OrgFile, report: ApplyReport) -> list[Agent]:
    """Write the file's agents; the agents this apply logged out (their work is handed over)."""
    rows = {a.id: a for a in session.exec(select(Agent)).all()}
    logged_out: list[Agent] = []
    for position, spec in enumerate(org.agents):
        row = rows.pop(spec.id, None)
        is_new = row is None
        was_in = row is not None and row.logged_in
        if row is None:
            row = Agent(id=spec.id, name=spec.name, phone=spec.phone)
            session.add(row)
        changed = _set(row, {
            "name": spec.name,
            "phone": spec.phone,
            "email": spec.email,
            "roles": list(spec.roles),
            "calendar": spec.calendar.model_dump() if spec.calendar else None,
            "position": position,
            "active": True,
            "access": spec.access,
            "cover": spec.cover,
        })
        changed = _state(row, spec, is_new) or changed
        if was_in and not row.logged_in:
            logged_out.append(row)
        if is_new:
            report.created += 1
        elif changed:
            report.updated += 1
    for row in rows.values():
        # Never deleted: past calls and tickets point at them.
        if row.active:
            row.active = False
            report.removed += 1
    return logged_out


def _apply_loops(session: Session, org: OrgFile, report: ApplyReport) -> None:
    rows = {lp.id: lp for lp in session.exec(select(Loop)).all()}
    for position, spec in enumerate(org.loops):
        row = rows.pop(spec.id, None)
        is_new = row is None
        if row is None:
            row = Loop(id=spec.id, name=spec.name)
            session.add(row)
        changed = _set(row, {
            "name": spec.name,
            "name_en": spec.name_en,
            "members": list(spec.members),
            "roles": list(spec.roles),
            "strategy": spec.strategy,
            "ring_timeout": spec.ring_timeout,
            "max_wait": spec.max_wait,
            "wrap_up": spec.wrap_up,
            "overflow": spec.overflow,
            "service_level_seconds": spec.service_level_seconds,
            "position": position,
            "active": True,
        })
        if is_new:
            report.created += 1
        elif changed:
            report.updated += 1
    for row in rows.values():
        # Kept with its overflow, so callers still waiting in it move on to where it led.
        if row.active:
            row.active = False
            report.removed += 1


def _apply_table(session: Session, model: Any, key: str, wanted: dict[str, dict[str, Any]],
                 report: ApplyReport) -> None:
    """Make a small table match the file exactly: insert, update, delete by primary key."""
    rows = {getattr(r, key): r for r in session.exec(select(model)).all()}
    for ident, values in wanted.items():
        row = rows.pop(ident, None)
        if row is None:
            session.add(model(**{key: ident}, **values))
            report.created += 1
        elif _set(row, values):
            report.updated += 1
    for row in rows.values():
        session.delete(row)
        report.removed += 1


def _bump_version(session: Session) -> int:
    meta = session.get(Meta, ORG_VERSION_KEY)
    if meta is None:
        meta = Meta(key=ORG_VERSION_KEY, value=0)
        session.add(meta)
    meta.value += 1
    return meta.value


def apply_org(engine: Engine, org: OrgFile, *, now: datetime,
              session: Session | None = None) -> ApplyReport:
    """Make the database match the file in one transaction (any error: nothing changes).

    With `session`, inside that session's transaction (the admin API's edits, which lock,
    read, apply and audit in one); the caller commits.
    """
    report = ApplyReport(
        agents=len(org.agents), loops=len(org.loops), numbers=len(org.numbers),
        menu_entries=len(org.menu),
    )
    scope = session_scope(engine) if session is None else nullcontext(session)
    with scope as session:
        organisation = session.get(Organisation, 1)
        values = {
            "name": org.organisation.name,
            "name_en": org.organisation.name_en,
            "timezone": org.organisation.timezone,
            "config": org_config(org),
        }
        if organisation is None:
            organisation = Organisation(id=1, name=org.organisation.name, applied_at=now)
            _set(organisation, values)
            session.add(organisation)
            report.created += 1
        elif _set(organisation, values):
            report.updated += 1
        organisation.applied_at = now
        logged_out = _apply_agents(session, org, report)
        _apply_loops(session, org, report)
        _apply_table(session, PhoneNumber, "number", {
            n.number: {"kind": n.kind, "agent_id": n.agent} for n in org.numbers
        }, report)
        _apply_table(session, MenuEntry, "digit", {
            digit: {"loop_id": loop} for digit, loop in org.menu.items()
        }, report)
        # Departments (tickets) in the same transaction: a bad file changes none of them either.
        created, updated, removed = apply_departments(session, org)
        report.created, report.updated = report.created + created, report.updated + updated
        report.removed += removed
        # A logout written by the file (or an admin's edit through it) hands the agent's open
        # work to their cover, as a logout at the desk does (docs/tickets.md#absence-handover).
        session.flush()
        for agent in logged_out:
            hand_over(session.connection(), agent_id=agent.id, cover=None,
                      reason=agent.logout_reason, now=now)
        report.version = _bump_version(session)
    return report

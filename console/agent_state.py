"""Agents' own status (docs/admin.md): log out with a reason and a return date, routing stops.

`POST /api/agents/{id}/state` changes the run-time state in the agent's row (never the org
file's word, see switchboard.orgapply's state-field rule): an agent their own, an admin
anyone's. Presence reads the row, so the change shows at once. Every change is audited.

An agent logged out with `back_on` is logged back in on that local date once the lines open
(`due_back`, a pure function; `back_on_job` runs it every minute with the app's clock), or
when they sign in again (`on_sign_in`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from console.admin_api import is_admin, who_of
from console.audit import SYSTEM, record
from routing.hours import OpeningHours
from routing.models import Agent
from routing.snapshot import SnapshotCache
from switchboard.auth import Authenticator, Principal
from tickets import handover

AGENT = Agent.__table__  # type: ignore[attr-defined]
REASONS = ("holiday", "leave", "sick", "training", "other")
STATE_KEYS = ("logged_in", "logout_reason", "back_on", "routing_stop", "stop_reason")
JOB_EVERY = 60.0  # seconds between passes of the return-date job
log = logging.getLogger("switchboard.console")


class StateChange(BaseModel):
    """The fields a caller may send; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    logged_in: bool | None = None
    logout_reason: Literal["holiday", "leave", "sick", "training", "other"] | None = None
    back_on: date | None = None
    routing_stop: bool | None = None
    stop_reason: str | None = Field(default=None, max_length=200)
    # Who takes the agent's open tickets at this logout (else the org file's cover):
    # tickets.handover, docs/tickets.md#absence-handover.
    cover: str | None = Field(default=None, min_length=1, max_length=64)


class StateError(Exception):
    """A refused change, naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def read_state(conn: Connection, agent_id: str) -> dict[str, Any] | None:
    """The agent's state fields, or None for an unknown (or removed) agent."""
    row = conn.execute(select(*(AGENT.c[k] for k in STATE_KEYS))
                       .where(AGENT.c.id == agent_id, AGENT.c.active.is_(True))).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["back_on"] = out["back_on"].isoformat() if out["back_on"] else None
    out["logged_in"], out["routing_stop"] = bool(out["logged_in"]), bool(out["routing_stop"])
    return out


def next_state(current: dict[str, Any], change: StateChange, *, today: date) -> dict[str, Any]:
    """The state after the change, or StateError naming the field (pure)."""
    sent = change.model_fields_set
    new = dict(current)
    logged_in = change.logged_in if "logged_in" in sent else None
    if logged_in is None and "logout_reason" in sent and change.logout_reason is not None:
        logged_in = False  # a reason alone means: log me out for this
    if logged_in is True:
        if change.logout_reason is not None:
            raise StateError("logout_reason", "logout_reason is set, so logged_in must be false")
        if change.back_on is not None:
            raise StateError("back_on", "a return date is only for a logged-out agent")
        new |= {"logged_in": True, "logout_reason": None, "back_on": None}
    elif logged_in is False:
        reason = change.logout_reason or (current["logout_reason"] if not current["logged_in"]
                                          else None) or "other"
        new |= {"logged_in": False, "logout_reason": reason,
                "back_on": change.back_on.isoformat() if change.back_on else None}
    elif "back_on" in sent:
        if current["logged_in"] and change.back_on is not None:
            raise StateError("back_on", "a return date is only for a logged-out agent")
        new["back_on"] = change.back_on.isoformat() if change.back_on else None
    if change.back_on is not None and change.back_on < today:
        raise StateError("back_on", f"{change.back_on.isoformat()} is in the past")
    stop = change.routing_stop if "routing_stop" in sent else None
    if stop is True:
        new |= {"routing_stop": True,
                "stop_reason": change.stop_reason or current["stop_reason"] or "manual"}
    elif stop is False:
        if change.stop_reason:
            raise StateError("stop_reason", "a stop reason needs routing_stop true")
        new |= {"routing_stop": False, "stop_reason": None}
    elif "stop_reason" in sent:
        if not current["routing_stop"]:
            raise StateError("stop_reason", "a stop reason needs routing_stop true")
        new["stop_reason"] = change.stop_reason or "manual"
    return new


def change_state(engine: Engine, *, agent_id: str, change: StateChange, who: str,
                 now: datetime, tz: str) -> dict[str, Any]:
    """Apply and audit one state change in one transaction; the new state."""
    today = now.astimezone(ZoneInfo(tz)).date()
    with engine.begin() as conn:
        current = read_state(conn, agent_id)
        if current is None:
            raise KeyError(agent_id)
        new = next_state(current, change, today=today)
        logging_out = current["logged_in"] and not new["logged_in"]
        if change.cover is not None and not logging_out:
            raise StateError("cover", "a cover is chosen when logging out")
        try:
            handover.check_cover(conn, agent_id, change.cover)
        except handover.HandoverError as exc:
            raise StateError(exc.field, exc.message) from None
        if new != current:
            _write(conn, agent_id, new)
            record(conn, who=who, kind="agent_state", object_id=agent_id, action="state",
                   before=current, after=new, at=now)
        if logging_out:  # the open work goes to the cover in this same transaction
            handover.hand_over(conn, agent_id=agent_id, cover=change.cover,
                               reason=new["logout_reason"], now=now)
    return new


def _write(conn: Connection, agent_id: str, state: dict[str, Any]) -> None:
    values = dict(state)
    values["back_on"] = date.fromisoformat(values["back_on"]) if values["back_on"] else None
    conn.execute(update(AGENT).where(AGENT.c.id == agent_id).values(**values))


def due_back(agents: Iterable[tuple[str, bool, date | None]], *, now: datetime,
             hours: OpeningHours | None, tz: str) -> list[str]:
    """The logged-out agents whose return date has come and the lines are open (pure)."""
    if hours is not None and not hours.is_open(now):
        return []  # on the date, "at the start of opening hours": not before
    today = now.astimezone(ZoneInfo(tz)).date()
    return [a for a, logged_in, back_on in agents
            if not logged_in and back_on is not None and back_on <= today]


def log_back_in(conn: Connection, agent_id: str, *, who: str, action: str,
                now: datetime) -> None:
    """Log an agent back in (clearing reason and date), audited."""
    before = read_state(conn, agent_id)
    if before is None:
        return
    after = before | {"logged_in": True, "logout_reason": None, "back_on": None}
    _write(conn, agent_id, after)
    record(conn, who=who, kind="agent_state", object_id=agent_id, action=action,
           before=before, after=after, at=now)


def run_back_on(engine: Engine, *, now: datetime, hours: OpeningHours | None,
                tz: str) -> list[str]:
    """One pass of the return-date job: log back in whoever is due; their ids."""
    with engine.begin() as conn:
        rows = conn.execute(select(AGENT.c.id, AGENT.c.logged_in, AGENT.c.back_on).where(
            AGENT.c.active.is_(True), AGENT.c.back_on.is_not(None))).all()
        due = due_back(((r.id, bool(r.logged_in), r.back_on) for r in rows), now=now,
                       hours=hours, tz=tz)
        for agent_id in due:
            log_back_in(conn, agent_id, who=SYSTEM, action="back_on", now=now)
    return due


def on_sign_in(engine: Engine, agent_id: str, *, now: datetime) -> bool:
    """Signing in again ends a logout that has a return date; True when it did."""
    with engine.begin() as conn:
        state = read_state(conn, agent_id)
        if state is None or state["logged_in"] or state["back_on"] is None:
            return False
        log_back_in(conn, agent_id, who=agent_id, action="sign_in", now=now)
    return True


def back_on_job(engine: Engine, cache: SnapshotCache, clock: Callable[[], datetime],
                every: float = JOB_EVERY) -> Callable[[], Any]:
    """The background job (for app.state.jobs): run_back_on every `every` seconds."""
    async def job() -> None:
        while True:
            try:
                snap = cache.get()
                await asyncio.to_thread(run_back_on, engine, now=clock(), hours=snap.hours,
                                        tz=snap.timezone)
            except Exception as exc:  # keep the job alive; the next pass tries again
                log.warning("return-date pass failed (%s)", type(exc).__name__)
            await asyncio.sleep(every)
    return job


def build_router(*, engine: Engine, cache: SnapshotCache, clock: Callable[[], datetime],
                 auth: Authenticator) -> APIRouter:
    """POST /api/agents/{id}/state."""
    router = APIRouter(prefix="/api", tags=["agents"])

    @router.post("/agents/{agent_id}/state",
                 summary="Change an agent's state: their own, or anyone's for an admin")
    def post_state(agent_id: str, body: dict[str, Any] = Body(...),
                   p: Principal = Depends(auth.any_user)) -> dict[str, Any]:
        return apply_for(engine, cache, p, agent_id, body, now=clock())

    return router


def apply_for(engine: Engine, cache: SnapshotCache, p: Principal, agent_id: str,
              body: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The API's and the desk form's shared path: permission, validation, change (HTTP errors)."""
    if not (is_admin(p) or p.agent_id == agent_id):
        raise HTTPException(403, "you may change only your own state")
    try:
        change = StateChange.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "(body)"
        raise HTTPException(422, f"{field}: {err['msg']}") from None
    try:
        return change_state(engine, agent_id=agent_id, change=change, who=who_of(p), now=now,
                            tz=cache.get().timezone)
    except KeyError:
        raise HTTPException(404, f'agent "{agent_id}" does not exist') from None
    except StateError as exc:
        raise HTTPException(422, str(exc)) from None

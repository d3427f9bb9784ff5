"""Admin endpoints of the identity rules: which members are locked, and unlocking (audited)."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.engine import Engine
from sqlmodel import select

from identity import lock
from identity import schemas as s
from identity.models import AuditEntry, Member
from identity.pii import PiiHasher, PiiKeyMissing
from identity.router import RedactingRoute, _invalid, clock
from identity.rules import load_rules
from ivr.models import Call
from switchboard.auth import Authenticator, Principal
from switchboard.db import session_scope
from switchboard.settings import Settings


def build_admin_router(*, settings: Settings, engine: Engine,
                       auth: Authenticator) -> APIRouter:
    """The admin's identity routes under /api/identity."""
    router = APIRouter(prefix="/api/identity", tags=["identity admin"],
                       route_class=RedactingRoute,
                       responses={401: {"description": "No admin token or admin sign-in"},
                                  403: {"description": "Signed in, but not an admin"}})
    Admin = Annotated[Principal, Depends(auth.admin)]
    Now = Annotated[dt.datetime, Depends(clock)]

    @router.get("/locks", summary="Members whose verification is locked now")
    def locks(who: Admin, now: Now) -> dict[str, Any]:
        """Each locked member with the failures in the window and when the lock lifts."""
        with session_scope(engine) as session:
            rules = load_rules(session)
            out = []
            for member_id, count, last in lock.locked_members(session, rules=rules, now=now):
                member = session.get(Member, member_id)
                if member is None:
                    continue
                first_to_expire = _oldest_counting(session, member_id, rules, now) or last
                out.append({"member_id": member_id, "membership_number":
                            member.membership_number, "name": member.name, "failures": count,
                            "unlocks_at": (first_to_expire + dt.timedelta(
                                hours=rules.lock_window_hours)).isoformat()})
        return {"lock_failures": rules.lock_failures,
                "lock_window_hours": rules.lock_window_hours, "locked": out}

    @router.post("/unlock", summary="Unlock a member, or a call and its calling number",
                 responses={404: {"description": "No such member or call"},
                            422: {"description": "Give exactly one of the two fields"},
                            503: {"description": "SWITCHBOARD_PII_KEY is not set"}})
    def unlock(body: s.UnlockBody, who: Admin, now: Now) -> dict[str, Any]:
        """Clears the failures that count towards the lock (they stay on record). Audited."""
        if (body.membership_number is None) == (body.call_sid is None):
            raise _invalid("membership_number", "give either membership_number or call_sid")
        with session_scope(engine) as session:
            member_id = caller = None
            if body.membership_number is not None:
                member = session.exec(select(Member).where(
                    Member.membership_number == body.membership_number)).first()
                if member is None:
                    raise HTTPException(404, "no member with that membership number")
                member_id = member.id
                cleared = lock.unlock(session, now=now, member_id=member_id)
            else:
                call = session.get(Call, body.call_sid)
                if call is None:
                    raise HTTPException(404, "no such call")
                try:
                    caller = lock.caller_hash(PiiHasher.from_settings(settings),
                                              call.from_number)
                except PiiKeyMissing as exc:
                    raise HTTPException(503, str(exc)) from None
                cleared = lock.unlock(session, now=now, call_sid=body.call_sid, caller=caller)
            session.add(AuditEntry(at=now, agent_id=who.agent_id, call_sid=body.call_sid,
                                   script=None, action="unlock", factors=[],
                                   outcome="ok", member_id=member_id, note="admin"))
        return {"cleared": cleared, "membership_number": body.membership_number,
                "call_sid": body.call_sid}

    return router


def _oldest_counting(session: Any, member_id: int, rules: Any,
                     now: dt.datetime) -> dt.datetime | None:
    """The oldest failure still counting: once it leaves the window, the count drops."""
    from sqlmodel import col

    from identity.models import IdentityFailure

    since = now - dt.timedelta(hours=rules.lock_window_hours)
    stmt = (select(IdentityFailure.at)
            .where(IdentityFailure.member_id == member_id,
                   col(IdentityFailure.cleared_at).is_(None), col(IdentityFailure.at) > since)
            .order_by(col(IdentityFailure.at)))
    return session.exec(stmt).first()

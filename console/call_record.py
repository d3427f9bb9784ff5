"""The call record, `/calls/{call_sid}` (docs/desk.md): one view of everything a call went
through, read from what the IVR (call), routing (offers), identity (its audit, factor names
only) and tickets already store. An agent sees the calls they answered; an admin sees all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from starlette.responses import Response

from console import desk_panel_texts  # noqa: F401 - the words it shares with the panel
from console.calls import format_number
from console.desk_callctx import PanelDeps
from console.i18n import register
from console.web import render
from identity.models import AuditEntry
from ivr.models import Call
from routing.models import Agent
from routing.snapshot import OrgSnapshot, SnapshotCache
from routing.state import OFFER
from switchboard.auth import Authenticator, Principal
from tickets.models import Department, Ticket

CALL = Call.__table__  # type: ignore[attr-defined]
AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]
TICKET = Ticket.__table__  # type: ignore[attr-defined]
DEPARTMENT = Department.__table__  # type: ignore[attr-defined]
AGENT = Agent.__table__  # type: ignore[attr-defined]

register({
    "nb": {
        "cr.title": "Samtalelogg",
        "cr.started": "Startet",
        "cr.ended": "Avsluttet",
        "cr.ongoing": "pågår",
        "cr.line": "Linje",
        "cr.menu": "Menyvalg",
        "cr.loops": "Sløyfer",
        "cr.rung": "Hvem det ringte hos",
        "cr.agent": "Agent",
        "cr.rang_at": "Ringte",
        "cr.result": "Utfall",
        "cr.offer.ringing": "ringer", "cr.offer.on_call": "i samtale",
        "cr.offer.released": "svarte ikke / sluppet", "cr.offer.ended": "besvart",
        "cr.offer.expired": "utløpt",
        "cr.answered_by": "Besvart av",
        "cr.nobody": "ingen",
        "cr.wait": "Ventetid",
        "cr.seconds": "{n} s",
        "cr.level": "Verifisering nådd",
        "cr.steps": "Identitetssteg",
        "cr.fixed": "Rettet",
        "cr.none": "ingen",
        "cr.tickets": "Saker",
        "cr.outcome": "Utfall",
    },
    "en": {
        "cr.title": "Call record",
        "cr.started": "Started",
        "cr.ended": "Ended",
        "cr.ongoing": "ongoing",
        "cr.line": "Line",
        "cr.menu": "Menu choice",
        "cr.loops": "Loops",
        "cr.rung": "Who was rung",
        "cr.agent": "Agent",
        "cr.rang_at": "Rang",
        "cr.result": "Result",
        "cr.offer.ringing": "ringing", "cr.offer.on_call": "on the call",
        "cr.offer.released": "not answered / released", "cr.offer.ended": "answered",
        "cr.offer.expired": "expired",
        "cr.answered_by": "Answered by",
        "cr.nobody": "nobody",
        "cr.wait": "Wait",
        "cr.seconds": "{n} s",
        "cr.level": "Verification reached",
        "cr.steps": "Identity steps",
        "cr.fixed": "Fixed",
        "cr.none": "none",
        "cr.tickets": "Tickets",
        "cr.outcome": "Outcome",
    },
})
FIX_ACTIONS = {"fix_phone": "dc.what.phone", "fix_email": "dc.what.email",
               "fix_address": "dc.what.address", "fix_national_id": "dc.what.national_id",
               "confirm_national_id": "dc.what.national_id"}


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def menu_choice(snap: OrgSnapshot, loop_id: str | None, lang: str) -> str | None:
    """The digit that leads to the call's first loop (the caller's menu choice)."""
    if loop_id is None:
        return None
    if lang == "en" and snap.english and snap.english[1] == loop_id:
        return snap.english[0]
    return next((d for d, target in snap.menu.items() if target == loop_id), None)


def call_record(conn: Any, snap: OrgSnapshot, call_sid: str, user: Principal) -> dict[str, Any]:
    """Everything about one call the user may see (404 none, 403 another agent's call)."""
    call = conn.execute(select(CALL).where(CALL.c.call_sid == call_sid)).first()
    if call is None:
        raise HTTPException(404, "no such call")
    if not user.is_admin and call.answered_by != user.agent_id:
        raise HTTPException(403, "this call was answered by another agent")
    tz = ZoneInfo(snap.timezone)
    names = dict(conn.execute(select(AGENT.c.id, AGENT.c.name)).all())

    def local(value: datetime | None) -> str | None:
        aware = _aware(value)
        return aware.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if aware else None

    loops = [p[0] for p in (call.loop_path or []) if p and p[0] != "voicemail"]
    first_loop = loops[0] if loops else call.loop_id
    offers = [{"agent": names.get(o.agent_id, o.agent_id), "at": local(o.created_at),
               "state": o.state, "answered_at": local(o.answered_at)}
              for o in conn.execute(select(OFFER).where(OFFER.c.call_sid == call_sid)
                                    .order_by(OFFER.c.created_at, OFFER.c.id)).all()]
    started, answered = _aware(call.started_at), _aware(call.answered_at)
    end = answered or _aware(call.ended_at)
    audit = conn.execute(select(AUDIT).where(AUDIT.c.call_sid == call_sid)
                         .order_by(AUDIT.c.at, AUDIT.c.id)).all()
    steps = [{"at": local(a.at), "agent": a.agent_id, "script": a.script, "action": a.action,
              "factors": ", ".join(a.factors or []), "outcome": a.outcome} for a in audit]
    fixed = [{"at": local(a.at), "what": FIX_ACTIONS[a.action], "agent": a.agent_id}
             for a in audit if a.action in FIX_ACTIONS and a.outcome == "ok"]
    depts = dict(conn.execute(select(DEPARTMENT.c.id, DEPARTMENT.c.name)).all())
    tickets = [{"id": t.id, "department": depts.get(t.department_id, t.department_id),
                "category": t.category, "status": t.status, "kind": t.kind}
               for t in conn.execute(select(TICKET).where(TICKET.c.call_sid == call_sid)
                                     .order_by(TICKET.c.id)).all()]
    number, withheld = format_number(call.from_number)
    return {
        "call_sid": call.call_sid, "number": number, "withheld": withheld,
        "line": "direct" if call.kind == "direct" else "switchboard", "lang": call.lang,
        "started": local(call.started_at), "ended": local(call.ended_at),
        "menu_choice": menu_choice(snap, first_loop, call.lang),
        "loops": [snap.loops[i].name if i in snap.loops else i for i in loops],
        "offers": offers,
        "answered_by": names.get(call.answered_by, call.answered_by) if call.answered_by else None,
        "wait": int((end - started).total_seconds()) if end and started else None,
        "outcome": call.outcome, "level": call.verification or "none",
        "steps": steps, "fixed": fixed, "tickets": tickets,
    }


def build_router(*, deps: PanelDeps, cache: SnapshotCache, auth: Authenticator) -> APIRouter:
    """The call record page."""
    router = APIRouter(include_in_schema=False)

    @router.get("/calls/{call_sid}")
    def record(call_sid: str, request: Request,
               user: Principal = Depends(auth.page_user)) -> Response:
        with deps.engine.connect() as conn:
            data = call_record(conn, cache.get(), call_sid, user)
        return render(request, "call_record.html", {"rec": data})

    return router

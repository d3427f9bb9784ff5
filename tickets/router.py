"""The ticket JSON API (docs/tickets.md): thin routes over tickets.service."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from switchboard.auth import Authenticator, Principal
from switchboard.settings import Settings
from tickets import claims, promises, service
from tickets.departments import department_row, departments, work_calendar
from tickets.mail import MailSender
from tickets.models import STATUSES
from tickets.schemas import TicketCreate, TicketPatch


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class TicketContext:
    """What the ticket routes, pages and jobs share; tests move `clock`."""

    engine: Engine
    settings: Settings
    clock: Any = field(default=_utcnow)
    sender: MailSender | None = None

    @property
    def public_url(self) -> str:
        """Where mails link to."""
        return self.settings.public_base


def actor_of(p: Principal) -> str:
    """The name a principal leaves on a ticket's timeline."""
    return p.agent_id if p.kind == "agent" and p.agent_id else p.kind


def field_error(field_name: str, message: str, *, status: int = 422,
                where: str = "body") -> JSONResponse:
    """An error in FastAPI's validation shape, naming the field."""
    return JSONResponse({"detail": [{"loc": [where, field_name], "msg": message,
                                     "type": "value_error"}]}, status_code=status)


def parse_if_match(value: str | None) -> int | None:
    """The version in `If-Match: 3`, `"3"` or `W/"3"`; None when absent or not a version."""
    if value is None:
        return None
    m = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', value)
    return int(m.group(1)) if m else None


def _etag(ticket: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{ticket["version"]}"'}


def build_router(ctx: TicketContext, auth: Authenticator) -> APIRouter:
    """The /api/tickets routes."""
    router = APIRouter(prefix="/api/tickets", tags=["tickets"])

    @router.post("", status_code=201, summary="A message to a department; mails its inbox")
    def create(body: TicketCreate, p: Principal = Depends(auth.any_user)) -> JSONResponse:
        now = ctx.clock()
        try:
            with ctx.engine.begin() as conn:
                ticket = service.create_ticket(conn, data=body, actor=actor_of(p),
                                               agent_id=p.agent_id, now=now,
                                               public_url=ctx.public_url)
                out = service.public(ticket, now=now, conn=conn)
        except service.TicketError as exc:
            return field_error(exc.field, exc.message)
        return JSONResponse(out, status_code=201, headers={
            **_etag(ticket), "Location": f"/api/tickets/{ticket['id']}"})

    @router.get("", summary="Tickets by department, status and owner; soonest due first")
    def list_(request: Request, department: str | None = None, status: str | None = None,
              owner: str | None = None, unassigned: bool = False, include_done: bool = False,
              call_sid: str | None = None,
              limit: int = Query(200, ge=1, le=service.MAX_LIST),
              _: Principal = Depends(auth.any_user)) -> Any:
        if status and status not in STATUSES:
            return field_error("status", f"use one of: {', '.join(STATUSES)}", where="query")
        now = ctx.clock()
        with ctx.engine.connect() as conn:
            if department and department_row(conn, department) is None:
                return field_error("department", f'department "{department}" does not exist',
                                   where="query")
            rows = service.list_tickets(conn, department=department or None,
                                        status=status or None, owner=owner or None,
                                        unassigned=unassigned, include_done=include_done,
                                        call_sid=call_sid or None, limit=limit)
            cal = work_calendar(conn)
            return [service.public(t, now=now, conn=conn, cal=cal) for t in rows]

    @router.get("/{ticket_id}", summary="One ticket with its history")
    def get(ticket_id: int, _: Principal = Depends(auth.any_user)) -> JSONResponse:
        now = ctx.clock()
        with ctx.engine.connect() as conn:
            try:
                ticket = service.get_ticket(conn, ticket_id)
            except service.TicketNotFound:
                return JSONResponse({"detail": "no such ticket"}, status_code=404)
            out = service.public(ticket, now=now, conn=conn)
            out["history"] = [service.public_event(e) for e in service.history(conn, ticket_id)]
            out["promises"] = [promises.public(x) for x in promises.for_ticket(conn, ticket_id)]
        return JSONResponse(out, headers=_etag(ticket))

    @router.patch("/{ticket_id}", summary="Take, note, change status; needs If-Match: <version>")
    def patch(ticket_id: int, body: TicketPatch, p: Principal = Depends(auth.any_user),
              if_match: str | None = Header(None)) -> JSONResponse:
        version = parse_if_match(if_match)
        if version is None:
            return field_error("If-Match", "send the version you read: If-Match: <version>",
                               status=428, where="header")
        now = ctx.clock()
        try:
            with ctx.engine.begin() as conn:
                ticket = service.update_ticket(conn, ticket_id=ticket_id,
                                               expected_version=version, changes=body,
                                               actor=actor_of(p), now=now,
                                               public_url=ctx.public_url)
                out = service.public(ticket, now=now, conn=conn)
        except service.TicketNotFound:
            return JSONResponse({"detail": "no such ticket"}, status_code=404)
        except service.TicketError as exc:
            return field_error(exc.field, exc.message)
        except service.StaleTicket as exc:
            with ctx.engine.connect() as conn:
                current = service.public(exc.current, now=now, conn=conn)
            return JSONResponse({"detail": "the ticket has changed since you read it",
                                 "current": current}, status_code=412,
                                headers=_etag(exc.current))
        return JSONResponse(out, headers=_etag(ticket))

    @router.post("/{ticket_id}/promise", status_code=201,
                 summary="A promise: a new date and a note; makes a phone task (tickets.promises)")
    def promise(ticket_id: int, body: dict[str, Any] = Body(...),
                p: Principal = Depends(auth.any_user)) -> JSONResponse:
        if p.kind != "agent" or not p.agent_id:
            return JSONResponse({"detail": "only an agent can make a promise"}, status_code=403)
        now = ctx.clock()
        try:
            with ctx.engine.begin() as conn:
                made = promises.record(conn, ticket_id=ticket_id, agent_id=p.agent_id,
                                       promised_by=body.get("promised_by"),
                                       note=body.get("note"), now=now)
        except service.TicketNotFound:
            return JSONResponse({"detail": "no such ticket"}, status_code=404)
        except service.TicketError as exc:
            return field_error(exc.field, exc.message)
        return JSONResponse(promises.public(made), status_code=201)

    # Claims and callback outcomes (tickets.claims): 409 when someone else has the ticket.
    @router.post("/{ticket_id}/claim", summary="Take an open, unowned ticket; 409 if taken")
    def claim(ticket_id: int, p: Principal = Depends(auth.any_user)) -> JSONResponse:
        return _claims_call(ticket_id, p, lambda conn, now: claims.claim(
            conn, ticket_id=ticket_id, agent_id=p.agent_id or "", now=now))

    @router.post("/{ticket_id}/callback-outcome",
                 summary="Close a callback: reached, no_answer (counted) or wrong_number")
    def outcome(ticket_id: int, body: dict[str, Any] = Body(...),
                p: Principal = Depends(auth.any_user)) -> JSONResponse:
        return _claims_call(ticket_id, p, lambda conn, now: claims.record_outcome(
            conn, ticket_id=ticket_id, agent_id=p.agent_id or "",
            outcome=str(body.get("outcome")), now=now, public_url=ctx.public_url))

    def _claims_call(ticket_id: int, p: Principal, act: Any) -> JSONResponse:
        if p.kind != "agent" or not p.agent_id:
            return JSONResponse({"detail": "only an agent can claim or call back"},
                                status_code=403)
        now = ctx.clock()
        try:
            with ctx.engine.begin() as conn:
                ticket = act(conn, now)
                out = service.public(ticket, now=now, conn=conn)
        except service.TicketNotFound:
            return JSONResponse({"detail": "no such ticket"}, status_code=404)
        except service.TicketError as exc:
            return field_error(exc.field, exc.message)
        except claims.ClaimTaken as exc:
            return JSONResponse({"detail": "someone else has this ticket, or it is closed",
                                 "owner": exc.ticket["owner"],
                                 "status": exc.ticket["status"]}, status_code=409)
        return JSONResponse(out, headers=_etag(ticket))

    return router


def build_departments_router(ctx: TicketContext, auth: Authenticator) -> APIRouter:
    """GET /api/departments: where tickets can go (for the desk's ticket form)."""
    router = APIRouter(prefix="/api/departments", tags=["tickets"])

    @router.get("", summary="The departments, their deadlines and people")
    def list_departments(_: Principal = Depends(auth.any_user)) -> list[dict[str, Any]]:
        with ctx.engine.connect() as conn:
            return [{"id": d["id"], "name": d["name"], "email": d["email"],
                     "deadline": d["deadline"], "escalation": d["escalation"],
                     "members": d["members"], "loops": d["loops"]}
                    for d in departments(conn)]

    return router

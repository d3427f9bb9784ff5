"""The handover panel on the desk and its API (tickets.handover, docs/tickets.md).

`GET /handover/panel` is the partial the desk loads (console/templates/handover_panel.html):
handovers waiting for my confirmation ("Bekreft mottak"), and, back from an absence, what I
handed over with a button per item and one for all. The same actions as JSON under
`/api/handovers`.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console.i18n import register
from console.web import render
from switchboard.auth import Authenticator, Principal
from tickets import handover
from tickets.departments import work_calendar
from tickets.router import TicketContext

register({
    "nb": {
        "state.cover": "Stedfortreder (får dine åpne saker)",
        "state.cover_none": "Ingen: tilbake til avdelingens liste",
        "ho.title": "Overleveringer", "ho.incoming": "{name} har overlevert {n} saker til deg",
        "ho.confirm": "Bekreft mottak", "ho.escalated": "Ikke bekreftet i tide: meldt videre",
        "ho.mine": "Overlevert mens du var borte ({when})", "ho.to": "til {name}",
        "ho.to_list": "til avdelingens liste", "ho.take": "Ta tilbake sak #{id}",
        "ho.take_all": "Ta tilbake alle", "tk.kind.letter": "Brev", "tk.kind.email": "E-post",
        "ev.handover": "Overlevert: {old} → {new}", "ev.attempt": "Forsøk {new}: ikke svar",
        "ev.outcome": "Utfall: {new}", "ev.task": "Ny oppgave: sak #{new}",
        "ev.handover_escalated": "Overlevering ikke bekreftet: meldt videre",
        "tk.claim": "Ta tilbakeringingen", "tk.outcome": "Utfall av samtalen",
        "tk.outcome.reached": "Nådd", "tk.outcome.no_answer": "Ikke svar (prøv igjen)",
        "tk.outcome.wrong_number": "Feil nummer", "tk.outcome.unreachable": "Ikke nådd",
        "tk.record_outcome": "Registrer utfall", "tk.attempts": "Forsøk",
        "tk.callbacks_waiting": "Tilbakeringinger som venter: {n}",
        "tk.claimed_by_other": "Noen andre har allerede tatt denne.",
    },
    "en": {
        "state.cover": "Cover (gets your open tickets)",
        "state.cover_none": "Nobody: back to the department's list",
        "ho.title": "Handovers", "ho.incoming": "{name} handed {n} tickets over to you",
        "ho.confirm": "Confirm receipt", "ho.escalated": "Not confirmed in time: escalated",
        "ho.mine": "Handed over while you were away ({when})", "ho.to": "to {name}",
        "ho.to_list": "to the department's list", "ho.take": "Take ticket #{id} back",
        "ho.take_all": "Take all back", "tk.kind.letter": "Letter", "tk.kind.email": "E-mail",
        "ev.handover": "Handed over: {old} → {new}", "ev.attempt": "Attempt {new}: no answer",
        "ev.outcome": "Outcome: {new}", "ev.task": "New task: ticket #{new}",
        "ev.handover_escalated": "Handover not confirmed: escalated",
        "tk.claim": "Claim this callback", "tk.outcome": "How the call went",
        "tk.outcome.reached": "Reached", "tk.outcome.no_answer": "No answer (try again)",
        "tk.outcome.wrong_number": "Wrong number", "tk.outcome.unreachable": "Not reached",
        "tk.record_outcome": "Record outcome", "tk.attempts": "Attempts",
        "tk.callbacks_waiting": "Callbacks waiting: {n}",
        "tk.claimed_by_other": "Someone else has already taken this one.",
    },
})


def _desk(ctx: TicketContext, agent_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        view = handover.for_desk(conn, agent_id)
        zone: ZoneInfo = work_calendar(conn).zone
    for h in view["incoming"] + view["mine"]:
        h["at_local"] = h["at"].astimezone(zone).strftime("%d.%m.%Y %H:%M")
    return view


def _act(ctx: TicketContext, fn: Any, **kw: Any) -> Any:
    with ctx.engine.begin() as conn:
        return fn(conn, now=ctx.clock(), **kw)


def _http(exc: handover.HandoverError) -> HTTPException:
    if exc.forbidden:
        return HTTPException(403, exc.message)
    return HTTPException(404 if exc.field == "handover" else 422, f"{exc.field}: {exc.message}")


def build_router(ctx: TicketContext, auth: Authenticator) -> APIRouter:
    """The desk's handover panel and /api/handovers."""
    router = APIRouter()

    @router.get("/handover/panel", include_in_schema=False)
    def panel(request: Request, user: Principal = Depends(auth.page_user)) -> Response:
        return render(request, "handover_panel.html", {"ho": _desk(ctx, user.agent_id or "")})

    @router.post("/handover/{handover_id}/confirm", include_in_schema=False)
    async def confirm_form(handover_id: int,
                           user: Principal = Depends(auth.page_user)) -> Response:
        try:
            await run_in_threadpool(_act, ctx, handover.confirm, handover_id=handover_id,
                                    agent_id=user.agent_id or "")
        except handover.HandoverError as exc:
            raise _http(exc) from None
        return RedirectResponse("/desk", status_code=303)

    @router.post("/handover/{handover_id}/take-back", include_in_schema=False)
    async def take_back_form(request: Request, handover_id: int,
                             user: Principal = Depends(auth.page_user)) -> Response:
        form = await request.form()
        raw = form.get("ticket_id")
        ticket_id = int(raw) if isinstance(raw, str) and raw.isdigit() else None
        try:
            await run_in_threadpool(_act, ctx, handover.take_back, handover_id=handover_id,
                                    agent_id=user.agent_id or "", ticket_id=ticket_id)
        except handover.HandoverError as exc:
            raise _http(exc) from None
        return RedirectResponse("/desk", status_code=303)

    @router.get("/api/handovers", tags=["tickets"],
                summary="My handovers: waiting for my confirmation, and mine to take back")
    def mine(p: Principal = Depends(auth.any_user)) -> JSONResponse:
        view = _desk(ctx, p.agent_id or "")
        return JSONResponse({k: [{kk: (vv.isoformat() if hasattr(vv, "isoformat") else vv)
                                  for kk, vv in h.items()} for h in v]
                             for k, v in view.items()})

    @router.post("/api/handovers/{handover_id}/confirm", tags=["tickets"],
                 summary="The cover confirms receipt of a handover")
    def confirm_api(handover_id: int, p: Principal = Depends(auth.any_user)) -> dict[str, Any]:
        try:
            fresh = _act(ctx, handover.confirm, handover_id=handover_id,
                         agent_id=p.agent_id or "")
        except handover.HandoverError as exc:
            raise _http(exc) from None
        return {"id": handover_id, "confirmed": True, "confirmed_now": fresh}

    @router.post("/api/handovers/{handover_id}/take-back", tags=["tickets"],
                 summary="Take handed-over tickets back: one (ticket_id) or all")
    def take_back_api(handover_id: int, body: dict[str, Any] = Body(default={}),
                      p: Principal = Depends(auth.any_user)) -> dict[str, Any]:
        ticket_id = body.get("ticket_id")
        if ticket_id is not None and not isinstance(ticket_id, int):
            raise HTTPException(422, "ticket_id: a ticket number, or leave it out for all")
        try:
            taken = _act(ctx, handover.take_back, handover_id=handover_id,
                         agent_id=p.agent_id or "", ticket_id=ticket_id)
        except handover.HandoverError as exc:
            raise _http(exc) from None
        return {"id": handover_id, "taken": taken}

    return router

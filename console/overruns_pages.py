"""The team lead's overruns page (/reports/overruns, and .csv) and the ticket page's promise form.

Overruns are counted per agent over a period (tickets.overruns): counts and dates, no member
data. Admins see it, and so does an agent whose work address is a department's `escalation`
contact (docs/tickets.md#overruns).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console.i18n import register
from console.tickets_pages import ticket_view
from console.web import lang_of, render
from routing.models import Agent
from switchboard.auth import Authenticator, Principal
from tickets import promises, service
from tickets.departments import departments, work_calendar
from tickets.overruns import KINDS, MAX_DAYS, overruns
from tickets.router import TicketContext

AGENT = Agent.__table__  # type: ignore[attr-defined]
DEFAULT_DAYS = 30

register({
    "nb": {
        "ov.title": "Overskridelser", "ov.from": "Fra", "ov.to": "Til", "ov.show": "Vis",
        "ov.csv": "Last ned som CSV", "ov.agent": "Agent", "ov.nobody": "Ingen eier",
        "ov.late_done": "Ferdig etter fristen", "ov.late_promises": "Løfte gitt for sent",
        "ov.missed_promises": "Brutte løfter", "ov.escalations": "Eskaleringer",
        "ov.total": "Sum", "ov.dates": "Datoer", "ov.none": "Ingen overskridelser i perioden.",
        "ov.intro": "Tall og datoer per agent, uten medlemsopplysninger.",
        "ov.bad_date": "{field}: «{value}» er ikke en dato (ÅÅÅÅ-MM-DD).",
        "ov.bad_range": "Til: må være samme dag som Fra eller senere, og høyst {days} dager.",
        "pr.title": "Løfte til medlemmet", "pr.promised_by": "Ny dato",
        "pr.note": "Hva er lovet", "pr.make": "Registrer løfte",
        "pr.by": "lovet {date} av {agent}", "pr.late": "Gitt etter fristen",
        "pr.missed": "Brutt", "pr.phone_task": "ringeoppgave #{id}", "pr.listed": "Lovet {date}",
        "pr.help": "Når fristen ikke kan holdes: gi en konkret ny dato. Det lages en "
                   "ringeoppgave for å gi medlemmet beskjed før fristen.",
        "tk.escalated": "Eskalert {date}",
        "tk.kind.phone_task": "Ringeoppgave",
        "ev.promise": "Løfte: ny dato {new}", "ev.promise_late": "Løftet ble gitt etter fristen",
        "ev.phone_task": "Ringeoppgave #{new} laget",
        "ev.escalated": "Eskalert ({cause}) til {note}",
        "cause.untouched": "ingen har rørt den", "cause.overdue": "fristen er ute",
        "cause.promise": "løftet er brutt",
    },
    "en": {
        "ov.title": "Overruns", "ov.from": "From", "ov.to": "To", "ov.show": "Show",
        "ov.csv": "Download as CSV", "ov.agent": "Agent", "ov.nobody": "No owner",
        "ov.late_done": "Done after the deadline", "ov.late_promises": "Promise made late",
        "ov.missed_promises": "Promises missed", "ov.escalations": "Escalations",
        "ov.total": "Total", "ov.dates": "Dates", "ov.none": "No overruns in the period.",
        "ov.intro": "Counts and dates per agent, with no member data.",
        "ov.bad_date": "{field}: \"{value}\" is not a date (YYYY-MM-DD).",
        "ov.bad_range": "To: must be on or after From, and at most {days} days.",
        "pr.title": "Promise to the member", "pr.promised_by": "New date",
        "pr.note": "What was promised", "pr.make": "Record promise",
        "pr.by": "promised {date} by {agent}", "pr.late": "Made after the deadline",
        "pr.missed": "Missed", "pr.phone_task": "phone task #{id}", "pr.listed": "Promised {date}",
        "pr.help": "When the deadline cannot be kept: give a concrete new date. A phone task "
                   "is made to tell the member before the deadline.",
        "tk.escalated": "Escalated {date}",
        "tk.kind.phone_task": "Phone task",
        "ev.promise": "Promise: new date {new}", "ev.promise_late": "The promise came after "
        "the deadline", "ev.phone_task": "Phone task #{new} made",
        "ev.escalated": "Escalated ({cause}) to {note}",
        "cause.untouched": "nobody touched it", "cause.overdue": "overdue",
        "cause.promise": "promise missed",
    },
})


def may_see(ctx: TicketContext, user: Principal) -> bool:
    """Admins, and agents whose work address is a department's escalation contact."""
    if user.is_admin:
        return True
    with ctx.engine.connect() as conn:
        email = conn.execute(select(AGENT.c.email).where(AGENT.c.id == user.agent_id)).scalar()
        contacts = {(d["escalation"] or "").lower() for d in departments(conn)}
    return email is not None and email.lower() in contacts


def _period(raw_from: str | None, raw_to: str | None,
            today: date) -> tuple[date, date, str | None, dict[str, Any]]:
    """(start, end, problem key, its values): the last 30 days by default."""
    end, start = today, today - timedelta(days=DEFAULT_DAYS - 1)
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if not raw:
            continue
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            return start, end, "ov.bad_date", {"field": name, "value": raw[:20]}
        if name == "from":
            start = value
        else:
            end = value
    if end < start or (end - start).days >= MAX_DAYS:
        return start, end, "ov.bad_range", {"days": MAX_DAYS}
    return start, end, None, {}


def report(ctx: TicketContext, raw_from: str | None,
           raw_to: str | None) -> dict[str, Any]:
    """The page's context: the period, any problem with it, and the rows."""
    with ctx.engine.connect() as conn:
        zone = work_calendar(conn).zone
        today = ctx.clock().astimezone(zone).date()
        start, end, problem, values = _period(raw_from, raw_to, today)
        rows = [] if problem else overruns(conn, start=start, end=end, zone=zone)
        names = {r.id: r.name for r in conn.execute(select(AGENT.c.id, AGENT.c.name))}
    for r in rows:
        r["name"] = names.get(r["agent"], r["agent"]) if r["agent"] else None
    return {"start": start, "end": end, "problem": problem, "problem_values": values,
            "rows": rows, "kinds": KINDS, "raw_from": raw_from or start.isoformat(),
            "raw_to": raw_to or end.isoformat()}


def to_csv(view: dict[str, Any]) -> str:
    """The same rows as CSV: agent, each kind's count and its dates (ISO, space-separated)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["agent", *KINDS, "total", *(f"{k}_dates" for k in KINDS)])
    for r in view["rows"]:
        w.writerow([r["agent"] or "", *(r[k] for k in KINDS), r["total"],
                    *(" ".join(d.isoformat() for d in r[f"{k}_dates"]) for k in KINDS)])
    return out.getvalue()


def build_router(ctx: TicketContext, auth: Authenticator) -> APIRouter:
    """GET /reports/overruns, GET /reports/overruns.csv, POST /tickets/{id}/promise."""
    router = APIRouter(include_in_schema=False)

    def page_lead(user: Principal = Depends(auth.page_user)) -> Principal:
        """A signed-in team lead (an admin or an escalation contact), else 403: one dependency."""
        if not may_see(ctx, user):
            raise HTTPException(403, "only admins and escalation contacts may open this page")
        return user

    # For the boundary test (tests/console/test_auth_boundary.py): an ordinary agent gets 403.
    page_lead.boundary_level = "page-admin"  # type: ignore[attr-defined]

    @router.get("/reports/overruns")
    def overruns_page(request: Request, _: Principal = Depends(page_lead)) -> Response:
        q = request.query_params
        view = report(ctx, q.get("from"), q.get("to"))
        return render(request, "overruns.html", view,
                      status_code=422 if view["problem"] else 200)

    @router.get("/reports/overruns.csv")
    def overruns_csv(request: Request, _: Principal = Depends(page_lead)) -> Response:
        q = request.query_params
        view = report(ctx, q.get("from"), q.get("to"))
        if view["problem"]:
            return Response(f"{view['problem']}: {view['problem_values']}\n", status_code=422,
                            media_type="text/plain; charset=utf-8")
        name = f"overruns-{view['start']}-{view['end']}.csv"
        return Response(to_csv(view), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.post("/tickets/{ticket_id}/promise")
    async def promise_post(request: Request, ticket_id: int,
                           user: Principal = Depends(auth.page_user)) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            await run_in_threadpool(_record, ctx, ticket_id, user, form)
        except service.TicketNotFound:
            raise HTTPException(404, "no such ticket") from None
        except service.TicketError as exc:
            view = ticket_view(ctx, ticket_id, lang=lang_of(request))
            view |= {"problem": "invalid", "problem_detail": f"{exc.field}: {exc.message}",
                     "promise_form": form}
            return render(request, "tickets_ticket.html", view, status_code=422)
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)

    return router


def _record(ctx: TicketContext, ticket_id: int, user: Principal, form: dict[str, str]) -> None:
    with ctx.engine.begin() as conn:
        promises.record(conn, ticket_id=ticket_id, agent_id=user.agent_id or "",
                        promised_by=form.get("promised_by"), note=form.get("note"),
                        now=ctx.clock())

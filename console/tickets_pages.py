"""The ticket pages: /tickets (lists by department, status and owner) and /tickets/{id}.

Routes load, call tickets.service, render. Forms post back to /tickets/{id} with the version
the page showed, so a stale write is refused (the page comes back with the current ticket and
the agent's note kept in its field).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console.i18n import register
from console.web import lang_of, render
from identity.models import Member
from routing.models import Agent
from switchboard.auth import Authenticator, Principal
from tickets import daily, promises, service
from tickets.departments import department_of_agent, departments, work_calendar
from tickets.models import STATUSES
from tickets.router import TicketContext
from tickets.schemas import TicketPatch
from tickets.workdays import WorkCalendar, time_left

register({
    "nb": {
        "tk.title": "Saker", "tk.department": "Avdeling", "tk.all_departments": "Alle avdelinger",
        "tk.status": "Status", "tk.not_done": "Alle som ikke er ferdige", "tk.all": "Alle",
        "tk.owner": "Eier", "tk.anyone": "Alle", "tk.mine": "Mine", "tk.unassigned": "Ufordelt",
        "tk.show": "Vis", "tk.none": "Ingen saker her.", "tk.number": "Sak",
        "tk.kind": "Type", "tk.category": "Kategori", "tk.due": "Frist", "tk.left": "Tid igjen",
        "tk.caller": "Innringer", "tk.recording": "Opptak", "tk.listen": "Hør opptaket",
        "tk.kind.callback": "Tilbakeringing", "tk.kind.message": "Melding",
        "st.open": "Åpen", "st.in_progress": "Under arbeid", "st.waiting": "Venter",
        "st.done": "Ferdig", "tk.unowned": "Ingen",
        "fu.we_call": "Vi ringer", "fu.caller_calls": "Innringer ringer igjen",
        "fu.none": "Ingen oppfølging", "tk.follow_up": "Oppfølging",
        "tk.text": "Melding", "tk.member": "Medlem", "tk.level": "Verifisering",
        "tk.created": "Opprettet", "tk.by": "av", "tk.history": "Historikk",
        "tk.take": "Ta saken", "tk.release": "Slipp saken", "tk.change_status": "Endre status",
        "tk.actions": "Handlinger", "tk.note": "Notat", "tk.add_note": "Legg til notat",
        "tk.back": "Til sakslisten",
        "tk.confirm_to_agent": "Skribenten vil ha beskjed når saken er ferdig",
        "tk.stale": "Saken er endret av noen andre etter at du åpnet den. Her er den nye "
                    "versjonen; se over og prøv igjen.",
        "tk.invalid": "Ikke lagret: {detail}",
        "ev.created": "Opprettet", "ev.status": "Status: {old} → {new}",
        "ev.owner": "Eier: {old} → {new}", "ev.note": "Notat",
        "ev.mail_queued": "E-post lagt i kø til {new}", "ev.mail_sent": "E-post sendt til {new}",
        "ev.mail_skipped": "Ingen e-post sendt: {note}", "ev.system": "systemet",
    },
    "en": {
        "tk.title": "Tickets", "tk.department": "Department",
        "tk.all_departments": "All departments", "tk.status": "Status",
        "tk.not_done": "All not done", "tk.all": "All", "tk.owner": "Owner",
        "tk.anyone": "Anyone", "tk.mine": "Mine", "tk.unassigned": "Unassigned",
        "tk.show": "Show", "tk.none": "No tickets here.", "tk.number": "Ticket",
        "tk.kind": "Kind", "tk.category": "Category", "tk.due": "Due", "tk.left": "Time left",
        "tk.caller": "Caller", "tk.recording": "Recording", "tk.listen": "Listen",
        "tk.kind.callback": "Callback", "tk.kind.message": "Message",
        "st.open": "Open", "st.in_progress": "In progress", "st.waiting": "Waiting",
        "st.done": "Done", "tk.unowned": "Nobody",
        "fu.we_call": "We call", "fu.caller_calls": "Caller calls again",
        "fu.none": "No follow-up", "tk.follow_up": "Follow-up",
        "tk.text": "Message", "tk.member": "Member", "tk.level": "Verification",
        "tk.created": "Created", "tk.by": "by", "tk.history": "History",
        "tk.take": "Take it", "tk.release": "Let it go", "tk.change_status": "Change status",
        "tk.actions": "Actions", "tk.note": "Note", "tk.add_note": "Add note",
        "tk.back": "Back to the list",
        "tk.confirm_to_agent": "The writer wants word when it is done",
        "tk.stale": "Someone changed this ticket after you opened it. This is the new "
                    "version; check it and try again.",
        "tk.invalid": "Not saved: {detail}",
        "ev.created": "Created", "ev.status": "Status: {old} → {new}",
        "ev.owner": "Owner: {old} → {new}", "ev.note": "Note",
        "ev.mail_queued": "Mail queued to {new}", "ev.mail_sent": "Mail sent to {new}",
        "ev.mail_skipped": "No mail sent: {note}", "ev.system": "the system",
    },
})
AGENT = Agent.__table__  # type: ignore[attr-defined]
MEMBER = Member.__table__  # type: ignore[attr-defined]
ALL, MINE, UNASSIGNED = "", "me", "none"


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _number(raw: str | None) -> str | None:
    """A caller's number as people write it (+47 912 34 567), for calling back."""
    if not raw:
        return None
    try:
        return phonenumbers.format_number(phonenumbers.parse(raw, "NO"),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return raw


def _due_label(due: datetime, zone: ZoneInfo, lang: str) -> str:
    """A deadline at local midnight is the end of the day before: say it that way."""
    local = due.astimezone(zone)
    if local.hour == local.minute == 0:
        day = f"{local - timedelta(days=1):%d.%m.%Y}"
        return f"innen utgangen av {day}" if lang == "nb" else f"by the end of {day}"
    return f"{local:%d.%m.%Y %H:%M}"


def _agents(conn: Connection) -> dict[str, str]:
    rows = conn.execute(select(AGENT.c.id, AGENT.c.name).where(AGENT.c.active.is_(True))
                        .order_by(AGENT.c.position)).all()
    return {r.id: r.name for r in rows}


def _row(ticket: dict[str, Any], *, now: datetime, cal: WorkCalendar,
         lang: str) -> dict[str, Any]:
    """What a list row or a ticket page shows of a ticket."""
    due = _aware(ticket["due_at"])
    zone = cal.zone
    left = time_left(now, due, cal) if due and ticket["status"] != "done" else None
    return {
        **ticket,
        "due_local": due.astimezone(zone) if due else None,
        "due_label": _due_label(due, zone, lang) if due else "",
        "created_local": _aware(ticket["created_at"]).astimezone(zone),  # type: ignore[union-attr]
        "urgency": left.urgency if left else "none",
        "left": (left.label if lang == "nb" else left.label_en) if left else "",
        "caller": _number(ticket["caller_number"]),
    }


def list_view(ctx: TicketContext, user: Principal, *, department: str | None, status: str,
              owner: str, lang: str) -> dict[str, Any]:
    """The /tickets page's context."""
    now = ctx.clock()
    with ctx.engine.connect() as conn:
        depts = departments(conn)
        if department is None:  # first visit: a department's people open on their department
            home = department_of_agent(conn, user.agent_id)
            department = home["id"] if home else ALL
        if department and department not in {d["id"] for d in depts}:
            department = ALL
        rows = service.list_tickets(
            conn, department=department or None,
            status=status if status in STATUSES else None, include_done=status == "all",
            owner=user.agent_id if owner == MINE else (owner or None) if owner != UNASSIGNED
            else None, unassigned=owner == UNASSIGNED)
        cal = work_calendar(conn)
        tickets = [_row(t, now=now, cal=cal, lang=lang) for t in rows]
        promised = promises.newest_for(conn, [t["id"] for t in tickets])
        for t in tickets:  # a promise shows next to the time left (tickets.promises)
            p = promised.get(t["id"])
            by = _aware(p["promised_by"]) if p and t["status"] != "done" else None
            t["promised_label"] = _due_label(by, cal.zone, lang) if by else ""
        agents = _agents(conn)
    if department:  # someone looked at this department's list (the wallboard's flag)
        with ctx.engine.begin() as conn:
            daily.record_view(conn, department_id=department, agent_id=user.agent_id, now=now)
    return {"departments": depts, "department": department, "status": status, "owner": owner,
            "tickets": tickets, "agents": agents, "statuses": STATUSES,
            "dept_names": {d["id"]: d["name"] for d in depts}}


def ticket_view(ctx: TicketContext, ticket_id: int, *, lang: str) -> dict[str, Any]:
    """The ticket page's context: the ticket and its history as one timeline."""
    now = ctx.clock()
    with ctx.engine.connect() as conn:
        try:
            ticket = service.get_ticket(conn, ticket_id)
        except service.TicketNotFound:
            raise HTTPException(404, "no such ticket") from None
        cal = work_calendar(conn)
        events = [{**e, "at_local": _aware(e["at"]).astimezone(cal.zone)}  # type: ignore[union-attr]
                  for e in service.history(conn, ticket_id)]
        member = None
        if ticket["member_id"] is not None:  # only ever set once verified on the call
            m = conn.execute(select(MEMBER.c.membership_number, MEMBER.c.name)
                             .where(MEMBER.c.id == ticket["member_id"])).first()
            member = dict(m._mapping) if m else None
        row = _row(ticket, now=now, cal=cal, lang=lang)
        agents = _agents(conn)
        dept_names = {d["id"]: d["name"] for d in departments(conn)}
        # Promises (tickets.promises): each with its local date; the newest counts.
        made = [{**p, "at_local": _aware(p["at"]).astimezone(cal.zone),  # type: ignore[union-attr]
                 "by_local": _aware(p["promised_by"]).astimezone(cal.zone),  # type: ignore[union-attr]
                 "by_label": _due_label(_aware(p["promised_by"]), cal.zone, lang)}  # type: ignore[arg-type]
                for p in promises.for_ticket(conn, ticket_id)]
        for e in events:  # a promise's date as people say it, in local time
            if e["kind"] == "promise" and e["new"]:
                e["new"] = _due_label(datetime.fromisoformat(e["new"]), cal.zone, lang)
        row["escalated_local"] = (_aware(ticket["escalated_at"]).astimezone(cal.zone)  # type: ignore[union-attr]
                                  if ticket.get("escalated_at") else None)
    return {"ticket": row, "events": events, "member": member, "agents": agents,
            "statuses": STATUSES, "dept_names": dept_names, "promises": made,
            "today": now.astimezone(cal.zone).date()}


def _patch_for(form: dict[str, str], user: Principal) -> TicketPatch:
    action = form.get("action")
    if action == "take":
        return TicketPatch(owner=user.agent_id)
    if action == "release":
        return TicketPatch(owner=None)
    if action == "status":
        return TicketPatch(status=form.get("status"))  # type: ignore[arg-type]
    if action == "note":
        return TicketPatch(note=form.get("note", ""))
    raise HTTPException(422, "action: use take, release, status or note")


def build_router(ctx: TicketContext, auth: Authenticator) -> APIRouter:
    """GET /tickets, GET /tickets/{id}, POST /tickets/{id}."""
    router = APIRouter(include_in_schema=False)

    @router.get("/tickets")
    def list_page(request: Request, department: str | None = None, status: str = "",
                  owner: str = ALL, user: Principal = Depends(auth.page_user)) -> Response:
        lang = lang_of(request)
        view = list_view(ctx, user, department=department, status=status, owner=owner,
                         lang=lang)
        return render(request, "tickets.html", view)

    @router.get("/tickets/{ticket_id}")
    def ticket_page(request: Request, ticket_id: int,
                    user: Principal = Depends(auth.page_user)) -> Response:
        lang = lang_of(request)
        return render(request, "tickets_ticket.html", ticket_view(ctx, ticket_id, lang=lang))

    @router.post("/tickets/{ticket_id}")
    async def ticket_post(request: Request, ticket_id: int,
                          user: Principal = Depends(auth.page_user)) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        lang = lang_of(request)
        problem, status_code = None, 200
        try:
            changes = _patch_for(form, user)
            version = int(form.get("version", ""))
        except ValidationError as exc:
            problem, status_code = ("invalid", exc.errors()[0]["msg"].removeprefix(
                "Value error, ")), 422
        except ValueError:
            problem, status_code = ("stale", ""), 409
        if problem is None:
            try:
                await run_in_threadpool(_update, ctx, ticket_id, version, changes, user)
            except service.TicketNotFound:
                raise HTTPException(404, "no such ticket") from None
            except service.StaleTicket:
                problem, status_code = ("stale", ""), 409
            except service.TicketError as exc:
                problem, status_code = ("invalid", exc.message), 422
        if problem is None:
            return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
        view = ticket_view(ctx, ticket_id, lang=lang)
        view |= {"problem": problem[0], "problem_detail": problem[1],
                 "note_text": form.get("note", "")}
        return render(request, "tickets_ticket.html", view, status_code=status_code)

    return router


def _update(ctx: TicketContext, ticket_id: int, version: int, changes: TicketPatch,
            user: Principal) -> None:
    with ctx.engine.begin() as conn:
        service.update_ticket(conn, ticket_id=ticket_id, expected_version=version,
                              changes=changes, actor=user.agent_id or user.kind,
                              now=ctx.clock(), public_url=ctx.public_url)

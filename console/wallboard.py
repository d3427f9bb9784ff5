"""The wallboard (/wallboard): the loops now and the agents' day, for a screen on the wall.

The page polls its live part (/wallboard/live) every 2 seconds with htmx and swaps it in, so it
updates itself without a reload and needs no click. Every figure comes from
console.stats_report.loops_now, the same read-out as GET /api/stats/loops.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from console.i18n import register
from console.stats_report import loops_now
from console.web import render
from ivr.context import FlowContext
from switchboard.auth import Authenticator, Principal
from tickets.daily import board as tickets_board

POLL_SECONDS = 2

register({
    "nb": {
        "wb.title": "Tavle", "wb.waiting": "I kø nå", "wb.longest": "Lengste ventetid",
        "wb.answered": "Besvart i dag", "wb.abandoned": "Tapt i dag",
        "wb.service_level": "Servicenivå", "wb.within": "innen {s} s",
        "wb.can_take": "Kan ta samtaler", "wb.cannot": "Kan ikke nå", "wb.agents": "Agenter",
        "wb.agent": "Agent", "wb.state": "Status", "wb.talk": "Samtaletid i dag",
        "wb.updated": "Oppdatert {time}", "wb.none": "ingen", "wb.back_on": "tilbake {date}",
        "wb.busy_until": "til {time}",
        "state.available": "Ledig", "state.logged_out": "Logget ut",
        "state.routing_stop": "Rutingstopp", "state.ringing": "Ringer",
        "state.on_call": "I samtale", "state.wrap_up": "Etterarbeid",
        "state.calendar_busy": "Opptatt i kalenderen", "state.closed": "Stengt",
        "why.holiday": "ferie", "why.leave": "permisjon", "why.sick": "syk",
        "why.training": "kurs", "why.other": "annet",
        "wb.departments": "Saker", "wb.dept_open": "Åpne", "wb.dept_overdue": "Over fristen",
        "wb.dept_escalated": "Eskalert", "wb.unwatched": "Ingen har sett listen siden forrige "
        "arbeidsdag",
    },
    "en": {
        "wb.title": "Wallboard", "wb.waiting": "Waiting now", "wb.longest": "Longest wait",
        "wb.answered": "Answered today", "wb.abandoned": "Abandoned today",
        "wb.service_level": "Service level", "wb.within": "within {s} s",
        "wb.can_take": "Can take calls", "wb.cannot": "Cannot now", "wb.agents": "Agents",
        "wb.agent": "Agent", "wb.state": "State", "wb.talk": "Talk time today",
        "wb.updated": "Updated {time}", "wb.none": "none", "wb.back_on": "back {date}",
        "wb.busy_until": "until {time}",
        "state.available": "Available", "state.logged_out": "Logged out",
        "state.routing_stop": "Routing stop", "state.ringing": "Ringing",
        "state.on_call": "On a call", "state.wrap_up": "Wrap-up",
        "state.calendar_busy": "Busy in the calendar", "state.closed": "Closed",
        "why.holiday": "holiday", "why.leave": "leave", "why.sick": "sick",
        "why.training": "training", "why.other": "other",
        "wb.departments": "Tickets", "wb.dept_open": "Open", "wb.dept_overdue": "Overdue",
        "wb.dept_escalated": "Escalated", "wb.unwatched": "Nobody has opened the list since "
        "the last working day",
    },
})


def clock_text(seconds: float | None) -> str:
    """Seconds as m:ss (h:mm:ss from an hour up)."""
    s = int(round(seconds or 0))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def percent(share: float | None) -> str:
    """A share as a whole percentage, or a dash when there is nothing to share."""
    return "–" if share is None else f"{round(share * 100)} %"


def _why(agent: dict[str, Any], t: Any, tz: ZoneInfo) -> str:
    """What the wall should say about an agent who cannot take calls."""
    bits = []
    if agent["state"] == "logged_out" and agent.get("logout_reason"):
        bits.append(t(f"why.{agent['logout_reason']}"))
    if agent["state"] == "logged_out" and agent.get("back_on"):
        back = agent["back_on"]
        day = date.fromisoformat(back) if isinstance(back, str) else back
        bits.append(t("wb.back_on", date=day.strftime("%d.%m")))
    if agent["state"] == "routing_stop" and agent.get("stop_reason"):
        bits.append(str(agent["stop_reason"]))
    if agent["state"] == "calendar_busy" and agent.get("busy_until"):
        until = datetime.fromisoformat(agent["busy_until"]).astimezone(tz)
        bits.append(t("wb.busy_until", time=until.strftime("%H:%M")))
    return ", ".join(bits)


def board(data: dict[str, Any], t: Any) -> dict[str, Any]:
    """The read-out shaped for the template: loops with their people, agents with reasons."""
    tz = ZoneInfo(data["timezone"])
    agents = {a["id"]: {**a, "why": _why(a, t, tz) if not a["offerable"] else "",
                        "talk": clock_text(a["talk_today_s"])} for a in data["agents"]}
    loops = []
    for lp in data["loops"]:
        members = [agents[m] for m in lp["members"] if m in agents]
        loops.append({**lp, "longest": clock_text(lp["longest_wait_s"]),
                      "level": percent(lp["service_level"]),
                      "can": [a for a in members if a["offerable"]],
                      "cannot": [a for a in members if not a["offerable"]]})
    at = datetime.fromisoformat(data["at"]).astimezone(tz)
    return {"loops": loops, "agents": list(agents.values()), "at": at.strftime("%H:%M:%S")}


def build_router(*, ctx: FlowContext, auth: Authenticator) -> APIRouter:
    """GET /wallboard and its live part /wallboard/live."""
    router = APIRouter(tags=["wallboard"], include_in_schema=False)

    def read(request: Request) -> dict[str, Any]:
        from console.i18n import translate
        from console.web import lang_of

        snap = ctx.cache.get()
        with ctx.engine.connect() as conn:
            data = loops_now(conn, snap, now=ctx.clock())
            # Per department: open, overdue, escalated, and a flag when nobody looked at the
            # list since the last working day began (tickets.daily).
            depts = tickets_board(conn, now=ctx.clock())
        lang = lang_of(request)
        return board(data, lambda key, **v: translate(lang, key, **v)) | {"departments": depts}

    @router.get("/wallboard")
    def wallboard(request: Request, _: Principal = Depends(auth.page_user)) -> Response:
        return render(request, "wallboard.html", {"board": read(request),
                                                  "poll": POLL_SECONDS})

    @router.get("/wallboard/live")
    def wallboard_live(request: Request, _: Principal = Depends(auth.page_user)) -> Response:
        return render(request, "wallboard_live.html", {"board": read(request)},
                      headers={"Cache-Control": "no-store"})

    return router

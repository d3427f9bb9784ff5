"""The desk (/desk): the agent's own status and colleagues', the screen pop, the all-day trap,
and the place for the call's panel (identity steps, data checks, ticket form: docs/desk.md).

Routes load, call a service, render. The live part is `/desk/events`, server-sent events fed
by console.events (a hint per change, then this desk re-reads its own state); `/desk/pop`
is the polling fallback. `/api/me/calls` is the same data as JSON, in the shape of
wazo-calld's `/users/me/calls`. Everything here is scoped to the signed-in agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console import desk_stop
from console.calls import CALL, MyCall, my_calls
from console.desk_texts import status_label
from console.events import Broadcaster, DeskFeed, DeskState, agent_topic
from console.web import fragment, lang_of, render
from ivr.context import FlowContext
from routing.presence import presence
from switchboard.auth import SESSION_COOKIE, Authenticator, Principal
from switchboard.passwords import token_digest

STREAM_SECONDS = 55.0  # a stream ends after this; EventSource reconnects at once (retry:)
KEEPALIVE_SECONDS = 15.0


def sse(event: str, data: str) -> str:
    """One server-sent event; every line of data gets its own `data:` field."""
    lines = data.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


class DeskService:
    """What one agent's desk shows, read in one go (blocking: call it off the event loop)."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx

    def calls(self, user: Principal) -> list[MyCall]:
        """The agent's ringing and connected calls."""
        assert user.agent_id is not None
        snap = self.ctx.cache.get()
        with self.ctx.engine.connect() as conn:
            return my_calls(conn, snap, agent_id=user.agent_id, first_name=user.first_name,
                            now=self.ctx.clock())

    def panel_call(self, user: Principal, calls: list[MyCall]) -> dict[str, Any] | None:
        """The call the panel is about: the connected one, else the agent's last answered."""
        up = [c for c in calls if c.status == "up"]
        if up:
            return {"call_id": up[0].call_id, "lang": up[0].lang, "ended": False}
        with self.ctx.engine.connect() as conn:
            row = conn.execute(select(CALL.c.call_sid, CALL.c.lang, CALL.c.ended_at)
                               .where(CALL.c.answered_by == user.agent_id)
                               .order_by(CALL.c.started_at.desc()).limit(1)).first()
        if row is None:
            return None
        return {"call_id": row.call_sid, "lang": row.lang, "ended": row.ended_at is not None}

    def people(self, lang: str) -> list[dict[str, Any]]:
        """Every agent's presence with a label in lang."""
        snap = self.ctx.cache.get()
        with self.ctx.engine.connect() as conn:
            items = presence(conn, snap, now=self.ctx.clock())
        tz = ZoneInfo(snap.timezone)
        for item in items:
            item["label"] = status_label(lang, item, tz)
        return items

    def desk(self, user: Principal, lang: str) -> dict[str, Any]:
        """The whole desk page's context."""
        people = self.people(lang)
        me = next((p for p in people if p["id"] == user.agent_id), None)
        calls = self.calls(user)
        return {"me": me, "colleagues": [p for p in people if p["id"] != user.agent_id],
                "calls": calls, "panel_call": self.panel_call(user, calls),
                "all_day_free": bool(me and "all_day_free" in me["notes"])}


def live_view(state: DeskState, panel: dict[str, Any] | None, lang: str,
              tz: tzinfo) -> dict[str, Any]:
    """The live fragments' context from the desk feed's DeskState (no database)."""
    me = dict(state.me, label=status_label(lang, state.me, tz))
    calls = list(state.calls)
    up = next((c for c in calls if c.status == "up"), None)
    if up is not None:
        panel = {"call_id": up.call_id, "lang": up.lang, "ended": False}
    elif panel is not None and not panel["ended"] and all(
            c.call_id != panel["call_id"] for c in calls):
        panel = dict(panel, ended=True)
    return {"me": me, "calls": calls, "panel_call": panel}


def build_router(*, ctx: FlowContext, auth: Authenticator, hub: Broadcaster,
                 feed: DeskFeed) -> APIRouter:
    """/desk pages and /api/me/calls."""
    router = APIRouter()
    svc = DeskService(ctx)

    @router.get("/desk", include_in_schema=False)
    def desk(request: Request, user: Principal = Depends(auth.page_user)) -> Response:
        return render(request, "desk.html", svc.desk(user, lang_of(request)))

    @router.get("/desk/pop", include_in_schema=False)
    def pop(request: Request, user: Principal = Depends(auth.page_user)) -> Response:
        return render(request, "desk_pop.html", {"calls": svc.calls(user)})

    @router.get("/desk/status", include_in_schema=False)
    def status(request: Request, user: Principal = Depends(auth.page_user)) -> Response:
        return render(request, "desk_status.html", svc.desk(user, lang_of(request)))

    @router.get("/desk/colleagues", include_in_schema=False)
    def colleagues(request: Request, user: Principal = Depends(auth.page_user)) -> Response:
        ctx_ = svc.desk(user, lang_of(request))
        return render(request, "desk_colleagues.html", ctx_)

    @router.post("/desk/stop-today", include_in_schema=False)
    def stop_today(request: Request, user: Principal = Depends(auth.page_user)) -> Response:
        assert user.agent_id is not None
        desk_stop.stop_until_end_of_day(ctx.engine, user.agent_id, now=ctx.clock(),
                                        tz=ctx.cache.get().timezone)
        feed.nudge()
        return RedirectResponse("/desk", status_code=303)

    def read_all(request: Request, user: Principal) -> dict[str, Any] | None:
        """The desk's live context from the database; None once the session has ended."""
        if auth.resolve(request) is None:
            return None
        view = svc.desk(user, lang_of(request))
        view["tz"] = ZoneInfo(ctx.cache.get().timezone)
        return view

    def fragments(request: Request, view: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        """The live fragments, each with the key that says when to send it again."""
        pop_html = fragment(request, "desk_pop.html", view)
        status_html = fragment(request, "desk_status.html", view)
        panel = view["panel_call"]
        # The panel is sent again only for another call (or its end): a half-filled form
        # stays. Its first line is that key, so the page can skip a panel it shows already.
        panel_key = f"{panel['call_id']}:{int(panel['ended'])}" if panel else ""
        panel_html = fragment(request, "desk_call_panel.html", view)
        return {"pop": (pop_html, pop_html), "status": (status_html, status_html),
                "panel": (panel_key, f"{panel_key}\n{panel_html}")}

    @router.get("/desk/events", include_in_schema=False)
    async def events(request: Request, user: Principal = Depends(auth.page_user)
                     ) -> StreamingResponse:
        assert user.agent_id is not None
        agent_id = user.agent_id
        session = token_digest(request.cookies.get(SESSION_COOKIE, ""))
        lang = lang_of(request)

        async def stream() -> AsyncIterator[str]:
            loop = asyncio.get_running_loop()
            sent: dict[str, Any] = {"panel": _initial_panel(request)}
            async with hub.subscribe(agent_topic(agent_id)) as sub:
                view = await run_in_threadpool(read_all, request, user)
                if view is None:
                    return
                tz = view["tz"]
                yield "retry: 1000\n\n"
                end = loop.time() + STREAM_SECONDS
                while True:
                    for name, (key, html) in fragments(request, view).items():
                        if sent.get(name) != key:
                            sent[name] = key
                            yield sse(name, html)
                    got = None
                    while got is None and loop.time() < end:
                        got = await sub.get(min(KEEPALIVE_SECONDS, max(0.1, end - loop.time())))
                        if got is None:
                            yield ": keep-alive\n\n"
                            # Sessions ended by another process (a new password) end here.
                            if await run_in_threadpool(auth.resolve, request) is None:
                                return
                    if got is None:
                        return  # the stream's time is up; EventSource reconnects
                    data = got[1]
                    if isinstance(data, DeskState):
                        # Rendered from what the feed read: no database work per desk.
                        view = live_view(data, view["panel_call"], lang, tz)
                    elif isinstance(data, dict) and data.get("ended_session") == session:
                        return  # signed out (in another tab)
                    else:
                        fresh = await run_in_threadpool(read_all, request, user)
                        if fresh is None:
                            return
                        view = fresh | {"tz": tz}

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def _initial_panel(request: Request) -> str:
        # The page was rendered with a panel already; the stream repeats it only for a change.
        return request.query_params.get("panel", "")[:200]

    @router.get("/api/me/calls", tags=["desk"],
                summary="The signed-in agent's ringing and connected calls (wazo-calld shape)")
    def api_my_calls(user: Principal = Depends(auth.agent)) -> dict[str, Any]:
        return {"items": [c.as_json() for c in svc.calls(user)]}

    @router.get("/api/me/calls/{call_id}", tags=["desk"],
                summary="One of the signed-in agent's calls; 404 for anyone else's")
    def api_my_call(call_id: str, user: Principal = Depends(auth.agent)) -> dict[str, Any]:
        for c in svc.calls(user):
            if c.call_id == call_id:
                return c.as_json()
        raise HTTPException(404, "no such call of yours")

    return router

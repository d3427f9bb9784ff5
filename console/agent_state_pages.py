"""The status form (console/templates/agent_state_form.html) and its POST route.

The desk (or any page) includes the partial with `sf = state_form(...)` in its context; the
form posts to /agents/{id}/state-form, which changes the state exactly as
`POST /api/agents/{id}/state` does (console.agent_state.apply_for) and goes back to `next`.
GET /status is the agent's own status page with the same form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

import console.admin_texts  # noqa: F401  (registers the form's words)
from console.agent_state import apply_for, read_state
from console.web import render
from routing.models import Agent
from routing.snapshot import SnapshotCache
from switchboard.auth import Authenticator, Principal

AGENT = Agent.__table__  # type: ignore[attr-defined]
OPS = {
    "log_out": lambda f: {"logged_in": False, "logout_reason": f.get("logout_reason") or "other",
                          **({"back_on": f["back_on"]} if f.get("back_on") else {}),
                          **({"cover": f["cover"]} if f.get("cover") else {})},
    "log_in": lambda f: {"logged_in": True},
    "set_stop": lambda f: {"routing_stop": True,
                           **({"stop_reason": f["stop_reason"]} if f.get("stop_reason") else {})},
    "lift_stop": lambda f: {"routing_stop": False},
}


def _local(path: str | None, default: str) -> str:
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


def state_form(engine: Engine, agent_id: str, *, admin: bool, next: str,
               error: str | None = None) -> dict[str, Any] | None:
    """The partial's `sf` for this agent (None for an unknown agent)."""
    with engine.connect() as conn:
        state = read_state(conn, agent_id)
        name = conn.execute(select(AGENT.c.name).where(AGENT.c.id == agent_id)).scalar()
        # The logout form's cover choice (tickets.handover): the other agents, file cover first.
        cover = conn.execute(select(AGENT.c.cover).where(AGENT.c.id == agent_id)).scalar()
        others = [(r.id, r.name) for r in conn.execute(
            select(AGENT.c.id, AGENT.c.name).where(AGENT.c.active.is_(True),
                                                   AGENT.c.id != agent_id)
            .order_by(AGENT.c.position, AGENT.c.id))]
    if state is None:
        return None
    return {"agent_id": agent_id, "name": name or agent_id, "state": state, "admin": admin,
            "next": next, "error": error, "cover": cover, "colleagues": others}


def build_router(*, engine: Engine, cache: SnapshotCache, clock: Callable[[], datetime],
                 auth: Authenticator) -> APIRouter:
    """GET /status and POST /agents/{id}/state-form."""
    router = APIRouter(include_in_schema=False)

    @router.get("/status")
    def own_status(request: Request, user: Principal = Depends(auth.page_user)) -> Response:
        sf = state_form(engine, user.agent_id or "", admin=False, next="/status")
        if sf is None:
            raise HTTPException(404, "no such agent")
        return render(request, "agent_state_page.html", {"sf": sf})

    @router.get("/status/form")
    def own_status_form(request: Request, next: str = "/desk",
                        user: Principal = Depends(auth.page_user)) -> Response:
        """The form alone, for a page to load into itself (hx-get, hx-trigger="load")."""
        sf = state_form(engine, user.agent_id or "", admin=False, next=_local(next, "/desk"))
        if sf is None:
            raise HTTPException(404, "no such agent")
        return render(request, "agent_state_form.html", {"sf": sf | {"compact": True}})

    @router.post("/agents/{agent_id}/state-form")
    async def post_form(request: Request, agent_id: str,
                        user: Principal = Depends(auth.page_user)) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        back = _local(form.get("next"), "/status")
        op = OPS.get(form.get("op", ""))
        if op is None:
            raise HTTPException(422, "op: unknown")
        try:
            # The database work off the event loop, where the webhooks run.
            await run_in_threadpool(apply_for, engine, cache, user, agent_id, op(form),
                                    now=clock())
        except HTTPException as exc:
            if exc.status_code != 422:
                raise
            sf = state_form(engine, agent_id, admin=user.is_admin, next=back,
                            error=str(exc.detail))
            return render(request, "agent_state_page.html", {"sf": sf}, status_code=422)
        return RedirectResponse(back, status_code=303)

    return router

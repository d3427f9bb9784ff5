"""The desk's ticket form (docs/desk.md, docs/tickets.md): during or after the call, prefilled
with the call, the member verified on it and the level reached; posts through
tickets.service like POST /api/tickets. The member is taken from the call's own verification
state, never from the form. Errors name the field and keep everything typed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console.desk_callctx import (
    FieldErrors,
    PanelDeps,
    agent_call,
    back_to,
    errors_response,
    parse,
    plain_post,
)
from console.i18n import translate
from console.web import lang_of, render
from identity.models import Member
from identity.service import Ctx, load_state
from switchboard.auth import Authenticator, Principal
from tickets import service
from tickets.departments import department_for_loop, departments
from tickets.router import TicketContext
from tickets.schemas import TicketCreate

FIELDS = ("department", "category", "text", "follow_up", "confirm_to_agent")
FORM_ID = "tf"


def about(ctx: Ctx) -> dict[str, Any]:
    """What the ticket will carry from the call: its id, and the member and level once the
    script has verified them (the name only: the errand views show it too)."""
    state = load_state(ctx)
    out: dict[str, Any] = {"call_sid": ctx.call.call_sid, "member": None, "level": state.level,
                           "member_id": None}
    if state.verified and state.member_id is not None:
        member = ctx.session.get(Member, state.member_id)
        if member is not None:
            out["member"], out["member_id"] = member.name, member.id
    return out


def _error_key(field: str, message: str) -> str:
    return {"department": "err.department", "member_id": "err.member_id"}.get(field, message)


def build_router(*, deps: PanelDeps, tickets: TicketContext, auth: Authenticator) -> APIRouter:
    """The ticket form's page routes."""
    router = APIRouter(include_in_schema=False)

    def form_context(ctx: Ctx, request: Request, callback: bool) -> dict[str, Any]:
        with tickets.engine.connect() as conn:
            deps_list = departments(conn)
            # The loop's department is the likely one: chosen first, the agent may change it.
            home = department_for_loop(conn, ctx.call.loop_id)
        lang = lang_of(request)
        category = translate(lang, "tf.callback_category") if callback else ""
        # A locked verification: the member is rung back on the register's number; the text
        # asks for the membership number the caller gave (never the number to ring).
        text = translate(lang, "tf.callback_text") if callback else ""
        return {"sid": ctx.call.call_sid, "about": about(ctx), "departments": deps_list,
                "category": category, "text": text, "selected": home["id"] if home else "",
                "follow_up": "we_call" if callback else "none", "created": None}

    @router.get("/desk/call/{call_sid}/ticket")
    def form(call_sid: str, request: Request, callback: int = 0,
             user: Principal = Depends(auth.page_user)) -> Response:
        with agent_call(deps, call_sid, user) as ctx:
            return render(request, "desk_ticket.html", form_context(ctx, request, bool(callback)))

    @router.get("/desk/call/{call_sid}/ticket/about")
    def about_box(call_sid: str, request: Request,
                  user: Principal = Depends(auth.page_user)) -> Response:
        with agent_call(deps, call_sid, user) as ctx:
            return render(request, "desk_ticket_about.html", {"about": about(ctx)})

    @router.post("/desk/call/{call_sid}/ticket")
    async def create(call_sid: str, request: Request,
                     user: Principal = Depends(auth.page_user)) -> Response:
        form_data = await request.form()
        data = {k: v for k, v in form_data.items() if isinstance(v, str)}

        def run() -> Response:
            with agent_call(deps, call_sid, user) as ctx:
                info = about(ctx)
            payload = {"department": data.get("department", ""),
                       "category": data.get("category") or None, "text": data.get("text", ""),
                       "call_sid": call_sid, "member_id": info["member_id"],
                       "follow_up": data.get("follow_up") or "none",
                       "confirm_to_agent": data.get("confirm_to_agent") == "on"}
            try:
                body = parse(TicketCreate, payload)
                now = tickets.clock()
                with tickets.engine.begin() as conn:
                    ticket = service.create_ticket(conn, data=body, actor=user.agent_id,
                                                   agent_id=user.agent_id, now=now,
                                                   public_url=tickets.public_url)
                    department = next((d for d in departments(conn)
                                       if d["id"] == ticket["department_id"]), None)
            except FieldErrors as exc:
                if plain_post(request):
                    return back_to("/desk")
                errors = exc.errors | ({"department": "err.department"}
                                       if "department" in exc.errors else {})
                return errors_response(request, FORM_ID, FIELDS, errors)
            except service.TicketError as exc:
                if plain_post(request):
                    return back_to("/desk")
                return errors_response(request, FORM_ID, FIELDS,
                                       {exc.field: _error_key(exc.field, exc.message)})
            if plain_post(request):
                return back_to(f"/tickets/{ticket['id']}")
            created = {"id": ticket["id"],
                       "department": department["name"] if department else body.department}
            return render(request, "desk_ticket.html", {"sid": call_sid, "created": created,
                                                        "about": info})

        return await run_in_threadpool(run)

    return router

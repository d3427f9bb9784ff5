"""The identity scripts as guided steps on the desk (docs/desk.md, docs/identity-and-privacy.md).

`/desk/call/{call_sid}/identity` renders the call's identity panel: the situation to pick, then
for each step what to ask in the agent's words, a labelled input and a real button. Each step
posts to `/desk/call/{call_sid}/identity/{step}` and calls the identity service functions the
API calls, with the same validation and rules, scoped to the signed-in agent's own call. The
panel shows only what `identity.checks.state_view` allows at that point: an on-behalf caller's
errand view, the registered name only after the agent typed the name the caller said.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console import desk_panel_texts  # noqa: F401 - registers the panel's words
from console.desk_callctx import (
    FieldErrors,
    PanelDeps,
    agent_call,
    back_to,
    errors_response,
    factor_step,
    form_dict,
    national_id,
    parse,
    plain_post,
    valid_kid,
)
from console.web import render
from identity import case, checks, register, service, verify
from identity import schemas as s
from identity.service import Ctx, Outcome
from switchboard.auth import Authenticator, Principal
from tickets.models import Department, Ticket

TICKET = Ticket.__table__  # type: ignore[attr-defined]
DEPARTMENT = Department.__table__  # type: ignore[attr-defined]

Op = Callable[[Ctx, PanelDeps, dict[str, str]], Outcome]


def _start(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.StartBody, {"script": data.get("script", "")})
    return service.start_script(ctx, body.script)


def _known(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    member_id = data.get("member_id", "")
    body = parse(s.KnownBody, {"member_id": member_id or None, "reason": data.get("reason", "")})
    if body.member_id is None:
        raise FieldErrors({"member_id": "err.choice"})
    return verify.mark_known(ctx, member_id=body.member_id, membership_number=None,
                             reason=body.reason)


def _member(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.MemberFactorsBody, data)
    national_id(ctx, deps, body.national_id)
    return verify.verify_member(ctx, national_id=body.national_id,
                                membership_number=body.membership_number)


def _birth(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.BirthDateBody, data)
    return verify.verify_by_birth_date(ctx, membership_number=body.membership_number,
                                       birth_date=body.birth_date)


def _kid(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.KidBody, data)
    valid_kid(ctx, body.kid)
    return verify.invoice_kid(ctx, kid=body.kid)


def _name(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.NameBody, data)
    return verify.invoice_name_said(ctx, name=body.name)


def _confirm(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.NameConfirmBody, data)
    return verify.invoice_name_confirm(ctx, matches=body.matches)


def _invoice_id(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.PayerFactorsBody, {"national_id": data.get("national_id", "")})
    national_id(ctx, deps, body.national_id or "")
    return verify.invoice_verify(ctx, national_id=body.national_id, birth_date=None)


def _invoice_birth(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.PayerFactorsBody, {"birth_date": data.get("birth_date") or None})
    if body.birth_date is None:
        raise FieldErrors({"birth_date": "err.required"})
    return verify.invoice_verify(ctx, national_id=None, birth_date=body.birth_date)


def _case_member(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.CaseSubjectBody, data)
    return case.case_subject(ctx, membership_number=body.membership_number)


def _consent(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    raw = dict(data)
    if raw.get("method") != case.CALLBACK:
        raw.pop("phone_position", None)
    elif not raw.get("phone_position"):
        raise FieldErrors({"phone_position": "err.phone_position"})
    body = parse(s.ConsentBody, raw)
    return case.case_consent(ctx, consented=body.consented, given_to=body.given_to,
                             scope=body.scope, method=body.method,
                             phone_position=body.phone_position)


def _case_id(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.MemberFactorsBody, data)
    national_id(ctx, deps, body.national_id)
    return case.case_verify(ctx, national_id=body.national_id,
                            membership_number=body.membership_number, mobile=None)


def _case_mobile(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.CaseFactorsBody, {"mobile": data.get("mobile", "")})
    if not body.mobile:
        raise FieldErrors({"mobile": "err.required"})
    return case.case_verify(ctx, national_id=None, membership_number=None, mobile=body.mobile)


# step -> (the form's fields, the factor name the API uses for it, the op, the result on success)
STEPS: dict[str, tuple[tuple[str, ...], str | None, Op, str]] = {
    "start": (("script",), "start", _start, "id.ok.start"),
    "known": (("member_id", "reason"), "known", _known, ""),
    "member": (("membership_number", "national_id"), "member_factors", _member, ""),
    "birth": (("membership_number", "birth_date"), "birth_date_factors", _birth, ""),
    "kid": (("kid",), "kid", _kid, "id.ok.kid"),
    "name": (("name",), "name_said", _name, "id.ok.name_said"),
    "confirm": (("matches",), "name_confirm", _confirm, "id.ok.name_confirm"),
    "invoice-id": (("national_id",), "payer_factors", _invoice_id, ""),
    "invoice-birth": (("birth_date",), "payer_factors", _invoice_birth, ""),
    "case-member": (("membership_number",), "case_subject", _case_member, "id.ok.case_subject"),
    "consent": (("consented", "given_to", "scope", "method", "phone_position"), "consent",
                _consent, "id.ok.consent"),
    "case-id": (("membership_number", "national_id"), "case_factors", _case_id, ""),
    "case-mobile": (("mobile",), "case_factors", _case_mobile, ""),
}


def result_of(out: Outcome | None, ok_key: str, **values: Any) -> dict[str, Any] | None:
    """What the result line says: the one generic message for any failure, the lock, or
    the step's next move."""
    if out is None:
        return None
    if out.refusal:
        return {"kind": "locked" if out.refusal["locked"] else "failed",
                "key": f"id.reason.{out.refusal['reason']}", "values": {}}
    return {"kind": "ok", "key": ok_key, "values": values} if ok_key else None


def panel_context(ctx: Ctx, out: Outcome | None = None) -> dict[str, Any]:
    """The state view the API would give, plus what the consent step needs (a count of the
    member's registered numbers, never the numbers)."""
    state = out.state if out else None
    view = checks.state_view(ctx, state, out.extra if out else None)
    extra: dict[str, Any] = {"phone_count": 0, "member_on_call": False}
    if view["script"] == "case" and view["step"] == "consent":
        member_id = (state or service.load_state(ctx)).member_id
        if member_id is not None:
            extra["phone_count"] = len(register.phones_of(ctx.session, member_id))
            extra["member_on_call"] = service.self_member_id(
                ctx.session, ctx.call.call_sid) == member_id
    member = view.get("member")
    if member and member.get("view") == "member":
        extra["open_tickets"] = open_tickets(ctx, member["member_id"])
    return {"view": view, "sid": ctx.call.call_sid, "x": extra}


def open_tickets(ctx: Ctx, member_id: int) -> list[dict[str, Any]]:
    """The member's tickets not done yet: member data, so shown only once the member themself
    is verified or known (never to an on-behalf caller's errand)."""
    rows = ctx.session.execute(
        select(TICKET.c.id, TICKET.c.category, TICKET.c.status, DEPARTMENT.c.name)
        .select_from(TICKET.outerjoin(DEPARTMENT, DEPARTMENT.c.id == TICKET.c.department_id))
        .where(TICKET.c.member_id == member_id, TICKET.c.status != "done")
        .order_by(TICKET.c.due_at, TICKET.c.id).limit(20)).all()
    return [{"id": r.id, "category": r.category, "status": r.status, "department": r.name}
            for r in rows]


def identity_panel(request: Request, ctx: Ctx, out: Outcome | None = None,
                   result: dict[str, Any] | None = None, *, mode: str = "") -> Response:
    """The identity panel (and data checks) for this call; tells the ticket form to refresh
    its summary, since the member or the level may have changed."""
    context = panel_context(ctx, out) | {"result": result, "mode": mode}
    return render(request, "desk_identity.html", context,
                  headers={"HX-Trigger": "identity-changed"})


def build_router(*, deps: PanelDeps, auth: Authenticator) -> APIRouter:
    """The identity panel's page routes."""
    router = APIRouter(include_in_schema=False)

    @router.get("/desk/call/{call_sid}/identity")
    def show(call_sid: str, request: Request, mode: str = "",
             user: Principal = Depends(auth.page_user)) -> Response:
        with agent_call(deps, call_sid, user) as ctx:
            return identity_panel(request, ctx, mode="known" if mode == "known" else "")

    @router.post("/desk/call/{call_sid}/identity/{step}")
    async def post_step(call_sid: str, step: str, request: Request,
                        user: Principal = Depends(auth.page_user)) -> Response:
        if step not in STEPS:
            return render(request, "error.html", {"message": "error.404"}, status_code=404)
        data = form_dict(await request.form())
        fields, factor, op, ok_key = STEPS[step]
        form_id = f"id-{step}"
        mode = "known" if step == "start" and data.get("mode") == "known" else ""
        if mode:
            data["script"] = "member"

        def run() -> Response:
            with agent_call(deps, call_sid, user) as ctx:
                try:
                    out = factor_step(ctx, factor, lambda c: op(c, deps, data))
                except FieldErrors as exc:
                    if plain_post(request):
                        return back_to("/desk")
                    return errors_response(request, form_id, fields, exc.errors)
                if plain_post(request):
                    return back_to("/desk")
                return identity_panel(request, ctx, out, result_of(out, ok_key), mode=mode)

        return await run_in_threadpool(run)

    return router

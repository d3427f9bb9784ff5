"""The data-check panel's fixes on the desk (docs/desk.md): phone on file, missing e-mail,
returned mail, a national ID that needs correction or is an unconfirmed placeholder.

Each fix posts to `/desk/call/{call_sid}/fix/{kind}`, is validated with the identity API's own
request models and national-ID rules, and calls the same `identity.checks` function the API
calls, which refuses unless the member themself is verified (script 1 or "known").
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console.desk_callctx import (
    FieldErrors,
    PanelDeps,
    agent_call,
    back_to,
    errors_response,
    form_dict,
    national_id,
    parse,
    plain_post,
)
from console.desk_identity import identity_panel
from console.i18n import translate
from console.web import lang_of, render
from identity import checks
from identity import schemas as s
from identity.service import Ctx, Outcome
from switchboard.auth import Authenticator, Principal

Fix = Callable[[Ctx, PanelDeps, dict[str, str]], Outcome]


def _phone(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    return checks.fix_phone(ctx, mode=parse(s.PhoneFixBody, data).mode)


def _email(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    return checks.fix_email(ctx, email=parse(s.EmailFixBody, data).email)


def _address(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.AddressFixBody, data)
    return checks.fix_address(ctx, address=body.address, postal_code=body.postal_code,
                              city=body.city)


def _national_id(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    body = parse(s.NationalIdFixBody, data)
    check = national_id(ctx, deps, body.national_id)
    try:
        return checks.fix_national_id(ctx, national_id=body.national_id, check=check)
    except checks.BirthDateMismatch:
        raise FieldErrors({"national_id": "err.id_birth_date"}) from None


def _confirm(ctx: Ctx, deps: PanelDeps, data: dict[str, str]) -> Outcome:
    return checks.confirm_national_id(ctx)


# kind -> (the form's fields, the fix, what the result line says was saved)
FIXES: dict[str, tuple[tuple[str, ...], Fix, str]] = {
    "phone": (("mode",), _phone, "dc.what.phone"),
    "email": (("email",), _email, "dc.what.email"),
    "address": (("address", "postal_code", "city"), _address, "dc.what.address"),
    "national-id": (("national_id",), _national_id, "dc.what.national_id"),
    "national-id-confirm": ((), _confirm, "dc.what.national_id"),
}


def build_router(*, deps: PanelDeps, auth: Authenticator) -> APIRouter:
    """The data-check fixes' page routes."""
    router = APIRouter(include_in_schema=False)

    @router.post("/desk/call/{call_sid}/fix/{kind}")
    async def fix(call_sid: str, kind: str, request: Request,
                  user: Principal = Depends(auth.page_user)) -> Response:
        if kind not in FIXES:
            return render(request, "error.html", {"message": "error.404"}, status_code=404)
        data = form_dict(await request.form())
        fields, op, what = FIXES[kind]

        def run() -> Response:
            with agent_call(deps, call_sid, user) as ctx:
                try:
                    out = op(ctx, deps, data)
                except FieldErrors as exc:
                    if plain_post(request):
                        return back_to("/desk")
                    return errors_response(request, f"dc-{kind}", fields, exc.errors)
                if plain_post(request):
                    return back_to("/desk")
                if out.refusal:
                    result = {"kind": "failed", "key": f"id.reason.{out.refusal['reason']}",
                              "values": {}}
                else:
                    result = {"kind": "ok", "key": "id.ok.fix",
                              "values": {"what": translate(lang_of(request), what)}}
                return identity_panel(request, ctx, None, result)

        return await run_in_threadpool(run)

    return router

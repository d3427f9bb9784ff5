"""JSON endpoints for the desk's identity checks: /api/calls/{call_sid}/identity/…

Agent-scoped (as wazo-calld's /users/me/calls): an agent reaches only calls they answered.
Every value travels in JSON bodies, never in URLs; 422 bodies never echo what was sent.
"""

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine

from identity import case, checks, fnr, lock, service, verify
from identity import kid as kidlib
from identity import schemas as s
from identity.digits import FOREIGN_DIGITS
from identity.pii import PiiHasher, PiiKeyMissing
from identity.rules import load_rules
from identity.scripts import CALL_ENDED, GENERIC_FAILURE
from identity.service import Ctx, Outcome
from switchboard.auth import Authenticator, Principal
from switchboard.db import session_scope
from switchboard.settings import Settings


def clock() -> dt.datetime:
    """Now, in UTC (tests override this dependency)."""
    return dt.datetime.now(dt.UTC)


def _invalid(field: str, msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": msg, "type": "value_error"}])


class RedactingRoute(APIRoute):
    """422 bodies keep loc, msg and type but drop the input, which may be a national ID."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except RequestValidationError as exc:
                errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""),
                           "type": e.get("type", "value_error")} for e in exc.errors()]
                return JSONResponse({"detail": errors}, status_code=422)

        return handler


STATE_EXAMPLE = {
    "call_sid": "CA00000000000000000000000000000001", "script": "member", "step": "identify",
    "level": "none", "verified": False, "locked": False, "attempts_left": 3,
    "callback_offered": False, "call_ended": False,
    "candidates": [{"member_id": 1, "name": "Kari Prøvesen", "membership_number": "100001",
                    "branch": "Avd. 1 Oslo", "verified": False, "label": "not verified"}],
    "member": None, "checks": [],
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The call's identity state: what the desk may show now",
          "content": {"application/json": {"example": STATE_EXAMPLE}}},
    401: {"description": "No valid agent bearer token"},
    403: {"description": "The call was answered by another agent"},
    404: {"description": "No such call"},
    409: {"description": "Refused by the rules. `reason`: failed (one generic message, whichever "
                         "factor failed), locked (offer a callback to the member's registered "
                         "number), not_now, not_the_member, not_a_candidate, not_needed, "
                         "cannot_confirm, consent_not_obtained, no_consent, call_ended",
          "content": {"application/json": {"examples": {
              "failed": {"value": {"detail": GENERIC_FAILURE, "reason": "failed",
                                   "locked": False, "attempts_left": 2,
                                   "callback_offered": False}},
              "call_ended": {"value": {"detail": CALL_ENDED, "reason": "call_ended",
                                       "locked": False, "attempts_left": 3,
                                       "callback_offered": False}}}}}},
    422: {"description": "Invalid input, with the field's path (the value is never echoed)",
          "content": {"application/json": {"example": {"detail": [
              {"loc": ["body", "national_id"], "msg": "not a valid national ID number",
               "type": "value_error"}]}}}},
    503: {"description": "SWITCHBOARD_PII_KEY is not set"},
}


def build_router(*, settings: Settings, engine: Engine, auth: Authenticator) -> APIRouter:
    """The identity API routes."""
    router = APIRouter(prefix="/api/calls/{call_sid}/identity", tags=["identity"],
                       route_class=RedactingRoute, responses=RESPONSES)
    zone = ZoneInfo(settings.timezone)
    Agent = Annotated[Principal, Depends(auth.agent)]
    Now = Annotated[dt.datetime, Depends(clock)]

    def run(call_sid: str, who: Principal, now: dt.datetime,
            op: Callable[[Ctx], Outcome], *, factor: str | None = None) -> JSONResponse:
        """One request: the call (this agent's), the org's rules, then op. A `factor` step on a
        call that has ended is refused (409 call_ended): nobody is on the line to give it."""
        try:
            hasher = PiiHasher.from_settings(settings)
        except PiiKeyMissing as exc:
            raise HTTPException(503, str(exc)) from None
        with session_scope(engine) as session:
            try:
                call = service.agent_call(session, call_sid=call_sid,
                                          agent_id=who.agent_id or "")
            except service.CallNotFound:
                raise HTTPException(404, "no such call") from None
            except service.NotYourCall:
                raise HTTPException(403, "this call was answered by another agent") from None
            ctx = Ctx(session=session, call=call, agent_id=who.agent_id or "", now=now,
                      hasher=hasher, allow_test_ids=settings.allow_test_ids,
                      rules=load_rules(session),
                      caller=lock.caller_hash(hasher, call.from_number))
            if factor is not None and service.call_ended(call):
                state = service.load_state(ctx)
                service.audit(ctx, script=state.script, action=factor, factors=(),
                              outcome="refused_call_ended")
                return JSONResponse(service.refusal_body(state, "call_ended"), status_code=409)
            out = op(ctx)
            body = out.refusal or checks.state_view(ctx, out.state, out.extra)
        return JSONResponse(body, status_code=409 if out.refusal else 200)

    def national_id(ctx: Ctx, raw: str, field: str) -> fnr.IdCheck:
        """The number's verdict under the org's placeholder suffixes; 422 unless usable."""
        check = fnr.classify(raw, today=ctx.now.astimezone(zone).date(),
                             placeholder_suffixes=ctx.rules.placeholder_suffixes)
        if check.acceptable(allow_test_ids=settings.allow_test_ids):
            return check
        reasons = {
            fnr.Verdict.REFUSE: "this kind of number (H- or FH-number) cannot identify a member",
            fnr.Verdict.TEST_ONLY: "synthetic test numbers are accepted only in test mode",
            fnr.Verdict.NEEDS_CORRECTION: "this is a known placeholder, not a national ID",
        }
        default = (FOREIGN_DIGITS if check.reason == FOREIGN_DIGITS
                   else "not a valid national ID number")
        raise _invalid(field, reasons.get(check.verdict, default))

    @router.get("", summary="The call's identity state (also after the call has ended)")
    def get_state(call_sid: str, who: Agent, now: Now) -> JSONResponse:
        """Script, step, level, candidates by calling number (not verified), and, once
        verified, the member (the full view for the member themself, the errand's view for an
        on-behalf script) and, for the member themself, the data checks."""
        return run(call_sid, who, now, lambda ctx: Outcome(service.load_state(ctx)))

    @router.post("/start", summary="Start or switch the verification script")
    def start(call_sid: str, body: s.StartBody, who: Agent, now: Now) -> JSONResponse:
        """member: the member calls; invoice / case: someone calls on a member's behalf."""
        return run(call_sid, who, now, lambda ctx: service.start_script(ctx, body.script),
                   factor="start")

    @router.post("/member/known",
                 summary="Script 1: the agent knows the member (a calling-number candidate)")
    def member_known(call_sid: str, body: s.KnownBody, who: Agent, now: Now) -> JSONResponse:
        """Only a member matched by the calling number (409 not_a_candidate otherwise: run a
        script); the reason is audited. Finishes the script."""
        if body.member_id is None and not body.membership_number:
            raise _invalid("member_id", "give member_id or membership_number")
        return run(call_sid, who, now, lambda ctx: verify.mark_known(
            ctx, member_id=body.member_id, membership_number=body.membership_number,
            reason=body.reason), factor="known")

    @router.post("/member/verify", summary="Script 1: national ID + membership number")
    def member_verify(call_sid: str, body: s.MemberFactorsBody, who: Agent,
                      now: Now) -> JSONResponse:
        """Both must belong to the same member."""
        def op(ctx: Ctx) -> Outcome:
            national_id(ctx, body.national_id, "national_id")
            return verify.verify_member(ctx, national_id=body.national_id,
                                        membership_number=body.membership_number)
        return run(call_sid, who, now, op, factor="member_factors")

    @router.post("/member/verify-birth-date",
                 summary="Script 1: membership number + birth date (ID needs correction)")
    def member_verify_birth(call_sid: str, body: s.BirthDateBody, who: Agent,
                            now: Now) -> JSONResponse:
        """Only for a member whose national ID in the register needs correction."""
        return run(call_sid, who, now, lambda ctx: verify.verify_by_birth_date(
            ctx, membership_number=body.membership_number, birth_date=body.birth_date),
            factor="birth_date_factors")

    @router.post("/invoice/kid", summary="Script 2: the KID the caller reads out")
    def invoice_kid(call_sid: str, body: s.KidBody, who: Agent, now: Now) -> JSONResponse:
        """The check digit is validated; the membership number is sliced out of the KID."""
        def op(ctx: Ctx) -> Outcome:
            if kidlib.foreign_digits(body.kid):
                raise _invalid("kid", FOREIGN_DIGITS)
            if not kidlib.is_valid(body.kid, service.kid_config(ctx.session).algorithm):
                raise _invalid("kid", "the KID's check digit does not match: ask again")
            return verify.invoice_kid(ctx, kid=body.kid)
        return run(call_sid, who, now, op, factor="kid")

    @router.post("/invoice/name", summary="Script 2: the name the caller said")
    def invoice_name(call_sid: str, body: s.NameBody, who: Agent, now: Now) -> JSONResponse:
        """Only after this does the response carry the registered name, for comparison."""
        return run(call_sid, who, now, lambda ctx: verify.invoice_name_said(ctx, name=body.name),
                   factor="name_said")

    @router.post("/invoice/name-confirm", summary="Script 2: do the names match?")
    def invoice_confirm(call_sid: str, body: s.NameConfirmBody, who: Agent,
                        now: Now) -> JSONResponse:
        """The agent's judgement; a mismatch counts as a failed attempt."""
        return run(call_sid, who, now, lambda ctx: verify.invoice_name_confirm(
            ctx, matches=body.matches), factor="name_confirm")

    @router.post("/invoice/verify", summary="Script 2: the member's national ID")
    def invoice_verify(call_sid: str, body: s.PayerFactorsBody, who: Agent,
                       now: Now) -> JSONResponse:
        """Birth date instead only when the register's ID needs correction. The view after
        it shows the errand's needs only (membership and name), and no data checks."""
        if (body.national_id is None) == (body.birth_date is None):
            raise _invalid("national_id", "give either national_id or birth_date")

        def op(ctx: Ctx) -> Outcome:
            if body.national_id is not None:
                national_id(ctx, body.national_id, "national_id")
            return verify.invoice_verify(ctx, national_id=body.national_id,
                                         birth_date=body.birth_date)
        return run(call_sid, who, now, op, factor="payer_factors")

    @router.post("/case/member", summary="Script 3: the member the case is about")
    def case_member(call_sid: str, body: s.CaseSubjectBody, who: Agent,
                    now: Now) -> JSONResponse:
        """Consent is asked of the member next: `callback_numbers` registered numbers to ring
        (never shown), or `member_on_call` when the member verified themself on this call."""
        return run(call_sid, who, now, lambda ctx: case.case_subject(
            ctx, membership_number=body.membership_number), factor="case_subject")

    @router.post("/case/consent",
                 summary="Script 3: record the member's consent and how it was obtained")
    def case_consent(call_sid: str, body: s.ConsentBody, who: Agent, now: Now) -> JSONResponse:
        """Who consented (the member), to whom, for what, how (member on this call, or the
        agent rang the registered number), when, and which agent took it. Otherwise 409
        consent_not_obtained."""
        if body.method == case.CALLBACK and body.phone_position is None:
            raise _invalid("phone_position", "say which registered number was rung (1, 2, …)")
        return run(call_sid, who, now, lambda ctx: case.case_consent(
            ctx, consented=body.consented, given_to=body.given_to, scope=body.scope,
            method=body.method, phone_position=body.phone_position), factor="consent")

    @router.post("/case/verify", summary="Script 3: national ID + membership number, or mobile")
    def case_verify(call_sid: str, body: s.CaseFactorsBody, who: Agent,
                    now: Now) -> JSONResponse:
        """One of the two factor sets. The view after it shows the case errand's needs only
        (membership, name, the consent), and no data checks."""
        by_id = body.national_id is not None or body.membership_number is not None
        if by_id == (body.mobile is not None):
            raise _invalid("national_id", "give national_id + membership_number, or mobile")
        if by_id and not (body.national_id and body.membership_number):
            raise _invalid("membership_number", "national_id needs membership_number too")

        def op(ctx: Ctx) -> Outcome:
            if body.national_id is not None:
                national_id(ctx, body.national_id, "national_id")
            return case.case_verify(ctx, national_id=body.national_id,
                                    membership_number=body.membership_number,
                                    mobile=body.mobile)
        return run(call_sid, who, now, op, factor="case_factors")

    @router.post("/fixes/phone",
                 summary="Data check phone_differs: take the calling number (member only)")
    def fix_phone(call_sid: str, body: s.PhoneFixBody, who: Agent, now: Now) -> JSONResponse:
        """Add the calling number, or replace the registered numbers with it. Audited."""
        return run(call_sid, who, now, lambda ctx: checks.fix_phone(ctx, mode=body.mode))

    @router.post("/fixes/email",
                 summary="Data check email_missing: add an e-mail address (member only)")
    def fix_email(call_sid: str, body: s.EmailFixBody, who: Agent, now: Now) -> JSONResponse:
        """Audited."""
        return run(call_sid, who, now, lambda ctx: checks.fix_email(ctx, email=body.email))

    @router.post("/fixes/address",
                 summary="Data check returned_mail: a new postal address (member only)")
    def fix_address(call_sid: str, body: s.AddressFixBody, who: Agent,
                    now: Now) -> JSONResponse:
        """Clears the returned-mail flag. Audited."""
        return run(call_sid, who, now, lambda ctx: checks.fix_address(
            ctx, address=body.address, postal_code=body.postal_code, city=body.city))

    @router.post("/fixes/national-id",
                 summary="Data check national_id_needs_correction or "
                         "national_id_possible_placeholder: record the member's real ID")
    def fix_national_id(call_sid: str, body: s.NationalIdFixBody, who: Agent,
                        now: Now) -> JSONResponse:
        """Only when the register's ID needs correction or is an unconfirmed possible
        placeholder (409 not_needed otherwise). Validated like any other national ID; stored
        as keyed hash + mask. Audited."""
        def op(ctx: Ctx) -> Outcome:
            check = national_id(ctx, body.national_id, "national_id")
            try:
                return checks.fix_national_id(ctx, national_id=body.national_id, check=check)
            except checks.BirthDateMismatch:
                raise _invalid("national_id", "its birth date is not the member's") from None
        return run(call_sid, who, now, op)

    @router.post("/fixes/national-id/confirm",
                 summary="Data check national_id_possible_placeholder: the member confirms it")
    def confirm_national_id(call_sid: str, who: Agent, now: Now,
                            body: s.PlaceholderConfirmBody | None = None) -> JSONResponse:
        """The member says the register's number is theirs: not asked again. Body optional
        (`{}`). Audited."""
        return run(call_sid, who, now, checks.confirm_national_id)

    return router

"""Script 3: someone calls about a case on a member's behalf (consent first, then factors)."""

from __future__ import annotations

from identity import phone, register
from identity.models import Consent, Member
from identity.service import (
    Ctx,
    Outcome,
    _id_matches,
    audit,
    guard,
    load_state,
    refusal_body,
    step,
)

NO_CONSENT = "Without the member's consent nothing about the case may be discussed."



def case_subject(ctx: Ctx, *, membership_number: str) -> Outcome:
    """The caller names the member; the agent is offered a callback to the registered number."""
    if (refused := guard(ctx, "case_subject")) is not None:
        return refused
    member = register.by_membership_number(ctx.session, membership_number)
    # Without a registered number there is nobody to call back for consent.
    ok = bool(member and register.phones_of(ctx.session, member.id))  # type: ignore[arg-type]
    out = step(ctx, "case_subject", ok=ok, factors=("membership_number",),
               member_id=member.id if member and ok else None)
    if out.refusal is None:
        out.extra = {"callback": "offered"}
    return out


def case_consent(ctx: Ctx, *, consented: bool, given_to: str, scope: str) -> Outcome:
    """Record the member's oral consent, taken on a callback to the registered number."""
    if (refused := guard(ctx, "consent")) is not None:
        return refused
    state = load_state(ctx.session, ctx.call.call_sid)
    if not consented:
        # Not a failed factor (no attempt is counted): the member said no, so the case cannot
        # be discussed with this caller.
        audit(ctx, script="case", action="consent", factors=("consent",), outcome="no_consent")
        body = refusal_body(state, "failed") | {"reason": "no_consent", "detail": NO_CONSENT}
        return Outcome(state, body)
    consent = Consent(member_id=state.member_id, call_sid=ctx.call.call_sid,  # type: ignore[arg-type]
                      given_to=given_to, scope=scope, agent_id=ctx.agent_id, given_at=ctx.now)
    ctx.session.add(consent)
    ctx.session.flush()
    return step(ctx, "consent", ok=True, factors=("consent",), consent_id=consent.id)


def case_verify(ctx: Ctx, *, national_id: str | None, membership_number: str | None,
                mobile: str | None) -> Outcome:
    """National ID plus membership number, or the member's registered mobile number."""
    if (refused := guard(ctx, "case_factors")) is not None:
        return refused
    state = load_state(ctx.session, ctx.call.call_sid)
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    if national_id is not None:
        same = member is not None and member.membership_number == (membership_number or "")
        ok = _id_matches(ctx, member, national_id) and same
        factors: tuple[str, ...] = ("national_id", "membership_number")
    else:
        e164 = phone.normalise(mobile)
        ok = bool(member and e164 and e164 in register.phones_of(ctx.session, member.id))  # type: ignore[arg-type]
        factors = ("mobile",)
    return step(ctx, "case_factors", ok=ok, factors=factors)

"""Script 3: someone calls about a case on a member's behalf (consent first, then factors).

Consent is the member's, heard by the agent: either the member is on this call and verified
themself by script 1, or the agent rang the member's registered number. Who gave it, to whom,
for what, how, when and which agent took it are recorded; anything less opens no case.
"""

from __future__ import annotations

from identity import phone, register
from identity.models import Consent, Member
from identity.service import (
    Ctx,
    Outcome,
    audit,
    guard,
    id_matches,
    load_state,
    member_lock,
    refusal_body,
    self_member_id,
    step,
)

NO_CONSENT = "Without the member's consent nothing about the case may be discussed."
MEMBER_ON_CALL, CALLBACK = "member_on_call", "callback_registered_number"
CONSENT_METHODS = (MEMBER_ON_CALL, CALLBACK)


def case_subject(ctx: Ctx, *, membership_number: str) -> Outcome:
    """The caller names the member; consent is asked of the member next (on this call, or by
    ringing the registered number: `callback_numbers` says how many there are, never which)."""
    if (refused := guard(ctx, "case_subject")) is not None:
        return refused
    member = register.by_membership_number(ctx.session, membership_number)
    if (locked := member_lock(ctx, load_state(ctx), "case_subject", member)) is not None:
        return locked
    phones = register.phones_of(ctx.session, member.id) if member else []  # type: ignore[arg-type]
    on_call = member is not None and self_member_id(ctx.session, ctx.call.call_sid) == member.id
    # Consent needs the member: on this call, or reachable on a registered number.
    ok = bool(member and (phones or on_call))
    out = step(ctx, "case_subject", ok=ok, factors=("membership_number",),
               member_id=member.id if member and ok else None,
               named=member.id if member else None)
    if out.refusal is None:
        out.extra = {"callback": "offered" if phones else "not_possible",
                     "callback_numbers": len(phones), "member_on_call": on_call}
    return out


def case_consent(ctx: Ctx, *, consented: bool, given_to: str, scope: str, method: str,
                 phone_position: int | None) -> Outcome:
    """Record the member's oral consent with how it was obtained; refuse any other."""
    if (refused := guard(ctx, "consent")) is not None:
        return refused
    state = load_state(ctx)
    if not consented:
        # Not a failed factor (no attempt is counted): the member said no, so the case cannot
        # be discussed with this caller.
        audit(ctx, script="case", action="consent", factors=("consent",), outcome="no_consent",
              member_id=state.member_id)
        body = refusal_body(state, "failed") | {"reason": "no_consent", "detail": NO_CONSENT}
        return Outcome(state, body)
    if method == MEMBER_ON_CALL:
        obtained = self_member_id(ctx.session, ctx.call.call_sid) == state.member_id
        phone_position = None
    else:
        count = len(register.phones_of(ctx.session, state.member_id))  # type: ignore[arg-type]
        obtained = phone_position is not None and 1 <= phone_position <= count
    if not obtained or state.member_id is None:
        audit(ctx, script="case", action="consent", factors=("consent",),
              outcome="refused_consent_not_obtained", member_id=state.member_id)
        return Outcome(state, refusal_body(state, "consent_not_obtained"))
    consent = Consent(member_id=state.member_id, call_sid=ctx.call.call_sid, given_to=given_to,
                      scope=scope, method=method, phone_position=phone_position,
                      agent_id=ctx.agent_id, given_at=ctx.now)
    ctx.session.add(consent)
    ctx.session.flush()
    return step(ctx, "consent", ok=True, factors=("consent",), consent_id=consent.id)


def case_verify(ctx: Ctx, *, national_id: str | None, membership_number: str | None,
                mobile: str | None) -> Outcome:
    """National ID plus membership number, or the member's registered mobile number."""
    if (refused := guard(ctx, "case_factors")) is not None:
        return refused
    state = load_state(ctx)
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    if national_id is not None:
        same = member is not None and member.membership_number == (membership_number or "")
        ok = id_matches(ctx, member, national_id) and same
        factors: tuple[str, ...] = ("national_id", "membership_number")
    else:
        e164 = phone.normalise(mobile)
        ok = bool(member and e164 and e164 in register.phones_of(ctx.session, member.id))  # type: ignore[arg-type]
        factors = ("mobile",)
    return step(ctx, "case_factors", ok=ok, factors=factors, named=state.member_id)


def consent_view(ctx: Ctx, consent_id: int | None) -> dict | None:
    """The recorded consent as the case view shows it (who, to whom, what, how, when)."""
    consent = ctx.session.get(Consent, consent_id) if consent_id else None
    if consent is None:
        return None
    return {"given_by": "member", "given_to": consent.given_to, "scope": consent.scope,
            "method": consent.method, "phone_position": consent.phone_position,
            "agent_id": consent.agent_id, "given_at": consent.given_at.isoformat()}

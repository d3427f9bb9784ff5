"""What the desk may see of members, the data checks once the member themself is verified,
and their audited fixes (docs/identity-and-privacy.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import col

from identity import fnr, phone, register, scripts
from identity.case import consent_view
from identity.models import CallIdentity, Member, MemberPhone
from identity.scripts import ScriptState
from identity.service import Ctx, Outcome, audit, callback_offered, load_state, refusal_body


def candidate_view(member: Member) -> dict[str, Any]:
    """A calling-number match: enough to recognise, marked not verified."""
    return {"member_id": member.id, "name": member.name,
            "membership_number": member.membership_number, "branch": member.branch,
            "verified": False, "label": "not verified"}


def member_view(ctx: Ctx, member: Member) -> dict[str, Any]:
    """The member's own verification: their details for the agent (the ID only masked)."""
    return {
        "view": "member",
        "member_id": member.id, "membership_number": member.membership_number,
        "name": member.name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "national_id": member.national_id_masked,
        "national_id_needs_correction": member.needs_correction,
        "national_id_possible_placeholder": _unconfirmed_placeholder(member),
        "phones": register.phones_of(ctx.session, member.id),  # type: ignore[arg-type]
        "email": member.email, "address": member.address,
        "postal_code": member.postal_code, "city": member.city,
        "returned_mail": member.returned_mail, "branch": member.branch,
        "status": member.status, "verified": True,
    }


def errand_view(ctx: Ctx, state: ScriptState, member: Member) -> dict[str, Any]:
    """An on-behalf verification: only what the errand needs (the membership and the name),
    never the member's phones, e-mail, address, birth date or ID."""
    view: dict[str, Any] = {
        "view": state.script, "member_id": member.id,
        "membership_number": member.membership_number, "name": member.name,
        "status": member.status, "branch": member.branch, "verified": True,
    }
    if state.script == scripts.CASE:
        row = ctx.session.get(CallIdentity, ctx.call.call_sid)
        view["consent"] = consent_view(ctx, row.consent_id if row else None)
    return view


def _unconfirmed_placeholder(member: Member) -> bool:
    return bool(member.national_id_possible_placeholder
                and member.national_id_confirmed_hash != member.national_id_hash)


def _action(path: str, body: dict[str, str]) -> dict[str, Any]:
    return {"method": "POST", "path": path, "body": body}


def data_checks(ctx: Ctx, state: ScriptState, member: Member) -> list[dict[str, Any]]:
    """The union's standing checks, each with the action that fixes it; only for the member
    themself (never on the strength of an on-behalf script)."""
    if not state.member_self:
        return []
    base = f"/api/calls/{ctx.call.call_sid}/identity/fixes"
    checks: list[dict[str, Any]] = []
    calling = phone.normalise(ctx.call.from_number)
    if calling and calling not in register.phones_of(ctx.session, member.id):  # type: ignore[arg-type]
        checks.append({"check": "phone_differs",
                       "message": "The calling number is not the member's registered number.",
                       "action": _action(f"{base}/phone", {"mode": "add | replace"})})
    if not member.email:
        checks.append({"check": "email_missing", "message": "No e-mail address on file.",
                       "action": _action(f"{base}/email", {"email": "string"})})
    if member.returned_mail:
        checks.append({"check": "returned_mail",
                       "message": "Mail came back: ask for the current postal address.",
                       "action": _action(f"{base}/address", {
                           "address": "string", "postal_code": "string", "city": "string"})})
    if member.needs_correction:
        checks.append({"check": "national_id_needs_correction",
                       "message": "The national ID on file is a placeholder or invalid.",
                       "action": _action(f"{base}/national-id", {"national_id": "string"})})
    elif _unconfirmed_placeholder(member):
        checks.append({"check": "national_id_possible_placeholder",
                       "message": "This number may be a placeholder: confirm it with the "
                                  "member.",
                       "action": _action(f"{base}/national-id/confirm", {}),
                       "alternative": _action(f"{base}/national-id",
                                              {"national_id": "string"})})
    return checks


def state_view(ctx: Ctx, state: ScriptState | None = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the desk may see for this call now, and nothing more."""
    state = state or load_state(ctx)
    view: dict[str, Any] = {
        "call_sid": ctx.call.call_sid, "script": state.script, "step": state.step,
        "level": state.level, "verified": state.verified, "locked": state.locked,
        "attempts_left": state.attempts_left,
        # A lock carried over from earlier calls offers the callback on this one too.
        "callback_offered": state.locked or callback_offered(ctx.session, ctx.call.call_sid),
        "call_ended": ctx.call.ended_at is not None or ctx.call.stage == "ended",
        "candidates": [], "member": None, "checks": [],
    }
    if state.candidates_allowed and not state.verified:
        view["candidates"] = [candidate_view(m) for m in
                              register.candidates_by_phone(ctx.session, ctx.call.from_number)]
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    if state.details_allowed and member is not None:
        view["member"] = (member_view(ctx, member) if state.member_self
                          else errand_view(ctx, state, member))
        view["checks"] = data_checks(ctx, state, member)
    elif (state.script == scripts.INVOICE and state.step in ("name_confirm", "national_id")
          and member is not None):
        # The caller has said a name: the registered one may be compared now, nothing else.
        view["registered_name"] = member.name
    view.update(extra or {})
    return view


def _member_themself(ctx: Ctx, action: str) -> tuple[ScriptState, Member | None,
                                                     Outcome | None]:
    """The verified member, when the member themself is verified; else the refusal."""
    state = load_state(ctx)
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    if not state.verified or member is None:
        audit(ctx, script=state.script, action=action, factors=(), outcome="refused_not_now")
        return state, None, Outcome(state, refusal_body(state, "not_now"))
    if not state.member_self:
        audit(ctx, script=state.script, action=action, factors=(),
              outcome="refused_not_the_member", member_id=member.id)
        return state, None, Outcome(state, refusal_body(state, "not_the_member"))
    return state, member, None


def _fixed(ctx: Ctx, state: ScriptState, member: Member, action: str, field: str) -> Outcome:
    member.updated_at = ctx.now
    ctx.session.add(member)
    audit(ctx, script=state.script, action=action, factors=(field,), outcome="ok",
          member_id=member.id)
    return Outcome(state)


def fix_phone(ctx: Ctx, *, mode: str) -> Outcome:
    """Add the calling number to the member's numbers, or make it the only one."""
    state, member, refused = _member_themself(ctx, "fix_phone")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    calling = phone.normalise(ctx.call.from_number)
    if calling is None:
        audit(ctx, script=state.script, action="fix_phone", factors=(), outcome="refused_not_now")
        return Outcome(state, refusal_body(state, "not_now"))
    current = register.phones_of(ctx.session, member.id)  # type: ignore[arg-type]
    if mode == "replace":
        ctx.session.exec(delete(MemberPhone).where(col(MemberPhone.member_id) == member.id))
        current = []
    if calling not in current:
        ctx.session.add(MemberPhone(member_id=member.id, e164=calling,  # type: ignore[arg-type]
                                    position=-1 if mode == "replace" else len(current)))
    return _fixed(ctx, state, member, "fix_phone", "phone")


def fix_email(ctx: Ctx, *, email: str) -> Outcome:
    """Add (or change) the e-mail address."""
    state, member, refused = _member_themself(ctx, "fix_email")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    member.email = email
    return _fixed(ctx, state, member, "fix_email", "email")


def fix_address(ctx: Ctx, *, address: str, postal_code: str, city: str) -> Outcome:
    """Take a new postal address; this clears the returned-mail flag."""
    state, member, refused = _member_themself(ctx, "fix_address")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    member.address, member.postal_code, member.city = address, postal_code, city
    member.returned_mail = False
    return _fixed(ctx, state, member, "fix_address", "address")


class BirthDateMismatch(ValueError):
    """The corrected national ID encodes another birth date than the register holds."""


def _id_fix_refused(ctx: Ctx, action: str) -> tuple[ScriptState, Member | None,
                                                    Outcome | None]:
    state, member, refused = _member_themself(ctx, action)
    if refused or member is None:
        return state, None, refused
    if not (member.needs_correction or _unconfirmed_placeholder(member)):
        audit(ctx, script=state.script, action=action, factors=(), outcome="refused_not_needed",
              member_id=member.id)
        return state, None, Outcome(state, refusal_body(state, "not_needed"))
    return state, member, None


def fix_national_id(ctx: Ctx, *, national_id: str, check: fnr.IdCheck) -> Outcome:
    """Record the correct national ID (already validated like any other) as hash + mask; the
    member gave it, so it counts as confirmed even when it ends in a placeholder suffix."""
    state, member, refused = _id_fix_refused(ctx, "fix_national_id")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    birth_date = check.birth_date
    if member.birth_date and birth_date and member.birth_date != birth_date:
        raise BirthDateMismatch("national_id")
    member.birth_date = member.birth_date or birth_date
    member.national_id_hash = ctx.hasher.hash_id(national_id)
    member.national_id_masked = fnr.mask(national_id)
    member.needs_correction = False
    member.national_id_possible_placeholder = check.possible_placeholder
    member.national_id_confirmed_hash = (member.national_id_hash if check.possible_placeholder
                                         else None)
    return _fixed(ctx, state, member, "fix_national_id", "national_id")


def confirm_national_id(ctx: Ctx) -> Outcome:
    """The member confirms that the register's possible placeholder is their real number: it
    is not asked again (until the register holds another number)."""
    state, member, refused = _id_fix_refused(ctx, "confirm_national_id")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    if member.needs_correction:  # an invalid or fake number cannot be confirmed, only replaced
        audit(ctx, script=state.script, action="confirm_national_id", factors=(),
              outcome="refused_cannot_confirm", member_id=member.id)
        return Outcome(state, refusal_body(state, "cannot_confirm"))
    member.national_id_confirmed_hash = member.national_id_hash
    return _fixed(ctx, state, member, "confirm_national_id", "national_id")



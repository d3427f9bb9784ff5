"""What the desk may see of members, the data checks once verified, and their audited fixes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete
from sqlmodel import col

from identity import fnr, phone, register, scripts
from identity.models import Member, MemberPhone
from identity.scripts import ScriptState
from identity.service import Ctx, Outcome, audit, callback_offered, load_state, refusal_body


def candidate_view(member: Member) -> dict[str, Any]:
    """A calling-number match: enough to recognise, marked not verified."""
    return {"member_id": member.id, "name": member.name,
            "membership_number": member.membership_number, "branch": member.branch,
            "verified": False, "label": "not verified"}


def member_view(ctx: Ctx, member: Member) -> dict[str, Any]:
    """The verified member's details for the agent (the national ID only masked)."""
    return {
        "member_id": member.id, "membership_number": member.membership_number,
        "name": member.name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "national_id": member.national_id_masked,
        "national_id_needs_correction": member.needs_correction,
        "phones": register.phones_of(ctx.session, member.id),  # type: ignore[arg-type]
        "email": member.email, "address": member.address,
        "postal_code": member.postal_code, "city": member.city,
        "returned_mail": member.returned_mail, "branch": member.branch,
        "status": member.status, "verified": True,
    }


def data_checks(ctx: Ctx, state: ScriptState, member: Member) -> list[dict[str, Any]]:
    """The union's standing checks, each with the action that fixes it."""
    base = f"/api/calls/{ctx.call.call_sid}/identity/fixes"
    checks: list[dict[str, Any]] = []
    calling = phone.normalise(ctx.call.from_number)
    # On behalf of a member the calling number is someone else's, so it is not offered.
    if (state.script == scripts.MEMBER and calling
            and calling not in register.phones_of(ctx.session, member.id)):  # type: ignore[arg-type]
        checks.append({"check": "phone_differs",
                       "message": "The calling number is not the member's registered number.",
                       "action": {"method": "POST", "path": f"{base}/phone",
                                  "body": {"mode": "add | replace"}}})
    if not member.email:
        checks.append({"check": "email_missing", "message": "No e-mail address on file.",
                       "action": {"method": "POST", "path": f"{base}/email",
                                  "body": {"email": "string"}}})
    if member.returned_mail:
        checks.append({"check": "returned_mail",
                       "message": "Mail came back: ask for the current postal address.",
                       "action": {"method": "POST", "path": f"{base}/address",
                                  "body": {"address": "string", "postal_code": "string",
                                           "city": "string"}}})
    if member.needs_correction:
        checks.append({"check": "national_id_needs_correction",
                       "message": "The national ID on file is a placeholder or invalid.",
                       "action": {"method": "POST", "path": f"{base}/national-id",
                                  "body": {"national_id": "string"}}})
    return checks


def state_view(ctx: Ctx, state: ScriptState | None = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the desk may see for this call now, and nothing more."""
    state = state or load_state(ctx.session, ctx.call.call_sid)
    view: dict[str, Any] = {
        "call_sid": ctx.call.call_sid, "script": state.script, "step": state.step,
        "level": state.level, "verified": state.verified, "locked": state.locked,
        "attempts_left": state.attempts_left,
        "callback_offered": callback_offered(ctx.session, ctx.call.call_sid),
        "candidates": [], "member": None, "checks": [],
    }
    if state.candidates_allowed and not state.verified:
        view["candidates"] = [candidate_view(m) for m in
                              register.candidates_by_phone(ctx.session, ctx.call.from_number)]
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    if state.details_allowed and member is not None:
        view["member"] = member_view(ctx, member)
        view["checks"] = data_checks(ctx, state, member)
    elif (state.script == scripts.INVOICE and state.step in ("name_confirm", "national_id")
          and member is not None):
        # The caller has said a name: the registered one may be compared now, nothing else.
        view["registered_name"] = member.name
    view.update(extra or {})
    return view


def _verified_member(ctx: Ctx, action: str) -> tuple[ScriptState, Member | None, Outcome | None]:
    state = load_state(ctx.session, ctx.call.call_sid)
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    if not state.verified or member is None:
        audit(ctx, script=state.script, action=action, factors=(), outcome="refused_not_now")
        return state, None, Outcome(state, refusal_body(state, "not_now"))
    return state, member, None


def _fixed(ctx: Ctx, state: ScriptState, member: Member, action: str, field: str) -> Outcome:
    member.updated_at = ctx.now
    ctx.session.add(member)
    audit(ctx, script=state.script, action=action, factors=(field,), outcome="ok",
          member_id=member.id)
    return Outcome(state)


def fix_phone(ctx: Ctx, *, mode: str) -> Outcome:
    """Add the calling number to the member's numbers, or make it the only one."""
    state, member, refused = _verified_member(ctx, "fix_phone")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    calling = phone.normalise(ctx.call.from_number)
    if calling is None or state.script != scripts.MEMBER:
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
    state, member, refused = _verified_member(ctx, "fix_email")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    member.email = email
    return _fixed(ctx, state, member, "fix_email", "email")


def fix_address(ctx: Ctx, *, address: str, postal_code: str, city: str) -> Outcome:
    """Take a new postal address; this clears the returned-mail flag."""
    state, member, refused = _verified_member(ctx, "fix_address")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    member.address, member.postal_code, member.city = address, postal_code, city
    member.returned_mail = False
    return _fixed(ctx, state, member, "fix_address", "address")


class BirthDateMismatch(ValueError):
    """The corrected national ID encodes another birth date than the register holds."""


def fix_national_id(ctx: Ctx, *, national_id: str, birth_date: dt.date | None) -> Outcome:
    """Record the correct national ID (already validated like any other) as hash + mask."""
    state, member, refused = _verified_member(ctx, "fix_national_id")
    if refused or member is None:
        return refused  # type: ignore[return-value]
    if member.birth_date and birth_date and member.birth_date != birth_date:
        raise BirthDateMismatch("national_id")
    member.birth_date = member.birth_date or birth_date
    member.national_id_hash = ctx.hasher.hash_id(national_id)
    member.national_id_masked = fnr.mask(national_id)
    member.needs_correction = False
    return _fixed(ctx, state, member, "fix_national_id", "national_id")

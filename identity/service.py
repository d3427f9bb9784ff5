"""Identity steps over the database: load the call's script state, look facts up, feed the
pure state machine, save, audit. Values never reach the audit log, only factor names."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from identity import kid as kidlib
from identity import register, scripts
from identity.models import AuditEntry, CallIdentity, Member
from identity.pii import PiiHasher
from identity.scripts import ScriptState, StepRefused
from ivr.models import Call
from routing.models import Organisation


class CallNotFound(LookupError):
    """No call with that CallSid."""


class NotYourCall(PermissionError):
    """The call was not answered by this agent."""


@dataclass
class Ctx:
    """One request's world: the session, the call, the agent, the clock and the hasher."""

    session: Session
    call: Call
    agent_id: str
    now: dt.datetime
    hasher: PiiHasher
    allow_test_ids: bool


@dataclass
class Outcome:
    """A step's result: the new state, and the refusal (409 body) when the rules said no."""

    state: ScriptState
    refusal: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def agent_call(session: Session, *, call_sid: str, agent_id: str) -> Call:
    """The call, if this agent answered it (agent-scoped, like /users/me/calls)."""
    call = session.get(Call, call_sid)
    if call is None:
        raise CallNotFound(call_sid)
    if call.answered_by != agent_id:
        raise NotYourCall(call_sid)
    return call


def load_state(session: Session, call_sid: str, *, for_update: bool = False) -> ScriptState:
    """The call's script state (a fresh one when none is stored); for_update locks the row
    (PostgreSQL) so two requests cannot both spend the same attempt."""
    row = session.get(CallIdentity, call_sid, with_for_update=True if for_update else None)
    if row is None:
        return ScriptState()
    return ScriptState(script=row.script, step=row.step, member_id=row.member_id,
                       failures=row.failures, level=row.level, factors=tuple(row.factors))


def callback_offered(session: Session, call_sid: str) -> bool:
    """True once the lock has offered a callback to the registered number."""
    row = session.get(CallIdentity, call_sid)
    return bool(row and row.callback_offered)


def save_state(ctx: Ctx, state: ScriptState, *, consent_id: int | None = None) -> None:
    """Store the state and keep the level reached on the call (tickets carry it)."""
    row = ctx.session.get(CallIdentity, ctx.call.call_sid)
    if row is None:
        row = CallIdentity(call_sid=ctx.call.call_sid, updated_at=ctx.now)
    row.script, row.step, row.member_id = state.script, state.step, state.member_id
    row.failures, row.level, row.factors = state.failures, state.level, list(state.factors)
    row.updated_at = ctx.now
    if consent_id is not None:
        row.consent_id = consent_id
    if state.locked:
        row.callback_offered = True
    ctx.session.add(row)
    ctx.call.verification = state.level
    ctx.session.add(ctx.call)


def audit(ctx: Ctx, *, script: str | None, action: str, factors: tuple[str, ...] | list[str],
          outcome: str, member_id: int | None = None) -> None:
    """Append one audit row: who, when, call, script, factor names, outcome."""
    ctx.session.add(AuditEntry(at=ctx.now, agent_id=ctx.agent_id, call_sid=ctx.call.call_sid,
                               script=script, action=action, factors=list(factors),
                               outcome=outcome, member_id=member_id))


def refusal_body(state: ScriptState, reason: str) -> dict[str, Any]:
    """The 409 body: one generic message whatever factor failed."""
    detail = {"failed": scripts.GENERIC_FAILURE, "locked": scripts.LOCKED_MESSAGE,
              "not_now": scripts.NOT_NOW}[reason]
    return {"detail": detail, "reason": "locked" if state.locked else reason,
            "locked": state.locked, "attempts_left": state.attempts_left,
            "callback_offered": state.locked}


def _refused(ctx: Ctx, state: ScriptState, action: str, exc: StepRefused) -> Outcome:
    audit(ctx, script=scripts.ACTIONS.get(action, (state.script,))[0], action=action,
          factors=(), outcome=f"refused_{exc.reason}", member_id=None)
    return Outcome(state, refusal_body(state, exc.reason))


def step(ctx: Ctx, action: str, *, ok: bool, factors: tuple[str, ...],
         member_id: int | None = None, level: str | None = None,
         consent_id: int | None = None) -> Outcome:
    """Run one scripted step whose facts are already checked; save and audit either way."""
    state = load_state(ctx.session, ctx.call.call_sid, for_update=True)
    try:
        new = scripts.advance(state, action, ok=ok, factors=factors, member_id=member_id,
                              level=level)
    except StepRefused as exc:
        return _refused(ctx, state, action, exc)
    save_state(ctx, new, consent_id=consent_id)
    outcome = "ok" if ok else ("failed_locked" if new.locked else "failed")
    audit(ctx, script=new.script, action=action, factors=factors, outcome=outcome,
          member_id=(member_id or new.member_id) if ok else None)
    return Outcome(new, None if ok else refusal_body(new, "failed"))


def guard(ctx: Ctx, action: str) -> Outcome | None:
    """Refuse (and audit) before any lookup when the step is not allowed now."""
    state = load_state(ctx.session, ctx.call.call_sid, for_update=True)
    try:
        scripts.check_allowed(state, action)
    except StepRefused as exc:
        return _refused(ctx, state, action, exc)
    return None


def start_script(ctx: Ctx, script: str) -> Outcome:
    """Begin or switch script; the verified member and level are reset, failures kept."""
    state = load_state(ctx.session, ctx.call.call_sid, for_update=True)
    try:
        new = scripts.start(state, script)
    except StepRefused as exc:
        return _refused(ctx, state, "start", exc)
    save_state(ctx, new)
    audit(ctx, script=script, action="start", factors=(), outcome="ok")
    return Outcome(new)


# --- script 1: the member calls -----------------------------------------------------------

def _id_matches(ctx: Ctx, member: Member | None, national_id: str) -> bool:
    ok = member is not None and not member.needs_correction
    # Hash even when there is no member, so the answer takes the same time either way.
    return ctx.hasher.matches(national_id, member.national_id_hash if member else None) and ok


def mark_known(ctx: Ctx, *, member_id: int | None, membership_number: str | None) -> Outcome:
    """The agent knows the caller personally: audited, and the script is done."""
    if (refused := guard(ctx, "known")) is not None:
        return refused
    member = (ctx.session.get(Member, member_id) if member_id is not None
              else register.by_membership_number(ctx.session, membership_number or ""))
    return step(ctx, "known", ok=member is not None, factors=("known_by_agent",),
                member_id=member.id if member else None, level=scripts.LEVEL_KNOWN)


def verify_member(ctx: Ctx, *, national_id: str, membership_number: str) -> Outcome:
    """National ID and membership number must belong to the same member."""
    if (refused := guard(ctx, "member_factors")) is not None:
        return refused
    member = register.by_membership_number(ctx.session, membership_number)
    ok = _id_matches(ctx, member, national_id)
    return step(ctx, "member_factors", ok=ok, factors=("national_id", "membership_number"),
                member_id=member.id if member and ok else None)


def verify_by_birth_date(ctx: Ctx, *, membership_number: str, birth_date: dt.date) -> Outcome:
    """For a member whose national ID needs correction: membership number plus birth date."""
    if (refused := guard(ctx, "birth_date_factors")) is not None:
        return refused
    member = register.by_membership_number(ctx.session, membership_number)
    ok = bool(member and member.needs_correction and member.birth_date == birth_date)
    return step(ctx, "birth_date_factors", ok=ok, factors=("membership_number", "birth_date"),
                member_id=member.id if member and ok else None)


# --- script 2: an invoice on a member's behalf --------------------------------------------

def kid_config(session: Session) -> kidlib.KidConfig:
    """The organisation's KID rules (org file `kid:`), defaults when missing."""
    org = session.get(Organisation, 1)
    return kidlib.KidConfig.from_config(org.config if org else None)


def invoice_kid(ctx: Ctx, *, kid: str) -> Outcome:
    """The KID (check digit already validated) names the member through its slice."""
    if (refused := guard(ctx, "kid")) is not None:
        return refused
    number = kidlib.membership_number(kid, kid_config(ctx.session))
    member = register.by_membership_number(ctx.session, number) if number else None
    return step(ctx, "kid", ok=member is not None, factors=("kid",),
                member_id=member.id if member else None)


def _names_match(said: str, registered: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(s.casefold().replace("-", " ").split())
    return hmac.compare_digest(norm(said).encode(), norm(registered).encode())


def invoice_name_said(ctx: Ctx, *, name: str) -> Outcome:
    """The agent has typed the name the caller said; only now is the registered name shown."""
    if (refused := guard(ctx, "name_said")) is not None:
        return refused
    state = load_state(ctx.session, ctx.call.call_sid)
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    out = step(ctx, "name_said", ok=member is not None, factors=())
    if member is not None and out.refusal is None:
        out.extra = {"registered_name": member.name,
                     "names_look_alike": _names_match(name, member.name)}
    return out


def invoice_name_confirm(ctx: Ctx, *, matches: bool) -> Outcome:
    """The agent's judgement: did the caller give the member's name?"""
    if (refused := guard(ctx, "name_confirm")) is not None:
        return refused
    return step(ctx, "name_confirm", ok=matches, factors=("name",))


def invoice_verify(ctx: Ctx, *, national_id: str | None, birth_date: dt.date | None) -> Outcome:
    """The member's national ID (or birth date, when the register's ID needs correction)."""
    if (refused := guard(ctx, "payer_factors")) is not None:
        return refused
    state = load_state(ctx.session, ctx.call.call_sid)
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    if national_id is not None:
        ok, factors = _id_matches(ctx, member, national_id), ("national_id",)
    else:
        ok = bool(member and member.needs_correction and member.birth_date == birth_date)
        factors = ("birth_date",)
    return step(ctx, "payer_factors", ok=ok, factors=factors)

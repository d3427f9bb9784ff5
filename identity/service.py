"""Identity steps over the database: load the call's script state, look facts up, feed the
pure state machine, save, audit. Values never reach the audit log, only factor names."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

from identity import kid as kidlib
from identity import lock, scripts
from identity.models import AuditEntry, CallIdentity, Member
from identity.pii import PiiHasher
from identity.rules import IdentityRules
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
    rules: IdentityRules = field(default_factory=IdentityRules)
    caller: str | None = None  # keyed hash of the calling number (lock counts), None if withheld


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


def call_ended(call: Call) -> bool:
    """True once Twilio has reported the call's end."""
    return call.ended_at is not None or call.stage == "ended"


def load_state(ctx: Ctx, *, for_update: bool = False) -> ScriptState:
    """The call's script state (a fresh one when none is stored), with the failures that count
    now: the most of this call's, this calling number's and the named member's in the window.
    for_update locks the row (PostgreSQL) so two requests cannot both spend one attempt."""
    row = ctx.session.get(CallIdentity, ctx.call.call_sid,
                          with_for_update=True if for_update else None)
    state = ScriptState() if row is None else ScriptState(
        script=row.script, step=row.step, member_id=row.member_id, level=row.level,
        factors=tuple(row.factors))
    count = lock.failures(ctx.session, call_sid=ctx.call.call_sid, caller=ctx.caller,
                          member_id=state.member_id, rules=ctx.rules, now=ctx.now)
    return replace(state, failures=count, limit=ctx.rules.lock_failures)


def self_member_id(session: Session, call_sid: str) -> int | None:
    """The member who verified themself by script 1 on this call, if any."""
    row = session.get(CallIdentity, call_sid)
    return row.self_member_id if row else None


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
    if state.member_self:
        row.self_member_id = state.member_id
    if state.locked:
        row.callback_offered = True
    ctx.session.add(row)
    ctx.call.verification = state.level
    ctx.session.add(ctx.call)


def audit(ctx: Ctx, *, script: str | None, action: str, factors: tuple[str, ...] | list[str],
          outcome: str, member_id: int | None = None, note: str | None = None) -> None:
    """Append one audit row: who, when, call, script, factor names, outcome (and the agent's
    own reason where one is asked for)."""
    ctx.session.add(AuditEntry(at=ctx.now, agent_id=ctx.agent_id, call_sid=ctx.call.call_sid,
                               script=script, action=action, factors=list(factors),
                               outcome=outcome, member_id=member_id, note=note))


DETAILS = {"failed": scripts.GENERIC_FAILURE, "locked": scripts.LOCKED_MESSAGE,
           "not_now": scripts.NOT_NOW, "not_the_member": scripts.NOT_THE_MEMBER,
           "not_a_candidate": scripts.NOT_A_CANDIDATE, "not_needed": scripts.NOT_NEEDED,
           "call_ended": scripts.CALL_ENDED, "cannot_confirm": scripts.CANNOT_CONFIRM,
           "consent_not_obtained": scripts.CONSENT_NOT_OBTAINED}


def refusal_body(state: ScriptState, reason: str) -> dict[str, Any]:
    """The 409 body: one generic message whatever factor failed. When locked, it tells the desk
    to offer a callback to the member's registered number (never the number itself)."""
    locked = state.locked or reason == "locked"
    shown = "locked" if locked and reason in ("failed", "not_now") else reason
    return {"detail": DETAILS[shown], "reason": shown, "locked": locked,
            "attempts_left": 0 if locked else state.attempts_left,
            "callback_offered": locked}


def member_lock(ctx: Ctx, state: ScriptState, action: str,
                member: Member | None) -> Outcome | None:
    """Refuse (and audit) before checking any factor when the named member is locked."""
    if member is None or not lock.member_locked(ctx.session, member.id,  # type: ignore[arg-type]
                                                rules=ctx.rules, now=ctx.now):
        return None
    audit(ctx, script=state.script, action=action, factors=(), outcome="refused_locked",
          member_id=member.id)
    row = ctx.session.get(CallIdentity, ctx.call.call_sid)
    if row is not None:
        row.callback_offered = True
        ctx.session.add(row)
    return Outcome(state, refusal_body(state, "locked"))


def _refused(ctx: Ctx, state: ScriptState, action: str, exc: StepRefused) -> Outcome:
    audit(ctx, script=scripts.ACTIONS.get(action, (state.script,))[0], action=action,
          factors=(), outcome=f"refused_{exc.reason}", member_id=None)
    return Outcome(state, refusal_body(state, exc.reason))


def step(ctx: Ctx, action: str, *, ok: bool, factors: tuple[str, ...],
         member_id: int | None = None, level: str | None = None,
         consent_id: int | None = None, named: int | None = None,
         note: str | None = None) -> Outcome:
    """Run one scripted step whose facts are already checked; save and audit either way. A
    failure is counted against the call, the calling number and `named`, the member the
    attempt named (when it named one)."""
    state = load_state(ctx, for_update=True)
    try:
        new = scripts.advance(state, action, ok=ok, factors=factors, member_id=member_id,
                              level=level)
    except StepRefused as exc:
        return _refused(ctx, state, action, exc)
    if not ok:
        lock.record_failure(ctx.session, call_sid=ctx.call.call_sid, caller=ctx.caller,
                            member_id=named, now=ctx.now)
        if named is not None and named != new.member_id:
            # The attempt named a member the script has not: their own count may lock now.
            ctx.session.flush()
            mine = lock.member_failures(ctx.session, named, rules=ctx.rules, now=ctx.now)
            new = replace(new, failures=max(new.failures, mine))
    save_state(ctx, new, consent_id=consent_id)
    outcome = "ok" if ok else ("failed_locked" if new.locked else "failed")
    audit(ctx, script=new.script, action=action, factors=factors, outcome=outcome,
          member_id=(member_id or new.member_id) if ok else None, note=note)
    return Outcome(new, None if ok else refusal_body(new, "failed"))


def guard(ctx: Ctx, action: str) -> Outcome | None:
    """Refuse (and audit) before any lookup when the step is not allowed now."""
    state = load_state(ctx, for_update=True)
    try:
        scripts.check_allowed(state, action)
    except StepRefused as exc:
        return _refused(ctx, state, action, exc)
    return None


def start_script(ctx: Ctx, script: str) -> Outcome:
    """Begin or switch script; the verified member and level are reset, failures kept."""
    state = load_state(ctx, for_update=True)
    try:
        new = scripts.start(state, script)
    except StepRefused as exc:
        return _refused(ctx, state, "start", exc)
    save_state(ctx, new)
    audit(ctx, script=script, action="start", factors=(), outcome="ok")
    return Outcome(new)


def id_matches(ctx: Ctx, member: Member | None, national_id: str) -> bool:
    """The spoken national ID is this member's usable one (never a needs-correction entry)."""
    ok = member is not None and not member.needs_correction
    # Hash even when there is no member, so the answer takes the same time either way.
    return ctx.hasher.matches(national_id, member.national_id_hash if member else None) and ok


def kid_config(session: Session) -> kidlib.KidConfig:
    """The organisation's KID rules (org file `kid:`), defaults when missing."""
    org = session.get(Organisation, 1)
    return kidlib.KidConfig.from_config(org.config if org else None)

"""Scripts 1 and 2 over the database: the member calls; someone calls about an invoice."""

from __future__ import annotations

import datetime as dt
import hmac

from identity import kid as kidlib
from identity import register, scripts
from identity.models import Member
from identity.service import (
    Ctx,
    Outcome,
    audit,
    guard,
    id_matches,
    kid_config,
    load_state,
    member_lock,
    refusal_body,
    step,
)

# --- script 1: the member calls -----------------------------------------------------------


def mark_known(ctx: Ctx, *, member_id: int | None, membership_number: str | None,
               reason: str) -> Outcome:
    """The agent knows the caller personally: only a member matched by the calling number,
    with the agent's reason audited; anyone else needs a script (no attempt is counted)."""
    if (refused := guard(ctx, "known")) is not None:
        return refused
    state = load_state(ctx)
    candidates = register.candidates_by_phone(ctx.session, ctx.call.from_number)
    member = next((m for m in candidates
                   if (member_id is not None and m.id == member_id)
                   or (member_id is None and m.membership_number == membership_number)), None)
    if member is None:
        audit(ctx, script=scripts.MEMBER, action="known", factors=(),
              outcome="refused_not_a_candidate", note=reason)
        return Outcome(state, refusal_body(state, "not_a_candidate"))
    if (locked := member_lock(ctx, state, "known", member)) is not None:
        return locked
    return step(ctx, "known", ok=True, factors=("known_by_agent",), member_id=member.id,
                level=scripts.LEVEL_KNOWN, note=reason)


def verify_member(ctx: Ctx, *, national_id: str, membership_number: str) -> Outcome:
    """National ID and membership number must belong to the same member."""
    if (refused := guard(ctx, "member_factors")) is not None:
        return refused
    member = register.by_membership_number(ctx.session, membership_number)
    if (locked := member_lock(ctx, load_state(ctx), "member_factors", member)) is not None:
        return locked
    ok = id_matches(ctx, member, national_id)
    return step(ctx, "member_factors", ok=ok, factors=("national_id", "membership_number"),
                member_id=member.id if member and ok else None,
                named=member.id if member else None)


def verify_by_birth_date(ctx: Ctx, *, membership_number: str, birth_date: dt.date) -> Outcome:
    """For a member whose national ID needs correction: membership number plus birth date."""
    if (refused := guard(ctx, "birth_date_factors")) is not None:
        return refused
    member = register.by_membership_number(ctx.session, membership_number)
    if (locked := member_lock(ctx, load_state(ctx), "birth_date_factors", member)) is not None:
        return locked
    ok = bool(member and member.needs_correction and member.birth_date == birth_date)
    return step(ctx, "birth_date_factors", ok=ok, factors=("membership_number", "birth_date"),
                member_id=member.id if member and ok else None,
                named=member.id if member else None)


# --- script 2: an invoice on a member's behalf --------------------------------------------

def invoice_kid(ctx: Ctx, *, kid: str) -> Outcome:
    """The KID (check digit already validated) names the member through its slice."""
    if (refused := guard(ctx, "kid")) is not None:
        return refused
    number = kidlib.membership_number(kid, kid_config(ctx.session))
    member = register.by_membership_number(ctx.session, number) if number else None
    if (locked := member_lock(ctx, load_state(ctx), "kid", member)) is not None:
        return locked
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
    state = load_state(ctx)
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
    return step(ctx, "name_confirm", ok=matches, factors=("name",),
                named=load_state(ctx).member_id)


def invoice_verify(ctx: Ctx, *, national_id: str | None, birth_date: dt.date | None) -> Outcome:
    """The member's national ID (or birth date, when the register's ID needs correction)."""
    if (refused := guard(ctx, "payer_factors")) is not None:
        return refused
    state = load_state(ctx)
    member = ctx.session.get(Member, state.member_id) if state.member_id else None
    if national_id is not None:
        ok, factors = id_matches(ctx, member, national_id), ("national_id",)
    else:
        ok = bool(member and member.needs_correction and member.birth_date == birth_date)
        factors = ("birth_date",)
    return step(ctx, "payer_factors", ok=ok, factors=factors, named=state.member_id)

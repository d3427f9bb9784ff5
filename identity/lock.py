"""Failed verifications counted per call, per member and per calling number over the org
file's window (docs/identity-and-privacy.md): enough failures lock verification until the
window passes or an admin unlocks it. Calling numbers are kept only as keyed hashes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from identity import phone
from identity.models import IdentityFailure
from identity.pii import PiiHasher
from identity.rules import IdentityRules


def caller_hash(hasher: PiiHasher, from_number: str | None) -> str | None:
    """The keyed hash of the calling number in E.164, or None when it is withheld."""
    e164 = phone.normalise(from_number)
    return hasher.hash_text("caller:" + e164) if e164 else None


def _count(session: Session, *conditions: Any) -> int:
    stmt = (select(func.count()).select_from(IdentityFailure)
            .where(col(IdentityFailure.cleared_at).is_(None), *conditions))
    return int(session.exec(stmt).one())  # type: ignore[call-overload]


def _since(rules: IdentityRules, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(hours=rules.lock_window_hours)


def member_failures(session: Session, member_id: int, *, rules: IdentityRules,
                    now: dt.datetime) -> int:
    """Failed attempts naming this member within the window."""
    return _count(session, IdentityFailure.member_id == member_id,
                  col(IdentityFailure.at) > _since(rules, now))


def failures(session: Session, *, call_sid: str, caller: str | None, member_id: int | None,
             rules: IdentityRules, now: dt.datetime) -> int:
    """The highest of the three counts that apply: this call's, this calling number's and (when
    the script has named one) this member's."""
    counts = [_count(session, IdentityFailure.call_sid == call_sid)]
    if caller is not None:
        counts.append(_count(session, IdentityFailure.caller_hash == caller,
                             col(IdentityFailure.at) > _since(rules, now)))
    if member_id is not None:
        counts.append(member_failures(session, member_id, rules=rules, now=now))
    return max(counts)


def member_locked(session: Session, member_id: int, *, rules: IdentityRules,
                  now: dt.datetime) -> bool:
    """True when this member's verification is locked now."""
    return member_failures(session, member_id, rules=rules, now=now) >= rules.lock_failures


def record_failure(session: Session, *, call_sid: str, caller: str | None,
                   member_id: int | None, now: dt.datetime) -> None:
    """Count one failed attempt (the member it named, when it named one)."""
    session.add(IdentityFailure(at=now, call_sid=call_sid, member_id=member_id,
                                caller_hash=caller))


def unlock(session: Session, *, now: dt.datetime, member_id: int | None = None,
           call_sid: str | None = None, caller: str | None = None) -> int:
    """Clear the uncleared failures on a member, or on a call and its calling number; returns
    how many were cleared (the rows stay, for the record)."""
    conditions: list[Any] = []
    if member_id is not None:
        conditions.append(IdentityFailure.member_id == member_id)
    if call_sid is not None:
        conditions.append(IdentityFailure.call_sid == call_sid)
    if caller is not None:
        conditions.append(IdentityFailure.caller_hash == caller)
    if not conditions:
        return 0
    stmt = (update(IdentityFailure)
            .where(col(IdentityFailure.cleared_at).is_(None), or_(*conditions))
            .values(cleared_at=now))
    return int(session.exec(stmt).rowcount or 0)  # type: ignore[call-overload,attr-defined]


def locked_members(session: Session, *, rules: IdentityRules, now: dt.datetime
                   ) -> list[tuple[int, int, dt.datetime]]:
    """(member_id, failures, last failure) for every member locked now."""
    stmt = (select(IdentityFailure.member_id, func.count(), func.max(IdentityFailure.at))
            .where(col(IdentityFailure.cleared_at).is_(None),
                   col(IdentityFailure.member_id).is_not(None),
                   col(IdentityFailure.at) > _since(rules, now))
            .group_by(col(IdentityFailure.member_id))
            .having(func.count() >= rules.lock_failures))
    return [(int(m), int(n), at)  # type: ignore[arg-type,misc]
            for m, n, at in session.exec(stmt).all()]

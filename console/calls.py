"""An agent's own calls, read from what routing and the IVR already write (docs/desk.md).

A call is the agent's while the agent holds a live offer for it (`offer.live`, state ringing or
on_call, not expired) and the call has not ended: exactly while the agent's phone rings or the
agent talks. Every read here is scoped to one agent id, which comes from the signed-in
principal, never from the request: agent A can never read agent B's calls.

The shape follows wazo-calld's `/users/me/calls`: `{"items": [{"call_id", "status", …}]}`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from identity.phone import WITHHELD
from identity.register import candidates_by_phone
from ivr.models import Call
from routing.snapshot import OrgSnapshot
from routing.state import LIVE, OFFER

CALL = Call.__table__  # type: ignore[attr-defined]

# Every live offer with its call: one probe of the partial index of live offers, and the call
# by its primary key. The desk feed runs it once per tick for everyone (console.events).
_LIVE_CALLS = (
    select(OFFER.c.agent_id, OFFER.c.state, OFFER.c.loop_id, OFFER.c.created_at,
           OFFER.c.answered_at, CALL.c.call_sid, CALL.c.from_number, CALL.c.kind, CALL.c.lang)
    .select_from(OFFER.join(CALL, CALL.c.call_sid == OFFER.c.call_sid))
    .where(and_(LIVE, OFFER.c.expires_at > bindparam("b_now"), CALL.c.ended_at.is_(None)))
    .order_by(OFFER.c.id))
_MY_CALLS = _LIVE_CALLS.where(OFFER.c.agent_id == bindparam("b_agent"))

DEFAULT_GREETING = {"nb": "{org}, du snakker med {agent}.", "en": "{org}, {agent} speaking."}


@dataclass(frozen=True)
class MyCall:
    """One call as the agent's screen pop shows it."""

    call_id: str
    status: str  # ringing | up
    caller_id_number: str | None  # formatted for reading, None when withheld or not a number
    caller_withheld: bool
    line: str  # switchboard | direct
    loop_id: str | None
    loop_name: str | None
    menu_choice: str | None  # the digit the caller pressed, if the menu led here
    lang: str  # the caller's language: nb | en
    greeting_line: str
    members: tuple[str, ...]  # names of members registered with the calling number (not verified)
    creation_time: str
    answer_time: str | None

    def as_json(self) -> dict[str, Any]:
        """The API's item (wazo-calld's field names where they exist)."""
        out = asdict(self)
        out["members"] = [{"name": n, "verified": False} for n in self.members]
        return out


def format_number(raw: str | None) -> tuple[str | None, bool]:
    """(the caller's number for reading, withheld?) — None for a withheld or unusable ID."""
    text = (raw or "").strip()
    if text.lower() in WITHHELD:
        return None, True
    try:
        parsed = phonenumbers.parse(text, "NO")
    except phonenumbers.NumberParseException:
        return None, False
    if not phonenumbers.is_possible_number(parsed):
        return None, False
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL), False


def greeting_line(snap: OrgSnapshot, lang: str, first_name: str) -> str:
    """`organisation.greeting_line` in the caller's language, with {agent} filled in."""
    configured = (snap.config.get("greeting_line") or {}).get(lang)
    if configured:
        return str(configured).format(agent=first_name)
    org = (snap.name_en or snap.name) if lang == "en" else snap.name
    return DEFAULT_GREETING["en" if lang == "en" else "nb"].format(org=org, agent=first_name)


def _menu_choice(snap: OrgSnapshot, loop_id: str | None, lang: str) -> str | None:
    if loop_id is None:
        return None
    if lang == "en" and snap.english and snap.english[1] == loop_id:
        return snap.english[0]
    for digit, target in snap.menu.items():
        if target == loop_id:
            return digit
    return None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def members_of(conn: Connection, from_number: str | None) -> tuple[str, ...]:
    """Names of the members registered with the calling number (never verified here)."""
    with Session(bind=conn) as session:
        return tuple(m.name for m in candidates_by_phone(session, from_number))


def first_name(snap: OrgSnapshot, agent_id: str) -> str:
    """The agent's first name, as the greeting line says it."""
    agent = snap.agents.get(agent_id)
    return (agent.name if agent else agent_id).split(" ")[0]


def _to_call(r: Any, snap: OrgSnapshot, first: str,
             caller: tuple[str | None, bool, tuple[str, ...]]) -> MyCall:
    lang = r.lang if r.lang in ("nb", "en") else "nb"
    number, withheld, members = caller
    loop = snap.loops.get(r.loop_id or "")
    return MyCall(
        call_id=r.call_sid, status="up" if r.state == "on_call" else "ringing",
        caller_id_number=number, caller_withheld=withheld,
        line="direct" if r.loop_id is None and r.kind == "direct" else "switchboard",
        loop_id=r.loop_id, loop_name=loop.name if loop else None,
        menu_choice=_menu_choice(snap, r.loop_id, lang), lang=lang,
        greeting_line=greeting_line(snap, lang, first),
        members=members,
        creation_time=_iso(r.created_at) or "", answer_time=_iso(r.answered_at))


def my_calls(conn: Connection, snap: OrgSnapshot, *, agent_id: str, first_name: str,
             now: datetime) -> list[MyCall]:
    """The calls ringing at or connected to this agent now, oldest offer first."""
    out = []
    for r in conn.execute(_MY_CALLS, {"b_agent": agent_id, "b_now": now}).all():
        number, withheld = format_number(r.from_number)
        members = () if withheld else members_of(conn, r.from_number)
        out.append(_to_call(r, snap, first_name, (number, withheld, members)))
    return out


def live_calls(conn: Connection, snap: OrgSnapshot, *, now: datetime,
               cache: dict[str, tuple[Any, ...]],
               agents: set[str] | None = None) -> dict[str, list[MyCall]]:
    """The ringing and connected calls of the given agents (all when None), in one query.

    `cache` keeps, per live call id, what is worked out once per call (the formatted number,
    the matched members); entries go when their call is no longer live.
    """
    out: dict[str, list[MyCall]] = {}
    live: set[str] = set()
    for r in conn.execute(_LIVE_CALLS, {"b_now": now}).all():
        live.add(r.call_sid)
        if agents is not None and r.agent_id not in agents:
            continue
        known = cache.get(r.call_sid)
        if known is None:
            number, withheld = format_number(r.from_number)
            members = () if withheld else members_of(conn, r.from_number)
            known = cache[r.call_sid] = (number, withheld, members)
        out.setdefault(r.agent_id, []).append(
            _to_call(r, snap, first_name(snap, r.agent_id), known))
    for sid in [s for s in cache if s not in live]:
        del cache[sid]
    return out

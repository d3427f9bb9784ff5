"""Agents' run-time state in the database: reservations (offers), answers, wrap-up.

An offer is a row in `offer` with live=true; a partial unique index allows one live offer per
agent, so reserving is one INSERT … ON CONFLICT DO NOTHING: atomic across server processes on
PostgreSQL and SQLite alike, with no check-then-act in Python memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, select, true, update
from sqlalchemy.engine import Connection

from routing.decide import AgentState
from routing.models import Agent, Offer
from switchboard.db import DriverSQL, bind_value

EXPIRY_GRACE = 30  # seconds past the ring timeout before a lost reservation expires
ON_CALL_CAP = timedelta(hours=4)  # an answered call whose end never reached us

AGENT = Agent.__table__  # type: ignore[attr-defined]
OFFER = Offer.__table__  # type: ignore[attr-defined]


def _utc(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


# `live = 1`, not `live IS 1` (what .is_(True) renders on SQLite): only the former lets SQLite
# use the partial index of live offers; otherwise every query scans the whole offer history.
LIVE = OFFER.c.live == true()
_STATE_COLUMNS = (AGENT.c.id, AGENT.c.logged_in, AGENT.c.routing_stop, AGENT.c.wrap_up_until,
                  AGENT.c.last_answered_at, AGENT.c.last_offered_at, AGENT.c.answered_day,
                  AGENT.c.answered_today)

# The statements every routing step runs are built once, with bind parameters, so SQLAlchemy
# does not rebuild them and recompute their cache keys per webhook (about 3x cheaper each).

# One statement per decision: each agent with the state of its live offer, if any (the
# partial unique index on live offers makes the join one index probe per agent).
_ALL_STATES = (
    select(*_STATE_COLUMNS, OFFER.c.state.label("offer_state"))
    .select_from(AGENT.outerjoin(OFFER, and_(OFFER.c.agent_id == AGENT.c.id,
                                             LIVE,
                                             OFFER.c.expires_at > bindparam("b_now"))))
    .where(AGENT.c.active.is_(True)))
_EXPIRE = update(OFFER).where(LIVE, OFFER.c.expires_at <= bindparam("b_now"))
_RELEASE = (update(OFFER).where(OFFER.c.call_sid == bindparam("b_sid"), LIVE,
                                OFFER.c.state == "ringing")
            .returning(OFFER.c.agent_id))
_WRAP_UP = update(AGENT).where(AGENT.c.id == bindparam("b_id"))
# Reserving, stamping and a call's end are hand-written SQL on the driver
# (switchboard.db.DriverSQL): every menu digit reserves and every call end frees, and Core's
# Python costs 13-25 us per statement on top of SQLite's own work (README, Performance).
# A call's end frees every live offer at once: the answered one ends, the ringing ones are
# released (RETURNING gives the new state: "ended" marks who had the call).
_END_SQL = DriverSQL(
    "UPDATE offer SET live = {false}, ended_at = ?,"
    " state = CASE WHEN state = 'on_call' THEN 'ended' ELSE 'released' END"
    " WHERE call_sid = ? AND live = {true} RETURNING agent_id, state")
_OFFER_TIME = OFFER.c.created_at  # the type of every datetime column of offer
_AGENT_OFFERED = AGENT.c.last_offered_at


@lru_cache(maxsize=64)
def _some_states(n: int) -> Select[Any]:
    """The states of n given agents, with one bind parameter per agent."""
    # Not an expanding IN: SQLAlchemy rewrites those on every execution (a loop's size, and
    # so this statement, rarely changes).
    return _ALL_STATES.where(AGENT.c.id.in_([bindparam(f"b_id{i}") for i in range(n)]))


@lru_cache(maxsize=64)
def _reserve_sql(n: int) -> DriverSQL:
    """Reserve n agents in one INSERT; only the rows that got their agent come back."""
    row = "(?, ?, ?, ?, 'ringing', {true}, ?, ?)"
    return DriverSQL("INSERT INTO offer (call_sid, agent_id, loop_id, attempt, state, live,"
                     " created_at, expires_at) VALUES " + ", ".join([row] * n)
                     + " ON CONFLICT DO NOTHING RETURNING id, agent_id")


@lru_cache(maxsize=64)
def _stamp_offered(n: int) -> DriverSQL:
    """Set last_offered_at on n given agents."""
    return DriverSQL("UPDATE agent SET last_offered_at = ? WHERE id IN ("
                     + ", ".join(["?"] * n) + ")")


def load_states(conn: Connection, agent_ids: Iterable[str] | None, *, now: datetime,
                tz: str = "Europe/Oslo") -> dict[str, AgentState]:
    """Run-time state of the given agents (all active agents when None)."""
    today = now.astimezone(ZoneInfo(tz)).date().isoformat()
    if agent_ids is None:
        rows = conn.execute(_ALL_STATES, {"b_now": now}).all()
    else:
        params: dict[str, Any] = {f"b_id{i}": a for i, a in enumerate(agent_ids)}
        if not params:
            return {}
        params["b_now"] = now
        rows = conn.execute(_some_states(len(params) - 1), params).all()
    offers = {r[0]: r[-1] for r in rows if r[-1] is not None}  # (id, …, offer_state)
    return build_states(rows, offers, today=today)


def build_states(rows: Iterable[Any], offers: Mapping[str, str], *,
                 today: str) -> dict[str, AgentState]:
    """AgentStates from agent rows (the columns load_states selects) and live offers by agent."""
    out: dict[str, AgentState] = {}
    get_offer = offers.get
    # Runs once per member per decision. Rows are unpacked by position (the order of
    # _STATE_COLUMNS): a Row's attribute access costs 0.3 us each, its unpacking 0.1 us.
    for agent_id, logged_in, stop, wrap, last_ans, offered, day, count, *_ in rows:
        if last_ans is not None and last_ans.tzinfo is None:
            last_ans = last_ans.replace(tzinfo=UTC)
        if wrap is not None and wrap.tzinfo is None:
            wrap = wrap.replace(tzinfo=UTC)
        if offered is not None and offered.tzinfo is None:
            offered = offered.replace(tzinfo=UTC)
        idle = last_ans
        if wrap is not None and (idle is None or wrap > idle):
            idle = wrap
        if offered is not None and (idle is None or offered > idle):
            idle = offered
        out[agent_id] = AgentState(agent_id, bool(logged_in), bool(stop), wrap,
                                   get_offer(agent_id), last_ans,
                                   count if day == today else 0, idle)
    return out


def expire_stale(conn: Connection, *, now: datetime) -> int:
    """End reservations whose callbacks never came."""
    return conn.execute(_EXPIRE, {"b_now": now, "live": False, "state": "expired",
                                  "ended_at": now}).rowcount


def reserve(conn: Connection, *, call_sid: str, loop_id: str | None, attempt: int,
            agent_ids: Sequence[str], now: datetime, ring_timeout: int) -> dict[str, int]:
    """Reserve each agent for this call if nobody else holds them; {agent_id: offer id}."""
    if not agent_ids:
        return {}
    created = bind_value(conn, _OFFER_TIME, now)
    expires = bind_value(conn, _OFFER_TIME,
                         now + timedelta(seconds=ring_timeout + EXPIRY_GRACE))

    def insert(agents: Sequence[str]) -> dict[str, int]:
        # One INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING for all of them.
        params: list[Any] = []
        for a in agents:
            params += (call_sid, a, loop_id, attempt, created, expires)
        return {a: i for i, a in _reserve_sql(len(agents)).run(conn, params).fetchall()}

    got = insert(agent_ids)
    missing = [a for a in agent_ids if a not in got]
    # Expired reservations are cleared only when one is in the way: routing already treats
    # them as free, so the common case skips this UPDATE.
    if missing and expire_stale(conn, now=now):
        got.update(insert(missing))
    if got:
        _stamp_offered(len(got)).run(conn, (bind_value(conn, _AGENT_OFFERED, now), *got))
    return got


def release_ringing(conn: Connection, *, call_sid: str, now: datetime) -> list[str]:
    """Free every agent still only ringing for this call; returns their ids."""
    rows = conn.execute(_RELEASE, {"b_sid": call_sid, "live": False, "state": "released",
                                   "ended_at": now}).all()
    return [r.agent_id for r in rows]


def confirm(conn: Connection, *, offer_id: int, now: datetime,
            tz: str = "Europe/Oslo") -> tuple[str, str | None, str] | None:
    """The agent pressed a key: the offer becomes the call's answer.

    Returns (call_sid, loop_id, agent_id), or None when the offer is no longer ringing or the
    call was already answered by someone else.
    """
    offer = conn.execute(select(OFFER).where(OFFER.c.id == offer_id)).first()
    if offer is None or not offer.live or offer.state != "ringing":
        return None
    # Several agents can press a key for one ringall call at the same moment. Lock the call's
    # offers, always in id order, so their confirms take turns (on PostgreSQL they deadlocked
    # on each other's rows) and each later one sees the first one's answer below.
    conn.execute(select(OFFER.c.id).where(OFFER.c.call_sid == offer.call_sid)
                 .order_by(OFFER.c.id).with_for_update())
    taken = conn.execute(select(OFFER.c.id).where(
        OFFER.c.call_sid == offer.call_sid, OFFER.c.state == "on_call")).first()
    if taken is not None:
        return None
    n = conn.execute(
        update(OFFER).where(OFFER.c.id == offer_id, OFFER.c.state == "ringing",
                            LIVE)
        .values(state="on_call", answered_at=now, expires_at=now + ON_CALL_CAP)).rowcount
    if not n:
        return None
    today = now.astimezone(ZoneInfo(tz)).date().isoformat()
    agent = conn.execute(select(AGENT.c.answered_day, AGENT.c.answered_today)
                         .where(AGENT.c.id == offer.agent_id)).first()
    count = (agent.answered_today if agent and agent.answered_day == today else 0) + 1
    conn.execute(update(AGENT).where(AGENT.c.id == offer.agent_id).values(
        last_answered_at=now, answered_day=today, answered_today=count))
    # Twilio cancels the other legs once one is bridged; free those agents now.
    conn.execute(update(OFFER).where(
        and_(OFFER.c.call_sid == offer.call_sid, OFFER.c.id != offer_id,
             LIVE)).values(live=False, state="released", ended_at=now))
    return offer.call_sid, offer.loop_id, offer.agent_id


def answered_offer(conn: Connection, *, call_sid: str) -> tuple[str, str | None] | None:
    """(agent_id, loop_id) of the offer that answered this call, if any."""
    r = conn.execute(select(OFFER.c.agent_id, OFFER.c.loop_id).where(
        OFFER.c.call_sid == call_sid,
        OFFER.c.state.in_(("on_call", "ended")), OFFER.c.answered_at.is_not(None))).first()
    return (r.agent_id, r.loop_id) if r else None


def end_call(conn: Connection, *, call_sid: str, now: datetime, wrap_up: int) -> str | None:
    """The call is over: free everyone; the agent who had it rests for `wrap_up` seconds."""
    rows = _END_SQL.run(conn, (bind_value(conn, _OFFER_TIME, now), call_sid)).fetchall()
    ended = [a for a, state in rows if state == "ended"]
    if not ended:
        return None
    if wrap_up > 0:
        conn.execute(_WRAP_UP, {"b_id": ended[0],
                                "wrap_up_until": now + timedelta(seconds=wrap_up)})
    return str(ended[0])

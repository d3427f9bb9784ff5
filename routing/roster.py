"""A loop's Roster from the database: the exceptional members only, plus a strategy's keys.

routing.state.load_states reads one full row per agent (presence wants them all). A routing
decision does not: almost every member of a big loop is offerable, so the database returns
only those who are not (inactive, logged out, routing-stopped, holding a live offer or in
wrap-up), and the strategy's key only where the strategy needs it. Turning those rows into
sets and dicts is C-speed work (docs/benchmarks.md: one decision for 2,000 members within 1 ms).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, bindparam, case, select, type_coerce
from sqlalchemy.engine import Connection

from routing.decide import Roster
from routing.state import AGENT, OFFER
from routing.strategies import RINGALL_LIMIT
from switchboard.db import DriverSQL, bind_value, result_processors


def _later(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    """The later of two nullable timestamps (NULL only when both are): GREATEST, portably."""
    return case((a.is_(None), b), (b.is_(None), a), (a > b, a), else_=b)


# When the agent last finished something: an answered call, a wrap-up, an offer (the same
# as routing.state.build_states' idle_since). Typed as the columns, so rows give datetimes.
_IDLE = type_coerce(_later(_later(AGENT.c.last_answered_at, AGENT.c.wrap_up_until),
                           AGENT.c.last_offered_at), AGENT.c.wrap_up_until.type)
# The exceptional members, run straight on the driver (switchboard.db.DriverSQL): every
# routing decision runs it, and through Core it took 38 us for a loop of ten, on the driver
# 13 us. It is the SQL Core renders for the statement below; test_roster holds its answers
# to routing.state.load_states' full rows, on SQLite and on PostgreSQL.
#   away = or_(AGENT.c.active.is_(False), AGENT.c.logged_in.is_(False),
#              AGENT.c.routing_stop.is_(True))
#   select(AGENT.c.id, away)
#   .select_from(AGENT.outerjoin(OFFER, and_(OFFER.c.agent_id == AGENT.c.id, LIVE,
#                                            OFFER.c.expires_at > bindparam("b_now"))))
#   .where(or_(away, OFFER.c.id.is_not(None), AGENT.c.wrap_up_until > bindparam("b_now")))
_AWAY_SQL = ("agent.active IS {false} OR agent.logged_in IS {false}"
             " OR agent.routing_stop IS {true}")
_EXCEPTIONAL = (
    f"SELECT agent.id, {_AWAY_SQL} FROM agent LEFT OUTER JOIN offer"
    " ON offer.agent_id = agent.id AND offer.live = {true} AND offer.expires_at > ?"
    f" WHERE ({_AWAY_SQL} OR offer.id IS NOT NULL OR agent.wrap_up_until > ?)")

# ringall's key through Core: it is needed only to choose ten among more than ten offerable
# members, and its CASE of three timestamps is Core's to write for each database.
_RINGALL_KEYS = select(AGENT.c.id, _IDLE).where(_IDLE.is_not(None))

# The other strategies' keys straight on the driver, as the exceptional members: through
# Core they cost 70-85 us per decision of least_recent and fewest_calls (as Core renders them:
# select(AGENT.c.id, AGENT.c.last_answered_at).where(AGENT.c.last_answered_at.is_not(None))
# and select(AGENT.c.id, AGENT.c.answered_today).where(AGENT.c.answered_day == b_today,
# AGENT.c.answered_today > 0), each for the given members).
_LAST_ANSWERED_SQL = ("SELECT agent.id, agent.last_answered_at FROM agent"
                      " WHERE agent.last_answered_at IS NOT NULL")
_ANSWERED_TODAY_SQL = ("SELECT agent.id, agent.answered_today FROM agent"
                       " WHERE agent.answered_day = ? AND agent.answered_today > 0")


@lru_cache(maxsize=64)
def _among(sql: str, n: int) -> DriverSQL:
    """`sql` (which ends in a WHERE clause) for n given agents, one placeholder each."""
    return DriverSQL(sql + " AND agent.id IN (" + ", ".join(["?"] * n) + ")")


_LAST_ANSWERED = (AGENT.c.last_answered_at,)


@lru_cache(maxsize=64)
def _for_members(stmt: Select[Any], n: int) -> Select[Any]:
    # One bind parameter per member, not an expanding IN, which SQLAlchemy rewrites on every
    # execution (as routing.state._some_states).
    return stmt.where(AGENT.c.id.in_([bindparam(f"b_id{i}") for i in range(n)]))


def build_roster(exceptional: Iterable[Sequence[Any]], keys: Iterable[Sequence[Any]] = (), *,
                 strategy: str = "ringall") -> Roster:
    """A Roster from the exceptional members' (id, away) rows and the strategy's (id, key)."""
    away: set[str] = set()
    occupied: set[str] = set()
    for agent_id, is_away in exceptional:
        # Not away means exceptional for a live offer or a wrap-up: merely occupied.
        (away if is_away else occupied).add(agent_id)
    roster = Roster(away, occupied)
    if strategy == "ringall":
        roster.idle_since = dict(keys)  # type: ignore[arg-type]
    elif strategy == "least_recent":
        roster.last_answered = dict(keys)  # type: ignore[arg-type]
    elif strategy == "fewest_calls":
        roster.answered_today = dict(keys)  # type: ignore[arg-type]
    return roster


def load_roster(conn: Connection, members: Sequence[str], *, now: datetime, strategy: str,
                tz: str = "Europe/Oslo") -> Roster:
    """The Roster of a loop's members now, with the keys `strategy` needs."""
    if not members:
        return Roster()
    at = bind_value(conn, OFFER.c.expires_at, now)
    exceptional = _among(_EXCEPTIONAL, len(members)).run(conn, (at, at, *members)).fetchall()
    keys: Sequence[Any] = ()
    if strategy == "least_recent":
        cur = _among(_LAST_ANSWERED_SQL, len(members)).run(conn, members)
        rows = cur.fetchall()
        if rows:
            (decode,) = result_processors(conn, cur, _LAST_ANSWERED, 1)
            keys = [(a, t if decode is None or t is None else decode(t)) for a, t in rows]
    elif strategy == "fewest_calls":
        today = now.astimezone(ZoneInfo(tz)).date().isoformat()
        keys = _among(_ANSWERED_TODAY_SQL, len(members)).run(conn, (today, *members)).fetchall()
    # ringall needs its key only to choose ten among more than ten offerable members.
    elif strategy == "ringall" and len(members) - len(exceptional) > RINGALL_LIMIT:
        params: dict[str, Any] = {f"b_id{i}": a for i, a in enumerate(members)}
        keys = conn.execute(_for_members(_RINGALL_KEYS, len(members)), params).all()
    return build_roster(exceptional, keys, strategy=strategy)

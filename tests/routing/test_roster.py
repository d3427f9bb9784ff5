"""The Roster read from the database (exceptions only) decides as the full agent states do."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from routing.decide import LoopSpec, RouteState, decide, decide_roster
from routing.models import Agent, Offer
from routing.roster import load_roster
from routing.state import load_states
from routing.strategies import STRATEGIES
from switchboard.db import make_engine, migrate

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def fill(engine: Engine, n: int, seed: int, prefix: str = "a") -> list[str]:
    """n agents in every kind of situation, some with live, expired or ended offers."""
    rng = random.Random(seed)
    pick = rng.choice
    ids = [f"{prefix}{i:03d}" for i in range(n)]
    agents, offers = [], []
    for i, a in enumerate(ids):
        answered = pick([None, NOW - 3600 * S, NOW - 60 * S])
        agents.append(dict(
            id=a, name=f"Agent {i}", phone=f"+4790000{i:03d}", roles=[], position=i,
            active=rng.random() > 0.05, logged_in=rng.random() > 0.15,
            routing_stop=rng.random() < 0.1,
            wrap_up_until=pick([None, None, NOW - 10 * S, NOW, NOW + 20 * S]),
            last_answered_at=answered, last_offered_at=pick([None, NOW - 7200 * S, NOW - 30 * S]),
            answered_day=pick([None, "2026-11-25", "2026-11-24"]),
            answered_today=rng.randrange(0, 3)))
        kind = pick([None, None, None, "ringing", "on_call", "expired", "ended"])
        if kind is not None:
            live = kind in ("ringing", "on_call", "expired")
            offers.append(dict(
                call_sid=f"CA{prefix}{i:031d}", agent_id=a,
                state="ringing" if kind == "expired" else kind, live=live, created_at=NOW - 60 * S,
                expires_at=NOW - S if kind == "expired" else NOW + 60 * S))
    with engine.begin() as conn:
        conn.execute(insert(Agent.__table__), agents)  # type: ignore[attr-defined]
        if offers:
            conn.execute(insert(Offer.__table__), offers)  # type: ignore[attr-defined]
    return ids


def same_decisions(engine: Engine, ids: list[str], seed: int) -> None:
    rng = random.Random(seed)
    for strategy in STRATEGIES:
        for members in (tuple(ids[:8]), tuple(rng.sample(ids, len(ids)))):
            loop = LoopSpec("l", members, strategy, 20, rng.choice([0, 60]))
            busy = {m: rng.random() < 0.1 for m in members}
            for tried in ([], rng.sample(members, len(members) // 2), list(members)):
                route = RouteState(0.0, tried, 0)
                last = rng.choice(members)
                with engine.connect() as conn:
                    states = load_states(conn, members, now=NOW)
                    roster = load_roster(conn, members, now=NOW, strategy=strategy)
                want = decide(loop, states, busy, now=NOW, open_now=True, route=route,
                              last_rung=last, rng=random.Random(1))
                got = decide_roster(loop, roster, {m for m, b in busy.items() if b},
                                    open_now=True, route=route, last_rung=last,
                                    rng=random.Random(1))
                assert got == want, strategy


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_roster_from_the_database_decides_as_full_states_do(engine: Engine, seed: int) -> None:
    same_decisions(engine, fill(engine, 60, seed), seed)


def test_roster_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    migrate(engine)
    try:
        # the database is shared by the session's PostgreSQL tests: ids of our own
        same_decisions(engine, fill(engine, 60, 4, prefix="roster"), 4)
    finally:
        engine.dispose()

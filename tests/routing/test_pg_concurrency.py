"""50 simultaneous calls on PostgreSQL: each agent reserved for one call at most, every call
gets an agent, a place in line or overflow; a lost status callback's reservation expires."""

from __future__ import annotations

import random
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ivr import flow
from ivr.context import FlowContext
from ivr.models import CallStep
from routing.models import Offer
from routing.snapshot import SnapshotCache
from switchboard.db import make_engine
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from switchboard.settings import Settings
from tests.twilio_harness import OPEN_NOW, Clock, dial_numbers

pytestmark = pytest.mark.postgres
CALLS = 50
AGENTS = [f"ag{i:02d}" for i in range(1, 11)]
ORG = "\n".join([
    "organisation: {name: Samtidig, timezone: Europe/Oslo}",
    'numbers: [{number: "+4722000000", kind: switchboard}]',
    'menu: {"1": linje, "2": kort}',
    "agents:",
    *[f'  - {{id: {a}, name: Agent {a}, phone: "+47900001{a[2:]}"}}' for a in AGENTS],
    "loops:",
    f"  - {{id: linje, name: Linje, members: [{', '.join(AGENTS)}], strategy: linear,",
    "     ring_timeout: 20, max_wait: 120, overflow: voicemail}",
    # the same agents with max_wait 0: a call here is offered an agent or goes to voicemail
    f"  - {{id: kort, name: Kort, members: [{', '.join(AGENTS)}], strategy: linear,",
    "     ring_timeout: 20, max_wait: 0, overflow: voicemail}",
])


@pytest.fixture
def pg_engine(own_pg_engine):  # type: ignore[no-untyped-def]
    # A database of its own: clearing the run's shared one broke on other tests' ticket history.
    apply_org(own_pg_engine, parse_org_text(ORG), now=OPEN_NOW)
    return own_pg_engine


def one_call(ctx: FlowContext, sid: str, digit: str) -> tuple[ET.Element, str | None]:
    """The call comes in and the caller presses `digit`: the real flow steps, in order."""
    form = {"CallSid": sid, "From": "+4791234567", "To": "+4722000000"}
    flow.voice(ctx, form)
    body, stage = flow.menu(ctx, {**form, "Digits": digit}, 1)
    return ET.fromstring(body), stage


def test_fifty_simultaneous_calls_never_reserve_an_agent_twice(
        own_pg_url: str, pg_engine: Engine, settings: Settings) -> None:
    # One shared configuration cache (as in one server process); each call its own engine.
    cache = SnapshotCache(pg_engine)
    cache.get()
    engines = [make_engine(own_pg_url, pool_size=1, max_overflow=0) for _ in range(CALLS)]
    results: dict[str, tuple[ET.Element, str | None]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(CALLS)

    def run(i: int) -> None:
        clock = Clock(OPEN_NOW + timedelta(milliseconds=i))
        ctx = FlowContext(settings=settings, engine=engines[i], cache=cache, clock=clock,
                          rng=random.Random(i))
        sid = f"CA{i:032x}"
        try:
            barrier.wait()
            results[sid] = one_call(ctx, sid, "1")
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CALLS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert not errors, [type(e).__name__ for e in errors]
    assert len(results) == CALLS

    dialled: list[str] = []
    stages: Counter[str | None] = Counter()
    for root, stage in results.values():
        stages[stage] += 1
        if stage == "loop":
            agents = [a for a, _ in dial_numbers(root)]
            assert len(agents) == 1  # linear: one at a time
            dialled += agents
        elif stage == "queue":
            assert root.find("Play") is not None and root.find("Redirect") is not None
        else:
            assert stage == "voicemail" and root.find("Record") is not None
    assert sorted(dialled) == AGENTS  # everyone rings, nobody for two calls
    assert stages == {"loop": 10, "queue": 40}

    with pg_engine.connect() as conn:
        offers = conn.execute(select(Offer.__table__)).all()  # type: ignore[attr-defined]
    live = Counter(o.agent_id for o in offers if o.live)
    assert max(live.values()) == 1
    # No two calls ever got the same agent (here nothing was released: every offer is live).
    assert sorted(o.agent_id for o in offers) == AGENTS

    # Nobody's dial action or status callback ever comes back (lost). Until the reservations
    # expire (ring timeout + 30 s), a call into `kort` (max_wait 0) finds nobody...
    late = FlowContext(settings=settings, engine=pg_engine, cache=cache,
                       clock=Clock(OPEN_NOW + timedelta(seconds=49)))
    root, stage = one_call(late, "CAlate0", "2")
    assert stage == "voicemail" and root.find("Dial") is None
    # ...and once they have, the agents are offered again.
    later = FlowContext(settings=settings, engine=pg_engine, cache=cache,
                        clock=Clock(OPEN_NOW + timedelta(seconds=51)))
    root, stage = one_call(later, "CAlate1", "2")
    assert stage == "loop" and [a for a, _ in dial_numbers(root)] == ["ag01"]
    with pg_engine.connect() as conn:
        states = Counter(conn.execute(select(Offer.__table__.c.state)).scalars())  # type: ignore[attr-defined]
    assert states == {"expired": 10, "ringing": 1}


def test_simultaneous_retries_of_one_step_answer_alike_and_reserve_once(
        own_pg_url: str, pg_engine: Engine, settings: Settings) -> None:
    cache = SnapshotCache(pg_engine)
    cache.get()
    form = {"CallSid": "CAretry00000000000000000000000001", "From": "+4791234567",
            "To": "+4722000000"}
    flow.voice(FlowContext(settings=settings, engine=pg_engine, cache=cache, clock=Clock()),
               form)
    tries = 8
    engines = [make_engine(own_pg_url, pool_size=1, max_overflow=0) for _ in range(tries)]
    bodies: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(tries)

    def retry(i: int) -> None:
        ctx = FlowContext(settings=settings, engine=engines[i], cache=cache,
                          clock=Clock(OPEN_NOW + timedelta(milliseconds=i)))
        try:
            barrier.wait()
            bodies.append(flow.menu(ctx, {**form, "Digits": "1"}, 1)[0])
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=retry, args=(i,)) for i in range(tries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert not errors, [type(e).__name__ for e in errors]
    assert len(bodies) == tries and len(set(bodies)) == 1
    assert [a for a, _ in dial_numbers(ET.fromstring(bodies[0]))] == ["ag01"]
    with pg_engine.connect() as conn:
        offers = conn.execute(select(Offer.__table__)).all()  # type: ignore[attr-defined]
        steps = conn.execute(select(CallStep.__table__).where(  # type: ignore[attr-defined]
            CallStep.__table__.c.call_sid == form["CallSid"])).all()  # type: ignore[attr-defined]
    assert [o.agent_id for o in offers] == ["ag01"]
    assert sorted(s.step for s in steps) == ["menu?play=1", "voice"]


# ORG plus a ringall loop of the same ten agents behind digit 3.
RINGALL_ORG = ORG.replace('"2": kort}', '"2": kort, "3": alle}') + (
    f"\n  - {{id: alle, name: Alle, members: [{', '.join(AGENTS)}], strategy: ringall,"
    "\n     ring_timeout: 20, max_wait: 0, overflow: voicemail}")


@pytest.mark.parametrize("round_", range(3))
def test_ten_agents_confirming_one_ringall_call_at_once_bridge_one(
        own_pg_url: str, pg_engine: Engine, settings: Settings, round_: int) -> None:
    apply_org(pg_engine, parse_org_text(RINGALL_ORG), now=OPEN_NOW)
    cache = SnapshotCache(pg_engine)
    cache.get()
    sid = f"CAringall{round_:024d}"
    root, stage = one_call(FlowContext(settings=settings, engine=pg_engine, cache=cache,
                                       clock=Clock()), sid, "3")
    assert stage == "loop" and len(list(root.iter("Number"))) == 10
    offers = {a: int(n.get("url", "").split("o=")[1].split("&")[0])
              for (a, _), n in zip(dial_numbers(root), root.iter("Number"), strict=True)}
    engines = {a: make_engine(own_pg_url, pool_size=1, max_overflow=0) for a in offers}
    answers: dict[str, tuple[str, str | None]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(offers))

    def press_a_key(agent_id: str) -> None:
        ctx = FlowContext(settings=settings, engine=engines[agent_id], cache=cache,
                          clock=Clock(OPEN_NOW + timedelta(seconds=8)))
        try:
            barrier.wait()
            answers[agent_id] = flow.whisper_confirm(
                ctx, {"CallSid": f"CL{agent_id}{round_}", "Digits": "1"}, offers[agent_id])
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=press_a_key, args=(a,)) for a in offers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines.values():
        e.dispose()
    assert not errors, [type(e).__name__ for e in errors]
    connected = [a for a, (_, stage) in answers.items() if stage == "connected"]
    assert len(connected) == 1
    for a, (body, _) in answers.items():
        if a not in connected:
            assert "allerede besvart" in body  # told so, not the database-down fallback
    with pg_engine.connect() as conn:
        on_call = conn.execute(select(Offer.__table__.c.agent_id).where(  # type: ignore[attr-defined]
            Offer.__table__.c.call_sid == sid,  # type: ignore[attr-defined]
            Offer.__table__.c.state == "on_call")).scalars().all()  # type: ignore[attr-defined]
    assert on_call == connected

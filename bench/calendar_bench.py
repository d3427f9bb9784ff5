"""Calendar sync benchmark: one pass over 2,000 agents against the local fake EWS and Graph.

Run: .venv/bin/python -m bench.calendar_bench   (prints one figure per line)
Targets (issue 7): EWS at most 21 requests and 15 s per pass with 50 ms added per request;
Graph at most 100 requests per pass. The ICS figures have no target; they show what the
ETag/304 path and the reused expansions save.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from calendar_sync.graph import GraphSource
from calendar_sync.protocol import CalendarSource
from calendar_sync.sync import run_pass
from switchboard.db import make_engine, migrate
from switchboard.settings import Settings
from tests.fakes.ews_server import EwsEvent, EwsHandler, EwsState
from tests.fakes.graph_server import FakeCredential, GraphHandler, GraphItem, GraphState
from tests.fakes.seed import seed
from tests.fakes.server import running

AGENTS = 2000
DELAY = 0.050  # seconds the fake EWS server adds to every request
OSLO = ZoneInfo("Europe/Oslo")


def _events(now: datetime, i: int) -> list[tuple[datetime, datetime, str]]:
    """Ten meetings over the fortnight and one all-day event per agent."""
    day0 = now.astimezone(OSLO).replace(hour=0, minute=0, second=0, microsecond=0)
    out = [(day0 + timedelta(days=d, hours=9 + (i + d) % 6),
            day0 + timedelta(days=d, hours=10 + (i + d) % 6), "busy") for d in range(10)]
    out.append((day0 + timedelta(days=i % 7), day0 + timedelta(days=i % 7 + 1), "free"))
    return out


def _settings(db: Path, **extra: object) -> Settings:
    return Settings(SWITCHBOARD_DATABASE_URL=f"sqlite:///{db}", _env_file=None, **extra)  # type: ignore[arg-type]


def bench_ews(now: datetime, workdir: Path) -> tuple[int, float]:
    """(requests, seconds) for one full pass (fetch, policy, store) over AGENTS mailboxes."""
    state = EwsState(delay=DELAY)
    busy = {"busy": "Busy", "free": "Free"}
    state.calendars = {f"agent{i}@example.org": [EwsEvent(s, e, busy[st], "Møte")
                                                 for s, e, st in _events(now, i)]
                       for i in range(AGENTS)}
    with running(EwsHandler, state) as base:
        settings = _settings(workdir / "ews.db", SWITCHBOARD_EWS_URL=f"{base}/EWS/Exchange.asmx",
                             SWITCHBOARD_EWS_USERNAME="svc", SWITCHBOARD_EWS_PASSWORD="x",
                             SWITCHBOARD_EWS_AUTH="basic")
        engine = make_engine(settings.database_url)
        migrate(engine)
        seed(engine, {f"agent{i}": {"source": "ews", "mailbox": f"agent{i}@example.org"}
                      for i in range(AGENTS)})
        t0 = time.perf_counter()
        report = run_pass(engine, settings, now=now)
        seconds = time.perf_counter() - t0
        engine.dispose()
    assert not report.failed, report.failed[:3]
    return len(state.requests), seconds


def bench_graph(now: datetime, workdir: Path) -> tuple[int, float]:
    """(requests, seconds) for one full pass over AGENTS mailboxes via getSchedule."""
    state = GraphState()
    state.calendars = {f"agent{i}@example.org": [GraphItem(s, e, st, "Møte")
                                                 for s, e, st in _events(now, i)]
                       for i in range(AGENTS)}
    with running(GraphHandler, state) as base:
        settings = _settings(workdir / "graph.db", SWITCHBOARD_GRAPH_BASE_URL=f"{base}/v1.0",
                             SWITCHBOARD_GRAPH_ANCHOR_USER="sentralbord@example.org")
        engine = make_engine(settings.database_url)
        migrate(engine)
        seed(engine, {f"agent{i}": {"source": "graph", "mailbox": f"agent{i}@example.org"}
                      for i in range(AGENTS)})

        def sources(kind: str) -> CalendarSource:
            return GraphSource(settings, credential=FakeCredential())

        t0 = time.perf_counter()
        report = run_pass(engine, settings, now=now, sources=sources)
        seconds = time.perf_counter() - t0
        engine.dispose()
    assert not report.failed, report.failed[:3]
    return len(state.requests), seconds


def bench_ics(now: datetime, workdir: Path) -> tuple[float, float]:
    """(first pass, next pass) seconds for AGENTS published ICS feeds: the next pass gets 304s
    and reuses the expansions, as the background task does every minute."""
    from calendar_sync.demo import vcalendar, vevent
    from calendar_sync.sync import Sources
    from tests.fakes.ics_server import IcsHandler, IcsState

    state = IcsState()
    for i in range(AGENTS):
        state.put(f"/{i}.ics", vcalendar(*(
            vevent("Møte", s, e, busystatus="BUSY" if st == "busy" else "FREE")
            for s, e, st in _events(now, i))))
    with running(IcsHandler, state) as base:
        settings = _settings(workdir / "ics.db")
        engine = make_engine(settings.database_url)
        migrate(engine)
        seed(engine, {f"agent{i}": {"source": "ics", "url": f"{base}/{i}.ics"}
                      for i in range(AGENTS)})
        sources = Sources(settings, "Europe/Oslo")
        t0 = time.perf_counter()
        first = run_pass(engine, settings, now=now, sources=sources)
        t1 = time.perf_counter()
        run_pass(engine, settings, now=now + timedelta(minutes=1), sources=sources)
        t2 = time.perf_counter()
        sources.close()
        engine.dispose()
    assert not first.failed, first.failed[:3]
    return t1 - t0, t2 - t1


def main() -> None:
    """Print the figures, one per line."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        ews_requests, ews_seconds = bench_ews(now, Path(tmp))
        graph_requests, graph_seconds = bench_graph(now, Path(tmp))
        ics_first, ics_next = bench_ics(now, Path(tmp))
    print(f"calendar ews {AGENTS} agents: {ews_requests} requests per pass (target <= 21)")
    print(f"calendar ews {AGENTS} agents: {ews_seconds:.2f} s per pass with "
          f"{DELAY * 1000:.0f} ms per request (target <= 15 s)")
    print(f"calendar graph {AGENTS} agents: {graph_requests} requests per pass (target <= 100)")
    print(f"calendar graph {AGENTS} agents: {graph_seconds:.2f} s per pass")
    print(f"calendar ics {AGENTS} feeds: {ics_first:.2f} s first pass, "
          f"{ics_next:.2f} s per pass while unchanged")


if __name__ == "__main__":
    main()

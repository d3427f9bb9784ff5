"""A sync pass on PostgreSQL: the same code and migrations as SQLite (ARCHITECTURE principle 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from calendar_sync.demo import vcalendar, vevent
from calendar_sync.index import BusyIndex
from calendar_sync.sync import run_pass
from switchboard.settings import Settings
from tests.fakes.ics_server import IcsHandler, IcsState
from tests.fakes.seed import seed
from tests.fakes.server import running

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 25)


@pytest.fixture
def pg_engine(own_pg_engine: Engine) -> Engine:
    # A database of its own, so these agents do not show up in other tests' presence.
    return own_pg_engine


def test_sync_pass_on_postgresql(pg_engine: Engine, settings: Settings) -> None:
    state = IcsState()
    state.put("/m.ics", vcalendar(vevent("Møte", datetime(2026, 11, 25, 10, tzinfo=OSLO),
                                         datetime(2026, 11, 25, 12, tzinfo=OSLO))))
    state.put("/f.ics", vcalendar(vevent("Bursdag", TODAY, TODAY + timedelta(days=1),
                                         busystatus="FREE")))
    with running(IcsHandler, state) as base:
        seed(pg_engine, {"m": {"source": "ics", "url": f"{base}/m.ics"},
                         "f": {"source": "ics", "url": f"{base}/f.ics"}})
        assert run_pass(pg_engine, settings, now=NOW).failed == []
        state.requests.clear()
        state.put("/f.ics", "not a calendar", status=500)
        later = NOW + timedelta(minutes=1)
        report = run_pass(pg_engine, settings, now=later)
    assert [(a.agent_id, a.error) for a in report.failed] == [("f", "HTTP 500")]
    assert ("/m.ics", 304) in state.requests  # the cached body (bytea) was expanded again
    with pg_engine.connect() as conn:
        idx = BusyIndex.load(conn)
    assert idx.busy_until("m", later) == datetime(2026, 11, 25, 11, tzinfo=UTC)
    assert idx.notes("f", later) == ["all_day_free"]
    assert idx.last_success == {"m": later, "f": NOW}


def test_two_passes_at_once_on_postgresql(pg_engine: Engine, settings: Settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    state = IcsState()
    for i in range(20):
        state.put(f"/{i}.ics", vcalendar(vevent("Møte", NOW, NOW + timedelta(hours=1))))
    with running(IcsHandler, state) as base:
        seed(pg_engine, {f"a{i:02d}": {"source": "ics", "url": f"{base}/{i}.ics"}
                         for i in range(20)})
        with ThreadPoolExecutor(2) as pool:
            reports = list(pool.map(
                lambda _: run_pass(pg_engine, settings, now=NOW, force=True), range(2)))
    assert [r.failed for r in reports] == [[], []]
    with pg_engine.connect() as conn:
        idx = BusyIndex.load(conn)
    assert len(idx.last_success) == 20
    assert idx.busy_until("a13", NOW) == NOW + timedelta(hours=1)

"""The sync pass: broken sources keep the last good data, versions, backoff, removal, CLI, demo."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from calendar_sync.demo import vcalendar, vevent, write_demo
from calendar_sync.index import BusyIndex
from calendar_sync.models import BusyInterval, CalendarSource
from calendar_sync.sync import run_pass
from routing.models import Agent
from switchboard.cli import app
from switchboard.models import Meta
from switchboard.settings import Settings
from tests.fakes.ics_server import IcsHandler, IcsState
from tests.fakes.seed import seed
from tests.fakes.server import running

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 25)
MIN = timedelta(minutes=1)


def local(h: int, m: int = 0, d: date = TODAY) -> datetime:
    return datetime(d.year, d.month, d.day, h, m, tzinfo=OSLO)


def meeting(h0: int, h1: int) -> str:
    return vcalendar(vevent("Møte", local(h0), local(h1)))


def load(engine: Engine) -> BusyIndex:
    with engine.connect() as conn:
        return BusyIndex.load(conn)


def sources(engine: Engine) -> dict[str, CalendarSource]:
    with Session(engine) as s:
        return {r.agent_id: r for r in s.exec(select(CalendarSource)).scalars()}  # type: ignore[call-overload]


def version(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(Meta.value).where(Meta.key == "calendar_version")).scalar()  # type: ignore[call-overload, arg-type]


@pytest.fixture
def ics() -> Iterator[tuple[IcsState, str]]:
    state = IcsState()
    with running(IcsHandler, state) as base:
        yield state, base


def test_broken_sources_keep_the_last_good_data_and_others_are_unaffected(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str], tmp_path: Path) -> None:
    state, base = ics
    for name in ("good", "http500", "malformed"):
        state.put(f"/{name}.ics", meeting(10, 12))
    file_feed = tmp_path / "file.ics"
    file_feed.write_text(meeting(10, 12))
    doomed = IcsState()
    doomed.put("/refused.ics", meeting(10, 12))
    with running(IcsHandler, doomed) as doomed_base:
        seed(engine, {
            "good": {"source": "ics", "url": f"{base}/good.ics"},
            "http500": {"source": "ics", "url": f"{base}/http500.ics"},
            "malformed": {"source": "ics", "url": f"{base}/malformed.ics"},
            "refused": {"source": "ics", "url": f"{doomed_base}/refused.ics"},
            "file": {"source": "ics", "url": str(file_feed)},
        })
        assert run_pass(engine, settings, now=NOW).failed == []
    # The server behind "refused" is gone now; the others break in their own ways.
    state.put("/http500.ics", meeting(10, 12), status=500)
    state.put("/malformed.ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage")
    state.put("/good.ics", meeting(10, 13))
    file_feed.unlink()
    later = NOW + MIN
    report = run_pass(engine, settings, now=later)

    assert {a.agent_id: a.error for a in report.failed} == {
        "http500": "HTTP 500", "malformed": "malformed ICS: ValueError",
        "refused": "unreachable: ConnectError", "file": "file not readable: FileNotFoundError"}
    idx = load(engine)
    assert idx.busy_until("good", later) == local(13)  # updated
    for agent in ("http500", "malformed", "refused", "file"):
        assert idx.busy_until(agent, later) == local(12)  # last good data
        assert idx.last_success[agent] == NOW
    rows = sources(engine)
    assert rows["good"].last_success_at == later and rows["good"].last_error is None
    assert (rows["http500"].last_error, rows["http500"].failures) == ("HTTP 500", 1)


def test_failing_source_backs_off_unless_forced(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    state, base = ics
    state.put("/a.ics", meeting(10, 12), status=500)
    seed(engine, {"a": {"source": "ics", "url": f"{base}/a.ics"}})
    run_pass(engine, settings, now=NOW)
    run_pass(engine, settings, now=NOW + MIN)  # 1 failure: wait one interval (60 s)
    assert len(state.requests) == 2
    report = run_pass(engine, settings, now=NOW + MIN + 30 * timedelta(seconds=1))
    assert len(state.requests) == 2  # 2 failures: wait 120 s
    assert report.agents[0].skipped and report.agents[0].error == "HTTP 500"
    run_pass(engine, settings, now=NOW + MIN + timedelta(seconds=30), force=True)
    assert len(state.requests) == 3
    state.put("/a.ics", meeting(10, 12))
    run_pass(engine, settings, now=NOW + 10 * MIN)
    assert sources(engine)["a"].failures == 0
    assert load(engine).busy_until("a", NOW + 10 * MIN) == local(12)


def test_version_bumps_only_when_something_changed(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    state, base = ics
    state.put("/a.ics", meeting(10, 12))
    seed(engine, {"a": {"source": "ics", "url": f"{base}/a.ics"}})
    assert version(engine) is None
    assert run_pass(engine, settings, now=NOW).changed
    assert version(engine) == 1
    assert not run_pass(engine, settings, now=NOW + MIN).changed
    assert version(engine) == 1
    state.put("/a.ics", meeting(10, 11))
    assert run_pass(engine, settings, now=NOW + 2 * MIN).changed
    assert version(engine) == 2
    # A heartbeat every 5 minutes keeps the processes' last_success fresh (calendar_stale).
    assert run_pass(engine, settings, now=NOW + 7 * MIN).changed
    assert version(engine) == 3


def test_removed_calendar_and_inactive_agent_stop_blocking(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    state, base = ics
    state.put("/a.ics", meeting(10, 12))
    seed(engine, {"a": {"source": "ics", "url": f"{base}/a.ics"},
                  "b": {"source": "ics", "url": f"{base}/a.ics"}})
    run_pass(engine, settings, now=NOW)
    with Session(engine) as s:
        a, b = s.get(Agent, "a"), s.get(Agent, "b")
        assert a is not None and b is not None
        a.calendar = None
        b.active = False
        s.add_all([a, b])
        s.commit()
    assert run_pass(engine, settings, now=NOW + MIN).changed
    idx = load(engine)
    assert idx.busy_until("a", NOW) is None and idx.busy_until("b", NOW) is None
    assert sources(engine) == {}
    with engine.connect() as conn:
        assert conn.execute(select(BusyInterval.id)).all() == []  # type: ignore[call-overload]


def test_invalid_calendar_setting_is_reported(engine: Engine, settings: Settings) -> None:
    seed(engine, {"x": {"source": "caldav", "url": "https://example.org"},
                  "y": {"source": "ews", "mailbox": "y@example.org"}})
    report = run_pass(engine, settings, now=NOW)
    assert {a.agent_id: a.error for a in report.failed} == {
        "x": "unknown calendar source 'caldav'",
        "y": "SWITCHBOARD_EWS_URL is not set"}


def test_demo_calendars(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    write_demo(tmp_path / "calendars", now)
    seed(engine, {a: {"source": "ics", "url": str(tmp_path / "calendars" / f"{a}.ics")}
                  for a in ("ole.hansen", "kari.nordmann", "per.olsen")})
    assert run_pass(engine, settings, now=now).failed == []
    idx = load(engine)
    assert idx.busy_until("ole.hansen", now) == now + timedelta(minutes=90)
    assert idx.busy_until("ole.hansen", now - timedelta(minutes=31)) is None
    assert idx.busy_until("kari.nordmann", now) == local(0, d=TODAY + timedelta(days=1))
    assert idx.busy_until("per.olsen", now) is None
    assert idx.notes("per.olsen", now) == ["all_day_free"]


def test_cli_sync_prints_each_source_and_exits_0(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    state, base = ics
    state.put("/ok.ics", meeting(10, 12))
    state.put("/bad.ics", meeting(10, 12), status=500)
    seed(engine, {"ok.agent": {"source": "ics", "url": f"{base}/ok.ics"},
                  "bad.agent": {"source": "ics", "url": f"{base}/bad.ics"}})
    result = CliRunner().invoke(app, ["calendar", "sync"],
                                env={"SWITCHBOARD_DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(ln.startswith("ok") and "ok.agent" in ln for ln in lines)
    assert any(ln.startswith("FAILED") and "bad.agent" in ln and "HTTP 500" in ln
               for ln in lines)
    assert lines[-1] == "1 synced, 1 failed"


def test_two_passes_at_once_do_not_trip_over_each_other(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    # `switchboard calendar sync` run by an admin while a server's background pass runs.
    from concurrent.futures import ThreadPoolExecutor

    state, base = ics
    for i in range(20):
        state.put(f"/{i}.ics", meeting(10, 12))
    seed(engine, {f"agent{i:02d}": {"source": "ics", "url": f"{base}/{i}.ics"}
                  for i in range(20)})
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: run_pass(engine, settings, now=NOW, force=True),
                                range(2)))
    assert [r.failed for r in reports] == [[], []]
    assert len(sources(engine)) == 20
    assert load(engine).busy_until("agent07", NOW) == local(12)


def test_an_unchanged_feed_is_expanded_once_a_day(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    from calendar_sync.sync import Sources

    state, base = ics
    state.put("/a.ics", meeting(10, 12))
    seed(engine, {"a": {"source": "ics", "url": f"{base}/a.ics"}})
    worker_sources = Sources(settings, "Europe/Oslo")  # what the background task keeps
    try:
        run_pass(engine, settings, now=NOW, sources=worker_sources)
        run_pass(engine, settings, now=NOW + MIN, sources=worker_sources)
        assert worker_sources.ics.expansions == 1
        state.put("/a.ics", meeting(10, 13))
        run_pass(engine, settings, now=NOW + 2 * MIN, sources=worker_sources)
        assert worker_sources.ics.expansions == 2
        assert load(engine).busy_until("a", NOW + 2 * MIN) == local(13)
        later = NOW + timedelta(days=1, minutes=5)  # the window has left the expanded range
        run_pass(engine, settings, now=later, sources=worker_sources)
        assert worker_sources.ics.expansions == 3
    finally:
        worker_sources.close()


def test_a_pass_written_in_several_batches_moves_the_version_once(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    state, base = ics
    state.put("/a.ics", meeting(10, 12))
    seed(engine, {f"agent{i:02d}": {"source": "ics", "url": f"{base}/a.ics"} for i in range(45)})
    assert run_pass(engine, settings, now=NOW).failed == []
    assert version(engine) == 1
    idx = load(engine)
    assert all(idx.busy_until(f"agent{i:02d}", NOW) == local(12) for i in range(45))
    assert len(sources(engine)) == 45

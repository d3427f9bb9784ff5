"""Microsoft 365: the real msgraph-sdk against a fake Graph getSchedule on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from calendar_sync.graph import GraphSource
from calendar_sync.index import BusyIndex
from calendar_sync.protocol import CalendarSource
from calendar_sync.sync import run_pass
from switchboard.settings import Settings
from tests.fakes.graph_server import TOKEN, FakeCredential, GraphHandler, GraphItem, GraphState
from tests.fakes.seed import seed
from tests.fakes.server import running

FIXTURES = Path(__file__).parent.parent / "fixtures" / "graph"
OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 25)
DAY = timedelta(days=1)


def local(d: date, h: int = 0, m: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, h, m, tzinfo=OSLO)


@pytest.fixture
def graph(settings: Settings) -> Iterator[tuple[GraphState, GraphSource]]:
    state = GraphState()
    with running(GraphHandler, state) as base:
        s = settings.model_copy(update={"graph_base_url": f"{base}/v1.0",
                                        "graph_anchor_user": "sentralbord@example.org"})
        yield state, GraphSource(s, credential=FakeCredential())


def window() -> tuple[datetime, datetime]:
    return NOW - DAY, NOW + 14 * DAY


def test_parses_the_documented_response(graph: tuple[GraphState, GraphSource]) -> None:
    state, source = graph
    state.raw_response = (FIXTURES / "calendar_getschedule_response.json").read_bytes()
    got = source.fetch(["adelev@contoso.onmicrosoft.com", "meganb@contoso.onmicrosoft.com"],
                       *window())
    adele = got["adelev@contoso.onmicrosoft.com"]
    # 12:00-14:00 Pacific Standard Time (UTC-7 in March 2019, daylight time).
    assert [(e.start, e.end, e.status, e.subject) for e in adele.events] == [
        (datetime(2019, 3, 15, 19, 0, tzinfo=UTC), datetime(2019, 3, 15, 21, 0, tzinfo=UTC),
         "busy", "Let's go for lunch")]
    megan = got["meganb@contoso.onmicrosoft.com"]
    assert [e.status for e in megan.events] == ["busy", "busy", "tentative", "busy", "tentative"]
    assert state.authorizations == [f"Bearer {TOKEN}"]
    assert state.paths == ["/v1.0/users/sentralbord%40example.org/calendar/getSchedule"]


def test_twenty_schedules_per_call(graph: tuple[GraphState, GraphSource]) -> None:
    state, source = graph
    boxes = [f"agent{i}@example.org" for i in range(45)]
    state.calendars = {b: [] for b in boxes}
    got = source.fetch(boxes, *window())
    assert len(got) == 45 and all(r.error is None for r in got.values())
    assert sorted(state.batch_sizes) == [5, 20, 20]


def test_429_retry_after_is_honoured(graph: tuple[GraphState, GraphSource]) -> None:
    state, source = graph
    state.calendars = {"ole@example.org": [GraphItem(local(TODAY, 10), local(TODAY, 11))]}
    state.throttle, state.retry_after = 1, 1
    got = source.fetch(["ole@example.org"], *window())
    assert state.requests == [429, 200]
    assert [(e.start, e.status) for e in got["ole@example.org"].events] == [
        (local(TODAY, 10), "busy")]


def test_sync_all_day_items_keywords_and_an_unknown_mailbox(
        engine: Engine, settings: Settings, graph: tuple[GraphState, GraphSource]) -> None:
    state, source = graph
    state.calendars = {
        # Graph has no all-day flag in getSchedule: local midnight to midnight is all-day.
        "per@example.org": [GraphItem(local(TODAY), local(TODAY + DAY), "free", "Bursdag")],
        "kari@example.org": [GraphItem(local(TODAY), local(TODAY + DAY), "busy", "Landsmøte")],
        "kurs@example.org": [GraphItem(local(TODAY), local(TODAY + DAY), "free", "Seminar")],
        "ole@example.org": [GraphItem(local(TODAY, 10), local(TODAY, 11), "busy"),
                            GraphItem(local(TODAY, 13), local(TODAY, 15), "workingElsewhere")],
        # 00:00 to 00:00 UTC is not an Oslo day: a timed free item, so no note.
        "utc@example.org": [GraphItem(datetime(2026, 11, 25, tzinfo=UTC),
                                      datetime(2026, 11, 26, tzinfo=UTC), "free")],
    }
    agents = ["per", "kari", "kurs", "ole", "utc", "gone"]
    seed(engine, {a: {"source": "graph", "mailbox": f"{a}@example.org"} for a in agents},
         policy={"block_keywords": ["seminar"]})

    def sources(kind: str) -> CalendarSource:
        assert kind == "graph"
        return source

    report = run_pass(engine, settings, now=NOW, sources=sources)
    assert [(a.agent_id, a.error) for a in report.failed] == [("gone", "ErrorItemNotFound")]
    with engine.connect() as conn:
        idx = BusyIndex.load(conn)
    assert idx.busy_until("per", NOW) is None and idx.notes("per", NOW) == ["all_day_free"]
    assert idx.busy_until("kari", NOW) == local(TODAY + DAY)
    assert idx.busy_until("kurs", NOW) == local(TODAY + DAY)
    assert idx.busy_until("ole", NOW) == local(TODAY, 11)
    assert idx.busy_until("ole", local(TODAY, 14)) is None
    assert idx.busy_until("utc", NOW) is None and idx.notes("utc", NOW) == []
    assert len(state.batch_sizes) == 1

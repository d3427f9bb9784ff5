"""Feeds that share a TZID with different rules: each feed's own VTIMEZONE governs its events.

Exchange exports a mailbox's own zone as `TZID:Customized Time Zone`, and a feed may define a
well-known name (`W. Europe Standard Time`, `Europe/Oslo`) its own way. Every meeting in
tests/fixtures/calendars/ used here is at 10:41-11:41 UTC on Wednesday 25 November 2026,
written in that feed's own local time.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from calendar_sync.demo import vcalendar, vevent
from calendar_sync.ics import parse_ics
from calendar_sync.index import BusyIndex
from calendar_sync.sync import run_pass
from switchboard.settings import Settings
from tests.fakes.ics_server import IcsHandler, IcsState
from tests.fakes.seed import seed
from tests.fakes.server import running

CALENDARS = Path(__file__).parent.parent / "fixtures" / "calendars"
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
START = datetime(2026, 11, 25, 10, 41, tzinfo=UTC)
END = datetime(2026, 11, 25, 11, 41, tzinfo=UTC)
SECOND = timedelta(seconds=1)
WEEK = timedelta(days=7)

# agent -> fixture; the first three all say "Customized Time Zone", each with other rules.
FEEDS = {
    "cet": "outlook_customized_tz_cet.ics",  # +01:00/+02:00, 11:41 local
    "central": "outlook_customized_tz_us_central.ics",  # -06:00/-05:00, 04:41 local
    "india": "outlook_customized_tz_india.ics",  # +05:30, 16:11 local, zone after the event
    "w_europe": "outlook_redefined_w_europe.ics",  # "W. Europe Standard Time" as +04:00
    "oslo": "redefined_europe_oslo.ics",  # "Europe/Oslo" as -03:00
}
# Feeds that use the standard meaning of the names others redefine, in the same pass.
STANDARD = {
    # The block Outlook writes for W. Europe Standard Time: 11:41 CET.
    "w_europe_std": vcalendar(vevent("Styremøte", START, END)),
    # An IANA name with no VTIMEZONE at all: the zone database's Europe/Oslo.
    "oslo_std": vcalendar(vevent("Styremøte", START, END, tzid="Europe/Oslo"), vtimezone=False),
}


def feed(name: str) -> bytes:
    return (CALENDARS / FEEDS[name]).read_bytes()


@pytest.fixture
def ics() -> Iterator[tuple[IcsState, str]]:
    state = IcsState()
    for name in FEEDS:
        state.put(f"/{name}.ics", feed(name))
    for name, text in STANDARD.items():
        state.put(f"/{name}.ics", text)
    with running(IcsHandler, state) as base:
        yield state, base


def sync(engine: Engine, settings: Settings, base: str, agents: list[str]) -> BusyIndex:
    seed(engine, {a: {"source": "ics", "url": f"{base}/{a}.ics"} for a in agents})
    report = run_pass(engine, settings, now=NOW)
    assert [a.agent_id for a in report.failed] == []
    with engine.connect() as conn:
        return BusyIndex.load(conn)


def assert_meeting_at_1041_utc(idx: BusyIndex, agent: str) -> None:
    assert (agent, idx.busy_until(agent, START)) == (agent, END)
    assert (agent, idx.busy_until(agent, START - SECOND)) == (agent, None)
    assert (agent, idx.busy_until(agent, END)) == (agent, None)


def test_feeds_sharing_a_zone_name_synced_in_one_pass(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    _, base = ics
    agents = [*FEEDS, *STANDARD]
    idx = sync(engine, settings, base, agents)
    for agent in agents:
        assert_meeting_at_1041_utc(idx, agent)
    # The weekly series' EXDATE (a quoted TZID) still takes next week's occurrence away.
    assert idx.busy_until("cet", START + WEEK) is None


@pytest.mark.parametrize("order", [list(FEEDS), list(reversed(FEEDS))],
                         ids=["cet_first", "oslo_first"])
def test_feeds_sharing_a_zone_name_across_passes(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str], order: list[str]) -> None:
    _, base = ics
    for n in range(1, len(order) + 1):  # one more feed each pass; earlier ones are synced again
        idx = sync(engine, settings, base, [*order[:n], *STANDARD])
        for agent in [*order[:n], *STANDARD]:
            assert_meeting_at_1041_utc(idx, agent)


def test_feeds_sharing_a_zone_name_parsed_in_parallel_threads() -> None:
    bodies = [feed(name) for name in FEEDS] + [text.encode() for text in STANDARD.values()]
    window = (NOW - timedelta(days=1), NOW + timedelta(days=1))

    def starts(body: bytes) -> list[tuple[datetime, datetime]]:
        return [(e.start.astimezone(UTC), e.end.astimezone(UTC))  # type: ignore[union-attr]
                for e in parse_ics(body, *window)]

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        for _ in range(3):  # a few rounds: the threads interleave differently each time
            results = list(pool.map(starts, bodies))
            assert results == [[(START, END)]] * len(bodies)


def test_a_broken_block_for_a_well_known_name_falls_back_to_the_standard_zone() -> None:
    # A VTIMEZONE with no rules cannot govern anything: the name's standard meaning does.
    empty = "BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo\r\nEND:VTIMEZONE"
    body = vcalendar(empty, vevent("Styremøte", START, END, tzid="Europe/Oslo"), vtimezone=False)
    [event] = parse_ics(body, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert event.start.astimezone(UTC) == START  # type: ignore[union-attr]

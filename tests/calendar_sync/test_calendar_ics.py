"""ICS calendars served by a local HTTP server, synced, stored and read back through BusyIndex."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from calendar_sync.demo import vcalendar, vevent
from calendar_sync.index import BusyIndex
from calendar_sync.sync import run_pass
from switchboard.settings import Settings
from tests.fakes.ics_server import IcsHandler, IcsState
from tests.fakes.seed import seed, set_policy
from tests.fakes.server import running

OSLO = ZoneInfo("Europe/Oslo")
# Wednesday 25 November 2026, 10:30 in Oslo.
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 25)
DAY = timedelta(days=1)


def local(d: date, h: int, m: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, h, m, tzinfo=OSLO)


def midnight(d: date) -> datetime:
    return local(d, 0).astimezone(UTC)


@pytest.fixture
def ics() -> Iterator[tuple[IcsState, str]]:
    state = IcsState()
    with running(IcsHandler, state) as base:
        yield state, base


def index(engine: Engine) -> BusyIndex:
    with engine.connect() as conn:
        return BusyIndex.load(conn)


WEEKLY = [
    # Wednesdays 10:00-11:00 from three weeks back; next week's is off (EXDATE) and today's
    # moved to 14:00-15:00 (RECURRENCE-ID).
    vevent("Ukemøte", local(TODAY - 21 * DAY, 10), local(TODAY - 21 * DAY, 11), uid="weekly",
           extra=["RRULE:FREQ=WEEKLY;BYDAY=WE;WKST=MO",
                  "EXDATE;TZID=W. Europe Standard Time:20261202T100000"]),
    vevent("Ukemøte", local(TODAY, 14), local(TODAY, 15), uid="weekly",
           extra=["RECURRENCE-ID;TZID=W. Europe Standard Time:20261125T100000"]),
]
CANCELLED = [
    # Wednesdays 10:00-11:00; today's occurrence is cancelled.
    vevent("Teammøte", local(TODAY - 7 * DAY, 10), local(TODAY - 7 * DAY, 11), uid="team",
           extra=["RRULE:FREQ=WEEKLY;COUNT=6"]),
    vevent("Avlyst: Teammøte", local(TODAY, 10), local(TODAY, 11), uid="team",
           extra=["RECURRENCE-ID;TZID=W. Europe Standard Time:20261125T100000",
                  "STATUS:CANCELLED"]),
]
FEEDS = {
    "meeting_now": [vevent("Møte", local(TODAY, 10), local(TODAY, 11, 30))],
    "allday_busy": [vevent("Landsmøte", TODAY, TODAY + DAY)],
    "allday_free": [vevent("Bursdag", TODAY, TODAY + DAY, busystatus="FREE")],
    "allday_kurs": [vevent("Kurs i tariff", TODAY, TODAY + DAY, busystatus="FREE")],
    "allday_kursdag": [vevent("Kursdag planlegging", TODAY, TODAY + DAY, busystatus="FREE")],
    "cancelled": CANCELLED,
    "overnight": [vevent("Seminar", local(TODAY - DAY, 14), local(TODAY + DAY, 10))],
    "holiday": [vevent("Ferie", TODAY - DAY, TODAY + 3 * DAY, busystatus="OOF")],
    "tentative": [vevent("Kanskje", local(TODAY, 10), local(TODAY, 12), busystatus="TENTATIVE")],
    "weekly": WEEKLY,
    "ends_now": [vevent("Tidlig møte", local(TODAY, 9), local(TODAY, 10, 30))],
    "elsewhere": [vevent("Hjemmekontor", local(TODAY, 8), local(TODAY, 16),
                         busystatus="WORKINGELSEWHERE")],
    "free_timed": [vevent("Lunsj", local(TODAY, 10), local(TODAY, 11), busystatus="FREE")],
}


@pytest.fixture
def synced(engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> Engine:
    state, base = ics
    for name, events in FEEDS.items():
        state.put(f"/{name}.ics", vcalendar(*events))
    seed(engine, {name: {"source": "ics", "url": f"{base}/{name}.ics"} for name in FEEDS},
         policy={"block_keywords": ["kurs"]})
    report = run_pass(engine, settings, now=NOW)
    assert [a.agent_id for a in report.failed] == []
    return engine


def test_timed_meeting_now_blocks_until_it_ends(synced: Engine) -> None:
    assert index(synced).busy_until("meeting_now", NOW) == local(TODAY, 11, 30)


def test_all_day_busy_blocks_the_whole_local_day(synced: Engine) -> None:
    idx = index(synced)
    assert idx.busy_until("allday_busy", NOW) == midnight(TODAY + DAY)
    assert idx.busy_until("allday_busy", midnight(TODAY)) == midnight(TODAY + DAY)
    assert idx.busy_until("allday_busy", midnight(TODAY) - timedelta(seconds=1)) is None
    assert idx.busy_until("allday_busy", midnight(TODAY + DAY)) is None


def test_all_day_free_is_noted_not_blocking(synced: Engine) -> None:
    idx = index(synced)
    assert idx.busy_until("allday_free", NOW) is None
    assert idx.notes("allday_free", NOW) == ["all_day_free"]
    assert idx.notes("allday_free", midnight(TODAY + DAY)) == []


def test_all_day_free_blocks_when_the_policy_says_so(synced: Engine, settings: Settings) -> None:
    set_policy(synced, {"all_day_free_blocks": True})
    run_pass(synced, settings, now=NOW)
    idx = index(synced)
    assert idx.busy_until("allday_free", NOW) == midnight(TODAY + DAY)
    assert idx.notes("allday_free", NOW) == []


def test_block_keyword_blocks_a_free_all_day_event_by_whole_word(synced: Engine) -> None:
    idx = index(synced)
    assert idx.busy_until("allday_kurs", NOW) == midnight(TODAY + DAY)
    # "Kursdag" is not the word "kurs": the usual Free all-day rule applies.
    assert idx.busy_until("allday_kursdag", NOW) is None
    assert idx.notes("allday_kursdag", NOW) == ["all_day_free"]


def test_cancelled_occurrence_does_not_block_but_the_series_does(synced: Engine) -> None:
    idx = index(synced)
    assert idx.busy_until("cancelled", NOW) is None
    assert idx.busy_until("cancelled", NOW + 7 * DAY) == local(TODAY + 7 * DAY, 11)


def test_overnight_meeting_blocks_exactly_its_span(synced: Engine) -> None:
    idx = index(synced)
    end = local(TODAY + DAY, 10)
    assert idx.busy_until("overnight", NOW) == end
    assert idx.busy_until("overnight", local(TODAY - DAY, 13)) is None  # yesterday morning free
    assert idx.busy_until("overnight", local(TODAY + DAY, 10, 1)) is None


def test_multi_day_oof_holiday(synced: Engine) -> None:
    idx = index(synced)
    assert idx.busy_until("holiday", NOW) == midnight(TODAY + 3 * DAY)
    assert idx.busy_until("holiday", local(TODAY + 2 * DAY, 15)) == midnight(TODAY + 3 * DAY)
    assert idx.busy_until("holiday", local(TODAY + 3 * DAY, 8)) is None


def test_tentative_under_both_policy_values(synced: Engine, settings: Settings) -> None:
    assert index(synced).busy_until("tentative", NOW) == local(TODAY, 12)
    set_policy(synced, {"tentative_blocks": False})
    run_pass(synced, settings, now=NOW)
    assert index(synced).busy_until("tentative", NOW) is None


def test_weekly_meeting_with_exdate_and_a_moved_occurrence(synced: Engine) -> None:
    idx = index(synced)
    assert idx.busy_until("weekly", NOW) is None  # today's 10:00 was moved...
    assert idx.busy_until("weekly", local(TODAY, 14, 30)) == local(TODAY, 15)  # ...to 14:00
    assert idx.busy_until("weekly", local(TODAY + 7 * DAY, 10, 30)) is None  # EXDATE
    assert idx.busy_until("weekly", local(TODAY + 14 * DAY, 10, 30)) == local(TODAY + 14 * DAY, 11)
    assert idx.busy_until("weekly", local(TODAY - 7 * DAY, 10, 30)) is None  # before the window


def test_event_ending_now_leaves_the_agent_free(synced: Engine) -> None:
    idx = index(synced)
    assert idx.busy_until("ends_now", NOW - timedelta(seconds=1)) == NOW
    assert idx.busy_until("ends_now", NOW) is None


def test_free_and_working_elsewhere_never_block(synced: Engine) -> None:
    idx = index(synced)
    for agent in ("elsewhere", "free_timed"):
        assert idx.busy_until(agent, NOW) is None
        assert idx.notes(agent, NOW) == []


def test_unchanged_feeds_are_fetched_with_a_304_and_still_expand(
        synced: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    state, _ = ics
    state.requests.clear()
    later = NOW + 7 * DAY  # the window moved: next week's occurrences come from the cached body
    report = run_pass(synced, settings, now=later)
    assert report.failed == []
    assert {status for _, status in state.requests} == {304}
    assert index(synced).busy_until("cancelled", later) == local(TODAY + 7 * DAY, 11)


def test_event_spanning_the_change_to_summer_time(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    state, base = ics
    sunday = date(2027, 3, 28)  # clocks go from 02:00 to 03:00 in Oslo
    state.put("/dst.ics", vcalendar(vevent("Nattevakt", local(sunday - DAY, 22), local(sunday, 6))))
    state.put("/dstday.ics", vcalendar(vevent("Samling", sunday, sunday + DAY)))
    seed(engine, {"night": {"source": "ics", "url": f"{base}/dst.ics"},
                  "day": {"source": "ics", "url": f"{base}/dstday.ics"}})
    now = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    run_pass(engine, settings, now=now)
    idx = index(engine)
    start = datetime(2027, 3, 27, 21, 0, tzinfo=UTC)  # 22:00 CET
    end = datetime(2027, 3, 28, 4, 0, tzinfo=UTC)  # 06:00 CEST: 7 hours, not 8
    assert idx.busy_until("night", start) == end
    assert idx.busy_until("night", start - timedelta(seconds=1)) is None
    # The all-day event covers the 23-hour local day.
    assert idx.busy_until("day", datetime(2027, 3, 27, 23, 0, tzinfo=UTC)) == datetime(
        2027, 3, 28, 22, 0, tzinfo=UTC)


def test_windows_tzid_without_vtimezone(
        engine: Engine, settings: Settings, ics: tuple[IcsState, str]) -> None:
    state, base = ics
    # Outlook sometimes names a Windows zone and omits the VTIMEZONE block.
    pacific = "\r\n".join([
        "BEGIN:VEVENT", "UID:win-1", "SUMMARY:Call with Seattle", "DTSTAMP:20261101T000000Z",
        "DTSTART;TZID=Pacific Standard Time:20261125T080000",
        "DTEND;TZID=Pacific Standard Time:20261125T090000",
        "X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "END:VEVENT"])
    state.put("/win.ics", vcalendar(pacific, vtimezone=False))
    seed(engine, {"win": {"source": "ics", "url": f"{base}/win.ics"}})
    assert run_pass(engine, settings, now=NOW).failed == []
    # 08:00-09:00 in Seattle (UTC-8) is 16:00-17:00 UTC.
    idx = index(engine)
    assert idx.busy_until("win", datetime(2026, 11, 25, 16, 30, tzinfo=UTC)) == datetime(
        2026, 11, 25, 17, 0, tzinfo=UTC)
    assert idx.busy_until("win", datetime(2026, 11, 25, 15, 30, tzinfo=UTC)) is None

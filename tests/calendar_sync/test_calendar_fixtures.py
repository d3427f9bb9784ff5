"""Real Outlook, Exchange and Google exports (tests/fixtures/calendars/) through the ICS source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from calendar_sync.index import BusyIndex
from calendar_sync.sync import run_pass
from switchboard.settings import Settings
from tests.fakes.ics_server import IcsHandler, IcsState
from tests.fakes.seed import seed
from tests.fakes.server import running

CALENDARS = Path(__file__).parent.parent / "fixtures" / "calendars"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def served() -> Iterator[str]:
    state = IcsState()
    for path in CALENDARS.glob("*.ics"):
        state.put(f"/{path.name}", path.read_bytes())
    with running(IcsHandler, state) as base:
        yield base


def sync_one(engine: Engine, settings: Settings, url: str, now: datetime,
             policy: dict | None = None) -> BusyIndex:
    seed(engine, {"agent": {"source": "ics", "url": url}}, policy=policy)
    report = run_pass(engine, settings, now=now)
    assert report.failed == []
    with engine.connect() as conn:
        return BusyIndex.load(conn)


def test_published_exchange_calendar_mixed_statuses(engine: Engine, settings: Settings,
                                                    served: str) -> None:
    url = f"{served}/exchange2010_publish_cest_mixed_busystatus.ics"
    idx = sync_one(engine, settings, url, utc(2020, 12, 4, 8, 30))
    # TENTATIVE 09:15-10:00 CET blocks by default...
    assert idx.busy_until("agent", utc(2020, 12, 4, 8, 30)) == utc(2020, 12, 4, 9, 0)
    # ...and the all-day FREE/TRANSPARENT event on Monday 7 December is only a note.
    assert idx.busy_until("agent", utc(2020, 12, 7, 11, 0)) is None
    assert idx.notes("agent", utc(2020, 12, 7, 11, 0)) == ["all_day_free"]
    idx = sync_one(engine, settings, url, utc(2020, 12, 4, 8, 30),
                   policy={"tentative_blocks": False})
    assert idx.busy_until("agent", utc(2020, 12, 4, 8, 30)) is None


def test_all_day_oof_series_with_a_moved_occurrence(engine: Engine, settings: Settings,
                                                    served: str) -> None:
    url = f"{served}/exchange2010_allday_oof_recurrence_id.ics"
    idx = sync_one(engine, settings, url, utc(2021, 4, 8, 12, 0))
    # Friday 9 April moved to Saturday 10 April (Oslo days, CEST).
    assert idx.busy_until("agent", utc(2021, 4, 9, 10, 0)) is None
    assert idx.busy_until("agent", utc(2021, 4, 10, 10, 0)) == utc(2021, 4, 10, 22, 0)
    assert idx.busy_until("agent", utc(2021, 4, 14, 10, 0)) == utc(2021, 4, 14, 22, 0)  # a Wed


def test_multiple_exdates_on_one_line(engine: Engine, settings: Settings, served: str) -> None:
    url = f"{served}/exchange2010_multi_exdate_eastern.ics"
    idx = sync_one(engine, settings, url, utc(2022, 3, 17, 12, 0))
    # Fridays 11:00-11:30 New York time (EDT from 13 March: 15:00 UTC); 18 March is excluded.
    assert idx.busy_until("agent", utc(2022, 3, 18, 15, 10)) is None
    assert idx.busy_until("agent", utc(2022, 3, 25, 15, 10)) == utc(2022, 3, 25, 15, 30)


def test_windows_tzids_and_a_broken_dtstart(engine: Engine, settings: Settings,
                                            served: str) -> None:
    url = f"{served}/exchange2010_multiple_windows_tzids.ics"
    idx = sync_one(engine, settings, url, utc(2020, 9, 9, 12, 0))
    # "test", 09:00-09:30 W. Europe Standard Time (CEST) on 10 September 2020.
    assert idx.busy_until("agent", utc(2020, 9, 10, 7, 10)) == utc(2020, 9, 10, 7, 30)
    # 08:30-09:30 Pacific Standard Time (PDT) on 15 September 2020.
    assert idx.busy_until("agent", utc(2020, 9, 15, 15, 45)) == utc(2020, 9, 15, 16, 30)


def test_crlf_all_day_free_series_with_moved_occurrences(engine: Engine, settings: Settings,
                                                         served: str) -> None:
    url = f"{served}/exchange2010_allday_free_transparent_moved.ics"
    idx = sync_one(engine, settings, url, utc(2020, 4, 10, 12, 0))
    # The 16 April occurrence was moved to 17 April; free all-day: noted, never blocking.
    assert idx.notes("agent", utc(2020, 4, 16, 12, 0)) == []
    assert idx.notes("agent", utc(2020, 4, 17, 12, 0)) == ["all_day_free"]
    assert idx.busy_until("agent", utc(2020, 4, 17, 12, 0)) is None
    idx = sync_one(engine, settings, url, utc(2020, 4, 10, 12, 0),
                   policy={"all_day_free_blocks": True})
    assert idx.busy_until("agent", utc(2020, 4, 17, 12, 0)) == utc(2020, 4, 17, 22, 0)


def test_outlook_2007_tab_folded_lines(engine: Engine, settings: Settings, served: str) -> None:
    url = f"{served}/outlook12_tab_line_folds_allday_free.ics"
    idx = sync_one(engine, settings, url, utc(2009, 6, 21, 10, 0))
    assert idx.notes("agent", utc(2009, 6, 21, 10, 0)) == ["all_day_free"]
    assert idx.busy_until("agent", utc(2009, 6, 21, 10, 0)) is None


def test_outlook_free_busy_only_export(engine: Engine, settings: Settings, served: str) -> None:
    url = f"{served}/outlook12_working_hours_w_australia.ics"
    idx = sync_one(engine, settings, url, utc(2008, 1, 17, 12, 0))
    assert idx.busy_until("agent", utc(2008, 1, 18, 0, 0)) == utc(2008, 1, 18, 2, 30)


def test_google_export_with_moved_occurrences(engine: Engine, settings: Settings,
                                              served: str) -> None:
    url = f"{served}/google_calendar_recurrence_id_allday.ics"
    idx = sync_one(engine, settings, url, utc(2023, 8, 10, 0, 0))
    # Tuesday 15 August 14:00 Sydney moved to Monday 14 August 14:00 (04:00 UTC).
    assert idx.busy_until("agent", utc(2023, 8, 15, 4, 30)) is None
    assert idx.busy_until("agent", utc(2023, 8, 14, 4, 30)) == utc(2023, 8, 14, 5, 0)
    # Google's transparent all-day events carry no BUSYSTATUS: free, so only noted (Oslo day).
    assert idx.notes("agent", utc(2023, 8, 16, 12, 0)) == ["all_day_free"]
    assert idx.notes("agent", utc(2023, 8, 17, 12, 0)) == []

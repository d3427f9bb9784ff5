"""Exchange on premises: the real exchangelib against a fake EWS server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from calendar_sync.demo import vcalendar, vevent
from calendar_sync.ews import EwsSource
from calendar_sync.index import BusyIndex
from calendar_sync.models import CalendarSource
from calendar_sync.sync import run_pass
from switchboard.settings import Settings
from tests.fakes.ews_server import EwsEvent, EwsHandler, EwsState
from tests.fakes.seed import seed
from tests.fakes.server import running

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ews"
OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # 10:30 in Oslo
TODAY = date(2026, 11, 25)
DAY = timedelta(days=1)


def local(d: date, h: int = 0, m: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, h, m, tzinfo=OSLO)


@pytest.fixture
def ews(settings: Settings) -> Iterator[tuple[EwsState, Settings]]:
    state = EwsState()
    with running(EwsHandler, state) as base:
        yield state, settings.model_copy(update={
            "ews_url": f"{base}/EWS/Exchange.asmx", "ews_username": "svc-switchboard",
            "ews_auth": "basic"})


def window() -> tuple[datetime, datetime]:
    return NOW - DAY, NOW + 14 * DAY


def test_parses_the_documented_detailedmerged_response(ews: tuple[EwsState, Settings]) -> None:
    state, settings = ews
    state.raw_availability = (
        FIXTURES / "getuseravailability_response_detailedmerged_docs.xml").read_bytes()
    got = EwsSource(settings, "Europe/Oslo").fetch(["user1@example.com", "user2@example.com"],
                                                 *window())
    first, second = got["user1@example.com"], got["user2@example.com"]
    assert first.error is None and second.error is None
    assert [(e.start, e.end, e.status, e.subject) for e in first.events][0] == (
        datetime(2006, 10, 16, 13, 0, tzinfo=UTC), datetime(2006, 10, 16, 13, 30, tzinfo=UTC),
        "busy", "Meet with Contoso Account Executives")
    assert len(first.events) == 3
    assert [(e.status, e.subject) for e in second.events] == [("tentative", None)]


def test_mailbox_not_found_is_reported_for_that_mailbox(ews: tuple[EwsState, Settings]) -> None:
    state, settings = ews
    state.raw_availability = (
        FIXTURES / "getuseravailability_error_mailrecipientnotfound_o365.xml").read_bytes()
    got = EwsSource(settings, "Europe/Oslo").fetch(["gone@example.com"], *window())
    assert got["gone@example.com"].error == "ErrorMailRecipientNotFound"


def test_more_than_100_mailboxes_take_more_than_one_request(
        ews: tuple[EwsState, Settings]) -> None:
    state, settings = ews
    boxes = [f"agent{i}@example.org" for i in range(250)]
    state.calendars = {b: [] for b in boxes}
    got = EwsSource(settings, "Europe/Oslo").fetch(boxes, *window())
    assert all(r.error is None for r in got.values()) and len(got) == 250
    assert state.requests == ["GetServerTimeZones"] + ["GetUserAvailabilityRequest"] * 3
    assert state.batch_sizes == [100, 100, 50]


def test_sync_applies_the_policy_and_isolates_a_missing_mailbox(
        engine: Engine, ews: tuple[EwsState, Settings]) -> None:
    state, settings = ews
    state.calendars = {
        "ole@example.org": [EwsEvent(local(TODAY, 10), local(TODAY, 11), "Busy", "Styremøte")],
        # EWS has no all-day flag: local midnight to midnight is all-day.
        "per@example.org": [EwsEvent(local(TODAY), local(TODAY + DAY), "Free", "Hjemmekontor")],
        "kari@example.org": [EwsEvent(local(TODAY), local(TODAY + 2 * DAY), "OOF", None)],
        "kurs@example.org": [EwsEvent(local(TODAY), local(TODAY + DAY), "Free", "Kurs i Excel")],
        "privat@example.org": [EwsEvent(local(TODAY), local(TODAY + DAY), "Free", "Kurs",
                                        private=True)],
    }
    agents = {"ole": "ole@example.org", "per": "per@example.org", "kari": "kari@example.org",
              "kurs": "kurs@example.org", "privat": "privat@example.org",
              "gone": "gone@example.org"}
    seed(engine, {a: {"source": "ews", "mailbox": m} for a, m in agents.items()},
         policy={"block_keywords": ["kurs"]})
    report = run_pass(engine, settings, now=NOW)
    assert [(a.agent_id, a.error) for a in report.failed] == [
        ("gone", "ErrorMailRecipientNotFound")]
    with engine.connect() as conn:
        idx = BusyIndex.load(conn)
    assert idx.busy_until("ole", NOW) == local(TODAY, 11)
    assert idx.busy_until("per", NOW) is None and idx.notes("per", NOW) == ["all_day_free"]
    assert idx.busy_until("kari", NOW) == local(TODAY + 2 * DAY)
    assert idx.busy_until("kurs", NOW) == local(TODAY + DAY)
    assert idx.busy_until("privat", NOW) is None  # a private item's subject is never read
    assert idx.last_success["ole"] == NOW and idx.last_success["gone"] is None
    assert state.requests == ["GetServerTimeZones", "GetUserAvailabilityRequest"]


def test_soap_fault_keeps_the_last_good_intervals(
        engine: Engine, ews: tuple[EwsState, Settings], tmp_path: Path) -> None:
    state, settings = ews
    state.calendars = {"ole@example.org": [EwsEvent(local(TODAY, 10), local(TODAY, 12))]}
    feed = tmp_path / "kari.ics"
    feed.write_text(vcalendar(vevent("Møte", local(TODAY, 10), local(TODAY, 11))))
    seed(engine, {"ole": {"source": "ews", "mailbox": "ole@example.org"},
                  "kari": {"source": "ics", "url": str(feed)}})
    assert run_pass(engine, settings, now=NOW).failed == []
    state.fault = True
    feed.write_text(vcalendar(vevent("Møte", local(TODAY, 10), local(TODAY, 13))))
    later = NOW + timedelta(minutes=1)
    report = run_pass(engine, settings, now=later)
    assert [(a.agent_id, a.error) for a in report.failed] == [
        ("ole", "EWS request failed: ErrorInternalServerError")]
    with engine.connect() as conn:
        idx = BusyIndex.load(conn)
        src = conn.execute(select(CalendarSource).where(CalendarSource.agent_id == "ole")).one()
    assert idx.busy_until("ole", later) == local(TODAY, 12)
    assert idx.last_success["ole"] == NOW
    assert idx.busy_until("kari", later) == local(TODAY, 13)  # other sources go on
    assert idx.last_success["kari"] == later
    assert (src.last_error, src.failures, src.last_attempt_at) == (
        "EWS request failed: ErrorInternalServerError", 1, later)

"""BusyIndex (what routing and presence read) and the pure policy rules, without HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from calendar_sync.index import BusyIndex
from calendar_sync.models import BusyInterval, CalendarSource
from calendar_sync.policy import Policy, intervals
from calendar_sync.protocol import RawEvent

OSLO = ZoneInfo("Europe/Oslo")
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_overlapping_and_touching_blocks_merge() -> None:
    idx = BusyIndex([
        ("a", T0, T0 + H, True, None),
        ("a", T0 + H, T0 + 2 * H, True, None),  # touching: one block
        ("a", T0 + 30 * timedelta(minutes=1), T0 + 90 * timedelta(minutes=1), True, None),
        ("a", T0 + 5 * H, T0 + 6 * H, True, None),
        ("a", T0 - 5 * H, T0 + 20 * H, False, "all_day_free"),
    ])
    assert idx.busy_until("a", T0) == T0 + 2 * H
    assert idx.busy_until("a", T0 + 2 * H) is None
    assert idx.busy_until("a", T0 + 5 * H) == T0 + 6 * H
    assert idx.busy_until("a", T0 - timedelta(seconds=1)) is None
    assert idx.notes("a", T0 + 3 * H) == ["all_day_free"]
    assert idx.notes("a", T0 + 20 * H) == []
    assert idx.busy_until("nobody", T0) is None and idx.notes("nobody", T0) == []


def test_load_reads_intervals_and_last_success(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(BusyInterval), [
            {"agent_id": "a", "start": T0, "end": T0 + H, "status": "busy", "all_day": False,
             "blocks": True, "note": None},
            {"agent_id": "b", "start": T0, "end": T0 + 9 * H, "status": "free",
             "all_day": True, "blocks": False, "note": "all_day_free"},
        ])
        conn.execute(insert(CalendarSource), [
            {"agent_id": "a", "kind": "ics", "last_success_at": T0, "failures": 0},
            {"agent_id": "b", "kind": "ews", "last_success_at": None, "failures": 3},
        ])
    with engine.connect() as conn:
        idx = BusyIndex.load(conn)
    assert idx.busy_until("a", T0) == T0 + H
    assert idx.busy_until("b", T0) is None and idx.notes("b", T0) == ["all_day_free"]
    assert idx.last_success == {"a": T0, "b": None}
    assert idx.last_success["a"].tzinfo is not None


def test_keywords_match_whole_words_case_insensitively() -> None:
    p = Policy.from_config({"block_keywords": ["kurs", "heldagsmøte", "Seminar"]})
    assert p.keyword_hit("Kurs i Excel")
    assert p.keyword_hit("HELDAGSMØTE med styret")
    assert p.keyword_hit("Intern: seminar.")
    assert not p.keyword_hit("Kursdag")
    assert not p.keyword_hit("Fagseminar")
    assert not p.keyword_hit(None)
    assert not Policy.from_config({}).keyword_hit("kurs")


def test_policy_defaults() -> None:
    p = Policy.from_config(None)
    assert (p.tentative_blocks, p.all_day_free_blocks, p.block_keywords) == (True, False, ())


def _one(ev: RawEvent, policy: Policy | None = None):  # type: ignore[no-untyped-def]
    window = (T0 - 2 * 24 * H, T0 + 14 * 24 * H)
    return intervals([ev], policy or Policy.from_config({}), OSLO, window)


def test_midnight_to_midnight_is_all_day_only_without_a_source_flag() -> None:
    day = datetime(2026, 11, 25, tzinfo=OSLO)
    free = RawEvent(day, day + 24 * H, "free")  # EWS/Graph: no flag
    (iv,) = _one(free)
    assert (iv.all_day, iv.blocks, iv.note) == (True, False, "all_day_free")
    # ICS says it is a timed event: a Free timed event is simply free (nothing stored).
    assert _one(RawEvent(day, day + 24 * H, "free", all_day=False)) == []


def test_date_valued_events_become_local_days_in_utc() -> None:
    (iv,) = _one(RawEvent(date(2026, 11, 25), date(2026, 11, 27), "oof", all_day=True))
    assert (iv.start, iv.end, iv.blocks) == (datetime(2026, 11, 24, 23, tzinfo=UTC),
                                             datetime(2026, 11, 26, 23, tzinfo=UTC), True)


def test_cancelled_and_empty_events_are_dropped() -> None:
    assert _one(RawEvent(T0, T0 + H, "busy", cancelled=True)) == []
    assert _one(RawEvent(T0, T0, "busy")) == []


def test_flagged_all_day_with_date_times_takes_the_days_it_names() -> None:
    # X-MICROSOFT-CDO-ALLDAYEVENT:TRUE written as midnight date-times in a Windows zone.
    berlin = ZoneInfo("Europe/Berlin")
    ev = RawEvent(datetime(2026, 11, 25, tzinfo=berlin), datetime(2026, 11, 26, tzinfo=berlin),
                  "free", all_day=True)
    (iv,) = _one(ev)
    assert (iv.start, iv.end, iv.all_day, iv.note) == (
        datetime(2026, 11, 24, 23, tzinfo=UTC), datetime(2026, 11, 25, 23, tzinfo=UTC), True,
        "all_day_free")


def test_keyword_blocks_a_timed_free_event_but_never_a_cancelled_one() -> None:
    p = Policy.from_config({"block_keywords": ["kurs"]})
    (iv,) = _one(RawEvent(T0, T0 + H, "free", all_day=False, subject="Kurs"), p)
    assert iv.blocks and not iv.all_day
    assert _one(RawEvent(T0, T0 + H, "busy", subject="Kurs", cancelled=True), p) == []

"""Statistics from simulated calls with known outcomes, played through the webhooks with an
injected clock, on the two days a year Oslo's clocks change (25 and 23 hours)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine

from console.stats_report import loops_now, report, report_csv
from switchboard.settings import Settings
from tests.ivr_steps import confirm, dial_ends, press, status
from tests.twilio_harness import Clock, Twilio, make_app, new_sid

ALL_DAYS = ", ".join(f'{d}: "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                       "sun"))
ORG = f"""
organisation:
  name: Testforbundet
  timezone: Europe/Oslo
  opening_hours: {{{ALL_DAYS}}}
numbers:
  - {{number: "+4722000000", kind: switchboard}}
menu: {{"1": ko, "2": natt}}
agents:
  - {{id: a1, name: Agent En, phone: "+4790000101"}}
  - {{id: a2, name: Agent To, phone: "+4790000102"}}
  - {{id: a3, name: Agent Tre, phone: "+4790000103", logged_in: false, logout_reason: holiday}}
loops:
  - {{id: ko, name: Køen, members: [a1, a2], strategy: ringall, ring_timeout: 60,
     max_wait: 600, overflow: voicemail, service_level_seconds: 20}}
  - {{id: natt, name: Natt, members: [a3], overflow: voicemail}}
"""


def _app(settings: Settings, engine: Engine, at: datetime) -> Twilio:
    return make_app(settings, engine, ORG, clock=Clock(at))


def answered(tw: Twilio, at: datetime, *, agent: str, wait: float, talk: float) -> None:
    """A caller in loop ko, answered by `agent` after `wait` s, talking `talk` s."""
    tw.clock.now = at
    sid = new_sid()
    root, stage = press(tw, sid, "1")
    assert stage == "loop"
    tw.clock.advance(wait)
    assert confirm(tw, root, agent, new_sid()) == "connected"
    tw.clock.advance(talk)
    dial_ends(tw, root, sid, "completed")
    tw.clock.advance(1)
    assert status(tw, sid) == 200


def abandoned(tw: Twilio, at: datetime, *, after: float) -> None:
    """A caller in loop ko who hangs up while the agents ring."""
    tw.clock.now = at
    sid = new_sid()
    _, stage = press(tw, sid, "1")
    assert stage == "loop"
    tw.clock.advance(after)
    assert status(tw, sid) == 200


def to_voicemail(tw: Twilio, at: datetime) -> None:
    """A caller in loop natt, whose only member is logged out: overflow, then a message."""
    tw.clock.now = at
    sid = new_sid()
    root, stage = press(tw, sid, "2")
    assert stage == "voicemail"
    record = root.find("Record")
    assert isinstance(record, ET.Element)
    tw.clock.advance(20)
    tw.post(record.get("action", ""), {"CallSid": sid, "RecordingUrl":
                                       "https://api.twilio.com/Recordings/RE1",
                                       "RecordingDuration": "12"})
    assert status(tw, sid) == 200


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _report(tw: Twilio, engine: Engine, day: date, period: str = "day") -> dict:
    snap = tw.client.app.state.flow.cache.get()  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return report(conn, snap, period=period, day=day, now=tw.clock.now)


def by_id(rows: list[dict], ident: str) -> dict:
    return next(r for r in rows if r["id"] == ident)


def test_report_on_the_25_hour_day(settings: Settings, engine: Engine) -> None:
    # 2026-10-25 in Oslo runs from 22:00 UTC on the 24th to 23:00 UTC on the 25th.
    tw = _app(settings, engine, utc(2026, 10, 24, 21, 0))
    abandoned(tw, utc(2026, 10, 24, 21, 50), after=400)  # 23:50 the day before: not counted
    answered(tw, utc(2026, 10, 24, 22, 30), agent="a1", wait=10, talk=100)  # 00:30 CEST
    answered(tw, utc(2026, 10, 25, 0, 30), agent="a2", wait=30, talk=50)  # 02:30 CEST
    abandoned(tw, utc(2026, 10, 25, 1, 30), after=45)  # 02:30 CET, the hour that comes twice
    to_voicemail(tw, utc(2026, 10, 25, 12, 0))
    abandoned(tw, utc(2026, 10, 25, 22, 50), after=3)  # 23:50 CET: in the 25th hour
    abandoned(tw, utc(2026, 10, 25, 23, 10), after=500)  # 00:10 on the 26th: not counted

    rep = _report(tw, engine, date(2026, 10, 25))
    assert rep["hours"] == 25
    ko = by_id(rep["loops"], "ko")
    assert (ko["offered"], ko["answered"], ko["abandoned"], ko["abandoned_short"]) == (4, 2, 2, 1)
    assert ko["service_level"] == 0.5  # 10 s within 20 s, 30 s not
    assert ko["wait_max_s"] == 45.0 and ko["answer_avg_s"] == 20.0
    assert (ko["abandon_avg_s"], ko["abandon_max_s"]) == (24.0, 45.0)
    assert (ko["talk_s"], ko["talk_avg_s"]) == (150.0, 75.0)
    assert (ko["overflowed"], ko["voicemail"]) == (0, 0)
    assert ko["callbacks"] == 1  # the 45 s caller; who hangs up within 5 s gets no callback
    natt = by_id(rep["loops"], "natt")
    assert (natt["offered"], natt["overflowed"], natt["voicemail"], natt["callbacks"]) == (
        1, 1, 1, 1)
    assert natt["answered"] == 0 and natt["service_level"] is None
    a1, a2 = by_id(rep["agents"], "a1"), by_id(rep["agents"], "a2")
    assert (a1["answered"], a1["talk_s"], a1["wait_max_s"]) == (1, 100.0, 10.0)
    assert (a2["answered"], a2["talk_s"], a2["service_level"]) == (1, 50.0, 0.0)
    assert a1["offered"] == 4 and a2["offered"] == 4  # ringall: every ko call rang both
    assert rep["total"]["answered"] == 2 and rep["total"]["abandoned"] == 2
    assert rep["calls"] == 5
    # The chart has 25 hourly bars, 02 twice; the abandoned 02:30 CET call is in the second.
    labels = [s["label"] for s in rep["series"]]
    assert len(labels) == 25 and labels.count("02") == 1 and "02 CET" in labels
    second_two = rep["series"][labels.index("02 CET")]
    assert (second_two["offered"], second_two["abandoned"]) == (1, 1)
    csv_text = report_csv(rep)
    assert "loop,ko,Køen,4,2,2,1,24.0,45.0,0,0,1,0.5," in csv_text


def test_the_23_hour_day_and_the_week_around_it(settings: Settings, engine: Engine) -> None:
    # 2027-03-28 in Oslo runs from 23:00 UTC on the 27th to 22:00 UTC on the 28th.
    tw = _app(settings, engine, utc(2027, 3, 27, 22, 0))
    answered(tw, utc(2027, 3, 27, 23, 5), agent="a1", wait=25, talk=60)  # 00:05 CET
    answered(tw, utc(2027, 3, 28, 21, 30), agent="a2", wait=5, talk=30)  # 23:30 CEST
    abandoned(tw, utc(2027, 3, 28, 22, 30), after=12)  # 00:30 on the 29th: Monday, next week
    rep = _report(tw, engine, date(2027, 3, 28))
    assert rep["hours"] == 23 and len(rep["series"]) == 23
    ko = by_id(rep["loops"], "ko")
    assert (ko["offered"], ko["answered"], ko["abandoned"], ko["service_level"]) == (2, 2, 0, 0.5)
    assert (ko["wait_max_s"], ko["talk_s"]) == (25.0, 90.0)
    week = _report(tw, engine, date(2027, 3, 24), period="week")  # Mon 22 to Sun 28 March
    assert by_id(week["loops"], "ko")["offered"] == 2 and len(week["series"]) == 7
    month = _report(tw, engine, date(2027, 3, 1), period="month")
    assert by_id(month["loops"], "ko")["offered"] == 3 and len(month["series"]) == 31
    april = _report(tw, engine, date(2027, 3, 29), period="week")
    assert by_id(april["loops"], "ko")["abandoned"] == 1


def test_loops_now_counts_waiting_callers_and_today(settings: Settings, engine: Engine) -> None:
    tw = _app(settings, engine, utc(2026, 11, 25, 9, 0))
    answered(tw, utc(2026, 11, 25, 9, 0), agent="a1", wait=8, talk=40)
    abandoned(tw, utc(2026, 11, 25, 9, 5), after=30)
    tw.clock.now = utc(2026, 11, 25, 9, 10)
    sid = new_sid()
    _, stage = press(tw, sid, "1")  # rings a1 and a2 now
    assert stage == "loop"
    tw.clock.advance(17)
    snap = tw.client.app.state.flow.cache.get()  # type: ignore[attr-defined]
    with engine.connect() as conn:
        now = loops_now(conn, snap, now=tw.clock.now)
    ko = by_id(now["loops"], "ko")
    assert (ko["waiting"], ko["longest_wait_s"]) == (1, 17.0)
    assert (ko["answered_today"], ko["abandoned_today"], ko["service_level"]) == (1, 1, 1.0)
    assert ko["offerable"] == 0 and ko["not_offerable"] == {"ringing": 2}
    natt = by_id(now["loops"], "natt")
    assert natt["not_offerable"] == {"logged_out": 1} and natt["waiting"] == 0
    a1 = by_id(now["agents"], "a1")
    assert (a1["answered_today"], a1["talk_today_s"]) == (1, 40.0)
    # Two minutes on without a webhook (a lost status callback): no longer counted as waiting.
    with engine.connect() as conn:
        later = loops_now(conn, snap, now=utc(2026, 11, 25, 9, 13))
    assert by_id(later["loops"], "ko")["waiting"] == 0

"""End to end: an org file whose agents have ICS calendars, a sync, then a signed call to the
loop rings exactly the agents who are free now (and a direct line ignores the calendar)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from calendar_sync.demo import vcalendar, vevent
from calendar_sync.sync import run_pass
from switchboard.app import create_app
from switchboard.orgapply import apply_org
from switchboard.orgfile import load_org_file
from switchboard.settings import Settings
from tests.fakes.ics_server import IcsHandler, IcsState
from tests.fakes.server import running
from tests.ivr_steps import press, rung, start
from tests.twilio_harness import Clock, Twilio, new_sid

ORG = """
organisation:
  name: Testforbundet
  timezone: Europe/Oslo
  opening_hours: {mon: "08:00-15:30", tue: "08:00-15:30", wed: "08:00-15:30",
                  thu: "08:00-15:30", fri: "08:00-15:30"}
calendar_policy:
  block_keywords: [kurs]
numbers:
  - {number: "+4722000000", kind: switchboard}
  - {number: "+4722000222", kind: direct, agent: moete}
menu: {"1": alle}
agents:
  - {id: ingen, name: Uten Kalender, phone: "+4790000201"}
  - {id: moete, name: I Møte, phone: "+4790000202",
     calendar: {source: ics, url: calendars/moete.ics}}
  - {id: heldag, name: Heldag Opptatt, phone: "+4790000203",
     calendar: {source: ics, url: calendars/heldag.ics}}
  - {id: hjemme, name: Hjemmekontor Ledig, phone: "+4790000204",
     calendar: {source: ics, url: calendars/hjemme.ics}}
  - {id: kurs, name: Kurs Ledig, phone: "+4790000205",
     calendar: {source: ics, url: "BASE/kurs.ics"}}
  - {id: ferdig, name: Akkurat Ferdig, phone: "+4790000206",
     calendar: {source: ics, url: "BASE/ferdig.ics"}}
loops:
  - {id: alle, name: Alle, members: [ingen, moete, heldag, hjemme, kurs, ferdig],
     strategy: ringall, ring_timeout: 20, max_wait: 0, overflow: voicemail}
"""


def test_a_loop_call_rings_exactly_the_agents_free_in_their_calendars(
        engine: Engine, settings: Settings, tmp_path: Path) -> None:
    clock = Clock()
    now = clock()
    today = (now + timedelta(hours=1)).date()  # the Oslo date (10:00 local)
    tomorrow = today + timedelta(days=1)
    (tmp_path / "calendars").mkdir()
    files = {
        "moete": vevent("Styremøte", now - timedelta(minutes=30), now + timedelta(minutes=90)),
        "heldag": vevent("Landsmøte", today, tomorrow),
        "hjemme": vevent("Hjemmekontor", today, tomorrow, busystatus="FREE"),
    }
    for name, event in files.items():
        (tmp_path / "calendars" / f"{name}.ics").write_text(vcalendar(event))
    state = IcsState()
    state.put("/kurs.ics", vcalendar(vevent("Kurs i tariffavtaler", today, tomorrow,
                                            busystatus="FREE")))
    state.put("/ferdig.ics", vcalendar(vevent("Morgenmøte", now - timedelta(hours=1), now)))
    with running(IcsHandler, state) as base:
        org_file = tmp_path / "org.yaml"
        org_file.write_text(ORG.replace("BASE", base), encoding="utf-8")
        apply_org(engine, load_org_file(org_file), now=now)
        report = run_pass(engine, settings, now=now)
    assert [(a.agent_id, a.ok) for a in report.agents] == [
        ("ferdig", True), ("heldag", True), ("hjemme", True), ("kurs", True), ("moete", True)]

    app = create_app(settings, engine)
    app.state.flow.clock = clock
    tw = Twilio(TestClient(app), clock=clock)
    # Before any call, presence says why, and notes the Free all-day event that does not block.
    got = {p["id"]: p for p in tw.client.get(
        "/api/presence", headers={"Authorization": "Bearer test-admin-token"}).json()}
    assert got["moete"]["reasons"] == ["calendar_busy"]
    assert got["moete"]["busy_until"].startswith("2026-11-25T10:30:00")
    assert got["heldag"]["state"] == "calendar_busy"
    assert got["hjemme"]["notes"] == ["all_day_free"] and got["hjemme"]["offerable"] is True
    assert got["ingen"]["notes"] == []

    root, _ = press(tw, new_sid(), "1")
    assert sorted(rung(root)) == ["ferdig", "hjemme", "ingen"]

    # A direct line rings its agent whatever the calendar says.
    _, direct, _ = start(tw, new_sid(), to="+4722000222")
    assert rung(direct) == ["moete"]


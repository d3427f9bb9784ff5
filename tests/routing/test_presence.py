"""GET /api/presence: reasons in order, state, busy_until and notes (docs/http-api.md#presence)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, update

from calendar_sync.models import BusyInterval, CalendarSource
from routing.models import Agent
from switchboard.models import Meta
from tests.twilio_harness import make_app

ADMIN = {"Authorization": "Bearer test-admin-token"}


def test_presence_requires_a_token(settings, engine) -> None:
    tw = make_app(settings, engine)
    assert tw.client.get("/api/presence").status_code == 401
    assert tw.client.get("/api/presence",
                         headers={"Authorization": "Bearer nope"}).status_code == 401


def test_presence_reasons_state_busy_until_and_notes(settings, engine) -> None:
    tw = make_app(settings, engine)
    now = tw.clock()
    table = Agent.__table__
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == "janet").values(
            logged_in=False, logout_reason="holiday"))
        conn.execute(update(table).where(table.c.id == "may.tove").values(
            routing_stop=True, stop_reason="unanswered_offers"))
        conn.execute(insert(BusyInterval.__table__), [
            dict(agent_id="ole.hansen", start=now - timedelta(minutes=30),
                 end=now + timedelta(minutes=90), status="busy", all_day=False, blocks=True,
                 note=None),
            dict(agent_id="per.olsen", start=now - timedelta(hours=9),
                 end=now + timedelta(hours=15), status="free", all_day=True, blocks=False,
                 note="all_day_free"),
        ])
        conn.execute(insert(CalendarSource.__table__), [
            dict(agent_id="ole.hansen", kind="ics", last_success_at=now - timedelta(minutes=1)),
            dict(agent_id="per.olsen", kind="ics", last_success_at=now - timedelta(minutes=1)),
        ])
        conn.execute(insert(Meta.__table__).values(key="calendar_version", value=1))
    tw.client.app.state.flow.cache.invalidate()
    got = {p["id"]: p for p in tw.client.get("/api/presence", headers=ADMIN).json()}
    assert got["janet"]["state"] == "logged_out" and not got["janet"]["offerable"]
    assert got["may.tove"]["reasons"] == ["routing_stop"]
    assert got["may.tove"]["stop_reason"] == "unanswered_offers"
    ole = got["ole.hansen"]
    assert ole["reasons"] == ["calendar_busy"]
    assert ole["busy_until"].startswith((now + timedelta(minutes=90)).isoformat()[:16])
    assert got["per.olsen"]["offerable"] and got["per.olsen"]["notes"] == ["all_day_free"]
    # kari.nordmann has a calendar in the file but it never synced
    assert "calendar_stale" in got["kari.nordmann"]["notes"]
    assert got["anna.lie"]["state"] == "available" and got["anna.lie"]["notes"] == []

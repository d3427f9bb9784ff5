"""Direct lines (docs/routing.md): +4722000111 rings may.tove whatever her calendar or routing
stop says; logged out, closed, on another call or unanswered, the caller hears why and leaves a
voicemail that becomes may.tove's callback ticket."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update

from calendar_sync.models import BusyInterval
from routing.models import Agent
from switchboard.models import Meta
from tests.ivr_steps import confirm, dial_ends, press, rows, rung, says, start, status
from tests.twilio_harness import Twilio, make_app, new_sid
from tickets.models import Ticket

DIRECT = "+4722000111"
AGENT = Agent.__table__  # type: ignore[attr-defined]


@pytest.fixture
def tw(settings, engine) -> Twilio:
    assert settings.always_open is False  # opening hours apply in these tests
    return make_app(settings, engine)


def set_may_tove(tw: Twilio, **values: object) -> None:
    """Change may.tove's run-time state as the desk would."""
    with tw.client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(update(AGENT).where(AGENT.c.id == "may.tove").values(**values))


def block_calendar(tw: Twilio, hours: int = 3) -> None:
    """A busy calendar event covering now, as a sync would store it, and the version bump."""
    now = tw.clock()
    with tw.client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(BusyInterval.__table__).values(  # type: ignore[attr-defined]
            agent_id="may.tove", start=now - timedelta(hours=1),
            end=now + timedelta(hours=hours), status="busy", all_day=False, blocks=True))
        conn.execute(insert(Meta.__table__).values(key="calendar_version", value=1))  # type: ignore[attr-defined]
    tw.client.app.state.flow.cache.invalidate()  # the once-a-second version check, now


def ring_direct(tw: Twilio, sid: str) -> tuple[ET.Element, str]:
    _, root, stage = start(tw, sid, to=DIRECT)
    return root, stage


def leave_voicemail(tw: Twilio, root: ET.Element, sid: str) -> None:
    """Record a message at the <Record>, then the call ends."""
    _, thanks, _ = tw.post(root.find("Record").get("action"),  # type: ignore[union-attr]
                           {"CallSid": sid, "RecordingUrl": f"https://api.twilio.com/rec/{sid}",
                            "RecordingDuration": "12"})
    assert thanks.find("Hangup") is not None  # type: ignore[union-attr]
    assert status(tw, sid, "completed") == 200


def only_ticket(tw: Twilio, sid: str) -> object:
    tickets = rows(tw.client.app.state.engine, Ticket)  # type: ignore[attr-defined]
    assert len(tickets) == 1
    t = tickets[0]
    assert t.call_sid == sid and t.agent_id == "may.tove" and t.loop_id is None
    assert t.recording_url.endswith(sid) and t.recording_duration == 12
    return t


def test_rings_may_tove_despite_routing_stop(tw) -> None:
    set_may_tove(tw, routing_stop=True, stop_reason="desk")
    root, stage = ring_direct(tw, new_sid())
    assert stage == "direct" and rung(root) == ["may.tove"]
    assert root.find("Dial/Number").text.strip() == "+4790000001"


def test_rings_may_tove_despite_a_calendar_block_that_keeps_loop_calls_away(tw) -> None:
    block_calendar(tw)
    loop_call, _ = press(tw, new_sid(), "1")  # okonomi, ringall
    assert "may.tove" not in rung(loop_call) and rung(loop_call)  # the block is in force
    root, stage = ring_direct(tw, new_sid())
    assert stage == "direct" and rung(root) == ["may.tove"]


def test_answered_direct_call_has_no_wrap_up_and_no_ticket(tw) -> None:
    sid = new_sid()
    root, _ = ring_direct(tw, sid)
    _, whisper, _ = tw.post(root.find("Dial/Number").get("url"), {"CallSid": "CAdleg"})
    assert "direktelinje" in says(whisper)
    assert confirm(tw, root, "may.tove", "CAdleg") == "connected"
    _, stage = dial_ends(tw, root, sid, "completed")
    assert stage == "connected"
    status(tw, sid, "completed")
    assert rows(tw.client.app.state.engine, Ticket) == []  # type: ignore[attr-defined]
    loop_call, _ = press(tw, new_sid(), "1")
    assert "may.tove" in rung(loop_call)  # no rest after a direct call


def test_logged_out_message_then_voicemail_ticket(tw) -> None:
    set_may_tove(tw, logged_in=False, logout_reason="holiday")
    sid = new_sid()
    root, stage = ring_direct(tw, sid)
    assert root.find("Dial") is None and root.find("Record") is not None
    assert "May Tove Hansen er ikke til stede" in says(root)
    leave_voicemail(tw, root, sid)
    assert only_ticket(tw, sid).progress.endswith("direct:may.tove")


@pytest.mark.parametrize("when", [
    datetime(2026, 11, 28, 10, 0, tzinfo=UTC),  # a Saturday
    datetime(2026, 11, 25, 21, 30, tzinfo=UTC),  # a Wednesday night
    datetime(2026, 12, 25, 10, 0, tzinfo=UTC),  # juledag
])
def test_closed_message_then_voicemail_ticket(tw, when: datetime) -> None:
    tw.clock.now = when
    sid = new_sid()
    root, stage = ring_direct(tw, sid)
    assert stage == "closed" and root.find("Dial") is None
    assert "vi er stengt" in says(root) and root.find("Record") is not None
    leave_voicemail(tw, root, sid)
    only_ticket(tw, sid)


def test_on_another_call_message_then_voicemail_ticket(tw) -> None:
    loop_sid = new_sid()
    loop_call, _ = press(tw, loop_sid, "1")
    assert confirm(tw, loop_call, "may.tove", "CAleg") == "connected"
    sid = new_sid()
    root, _ = ring_direct(tw, sid)
    assert root.find("Dial") is None and "er i en annen samtale" in says(root)
    leave_voicemail(tw, root, sid)
    only_ticket(tw, sid)


def test_unanswered_goes_to_voicemail_ticket_and_frees_may_tove(tw) -> None:
    sid = new_sid()
    root, _ = ring_direct(tw, sid)
    tw.clock.advance(20)
    nxt, stage = dial_ends(tw, root, sid, "no-answer")
    assert stage == "voicemail" and "svarer ikke" in says(nxt)
    assert nxt.find("Record") is not None and nxt.find("Dial") is None
    loop_call, _ = press(tw, new_sid(), "1")
    assert "may.tove" in rung(loop_call)  # her reservation ended with the unanswered Dial
    leave_voicemail(tw, nxt, sid)
    t = only_ticket(tw, sid)
    assert t.caller_number == "+4791234567"


def test_unanswered_without_a_message_still_leaves_a_ticket_for_a_known_number(tw) -> None:
    sid = new_sid()
    root, _ = ring_direct(tw, sid)
    tw.clock.advance(20)
    dial_ends(tw, root, sid, "no-answer")
    tw.clock.advance(10)
    status(tw, sid, "completed")  # hung up at the beep
    (t,) = rows(tw.client.app.state.engine, Ticket)  # type: ignore[attr-defined]
    assert t.agent_id == "may.tove" and t.recording_url is None

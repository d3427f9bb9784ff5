"""Callback tickets as docs/routing.md says, and retried webhooks writing nothing twice."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from tests.ivr_steps import (
    CALLER,
    SMALL_ORG,
    confirm,
    counts,
    dial_ends,
    press,
    raw_post,
    rows,
    rung,
    start,
    status,
)
from tests.twilio_harness import Twilio, make_app, new_sid
from tickets.models import Ticket

WITHHELD = ["anonymous", "+266696687", ""]


@pytest.fixture
def tw(settings, engine) -> Twilio:
    return make_app(settings, engine)


def tickets(tw: Twilio) -> list:
    return rows(tw.client.app.state.engine, Ticket)  # type: ignore[attr-defined]


def record(tw: Twilio, root, sid: str, rec: str = "RE0001") -> None:  # type: ignore[no-untyped-def]
    _, thanks, _ = tw.post(root.find("Record").get("action"),
                           {"CallSid": sid, "RecordingUrl": f"https://api.twilio.com/rec/{rec}",
                            "RecordingDuration": "9"})
    assert thanks.find("Hangup") is not None


def to_voicemail(tw: Twilio, sid: str, frm: str = CALLER):  # type: ignore[no-untyped-def]
    """Into loop 3 (andre, round_robin, max_wait 90) and ring unanswered until voicemail."""
    root, _ = press(tw, sid, "3", frm=frm)
    for _ in range(10):
        if root.find("Dial") is None:
            break
        tw.clock.advance(1)
        root, stage = dial_ends(tw, root, sid, "no-answer")
    assert root.find("Record") is not None and stage == "voicemail"
    return root


@pytest.mark.parametrize("seconds,ticket", [(0, False), (4, False), (5, True), (30, True)])
def test_hanging_up_in_a_loop_within_5_seconds_gives_no_ticket(tw, seconds, ticket) -> None:
    sid = new_sid()
    root, stage = press(tw, sid, "1")
    assert stage == "loop"
    tw.clock.advance(seconds)
    status(tw, sid, "completed")  # the caller hangs up while it rings
    got = tickets(tw)
    assert len(got) == int(ticket)
    if ticket:
        t = got[0]
        assert (t.call_sid, t.loop_id, t.agent_id) == (sid, "okonomi", None)
        assert t.caller_number == CALLER and t.recording_url is None
        assert t.progress == "loop:okonomi" and t.status == "open" and t.kind == "callback"


def test_hanging_up_at_the_menu_gives_no_ticket_however_long(tw) -> None:
    sid = new_sid()
    _, root, _ = start(tw, sid)
    tw.clock.advance(18)
    _, root, _ = tw.post(root.find("Gather").get("action"), {"CallSid": sid, "Digits": "7"})
    tw.clock.advance(40)
    status(tw, sid, "completed")
    assert tickets(tw) == []


def test_answered_call_gives_no_ticket(tw) -> None:
    sid = new_sid()
    root, _ = press(tw, sid, "1")
    tw.clock.advance(8)
    confirm(tw, root, "janet", "CAleg")
    tw.clock.advance(60)
    dial_ends(tw, root, sid, "completed")
    status(tw, sid, "completed")
    assert tickets(tw) == []


def test_voicemail_ticket_has_number_loop_progress_and_recording(tw) -> None:
    sid = new_sid()
    root = to_voicemail(tw, sid)
    record(tw, root, sid, "RE77")
    status(tw, sid, "completed")
    (t,) = tickets(tw)
    assert (t.call_sid, t.loop_id, t.agent_id) == (sid, "andre", None)
    assert t.caller_number == CALLER
    assert t.progress == "voicemail:andre"
    assert t.recording_url == "https://api.twilio.com/rec/RE77" and t.recording_duration == 9


def test_reached_voicemail_but_left_no_message_still_gets_a_ticket(tw) -> None:
    sid = new_sid()
    to_voicemail(tw, sid)
    status(tw, sid, "completed")
    (t,) = tickets(tw)
    assert t.loop_id == "andre" and t.recording_url is None and t.caller_number == CALLER


def test_closed_switchboard_caller_gets_a_ticket(tw) -> None:
    tw.clock.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # Saturday
    sid = new_sid()
    _, root, stage = start(tw, sid)
    assert stage == "closed" and root.find("Gather") is not None  # "For English, press 9"
    _, root, stage = tw.post(root.find("Gather").get("action"), {"CallSid": sid, "Digits": ""})
    assert stage == "closed" and root.find("Record") is not None
    tw.clock.advance(20)
    status(tw, sid, "completed")
    (t,) = tickets(tw)
    assert t.progress.startswith("closed") and t.caller_number == CALLER


@pytest.mark.parametrize("withheld", WITHHELD)
def test_withheld_number_in_a_loop_without_voicemail_gets_no_ticket(tw, withheld) -> None:
    sid = new_sid()
    press(tw, sid, "1", frm=withheld)
    tw.clock.advance(40)
    status(tw, sid, "completed")
    assert tickets(tw) == []


@pytest.mark.parametrize("withheld", WITHHELD)
def test_withheld_number_at_voicemail_without_a_message_gets_no_ticket(tw, withheld) -> None:
    sid = new_sid()
    to_voicemail(tw, sid, frm=withheld)
    status(tw, sid, "completed")
    assert tickets(tw) == []


@pytest.mark.parametrize("withheld", WITHHELD)
def test_withheld_number_with_a_voicemail_gets_a_ticket_without_number(tw, withheld) -> None:
    sid = new_sid()
    root = to_voicemail(tw, sid, frm=withheld)
    record(tw, root, sid)
    status(tw, sid, "completed")
    (t,) = tickets(tw)
    assert t.caller_number is None and t.loop_id == "andre" and t.recording_url


def test_one_ticket_per_call_with_retried_status_callbacks(tw) -> None:
    sid = new_sid()
    root = to_voicemail(tw, sid)
    record(tw, root, sid)
    record(tw, root, sid)  # Twilio retries the recording callback
    for final in ("completed", "completed", "no-answer"):
        assert status(tw, sid, final) == 200
        tw.clock.advance(3)
    other = new_sid()
    press(tw, other, "1")
    tw.clock.advance(10)
    for _ in range(3):
        status(tw, other, "completed")
    assert sorted(t.call_sid for t in tickets(tw)) == sorted([sid, other])


def test_every_step_retried_gives_identical_bytes_and_no_new_rows(settings, engine) -> None:
    tw = make_app(settings, engine, SMALL_ORG)

    def twice(url: str, params: dict[str, str]) -> ET.Element:
        code, body = raw_post(tw, url, params)
        before = counts(engine)
        tw.clock.advance(2)  # a retry comes a little later: the answer must not change
        code2, body2 = raw_post(tw, url, params)
        assert code == code2 == 200 and body2 == body
        assert counts(engine) == before
        return ET.fromstring(body)

    # Call a: loop `lang` (linear a1, a2): a1's phone does not confirm, a2 takes it.
    a = new_sid()
    menu = twice("/twilio/voice", {"CallSid": a, "From": CALLER, "To": "+4722000000"})
    ring = twice(menu.find("Gather").get("action"), {"CallSid": a, "Digits": "3"})
    assert rung(ring) == ["a1"] and counts(engine)["offer"] == 1
    whisper = twice(ring.find("Dial/Number").get("url"), {"CallSid": "CAleg1"})
    twice(whisper.find("Gather").get("action"), {"CallSid": "CAleg1", "Digits": ""})
    ring2 = twice(ring.find("Dial").get("action"), {"CallSid": a, "DialCallStatus": "no-answer"})
    assert rung(ring2) == ["a2"] and counts(engine)["offer"] == 2
    whisper2 = twice(ring2.find("Dial/Number").get("url"), {"CallSid": "CAleg2"})
    twice(whisper2.find("Gather").get("action"), {"CallSid": "CAleg2", "Digits": "5"})
    # Call c takes a1; call b then waits in line, and its time runs out into voicemail.
    c = new_sid()
    ring_c, _ = press(tw, c, "1")
    confirm(tw, ring_c, "a1", "CAleg3")
    b = new_sid()
    menu_b = twice("/twilio/voice", {"CallSid": b, "From": CALLER, "To": "+4722000000"})
    hold = twice(menu_b.find("Gather").get("action"), {"CallSid": b, "Digits": "1"})
    while hold.find("Redirect") is not None:
        tw.clock.advance(15)
        hold = twice(hold.find("Redirect").text, {"CallSid": b})
    assert hold.find("Record") is not None
    twice(hold.find("Record").get("action"),
          {"CallSid": b, "RecordingUrl": "https://api.twilio.com/rec/RE5",
           "RecordingDuration": "4"})
    twice("/twilio/status", {"CallSid": b, "CallStatus": "completed"})
    twice(ring2.find("Dial").get("action"), {"CallSid": a, "DialCallStatus": "completed"})
    twice("/twilio/status", {"CallSid": a, "CallStatus": "completed"})
    assert [t.call_sid for t in tickets(tw)] == [b]


def test_same_digit_at_two_menu_plays_is_two_steps(tw) -> None:
    sid = new_sid()
    _, root, _ = start(tw, sid)
    first_url = root.find("Gather").get("action")
    _, root2, stage = tw.post(first_url, {"CallSid": sid, "Digits": "7"})
    second_url = root2.find("Gather").get("action")
    assert second_url != first_url and stage == "menu"
    # The byte-identical request at the next play is a new step, not a retry of the first.
    _, root3, stage = tw.post(second_url, {"CallSid": sid, "Digits": "7"})
    third_url = root3.find("Gather").get("action")
    assert stage == "menu" and third_url not in (first_url, second_url)
    _, last, stage = tw.post(third_url, {"CallSid": sid, "Digits": "7"})
    assert stage == "loop" and rung(last)  # the third invalid digit: menu_default (andre)
    assert set(rung(last)) <= {"sofie.larsen", "nils.eriksen", "anna.lie"}


@pytest.mark.parametrize("seconds,ticket", [(3, False), (20, True)])
def test_hanging_up_while_waiting_in_line(settings, engine, seconds: int, ticket: bool) -> None:
    tw = make_app(settings, engine, SMALL_ORG)
    for agent, leg in (("a1", "CAlegx"), ("a2", "CAlegy")):  # both agents on calls
        ring, _ = press(tw, new_sid(), "1")
        confirm(tw, ring, agent, leg)
    sid = new_sid()
    hold, stage = press(tw, sid, "1")
    assert stage == "queue"
    tw.clock.advance(seconds)
    status(tw, sid, "completed")
    got = tickets(tw)
    assert len(got) == int(ticket)
    if ticket:
        assert got[0].loop_id == "ko" and got[0].progress == "queue:ko"
        assert got[0].caller_number == CALLER

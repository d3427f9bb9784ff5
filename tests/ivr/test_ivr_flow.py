"""The caller's path: greeting, menu, loops, whisper confirmation, overflow, voicemail."""

from __future__ import annotations

from sqlalchemy import select

from tests.twilio_harness import dial_numbers, make_app, new_sid
from tickets.models import Ticket

CALLER = "+4791234567"


def start(tw, sid, to="+4722000000"):
    return tw.post("/twilio/voice", {"CallSid": sid, "From": CALLER, "To": to,
                                     "CallStatus": "ringing"})


def test_greeting_is_norwegian_with_english_digit(settings, engine) -> None:
    tw = make_app(settings, engine)
    status, root, stage = start(tw, new_sid())
    assert status == 200 and stage == "menu"
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    says = gather.findall("Say")
    assert says[0].get("language") == "nb-NO" and "Arbeidsmandsforbundet" in says[0].text
    assert "Tast 1" in says[1].text and "Forsikring og faktura" in says[1].text
    assert says[-1].get("language") == "en-GB" and "press 9" in says[-1].text


def test_press_1_rings_loop_1_with_whisper(settings, engine) -> None:
    tw = make_app(settings, engine)
    sid = new_sid()
    _, root, _ = start(tw, sid)
    action = root.find("Gather").get("action")
    _, root, stage = tw.post(action, {"CallSid": sid, "Digits": "1"})
    assert stage == "loop"
    dial = root.find("Dial")
    assert dial.get("timeout") == "20"
    rung = [a for a, _ in dial_numbers(root)]
    assert rung == ["may.tove", "janet", "ole.hansen", "kari.nordmann", "per.olsen"]
    for n in dial.findall("Number"):
        assert "/twilio/whisper?" in n.get("url")


def test_wrong_digit_replays_menu_then_default_loop(settings, engine) -> None:
    tw = make_app(settings, engine)
    sid = new_sid()
    _, root, _ = start(tw, sid)
    for _ in range(2):
        action = root.find("Gather").get("action")
        _, root, stage = tw.post(action, {"CallSid": sid, "Digits": "7"})
        assert stage == "menu"
        assert root.find("Say").text.startswith("Det var ikke")
    action = root.find("Gather").get("action")
    _, root, stage = tw.post(action, {"CallSid": sid, "Digits": ""})
    assert stage == "loop"  # the third play without a valid digit: menu_default (andre)
    assert {a for a, _ in dial_numbers(root)} <= {"sofie.larsen", "nils.eriksen", "anna.lie"}


def test_unconfirmed_whisper_is_no_answer_and_confirmed_connects(settings, engine) -> None:
    tw = make_app(settings, engine)
    sid = new_sid()
    _, root, _ = start(tw, sid)
    _, root, _ = tw.post(root.find("Gather").get("action"), {"CallSid": sid, "Digits": "1"})
    numbers = root.find("Dial").findall("Number")
    # The first phone's voicemail picks up: it hears the whisper but presses nothing.
    _, w, _ = tw.post(numbers[0].get("url"), {"CallSid": "CAleg1", "ParentCallSid": sid})
    assert "Forsikring og faktura" in w.find("Gather/Say").text
    _, hung, _ = tw.post(w.find("Gather").get("action"), {"CallSid": "CAleg1", "Digits": ""})
    assert hung.find("Hangup") is not None
    # The second agent confirms with a key: the leg gets an empty response and is bridged.
    _, w2, _ = tw.post(numbers[1].get("url"), {"CallSid": "CAleg2", "ParentCallSid": sid})
    _, ok, stage = tw.post(w2.find("Gather").get("action"), {"CallSid": "CAleg2", "Digits": "1"})
    assert stage == "connected" and len(ok) == 0
    # The call ends: the Dial action hangs up and janet goes into wrap-up.
    _, end, stage = tw.post(root.find("Dial").get("action"),
                            {"CallSid": sid, "DialCallStatus": "completed"})
    assert stage == "connected" and end.find("Hangup") is not None


def test_no_answer_until_max_wait_then_overflow_then_voicemail_ticket(settings, engine) -> None:
    tw = make_app(settings, engine)
    sid = new_sid()
    _, root, _ = start(tw, sid)
    _, root, _ = tw.post(root.find("Gather").get("action"), {"CallSid": sid, "Digits": "3"})
    loops_seen = []
    for _ in range(30):
        dial = root.find("Dial")
        if dial is None:
            break
        loops_seen.append(tuple(a for a, _ in dial_numbers(root)))
        tw.clock.advance(1)
        _, root, stage = tw.post(dial.get("action"), {"CallSid": sid,
                                                      "DialCallStatus": "no-answer"})
    # andre: round_robin, ring_timeout 20, max_wait 90 -> 20+20+20+20+10 then voicemail
    assert [len(x) for x in loops_seen] == [1, 1, 1, 1, 1]
    assert loops_seen[0] != loops_seen[1]
    assert root.find("Record") is not None and stage == "voicemail"
    tw.post(root.find("Record").get("action"),
            {"CallSid": sid, "RecordingUrl": "https://api.twilio.com/rec/RE1",
             "RecordingDuration": "7"})
    tw.post("/twilio/status", {"CallSid": sid, "CallStatus": "completed"})
    with engine.connect() as conn:
        t = conn.execute(select(Ticket.__table__)).one()
    assert t.loop_id == "andre" and t.recording_url.endswith("RE1")
    assert t.caller_number == CALLER


def test_retry_gets_same_answer_and_reserves_nothing_twice(settings, engine) -> None:
    tw = make_app(settings, engine)
    sid = new_sid()
    _, root, _ = start(tw, sid)
    action = root.find("Gather").get("action")
    _, first, _ = tw.post(action, {"CallSid": sid, "Digits": "2"})
    _, again, _ = tw.post(action, {"CallSid": sid, "Digits": "2"})
    from xml.etree.ElementTree import tostring

    assert tostring(first) == tostring(again)
    from routing.models import Offer

    with engine.connect() as conn:
        offers = conn.execute(select(Offer.__table__)).all()
    assert len(offers) == 1  # lonn is linear: one agent at a time, reserved once

"""The English caller's whole path: each <Say> an English caller hears is English (docs/routing.md).

Greeting, "putting you through" with the loop's English name, the waiting line, the overflow,
the voicemail prompt and its thanks, and the closed message (which offers the English digit).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from tests.ivr_steps import MAIN, confirm, dial_ends, press, rung, start, status
from tests.twilio_harness import Clock, Twilio, make_app, new_sid

ORG = """
organisation:
  name: Arbeidsmandsforbundet
  name_en: General Workers Union
  timezone: Europe/Oslo
  opening_hours: {mon: "08:00-15:30", tue: "08:00-15:30", wed: "08:00-15:30",
                  thu: "08:00-15:30", fri: "08:00-15:30"}
numbers:
  - {number: "+4722000000", kind: switchboard}
menu: {"1": okonomi, "2": andre}
menu_default: andre
english: {digit: "9", loop: sentralbord}
agents:
  - {id: a1, name: Agent En, phone: "+4790000101"}
  - {id: a2, name: Agent To, phone: "+4790000102"}
loops:
  - {id: okonomi, name: Forsikring og faktura, name_en: Insurance and invoices,
     members: [a1], ring_timeout: 20, max_wait: 0, overflow: voicemail}
  - {id: andre, name: Andre henvendelser, members: [a2], ring_timeout: 20, max_wait: 0,
     overflow: voicemail}
  - {id: sentralbord, name: Sentralbordet, name_en: the switchboard, members: [a1],
     ring_timeout: 20, max_wait: 30, overflow: andre}
"""
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def tw(settings, engine) -> Twilio:
    return make_app(settings, engine, ORG)


def spoken(root: ET.Element) -> list[tuple[str, str]]:
    """(language, text) of every <Say>, in order, inside <Gather> too."""
    return [(s.get("language", ""), (s.text or "").strip()) for s in root.iter("Say")]


def english_only(root: ET.Element) -> list[str]:
    """The texts said, after checking that every one of them is in English."""
    said = spoken(root)
    assert said, "the caller hears nothing"
    assert [lang for lang, _ in said] == ["en-GB"] * len(said), said
    return [text for _, text in said]


def record_voicemail(tw: Twilio, root: ET.Element, sid: str) -> ET.Element:
    """The caller speaks after the tone; Twilio posts the recording."""
    _, thanks, _ = tw.post(root.find("Record").get("action"), {  # type: ignore[union-attr]
        "CallSid": sid, "RecordingUrl": "https://api.twilio.com/rec/RE1",
        "RecordingDuration": "5", "Digits": "#"})
    assert thanks is not None
    return thanks


def test_the_english_greeting_reads_naturally_and_names_the_loop_in_english(tw) -> None:
    root, stage = press(tw, new_sid(), "9")
    assert stage == "loop" and rung(root) == ["a1"]
    assert english_only(root) == ["Welcome to the General Workers Union.",
                                  "One moment, we are putting you through to the switchboard."]


def test_english_waiting_line_overflow_voicemail_and_thanks(tw) -> None:
    busy = new_sid()
    first, _ = press(tw, busy, "1")  # a Norwegian caller takes a1
    assert confirm(tw, first, "a1", "CAleg1") == "connected"
    sid = new_sid()
    root, stage = press(tw, sid, "9")
    assert stage == "queue"  # a1 is on the other call: wait in line
    said = english_only(root)
    assert "You are number 1 in the queue." in said
    tw.clock.advance(31)  # max_wait (30 s) runs out while waiting
    _, root, stage = tw.post(root.find("Redirect").text, {"CallSid": sid})  # type: ignore[union-attr]
    assert stage == "loop" and rung(root) == ["a2"]
    assert english_only(root) == [
        "Everyone is busy. We are putting you through to Andre henvendelser."]  # no name_en
    root, stage = dial_ends(tw, root, sid, "no-answer")
    assert stage == "voicemail" and root.find("Record") is not None
    assert english_only(root)[0].startswith("Please leave a message after the tone")
    thanks = record_voicemail(tw, root, sid)
    assert english_only(thanks) == [
        "Thank you for your message. We will call you back. Goodbye."]
    assert status(tw, sid) == 200


def test_closed_offers_the_english_digit_then_says_it_all_in_english(settings, engine) -> None:
    tw = make_app(settings, engine, ORG, clock=Clock(SATURDAY))
    sid = new_sid()
    _, root, stage = start(tw, sid)
    assert stage == "closed"
    gather = root.find("Gather")
    assert gather is not None and root.find("Record") is None
    assert spoken(gather) == [
        ("nb-NO", "Arbeidsmandsforbundet er stengt nå. Sentralbordet er åpent hverdager "
                  "08:00 til 15:30."),
        ("en-GB", "For English, press 9.")]
    _, root, stage = tw.post(gather.get("action"), {"CallSid": sid, "Digits": "9"})
    assert stage == "closed" and root.find("Record") is not None
    said = english_only(root)
    assert said[:2] == ["Welcome to the General Workers Union.",
                        "We are closed now. The switchboard is open on weekdays 08:00 to 15:30."]
    assert said[2].startswith("Please leave a message after the tone")
    assert english_only(record_voicemail(tw, root, sid))[0].startswith("Thank you")


def test_closed_and_silent_leaves_a_norwegian_voicemail(settings, engine) -> None:
    tw = make_app(settings, engine, ORG, clock=Clock(SATURDAY))
    sid = new_sid()
    _, root, _ = start(tw, sid)
    _, root, stage = tw.post(root.find("Gather").get("action"),  # type: ignore[union-attr]
                             {"CallSid": sid, "Digits": ""})
    assert stage == "closed" and root.find("Record") is not None
    assert spoken(root)[0] == ("nb-NO", "Legg igjen en beskjed etter tonen, så ringer vi deg "
                                        "tilbake. Trykk firkant når du er ferdig.")
    thanks = record_voicemail(tw, root, sid)
    assert spoken(thanks)[0][0] == "nb-NO"


def test_closed_without_an_english_digit_goes_straight_to_voicemail(settings, engine) -> None:
    org = ORG.replace('english: {digit: "9", loop: sentralbord}\n', "")
    tw = make_app(settings, engine, org, clock=Clock(SATURDAY))
    _, root, stage = start(tw, new_sid())
    assert stage == "closed" and root.find("Gather") is None and root.find("Record") is not None


def test_sent_to_menu_default_after_three_silent_plays_hears_putting_you_through(tw) -> None:
    sid = new_sid()
    _, root, _ = start(tw, sid)
    for _ in range(3):
        _, root, stage = tw.post(root.find("Gather").get("action"),  # type: ignore[union-attr]
                                 {"CallSid": sid, "Digits": ""})
    assert stage == "loop" and rung(root) == ["a2"]
    pressed, _ = press(tw, new_sid(), "2")  # the same loop by its digit
    expected = ("nb-NO", "Et øyeblikk, vi setter deg over til Andre henvendelser.")
    assert spoken(root)[0] == expected and spoken(pressed)[0] == expected


def test_a_norwegian_caller_hears_the_loops_norwegian_name(tw) -> None:
    root, _ = press(tw, new_sid(), "1")
    assert spoken(root) == [("nb-NO", "Et øyeblikk, vi setter deg over til Forsikring og "
                                      "faktura.")]


def test_a_one_word_english_name_takes_no_article(settings, engine) -> None:
    tw = make_app(settings, engine, ORG.replace("name_en: General Workers Union",
                                                "name_en: Unio"))
    root, _ = press(tw, new_sid(), "9")
    assert english_only(root)[0] == "Welcome to Unio."


def test_the_org_files_english_greeting_wins(settings, engine) -> None:
    org = ORG.replace("numbers:", 'prompts:\n  en: {greeting: "Hello from the GWU."}\nnumbers:')
    tw = make_app(settings, engine, org)
    root, _ = press(tw, new_sid(), "9")
    assert english_only(root)[0] == "Hello from the GWU."


def test_the_loop_english_name_is_stored_by_org_apply(tw) -> None:
    snap = tw.client.app.state.flow.cache.get()  # type: ignore[attr-defined]
    assert snap.loops["okonomi"].said("en") == "Insurance and invoices"
    assert snap.loops["andre"].said("en") == "Andre henvendelser"
    assert snap.loops["okonomi"].said("nb") == "Forsikring og faktura"


def test_the_example_org_file_speaks_english_on_9(settings, engine) -> None:
    tw = make_app(settings, engine)
    root, _ = press(tw, new_sid(), "9", to=MAIN)
    said = english_only(root)
    assert said[0] == "Welcome to the General Workers Union."
    assert said[1].startswith("One moment, we are putting you through to ")

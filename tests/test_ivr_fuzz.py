"""Fuzzing the webhooks' form fields: every signed request gets 200 and TwiML, never a 5xx,
and never the database-down fallback (which would mean a step crashed on the input)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PUBLIC, sign
from tests.ivr_steps import press, start
from tests.twilio_harness import Twilio, make_app

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
ODD_DIGITS = ["*", "#", "10", "٣", "1#", " 1", "", "0", "9", "99999", "١", "１", "w"]
WITHHELD = ["anonymous", "+266696687", "", "Anonymous", "restricted", "unknown"]
NUMBERS = ["+4722000000", "+4722000111", "+4799999999", "", "client:alice", "sip:x@y"]
STATUSES = ["completed", "busy", "failed", "no-answer", "canceled", "ringing", "in-progress",
            "queued", "answered", "COMPLETED", ""]

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
long_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1000, max_size=5000)
odd = st.one_of(text, long_text, st.sampled_from(["\x00", "é" * 300, "🙂", "<Say>", "' OR 1=1"]))


def field(*samples: list[str]) -> st.SearchStrategy[str | None]:
    """A form field: missing (None), one of the interesting values, or odd text."""
    choices = [v for group in samples for v in group]
    return st.one_of(st.none(), st.sampled_from(choices), odd)


@st.composite
def forms(draw: st.DrawFn, started: list[str]) -> dict[str, str]:
    """Twilio-like form fields with some missing, long, non-ASCII or odd."""
    sid = draw(st.one_of(st.none(), st.sampled_from(started), st.just(""), odd,
                         st.from_regex(r"CA[0-9a-f]{32}", fullmatch=True)))
    form = {
        "CallSid": sid,
        "From": draw(field(WITHHELD, NUMBERS)),
        "To": draw(field(NUMBERS)),
        "Digits": draw(field(ODD_DIGITS)),
        "CallStatus": draw(field(STATUSES)),
        "DialCallStatus": draw(field(STATUSES)),
        "RecordingUrl": draw(field(["https://api.twilio.com/rec/RE1", "not a url"])),
        "RecordingDuration": draw(field(["7", "-1", "٣", "1e9"])),
        "AccountSid": draw(st.sampled_from([None, "AC" + "0" * 32])),
    }
    extra = draw(st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)),
                                         min_size=1, max_size=20), text, max_size=3))
    out = {k: v for k, v in form.items() if v is not None}
    out.update({k: v for k, v in extra.items() if k not in out})
    return out


@pytest.fixture
def tw(settings, engine) -> Twilio:
    return make_app(settings, engine)


def started_calls(tw: Twilio) -> list[str]:
    """A few calls in various stages, so the fuzzed steps also meet known CallSids."""
    at_menu, in_loop, direct = "CAfuzz00menu", "CAfuzz00loop", "CAfuzz00direct"
    start(tw, at_menu)
    press(tw, in_loop, "1")
    start(tw, direct, to="+4722000111")
    return [at_menu, in_loop, direct]


def check(tw: Twilio, url: str, form: dict[str, str]) -> None:
    """Signed POST: 200, a TwiML <Response>, and not the fallback of a crashed step."""
    r = tw.client.post(url, data=form,
                       headers={"X-Twilio-Signature": sign(PUBLIC + url, form, tw.token)})
    assert r.status_code == 200
    assert ET.fromstring(r.content).tag == "Response"
    assert r.headers.get("X-Switchboard-Stage") != "fallback", "a step crashed on this input"


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/status"])
def test_fuzzed_voice_and_status(tw, path: str) -> None:
    started = started_calls(tw)

    @FUZZ
    @given(form=forms(started))
    def run(form: dict[str, str]) -> None:
        check(tw, path, form)

    run()


def test_fuzzed_menu(tw) -> None:
    started = started_calls(tw)

    @FUZZ
    @given(form=forms(started), play=st.integers(1, 99))
    def run(form: dict[str, str], play: int) -> None:
        check(tw, f"/twilio/menu?play={play}", form)

    run()


def test_fuzzed_dial_action(tw) -> None:
    started = started_calls(tw)

    @FUZZ
    @given(form=forms(started), attempt=st.integers(0, 30))
    def run(form: dict[str, str], attempt: int) -> None:
        check(tw, f"/twilio/dial?a={attempt}", form)

    run()


def test_fuzzed_wait_recorded_and_whisper(tw) -> None:
    started = started_calls(tw)

    @FUZZ
    @given(form=forms(started), a=st.integers(0, 30), w=st.integers(0, 30),
           which=st.sampled_from(["wait?a={a}&w={w}", "recorded?a={a}", "whisper?o={a}",
                                  "whisper/confirm?o={a}"]))
    def run(form: dict[str, str], a: int, w: int, which: str) -> None:
        check(tw, "/twilio/" + which.format(a=a, w=w), form)

    run()


def test_unsigned_fuzz_is_refused(tw) -> None:
    r = tw.client.post("/twilio/voice", data={"CallSid": "CA1", "Digits": "٣"})
    assert r.status_code == 403

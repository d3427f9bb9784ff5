"""Fuzzing the webhooks' form fields: every signed request gets 200 and TwiML, never a 5xx,
and never the database-down fallback (which would mean a step crashed on the input)."""

from __future__ import annotations

import shutil
import tempfile
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from ivr.models import Call
from routing.models import Offer
from switchboard.db import make_engine, migrate
from switchboard.settings import Settings
from tests.conftest import PUBLIC, TOKEN, sign
from tests.ivr_steps import SMALL_ORG, press, start
from tests.twilio_harness import Twilio, dial_numbers, make_app
from tickets.models import Ticket

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


# --- Random call traffic: what callers and agents may do, in any order ----------------------

TRAFFIC_ORG = SMALL_ORG.replace(
    '  - {number: "+4722000000", kind: switchboard}',
    '  - {number: "+4722000000", kind: switchboard}\n'
    '  - {number: "+4722000111", kind: direct, agent: a1}')
WRAP_UP = {"ko": 0, "rolig": 30, "lang": 0}  # SMALL_ORG's loops


class CallTraffic(RuleBasedStateMachine):
    """Callers come, press digits, wait, leave messages and hang up; agents answer or not.

    After every step the rules a caller or agent would notice must hold: no 5xx or fallback,
    no agent rung while on another call, in wrap-up or reserved for another call's unexpired
    ring, and nothing reserved or on a call for a call that has ended.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp()
        settings = Settings(
            SWITCHBOARD_DATABASE_URL=f"sqlite:///{self.dir}/t.db", SWITCHBOARD_PUBLIC_URL=PUBLIC,
            TWILIO_AUTH_TOKEN=TOKEN, SWITCHBOARD_PII_KEY="test-pii-key-not-secret",
            _env_file=None)  # type: ignore[call-arg]
        self.engine = make_engine(settings.database_url)
        migrate(self.engine)
        self.tw = make_app(settings, self.engine, TRAFFIC_ORG)
        self.calls: dict[str, ET.Element] = {}  # active calls and the TwiML they are in
        self.bridged: dict[str, str] = {}  # agent -> the call they are on
        self.ringing: dict[str, tuple[str, datetime]] = {}  # agent -> (call, expiry)
        self.rest: dict[str, datetime] = {}  # agent -> end of wrap-up
        self.count = 0

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def post(self, url: str, params: dict[str, str], sid: str) -> ET.Element:
        """A signed webhook; checks the answer and what it rings."""
        r = self.tw.client.post(url[len(PUBLIC):] if url.startswith("http") else url,
                                data=params, headers={"X-Twilio-Signature": sign(
                                    url if url.startswith("http") else PUBLIC + url, params)})
        assert r.status_code == 200
        assert r.headers.get("X-Switchboard-Stage") != "fallback"
        root = ET.fromstring(r.content)
        dial, now = root.find("Dial"), self.tw.clock()
        for agent, _ in dial_numbers(root) if dial is not None else []:
            assert agent not in self.bridged, "rung while on another call"
            held = self.ringing.get(agent)
            assert held is None or held[0] == sid or held[1] <= now, "reserved for another"
            if self.digit_loop(sid) is not None:  # direct calls ring through wrap-up
                assert self.rest.get(agent, now) <= now, "rung during wrap-up"
            self.ringing[agent] = (sid, now + timedelta(seconds=int(dial.get("timeout")) + 30))
        return root

    def digit_loop(self, sid: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(Call.__table__.c.loop_id).where(  # type: ignore[attr-defined]
                Call.__table__.c.call_sid == sid)).scalar()  # type: ignore[attr-defined]

    def release(self, sid: str) -> None:
        """The call's <Dial> is over: its agents no longer ring for it; a bridge ends."""
        self.ringing = {a: v for a, v in self.ringing.items() if v[0] != sid}
        for agent, on in list(self.bridged.items()):
            if on == sid:
                loop = self.digit_loop(sid)
                wrap = WRAP_UP.get(loop or "", 0)
                self.rest[agent] = self.tw.clock() + timedelta(seconds=wrap)
                del self.bridged[agent]

    def has(self, tag: str) -> bool:
        """Some active call's TwiML has `tag`."""
        return any(root.find(tag) is not None for root in self.calls.values())

    def pick(self, data: st.DataObject, tag: str) -> str | None:
        """An active call whose TwiML has `tag`, or None."""
        sids = sorted(s for s, root in self.calls.items() if root.find(tag) is not None)
        return data.draw(st.sampled_from(sids)) if sids else None

    @rule(direct=st.booleans(), frm=st.sampled_from(["+4791234567", "anonymous", ""]))
    def incoming(self, direct: bool, frm: str) -> None:
        self.count += 1
        sid = f"CAtraffic{self.count:023d}"
        to = "+4722000111" if direct else "+4722000000"
        self.calls[sid] = self.post("/twilio/voice", {"CallSid": sid, "From": frm, "To": to},
                                    sid)

    @precondition(lambda self: self.has("Gather"))
    @rule(data=st.data(), digit=st.sampled_from(["1", "2", "3", "7", ""]))
    def press(self, data: st.DataObject, digit: str) -> None:
        sid = self.pick(data, "Gather")
        if sid is not None:
            action = self.calls[sid].find("Gather").get("action")
            self.calls[sid] = self.post(action, {"CallSid": sid, "Digits": digit}, sid)

    @precondition(lambda self: self.has("Dial"))
    @rule(data=st.data())
    def agent_answers(self, data: st.DataObject) -> None:
        sid = self.pick(data, "Dial")
        if sid is None or sid in self.bridged.values():
            return
        root = self.calls[sid]
        agent = data.draw(st.sampled_from([a for a, _ in dial_numbers(root)]))
        number = next(n for n in root.iter("Number") if f"agent={agent}" in n.get("url", ""))
        leg = f"CL{sid[2:]}{agent}"
        whisper = self.post(number.get("url"), {"CallSid": leg}, leg)
        r = self.tw.client.post(
            whisper.find("Gather").get("action")[len(PUBLIC):], data={"CallSid": leg,
                                                                        "Digits": "1"},
            headers={"X-Twilio-Signature": sign(whisper.find("Gather").get("action"),
                                                {"CallSid": leg, "Digits": "1"})})
        assert r.status_code == 200
        if r.headers.get("X-Switchboard-Stage") == "connected":
            self.bridged[agent] = sid
            self.ringing = {a: v for a, v in self.ringing.items() if v[0] != sid}

    @precondition(lambda self: self.has("Dial"))
    @rule(data=st.data())
    def dial_ends(self, data: st.DataObject) -> None:
        sid = self.pick(data, "Dial")
        if sid is None:
            return
        bridged = sid in self.bridged.values()
        action = self.calls[sid].find("Dial").get("action")
        self.release(sid)
        self.calls[sid] = self.post(action, {"CallSid": sid, "DialCallStatus": (
            "completed" if bridged else "no-answer")}, sid)

    @precondition(lambda self: self.has("Play"))
    @rule(data=st.data())
    def hold_ends(self, data: st.DataObject) -> None:
        sid = self.pick(data, "Play")
        if sid is not None:
            self.calls[sid] = self.post(self.calls[sid].find("Redirect").text,
                                        {"CallSid": sid}, sid)

    @precondition(lambda self: self.has("Record"))
    @rule(data=st.data())
    def leaves_a_message(self, data: st.DataObject) -> None:
        sid = self.pick(data, "Record")
        if sid is not None:
            self.post(self.calls[sid].find("Record").get("action"),
                      {"CallSid": sid, "RecordingUrl": f"https://api.twilio.com/rec/{sid}"}, sid)
            self.hangs_up_call(sid)

    @precondition(lambda self: bool(self.calls))
    @rule(data=st.data(), late=st.booleans())
    def hangs_up(self, data: st.DataObject, late: bool) -> None:
        self.hangs_up_call(data.draw(st.sampled_from(sorted(self.calls))), late=late)

    def hangs_up_call(self, sid: str, *, late: bool = False) -> None:
        """The caller hangs up; with `late`, the <Dial> action or hold <Redirect> the hang-up
        also causes reaches us after the status callback (Twilio does not order them)."""
        root = self.calls[sid]
        self.release(sid)
        self.post("/twilio/status", {"CallSid": sid, "CallStatus": "completed"}, sid)
        del self.calls[sid]
        if late and root.find("Dial") is not None:
            self.post(root.find("Dial").get("action"), {
                "CallSid": sid, "DialCallStatus": "completed", "CallStatus": "completed"}, sid)
        elif late and root.find("Play") is not None:
            self.post(root.find("Redirect").text, {"CallSid": sid}, sid)

    @rule(seconds=st.sampled_from([1, 4, 15, 31, 61]))
    def time_passes(self, seconds: int) -> None:
        self.tw.clock.advance(seconds)

    @invariant()
    def nothing_held_for_ended_calls(self) -> None:
        offer, call, ticket = (Offer.__table__, Call.__table__,  # type: ignore[attr-defined]
                               Ticket.__table__)  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            held = conn.execute(select(offer.c.agent_id).join(
                call, call.c.call_sid == offer.c.call_sid).where(
                offer.c.live.is_(True), call.c.ended_at.is_not(None))).all()
            answered_tickets = conn.execute(select(ticket.c.id).join(
                call, call.c.call_sid == ticket.c.call_sid).where(
                call.c.answered_by.is_not(None))).all()
        assert held == [] and answered_tickets == []


def test_random_call_traffic_keeps_the_rules() -> None:
    run_state_machine_as_test(CallTraffic, settings=settings(
        max_examples=25, stateful_step_count=40, deadline=None))

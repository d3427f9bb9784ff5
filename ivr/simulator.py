"""The call simulator: plays Twilio's part against a running server (docs/cli.md, `call`).

It signs each request like Twilio, follows <Gather>, <Redirect>, <Dial> (with the agents'
whispers) and <Record>, and prints one line per step: first CALL with the CallSid, then SAY,
GATHER, PRESS, DIAL, WAIT, RECORD, HANGUP, and last OUTCOME.

With `answer`, the named agent's phone picks up whenever a <Dial> rings it, hears the whisper
and presses a key, as a person would; the other phones of that <Dial> ring out (Twilio cancels
them). The call then stays connected for `talk` seconds before the <Dial> ends, so the desk's
screen pop can be watched while it lasts.
"""

from __future__ import annotations

import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import httpx
from twilio.request_validator import RequestValidator

MAX_REQUESTS = 200  # a call that has not ended by then is hung up
PRESS_KEYS = "0123456789*#w"  # a phone's keys, and w for silence
# The DialCallStatus values Twilio sends to a <Dial action>.
DIAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")


def check_press(press: str) -> str:
    """The --press keys, or ValueError naming the valid ones."""
    bad = sorted({k for k in press if k not in PRESS_KEYS})
    if bad:
        raise ValueError(f"--press takes the keys 0-9, * and #, and w for silence; "
                         f"not {' '.join(repr(k) for k in bad)}")
    return press


def check_dial_status(status: str) -> str:
    """The --dial-status value, or ValueError naming the valid ones."""
    if status not in DIAL_STATUSES:
        raise ValueError(f"--dial-status must be one of {', '.join(DIAL_STATUSES)}; "
                         f"not {status!r}")
    return status


def _agent_of(number: ET.Element) -> str:
    """The agent id a <Number>'s whisper URL names."""
    return parse_qs(urlparse(number.get("url", "")).query).get("agent", ["?"])[0]


class Refused(Exception):
    """The server answered 403 or something that is not TwiML."""


class Unreachable(Exception):
    """The server could not be reached."""


@dataclass
class Simulator:
    """One simulated call."""

    public_base: str
    token: str
    to: str
    from_: str = "+4791234567"
    press: str = ""
    dial_status: str = "no-answer"
    send_base: str | None = None  # where to send, when not the public URL itself
    out: Callable[[str], None] = print
    client: httpx.Client | None = None
    call_sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    answer: str | None = None  # this agent's phone answers and confirms; the others ring out
    talk: float = 0.0  # seconds connected before the call is hung up
    ring: float = 0.0  # seconds each unanswered <Dial> rings first (a caller in line meanwhile)
    sleep: Callable[[float], None] = time.sleep
    answered_by: str | None = field(default=None, init=False)
    _presses: Iterator[str] = field(init=False)
    _requests: int = field(default=0, init=False)
    _stage: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.public_base = self.public_base.rstrip("/")
        check_press(self.press)
        check_dial_status(self.dial_status)
        if self.talk < 0:
            raise ValueError("--talk must be 0 or more seconds")
        if self.ring < 0:
            raise ValueError("ring must be 0 or more seconds")
        self._presses = iter(self.press)
        self.validator = RequestValidator(self.token)
        self.http = self.client or httpx.Client(timeout=10)

    def _post(self, url: str, params: dict[str, str]) -> ET.Element:
        self._requests += 1
        if not url.startswith("http"):
            url = self.public_base + url
        target = url
        if self.send_base and url.startswith(self.public_base):
            target = self.send_base.rstrip("/") + url[len(self.public_base):]
        sig = self.validator.compute_signature(url, params)
        try:
            r = self.http.post(target, data=params, headers={"X-Twilio-Signature": sig})
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach {target}: {type(exc).__name__}") from exc
        if r.status_code != 200:
            raise Refused(f"the server answered {r.status_code} for {urlparse(url).path}")
        self._stage = r.headers.get("X-Switchboard-Stage", self._stage)
        try:
            root = ET.fromstring(r.text)
        except ET.ParseError as exc:
            raise Refused("the server's answer is not TwiML") from exc
        if root.tag != "Response":
            raise Refused("the server's answer is not TwiML")
        return root

    def _base(self) -> dict[str, str]:
        return {"CallSid": self.call_sid, "AccountSid": "AC" + "0" * 32, "From": self.from_,
                "To": self.to, "Direction": "inbound", "ApiVersion": "2010-04-01",
                "CallStatus": "in-progress"}

    def run(self) -> str:
        """Play the whole call; returns the outcome."""
        outcome = "hangup"
        self.out(f"CALL {self.call_sid}")
        params = self._base() | {"CallStatus": "ringing"}
        root: ET.Element | None = self._post("/twilio/voice", params)
        closed = self._stage == "closed"
        while root is not None and self._requests < MAX_REQUESTS:
            root, result = self._play(root)
            closed = closed or self._stage == "closed"
            if result:
                outcome = result
        if self._requests >= MAX_REQUESTS:
            self.out("HANGUP")
        if outcome == "voicemail" and closed:
            outcome = "closed"
        self._post("/twilio/status", self._base() | {"CallStatus": "completed",
                                                      "CallDuration": "60"})
        self.out(f"OUTCOME {outcome}")
        return outcome

    def _play(self, root: ET.Element) -> tuple[ET.Element | None, str | None]:
        """Play one TwiML document; returns the next document (if any) and an outcome."""
        result: str | None = None
        for verb in root:
            tag = verb.tag
            if tag == "Say":
                self.out(f"SAY {verb.get('language', 'en-US')} {(verb.text or '').strip()}")
            elif tag in ("Play", "Pause"):
                self.out("WAIT")
            elif tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self.out(f"SAY {child.get('language', 'en-US')} "
                                 f"{(child.text or '').strip()}")
                    elif child.tag in ("Play", "Pause"):
                        self.out("WAIT")
                self.out("GATHER")
                digit = next(self._presses, "w")
                if digit != "w":
                    self.out(f"PRESS {digit}")
                    nxt = self._post(verb.get("action", ""), self._base() | {"Digits": digit})
                    return nxt, None
                if verb.get("actionOnEmptyResult") == "true":
                    return self._post(verb.get("action", ""), self._base() | {"Digits": ""}), None
            elif tag == "Dial":
                return self._dial(verb)
            elif tag == "Record":
                self.out("RECORD")
                rec = f"https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE{self.call_sid[2:]}"
                nxt = self._post(verb.get("action", ""), self._base() | {
                    "RecordingUrl": rec, "RecordingDuration": "7", "Digits": "#"})
                self._play_tail(nxt)
                return None, "voicemail"
            elif tag == "Redirect":
                return self._post((verb.text or "").strip(), self._base()), None
            elif tag == "Hangup":
                self.out("HANGUP")
                return None, result
        self.out("HANGUP")
        return None, result

    def _play_tail(self, root: ET.Element) -> None:
        for verb in root:
            if verb.tag == "Say":
                self.out(f"SAY {verb.get('language', 'en-US')} {(verb.text or '').strip()}")
            elif verb.tag == "Hangup":
                self.out("HANGUP")

    def _dial(self, dial: ET.Element) -> tuple[ET.Element | None, str | None]:
        numbers = list(dial.iter("Number"))
        agents = [_agent_of(n) for n in numbers]
        self.out("DIAL " + " ".join(f"{a} {(n.text or '').strip()}"
                                    for a, n in zip(agents, numbers, strict=True)))
        taker: ET.Element | None = None
        if self.answer is not None:
            status = "no-answer"  # unless the named agent's phone is among these
            if self.answer in agents:
                taker = numbers[agents.index(self.answer)]
        else:
            status = self.dial_status
            if status == "completed":
                taker = numbers[0] if numbers else None
        if taker is not None:
            status = "completed" if self._confirm(taker) else "no-answer"
            if status == "completed":
                self.answered_by = _agent_of(taker)
        if status == "completed" and self.talk > 0:
            try:
                self.sleep(self.talk)  # connected: the <Dial> ends when the call does
            except KeyboardInterrupt:
                # Ctrl-C hangs up early; the call still ends properly, or the agent would stay
                # "on_call" until the reservation's cap runs out (routing.state.ON_CALL_CAP).
                pass
        elif status != "completed" and self.ring > 0:
            self.sleep(self.ring)  # the phones ring out, as a real <Dial> takes its time
        params = self._base() | {"DialCallStatus": status, "DialCallSid": "CA" + "1" * 32}
        if status == "completed":
            params["DialCallDuration"] = str(round(self.talk)) if self.talk else "42"
        nxt = self._post(dial.get("action", ""), params)
        return nxt, "connected" if status == "completed" else None

    def _confirm(self, number: ET.Element) -> bool:
        """The agent's phone answers, hears the whisper and presses 1."""
        url = number.get("url")
        if not url:
            return True
        leg = {"CallSid": "CA" + secrets.token_hex(16), "ParentCallSid": self.call_sid,
               "From": self.from_, "To": (number.text or "").strip(), "Direction": "outbound-dial",
               "CallStatus": "in-progress", "AccountSid": "AC" + "0" * 32}
        root = self._post(url, leg)
        gather = root.find("Gather")
        if gather is None:
            return False
        confirmed = self._post(gather.get("action", ""), leg | {"Digits": "1"})
        return confirmed.find("Hangup") is None

"""The call simulator: plays Twilio's part against a running server (CONTRACT §2, `call`).

It signs each request like Twilio, follows <Gather>, <Redirect>, <Dial> (with the agents'
whispers) and <Record>, and prints one line per step: SAY, GATHER, PRESS, DIAL, WAIT, RECORD,
HANGUP, and last OUTCOME.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import httpx
from twilio.request_validator import RequestValidator

MAX_REQUESTS = 200  # a call that has not ended by then is hung up


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
    _presses: Iterator[str] = field(init=False)
    _requests: int = field(default=0, init=False)
    _stage: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.public_base = self.public_base.rstrip("/")
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
        parts = []
        for n in numbers:
            agent = parse_qs(urlparse(n.get("url", "")).query).get("agent", ["?"])[0]
            parts.append(f"{agent} {(n.text or '').strip()}")
        self.out("DIAL " + " ".join(parts))
        status = self.dial_status
        if status == "completed" and numbers:
            if not self._confirm(numbers[0]):
                status = "no-answer"
        params = self._base() | {"DialCallStatus": status, "DialCallSid": "CA" + "1" * 32}
        if status == "completed":
            params["DialCallDuration"] = "42"
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

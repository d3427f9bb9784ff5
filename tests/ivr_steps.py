"""Small steps of a call played through the webhooks, shared by the IVR tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ivr.models import CallStep
from routing.models import Offer
from tests.conftest import PUBLIC, sign
from tests.twilio_harness import Twilio, dial_numbers
from tickets.models import Ticket

MAIN = "+4722000000"
CALLER = "+4791234567"  # a fictional caller; never printed in assertion messages

# A small union: two agents and a few loops, for the waiting-line and wrap-up tests.
SMALL_ORG = """
organisation:
  name: Testforbundet
  timezone: Europe/Oslo
  opening_hours: {mon: "08:00-15:30", tue: "08:00-15:30", wed: "08:00-15:30",
                  thu: "08:00-15:30", fri: "08:00-15:30"}
numbers:
  - {number: "+4722000000", kind: switchboard}
menu: {"1": ko, "2": rolig, "3": lang}
agents:
  - {id: a1, name: Agent En, phone: "+4790000101"}
  - {id: a2, name: Agent To, phone: "+4790000102"}
loops:
  - {id: ko, name: Køen, members: [a1, a2], strategy: ringall, ring_timeout: 20,
     max_wait: 60, wrap_up: 0, overflow: voicemail}
  - {id: rolig, name: Rolig, members: [a1], strategy: linear, ring_timeout: 20,
     max_wait: 0, wrap_up: 30, overflow: voicemail}
  - {id: lang, name: Lang, members: [a1, a2], strategy: linear, ring_timeout: 20,
     max_wait: 600, wrap_up: 0, overflow: voicemail}
"""


def start(tw: Twilio, sid: str, *, to: str = MAIN, frm: str = CALLER
          ) -> tuple[int, ET.Element, str]:
    """The call comes in."""
    return tw.post("/twilio/voice", {"CallSid": sid, "From": frm, "To": to,  # type: ignore[return-value]
                                     "CallStatus": "ringing"})


def press(tw: Twilio, sid: str, digit: str, *, to: str = MAIN, frm: str = CALLER
          ) -> tuple[ET.Element, str]:
    """Start a call and press `digit` at the first menu; returns (TwiML, stage)."""
    _, root, _ = start(tw, sid, to=to, frm=frm)
    _, root2, stage = tw.post(root.find("Gather").get("action"),  # type: ignore[union-attr]
                              {"CallSid": sid, "Digits": digit})
    assert root2 is not None
    return root2, stage


def rung(root: ET.Element) -> list[str]:
    """The agent ids a <Dial> rings."""
    return [a for a, _ in dial_numbers(root)]


def confirm(tw: Twilio, root: ET.Element, agent_id: str, leg: str) -> str:
    """The agent's phone picks up, hears the whisper and presses a key; returns the stage."""
    number = next(n for n in root.iter("Number") if f"agent={agent_id}" in n.get("url", ""))
    _, whisper, _ = tw.post(number.get("url", ""), {"CallSid": leg})
    assert whisper is not None
    _, _, stage = tw.post(whisper.find("Gather").get("action"),  # type: ignore[union-attr]
                          {"CallSid": leg, "Digits": "1"})
    return stage


def dial_ends(tw: Twilio, root: ET.Element, sid: str, dial_status: str
              ) -> tuple[ET.Element, str]:
    """The <Dial> is over (bridged call ended, or nobody confirmed)."""
    _, nxt, stage = tw.post(root.find("Dial").get("action"),  # type: ignore[union-attr]
                            {"CallSid": sid, "DialCallStatus": dial_status})
    assert nxt is not None
    return nxt, stage


def status(tw: Twilio, sid: str, call_status: str = "completed") -> int:
    """Twilio's status callback."""
    code, _, _ = tw.post("/twilio/status", {"CallSid": sid, "CallStatus": call_status})
    return code


def raw_post(tw: Twilio, url: str, params: dict[str, str]) -> tuple[int, bytes]:
    """A signed POST returning the body's exact bytes."""
    full = url if url.startswith("http") else PUBLIC + url
    r = tw.client.post(full[len(PUBLIC):], data=params,
                       headers={"X-Twilio-Signature": sign(full, params, tw.token)})
    return r.status_code, r.content


def assert_fallback(code: int, root: ET.Element, stage: str) -> None:
    """The static answer for a failed step: an apology, then a voicemail."""
    assert code == 200 and stage == "fallback"
    assert root.find("Say") is not None and "tekniske problemer" in says(root)
    assert root.find("Record") is not None  # the caller can still leave a message


def says(root: ET.Element) -> str:
    """Every <Say> text of the TwiML, joined."""
    return " ".join((s.text or "") for s in root.iter("Say"))


def counts(engine: Engine) -> dict[str, int]:
    """Rows in the tables a retried step must not grow."""
    out: dict[str, int] = {}
    with engine.connect() as conn:
        for name, model in (("offer", Offer), ("ticket", Ticket), ("call_step", CallStep)):
            out[name] = conn.execute(select(func.count()).select_from(
                model.__table__)).scalar_one()  # type: ignore[attr-defined]
    return out


def rows(engine: Engine, model: Any) -> list[Any]:
    """Every row of a table."""
    with engine.connect() as conn:
        return list(conn.execute(select(model.__table__)).all())

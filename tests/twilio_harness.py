"""Plays Twilio against the app in tests: signed form posts, TwiML parsed as XML."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from switchboard.app import create_app
from switchboard.orgapply import apply_org
from switchboard.orgfile import load_org_file, parse_org_text
from switchboard.settings import Settings
from tests.conftest import PUBLIC, sign

EXAMPLE_ORG = Path(__file__).resolve().parent.parent / "examples" / "org.yaml"
_sids = itertools.count(1)
# A Wednesday at 10:00 in Oslo: open hours.
OPEN_NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def new_sid() -> str:
    """A fresh CallSid."""
    return f"CA{next(_sids):032x}"


@dataclass
class Clock:
    """A clock the tests move."""

    now: datetime = OPEN_NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Twilio:
    """Signs and posts webhooks the way Twilio does."""

    client: TestClient
    token: str = "test-twilio-token-0123456789"
    clock: Clock = field(default_factory=Clock)

    def post(self, url: str, params: dict[str, str]) -> tuple[int, ET.Element | None, str]:
        """POST params to a full public URL or a path; returns (status, parsed TwiML, text)."""
        full = url if url.startswith("http") else PUBLIC + url
        path = full[len(PUBLIC):]
        r = self.client.post(path, data=params,
                             headers={"X-Twilio-Signature": sign(full, params, self.token)})
        root = ET.fromstring(r.text) if r.status_code == 200 else None
        return r.status_code, root, r.headers.get("X-Switchboard-Stage", "")


def make_app(settings: Settings, engine: Engine, org_text: str | None = None,
             clock: Clock | None = None) -> Twilio:
    """Apply an org file (the example by default) and return a Twilio player for the app."""
    org = parse_org_text(org_text) if org_text is not None else load_org_file(EXAMPLE_ORG)
    clock = clock or Clock()
    apply_org(engine, org, now=clock())
    app = create_app(settings, engine)
    app.state.flow.clock = clock
    return Twilio(TestClient(app), clock=clock)


def dial_numbers(root: ET.Element) -> list[tuple[str, str]]:
    """(agent id from the whisper URL, phone) for each <Number> of the <Dial>."""
    from urllib.parse import parse_qs, urlparse

    out = []
    for n in root.iter("Number"):
        q = parse_qs(urlparse(n.get("url", "")).query)
        out.append((q.get("agent", [""])[0], (n.text or "").strip()))
    return out

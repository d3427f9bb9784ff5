"""Shared set-up for the identity tests: a register, agents with tokens, answered calls."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from identity import router as identity_router
from identity.models import AuditEntry
from identity.pii import PiiHasher
from identity.register import parse_csv, store
from identity.scripts import GENERIC_FAILURE
from ivr.models import Call
from routing.models import Agent
from switchboard.app import create_app
from switchboard.auth import hash_token
from switchboard.db import session_scope
from switchboard.settings import Settings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "identity"
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 25)

# The fictional members of tests/fixtures/identity/members.csv used below.
KARI = {"number": "100001", "id": "14837812314", "name": "Kari Prøvesen",
        "phone": "+4791234567", "birth": "1978-03-14"}
OLA = {"number": "100002", "id": "02916523451", "name": "Ola Fiktivsen", "phone": "+4791000002"}
INGRID = {"number": "100003", "placeholder_id": "01027800100", "name": "Ingrid Eksempelsen",
          "birth": "1978-02-01", "phone": "+4791000003"}
PER = {"number": "100004", "id": "23869034533", "name": "Per Testmann-Lie"}
SHARED_PHONE = "+4791000006"  # Aslak and Mette share it
STRANGER = "+4791999999"  # in nobody's register entry


def kid_for(membership_number: str) -> str:
    """A MOD10 KID whose first six digits are the membership number."""
    from stdnum import luhn

    body = membership_number + "0000042"
    return body + luhn.calc_check_digit(body)


def load_register(engine: Engine, settings: Settings, path: Path | None = None) -> None:
    """Import the fixture register straight through the service (the CLI has its own tests)."""
    data = (path or FIXTURES / "members.csv").read_bytes()
    result = parse_csv(data, hasher=PiiHasher.from_settings(settings), today=TODAY,
                       allow_test_ids=settings.allow_test_ids)
    assert not result.rejections
    with session_scope(engine) as session:
        store(session, result.records, now=NOW)


def add_agent(engine: Engine, agent_id: str) -> str:
    """An agent row with a bearer token; returns the token."""
    token = f"tok-{agent_id}-0123456789"
    with session_scope(engine) as session:
        session.add(Agent(id=agent_id, name=agent_id.title(), phone="+4790000001",
                          token_hash=hash_token(token)))
    return token


def add_call(engine: Engine, sid: str, *, from_number: str | None,
             answered_by: str | None = "may.tove") -> None:
    """A call answered by the given agent."""
    with session_scope(engine) as session:
        session.add(Call(call_sid=sid, from_number=from_number, answered_by=answered_by,
                         started_at=NOW, stage="connected"))


def call_level(engine: Engine, sid: str) -> str | None:
    """The verification level kept on the call."""
    with session_scope(engine) as session:
        call = session.get(Call, sid)
        return call.verification if call else None


class Desk:
    """The desk's side of the API for one call, as one agent."""

    def __init__(self, client: TestClient, token: str, sid: str) -> None:
        self.client, self.sid = client, sid
        self.headers = {"Authorization": f"Bearer {token}"}

    def url(self, path: str = "") -> str:
        return f"/api/calls/{self.sid}/identity{path}"

    def get(self):  # type: ignore[no-untyped-def]
        return self.client.get(self.url(), headers=self.headers)

    def post(self, path: str, body: dict):  # type: ignore[no-untyped-def]
        return self.client.post(self.url(path), json=body, headers=self.headers)


def make_client(settings: Settings, engine: Engine, now: dt.datetime = NOW) -> TestClient:
    """The real app with the identity clock pinned."""
    app = create_app(settings, engine)
    app.dependency_overrides[identity_router.clock] = lambda: now
    return TestClient(app)


def make_world(settings, engine):  # type: ignore[no-untyped-def]
    """A register, two agents with tokens and a client (the `world` fixture in conftest)."""
    load_register(engine, settings)
    token = add_agent(engine, "may.tove")
    other = add_agent(engine, "janet")
    client = make_client(settings, engine)
    return {"engine": engine, "client": client, "token": token, "other": other}


def desk(world, sid: str, from_number: str | None) -> Desk:  # type: ignore[no-untyped-def]
    add_call(world["engine"], sid, from_number=from_number)
    return Desk(world["client"], world["token"], sid)


def audit_rows(engine, sid: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.call_sid == sid)).all())


def assert_generic(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 409
    assert resp.json()["detail"] == GENERIC_FAILURE

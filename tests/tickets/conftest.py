"""The tickets tests' world: an org with departments, agents with bearer tokens, the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine

from routing.models import Agent
from switchboard.auth import hash_token, new_token
from tests.console.conftest import (  # noqa: F401  (the live server, browser and screenshots)
    browser,
    http,
    live,
    new_page,
    page,
    pytest_configure,
    pytest_runtest_makereport,
)
from tests.twilio_harness import Clock, Twilio, make_app

# Wednesday 25 November 2026, 10:00 in Oslo.
TICKET_ORG = """
organisation:
  name: Testforbundet
  timezone: Europe/Oslo
  opening_hours: {mon: "08:00-15:30", tue: "08:00-15:30", wed: "08:00-15:30",
                  thu: "08:00-15:30", fri: "08:00-15:30"}
  working_days: {country: "NO", cutoff: "15:00"}
numbers:
  - {number: "+4722000000", kind: switchboard}
  - {number: "+4722000111", kind: direct, agent: a2}
menu: {"1": ko, "2": lonn}
agents:
  - {id: a1, name: Agent En, phone: "+4790000101", email: a1@union.example}
  - {id: a2, name: Agent To, phone: "+4790000102", email: a2@union.example}
  - {id: a3, name: Agent Tre, phone: "+4790000103"}
loops:
  - {id: ko, name: Køen, members: [a1, a2], strategy: ringall, ring_timeout: 20,
     max_wait: 0, overflow: voicemail, department: innkreving}
  - {id: lonn, name: Lønn, members: [a1], ring_timeout: 20, overflow: voicemail}
departments:
  - id: innkreving
    name: Innkreving og kontingent
    email: innkreving@union.example
    deadline: 5 working days
    escalation: leder@union.example
    members: [a2]
  - id: lonn
    name: Lønn og tariff
    email: lonn@union.example
    deadline: 24 hours
"""


@dataclass
class World:
    """The app, its clock, and a bearer token per agent."""

    tw: Twilio
    engine: Engine
    tokens: dict[str, str]

    @property
    def client(self) -> TestClient:
        return self.tw.client

    @property
    def clock(self) -> Clock:
        return self.tw.clock

    def auth(self, agent: str = "a1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[agent]}"}

    def create(self, agent: str = "a1", **body: Any) -> Any:
        body.setdefault("department", "innkreving")
        body.setdefault("text", "Medlemmet lurer på en faktura fra oktober.")
        return self.client.post("/api/tickets", json=body, headers=self.auth(agent))

    def patch(self, ticket_id: int, version: int | None, agent: str = "a1",
              **body: Any) -> Any:
        headers = self.auth(agent)
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return self.client.patch(f"/api/tickets/{ticket_id}", json=body, headers=headers)


def give_tokens(engine: Engine, agents: list[str]) -> dict[str, str]:
    """A fresh bearer token per agent, stored as its hash (as `switchboard agents token`)."""
    tokens = {}
    table = Agent.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for agent in agents:
            tokens[agent] = new_token()
            conn.execute(update(table).where(table.c.id == agent)
                         .values(token_hash=hash_token(tokens[agent])))
    return tokens


@pytest.fixture
def tk(settings, engine) -> World:  # type: ignore[no-untyped-def]
    tw = make_app(settings, engine, TICKET_ORG)
    return World(tw=tw, engine=engine, tokens=give_tokens(engine, ["a1", "a2", "a3"]))

"""Shared set-up of the admin and agent-state API tests: the demo org, an admin and an agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from console.audit import AUDIT
from routing.models import Agent
from switchboard.auth import hash_token
from tests.twilio_harness import Twilio, make_app

ADMIN = {"Authorization": "Bearer test-admin-token"}
AGENT_T = Agent.__table__  # type: ignore[attr-defined]


@dataclass
class World:
    """The app with the demo org applied, and its clients."""

    tw: Twilio

    @property
    def client(self) -> TestClient:
        return self.tw.client

    @property
    def engine(self) -> Any:
        return self.client.app.state.engine  # type: ignore[attr-defined]

    def agent_headers(self, agent_id: str) -> dict[str, str]:
        """A bearer token for this agent (as `switchboard agents token` makes one)."""
        token = f"sbt_test_{agent_id}"
        with self.engine.begin() as conn:
            conn.execute(update(AGENT_T).where(AGENT_T.c.id == agent_id)
                         .values(token_hash=hash_token(token)))
        return {"Authorization": f"Bearer {token}"}

    def audit(self, **where: str) -> list[Any]:
        """Audit rows, oldest first."""
        q = select(AUDIT).order_by(AUDIT.c.id)
        for k, v in where.items():
            q = q.where(AUDIT.c[k] == v)
        with self.engine.connect() as conn:
            return list(conn.execute(q))

    def agent_row(self, agent_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(AGENT_T).where(AGENT_T.c.id == agent_id)).one()


def make_world(settings: Any, engine: Any) -> World:
    """The demo org on a fresh database, opening hours in force, the clock on a Wednesday."""
    return World(make_app(settings, engine))

"""Seed the organisation and agents the calendar tests sync (as `org apply` would store them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from routing.models import Agent, Organisation


def seed(engine: Engine, calendars: dict[str, dict[str, Any] | None],
         policy: dict[str, Any] | None = None, timezone: str = "Europe/Oslo") -> None:
    """Create or update organisation 1 and one active agent per entry of calendars."""
    with Session(engine) as s:
        org = s.get(Organisation, 1) or Organisation(id=1, name="Testforbundet")
        org.timezone = timezone
        org.config = {"calendar_policy": policy or {}}
        s.add(org)
        for i, (agent_id, cal) in enumerate(calendars.items()):
            agent = s.get(Agent, agent_id) or Agent(id=agent_id, name=agent_id.title(),
                                                    phone=f"+479000{i:04d}", position=i)
            agent.calendar = cal
            s.add(agent)
        s.commit()


def set_policy(engine: Engine, policy: dict[str, Any]) -> None:
    """Replace the organisation's calendar_policy."""
    with Session(engine) as s:
        org = s.get(Organisation, 1)
        assert org is not None
        org.config = {**org.config, "calendar_policy": policy}
        s.add(org)
        s.commit()

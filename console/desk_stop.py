"""The desk's one-click routing stop until the end of the day (the all-day trap's way out).

The stop is the agent's ordinary `routing_stop` (so routing and presence need nothing new)
with its end kept in `desk_stop`; `lift_due` ends it at local midnight, and `job` runs that
every minute. Both changes are audited like any other state change (console.audit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

from console.audit import SYSTEM, record
from routing.models import Agent

STOP_REASON = "desk_until_end_of_day"
JOB_EVERY = 60.0
AGENT = Agent.__table__  # type: ignore[attr-defined]
log = logging.getLogger("switchboard.console")


class DeskStop(SQLModel, table=True):
    """When a routing stop taken from the desk ends."""

    __tablename__ = "desk_stop"
    agent_id: str = Field(primary_key=True, max_length=64)
    until: datetime = Field(sa_type=UTCDateTime)


STOP = DeskStop.__table__  # type: ignore[attr-defined]


def end_of_day(now: datetime, tz: str) -> datetime:
    """The next local midnight after now."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)


def stop_until_end_of_day(engine: Engine, agent_id: str, *, now: datetime, tz: str) -> datetime:
    """Stop loop calls to the agent until local midnight; returns when it ends."""
    until = end_of_day(now, tz)
    with engine.begin() as conn:
        before = conn.execute(select(AGENT.c.routing_stop, AGENT.c.stop_reason)
                              .where(AGENT.c.id == agent_id)).first()
        conn.execute(update(AGENT).where(AGENT.c.id == agent_id)
                     .values(routing_stop=True, stop_reason=STOP_REASON))
        conn.execute(delete(STOP).where(STOP.c.agent_id == agent_id))
        conn.execute(insert(STOP).values(agent_id=agent_id, until=until))
        record(conn, who=agent_id, kind="agent", object_id=agent_id, action="state",
               before={"routing_stop": bool(before.routing_stop) if before else None,
                       "stop_reason": before.stop_reason if before else None},
               after={"routing_stop": True, "stop_reason": STOP_REASON,
                      "until": until.isoformat()}, at=now)
    return until


def lift_due(engine: Engine, *, now: datetime) -> list[str]:
    """End the desk stops whose day is over (not stops someone set otherwise since)."""
    lifted: list[str] = []
    with engine.begin() as conn:
        for agent_id, until in conn.execute(select(STOP.c.agent_id, STOP.c.until)).all():
            if until.tzinfo is None:
                until = until.replace(tzinfo=now.tzinfo)
            if until > now:
                continue
            conn.execute(delete(STOP).where(STOP.c.agent_id == agent_id))
            n = conn.execute(update(AGENT).where(AGENT.c.id == agent_id,
                                                 AGENT.c.stop_reason == STOP_REASON)
                             .values(routing_stop=False, stop_reason=None)).rowcount
            if n:
                record(conn, who=SYSTEM, kind="agent", object_id=agent_id, action="state",
                       before={"routing_stop": True, "stop_reason": STOP_REASON},
                       after={"routing_stop": False, "stop_reason": None}, at=now)
                lifted.append(agent_id)
    return lifted


async def job(engine: Engine, clock: Callable[[], datetime]) -> None:
    """Lift due desk stops every minute, for as long as the server runs."""
    while True:
        try:
            await asyncio.to_thread(lift_due, engine, now=clock())
        except Exception as exc:  # the database may be briefly away; try again next time
            log.warning("lifting desk stops failed (%s)", type(exc).__name__)
        await asyncio.sleep(JOB_EVERY)

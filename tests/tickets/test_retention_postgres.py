"""Retention on PostgreSQL: the same purge, the same shell, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from ivr.models import Call
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from tests.tickets.conftest import TICKET_ORG
from tickets import claims
from tickets.callbacks import upsert_callback
from tickets.models import Ticket
from tickets.retention import purge

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TICKET = Ticket.__table__  # type: ignore[attr-defined]
CALL = Call.__table__  # type: ignore[attr-defined]
NUMBER = "+4798765432"


@pytest.fixture
def pg_engine(own_pg_engine: Engine) -> Engine:
    # A database of its own: purging must not touch others' rows.
    apply_org(own_pg_engine, parse_org_text(TICKET_ORG), now=NOW)
    return own_pg_engine


def test_purge_on_postgresql(pg_engine: Engine) -> None:
    with pg_engine.begin() as conn:
        conn.execute(insert(CALL).values(call_sid="CApurge1", from_number=NUMBER, started_at=NOW,
                                         ended_at=NOW + timedelta(minutes=1), stage="ended",
                                         route={}, kind="switchboard", lang="nb"))
        upsert_callback(conn, call_sid="CApurge1", now=NOW, loop_id="ko", agent_id=None,
                        number=NUMBER, progress="voicemail:ko",
                        recording_url="https://api.twilio.com/rec/REpg", recording_duration=5)
        ticket_id = conn.execute(select(TICKET.c.id).where(TICKET.c.call_sid == "CApurge1")
                                 ).scalar_one()
        claims.claim(conn, ticket_id=ticket_id, agent_id="a1", now=NOW)
        claims.record_outcome(conn, ticket_id=ticket_id, agent_id="a1", outcome="reached",
                              now=NOW, public_url="https://x.test")
    counts = purge(pg_engine, now=NOW + timedelta(days=31))
    assert (counts["tickets"], counts["calls"]) == (1, 1)
    with pg_engine.connect() as conn:
        t = conn.execute(select(TICKET).where(TICKET.c.id == ticket_id)).one()
        c = conn.execute(select(CALL).where(CALL.c.call_sid == "CApurge1")).one()
    assert (t.caller_number, t.recording_url, t.outcome, t.department_id) == (
        None, "", "reached", "innkreving")
    assert c.from_number is None and c.started_at is not None
    again = purge(pg_engine, now=NOW + timedelta(days=32))
    assert (again["tickets"], again["calls"]) == (0, 0)

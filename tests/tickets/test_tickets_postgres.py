"""Tickets on PostgreSQL: migration 0005, one callback per call, one winner of a stale race."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from switchboard.db import make_engine, migrate
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from tests.tickets.conftest import TICKET_ORG
from tickets import service
from tickets.callbacks import upsert_callback
from tickets.schemas import TicketCreate, TicketPatch

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def pg_engine(pg_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(pg_url)
    migrate(engine)
    apply_org(engine, parse_org_text(TICKET_ORG), now=NOW)
    yield engine
    engine.dispose()


def test_one_callback_per_call_but_many_messages(pg_engine) -> None:  # type: ignore[no-untyped-def]
    sid = "CA" + uuid.uuid4().hex
    for _ in range(3):  # Twilio retries
        with pg_engine.begin() as conn:
            upsert_callback(conn, call_sid=sid, now=NOW, loop_id="ko", agent_id=None,
                            number="+4791234567", progress="loop:ko")
    with pg_engine.begin() as conn:
        for _ in range(2):
            service.create_ticket(conn, data=TicketCreate(department="lonn", text="Lønn"),
                                  actor="a1", agent_id="a1", now=NOW,
                                  public_url="https://x.test")
        rows = conn.execute(select(service.TICKET.c.kind, func.count())
                            .where(service.TICKET.c.call_sid == sid)
                            .group_by(service.TICKET.c.kind)).all()
        callback = conn.execute(select(service.TICKET).where(
            service.TICKET.c.call_sid == sid)).one()
    assert dict(rows) == {"callback": 1}
    assert callback.department_id == "innkreving"
    assert callback.due_at == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)


def test_two_agents_taking_the_same_version_one_wins(pg_engine) -> None:  # type: ignore[no-untyped-def]
    with pg_engine.begin() as conn:
        t = service.create_ticket(conn, data=TicketCreate(department="innkreving", text="Race"),
                                  actor="a1", agent_id="a1", now=NOW,
                                  public_url="https://x.test")
    barrier = threading.Barrier(6)
    results: list[str] = []

    def take(agent: str) -> None:
        barrier.wait()
        try:
            with pg_engine.begin() as conn:
                service.update_ticket(conn, ticket_id=t["id"], expected_version=1,
                                      changes=TicketPatch(owner=agent), actor=agent, now=NOW,
                                      public_url="https://x.test")
            results.append("won:" + agent)
        except service.StaleTicket:
            results.append("stale")

    threads = [threading.Thread(target=take, args=(a,)) for a in ["a1", "a2", "a3"] * 2]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    winners = [r for r in results if r.startswith("won:")]
    assert len(results) == 6 and len(winners) == 1
    with pg_engine.connect() as conn:
        final = service.get_ticket(conn, t["id"])
        owners = [e for e in service.history(conn, t["id"]) if e["kind"] == "owner"]
    assert final["version"] == 2 and "won:" + final["owner"] == winners[0]
    assert len(owners) == 1

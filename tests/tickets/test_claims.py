"""Claiming callbacks and closing them with an outcome (docs/tickets.md#callbacks), on SQLite."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from identity.models import Member
from switchboard.db import make_engine
from tests.tickets.conftest import World
from tests.twilio_harness import new_sid
from tickets import claims
from tickets.callbacks import upsert_callback
from tickets.models import OutboxMail, Ticket

TICKET = Ticket.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxMail.__table__  # type: ignore[attr-defined]
MEMBER = Member.__table__  # type: ignore[attr-defined]


def callback(engine: Engine, now: datetime, *, loop: str = "ko",
             number: str = "+4791234567") -> int:
    """A callback ticket as the IVR makes it for an unanswered caller; its id."""
    sid = new_sid()
    with engine.begin() as conn:
        upsert_callback(conn, call_sid=sid, now=now, loop_id=loop, agent_id=None,
                        number=number, progress=f"loop:{loop}")
        return conn.execute(select(TICKET.c.id).where(TICKET.c.call_sid == sid)).scalar_one()


def test_a_callback_gets_its_loops_department_deadline(tk: World) -> None:
    ticket_id = callback(tk.engine, tk.clock())
    got = tk.client.get(f"/api/tickets/{ticket_id}", headers=tk.auth("a1")).json()
    # Wednesday 25 Nov 2026 10:00 Oslo + 5 working days (not counting that day) = end of Wed 2 Dec.
    assert got["department"] == "innkreving"
    assert got["due_at"] == "2026-12-02T23:00:00+00:00"
    assert got["owner"] is None and got["status"] == "open"


def test_first_claim_wins_the_second_gets_409(tk: World) -> None:
    ticket_id = callback(tk.engine, tk.clock())
    first = tk.client.post(f"/api/tickets/{ticket_id}/claim", headers=tk.auth("a1"))
    assert first.status_code == 200
    assert (first.json()["owner"], first.json()["status"]) == ("a1", "in_progress")
    second = tk.client.post(f"/api/tickets/{ticket_id}/claim", headers=tk.auth("a2"))
    assert second.status_code == 409 and second.json()["owner"] == "a1"
    again = tk.client.post(f"/api/tickets/{ticket_id}/claim", headers=tk.auth("a1"))
    assert again.status_code == 200  # one's own claim again is no error
    assert tk.client.post("/api/tickets/99999/claim", headers=tk.auth("a1")).status_code == 404


def test_an_outcome_needs_the_claim_and_a_known_word(tk: World) -> None:
    ticket_id = callback(tk.engine, tk.clock())
    url = f"/api/tickets/{ticket_id}/callback-outcome"
    assert tk.client.post(url, json={"outcome": "reached"}, headers=tk.auth("a1")
                          ).status_code == 409
    tk.client.post(f"/api/tickets/{ticket_id}/claim", headers=tk.auth("a1"))
    bad = tk.client.post(url, json={"outcome": "maybe"}, headers=tk.auth("a1"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "outcome"]
    done = tk.client.post(url, json={"outcome": "wrong_number"}, headers=tk.auth("a1")).json()
    assert (done["status"], done["outcome"]) == ("done", "wrong_number")
    hist = tk.client.get(f"/api/tickets/{ticket_id}", headers=tk.auth("a1")).json()["history"]
    assert ("outcome", "wrong_number") in [(e["kind"], e["new"]) for e in hist]


def test_a_callback_is_not_closed_without_an_outcome(tk: World) -> None:
    ticket_id = callback(tk.engine, tk.clock())
    tk.client.post(f"/api/tickets/{ticket_id}/claim", headers=tk.auth("a1"))
    version = tk.client.get(f"/api/tickets/{ticket_id}", headers=tk.auth("a1")).json()["version"]
    r = tk.patch(ticket_id, version, "a1", status="done")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "status"]
    assert tk.client.get(f"/api/tickets/{ticket_id}", headers=tk.auth("a1")
                         ).json()["status"] == "in_progress"


def test_no_answer_counts_attempts_then_closes_with_a_letter_task(tk: World) -> None:
    ticket_id = callback(tk.engine, tk.clock())
    with tk.engine.begin() as conn:  # the member became known (verified on a later call)
        member_id = conn.execute(insert(MEMBER).values(
            membership_number="123456", name="Kari Medlem").returning(MEMBER.c.id)).scalar_one()
        conn.execute(update(TICKET).where(TICKET.c.id == ticket_id).values(member_id=member_id))
    url = f"/api/tickets/{ticket_id}/callback-outcome"
    for attempt, agent in ((1, "a1"), (2, "a2")):
        assert tk.client.post(f"/api/tickets/{ticket_id}/claim",
                              headers=tk.auth(agent)).status_code == 200
        tk.clock.advance(3600)
        out = tk.client.post(url, json={"outcome": "no_answer"}, headers=tk.auth(agent)).json()
        # Back on the department's list for whoever tries next, the attempt counted with time.
        assert (out["status"], out["owner"], out["attempts"]) == ("open", None, attempt)
        assert out["last_attempt_at"] == tk.clock().isoformat()
    tk.client.post(f"/api/tickets/{ticket_id}/claim", headers=tk.auth("a1"))
    last = tk.client.post(url, json={"outcome": "no_answer"}, headers=tk.auth("a1")).json()
    assert (last["status"], last["outcome"], last["attempts"]) == ("done", "unreachable", 3)
    tasks = tk.client.get("/api/tickets?department=innkreving", headers=tk.auth("a1")).json()
    letter = [t for t in tasks if t["kind"] == "letter"]
    assert len(letter) == 1 and letter[0]["member_id"] == member_id
    assert f"#{ticket_id}" in letter[0]["text"] and letter[0]["owner"] is None
    with tk.engine.connect() as conn:
        bodies = [r.body for r in conn.execute(select(OUTBOX.c.body).where(
            OUTBOX.c.ticket_id == letter[0]["id"]))]
    assert len(bodies) == 1 and "Kari" not in bodies[0] and "91234567" not in bodies[0]


def test_unknown_member_closes_as_unreachable_without_a_task(tk: World) -> None:
    with tk.engine.begin() as conn:
        conn.execute(update(claims.ORGANISATION).values(config=conn.execute(
            select(claims.ORGANISATION.c.config)).scalar() | {
                "tickets": {"callback_max_attempts": 1}}))
    ticket_id = callback(tk.engine, tk.clock())
    tk.client.post(f"/api/tickets/{ticket_id}/claim", headers=tk.auth("a1"))
    out = tk.client.post(f"/api/tickets/{ticket_id}/callback-outcome",
                         json={"outcome": "no_answer"}, headers=tk.auth("a1")).json()
    assert (out["status"], out["outcome"]) == ("done", "unreachable")
    kinds = {t["kind"] for t in tk.client.get("/api/tickets?include_done=true",
                                               headers=tk.auth("a1")).json()}
    assert kinds == {"callback"}


def test_claim_race_on_sqlite_threads_has_one_winner(settings, engine) -> None:  # type: ignore[no-untyped-def]
    from switchboard.orgapply import apply_org
    from switchboard.orgfile import parse_org_text
    from tests.tickets.conftest import TICKET_ORG

    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    apply_org(engine, parse_org_text(TICKET_ORG), now=now)
    ticket_id = callback(engine, now)
    engines = [make_engine(settings.database_url) for _ in range(2)]  # two pools, as two servers
    barrier = threading.Barrier(16)
    won: list[str] = []
    lost: list[str] = []

    def go(i: int) -> None:
        barrier.wait()
        try:
            with engines[i % 2].begin() as conn:
                claims.claim(conn, ticket_id=ticket_id, agent_id=f"agent{i}", now=now)
            won.append(f"agent{i}")
        except claims.ClaimTaken:
            lost.append(f"agent{i}")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert len(won) == 1 and len(lost) == 15
    with engine.connect() as conn:
        assert conn.execute(select(TICKET.c.owner).where(TICKET.c.id == ticket_id)
                            ).scalar_one() == won[0]


def _signed_in(tk: World, agent: str) -> Any:
    from fastapi.testclient import TestClient

    from switchboard.passwords import set_password
    from tests.console.conftest import csrf_from

    set_password(tk.engine, agent, "claims-pass-1", now=tk.clock())
    # Session cookies are Secure when PUBLIC_URL is https: sign in over https.
    c = TestClient(tk.client.app, base_url="https://testserver")
    c.post("/login", data={"username": agent, "password": "claims-pass-1",
                           "csrf_token": csrf_from(c.get("/login").text)})
    c.csrf = csrf_from(c.get("/tickets").text)  # type: ignore[attr-defined]
    return c


def test_the_pages_show_waiting_callbacks_and_claim_and_close_them(tk: World) -> None:
    ticket_id = callback(tk.engine, tk.clock())
    one, two = _signed_in(tk, "a1"), _signed_in(tk, "a2")
    listing = one.get("/tickets?department=innkreving").text
    assert "Tilbakeringinger som venter: 1" in listing
    assert f"Ta tilbakeringingen #{ticket_id}" in listing
    got = one.post(f"/tickets/{ticket_id}/claim", data={"csrf_token": one.csrf},
                   follow_redirects=False)
    assert got.status_code == 303
    late = two.post(f"/tickets/{ticket_id}/claim", data={"csrf_token": two.csrf})
    assert late.status_code == 409 and "Noen andre har allerede tatt denne." in late.text
    assert "Tilbakeringinger som venter" not in one.get("/tickets?department=innkreving").text
    page = one.get(f"/tickets/{ticket_id}").text
    assert "Registrer utfall" in page and '<label for="tk-outcome">' in page
    one.post(f"/tickets/{ticket_id}/outcome", data={"csrf_token": one.csrf,
                                                     "outcome": "no_answer"})
    page = two.get(f"/tickets/{ticket_id}").text  # back on the list: a2 may claim it now
    assert 'data-testid="callback-attempts">1<' in page and "Ta tilbakeringingen" in page

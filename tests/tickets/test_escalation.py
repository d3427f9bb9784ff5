"""Escalation (docs/tickets.md#escalation) with an injected clock: an untouched ticket escalates
once, after its hours on working days; an overdue one to the escalation contact (or the inbox);
the mail reaches a local SMTP server with links only; the ticket and the wallboard show it."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from switchboard.db import make_engine, migrate
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from tests.conftest import PUBLIC
from tests.fakes.smtp_server import Mailbox, smtp_server
from tests.tickets.conftest import TICKET_ORG, World, give_tokens
from tests.tickets.test_claims import callback
from tests.twilio_harness import Clock, make_app
from tickets import service
from tickets.escalation import add_working_hours, run_escalations
from tickets.mail import OUTBOX, SmtpSender, send_pending
from tickets.schemas import TicketCreate
from tickets.workdays import WorkCalendar

TEXT = "Medlemmet lurer på en faktura fra oktober."
NUMBER = "+4791234567"
OSLO = WorkCalendar()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def deliver(tk: World) -> Mailbox:
    with smtp_server() as (url, box):
        send_pending(tk.engine, SmtpSender(url, "sentralbord@union.example"), now=tk.clock(),
                     public_url=PUBLIC)
    return box


def escalation_mails(box: Mailbox, to: str) -> list:
    """The escalation mails to one address (new-ticket mails go to inboxes too)."""
    return [m for m in box.to(to) if m["Subject"].startswith("Eskalert")]


def get(tk: World, ticket_id: int) -> dict:
    return tk.client.get(f"/api/tickets/{ticket_id}", headers=tk.auth("a1")).json()


def test_working_hours_stop_at_weekends_and_holidays() -> None:
    # Friday 16:00 in Oslo + 24 working hours: Saturday and Sunday do not count.
    assert add_working_hours(utc(2026, 11, 27, 15, 0), 24, OSLO) == utc(2026, 11, 30, 15, 0)
    # Friday 14 May 2027 10:00 + 24: Monday 17 May is Constitution Day, so Tuesday 10:00.
    assert add_working_hours(utc(2027, 5, 14, 8, 0), 24, OSLO) == utc(2027, 5, 18, 8, 0)
    # Received on a Saturday: the clock starts at midnight starting Monday (23:00 UTC).
    assert add_working_hours(utc(2026, 11, 28, 12, 0), 2, OSLO) == utc(2026, 11, 30, 1, 0)
    # Across the change to winter time (Sun 25 Oct 2026, a non-working day anyway): 24 hours
    # from Friday 12:00 summer time end on Monday 12:00 winter time.
    assert add_working_hours(utc(2026, 10, 23, 10, 0), 24, OSLO) == utc(2026, 10, 26, 11, 0)


def test_an_untouched_ticket_escalates_once_with_a_link_only_mail(tk: World) -> None:
    t = tk.create(text=TEXT).json()  # Wednesday 25 Nov 10:00 Oslo, by a1: a touch
    tk.clock.advance(23 * 3600)
    assert run_escalations(tk.engine, now=tk.clock()) == []
    tk.clock.advance(3600)  # Thursday 10:00: 24 working hours with nobody doing anything
    assert run_escalations(tk.engine, now=tk.clock()) == [(t["id"], "untouched")]
    assert run_escalations(tk.engine, now=tk.clock()) == []
    tk.clock.advance(6 * 3600)
    assert run_escalations(tk.engine, now=tk.clock()) == []  # once per cause, however long

    ticket = get(tk, t["id"])
    assert ticket["escalated_at"] == "2026-11-26T09:00:00+00:00"
    (ev,) = [e for e in ticket["history"] if e["kind"] == "escalated"]
    assert (ev["new"], ev["note"], ev["actor"]) == ("untouched", "leder@union.example", None)
    box = deliver(tk)
    (msg,) = box.to("leder@union.example")
    body = Mailbox.text(msg)
    assert msg["Subject"] == "Eskalert: 1 saker i Innkreving og kontingent"
    assert f"{PUBLIC}/tickets/{t['id']}" in body and "ingen har rørt den" in body
    assert TEXT not in body and "faktura" not in body
    page = tk.client.get(f"/tickets/{t['id']}", headers=tk.auth("a1")).text
    assert 'data-testid="ticket-escalated"' in page and "Eskalert 26.11.2026 10:00" in page


def test_a_touch_restarts_the_clock(tk: World) -> None:
    t = tk.create().json()
    tk.clock.advance(20 * 3600)
    tk.patch(t["id"], t["version"], "a2", note="Ser på den i morgen.")
    tk.clock.advance(20 * 3600)  # 40 hours after receipt, 20 after the note
    assert run_escalations(tk.engine, now=tk.clock()) == []
    tk.clock.advance(5 * 3600)
    assert run_escalations(tk.engine, now=tk.clock()) == [(t["id"], "untouched")]


def test_friday_afternoon_tickets_escalate_on_monday_not_saturday(settings, engine) -> None:  # type: ignore[no-untyped-def]
    tw = make_app(settings, engine, TICKET_ORG, clock=Clock(utc(2026, 11, 27, 13, 0)))
    tk = World(tw=tw, engine=engine, tokens=give_tokens(engine, ["a1"]))
    t = tk.create().json()  # Friday 14:00 Oslo
    tk.clock.now = utc(2026, 11, 29, 20, 0)  # Sunday evening
    assert run_escalations(tk.engine, now=tk.clock()) == []
    tk.clock.now = utc(2026, 11, 30, 13, 0)  # Monday 14:00
    assert run_escalations(tk.engine, now=tk.clock()) == [(t["id"], "untouched")]


def test_an_overdue_ticket_escalates_and_without_a_contact_the_inbox_hears(tk: World) -> None:
    t = tk.create(department="lonn").json()  # 24 hours: due Thursday 10:00
    cb = callback(tk.engine, tk.clock(), number=NUMBER)  # innkreving: 5 working days
    tk.clock.advance(12 * 3600)
    tk.patch(t["id"], t["version"], "a1", note="Venter på lønnsslipp.")
    cbt = get(tk, cb)
    tk.patch(cb, cbt["version"], "a1", note="Prøvde å ringe.")
    tk.clock.advance(13 * 3600)  # Thursday 11:00: overdue, touched 13 hours ago
    assert run_escalations(tk.engine, now=tk.clock()) == [(t["id"], "overdue")]
    box = deliver(tk)
    (msg,) = escalation_mails(box, "lonn@union.example")  # Lønn names no contact
    assert "fristen er ute" in Mailbox.text(msg)
    assert not escalation_mails(box, "leder@union.example")

    # The callback (with the caller's number on it) overdue a week later: no number in mail.
    tk.clock.now = utc(2026, 12, 3, 9, 0)
    got = run_escalations(tk.engine, now=tk.clock())
    assert (cb, "overdue") in got and (cb, "untouched") in got
    box = deliver(tk)
    (msg,) = escalation_mails(box, "leder@union.example")
    body = Mailbox.text(msg)
    assert f"/tickets/{cb}" in body and "frist innen utgangen av 02.12.2026" in body
    assert "91234567" not in body and not re.search(r"\d{8}", body.replace(str(cb), ""))

    wall = tk.client.get("/wallboard/live", headers=tk.auth("a1")).text
    assert re.search(r'data-testid="dept-escalated-innkreving">1<', wall)
    assert re.search(r'data-testid="dept-overdue-innkreving">1<', wall)
    assert re.search(r'data-testid="dept-escalated-lonn">1<', wall)


def test_done_tickets_and_two_passes_at_once_escalate_nothing_twice(tk: World) -> None:
    done = tk.create().json()
    tk.patch(done["id"], done["version"], "a1", status="done")
    open_ = tk.create().json()
    tk.clock.now = utc(2026, 12, 10, 9, 0)
    first = run_escalations(tk.engine, now=tk.clock())
    second = run_escalations(tk.engine, now=tk.clock())
    assert sorted(first) == [(open_["id"], "overdue"), (open_["id"], "untouched")]
    assert second == []


@pytest.mark.postgres
def test_many_processes_at_once_escalate_each_cause_once_on_postgres(pg_url: str) -> None:
    engines = [make_engine(pg_url) for _ in range(4)]
    migrate(engines[0])
    apply_org(engines[0], parse_org_text(TICKET_ORG), now=utc(2026, 11, 25, 9, 0))
    with engines[0].begin() as conn:
        ids = [service.create_ticket(conn, data=TicketCreate(department=d, text=TEXT),
                                     actor="a1", agent_id="a1", now=utc(2026, 11, 25, 9, 0),
                                     public_url=PUBLIC)["id"] for d in ("innkreving", "lonn")]
    results: list[list[tuple[int, str]]] = []
    barrier = threading.Barrier(len(engines))

    def one(engine) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        results.append(run_escalations(engine, now=utc(2026, 12, 10, 9, 0)))

    threads = [threading.Thread(target=one, args=(e,)) for e in engines]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert len(results) == len(engines)
    assert sorted(x for r in results for x in r) == sorted(
        (i, c) for i in ids for c in ("overdue", "untouched"))
    with engines[0].connect() as conn:
        subjects = conn.execute(select(OUTBOX.c.subject).where(
            OUTBOX.c.subject.like("Eskalert%"))).scalars().all()
    # One mail per department and pass that escalated something: never more than 2 passes'
    # worth, and every (ticket, cause) once.
    assert 2 <= len(subjects) <= 4
    for e in engines:
        e.dispose()

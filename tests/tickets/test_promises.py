"""Promises (docs/tickets.md#promises): a new date and a note, a phone task before the deadline,
a late promise flagged, a missed promise escalated once; with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from tests.conftest import PUBLIC
from tests.console.conftest import Live, login
from tests.fakes.smtp_server import Mailbox, smtp_server
from tests.tickets.conftest import World
from tests.tickets.test_tickets_pages import api_create, signed_in, tl  # noqa: F401 (fixture)
from tickets.escalation import run_escalations
from tickets.mail import SmtpSender, send_pending
from tickets.models import TicketPromise
from tickets.service import TICKET

PROMISE = TicketPromise.__table__  # type: ignore[attr-defined]
TEXT = "Medlemmet lurer på en faktura fra oktober."
NOTE = "Lovet svar innen onsdag; venter på regnskap."
DUE = "2026-12-02T23:00:00+00:00"  # Wed 25 Nov 10:00 + 5 working days: the end of Wed 2 Dec


def at(tk: World, *args: int) -> None:
    """Move the test clock to a UTC moment."""
    tk.clock.now = datetime(*args, tzinfo=UTC)


def promise(tk: World, ticket_id: int, agent: str = "a1", **body: object) -> object:
    body.setdefault("promised_by", "2026-12-09")
    body.setdefault("note", NOTE)
    return tk.client.post(f"/api/tickets/{ticket_id}/promise", json=body, headers=tk.auth(agent))


def get(tk: World, ticket_id: int) -> dict:
    return tk.client.get(f"/api/tickets/{ticket_id}", headers=tk.auth("a1")).json()


def test_a_promise_in_time_makes_a_phone_task_due_by_the_original_deadline(tk: World) -> None:
    t = tk.create(text=TEXT).json()
    at(tk, 2026, 11, 30, 9, 0)  # Monday: the deadline (end of Wednesday) will not hold
    r = promise(tk, t["id"], agent="a2")
    assert r.status_code == 201, r.text
    made = r.json()
    # A date means the end of that day in Oslo: midnight starting Thursday 10 Dec.
    assert made["promised_by"] == "2026-12-09T23:00:00+00:00"
    assert made["late"] is False and made["original_due_at"] == DUE

    task = get(tk, made["phone_task_id"])
    assert (task["kind"], task["department"], task["owner"], task["parent_id"]) == (
        "phone_task", "innkreving", "a2", t["id"])
    assert task["due_at"] == DUE and task["status"] == "open"
    # The task says whom to ring only by pointing at the ticket: no text, no note copied.
    assert f"#{t['id']}" in task["text"] and TEXT not in task["text"] and NOTE not in task["text"]

    ticket = get(tk, t["id"])
    assert ticket["due_at"] == DUE  # the original deadline stays on record
    assert [p["note"] for p in ticket["promises"]] == [NOTE]
    kinds = [e["kind"] for e in ticket["history"]]
    assert "promise" in kinds and "phone_task" in kinds and "promise_late" not in kinds
    assert ticket["version"] == t["version"] + 1  # a change: stale forms are refused

    page = tk.client.get(f"/tickets/{t['id']}", headers=tk.auth("a1")).text
    assert 'data-testid="promise"' in page and "innen utgangen av 09.12.2026" in page
    assert NOTE in page and 'data-testid="promise-late"' not in page
    assert "Løfte: ny dato innen utgangen av 09.12.2026" in page  # the history says it too
    assert "lovet 30.11.2026 av Agent To" in page
    assert f'href="/tickets/{made["phone_task_id"]}"' in page
    listing = tk.client.get("/tickets?department=innkreving", headers=tk.auth("a1")).text
    assert 'data-testid="ticket-promised">Lovet innen utgangen av 09.12.2026<' in listing


def test_a_promise_after_the_deadline_is_flagged(tk: World) -> None:
    t = tk.create(text=TEXT).json()
    at(tk, 2026, 12, 3, 9, 0)  # Thursday: the deadline ended last midnight
    made = promise(tk, t["id"]).json()
    assert made["late"] is True
    history = get(tk, t["id"])["history"]
    (late,) = [e for e in history if e["kind"] == "promise_late"]
    assert late["old"] == DUE and late["actor"] is None
    # The member is rung today: the phone task is due by the end of Thursday.
    assert get(tk, made["phone_task_id"])["due_at"] == "2026-12-03T23:00:00+00:00"
    page = tk.client.get(f"/tickets/{t['id']}", headers=tk.auth("a1")).text
    assert 'data-testid="promise-late"' in page and "Gitt etter fristen" in page


def test_a_second_promise_after_the_first_date_passed_is_late_too(tk: World) -> None:
    t = tk.create().json()
    at(tk, 2026, 11, 30, 9, 0)
    assert promise(tk, t["id"], promised_by="2026-12-01").json()["late"] is False
    at(tk, 2026, 12, 2, 9, 0)  # the promised day (Tue 1 Dec) is over
    assert promise(tk, t["id"], promised_by="2026-12-04").json()["late"] is True


def test_bad_promises_name_the_field_and_change_nothing(tk: World) -> None:
    t = tk.create().json()
    at(tk, 2026, 11, 30, 9, 0)
    cases = [({"promised_by": "2026-11-27"}, "promised_by"),  # in the past
             ({"promised_by": "next week"}, "promised_by"),
             ({"promised_by": None}, "promised_by"),
             ({"promised_by": "2028-01-01"}, "promised_by"),  # more than a year out
             ({"note": " "}, "note"),
             ({"note": "Fnr 01017012345 ringte"}, "note")]
    for body, field in cases:
        r = promise(tk, t["id"], **body)
        assert r.status_code == 422, body
        assert r.json()["detail"][0]["loc"] == ["body", field], body
    with tk.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PROMISE)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(TICKET)
                            .where(TICKET.c.kind == "phone_task")).scalar_one() == 0
    assert promise(tk, 999999).status_code == 404
    done = tk.patch(t["id"], t["version"], status="done").json()
    assert promise(tk, done["id"]).json()["detail"][0]["loc"] == ["body", "ticket"]


def test_the_ticket_page_form_records_a_promise_and_keeps_input_on_error(tk: World) -> None:
    t = tk.create().json()
    at(tk, 2026, 11, 30, 9, 0)
    page = tk.client.get(f"/tickets/{t['id']}", headers=tk.auth("a1")).text
    assert '<label for="pr-date">' in page and '<label for="pr-note">' in page
    bad = tk.client.post(f"/tickets/{t['id']}/promise", headers=tk.auth("a1"),
                         data={"promised_by": "2026-11-01", "note": NOTE})
    assert bad.status_code == 422 and "promised_by" in bad.text and NOTE in bad.text
    ok = tk.client.post(f"/tickets/{t['id']}/promise", headers=tk.auth("a1"),
                        data={"promised_by": "2026-12-10", "note": NOTE},
                        follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == f"/tickets/{t['id']}"
    assert [p["by_agent"] for p in get(tk, t["id"])["promises"]] == ["a1"]


def test_a_missed_promise_escalates_once_and_its_mail_has_no_member_data(tk: World) -> None:
    t = tk.create(text=TEXT).json()
    tk.patch(t["id"], t["version"], "a1", owner="a1")
    at(tk, 2026, 12, 1, 9, 0)
    made = promise(tk, t["id"], promised_by="2026-12-04").json()
    task = get(tk, made["phone_task_id"])
    tk.patch(task["id"], task["version"], "a1", status="done")  # the member was told
    # Past the original deadline, but a promise made in time governs: no "overdue" escalation.
    at(tk, 2026, 12, 3, 9, 0)
    tk.patch(t["id"], get(tk, t["id"])["version"], "a1", note="Purret regnskap.")
    assert [c for _, c in run_escalations(tk.engine, now=tk.clock())] == []
    at(tk, 2026, 12, 4, 14, 0)
    tk.patch(t["id"], get(tk, t["id"])["version"], "a1", note="Fortsatt ikke svar.")
    at(tk, 2026, 12, 5, 9, 0)  # Saturday: Friday's promise is broken
    assert run_escalations(tk.engine, now=tk.clock()) == [(t["id"], f"promise:{made['id']}")]
    assert run_escalations(tk.engine, now=tk.clock()) == []
    ticket = get(tk, t["id"])
    assert ticket["promises"][0]["missed_at"] is not None and ticket["escalated_at"] is not None
    with smtp_server() as (url, box):
        send_pending(tk.engine, SmtpSender(url, "sentralbord@union.example"),
                     now=tk.clock(), public_url=PUBLIC)
    (msg,) = box.to("leder@union.example")
    body = Mailbox.text(msg)
    assert f"{PUBLIC}/tickets/{t['id']}" in body and "løftet til medlemmet er brutt" in body
    assert TEXT not in body and NOTE not in body and "regnskap" not in body
    page = tk.client.get(f"/tickets/{t['id']}", headers=tk.auth("a1")).text
    assert 'data-testid="promise-missed"' in page and 'data-testid="ticket-escalated"' in page


def test_an_agent_records_a_late_promise_in_the_browser(tl: Live, new_page: Any) -> None:  # noqa: F811
    janet = signed_in(tl, "janet")
    t = api_create(janet, department="innkreving", category="Kontingent")
    tl.app.state.tickets.clock = lambda: datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # overdue
    page = new_page()
    login(page, tl, "janet")
    page.goto(f"{tl.url}/tickets/{t['id']}")
    page.get_by_label("Ny dato").fill("2026-12-10")
    page.get_by_label("Hva er lovet").fill("Svar fra regnskap innen torsdag.")
    page.get_by_role("button", name="Registrer løfte").click()
    promise_item = page.get_by_test_id("promise")
    assert "innen utgangen av 10.12.2026" in promise_item.inner_text()
    assert page.get_by_test_id("promise-late").is_visible()
    assert "Løftet ble gitt etter fristen" in page.get_by_test_id("ticket-history").inner_text()
    promise_item.get_by_role("link").click()
    assert page.get_by_role("heading", level=1).inner_text().endswith("Ringeoppgave, Løfte")
    assert page.get_by_test_id("ticket-owner").inner_text() == "Janet Olsen"

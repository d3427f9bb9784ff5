"""The ticket pages through the live server: lists by department, due colours, a ticket's page
with its history, take / note / status forms, stale writes refused; and in headless Chromium."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from tests.console.conftest import ORG, Live, csrf_from, http_login, login
from tickets.callbacks import upsert_callback
from tickets.service import TICKET

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Oslo
DEPARTMENTS = """
departments:
  - {id: innkreving, name: Innkreving og kontingent, email: innkreving@union.example,
     deadline: 5 working days, members: [janet]}
  - {id: lonn, name: Lønn og tariff, email: lonn@union.example, deadline: 24 hours}
"""


@pytest.fixture
def tl(live: Live) -> Live:
    """The live server with departments, and the tickets' clock pinned to NOW."""
    text = ORG.replace("strategy: linear, ring_timeout: 20}",
                       "strategy: linear, ring_timeout: 20, department: innkreving}", 1)
    apply_org(live.engine, parse_org_text(text + DEPARTMENTS), now=NOW)
    live.app.state.tickets.clock = lambda: NOW
    return live


def signed_in(tl: Live, agent: str) -> httpx.Client:
    client = httpx.Client(base_url=tl.url, follow_redirects=False, timeout=10)
    assert http_login(client, agent).status_code in (302, 303)
    return client


def api_create(client: httpx.Client, **body: Any) -> dict:
    token = csrf_from(client.get("/tickets").text)
    body.setdefault("text", "Medlemmet spør om kontingenten.")
    r = client.post("/api/tickets", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    return r.json()


def set_due(tl: Live, ticket_id: int, due: datetime) -> None:
    with tl.engine.begin() as conn:
        conn.execute(update(TICKET).where(TICKET.c.id == ticket_id).values(due_at=due))


def rows(html: str) -> list[tuple[str, str]]:
    """(ticket id, urgency) of each list row, in order."""
    return re.findall(r'data-ticket-id="(\d+)" data-urgency="(\w+)"', html)


def test_signed_out_goes_to_login(tl: Live, http: httpx.Client) -> None:
    r = http.get("/tickets")
    assert r.status_code in (302, 303) and r.headers["location"].endswith("/login")


def test_a_departments_member_opens_on_their_department_sorted_by_due(tl: Live) -> None:
    may = signed_in(tl, "may.tove")
    late = api_create(may, department="innkreving", category="Kontingent")
    soon = api_create(may, department="innkreving")
    later = api_create(may, department="innkreving")
    other = api_create(may, department="lonn")
    set_due(tl, late["id"], NOW - timedelta(hours=2))  # overdue: red
    set_due(tl, soon["id"], NOW + timedelta(hours=3))  # in its last working day: amber
    janet = signed_in(tl, "janet")
    listing = janet.get("/tickets")
    assert listing.status_code == 200
    assert "<h1>Saker: Innkreving og kontingent</h1>" in listing.text
    assert rows(listing.text) == [(str(late["id"]), "red"), (str(soon["id"]), "amber"),
                               (str(later["id"]), "ok")]
    assert "2 t over fristen" in listing.text and "3 t igjen" in listing.text
    assert "6 arbeidsdager igjen" in listing.text
    # may.tove is in no department: her list opens on all of them.
    everything = may.get("/tickets").text
    assert str(other["id"]) in [i for i, _ in rows(everything)] and len(rows(everything)) == 4
    assert [i for i, _ in rows(may.get("/tickets?department=lonn").text)] == [str(other["id"])]


def test_a_callback_shows_the_callers_number_and_recording(tl: Live) -> None:
    with tl.engine.begin() as conn:
        upsert_callback(conn, call_sid="CApage1", now=NOW, loop_id="okonomi", agent_id=None,
                        number="+4791234567", progress="voicemail:okonomi",
                        recording_url="https://api.twilio.com/rec/RE1", recording_duration=7)
    html = signed_in(tl, "janet").get("/tickets").text
    # Booleans first, so a failure never prints the page (it holds a caller's number).
    shown = "Tilbakeringing" in html and ">+47 91 23 45 67</a>" in html
    linked = 'href="https://api.twilio.com/rec/RE1"' in html
    due = "innen utgangen av 02.12.2026" in html
    assert shown and linked and due


def _form(html: str) -> tuple[str, str]:
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version is not None
    return csrf_from(html), version.group(1)


def test_take_note_status_and_a_stale_write_on_the_ticket_page(tl: Live) -> None:
    may, janet = signed_in(tl, "may.tove"), signed_in(tl, "janet")
    t = api_create(may, department="innkreving")
    url = f"/tickets/{t['id']}"
    csrf_j, v_j = _form(janet.get(url).text)  # janet opens the page first
    csrf_m, v_m = _form(may.get(url).text)
    r = may.post(url, data={"csrf_token": csrf_m, "version": v_m, "action": "take"})
    assert r.status_code == 303 and r.headers["location"] == url
    stale = janet.post(url, data={"csrf_token": csrf_j, "version": v_j, "action": "note",
                                  "note": "Jeg ringer medlemmet i morgen."})
    assert stale.status_code == 409
    assert "endret av noen andre" in stale.text
    assert "Jeg ringer medlemmet i morgen.</textarea>" in stale.text  # nothing is lost
    assert 'data-testid="ticket-owner">May Tove Hansen<' in stale.text
    csrf_j, v_j = _form(stale.text)
    ok = janet.post(url, data={"csrf_token": csrf_j, "version": v_j, "action": "note",
                               "note": "Jeg ringer medlemmet i morgen."})
    assert ok.status_code == 303
    csrf_j, v_j = _form(janet.get(url).text)
    janet.post(url, data={"csrf_token": csrf_j, "version": v_j, "action": "status",
                          "status": "waiting"})
    html = janet.get(url).text
    kinds = re.findall(r'<li data-kind="(\w+)">', html)
    assert kinds == ["created", "mail_queued", "owner", "note", "status"]
    assert "Status: Åpen → Venter" in html and "Eier: Ingen → May Tove Hansen" in html


def test_a_national_id_in_a_note_is_refused_and_kept_in_the_form(tl: Live) -> None:
    may = signed_in(tl, "may.tove")
    t = api_create(may, department="lonn")
    url = f"/tickets/{t['id']}"
    csrf, version = _form(may.get(url).text)
    r = may.post(url, data={"csrf_token": csrf, "version": version, "action": "note",
                            "note": "fnr 148378 12314"})
    assert r.status_code == 422 and "national ID or KID" in r.text
    assert ">fnr 148378 12314</textarea>" in r.text
    assert 'data-kind="note"' not in r.text


def test_a_form_without_the_csrf_token_is_refused(tl: Live) -> None:
    may = signed_in(tl, "may.tove")
    t = api_create(may, department="lonn")
    r = may.post(f"/tickets/{t['id']}", data={"version": "1", "action": "take"})
    assert r.status_code == 403
    assert 'data-testid="ticket-owner">Ingen<' in may.get(f"/tickets/{t['id']}").text


@pytest.mark.browser
def test_an_agent_works_a_ticket_in_the_browser(tl: Live, new_page: Any) -> None:
    may = signed_in(tl, "may.tove")
    t = api_create(may, department="innkreving", category="Kontingent")
    page, other = new_page(), new_page()
    login(page, tl, "janet")
    login(other, tl, "may.tove")
    other.goto(f"{tl.url}/tickets/{t['id']}")  # may.tove has it open too
    page.get_by_role("link", name="Saker").click()
    page.get_by_role("link", name=f"#{t['id']} Kontingent").click()
    page.get_by_role("button", name="Ta saken").click()
    assert page.get_by_test_id("ticket-owner").inner_text() == "Janet Olsen"
    page.get_by_label("Notat").fill("Sendt ny faktura.")
    page.get_by_role("button", name="Legg til notat").click()
    page.get_by_label("Status").select_option(label="Ferdig")
    page.get_by_role("button", name="Endre status").click()
    assert page.get_by_test_id("ticket-status").inner_text() == "Ferdig"
    history = page.get_by_test_id("ticket-history")
    assert "Sendt ny faktura." in history.inner_text()
    assert "Status: Åpen → Ferdig" in history.inner_text()
    # may.tove's page is out of date: her take is refused and she sees the new version.
    other.get_by_role("button", name="Ta saken").click()
    assert "endret av noen andre" in other.get_by_test_id("ticket-problem").inner_text()
    assert other.get_by_test_id("ticket-owner").inner_text() == "Janet Olsen"
    # Done tickets leave the department's default list.
    page.goto(f"{tl.url}/tickets")
    assert page.get_by_text("Ingen saker her.").is_visible()


def test_the_pages_in_english(tl: Live) -> None:
    may = signed_in(tl, "may.tove")
    t = api_create(may, department="lonn", category="Pay")
    may.cookies.set("sb_lang", "en")
    listing = may.get("/tickets?department=lonn").text
    assert "<h1>Tickets: Lønn og tariff</h1>" in listing and "24 h left" in listing
    ticket = may.get(f"/tickets/{t['id']}").text
    assert ">Take it</button>" in ticket and ">Add note</button>" in ticket
    assert "Created (Lønn og tariff)" in ticket and "Mail queued to lonn@union.example" in ticket

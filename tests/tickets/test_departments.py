"""Departments in the org file, callback tickets on their loop's department list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from switchboard.orgapply import apply_org
from switchboard.orgfile import OrgFileError, parse_org_text
from tests.conftest import PUBLIC
from tests.fakes.smtp_server import Mailbox, smtp_server
from tests.ivr_steps import CALLER, press, status
from tests.tickets.conftest import TICKET_ORG, World
from tests.twilio_harness import new_sid
from tickets.departments import DEPARTMENT
from tickets.mail import SmtpSender, send_pending


def _departments(engine) -> list[dict]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(select(DEPARTMENT).order_by(DEPARTMENT.c.position)).all()
    return [dict(r._mapping) for r in rows]


def test_departments_are_applied_idempotently(tk: World) -> None:
    rows = _departments(tk.engine)
    assert [(d["id"], d["deadline"], d["members"], d["loops"], d["active"]) for d in rows] == [
        ("innkreving", "5 working days", ["a2"], ["ko"], True),
        ("lonn", "24 hours", [], [], True),
    ]
    assert rows[0]["escalation"] == "leder@union.example"
    org = parse_org_text(TICKET_ORG)
    report = apply_org(tk.engine, org, now=tk.clock())
    assert report.changes == 0 and _departments(tk.engine) == rows
    fewer = TICKET_ORG.split("  - id: lonn\n")[0]
    report = apply_org(tk.engine, parse_org_text(fewer), now=tk.clock())
    assert report.removed == 1
    assert [(d["id"], d["active"]) for d in _departments(tk.engine)] == [
        ("innkreving", True), ("lonn", False)]


@pytest.mark.parametrize("old,new,message", [
    ("department: innkreving}", "department: ukjent}",
     'loops[0].department (line 18): department "ukjent" does not exist'),
    ("    members: [a2]", "    members: [a2, ghost]",
     'departments[0].members[1] (line 26): agent "ghost" does not exist'),
    ("    deadline: 24 hours", "    deadline: 2 days",
     'departments[1].deadline (line 30): "2 days" is not a deadline: write "N hours" or '
     '"N working days"'),
    ("    email: lonn@union.example", "    email: lonn",
     "departments[1].email (line 29): is not an e-mail address"),
    ("  - id: lonn\n", "  - id: innkreving\n",
     'departments[1].id (line 27): duplicate department id "innkreving"'),
    ('cutoff: "15:00"', 'cutoff: "3pm"',
     'organisation.working_days.cutoff (line 7): "3pm" is not a time of day'),
    ('country: "NO"', 'country: "XX"',
     'organisation.working_days.country (line 7): "XX" is not a country code'),
    ('country: "NO"', 'country: "DE", subdivision: "ZZ"',
     'organisation.working_days (line 7): "ZZ" is not a subdivision of DE'),
    ("    deadline: 5 working days\n", "",
     "departments[0].deadline (line 21): is required"),
])
def test_bad_departments_are_refused_naming_the_field(old: str, new: str, message: str) -> None:
    text = TICKET_ORG.replace(old, new, 1)
    assert text != TICKET_ORG
    with pytest.raises(OrgFileError) as err:
        parse_org_text(text)
    assert message in err.value.message


def test_brandenburg_working_days_parse() -> None:
    org = parse_org_text(TICKET_ORG.replace('country: "NO"', 'country: "de", subdivision: BB'))
    wd = org.organisation.working_days
    assert (wd.country, wd.subdivision, wd.cutoff, wd.count_day_of_receipt) == (
        "DE", "BB", "15:00", False)


def test_a_missed_call_lands_on_its_loops_department_list(tk: World) -> None:
    sid = new_sid()
    press(tk.tw, sid, "1")  # loop ko -> department innkreving
    tk.clock.advance(30)
    status(tk.tw, sid, "completed")
    listed = tk.client.get("/api/tickets?department=innkreving", headers=tk.auth("a2"))
    (t,) = listed.json()
    assert (t["kind"], t["call_sid"], t["loop_id"], t["status"], t["follow_up"]) == (
        "callback", sid, "ko", "open", "we_call")
    assert t["caller_number"] == CALLER and t["recording_url"] is None
    # Wed 25 Nov 10:00:30 Oslo + 5 working days -> the end of Wed 2 Dec.
    assert t["due_at"] == "2026-12-02T23:00:00+00:00" and t["version"] == 1
    assert tk.client.get("/api/tickets?department=lonn", headers=tk.auth()).json() == []
    # It is a ticket like any other: it can be taken, and its page has a history.
    assert tk.patch(t["id"], 1, agent="a2", owner="a2").status_code == 200
    got = tk.client.get(f"/api/tickets/{t['id']}", headers=tk.auth()).json()
    assert [e["kind"] for e in got["history"]] == ["created", "mail_queued", "owner"]


def test_callback_mail_links_the_ticket_and_carries_no_caller_number(tk: World) -> None:
    sid = new_sid()
    press(tk.tw, sid, "1")
    tk.clock.advance(30)
    status(tk.tw, sid, "completed")
    with smtp_server() as (url, box):
        send_pending(tk.engine, SmtpSender(url, "sb@union.example"), now=tk.clock(),
                     public_url=PUBLIC)
    (msg,) = box.to("innkreving@union.example")
    body = Mailbox.text(msg)
    assert msg["Subject"].startswith("Tilbakeringing #")
    assert f"{PUBLIC}/tickets/" in body and "{PUBLIC_URL}" not in body
    assert CALLER not in body and CALLER[3:] not in body


def test_a_loop_without_department_gives_a_callback_with_no_department(tk: World) -> None:
    sid = new_sid()
    press(tk.tw, sid, "2")  # loop lonn has no department
    tk.clock.advance(30)
    status(tk.tw, sid, "completed")
    (t,) = tk.client.get("/api/tickets", headers=tk.auth()).json()
    assert t["department"] is None and t["due_at"] is None and t["loop_id"] == "lonn"


def test_a_direct_line_voicemail_is_its_agents_ticket_in_their_department(tk: World) -> None:
    from sqlalchemy import update

    from routing.models import Agent
    from tests.ivr_steps import start

    agents = Agent.__table__  # type: ignore[attr-defined]
    with tk.engine.begin() as conn:  # a2 is away: the direct line goes to voicemail
        conn.execute(update(agents).where(agents.c.id == "a2")
                     .values(logged_in=False, logout_reason="holiday"))
    sid = new_sid()
    _, root, _ = start(tk.tw, sid, to="+4722000111")
    assert root.find("Record") is not None
    tk.tw.post(root.find("Record").get("action"),  # type: ignore[union-attr]
               {"CallSid": sid, "RecordingUrl": "https://api.twilio.com/rec/REd",
                "RecordingDuration": "5"})
    status(tk.tw, sid, "completed")
    (t,) = tk.client.get("/api/tickets?owner=a2", headers=tk.auth()).json()
    assert (t["call_sid"], t["agent_id"], t["owner"], t["department"]) == (
        sid, "a2", "a2", "innkreving")
    assert t["recording_url"] == "https://api.twilio.com/rec/REd"
    assert t["due_at"] == "2026-12-02T23:00:00+00:00"


def test_departments_api_lists_where_tickets_can_go(tk: World) -> None:
    r = tk.client.get("/api/departments", headers=tk.auth("a3"))
    assert r.status_code == 200
    assert [(d["id"], d["name"], d["deadline"], d["members"], d["loops"]) for d in r.json()] == [
        ("innkreving", "Innkreving og kontingent", "5 working days", ["a2"], ["ko"]),
        ("lonn", "Lønn og tariff", "24 hours", [], []),
    ]
    assert tk.client.get("/api/departments").status_code == 401

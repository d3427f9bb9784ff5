"""The ticket JSON API: create, list by due date, history, If-Match, validation, member rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from identity.models import CallIdentity
from ivr.models import Call
from switchboard.db import session_scope
from tests.tickets.conftest import World


def _fields(resp) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(d["loc"][-1]) for d in resp.json()["detail"]]


def test_create_gives_201_with_due_date_from_the_department(tk: World) -> None:
    r = tk.create(category="Faktura", follow_up="we_call", confirm_to_agent=True)
    assert r.status_code == 201
    t = r.json()
    assert r.headers["Location"] == f"/api/tickets/{t['id']}" and r.headers["ETag"] == '"1"'
    assert (t["department"], t["category"], t["status"], t["owner"], t["version"]) == (
        "innkreving", "Faktura", "open", None, 1)
    assert (t["kind"], t["follow_up"], t["confirm_to_agent"], t["created_by"]) == (
        "message", "we_call", True, "a1")
    # Wednesday 25 Nov 10:00 Oslo, 5 working days, day of receipt not counted:
    # Thu, Fri, Mon, Tue, Wed -> local midnight ending Wednesday 2 December.
    assert t["due_at"] == "2026-12-02T23:00:00+00:00"
    assert t["time_left"]["urgency"] == "ok" and t["time_left"]["working_days"] == 6
    assert t["member_id"] is None and t["verification_level"] is None


def test_hours_deadline(tk: World) -> None:
    t = tk.create(department="lonn").json()
    assert t["due_at"] == "2026-11-26T09:00:00+00:00"  # 24 clock hours later


def test_list_sorted_by_due_date_and_filtered(tk: World) -> None:
    a = tk.create(department="innkreving").json()  # due 2 Dec
    b = tk.create(department="lonn").json()  # due 26 Nov
    tk.clock.advance(3600)
    c = tk.create(department="lonn").json()  # due 26 Nov, an hour later
    r = tk.client.get("/api/tickets", headers=tk.auth())
    assert r.status_code == 200
    assert [t["id"] for t in r.json()] == [b["id"], c["id"], a["id"]]
    only = tk.client.get("/api/tickets?department=lonn", headers=tk.auth()).json()
    assert [t["id"] for t in only] == [b["id"], c["id"]]
    tk.patch(c["id"], 1, owner="a2")
    mine = tk.client.get("/api/tickets?owner=a2", headers=tk.auth()).json()
    assert [t["id"] for t in mine] == [c["id"]]
    free = tk.client.get("/api/tickets?unassigned=true&department=lonn", headers=tk.auth())
    assert [t["id"] for t in free.json()] == [b["id"]]
    tk.patch(b["id"], 1, status="done")
    assert [t["id"] for t in tk.client.get("/api/tickets?status=done",
                                           headers=tk.auth()).json()] == [b["id"]]
    assert b["id"] not in [t["id"] for t in tk.client.get("/api/tickets",
                                                           headers=tk.auth()).json()]


def test_take_note_and_status_make_one_timeline(tk: World) -> None:
    t = tk.create().json()
    tk.clock.advance(60)
    r = tk.patch(t["id"], 1, agent="a2", owner="a2", status="in_progress")
    assert r.status_code == 200 and r.json()["version"] == 2 and r.headers["ETag"] == '"2"'
    tk.clock.advance(60)
    r = tk.patch(t["id"], 2, agent="a2", note="Ringte medlemmet, venter på svar.",
                 status="waiting")
    assert r.json()["status"] == "waiting" and r.json()["owner"] == "a2"
    got = tk.client.get(f"/api/tickets/{t['id']}", headers=tk.auth("a3"))
    assert got.status_code == 200 and got.headers["ETag"] == '"3"'
    history = [(e["kind"], e["actor"], e["old"], e["new"], e["note"])
               for e in got.json()["history"]]
    assert history == [
        ("created", "a1", None, "innkreving", None),
        ("mail_queued", None, None, "innkreving@union.example",
         f"Ny sak #{t['id']}: Innkreving og kontingent"),
        ("owner", "a2", None, "a2", None),
        ("status", "a2", "open", "in_progress", None),
        ("status", "a2", "in_progress", "waiting", None),
        ("note", "a2", None, None, "Ringte medlemmet, venter på svar."),
    ]


def test_stale_write_is_refused_with_412_and_the_current_ticket(tk: World) -> None:
    t = tk.create().json()
    assert tk.patch(t["id"], 1, agent="a2", owner="a2").status_code == 200
    late = tk.patch(t["id"], 1, agent="a3", owner="a3")
    assert late.status_code == 412
    assert late.json()["current"]["owner"] == "a2" and late.json()["current"]["version"] == 2
    assert late.headers["ETag"] == '"2"'
    now = tk.client.get(f"/api/tickets/{t['id']}", headers=tk.auth()).json()
    assert now["owner"] == "a2" and [e["kind"] for e in now["history"]].count("owner") == 1


def test_patch_without_if_match_is_428(tk: World) -> None:
    t = tk.create().json()
    r = tk.patch(t["id"], None, owner="a1")
    assert r.status_code == 428 and _fields(r) == ["If-Match"]
    assert tk.client.get(f"/api/tickets/{t['id']}", headers=tk.auth()).json()["owner"] is None


def test_letting_go_and_unknown_owner(tk: World) -> None:
    t = tk.create().json()
    tk.patch(t["id"], 1, owner="a1")
    r = tk.patch(t["id"], 2, owner=None)
    assert r.status_code == 200 and r.json()["owner"] is None
    bad = tk.patch(t["id"], 3, owner="nobody")
    assert bad.status_code == 422 and _fields(bad) == ["owner"]


@pytest.mark.parametrize("body,field", [
    ({"department": "nope"}, "department"),
    ({"text": ""}, "text"),
    ({"follow_up": "maybe"}, "follow_up"),
    ({"verification_level": "member_verified"}, "verification_level"),
    ({"call_sid": "CAnosuchcall"}, "call_sid"),
    ({"member_id": 1}, "member_id"),
])
def test_bad_input_names_the_field(tk: World, body: dict, field: str) -> None:
    r = tk.create(**body)
    assert r.status_code == 422 and field in _fields(r)
    assert tk.client.get("/api/tickets", headers=tk.auth()).json() == []


@pytest.mark.parametrize("text", [
    "Fnr 14837812314 ringte", "Ring tilbake om 148378 12314", "KID: 1000010000042",
    "kid 10000100", "fødselsnummer: 148378 12314",
])
def test_national_id_or_kid_in_text_is_refused(tk: World, text: str) -> None:
    r = tk.create(text=text)
    assert r.status_code == 422 and _fields(r) == ["text"]
    assert "national ID or KID" in r.json()["detail"][0]["msg"]
    t = tk.create().json()
    note = tk.patch(t["id"], 1, note=text)
    assert note.status_code == 422 and _fields(note) == ["note"]


def test_phone_numbers_and_dates_in_text_are_fine(tk: World) -> None:
    r = tk.create(text="Ring 22 00 00 00 mellom 10-12 den 03.12.2026, ref. faktura 2026")
    assert r.status_code == 201


def test_status_filter_is_validated(tk: World) -> None:
    r = tk.client.get("/api/tickets?status=closed", headers=tk.auth())
    assert r.status_code == 422 and _fields(r) == ["status"]
    r = tk.client.get("/api/tickets?department=nope", headers=tk.auth())
    assert r.status_code == 422 and _fields(r) == ["department"]


def test_no_token_is_401(tk: World) -> None:
    assert tk.client.get("/api/tickets").status_code == 401
    assert tk.client.post("/api/tickets", json={"department": "lonn", "text": "x"}
                          ).status_code == 401
    bad = {"Authorization": "Bearer sbt_not-a-token"}
    assert tk.client.get("/api/tickets/1", headers=bad).status_code == 401


def test_unknown_ticket_is_404(tk: World) -> None:
    assert tk.client.get("/api/tickets/999", headers=tk.auth()).status_code == 404
    assert tk.patch(999, 1, owner="a1").status_code == 404


def _answered_call(tk: World, sid: str, agent: str, *, member_id: int | None,
                   level: str, step: str = "done") -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    with session_scope(tk.engine) as s:
        s.add(Call(call_sid=sid, from_number="+4791234567", answered_by=agent, started_at=now,
                   stage="connected"))
        s.add(CallIdentity(call_sid=sid, script="member", step=step, member_id=member_id,
                           level=level, updated_at=now))


def test_member_and_level_come_from_the_verified_call(tk: World) -> None:
    _answered_call(tk, "CAverified", "a1", member_id=7, level="member_verified")
    r = tk.create(call_sid="CAverified", member_id=7)
    assert r.status_code == 201
    assert (r.json()["member_id"], r.json()["verification_level"], r.json()["call_sid"]) == (
        7, "member_verified", "CAverified")
    # The same call may give a second ticket, without the member.
    r2 = tk.create(call_sid="CAverified", department="lonn")
    assert r2.status_code == 201 and r2.json()["member_id"] is None
    assert r2.json()["verification_level"] == "member_verified"


@pytest.mark.parametrize("case", ["other_member", "other_agent", "not_done"])
def test_member_is_refused_unless_verified_on_this_agents_call(tk: World, case: str) -> None:
    _answered_call(tk, "CAx", "a1", member_id=7, level="member_verified" if case != "not_done"
                   else "none", step="done" if case != "not_done" else "identify")
    agent = "a2" if case == "other_agent" else "a1"
    r = tk.create(agent=agent, call_sid="CAx", member_id=8 if case == "other_member" else 7)
    assert r.status_code == 422 and _fields(r) == ["member_id"]
    assert r.json()["detail"][0]["msg"] == "the member is not verified on this call by you"


def test_tickets_of_one_call(tk: World) -> None:
    _answered_call(tk, "CAtwo", "a1", member_id=None, level="none", step="idle")
    first = tk.create(call_sid="CAtwo").json()
    second = tk.create(call_sid="CAtwo", department="lonn").json()
    tk.create()
    got = tk.client.get("/api/tickets?call_sid=CAtwo", headers=tk.auth()).json()
    assert sorted(t["id"] for t in got) == sorted([first["id"], second["id"]])
    assert {t["verification_level"] for t in got} == {"none"}

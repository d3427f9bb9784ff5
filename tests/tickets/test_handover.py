"""Absence handover (docs/tickets.md#absence-handover): logout moves open work to the cover,
the cover confirms on the desk, an unconfirmed one escalates, and the agent takes work back."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from switchboard.passwords import set_password
from tests.console.conftest import csrf_from
from tests.tickets.conftest import TICKET_ORG, World, give_tokens
from tests.tickets.test_claims import callback
from tests.twilio_harness import make_app
from tickets.handover import HANDOVER, run_escalations
from tickets.models import OutboxMail

OUTBOX = OutboxMail.__table__  # type: ignore[attr-defined]
COVER_ORG = TICKET_ORG.replace('email: a1@union.example}', 'email: a1@union.example, cover: a2}')
TEXT = "Medlemmet lurer på en faktura fra oktober."


@pytest.fixture
def hw(settings, engine) -> World:  # type: ignore[no-untyped-def]
    tw = make_app(settings, engine, COVER_ORG)
    return World(tw=tw, engine=engine, tokens=give_tokens(engine, ["a1", "a2", "a3"]))


def own(hw: World, agent: str, **body: Any) -> dict:
    """A message ticket the agent wrote and took."""
    t = hw.create(agent, **body).json()
    return hw.patch(t["id"], t["version"], agent, owner=agent).json()


def state(hw: World, agent: str, **body: Any) -> Any:
    return hw.client.post(f"/api/agents/{agent}/state", json=body, headers=hw.auth(agent))


def ticket(hw: World, ticket_id: int) -> dict:
    return hw.client.get(f"/api/tickets/{ticket_id}", headers=hw.auth("a1")).json()


def mails(hw: World) -> list[Any]:
    with hw.engine.connect() as conn:
        return list(conn.execute(select(OUTBOX).order_by(OUTBOX.c.id)))


def test_logout_moves_every_open_item_to_the_cover_and_writes_the_note(hw: World) -> None:
    message = own(hw, "a1")
    waiting = own(hw, "a1", department="lonn")
    hw.patch(waiting["id"], waiting["version"], "a1", status="waiting")
    cb = callback(hw.engine, hw.clock(), number="+4791234567")
    assert hw.client.post(f"/api/tickets/{cb}/claim", headers=hw.auth("a1")).status_code == 200
    finished = own(hw, "a1")
    hw.patch(finished["id"], finished["version"], "a1", status="done")
    others = own(hw, "a3")
    before = len(mails(hw))

    r = state(hw, "a1", logout_reason="holiday", back_on="2026-12-07")
    assert r.status_code == 200, r.text

    moved = {message["id"], waiting["id"], cb}
    for tid in moved:
        t = ticket(hw, tid)
        assert t["owner"] == "a2", tid
        assert [(e["old"], e["new"]) for e in t["history"] if e["kind"] == "handover"] == [
            ("a1", "a2")]
    assert ticket(hw, waiting["id"])["status"] == "waiting"  # the work's state goes with it
    assert ticket(hw, finished["id"])["owner"] == "a1"  # done work stays
    assert ticket(hw, others["id"])["owner"] == "a3"
    with hw.engine.connect() as conn:
        note = conn.execute(select(HANDOVER)).one()
    assert (note.from_agent, note.to_agent, note.reason, note.confirmed_at) == (
        "a1", "a2", "holiday", None)
    assert {(i["id"], i["kind"]) for i in note.items} == {
        (message["id"], "message"), (waiting["id"], "message"), (cb, "callback")}
    new = mails(hw)[before:]
    assert [m.to_addr for m in new] == ["a2@union.example"]
    assert all(f"/tickets/{tid}" in new[0].body for tid in moved)
    assert TEXT not in new[0].body and "91234567" not in new[0].body
    incoming = hw.client.get("/api/handovers", headers=hw.auth("a2")).json()["incoming"]
    assert [h["id"] for h in incoming] == [note.id]


def test_a_cover_chosen_at_logout_wins_and_a_bad_one_changes_nothing(hw: World) -> None:
    t = own(hw, "a1")
    bad = state(hw, "a1", logout_reason="sick", cover="nobody")
    assert bad.status_code == 422 and "cover" in bad.json()["detail"]
    assert state(hw, "a1", logout_reason="sick", cover="a1").status_code == 422
    assert ticket(hw, t["id"])["owner"] == "a1"
    assert state(hw, "a1", logout_reason="training", cover="a3").status_code == 200
    assert ticket(hw, t["id"])["owner"] == "a3"


def test_with_no_cover_the_work_goes_back_to_the_departments_list(hw: World) -> None:
    t = own(hw, "a2")  # a2 has no cover in the file
    cb = callback(hw.engine, hw.clock())
    hw.client.post(f"/api/tickets/{cb}/claim", headers=hw.auth("a2"))
    before = len(mails(hw))
    assert state(hw, "a2", logout_reason="leave").status_code == 200
    assert ticket(hw, t["id"])["owner"] is None
    claimed = ticket(hw, cb)
    assert (claimed["owner"], claimed["status"]) == (None, "open")  # claimable again
    assert [m.to_addr for m in mails(hw)[before:]] == ["innkreving@union.example"]
    # Anyone may claim it now.
    assert hw.client.post(f"/api/tickets/{cb}/claim", headers=hw.auth("a3")).status_code == 200


def test_an_unconfirmed_handover_escalates_after_its_time_and_once(hw: World) -> None:
    t = own(hw, "a1")
    state(hw, "a1", logout_reason="holiday")
    assert run_escalations(hw.engine, now=hw.clock()) == []
    hw.clock.advance(23 * 3600)
    assert run_escalations(hw.engine, now=hw.clock()) == []  # 24 hours by default
    hw.clock.advance(2 * 3600)
    before = len(mails(hw))
    with hw.engine.connect() as conn:
        hid = conn.execute(select(HANDOVER.c.id)).scalar_one()
    assert run_escalations(hw.engine, now=hw.clock()) == [hid]
    sent = mails(hw)[before:]
    assert [m.to_addr for m in sent] == ["leder@union.example"]
    assert f"/tickets/{t['id']}" in sent[0].body and TEXT not in sent[0].body
    assert "handover_escalated" in [e["kind"] for e in ticket(hw, t["id"])["history"]]
    incoming = hw.client.get("/api/handovers", headers=hw.auth("a2")).json()["incoming"]
    assert incoming[0]["escalated_at"] is not None
    hw.clock.advance(3600)
    assert run_escalations(hw.engine, now=hw.clock()) == []  # marked: never mailed twice


def test_a_confirmed_handover_does_not_escalate(hw: World) -> None:
    own(hw, "a1")
    state(hw, "a1", logout_reason="holiday")
    with hw.engine.connect() as conn:
        hid = conn.execute(select(HANDOVER.c.id)).scalar_one()
    assert hw.client.post(f"/api/handovers/{hid}/confirm",
                          headers=hw.auth("a3")).status_code == 403
    assert hw.client.post(f"/api/handovers/{hid}/confirm",
                          headers=hw.auth("a2")).status_code == 200
    hw.clock.advance(48 * 3600)
    assert run_escalations(hw.engine, now=hw.clock()) == []
    assert hw.client.get("/api/handovers", headers=hw.auth("a2")).json()["incoming"] == []


def test_back_again_the_agent_takes_items_back_one_or_all(hw: World) -> None:
    first, second, third = own(hw, "a1"), own(hw, "a1"), own(hw, "a1")
    state(hw, "a1", logout_reason="holiday")
    t3 = ticket(hw, third["id"])
    hw.patch(third["id"], t3["version"], "a2", status="done")  # the cover finished one
    assert state(hw, "a1", logged_in=True).status_code == 200
    mine = hw.client.get("/api/handovers", headers=hw.auth("a1")).json()["mine"]
    assert len(mine) == 1
    assert {i["id"] for i in mine[0]["waiting"]} == {first["id"], second["id"]}
    hid = mine[0]["id"]
    assert hw.client.post(f"/api/handovers/{hid}/take-back", json={},
                          headers=hw.auth("a2")).status_code == 403
    one = hw.client.post(f"/api/handovers/{hid}/take-back", json={"ticket_id": first["id"]},
                         headers=hw.auth("a1")).json()
    assert one["taken"] == [first["id"]]
    assert ticket(hw, first["id"])["owner"] == "a1"
    assert ticket(hw, second["id"])["owner"] == "a2"
    rest = hw.client.post(f"/api/handovers/{hid}/take-back", json={},
                          headers=hw.auth("a1")).json()
    assert rest["taken"] == [second["id"]]
    assert ticket(hw, second["id"])["owner"] == "a1"
    assert ticket(hw, third["id"])["owner"] == "a2"  # done by the cover: stays
    assert hw.client.get("/api/handovers", headers=hw.auth("a1")).json()["mine"] == []


def test_the_desk_panel_confirms_and_takes_back(hw: World) -> None:
    t = own(hw, "a1")
    for agent in ("a1", "a2"):
        set_password(hw.engine, agent, "handover-pass-1", now=hw.clock())
    state(hw, "a1", logout_reason="holiday")
    # Session cookies are Secure when PUBLIC_URL is https: sign in over https.
    c = TestClient(hw.client.app, base_url="https://testserver")
    token = csrf_from(c.get("/login").text)
    c.post("/login", data={"username": "a2", "password": "handover-pass-1",
                           "csrf_token": token})
    desk = c.get("/desk").text
    assert 'hx-get="/handover/panel"' in desk
    panel = c.get("/handover/panel").text
    assert "Agent En har overlevert 1 saker til deg" in panel and "Bekreft mottak" in panel
    assert f'href="/tickets/{t["id"]}"' in panel and TEXT not in panel
    hid = int(panel.split('action="/handover/')[1].split("/")[0])
    done = c.post(f"/handover/{hid}/confirm", data={"csrf_token": csrf_from(desk)},
                  follow_redirects=False)
    assert done.status_code == 303
    assert "Bekreft mottak" not in c.get("/handover/panel").text
    with hw.engine.connect() as conn:
        assert conn.execute(select(HANDOVER.c.confirmed_at)).scalar_one() is not None
    # Back again: a1 sees what went, and takes it all back with one button.
    state(hw, "a1", logged_in=True)
    back = TestClient(hw.client.app, base_url="https://testserver")
    back.post("/login", data={"username": "a1", "password": "handover-pass-1",
                              "csrf_token": csrf_from(back.get("/login").text)})
    mine = back.get("/handover/panel").text
    assert "Overlevert mens du var borte" in mine and f"Ta tilbake sak #{t['id']}" in mine
    took = back.post(f"/handover/{hid}/take-back",
                     data={"csrf_token": csrf_from(back.get("/desk").text)},
                     follow_redirects=False)
    assert took.status_code == 303
    assert ticket(hw, t["id"])["owner"] == "a1"
    assert "Ta tilbake" not in back.get("/handover/panel").text


def test_a_logout_by_the_admin_api_or_the_org_file_hands_the_work_over_too(hw: World) -> None:
    from switchboard.orgapply import apply_org
    from switchboard.orgfile import parse_org_text

    admin = {"Authorization": "Bearer test-admin-token"}
    message = own(hw, "a1")
    r = hw.client.get("/api/admin/agents/a1", headers=admin)
    put = hw.client.put("/api/admin/agents/a1", headers=admin | {"If-Match": r.headers["ETag"]},
                        json=r.json() | {"logged_in": False, "logout_reason": "sick"})
    assert put.status_code == 200, put.text
    assert ticket(hw, message["id"])["owner"] == "a2"  # a1's cover in the org file
    with hw.engine.connect() as conn:
        assert conn.execute(select(HANDOVER.c.from_agent, HANDOVER.c.reason)).all() == [
            ("a1", "sick")]

    second = own(hw, "a3")
    edited = COVER_ORG.replace('{id: a3, name: Agent Tre, phone: "+4790000103"}',
                               '{id: a3, name: Agent Tre, phone: "+4790000103", '
                               'logged_in: false, logout_reason: training}')
    assert edited != COVER_ORG
    apply_org(hw.engine, parse_org_text(edited), now=hw.clock())
    assert ticket(hw, second["id"])["owner"] is None  # no cover: back on the department's list
    apply_org(hw.engine, parse_org_text(edited), now=hw.clock())  # re-applied: nothing new
    with hw.engine.connect() as conn:
        assert [r.from_agent for r in conn.execute(select(HANDOVER))] == ["a1", "a3"]

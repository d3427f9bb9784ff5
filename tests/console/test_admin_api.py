"""The admin API: ETags and If-Match, validation as the org file's, audit, who may call it, and
that a change takes effect for the next call."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from routing.models import Loop
from switchboard.orgfile import parse_org_text
from tests.console.admin_helpers import ADMIN, World, make_world
from tests.ivr_steps import press, rung
from tests.twilio_harness import new_sid


@pytest.fixture
def w(settings: Any, engine: Any) -> World:
    return make_world(settings, engine)


def get(w: World, path: str) -> tuple[dict[str, Any], str]:
    r = w.client.get(path, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json(), r.headers["ETag"]


def put(w: World, path: str, body: dict[str, Any], etag: str | None) -> Any:
    headers = dict(ADMIN) | ({"If-Match": etag} if etag else {})
    return w.client.put(path, json=body, headers=headers)


def test_an_agent_gets_403_and_nobody_401(w: World) -> None:
    agent = w.agent_headers("janet")
    for method, path in (("get", "/api/admin/loops/okonomi"), ("get", "/api/admin/agents"),
                         ("put", "/api/admin/loops/okonomi"), ("get", "/api/admin/audit"),
                         ("post", "/api/admin/loops/okonomi/members"),
                         ("get", "/api/admin/org.yaml")):
        kwargs: dict[str, Any] = {"json": {"agent_id": "janet"}} if method != "get" else {}
        assert getattr(w.client, method)(path, headers=agent, **kwargs).status_code == 403
        assert getattr(w.client, method)(path, **kwargs).status_code == 401
    assert w.audit() == []


def test_get_put_with_etag_and_if_match(w: World) -> None:
    loop, etag = get(w, "/api/admin/loops/okonomi")
    assert loop["members"][:2] == ["may.tove", "janet"] and loop["ring_timeout"] == 20
    changed = loop | {"ring_timeout": 30, "wrap_up": 5}
    assert put(w, "/api/admin/loops/okonomi", changed, None).status_code == 428
    r = put(w, "/api/admin/loops/okonomi", changed, etag)
    assert r.status_code == 200, r.text
    assert r.json()["ring_timeout"] == 30 and r.headers["ETag"] != etag
    again, etag2 = get(w, "/api/admin/loops/okonomi")
    assert again == r.json() and etag2 == r.headers["ETag"]
    # The old ETag is stale now: 412 with the current version, and nothing changes.
    stale = put(w, "/api/admin/loops/okonomi", loop | {"ring_timeout": 40}, etag)
    assert stale.status_code == 412
    assert stale.json()["current"] == again and stale.json()["etag"] == etag2
    assert get(w, "/api/admin/loops/okonomi")[0]["ring_timeout"] == 30
    assert w.client.get("/api/admin/loops/nope", headers=ADMIN).status_code == 404


def test_validation_errors_name_the_field_as_the_org_file_does(w: World) -> None:
    loop, etag = get(w, "/api/admin/loops/okonomi")
    cases = [
        (loop | {"ring_timeout": 2}, "loops[0].ring_timeout"),
        (loop | {"overflow": "nowhere"}, "loops[0].overflow"),
        (loop | {"members": ["may.tove", "ghost"]}, "loops[0].members[1]"),
        (loop | {"strategy": "loudest"}, "loops[0].strategy"),
        (loop | {"colour": "red"}, "loops[0].colour"),
    ]
    for body, field in cases:
        r = put(w, "/api/admin/loops/okonomi", body, etag)
        assert r.status_code == 422, (field, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
        assert r.json()["detail"].startswith(field)
    # The org file names the same fields for the same mistakes.
    agent, a_etag = get(w, "/api/admin/agents/janet")
    r = put(w, "/api/admin/agents/janet", agent | {"phone": "+47 900"}, a_etag)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "agents[1].phone"
    assert "E.164" in r.json()["errors"][0]["message"]
    # A loop overflowing into itself: the cycle check of the org file.
    r = put(w, "/api/admin/loops/andre", get(w, "/api/admin/loops/andre")[0]
             | {"overflow": "okonomi"}, get(w, "/api/admin/loops/andre")[1])
    assert r.status_code == 422 and "overflow cycle" in r.json()["detail"]
    assert w.audit() == []  # nothing refused was applied or audited
    assert get(w, "/api/admin/loops/okonomi") == (loop, etag)


def test_two_concurrent_edits_of_one_loop_lose_nothing(w: World) -> None:
    loop, etag = get(w, "/api/admin/loops/okonomi")
    edits = {"a": loop | {"ring_timeout": 25}, "b": loop | {"max_wait": 300}}
    results: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        barrier.wait()
        results[name] = put(w, "/api/admin/loops/okonomi", edits[name], etag)

    threads = [threading.Thread(target=run, args=(n,)) for n in edits]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 412]
    winner = next(n for n, r in results.items() if r.status_code == 200)
    loser = next(n for n, r in results.items() if r.status_code == 412)
    current = results[loser].json()["current"]
    assert current == results[winner].json()  # the loser sees the winner's change
    # The loser re-applies their change on top of the current version: both changes stay.
    mine = {k: v for k, v in edits[loser].items() if loop.get(k) != v}
    r = put(w, "/api/admin/loops/okonomi", current | mine, results[loser].json()["etag"])
    assert r.status_code == 200
    final = get(w, "/api/admin/loops/okonomi")[0]
    assert (final["ring_timeout"], final["max_wait"]) == (25, 300)
    updates = w.audit(kind="loop", object_id="okonomi")
    assert [u.action for u in updates] == ["update", "update"]
    assert updates[1].before == updates[0].after  # a chain: no change skipped


def test_audit_rows_have_who_before_and_after(w: World) -> None:
    loop, etag = get(w, "/api/admin/loops/okonomi")
    put(w, "/api/admin/loops/okonomi", loop | {"wrap_up": 42}, etag)
    (row,) = w.audit()
    assert (row.who, row.kind, row.object_id, row.action) == ("admin-token", "loop",
                                                              "okonomi", "update")
    assert row.before == loop and row.after == loop | {"wrap_up": 42}
    listed = w.client.get("/api/admin/audit", params={"kind": "loop"}, headers=ADMIN).json()
    assert listed[0]["after"]["wrap_up"] == 42 and listed[0]["who"] == "admin-token"
    assert w.client.get("/api/admin/audit", params={"who": "janet"}, headers=ADMIN).json() == []
    day = w.tw.clock().date().isoformat()
    assert len(w.client.get("/api/admin/audit", params={"since": day, "until": day},
                            headers=ADMIN).json()) == 1
    assert w.client.get("/api/admin/audit", params={"until": "2020-01-01"},
                        headers=ADMIN).json() == []


def test_members_added_and_removed_ring_on_the_next_call(w: World) -> None:
    before = rung(press(w.tw, new_sid(), "3")[0])  # andre: round robin, one at a time
    assert before and "ingrid.berg" not in before
    loop, _ = get(w, "/api/admin/loops/andre")
    for agent in loop["members"]:
        r = w.client.delete(f"/api/admin/loops/andre/members/{agent}", headers=ADMIN)
        assert r.status_code == 200, r.text
    r = w.client.post("/api/admin/loops/andre/members", json={"agent_id": "ingrid.berg"},
                      headers=ADMIN)
    assert r.status_code == 200 and r.json()["members"] == ["ingrid.berg"]
    assert rung(press(w.tw, new_sid(), "3")[0]) == ["ingrid.berg"]
    bad = w.client.post("/api/admin/loops/andre/members", json={"agent_id": "ghost"},
                        headers=ADMIN)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "loops[2].members[1]"
    assert w.client.delete("/api/admin/loops/andre/members/ghost",
                           headers=ADMIN).status_code == 404
    actions = [r.action for r in w.audit(kind="loop", object_id="andre")]
    assert actions == ["member_remove"] * 3 + ["member_add"]


def test_create_and_delete_agents_and_loops(w: World) -> None:
    r = w.client.post("/api/admin/agents", headers=ADMIN, json={
        "id": "ny.agent", "name": "Ny Agent", "phone": "+4790000099", "roles": ["okonomi"]})
    assert r.status_code == 201, r.text
    assert r.json()["logged_in"] is True and r.json()["access"] == "agent"
    dup = w.client.post("/api/admin/agents", headers=ADMIN,
                        json={"id": "ny.agent", "name": "X", "phone": "+4790000098"})
    assert dup.status_code == 422
    r = w.client.post("/api/admin/loops", headers=ADMIN, json={
        "id": "ny", "name": "Ny kø", "members": ["ny.agent"], "overflow": "andre"})
    assert r.status_code == 201 and r.json()["strategy"] == "ringall"
    # A loop that a menu digit names cannot go: the org file's check says which digit.
    assert w.client.delete("/api/admin/loops/okonomi", headers=ADMIN).json()["errors"][0][
        "field"] == 'menu."1"'
    assert w.client.delete("/api/admin/agents/ny.agent", headers=ADMIN).status_code == 204
    assert get(w, "/api/admin/loops/ny")[0]["members"] == []  # removed from loops with them
    assert w.client.delete("/api/admin/loops/ny", headers=ADMIN).status_code == 204
    assert w.client.get("/api/admin/agents/ny.agent", headers=ADMIN).status_code == 404
    with w.engine.connect() as conn:
        assert conn.execute(select(Loop.active).where(Loop.id == "ny")).scalar() is False
    kinds = [(r.kind, r.action) for r in w.audit()]
    assert kinds == [("agent", "create"), ("loop", "create"), ("agent", "delete"),
                     ("loop", "delete")]


def test_sections_numbers_menu_and_hours(w: World) -> None:
    hours, etag = get(w, "/api/admin/hours")
    assert hours["special_hours"] == {"2026-12-23": "08:00-12:00"}
    hours["special_hours"]["2026-12-24"] = "08:00-12:00"  # julaften until noon
    hours["closed_days"] = [d for d in hours["closed_days"] if d != "2026-12-24"]
    r = put(w, "/api/admin/hours", hours, etag)
    assert r.status_code == 200, r.text
    bad = put(w, "/api/admin/hours", hours | {"special_hours": {"2026-12-27": "12:00-08:00"}},
              r.headers["ETag"])
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == 'organisation.special_hours."2026-12-27"'
    menu, m_etag = get(w, "/api/admin/menu")
    menu["menu"]["4"] = "lonn"
    assert put(w, "/api/admin/menu", menu, m_etag).status_code == 200
    numbers, n_etag = get(w, "/api/admin/numbers")
    numbers["numbers"].append({"number": "+4722000222", "kind": "direct", "agent": "janet"})
    assert put(w, "/api/admin/numbers", numbers, n_etag).status_code == 200
    org = w.client.get("/api/admin/org.yaml", headers=ADMIN)
    assert org.status_code == 200 and "attachment" in org.headers["content-disposition"]
    parsed = parse_org_text(org.text, "/srv/org.yaml", default_timezone="Europe/Oslo")
    assert parsed.menu["4"] == "lonn"
    assert str(next(iter(sorted(parsed.organisation.special_hours)))) == "2026-12-23"
    assert any(n.number == "+4722000222" and n.agent == "janet" for n in parsed.numbers)


def test_an_org_edited_through_the_api_round_trips(w: World) -> None:
    from switchboard.orgapply import apply_org
    from switchboard.orgexport import export_text

    loop, etag = get(w, "/api/admin/loops/lonn")
    put(w, "/api/admin/loops/lonn", loop | {"members": ["anna.lie"], "name_en": "Pay",
                                            "service_level_seconds": 45}, etag)
    w.client.post("/api/admin/agents", headers=ADMIN, json={
        "id": "ny", "name": "Ny Person", "phone": "+4790000077", "access": "admin",
        "calendar": {"source": "graph", "mailbox": "ny@example.org"}})
    hours, h_etag = get(w, "/api/admin/hours")
    put(w, "/api/admin/hours", hours | {"special_hours": {"2026-12-24": "08:00-12:00"}}, h_etag)
    exported = w.client.get("/api/admin/org.yaml", headers=ADMIN).text
    assert exported == export_text(w.engine)
    report = apply_org(w.engine, parse_org_text(exported, "/srv/org.yaml",
                                                default_timezone="Europe/Oslo"),
                       now=w.tw.clock())
    assert report.changes == 0
    assert export_text(w.engine) == exported
    assert get(w, "/api/admin/loops/lonn")[0]["service_level_seconds"] == 45


def test_departments_with_deadlines(w: World) -> None:
    r = w.client.post("/api/admin/departments", headers=ADMIN, json={
        "id": "juridisk", "name": "Juridisk", "email": "juridisk@example.org",
        "deadline": "5 working days", "members": ["janet"]})
    assert r.status_code == 201, r.text
    bad = w.client.put("/api/admin/departments/juridisk", headers=ADMIN | {
        "If-Match": r.headers["ETag"]}, json=r.json() | {"deadline": "soon"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "departments[3].deadline"  # after the demo's three
    loop, etag = get(w, "/api/admin/loops/okonomi")
    assert put(w, "/api/admin/loops/okonomi", loop | {"department": "juridisk"},
               etag).status_code == 200
    assert get(w, "/api/admin/loops/okonomi")[0]["department"] == "juridisk"
    ok = w.client.put("/api/admin/departments/juridisk", headers=ADMIN | {
        "If-Match": r.headers["ETag"]}, json=r.json() | {"deadline": "4 hours"})
    assert ok.status_code == 200 and ok.json()["deadline"] == "4 hours"
    # A loop still names it: the org file's check refuses the removal, naming the loop.
    refused = w.client.delete("/api/admin/departments/juridisk", headers=ADMIN)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "loops[0].department"


def test_special_hours_take_effect_for_the_next_call(w: World) -> None:
    from tests.ivr_steps import start

    _, _, stage = start(w.tw, new_sid())
    assert stage != "closed"  # Wednesday 10:00 in Oslo: open
    hours, etag = get(w, "/api/admin/hours")
    today = w.tw.clock().date().isoformat()
    r = put(w, "/api/admin/hours", hours | {"special_hours": {today: "08:00-09:30"}}, etag)
    assert r.status_code == 200
    _, _, stage = start(w.tw, new_sid())
    assert stage == "closed"

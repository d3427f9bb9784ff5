"""Agents' own status: POST /api/agents/{id}/state, presence, audit, routing, return dates."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest

from console.agent_state import back_on_job, due_back, on_sign_in, run_back_on
from routing.hours import OpeningHours
from tests.console.admin_helpers import ADMIN, World, make_world
from tests.ivr_steps import press, rung, start, status
from tests.twilio_harness import new_sid

OSLO = "Europe/Oslo"
HOURS = OpeningHours.from_config(
    {"opening_hours": {d: "08:00-15:30" for d in ("mon", "tue", "wed", "thu", "fri")},
     "holidays": "NO"}, OSLO)


@pytest.fixture
def w(settings: Any, engine: Any) -> World:
    return make_world(settings, engine)


def presence_of(w: World, agent_id: str) -> dict[str, Any]:
    items = w.client.get("/api/presence", headers=ADMIN).json()
    return next(p for p in items if p["id"] == agent_id)


def loop_call_rings(w: World, digit: str = "1") -> list[str]:
    """Who a new call to the menu digit's loop rings (the call then ends, freeing them)."""
    sid = new_sid()
    who = rung(press(w.tw, sid, digit)[0])
    assert status(w.tw, sid, "completed") == 200
    return who


def post_state(w: World, agent_id: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return w.client.post(f"/api/agents/{agent_id}/state", json=body, headers=headers)


def test_an_agent_logs_out_for_holiday_and_everyone_sees_it(w: World) -> None:
    janet = w.agent_headers("janet")
    r = post_state(w, "janet", {"logged_in": False, "logout_reason": "holiday",
                                "back_on": "2026-12-07"}, janet)
    assert r.status_code == 200, r.text
    seen = presence_of(w, "janet")
    assert seen["state"] == "logged_out" and not seen["offerable"]
    assert (seen["logout_reason"], seen["back_on"]) == ("holiday", "2026-12-07")
    assert presence_of(w, "may.tove")["logout_reason"] is None  # the keys are there for all
    (row,) = w.audit(kind="agent_state")
    assert (row.who, row.object_id, row.action) == ("janet", "janet", "state")
    assert row.before["logged_in"] is True and row.after["logout_reason"] == "holiday"
    # She is not rung for loop calls any more.
    assert "janet" not in loop_call_rings(w)


def test_who_may_change_whose_state(w: World) -> None:
    janet = w.agent_headers("janet")
    assert post_state(w, "may.tove", {"logged_in": False}, janet).status_code == 403
    assert post_state(w, "may.tove", {"logged_in": False}, {}).status_code == 401
    r = post_state(w, "may.tove", {"routing_stop": True, "stop_reason": "opplæring"}, ADMIN)
    assert r.status_code == 200
    seen = presence_of(w, "may.tove")
    assert seen["state"] == "routing_stop" and seen["stop_reason"] == "opplæring"
    assert w.agent_row("may.tove").logged_in is True
    assert [a.who for a in w.audit()] == ["admin-token"]
    assert post_state(w, "ghost", {"logged_in": False}, ADMIN).status_code == 404


def test_bad_input_names_the_field_and_changes_nothing(w: World) -> None:
    janet = w.agent_headers("janet")
    cases = [({"logout_reason": "vacation"}, "logout_reason"),
             ({"logged_in": False, "back_on": "2026-11-01"}, "back_on"),
             ({"logged_in": True, "logout_reason": "sick"}, "logout_reason"),
             ({"back_on": "2026-12-01"}, "back_on"),
             ({"stop_reason": "x"}, "stop_reason"),
             ({"mood": "happy"}, "mood"),
             ({"back_on": "31.12.2026"}, "back_on")]
    for body, field in cases:
        r = post_state(w, "janet", body, janet)
        assert r.status_code == 422 and r.json()["detail"].startswith(field), (body, r.text)
    assert w.audit() == [] and w.agent_row("janet").logged_in is True


def test_a_routing_stop_skips_loop_calls_but_the_direct_line_rings(w: World) -> None:
    assert "may.tove" in loop_call_rings(w)  # okonomi: ringall
    post_state(w, "may.tove", {"routing_stop": True, "stop_reason": "admin"}, ADMIN)
    assert "may.tove" not in loop_call_rings(w)
    sid = new_sid()
    _, direct, _ = start(w.tw, sid, to="+4722000111")
    assert rung(direct) == ["may.tove"]
    assert status(w.tw, sid, "completed") == 200
    post_state(w, "may.tove", {"routing_stop": False}, ADMIN)
    assert presence_of(w, "may.tove")["stop_reason"] is None
    assert "may.tove" in loop_call_rings(w)


@pytest.mark.parametrize(("now", "back_on", "due"), [
    # Monday 7 December 2026, 07:59 Oslo: the date has come, the lines are not open yet.
    (datetime(2026, 12, 7, 6, 59, tzinfo=UTC), date(2026, 12, 7), False),
    (datetime(2026, 12, 7, 7, 0, tzinfo=UTC), date(2026, 12, 7), True),  # 08:00: open
    (datetime(2026, 12, 4, 9, 0, tzinfo=UTC), date(2026, 12, 7), False),  # the Friday before
    # Back on a Saturday: closed all weekend, so at Monday's opening.
    (datetime(2026, 12, 5, 9, 0, tzinfo=UTC), date(2026, 12, 5), False),
    (datetime(2026, 12, 7, 7, 0, tzinfo=UTC), date(2026, 12, 5), True),
    # A public holiday (Christmas Day) is not opening hours either.
    (datetime(2026, 12, 25, 9, 0, tzinfo=UTC), date(2026, 12, 25), False),
])
def test_due_back_waits_for_the_date_and_the_opening(now: datetime, back_on: date,
                                                     due: bool) -> None:
    agents = [("janet", False, back_on), ("anne", True, None), ("per", False, None)]
    assert due_back(agents, now=now, hours=HOURS, tz=OSLO) == (["janet"] if due else [])


def test_due_back_without_opening_hours_is_local_midnight() -> None:
    agents = [("janet", False, date(2026, 12, 7))]
    # 23:30 UTC on the 6th is 00:30 on the 7th in Oslo.
    assert due_back(agents, now=datetime(2026, 12, 6, 23, 30, tzinfo=UTC), hours=None,
                    tz=OSLO) == ["janet"]
    assert due_back(agents, now=datetime(2026, 12, 6, 22, 30, tzinfo=UTC), hours=None,
                    tz=OSLO) == []


def test_back_on_the_return_date_with_the_injected_clock(w: World) -> None:
    janet = w.agent_headers("janet")
    post_state(w, "janet", {"logout_reason": "holiday", "back_on": "2026-11-30"}, janet)
    assert w.agent_row("janet").logged_in is False  # a reason alone logs out
    snap = w.client.app.state.flow.cache.get()  # type: ignore[attr-defined]
    w.tw.clock.now = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)  # Monday 07:30: still closed
    assert run_back_on(w.engine, now=w.tw.clock(), hours=snap.hours, tz=snap.timezone) == []
    w.tw.clock.now = datetime(2026, 11, 30, 7, 0, 30, tzinfo=UTC)  # 08:00:30
    assert run_back_on(w.engine, now=w.tw.clock(), hours=snap.hours, tz=snap.timezone) \
        == ["janet"]
    row = w.agent_row("janet")
    assert (row.logged_in, row.logout_reason, row.back_on) == (True, None, None)
    assert w.audit(action="back_on")[0].who == "system"
    assert "janet" in loop_call_rings(w)


def test_the_job_runs_with_the_apps_clock(w: World) -> None:
    post_state(w, "janet", {"logout_reason": "sick", "back_on": "2026-11-26"},
               w.agent_headers("janet"))
    assert any(job is not None for job in w.client.app.state.jobs)  # type: ignore[attr-defined]
    w.tw.clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    flow = w.client.app.state.flow  # type: ignore[attr-defined]
    job = back_on_job(w.engine, flow.cache, lambda: w.tw.clock(), every=3600)

    async def one_pass() -> None:
        task = asyncio.create_task(job())
        for _ in range(200):
            if w.agent_row("janet").logged_in:
                break
            await asyncio.sleep(0.01)
        task.cancel()

    # In a thread of its own: Playwright's sync API may hold this thread's event loop.
    runner = threading.Thread(target=lambda: asyncio.run(one_pass()))
    runner.start()
    runner.join(30)
    assert w.agent_row("janet").logged_in is True


def test_signing_in_again_ends_a_logout_with_a_return_date(w: World) -> None:
    post_state(w, "janet", {"logout_reason": "leave", "back_on": "2027-01-04"},
               w.agent_headers("janet"))
    post_state(w, "per.olsen", {"logout_reason": "sick"}, ADMIN)
    now = w.tw.clock()
    assert on_sign_in(w.engine, "janet", now=now) is True
    assert on_sign_in(w.engine, "per.olsen", now=now) is False  # an admin's logout stays
    assert w.agent_row("janet").logged_in is True and w.agent_row("per.olsen").logged_in is False
    assert w.audit(action="sign_in")[0].who == "janet"


def test_the_org_files_word_replaces_a_dated_logout(w: World) -> None:
    from switchboard.orgapply import apply_org
    from switchboard.orgfile import parse_org_text
    from tests.twilio_harness import EXAMPLE_ORG

    post_state(w, "janet", {"logout_reason": "holiday", "back_on": "2026-12-07"}, ADMIN)
    text = EXAMPLE_ORG.read_text(encoding="utf-8").replace(
        "    roles: [okonomi, sentralbord]",
        "    roles: [okonomi, sentralbord]\n    logged_in: false\n    logout_reason: sick")
    apply_org(w.engine, parse_org_text(text, str(EXAMPLE_ORG)), now=w.tw.clock())
    row = w.agent_row("janet")
    assert (row.logged_in, row.logout_reason, row.back_on) == (False, "sick", None)

"""The admin side in a real browser: membership, an agent's holiday, a routing stop, each
followed by a simulated call through the live server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.agent_state import run_back_on
from tests.console.conftest import DIRECT, Live, login

pytestmark = pytest.mark.browser
OSLO = ZoneInfo("Europe/Oslo")


def dialled(live: Live, **call: Any) -> list[str]:
    """Every agent id the simulated call's <Dial>s rang."""
    handle = live.call(**call)
    handle.join(60)
    return [word for line in handle.lines if line.startswith("DIAL ")
            for word in line.split()[1::2]]


def test_an_admin_adds_an_agent_to_a_loop_and_the_next_call_rings_them(live: Live,
                                                                       page: Any) -> None:
    assert "per" not in dialled(live, press="1")  # okonomi: may.tove only
    login(page, live, "may.tove")
    page.goto(live.url + "/admin/loops/okonomi")
    page.get_by_label("Legg til agent i køen").select_option("per")
    page.get_by_role("button", name="Legg til", exact=True).click()
    members = page.get_by_test_id("loop-members")
    members.get_by_text("per", exact=True).wait_for()
    assert "Lagret." in page.content()
    assert "per" in dialled(live, press="1")
    page.goto(live.url + "/admin/audit?kind=loop")
    page.get_by_test_id("audit-table").get_by_text("member_add").wait_for()


def test_an_agent_logs_out_for_holiday_and_is_back_on_the_return_date(live: Live,
                                                                      page: Any) -> None:
    assert "janet" in dialled(live, press="2")  # lonn: ringall janet, ole.hansen, per
    back = (datetime.now(OSLO) + timedelta(days=7)).date()
    login(page, live, "janet")  # lands on the desk, where the status form is
    form = page.get_by_test_id("agent-state")
    form.get_by_label("Årsak").select_option("holiday")
    form.get_by_label("Tilbake (dato, valgfritt)").fill(back.isoformat())
    form.get_by_role("button", name="Registrer fravær").click()
    page.wait_for_url(live.url + "/desk")
    line = page.get_by_test_id("agent-state").get_by_test_id("status-line")
    line.get_by_text("Logget ut").wait_for()
    assert "Ferie" in line.inner_text() and back.isoformat() in line.inner_text()
    rung = dialled(live, press="2")
    assert "janet" not in rung and "ole.hansen" in rung
    # The clock moves on to the return date; the return-date job's pass logs her back in.
    flow = live.app.state.flow
    flow.clock = lambda: datetime.combine(back, datetime.min.time(), OSLO).astimezone(UTC) \
        + timedelta(hours=8)
    snap = flow.cache.get()
    assert run_back_on(live.engine, now=flow.clock(), hours=snap.hours,
                       tz=snap.timezone) == ["janet"]
    page.reload()
    page.get_by_test_id("status-line").get_by_text("Logget inn").wait_for()
    assert "janet" in dialled(live, press="2")


def test_a_routing_stop_skips_loop_calls_but_not_the_direct_line(live: Live,
                                                                 page: Any) -> None:
    login(page, live, "may.tove")
    page.goto(live.url + "/admin/agents/janet")
    page.get_by_label("Årsak til rutingstopp").fill("Opplæring")
    page.get_by_role("button", name="Sett rutingstopp").click()
    page.get_by_test_id("status-line").get_by_text("rutingstopp: Opplæring").wait_for()
    assert "janet" not in dialled(live, press="2")
    # may.tove stops herself too: her direct line still rings her.
    page.goto(live.url + "/admin/agents/may.tove")
    page.get_by_label("Årsak til rutingstopp").fill("Møte")
    page.get_by_role("button", name="Sett rutingstopp").click()
    page.get_by_test_id("status-line").get_by_text("rutingstopp: Møte").wait_for()
    assert "may.tove" not in dialled(live, press="1")
    assert dialled(live, to=DIRECT) == ["may.tove"]
    page.goto(live.url + "/admin/agents/janet")
    page.get_by_role("button", name="Opphev rutingstopp").click()
    page.get_by_test_id("status-line").get_by_text("Logget inn").wait_for()
    assert "janet" in dialled(live, press="2")

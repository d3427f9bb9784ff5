"""The wallboard and the reports page, in a browser against the live server and over HTTP.

The browser tests also take the README's screenshots (docs/img/wallboard.png, report.png, when
SWITCHBOARD_README_SHOTS=1; else into test-artifacts/).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
import pytest

from tests.console.conftest import ADMIN_TOKEN, Live, http_login, login, readme_shot


@pytest.mark.browser
def test_the_wallboard_shows_a_waiting_caller(live: Live, page: Any) -> None:
    from playwright.sync_api import expect

    assert live.call(press="2", answer="janet", talk=3).join() == "connected"  # answered today
    login(page, live, "ole.hansen")
    page.goto(live.url + "/wallboard")
    waiting = page.get_by_test_id("waiting-lonn")
    expect(waiting).to_have_text("0")
    expect(page.get_by_test_id("answered-lonn")).to_have_text("1")
    expect(page.get_by_test_id("service-level-lonn")).to_have_text("100 %")
    agent_row = page.get_by_test_id("wallboard-agent-janet")
    expect(agent_row).to_contain_text("Ledig")
    expect(agent_row.locator("td").nth(3)).to_have_text(re.compile(r"0:0[34]"))  # talk time

    # A caller presses 2 (Lønn): Janet, Ole and Per ring for 8 s and nobody answers yet.
    call = live.call(press="2", ring=8)
    expect(waiting).to_have_text("1")  # the page polls: no reload, no click
    expect(page.get_by_test_id("cannot-take-lonn")).to_contain_text("Ringer")
    expect(page.get_by_test_id("can-take-okonomi")).to_contain_text("May Tove Hansen")
    readme_shot(page, "wallboard.png")
    assert call.join() == "voicemail"  # nobody answered: one round, then a message
    expect(waiting).to_have_text("0", timeout=10_000)


@pytest.mark.browser
def test_the_days_report_as_a_table_a_chart_and_csv(live: Live, page: Any) -> None:
    from playwright.sync_api import expect

    for agent, talk in (("janet", 1), ("per", 2), ("janet", 0)):
        assert live.call(press="2", answer=agent, talk=talk).join() == "connected"
    assert live.call(press="1").join() == "voicemail"  # May Tove does not answer
    login(page, live, "may.tove")
    page.goto(live.url + "/reports")
    expect(page.get_by_label("Periode")).to_have_value("day")
    lonn = page.get_by_test_id("report-loops").get_by_test_id("report-row-lonn")
    expect(lonn).to_contain_text("Lønn")
    expect(lonn.locator("td").nth(0)).to_have_text("3")  # offered
    expect(lonn.locator("td").nth(1)).to_have_text("3")  # answered
    okonomi = page.get_by_test_id("report-row-okonomi")
    expect(okonomi.locator("td").nth(4)).to_have_text("1")  # overflowed to voicemail
    expect(okonomi.locator("td").nth(5)).to_have_text("1")  # and left a message
    expect(page.get_by_test_id("report-agents").get_by_test_id("report-row-janet")
           .locator("td").nth(1)).to_have_text("2")
    chart = page.get_by_role("img", name="Samtaler dag")
    expect(chart).to_be_visible()
    readme_shot(page, "report.png")

    page.get_by_label("Periode").select_option("month")
    page.get_by_role("button", name="Vis rapport").click()
    expect(page.get_by_role("img", name="Samtaler måned")).to_be_visible()
    with page.expect_download() as got:
        page.get_by_role("link", name="Last ned som CSV").click()
    rows = list(csv.DictReader(io.StringIO(got.value.path().read_text("utf-8"))))
    lonn_row = next(r for r in rows if r["kind"] == "loop" and r["id"] == "lonn")
    assert (lonn_row["period"], lonn_row["offered"], lonn_row["answered"]) == ("month", "3", "3")


def test_pages_need_a_sign_in_and_the_api_a_token(live: Live, http: httpx.Client) -> None:
    for path in ("/wallboard", "/wallboard/live", "/reports"):
        r = http.get(path)
        assert r.status_code in (302, 303) and r.headers["location"].endswith("/login")
    assert http.get("/api/stats/loops").status_code == 401
    r = http.get("/api/stats/loops", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200
    lonn = next(lp for lp in r.json() if lp["id"] == "lonn")
    assert set(lonn) >= {"id", "waiting", "longest_wait_s", "answered_today", "abandoned_today",
                         "service_level", "offerable", "not_offerable"}
    assert lonn["offerable"] == 3 and lonn["not_offerable"] == {}


def test_the_wallboard_part_and_bad_report_input(live: Live, http: httpx.Client) -> None:
    http_login(http, "per")
    part = http.get("/wallboard/live")
    assert part.status_code == 200 and "<html" not in part.text
    assert 'data-testid="waiting-lonn"' in part.text
    page = http.get("/wallboard")
    assert 'hx-get="/wallboard/live"' in page.text and 'hx-trigger="every 2s"' in page.text
    bad = http.get("/reports", params={"date": "2026-13-40", "period": "year"})
    assert bad.status_code == 422
    assert "Dato: «2026-13-40» er ikke en dato" in bad.text and "Periode:" in bad.text
    api = http.get("/api/stats/report", params={"period": "day", "date": "25.11.2026"})
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["query", "date"]
    http.post("/lang", data={"lang": "en", "next": "/wallboard",
                             "csrf_token": _csrf(http.get("/wallboard").text)})
    assert "Waiting now" in http.get("/wallboard/live").text


def _csrf(html: str) -> str:
    from tests.console.conftest import csrf_from

    return csrf_from(html)


def test_the_wallboard_says_why_agents_cannot_take_calls(live: Live,
                                                         http: httpx.Client) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for agent, state in (("per", {"logged_in": False, "logout_reason": "holiday",
                                  "back_on": "2099-01-04"}),
                         ("ole.hansen", {"routing_stop": True, "stop_reason": "Kurs i dag"})):
        r = http.post(f"/api/agents/{agent}/state", json=state, headers=admin)
        assert r.status_code == 200, r.text
    loops = http.get("/api/stats/loops", headers=admin).json()
    lonn = next(lp for lp in loops if lp["id"] == "lonn")
    assert lonn["offerable"] == 1
    assert lonn["not_offerable"] == {"logged_out": 1, "routing_stop": 1}
    http_login(http, "janet")
    part = http.get("/wallboard/live").text
    assert "Per Berg</span> (Logget ut: ferie, tilbake 04.01)" in part
    assert "Ole Hansen</span> (Rutingstopp: Kurs i dag)" in part

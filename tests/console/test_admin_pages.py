"""The admin pages over HTTP (no browser): who may see them, every page renders, forms save
through the org file's validation, errors name the field, a stale form loses nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from console.audit import AUDIT
from switchboard.orgfile import parse_org_text
from tests.console.conftest import ADMIN_TOKEN, Live, csrf_from, http_login

PAGES = ("/admin", "/admin/agents", "/admin/agents/janet", "/admin/loops", "/admin/loops/lonn",
         "/admin/numbers", "/admin/hours", "/admin/departments", "/admin/audit",
         "/admin/outbox", "/status")


def etag_in(html: str) -> str:
    m = re.search(r'name="etag" value="([^"]*)"', html)
    assert m is not None
    return m.group(1).replace("&#34;", '"').replace("&quot;", '"')


@pytest.fixture
def admin(live: Live, http: httpx.Client) -> httpx.Client:
    assert http_login(http, "may.tove").status_code == 303
    return http


def test_an_agent_gets_403_and_a_stranger_the_sign_in(live: Live, http: httpx.Client) -> None:
    assert http.get("/admin").headers["location"] == "/login"
    assert http_login(http, "janet").status_code == 303
    for path in PAGES[:-1]:
        assert http.get(path).status_code == 403, path
    assert http.get("/status").status_code == 200


def test_every_page_renders_with_labels(admin: httpx.Client) -> None:
    for path in PAGES:
        r = admin.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        for input_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', r.text):
            assert f'for="{input_id}"' in r.text, (path, input_id)
    org = admin.get("/admin/org.yaml")
    assert org.status_code == 200
    assert parse_org_text(org.text, "/srv/org.yaml").loops[1].members == [
        "janet", "ole.hansen", "per"]


def test_loop_form_saves_and_errors_name_the_field(live: Live, admin: httpx.Client) -> None:
    page = admin.get("/admin/loops/lonn").text
    form = {"csrf_token": csrf_from(page), "etag": etag_in(page), "name": "Lønn",
            "members": "per\njanet", "roles": "", "strategy": "linear", "ring_timeout": "3",
            "max_wait": "60", "wrap_up": "0", "overflow": "voicemail",
            "service_level_seconds": "20"}
    bad = admin.post("/admin/loops/lonn", data=form)
    assert bad.status_code == 422 and "loops[1].ring_timeout" in bad.text
    ok = admin.post("/admin/loops/lonn", data=form | {"ring_timeout": "25"})
    assert ok.status_code == 303
    shown = admin.get(ok.headers["location"]).text
    assert "Lagret." in shown and shown.index(">per") < shown.index(">janet")
    # The same form again, with the ETag it was rendered with: stale, nothing overwritten.
    stale = admin.post("/admin/loops/lonn", data=form | {"ring_timeout": "30"})
    assert stale.status_code == 409 and 'data-testid="stale-notice"' in stale.text
    assert "ring_timeout: 30" in stale.text
    with live.engine.connect() as conn:
        rows = list(conn.execute(select(AUDIT).where(AUDIT.c.kind == "loop")))
    assert len(rows) == 1 and rows[0].who == "may.tove"
    assert rows[0].after["members"] == ["per", "janet"] and rows[0].after["ring_timeout"] == 25


def test_hours_form_christmas_eve_until_noon(admin: httpx.Client) -> None:
    page = admin.get("/admin/hours").text
    form: dict[str, Any] = {"csrf_token": csrf_from(page), "etag": etag_in(page),
                            "mon": "08:00-15:30", "fri": "08:00-15:00",
                            "closed_days": "2026-12-31",
                            "special_hours": "2026-12-24 08:00-12:00\n2026-12-27 closed"}
    r = admin.post("/admin/hours", data=form)
    assert r.status_code == 303, r.text
    hours = admin.get("/admin/hours").text
    assert "2026-12-24 08:00-12:00" in hours and "2026-12-27 closed" in hours
    page = admin.get("/admin/hours").text
    bad = admin.post("/admin/hours", data=form | {"csrf_token": csrf_from(page),
                                                  "etag": etag_in(page), "tue": "25:00-26:00"})
    assert bad.status_code == 422 and "organisation.opening_hours.tue" in bad.text


def test_forms_need_the_csrf_token(admin: httpx.Client) -> None:
    page = admin.get("/admin/loops/lonn").text
    r = admin.post("/admin/loops/lonn/members", data={"agent_id": "may.tove"})
    assert r.status_code == 403
    r = admin.post("/admin/loops/lonn/members",
                   data={"agent_id": "may.tove", "csrf_token": csrf_from(page)})
    assert r.status_code == 303


def test_signing_in_again_ends_a_logout_with_a_return_date(live: Live,
                                                           http: httpx.Client) -> None:
    admin_token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    r = http.post("/api/agents/janet/state", headers=admin_token,
                  json={"logout_reason": "holiday", "back_on": "2099-01-04"})
    assert r.status_code == 200 and r.json()["logged_in"] is False
    assert http_login(http, "janet").status_code == 303
    me = next(p for p in http.get("/api/presence").json() if p["id"] == "janet")
    assert me["state"] != "logged_out" and me["back_on"] is None


def test_the_audit_page_filters(admin: httpx.Client) -> None:
    page = admin.get("/admin/loops/lonn").text
    assert admin.post("/admin/loops/lonn/members", data={
        "agent_id": "may.tove", "csrf_token": csrf_from(page)}).status_code == 303
    mine = admin.get("/admin/audit", params={"who": "may.tove", "kind": "loop"}).text
    assert 'data-testid="audit-table"' in mine and "member_add" in mine
    assert "janet, ole.hansen, per, may.tove" in mine  # the members after the change
    assert "member_add" not in admin.get("/admin/audit", params={"who": "janet"}).text
    assert "member_add" not in admin.get("/admin/audit",
                                         params={"until": "2000-01-01"}).text
    bad = admin.get("/admin/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and "since" in bad.text


def test_english_on_choice(admin: httpx.Client) -> None:
    admin.cookies.set("sb_lang", "en")
    page = admin.get("/admin/loops/lonn").text
    assert "Members in order (one per line)" in page and "Add an agent to the loop" in page
    assert "Register absence" in admin.get("/status").text


def test_colleagues_see_the_reason_and_return_date_on_the_desk(live: Live,
                                                               admin: httpx.Client) -> None:
    admin_token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    admin.post("/api/agents/janet/state", headers=admin_token,
               json={"logout_reason": "holiday", "back_on": "2099-01-04"})
    admin.post("/api/agents/per/state", headers=admin_token,
               json={"routing_stop": True, "stop_reason": "Opplæring"})
    row = re.search(r'<tr data-agent="janet">.*?</tr>',
                    admin.get("/desk/colleagues").text, re.S)
    assert row is not None and "Ferie" in row.group(0) and "2099-01-04" in row.group(0)
    row = re.search(r'<tr data-agent="per">.*?</tr>', admin.get("/desk/colleagues").text, re.S)
    assert row is not None and "Opplæring" in row.group(0)


def test_the_outbox_page_lists_waiting_mail(live: Live, admin: httpx.Client) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from tickets.models import OutboxMail

    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    with live.engine.begin() as conn:
        conn.execute(insert(OutboxMail.__table__).values(  # type: ignore[attr-defined]
            to_addr="innkreving@example.org", subject="Ny sak #7", body="Se saken.",
            created_at=now, attempts=2, next_attempt_at=now, last_error="SMTPConnectError"))
    page = admin.get("/admin/outbox").text
    assert 'data-testid="outbox-table"' in page
    assert "Ny sak #7" in page and "SMTPConnectError" in page and "2026-11-25T09:00" in page

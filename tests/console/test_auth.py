"""Sign-in, sessions, CSRF and the sign-in throttle, through the live server's HTTP surface."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from switchboard.app import create_app
from switchboard.auth import SESSION_COOKIE
from switchboard.cli import app as cli
from switchboard.passwords import (
    CRED,
    MAX_FAILS_PER_ADDRESS,
    MAX_FAILS_PER_USER,
    check_password,
)
from tests.console.conftest import PASSWORD, Live, csrf_from, http_login, live_settings

GENERIC = "Feil brukernavn eller passord."


def set_cookie_header(response: httpx.Response, name: str) -> str:
    """The Set-Cookie line for one cookie."""
    lines = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    found = [v for v in lines if v.startswith(name + "=")]
    assert found, f"no Set-Cookie for {name}: {lines}"
    return found[0]


def test_signed_out_pages_go_to_login_and_api_answers_401(live: Live, http: httpx.Client) -> None:
    r = http.post("/logout")
    assert r.status_code == 302 and r.headers["location"] == "/login"
    assert http.get("/api/presence").status_code == 401
    # the sign-in page itself is open to anyone
    page = http.get("/login")
    assert page.status_code == 200 and 'name="username"' in page.text
    assert 'name="password"' in page.text and 'type="password"' in page.text


def test_sign_in_goes_to_desk_with_httponly_samesite_cookie(live: Live,
                                                            http: httpx.Client) -> None:
    r = http_login(http, "janet")
    assert r.status_code == 303 and r.headers["location"] == "/desk"
    cookie = set_cookie_header(r, SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # PUBLIC_URL is http here
    # the session works for the API (presence is for any signed-in user)
    presence = http.get("/api/presence")
    assert presence.status_code == 200
    assert {p["id"] for p in presence.json()} == {"may.tove", "janet", "ole.hansen", "per"}


def test_cookies_are_secure_when_public_url_is_https(tmp_path, live: Live) -> None:  # type: ignore[no-untyped-def]
    settings = live_settings(tmp_path, "https://switchboard.example.org")
    app = create_app(settings, live.engine)
    with TestClient(app, base_url="https://switchboard.example.org",
                    follow_redirects=False) as client:
        form = client.get("/login")
        assert "secure" in set_cookie_header(form, "sb_pre").lower()  # type: ignore[arg-type]
        r = client.post("/login", data={"username": "janet", "password": PASSWORD,
                                        "csrf_token": csrf_from(form.text)})
        assert r.status_code == 303
        cookie = set_cookie_header(r, SESSION_COOKIE).lower()  # type: ignore[arg-type]
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_failures_get_one_generic_message(live: Live, http: httpx.Client) -> None:
    wrong_password = http_login(http, "janet", "not-her-password")
    unknown_user = http_login(http, "nobody.here", "whatever-it-is")
    empty = http_login(http, "", "")
    for r in (wrong_password, unknown_user, empty):
        assert r.status_code == 401 and GENERIC in r.text
        assert SESSION_COOKIE not in r.cookies
    assert http.get("/api/presence").status_code == 401


def test_sign_in_rate_limit_per_user_holds_across_processes(live: Live,
                                                            http: httpx.Client) -> None:
    for _ in range(MAX_FAILS_PER_USER):
        assert http_login(http, "per", "guess-guess").status_code == 401
    # now even the right password is refused, without a session
    r = http_login(http, "per", PASSWORD)
    assert r.status_code == 429 and "For mange mislykkede forsøk" in r.text
    assert SESSION_COOKIE not in r.cookies
    # a second server process on the same database sees the same count
    other = create_app(live.settings, live.engine)
    with TestClient(other, base_url=live.url, follow_redirects=False) as client:
        form = client.get("/login")
        r2 = client.post("/login", data={"username": "per", "password": PASSWORD,
                                         "csrf_token": csrf_from(form.text)})
        assert r2.status_code == 429
    # another agent from the same address is not locked out by per's failures
    assert http_login(http, "janet").status_code == 303


def test_sign_in_rate_limit_per_address(live: Live, http: httpx.Client) -> None:
    for i in range(MAX_FAILS_PER_ADDRESS):
        assert http_login(http, f"guess{i}", "guess-guess").status_code == 401
    assert http_login(http, "ole.hansen", PASSWORD).status_code == 429


def test_post_without_csrf_token_is_refused(live: Live, http: httpx.Client) -> None:
    # the sign-in form itself
    http.get("/login")
    r = http.post("/login", data={"username": "janet", "password": PASSWORD})
    assert r.status_code == 403 and SESSION_COOKIE not in r.cookies
    assert http_login(http, "janet").status_code == 303
    # signed in: sign-out without the token (or with a wrong one) is refused, session kept
    assert http.post("/logout").status_code == 403
    assert http.post("/logout", data={"csrf_token": "0" * 64}).status_code == 403
    assert http.post("/lang", data={"lang": "en"}).status_code == 403
    assert http.get("/api/presence").status_code == 200
    # with the token it works, and the session is over on the server too
    old = http.cookies.get(SESSION_COOKIE)
    page = http.get("/login", follow_redirects=True)
    token = csrf_from(page.text)
    r = http.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with httpx.Client(base_url=live.url, cookies={SESSION_COOKIE: old or ""}) as replay:
        assert replay.get("/api/presence").status_code == 401


def test_csrf_header_works_for_scripts(live: Live, http: httpx.Client) -> None:
    http_login(http, "janet")
    token = csrf_from(http.get("/login", follow_redirects=True).text)
    r = http.post("/logout", headers={"X-CSRF-Token": token})
    assert r.status_code == 303


def test_language_switch_sets_a_cookie(live: Live, http: httpx.Client) -> None:
    page = http.get("/login")
    assert "Brukernavn" in page.text and 'lang="nb"' in page.text
    r = http.post("/lang", data={"lang": "en", "next": "/login",
                                 "csrf_token": csrf_from(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    english = http.get("/login")
    assert "Username" in english.text and 'lang="en"' in english.text
    # only local paths to go back to
    r = http.post("/lang", data={"lang": "nb", "next": "//evil.example/",
                                 "csrf_token": csrf_from(english.text)})
    assert r.headers["location"] == "/desk"


def test_set_password_cli(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", live.settings.database_url)
    runner = CliRunner()
    unknown = runner.invoke(cli, ["agents", "set-password", "nobody"], input="long-enough-1\n")
    assert unknown.exit_code != 0 and "no agent" in unknown.output
    short = runner.invoke(cli, ["agents", "set-password", "janet"], input="kort\n")
    assert short.exit_code != 0 and "at least 8" in short.output
    assert check_password(live.engine, "janet", PASSWORD) is not None  # unchanged
    ok = runner.invoke(cli, ["agents", "set-password", "janet"], input="ny-lang-passord\n")
    assert ok.exit_code == 0, ok.output
    assert "ny-lang-passord" not in ok.output
    with live.engine.connect() as conn:
        stored = conn.execute(select(CRED.c.password_hash)
                              .where(CRED.c.agent_id == "janet")).scalar_one()
    assert stored.startswith("$argon2") and "ny-lang-passord" not in stored
    assert check_password(live.engine, "janet", "ny-lang-passord") is not None
    assert check_password(live.engine, "janet", PASSWORD) is None

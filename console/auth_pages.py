"""Sign-in, sign-out and the language switch.

Every failed sign-in gets the one generic message, whatever was wrong; failures are counted in
the database per username and per client address (switchboard.passwords), and past the limit
the form is refused without even checking the password, so guessing gains nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from console.agent_state import on_sign_in
from console.events import agent_topic
from console.i18n import LANG_COOKIE, LANGS
from console.web import YEAR, auth_of, render, set_cookie
from switchboard import passwords
from switchboard.auth import PRE_COOKIE, SESSION_COOKIE, Authenticator, Principal


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _local_path(value: str | None) -> str:
    """Only a path on this site (never //host or a full URL) to go back to."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/desk"


def build_router(auth: Authenticator) -> APIRouter:
    """/login, /logout, /lang and / ."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/desk", status_code=302)

    @router.get("/login")
    def login_form(request: Request) -> Response:
        if auth.principal(request) is not None and request.state.principal.via_session:
            return RedirectResponse("/desk", status_code=302)
        return render(request, "login.html", {"error": None, "username": ""})

    @router.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              csrf_token: str = Form("")) -> Response:
        username = username.strip()
        if not auth.csrf_valid(request, csrf_token):
            return render(request, "login.html", {"error": "login.csrf", "username": username},
                          status_code=403)
        now = auth.clock()
        keys = passwords.throttle_keys(username, _client(request))
        with auth.engine.connect() as conn:
            if passwords.throttled(conn, keys, now=now):
                return render(request, "login.html",
                              {"error": "login.throttled", "username": username},
                              status_code=429)
        account = passwords.check_password(auth.engine, username, password) if username else None
        if account is None:
            passwords.record_failure(auth.engine, keys, now=now)
            return render(request, "login.html", {"error": "login.failed", "username": username},
                          status_code=401)
        passwords.clear_failures(auth.engine, keys[0])
        # Signing in again ends a logout that has a return date (docs/admin.md).
        on_sign_in(auth.engine, account.agent_id, now=now)
        token = passwords.start_session(auth.engine, account.agent_id, now=now)
        response = RedirectResponse("/desk", status_code=303)
        set_cookie(request, response, SESSION_COOKIE, token,
                   max_age=passwords.SESSION_DAYS * 24 * 3600)
        response.delete_cookie(PRE_COOKIE, path="/")
        return response

    @router.post("/logout")
    def logout(request: Request, user: Principal = Depends(auth.page_user)) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            passwords.end_session(auth.engine, token)
            # The desk's live stream on this session ends too (console.desk).
            hub = getattr(request.app.state, "broadcaster", None)
            if hub is not None and user.agent_id:
                hub.publish(agent_topic(user.agent_id),
                            {"ended_session": passwords.token_digest(token)})
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.post("/lang")
    def set_lang(request: Request, lang: str = Form(...), next: str = Form("/desk"),
                 csrf_token: str = Form("")) -> Response:
        # Harmless, but still a change: the same CSRF rule as every other form.
        if not auth_of(request).csrf_valid(request, csrf_token):
            return render(request, "error.html", {"message": "login.csrf"}, status_code=403)
        response = RedirectResponse(_local_path(next), status_code=303)
        if lang in LANGS:
            set_cookie(request, response, LANG_COOKIE, lang, max_age=YEAR)
        return response

    return router

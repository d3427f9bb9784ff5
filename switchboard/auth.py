"""Who is asking: bearer tokens (the admin token, agents' tokens stored only as hashes) and
signed-in browser sessions, as FastAPI dependencies, plus the console's CSRF tokens.

One boundary for every route: the API dependencies (`any_user`, `agent`, `admin`) answer 401
(nobody) or 403 (signed in, not allowed); the page dependencies (`page_user`, `page_admin`)
send a signed-out browser to /login and an agent on an admin page to 403. A request that
changes something on the strength of a session cookie must carry the session's CSRF token
(form field `csrf_token` or header `X-CSRF-Token`); bearer-token requests need none, as no
browser sends those on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from routing.models import Agent
from switchboard.passwords import session_account
from switchboard.settings import Settings

log = logging.getLogger("switchboard.auth")

SESSION_COOKIE = "sb_session"
PRE_COOKIE = "sb_pre"  # seeds the sign-in form's CSRF token before there is a session
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def hash_token(token: str) -> str:
    """SHA-256 of a random bearer token (tokens are 256-bit random, so no slow KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random bearer token."""
    return "sbt_" + secrets.token_urlsafe(32)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the admin token, or one agent (who may have `access: admin`)."""

    kind: str  # admin | agent
    agent_id: str | None = None
    agent_admin: bool = False  # an agent with access: admin in the org file
    name: str | None = None
    via_session: bool = False  # signed in with a cookie (so changes need the CSRF token)

    @property
    def is_admin(self) -> bool:
        """The admin token, or an agent whose access is admin."""
        return self.kind == "admin" or self.agent_admin

    @property
    def first_name(self) -> str:
        """The agent's first name (what the greeting line says)."""
        return (self.name or self.agent_id or "").split(" ")[0]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


class Authenticator:
    """FastAPI dependencies for bearer tokens and browser sessions (see the module docstring)."""

    def __init__(self, settings: Settings, engine: Engine,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        key = settings.secret_key.get_secret_value() if settings.secret_key else ""
        if not key:
            # CSRF tokens then hold only within this process; sessions themselves are in the
            # database and survive, but forms rendered by another process would be refused.
            log.warning("SWITCHBOARD_SECRET_KEY is not set: using a random key for this process")
            key = secrets.token_urlsafe(32)
        self._key = key.encode()
        self.secure_cookies = settings.public_url.lower().startswith("https://")

    # --- who ------------------------------------------------------------------------------

    def principal(self, request: Request) -> Principal | None:
        """The principal behind the bearer token or the session cookie, or None (blocking I/O)."""
        if "principal" in request.scope.get("state", {}):
            return request.state.principal  # type: ignore[no-any-return]
        found = self.resolve(request)
        request.state.principal = found
        return found

    def resolve(self, request: Request) -> Principal | None:
        """Look the request's credentials up afresh, ignoring what the request remembers."""
        token = _bearer(request)
        if token is not None:
            admin = self.settings.admin_token
            if admin is not None and admin.get_secret_value() and hmac.compare_digest(
                token, admin.get_secret_value()
            ):
                return Principal("admin")
            digest = hash_token(token)
            with self.engine.connect() as conn:
                table = Agent.__table__  # type: ignore[attr-defined]
                row = conn.execute(
                    select(table.c.id, table.c.name, table.c.access)
                    .where(table.c.token_hash == digest, table.c.active.is_(True))
                ).first()
            return Principal("agent", row.id, row.access == "admin", row.name) if row else None
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        account = session_account(self.engine, cookie, now=self.clock())
        if account is None:
            return None
        return Principal("agent", account.agent_id, account.is_admin, account.name,
                         via_session=True)

    async def _principal(self, request: Request) -> Principal | None:
        if "principal" in request.scope.get("state", {}):
            return request.state.principal  # type: ignore[no-any-return]
        # The look-up reads the database: off the event loop, where webhook steps run.
        return await run_in_threadpool(self.principal, request)

    # --- CSRF -----------------------------------------------------------------------------

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, request: Request) -> str:
        """The CSRF token for forms on this page: bound to the session, or to a pre-cookie."""
        session = request.cookies.get(SESSION_COOKIE)
        if session and getattr(request.state, "principal", None) is not None:
            return self._mac("session", session)
        pre = request.cookies.get(PRE_COOKIE) or getattr(request.state, "new_pre", None)
        if not pre:
            pre = secrets.token_urlsafe(24)
            request.state.new_pre = pre  # render() sets the cookie on the response
        return self._mac("pre", pre)

    def csrf_valid(self, request: Request, token: str | None) -> bool:
        """True when token is this browser's CSRF token (session-bound or pre-sign-in)."""
        if not token:
            return False
        for purpose, cookie in (("session", SESSION_COOKIE), ("pre", PRE_COOKIE)):
            value = request.cookies.get(cookie)
            if value and hmac.compare_digest(token, self._mac(purpose, value)):
                return True
        return False

    async def check_csrf(self, request: Request) -> None:
        """Refuse (403) a changing request that lacks this browser's CSRF token."""
        if request.method not in UNSAFE_METHODS:
            return
        token = request.headers.get(CSRF_HEADER)
        if token is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached on the request: the route reads it again
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
        if not self.csrf_valid(request, token):
            raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")

    async def _checked(self, request: Request) -> Principal | None:
        p = await self._principal(request)
        if p is not None and p.via_session:
            await self.check_csrf(request)
        return p

    # --- API dependencies -----------------------------------------------------------------

    async def any_user(self, request: Request) -> Principal:
        """The admin or an agent (token or session), else 401."""
        p = await self._checked(request)
        if p is None:
            raise HTTPException(401, "sign in, or send a valid bearer token",
                                headers={"WWW-Authenticate": "Bearer"})
        return p

    async def agent(self, request: Request) -> Principal:
        """An agent (token or session), else 401."""
        p = await self._checked(request)
        if p is None or p.kind != "agent":
            raise HTTPException(401, "an agent's sign-in or bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        return p

    async def admin(self, request: Request) -> Principal:
        """The admin token or an agent with access admin; 401 when nobody, 403 for an agent."""
        p = await self._checked(request)
        if p is None:
            raise HTTPException(401, "the admin token or an admin's sign-in is required",
                                headers={"WWW-Authenticate": "Bearer"})
        if not p.is_admin:
            raise HTTPException(403, "only admins may do this")
        return p

    # --- page dependencies ----------------------------------------------------------------

    async def page_user(self, request: Request) -> Principal:
        """A signed-in agent for a page; a signed-out browser goes to /login (302)."""
        p = await self._checked(request)
        if p is None or p.kind != "agent":
            raise HTTPException(302, "sign in first", headers={"Location": "/login"})
        return p

    async def page_admin(self, request: Request) -> Principal:
        """A signed-in admin for a page; signed out: /login; an agent: 403."""
        p = await self.page_user(request)
        if not p.is_admin:
            raise HTTPException(403, "only admins may open this page")
        return p

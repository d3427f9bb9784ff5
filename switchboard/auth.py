"""Bearer tokens: the admin token from settings, and per-agent tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.engine import Engine

from routing.models import Agent
from switchboard.settings import Settings


def hash_token(token: str) -> str:
    """SHA-256 of a random bearer token (tokens are 256-bit random, so no slow KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random bearer token."""
    return "sbt_" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: the admin, or one agent."""

    kind: str  # admin | agent
    agent_id: str | None = None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


class Authenticator:
    """FastAPI dependencies for the admin token and agents' tokens."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    def principal(self, request: Request) -> Principal | None:
        """The principal behind the request's bearer token, or None."""
        token = _bearer(request)
        if token is None:
            return None
        admin = self.settings.admin_token
        if admin is not None and admin.get_secret_value() and hmac.compare_digest(
            token, admin.get_secret_value()
        ):
            return Principal("admin")
        digest = hash_token(token)
        with self.engine.connect() as conn:
            table = Agent.__table__  # type: ignore[attr-defined]
            row = conn.execute(
                select(table.c.id).where(table.c.token_hash == digest, table.c.active.is_(True))
            ).first()
        return Principal("agent", row[0]) if row else None

    def any_user(self, request: Request) -> Principal:
        """Admin or a signed-in agent, else 401."""
        p = self.principal(request)
        if p is None:
            raise HTTPException(401, "a valid bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        return p

    def agent(self, request: Request) -> Principal:
        """A signed-in agent, else 401."""
        p = self.principal(request)
        if p is None or p.kind != "agent":
            raise HTTPException(401, "an agent's bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        return p

    def admin(self, request: Request) -> Principal:
        """The admin, else 401."""
        p = self.principal(request)
        if p is None or p.kind != "admin":
            raise HTTPException(401, "the admin token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        return p

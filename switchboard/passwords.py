"""Agents' passwords (argon2), web sessions (server-side, by a hashed cookie token) and the
sign-in throttle (failures counted in the database, so the limit holds across processes).

Credentials live in their own table, not on `agent`, so code that reads agents (presence,
admin pages, `org export`) never carries a password hash along.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

from routing.models import Agent

MIN_PASSWORD = 8
SESSION_DAYS = 7  # a desk stays signed in through a working week
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILS_PER_USER = 5
MAX_FAILS_PER_ADDRESS = 20

_hasher = PasswordHasher()
# Verified against when the agent is unknown or has no password, so a wrong username costs
# the same time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AgentCredential(SQLModel, table=True):
    """An agent's password, as an argon2 hash only."""

    __tablename__ = "agent_credential"
    agent_id: str = Field(primary_key=True, max_length=64)
    password_hash: str
    changed_at: datetime = Field(sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, the table its SHA-256."""

    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    agent_id: str = Field(max_length=64, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, keyed by "user:<id>" and again by "addr:<client address>"."""

    __tablename__ = "login_failure"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, index=True)
    at: datetime = Field(sa_type=UTCDateTime)


CRED = AgentCredential.__table__  # type: ignore[attr-defined]
SESS = WebSession.__table__  # type: ignore[attr-defined]
FAIL = LoginFailure.__table__  # type: ignore[attr-defined]
AGENT = Agent.__table__  # type: ignore[attr-defined]


class PasswordError(ValueError):
    """A password that cannot be set (too short, unknown agent)."""


def token_digest(token: str) -> str:
    """What the session table keeps of a cookie's token (its SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


_sha = token_digest


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def set_password(engine: Engine, agent_id: str, password: str, *, now: datetime) -> None:
    """Store the argon2 hash of password for an existing agent; ends their other sessions."""
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"the password must have at least {MIN_PASSWORD} characters")
    digest = _hasher.hash(password)
    with engine.begin() as conn:
        if conn.execute(select(AGENT.c.id).where(AGENT.c.id == agent_id)).first() is None:
            raise PasswordError(f"no agent with id {agent_id!r}")
        conn.execute(delete(CRED).where(CRED.c.agent_id == agent_id))
        conn.execute(insert(CRED).values(agent_id=agent_id, password_hash=digest, changed_at=now))
        conn.execute(delete(SESS).where(SESS.c.agent_id == agent_id))


@dataclass(frozen=True)
class Account:
    """Who a session or a sign-in belongs to."""

    agent_id: str
    name: str
    is_admin: bool


def check_password(engine: Engine, agent_id: str, password: str) -> Account | None:
    """The active agent's account when the password matches, else None (constant-ish time)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(AGENT.c.id, AGENT.c.name, AGENT.c.access, CRED.c.password_hash)
            .select_from(AGENT.join(CRED, CRED.c.agent_id == AGENT.c.id))
            .where(AGENT.c.id == agent_id, AGENT.c.active.is_(True))).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return Account(row.id, row.name, row.access == "admin")


def throttled(conn: Connection, keys: list[str], *, now: datetime) -> bool:
    """True when any key has had too many failures within the window."""
    since = now - THROTTLE_WINDOW
    for key in keys:
        n = conn.execute(select(func.count()).select_from(FAIL)
                         .where(FAIL.c.key == key, FAIL.c.at > since)).scalar_one()
        limit = MAX_FAILS_PER_USER if key.startswith("user:") else MAX_FAILS_PER_ADDRESS
        if n >= limit:
            return True
    return False


def throttle_keys(agent_id: str, address: str) -> list[str]:
    """The keys a sign-in attempt is counted under."""
    return [f"user:{agent_id.strip().lower()[:100]}", f"addr:{address[:100]}"]


def record_failure(engine: Engine, keys: list[str], *, now: datetime) -> None:
    """Count one failed sign-in under each key (and forget failures older than the window)."""
    with engine.begin() as conn:
        conn.execute(delete(FAIL).where(FAIL.c.at < now - THROTTLE_WINDOW))
        conn.execute(insert(FAIL), [{"key": k, "at": now} for k in keys])


def clear_failures(engine: Engine, key: str) -> None:
    """A successful sign-in forgets that user's failures."""
    with engine.begin() as conn:
        conn.execute(delete(FAIL).where(FAIL.c.key == key))


def start_session(engine: Engine, agent_id: str, *, now: datetime) -> str:
    """A new session for the agent; returns the cookie's token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(delete(SESS).where(SESS.c.expires_at < now))
        conn.execute(insert(SESS).values(token_hash=_sha(token), agent_id=agent_id,
                                         created_at=now,
                                         expires_at=now + timedelta(days=SESSION_DAYS)))
    return token


def session_account(engine: Engine, token: str, *, now: datetime) -> Account | None:
    """The account behind a session cookie's token, if the session is live and the agent too."""
    with engine.connect() as conn:
        row = conn.execute(
            select(AGENT.c.id, AGENT.c.name, AGENT.c.access, SESS.c.expires_at)
            .select_from(SESS.join(AGENT, AGENT.c.id == SESS.c.agent_id))
            .where(SESS.c.token_hash == _sha(token), AGENT.c.active.is_(True))).first()
    if row is None or _utc(row.expires_at) <= now:
        return None
    return Account(row.id, row.name, row.access == "admin")


def end_session(engine: Engine, token: str) -> None:
    """Sign out: the session's row goes."""
    with engine.begin() as conn:
        conn.execute(delete(SESS).where(SESS.c.token_hash == _sha(token)))


"""A lease row in `meta`, so only one of several server processes syncs calendars at a time.

Plain UPDATE/INSERT on the key, which behaves the same on SQLite and PostgreSQL: the row's
`value` is the lease's expiry (Unix seconds) and `holder` names the process holding it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from switchboard.models import Meta

LEASE_KEY = "calendar_sync_lock"


def acquire(engine: Engine, holder: str, now: datetime, ttl: int) -> bool:
    """Take or renew the lease until now + ttl; False when another live holder has it."""
    expiry = int(now.timestamp()) + ttl
    with engine.begin() as conn:
        taken = conn.execute(
            update(Meta)
            .where(Meta.key == LEASE_KEY)  # type: ignore[arg-type]
            .where(or_(Meta.holder == holder,  # type: ignore[arg-type]
                       Meta.holder.is_(None),  # type: ignore[union-attr]
                       Meta.value < int(now.timestamp())))  # type: ignore[arg-type]
            .values(value=expiry, holder=holder)
        ).rowcount
    if taken:
        return True
    try:
        with engine.begin() as conn:
            conn.execute(insert(Meta).values(key=LEASE_KEY, value=expiry, holder=holder))
        return True
    except IntegrityError:  # the row exists and someone else holds it
        return False


def release(engine: Engine, holder: str) -> None:
    """Give the lease up (only if we hold it), so another process can take over at once."""
    with engine.begin() as conn:
        conn.execute(
            update(Meta)
            .where(Meta.key == LEASE_KEY, Meta.holder == holder)  # type: ignore[arg-type]
            .values(holder=None, value=0)
        )

"""The background calendar sync inside `switchboard serve`."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from calendar_sync.lease import acquire, release
from calendar_sync.sync import MAX_BACKOFF, SourceFactory, Sources, run_pass
from switchboard.settings import Settings

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def lease_ttl(interval: int) -> int:
    """Seconds a lease lasts: long enough for a slow pass, short enough to take over soon."""
    return max(3 * interval, 120)


async def background_sync(
    settings: Settings,
    engine: Engine,
    *,
    clock: Callable[[], datetime] = _utcnow,
    holder: str | None = None,
    sources: SourceFactory | None = None,
) -> None:
    """A pass at start, then every settings.calendar_interval seconds, until cancelled.

    Only the process holding the lease syncs; the blocking work runs in a thread, so the
    event loop (and every webhook) never waits on a calendar server or the sync's writes.
    """
    holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    interval = max(1, settings.calendar_interval)
    own = Sources(settings, settings.timezone) if sources is None else None
    factory: SourceFactory = own or sources  # type: ignore[assignment]
    errors = 0
    try:
        while True:
            delay = float(interval)
            try:
                if await asyncio.to_thread(acquire, engine, holder, clock(), lease_ttl(interval)):
                    await asyncio.to_thread(run_pass, engine, settings, now=clock(),
                                            sources=factory)
                errors = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database itself failed: back off, try again later
                errors += 1
                delay = min(interval * 2.0 ** errors, MAX_BACKOFF.total_seconds())
                log.warning("calendar sync failed (%s); next try in %.0f s",
                            type(exc).__name__, delay)
            await asyncio.sleep(delay)
    finally:
        try:
            release(engine, holder)
        except Exception:  # shutting down: the lease expires by itself anyway
            pass
        if own is not None:
            own.close()

"""The lease that lets only one server process sync, and the background task that uses it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from calendar_sync.demo import vcalendar, vevent
from calendar_sync.lease import LEASE_KEY, acquire, release
from calendar_sync.models import CalendarSource
from calendar_sync.worker import background_sync
from switchboard.models import Meta
from switchboard.settings import Settings
from tests.fakes.ics_server import IcsHandler, IcsState
from tests.fakes.seed import seed
from tests.fakes.server import running

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def holder(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(Meta.holder).where(Meta.key == LEASE_KEY)).scalar()  # type: ignore[call-overload, arg-type]


def test_lease_is_exclusive_until_it_expires_or_is_released(engine: Engine) -> None:
    assert acquire(engine, "a", T0, ttl=180)
    assert not acquire(engine, "b", T0 + timedelta(seconds=10), ttl=180)
    assert acquire(engine, "a", T0 + timedelta(seconds=60), ttl=180)  # renewal
    assert not acquire(engine, "b", T0 + timedelta(seconds=200), ttl=180)  # renewed until 240
    assert acquire(engine, "b", T0 + timedelta(seconds=241), ttl=180)  # a died: b takes over
    assert holder(engine) == "b"
    release(engine, "a")  # not a's to give
    assert holder(engine) == "b"
    release(engine, "b")
    assert acquire(engine, "a", T0 + timedelta(seconds=242), ttl=180)


def test_lease_on_postgresql(pg_url: str) -> None:
    from switchboard.db import make_engine, migrate

    engine = make_engine(pg_url)
    migrate(engine)
    try:
        release(engine, "a")
        release(engine, "b")
        assert acquire(engine, "a", T0, ttl=180)
        assert not acquire(engine, "b", T0, ttl=180)
        release(engine, "a")
        assert acquire(engine, "b", T0, ttl=180)
        release(engine, "b")
    finally:
        engine.dispose()


async def _until(check, limit: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    # Waits for a state, not for a duration: the limit only stops a hung test.
    for _ in range(int(limit / 0.05)):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the state was never reached")


def test_only_the_lease_holder_syncs_and_a_second_process_takes_over(
        engine: Engine, settings: Settings) -> None:
    state = IcsState()
    now = datetime.now(UTC)
    state.put("/a.ics", vcalendar(vevent("Møte", now - timedelta(hours=1),
                                         now + timedelta(hours=1))))
    settings = settings.model_copy(update={"calendar_interval": 1})

    def synced() -> bool:
        with engine.connect() as conn:
            return conn.execute(select(CalendarSource.last_success_at)).scalar() is not None  # type: ignore[call-overload]

    async def scenario() -> list[str | None]:
        seen = []
        a = asyncio.create_task(background_sync(settings, engine, holder="proc-a"))
        await _until(synced)  # a pass at start
        b = asyncio.create_task(background_sync(settings, engine, holder="proc-b"))
        for _ in range(3):  # b keeps trying; a keeps renewing
            await asyncio.sleep(0.5)
            seen.append(holder(engine))
        a.cancel()
        await asyncio.gather(a, return_exceptions=True)
        await _until(lambda: holder(engine) == "proc-b")
        seen.append(holder(engine))
        b.cancel()
        await asyncio.gather(b, return_exceptions=True)
        seen.append(holder(engine))
        return seen

    with running(IcsHandler, state) as base:
        seed(engine, {"a": {"source": "ics", "url": f"{base}/a.ics"}})
        seen = asyncio.run(scenario())
    assert seen == ["proc-a", "proc-a", "proc-a", "proc-b", None]
    assert len(state.requests) >= 2

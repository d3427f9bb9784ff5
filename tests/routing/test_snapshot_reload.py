"""The cached snapshot: configuration reloaded at once, the busy index built in the background
(routing.snapshot), so no webhook waits for a large calendar index to be rebuilt."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

import routing.snapshot
from calendar_sync.index import BusyIndex
from routing.snapshot import SnapshotCache
from switchboard.models import Meta
from tests.twilio_harness import make_app


def bump(engine: Engine, key: str) -> None:
    with engine.begin() as conn:
        n = conn.execute(update(Meta.__table__).where(Meta.__table__.c.key == key)  # type: ignore[attr-defined]
                         .values(value=Meta.__table__.c.value + 1)).rowcount  # type: ignore[attr-defined]
        if not n:
            conn.execute(Meta.__table__.insert().values(key=key, value=1))  # type: ignore[attr-defined]


class SlowBuild:
    """BusyIndex.load that waits for the test's go-ahead (or fails when told to)."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.started = threading.Event()
        self.fail = False
        self.built: list[BusyIndex] = []

    def __call__(self, conn):  # type: ignore[no-untyped-def]
        self.started.set()
        self.go.wait(10)
        if self.fail:
            raise OSError("calendar table unreadable")
        self.built.append(BusyIndex())
        return self.built[-1]


@pytest.fixture
def cache(settings, engine: Engine) -> SnapshotCache:  # type: ignore[no-untyped-def]
    make_app(settings, engine)  # the example organisation
    c = SnapshotCache(engine)
    c.get()
    return c


def check_now(cache: SnapshotCache) -> None:
    cache._checked = 0.0  # the once-a-second version check, now


def test_a_calendar_change_is_built_in_the_background_and_swapped_in(
        cache: SnapshotCache, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = SlowBuild()
    monkeypatch.setattr(routing.snapshot.BusyIndex, "load", slow)
    before = cache.get().busy
    bump(engine, "calendar_version")
    check_now(cache)
    assert cache.get().busy is before  # answered at once, with the last index
    assert slow.started.wait(5)
    slow.go.set()
    cache.wait_for_busy_index()
    assert cache.get().busy is slow.built[0]


def test_an_org_change_is_seen_at_once_and_keeps_the_busy_index(
        cache: SnapshotCache, engine: Engine) -> None:
    snap = cache.get()
    with engine.begin() as conn:
        conn.execute(update(routing.snapshot.Loop.__table__)  # type: ignore[attr-defined]
                     .where(routing.snapshot.Loop.__table__.c.id == "okonomi")  # type: ignore[attr-defined]
                     .values(name="Faktura"))
    bump(engine, "org_version")
    check_now(cache)
    fresh = cache.get()
    assert fresh.loops["okonomi"].name == "Faktura"
    assert fresh.busy is snap.busy


def test_a_failed_build_keeps_the_last_index_and_is_tried_again(
        cache: SnapshotCache, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = SlowBuild()
    slow.fail = True
    slow.go.set()
    monkeypatch.setattr(routing.snapshot.BusyIndex, "load", slow)
    before = cache.get().busy
    bump(engine, "calendar_version")
    check_now(cache)
    cache.get()
    cache.wait_for_busy_index()
    assert cache.get().busy is before
    slow.fail = False
    check_now(cache)
    cache.get()
    cache.wait_for_busy_index()
    assert cache.get().busy is slow.built[0]

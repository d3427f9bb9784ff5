"""Group commit of webhook steps on SQLite (ivr.txn): together, each step on its own savepoint."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from ivr.txn import StepTransactions
from switchboard.db import make_engine


@pytest.fixture()
def db(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path}/g.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE child (pid INTEGER REFERENCES parent (id)"
                          " DEFERRABLE INITIALLY DEFERRED)"))
    yield engine
    engine.dispose()


def bodies(engine) -> list[str]:  # type: ignore[no-untyped-def]
    """What another connection sees as committed."""
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT body FROM note ORDER BY id"))]


def add(conn, body: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": body})


class Boom(Exception):
    pass


def test_steps_of_one_turn_commit_together_and_a_failed_step_loses_only_its_own(db) -> None:
    async def turn() -> tuple[list[str], list[str]]:
        tx = StepTransactions(db)
        with tx.begin() as conn:
            add(conn, "first")
        with pytest.raises(Boom):
            with tx.begin() as conn:
                add(conn, "failed")
                raise Boom
        with tx.begin() as conn:
            add(conn, "third")
        before = bodies(db)  # nothing is committed until the loop runs the group's commit
        await tx.committed()
        return before, bodies(db)

    before, after = asyncio.run(turn())
    assert before == []
    assert after == ["first", "third"]


def test_each_turn_is_its_own_group(db) -> None:
    async def turns() -> list[list[str]]:
        tx = StepTransactions(db)
        seen = []
        for body in ("a", "b"):
            with tx.begin() as conn:
                add(conn, body)
            await tx.committed()
            seen.append(bodies(db))
        return seen

    assert asyncio.run(turns()) == [["a"], ["a", "b"]]


def test_a_failed_commit_fails_every_step_of_its_group_and_the_next_group_works(db) -> None:
    async def turns() -> tuple[str, list[str]]:
        tx = StepTransactions(db)
        with tx.begin() as conn:
            add(conn, "lost with its group")
        with tx.begin() as conn:  # a deferred foreign key fails only at COMMIT
            conn.execute(text("INSERT INTO child (pid) VALUES (99)"))
        try:
            await tx.committed()
            failed = "no"
        except Exception as exc:  # noqa: BLE001 - the driver's IntegrityError
            failed = type(exc).__name__
        with tx.begin() as conn:
            add(conn, "next")
        await tx.committed()
        return failed, bodies(db)

    failed, seen = asyncio.run(turns())
    assert failed == "IntegrityError"
    assert seen == ["next"]


def test_without_an_event_loop_each_step_commits_at_once(db) -> None:
    tx = StepTransactions(db)
    with tx.begin() as conn:
        add(conn, "alone")
    assert bodies(db) == ["alone"]


def test_postgresql_is_never_grouped(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        assert StepTransactions(engine).grouped is False
    finally:
        engine.dispose()

"""Where a webhook step's transaction runs: its own, or a group commit on SQLite.

On PostgreSQL, and wherever no event loop runs (the CLI, direct calls in tests), each step is
one `engine.begin()` transaction, as before.

On SQLite, the webhook handlers run their (short, synchronous) steps on the event loop's
thread, one after another. There, steps share one connection that this module keeps open,
and every step that runs in the same turn of the loop goes into one transaction, each step
under its own SAVEPOINT: a step that fails rolls back only its own work. The transaction is
committed by a callback the loop runs right after those steps, and each handler awaits that
commit (`committed`) before it answers Twilio, so no answer goes out before what it did is
stored. This is group commit, as databases do it for their own logs: SQLite's commit (and
the connection pool's check-out, reset and check-in around each step) cost a webhook about
as much as all its statements together (README, Performance), and under load several
webhooks share one.

The transaction starts with BEGIN IMMEDIATE, so it holds SQLite's write lock from its first
statement until the commit, never longer than one turn of the loop. Other writers (another
server process, `org apply`, the calendar sync thread, the desk's thread pool) wait for it
within SQLite's busy timeout, as they would for any writer. Code on the loop's thread must
not write through another connection while a group is open (it would wait for itself): the
webhook steps use `StepTransactions.begin`, and the app's other routes run in the thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

log = logging.getLogger("switchboard.ivr")


class _Group:
    """One event loop's shared connection and its open group of steps."""

    def __init__(self, engine: Engine, loop: asyncio.AbstractEventLoop) -> None:
        self.engine = engine
        self.loop = loop
        self.conn: Connection | None = None
        self.pending: asyncio.Future[None] | None = None

    def _raw(self) -> tuple[Connection, Any]:
        if self.conn is None or self.conn.closed or self.conn.invalidated:
            self.conn = self.engine.connect()
        return self.conn, self.conn.connection.driver_connection

    @contextmanager
    def step(self) -> Iterator[Connection]:
        conn, raw = self._raw()
        if self.pending is None:
            try:
                raw.execute("BEGIN IMMEDIATE")
            except Exception:
                self._discard()
                raise
            self.pending = self.loop.create_future()
            # Nobody may await a group whose every step failed: never warn about it.
            self.pending.add_done_callback(_retrieve)
            self.loop.call_soon(self._commit)
        raw.execute("SAVEPOINT step")
        try:
            yield conn
        except BaseException:
            try:
                raw.execute("ROLLBACK TO step")
                raw.execute("RELEASE step")
            except Exception:  # the connection itself broke: the whole group fails
                self._fail(RuntimeError("the step's connection failed"))
            raise
        raw.execute("RELEASE step")

    def _commit(self) -> None:
        fut, self.pending = self.pending, None
        if fut is None:
            return
        try:
            assert self.conn is not None
            if self.conn.in_transaction():  # Core statements began SQLAlchemy's transaction
                self.conn.commit()
            else:
                raw: Any = self.conn.connection.driver_connection
                raw.commit()
        except Exception as exc:
            log.error("group commit failed (%s)", type(exc).__name__)
            self._discard()
            if not fut.done():
                fut.set_exception(exc)
            return
        if not fut.done():
            fut.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        fut, self.pending = self.pending, None
        self._discard()
        if fut is not None and not fut.done():
            try:
                fut.set_exception(exc)
            except RuntimeError:  # its loop is closed: nobody waits on it any more
                pass

    def _discard(self) -> None:
        """Drop the connection (rolling back whatever it held); the next step opens another."""
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # already broken; nothing more to free
                pass


def _retrieve(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled():
        fut.exception()


class StepTransactions:
    """The transactions of webhook steps (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # A pool that hands one connection to every user of a thread (in-memory SQLite)
        # would let their commits and resets end the group's transaction: no grouping there.
        self.grouped = engine.dialect.name == "sqlite" and isinstance(engine.pool, QueuePool)
        self._local = threading.local()

    def _group(self) -> _Group | None:
        if not self.grouped:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        group: _Group | None = getattr(self._local, "group", None)
        if group is None or group.loop is not loop:
            if group is not None:  # this thread ran another loop before (tests do)
                group._fail(RuntimeError("the event loop changed"))
            group = self._local.group = _Group(self.engine, loop)
        return group

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction for one step: commits when the block ends (or with its group)."""
        group = self._group()
        if group is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with group.step() as conn:
            yield conn

    async def committed(self) -> None:
        """Wait until the steps run so far on this thread are committed; raises if that failed."""
        group = self._group()
        if group is not None and group.pending is not None:
            await asyncio.shield(group.pending)

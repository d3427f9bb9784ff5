"""Live updates for the console: one in-process broadcaster, and the desk feed that fills it.

`Broadcaster` maps topics to subscribers. `publish(topic, data)` may be called from any thread
and costs O(subscribers of that topic). A subscriber's queue is bounded: when it is full, the
oldest item goes, so a slow subscriber skips to the latest state rather than falling behind.

`DeskFeed` watches what routing and the IVR already write, with no hook on the webhooks' hot
path: while at least one desk is connected, it reads every live offer with its call (one
query on the partial index of live offers) and the presence read-out, every `interval`
seconds, and publishes `agent:<id>` with a `DeskState` (presence item and calls) for each
agent whose calls or presence changed; the desks render from it without reading the database
themselves. Because it reads the database, it sees offers made by any server process
(PostgreSQL with several workers, or a second `serve`); LISTEN/NOTIFY would cut the
interval's latency, the poll keeps it bounded (docs/desk.md). `nudge()` makes it look at once
(the desk's own actions call it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from console.calls import MyCall, live_calls
from ivr.context import FlowContext
from routing.presence import presence

log = logging.getLogger("switchboard.console")
QUEUE_SIZE = 16


@dataclass(eq=False)
class Subscription:
    """One subscriber's queue of (topic, data), on its own event loop."""

    topics: frozenset[str]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def _put(self, item: tuple[str, Any]) -> None:
        if self.queue.full():  # the oldest goes: the latest state is what matters
            self.queue.get_nowait()
        self.queue.put_nowait(item)

    async def get(self, timeout: float) -> tuple[str, Any] | None:
        """The next (topic, data), or None after timeout seconds."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class Broadcaster:
    """Topic -> subscribers; thread-safe publishing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}
        self.on_first_subscriber: Callable[[], None] | None = None

    def publish(self, topic: str, data: Any = None) -> None:
        """Hand (topic, data) to every subscriber of topic, from any thread."""
        with self._lock:
            subs = list(self._subs.get(topic, ()))
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._put, (topic, data))
            except RuntimeError:  # its loop has closed; it is being removed
                pass

    def topics(self) -> set[str]:
        """Topics with at least one subscriber now."""
        with self._lock:
            return {t for t, subs in self._subs.items() if subs}

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        """Receive what is published to these topics while the block runs."""
        sub = Subscription(frozenset(topics), asyncio.get_running_loop())
        with self._lock:
            for t in topics:
                self._subs.setdefault(t, set()).add(sub)
        if self.on_first_subscriber is not None:
            self.on_first_subscriber()
        try:
            yield sub
        finally:
            with self._lock:
                for t in topics:
                    subs = self._subs.get(t)
                    if subs is not None:
                        subs.discard(sub)
                        if not subs:
                            del self._subs[t]


@dataclass(frozen=True)
class DeskState:
    """What one agent's desk shows that changes: their presence item and their calls."""

    me: dict[str, Any]
    calls: tuple[MyCall, ...]

    def __eq__(self, other: object) -> bool:
        # busy_until and notes are in the presence item; the label is made per language later.
        return isinstance(other, DeskState) and self.calls == other.calls and all(
            self.me.get(k) == other.me.get(k)
            for k in ("state", "busy_until", "notes", "stop_reason", "offerable"))

    __hash__ = None  # type: ignore[assignment]


def agent_topic(agent_id: str) -> str:
    """The topic of one agent's desk."""
    return f"agent:{agent_id}"


class DeskFeed:
    """Polls live offers and presence while desks are connected; publishes what changed."""

    def __init__(self, ctx: FlowContext, broadcaster: Broadcaster, *,
                 interval: float = 0.4) -> None:
        self.ctx = ctx
        self.broadcaster = broadcaster
        self.interval = interval
        self._seen: dict[str, DeskState] = {}
        self._callers: dict[str, tuple[Any, ...]] = {}  # per live call: number, members
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        broadcaster.on_first_subscriber = self.ensure_running

    def ensure_running(self) -> None:
        """Start the polling task on the running loop, unless it runs already."""
        loop = asyncio.get_running_loop()
        # (A task left on a loop that has since closed, as a test client's does, never ends.)
        if self._task is not None and not self._task.done() and self._loop is loop:
            return
        self._loop = loop
        self._wake = asyncio.Event()
        self._task = self._loop.create_task(self._run())

    def nudge(self) -> None:
        """Look now rather than at the next tick (from any thread)."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:
                pass

    def read(self, agents: set[str] | None = None) -> dict[str, DeskState]:
        """{agent_id: what their desk shows}: calls and presence of the agents watched (all
        when None; blocking I/O)."""
        snap = self.ctx.cache.get()
        now = self.ctx.clock()
        with self.ctx.engine.connect() as conn:
            calls = live_calls(conn, snap, now=now, cache=self._callers, agents=agents)
            people = presence(conn, snap, now=now)
        # Each desk gets its state with the news, so 50 desks need no reads of their own:
        # presence of every agent alone costs milliseconds (bench.desk_bench).
        return {p["id"]: DeskState(p, tuple(calls.get(p["id"], ())))
                for p in people if agents is None or p["id"] in agents}

    def changes(self, current: dict[str, DeskState]) -> list[str]:
        """Agents whose entry differs from the last look (all of them the first time)."""
        changed = [a for a, v in current.items() if self._seen.get(a) != v]
        changed += [a for a in self._seen if a not in current]
        self._seen = current
        return changed

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            watched = {t for t in self.broadcaster.topics() if t.startswith("agent:")}
            if not watched:
                self._seen = {}
                return  # started again by the next subscriber
            agents = {t.removeprefix("agent:") for t in watched}
            started = time.perf_counter()
            try:
                # Database reads run off the event loop, where the webhook steps run.
                current = await run_in_threadpool(self.read, agents)
            except Exception as exc:  # the database may be briefly away: try again later
                log.warning("desk feed read failed (%s)", type(exc).__name__)
            else:
                for agent_id in self.changes(current):
                    self.broadcaster.publish(agent_topic(agent_id), current.get(agent_id))
            # Under load a read takes longer: then look less often, so the feed never takes
            # more than about a fifth of the process from the webhooks.
            pause = max(self.interval, 4 * (time.perf_counter() - started))
            try:
                await asyncio.wait_for(self._wake.wait(), pause)
            except TimeoutError:
                pass
            self._wake.clear()

"""The broadcaster and the desk feed, in process: thread-safe publishing, a slow subscriber
skipping to the latest state, and the feed telling only the desks whose state changed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from console.events import QUEUE_SIZE, Broadcaster, DeskFeed, DeskState
from ivr.context import FlowContext
from routing.snapshot import SnapshotCache
from tests.console.conftest import Live, TwilioCall

T = TypeVar("T")


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own (Playwright's sync API holds this thread's loop)."""
    out: list[T] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(main())))
    thread.start()
    thread.join(30)
    assert out, "the coroutine did not finish"
    return out[0]


def test_publish_from_another_thread_reaches_only_that_topic() -> None:
    hub = Broadcaster()

    async def main() -> list[tuple[str, object] | None]:
        async with hub.subscribe("agent:janet") as janet, hub.subscribe("agent:per") as per:
            t = threading.Thread(target=hub.publish, args=("agent:janet", {"n": 1}))
            t.start()
            t.join()
            got = [await janet.get(5), await per.get(0.05)]
        assert hub.topics() == set()
        return got

    assert run(main) == [("agent:janet", {"n": 1}), None]


def test_a_slow_subscriber_keeps_the_latest() -> None:
    hub = Broadcaster()

    async def main() -> list[object]:
        async with hub.subscribe("t") as sub:
            for i in range(QUEUE_SIZE + 5):
                hub.publish("t", i)
            await asyncio.sleep(0)  # let the loop run the hand-overs
            out = []
            while (got := await sub.get(0.05)) is not None:
                out.append(got[1])
            return out

    got = run(main)
    assert len(got) == QUEUE_SIZE and got[-1] == QUEUE_SIZE + 4


def test_feed_reports_only_the_agents_whose_desk_changed(live: Live) -> None:
    ctx = FlowContext(settings=live.settings, engine=live.engine,
                      cache=SnapshotCache(live.engine, always_open=True),
                      clock=lambda: datetime.now(UTC))
    feed = DeskFeed(ctx, Broadcaster())
    watched = {"janet", "ole.hansen", "per", "may.tove"}
    first = feed.read(watched)
    assert set(feed.changes(first)) == watched  # the first look: everyone
    assert feed.changes(feed.read(watched)) == []  # nothing happened
    call = TwilioCall(live, from_="+4791234567")
    call.start(press="2")  # rings janet, ole.hansen and per
    ringing = feed.read(watched)
    assert sorted(feed.changes(ringing)) == ["janet", "ole.hansen", "per"]
    state = ringing["per"]
    assert isinstance(state, DeskState) and state.me["state"] == "ringing"
    assert [(c.call_id, c.status) for c in state.calls] == [(call.sid, "ringing")]
    assert state.calls[0].greeting_line == "Arbeidsmandsforbundet, du snakker med Per."
    assert feed.read({"per"}).keys() == {"per"}
    call.hang_up()

"""Operations: /metrics (Prometheus), /readyz, and the request-id and webhook-latency middleware.

The call figures are read from the database when Prometheus scrapes (a custom Collector), not
counted in the webhooks: each scrape reads only the calls that ended since the last one, so
a scrape stays cheap on a large table and a webhook pays nothing for it. The webhook latency
is the one thing measured in the request path: a histogram observe (about a microsecond)
in a plain ASGI middleware, which also sets the request id for the log lines
(switchboard.logs).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine

from calendar_sync.models import CalendarSource
from console.stats import CallRec, outcome, time_in_line, utc
from console.stats_load import CALL, load_calls, load_waiting, loop_confs
from ivr.context import FlowContext
from routing.state import ON_CALL_CAP
from switchboard.logs import CALL_SID, REQUEST_ID, new_request_id

LINE_BUCKETS = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
WEBHOOK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
READ_WINDOW = timedelta(days=7)
SLACK = timedelta(seconds=120)  # a call whose end commits late is still read on the next scrape
SOURCE = CalendarSource.__table__  # type: ignore[attr-defined]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class RequestObserver:
    """Plain ASGI middleware: a request id for every request's log lines, and each Twilio
    webhook's time by route (the route's path as routed; no route: "other")."""

    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram
        self.children: dict[str, Any] = {}  # route path -> its histogram child

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = REQUEST_ID.set(new_request_id())
        sid = CALL_SID.set(None)
        try:
            if scope["path"].startswith("/twilio/"):
                t0 = time.perf_counter()
                try:
                    await self.app(scope, receive, send)
                finally:
                    self._child(scope.get("route")).observe(time.perf_counter() - t0)
            else:
                await self.app(scope, receive, send)
        finally:
            CALL_SID.reset(sid)
            REQUEST_ID.reset(rid)

    def _child(self, route: Any) -> Any:
        path = getattr(route, "path", None)
        label = path if isinstance(path, str) else "other"  # only the app's own route paths
        child = self.children.get(label)
        if child is None:
            child = self.children[label] = self.histogram.labels(label)
        return child


class CallCollector(Collector):
    """Calls by loop and outcome, time in line, callers waiting now, calendar syncs and the
    mail outbox, read from the database at scrape time."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._since: datetime | None = None  # calls that ended before this are counted
        self._seen: dict[str, datetime] = {}  # counted calls that ended on or after _since
        self._calls: Counter[tuple[str, str]] = Counter()
        self._line: dict[str, list[float]] = {}  # loop -> counts per bucket (+Inf last), sum

    def _read_calls(self, now: datetime) -> None:
        """Count the calls that ended since the last scrape (all of them the first time)."""
        newest = self._since
        for call in self._new_calls(now):
            if call.ended_at is None or call.call_sid in self._seen:
                continue
            if self._since is not None and call.ended_at < self._since:
                continue
            self._seen[call.call_sid] = call.ended_at
            loop = next((w for w, _ in reversed(call.path) if w != "voicemail"), "none")
            self._calls[(loop, outcome(call))] += 1
            wait = time_in_line(call)
            if wait is not None:
                row = self._line.setdefault(loop, [0.0] * (len(LINE_BUCKETS) + 2))
                for i, le in enumerate(LINE_BUCKETS):
                    if wait <= le:
                        row[i] += 1
                row[len(LINE_BUCKETS)] += 1  # +Inf
                row[-1] += wait
            if newest is None or call.ended_at > newest:
                newest = call.ended_at
        if newest is not None:
            self._since = newest - SLACK
            self._seen = {s: at for s, at in self._seen.items() if at >= self._since}

    def _new_calls(self, now: datetime) -> Iterator[CallRec]:
        """The calls that may have ended since the last scrape, a week of starts at a time
        (the first scrape reads the whole history, in bounded pieces)."""
        end = now + timedelta(days=1)
        with self.ctx.engine.connect() as conn:
            if self._since is not None:
                start = self._since - ON_CALL_CAP
            else:
                first = conn.execute(select(func.min(CALL.c.started_at))).scalar()
                if first is None:
                    return
                start = utc(first)  # type: ignore[assignment]
            while start < end:
                yield from load_calls(conn, start, min(start + READ_WINDOW, end))
                start += READ_WINDOW

    def collect(self) -> Iterator[Metric]:
        """The metrics, read now."""
        now = self.ctx.clock()
        with self._lock:
            self._read_calls(now)
            calls = CounterMetricFamily("switchboard_calls", "Calls ended, by the last loop "
                                        "they were in and how they ended",
                                        labels=["loop", "outcome"])
            for (loop, how), n in sorted(self._calls.items()):
                calls.add_metric([loop, how], n)
            line = HistogramMetricFamily("switchboard_time_in_line_seconds",
                                         "From a caller's first loop until answered, sent to "
                                         "voicemail or hung up", labels=["loop"])
            for loop, row in sorted(self._line.items()):
                bounds = [*(str(b) for b in LINE_BUCKETS), "+Inf"]
                line.add_metric([loop], list(zip(bounds, row[:-1], strict=True)),
                                sum_value=row[-1])
        yield calls
        yield line
        yield from self._now(now)

    def _now(self, now: datetime) -> Iterator[Metric]:
        snap = self.ctx.cache.get()
        waiting = GaugeMetricFamily("switchboard_calls_waiting",
                                    "Callers in a loop now (in line or ringing)", labels=["loop"])
        age = GaugeMetricFamily("switchboard_calendar_sync_age_seconds",
                                "Seconds since the calendar last synced well (NaN: never)",
                                labels=["agent", "kind"])
        fails = GaugeMetricFamily("switchboard_calendar_sync_failures",
                                  "Failed syncs since the last good one", labels=["agent", "kind"])
        outbox = GaugeMetricFamily("switchboard_mail_outbox_depth", "Mails not yet sent")
        with self.ctx.engine.connect() as conn:
            loops = loop_confs(conn, snap)
            counts = Counter(w.loop_id for w in load_waiting(conn, loops, now=now))
            for lp in loops:
                if lp.active:
                    waiting.add_metric([lp.id], counts[lp.id])
            for r in conn.execute(select(SOURCE.c.agent_id, SOURCE.c.kind,
                                         SOURCE.c.last_success_at, SOURCE.c.failures)):
                last = utc(r.last_success_at)
                age.add_metric([r.agent_id, r.kind],
                               (now - last).total_seconds() if last else float("nan"))
                fails.add_metric([r.agent_id, r.kind], int(r.failures or 0))
            if inspect(conn).has_table("outbox"):  # the tickets' mail outbox (docs/tickets.md)
                n = conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
                outbox.add_metric([], int(n.scalar() or 0))
        yield waiting
        yield age
        yield fails
        yield outbox


def ready(engine: Engine) -> tuple[bool, dict[str, Any]]:
    """Whether the database answers and its schema is at every head of the migrations."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from switchboard.db import _alembic_config

    heads = set(ScriptDirectory.from_config(_alembic_config(engine)).get_heads())
    try:
        with engine.connect() as conn:
            conn.execute(select(func.count()).select_from(text("(SELECT 1) AS one")))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # the database is down or unreadable: not ready
        return False, {"database": f"unavailable ({type(exc).__name__})"}
    body: dict[str, Any] = {"database": "ok", "heads": sorted(heads),
                            "current": sorted(current)}
    if current != heads:
        body["schema"] = "not at the latest migration: run `switchboard serve` or migrate"
        return False, body
    body["schema"] = "ok"
    return True, body

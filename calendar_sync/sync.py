"""One synchronisation pass: group agents by source, fetch, apply the policy, store atomically."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from calendar_sync.ics import FeedState, IcsSource
from calendar_sync.models import BusyInterval, CalendarSource
from calendar_sync.policy import Interval, Policy, intervals
from calendar_sync.protocol import CalendarSource as Source
from calendar_sync.protocol import MailboxResult, SourceError
from routing.models import Agent, Organisation
from switchboard.models import Meta
from switchboard.settings import Settings

log = logging.getLogger(__name__)

WINDOW_BACK = timedelta(days=1)
WINDOW_AHEAD = timedelta(days=14)
VERSION_KEY = "calendar_version"
HEARTBEAT_KEY = "calendar_heartbeat"
# Bump the version at least this often while syncs succeed, so the processes' BusyIndex
# reloads fresh last_success times and never shows calendar_stale for a calendar that syncs.
HEARTBEAT = timedelta(minutes=5)
MAX_BACKOFF = timedelta(minutes=15)
WRITE_BATCH = 20  # agents per write transaction, so the write lock is held briefly

SourceFactory = Callable[[str], Source]


@dataclass
class AgentReport:
    """How one agent's calendar fared in this pass."""

    agent_id: str
    kind: str
    ok: bool
    error: str | None = None
    blocking: int = 0
    stored: int = 0
    skipped: bool = False  # backing off after earlier failures


@dataclass
class PassReport:
    """The outcome of one pass."""

    agents: list[AgentReport] = field(default_factory=list)
    changed: bool = False

    @property
    def failed(self) -> list[AgentReport]:
        """Agents whose source failed (or is backing off) this pass."""
        return [a for a in self.agents if not a.ok]


@dataclass
class _Target:
    agent_id: str
    kind: str
    key: str  # ICS URL or path, or mailbox


def backoff(failures: int, interval: int) -> timedelta:
    """How long a source waits after `failures` failures in a row: doubling, at most 15 min."""
    if failures <= 0:
        return timedelta(0)
    return min(timedelta(seconds=interval * 2 ** (failures - 1)), MAX_BACKOFF)


class Sources:
    """Builds the EWS and Graph sources from settings on first use and keeps them, so a
    long-running worker reuses their HTTP sessions and tokens from pass to pass."""

    def __init__(self, settings: Settings, timezone: str) -> None:
        self._settings = settings
        self._timezone = timezone
        self._made: dict[str, Source] = {}
        self.ics = IcsSource()

    def __call__(self, kind: str) -> Source:
        if kind not in self._made:
            if kind == "ews":
                from calendar_sync.ews import EwsSource

                self._made[kind] = EwsSource(self._settings, self._timezone)
            elif kind == "graph":
                from calendar_sync.graph import GraphSource

                self._made[kind] = GraphSource(self._settings)
            else:
                raise SourceError(f"unknown calendar source {kind!r}")
        return self._made[kind]

    def close(self) -> None:
        """Release the sources' connections."""
        self.ics.close()
        for source in self._made.values():
            close = getattr(source, "close", None)
            if callable(close):
                close()
        self._made.clear()


def _target(agent_id: str, cal: object) -> _Target | str:
    if not isinstance(cal, Mapping):
        return "calendar setting is not a mapping"
    kind = str(cal.get("source", ""))
    if kind == "ics":
        url = cal.get("url")
        return _Target(agent_id, kind, str(url)) if url else "ics calendar without url"
    if kind in ("ews", "graph"):
        box = cal.get("mailbox")
        return _Target(agent_id, kind, str(box)) if box else f"{kind} calendar without mailbox"
    return f"unknown calendar source {kind!r}"


@dataclass
class _Org:
    timezone: str
    policy: Policy
    agents: list[tuple[str, object]]  # (agent id, calendar setting) of active agents


@dataclass(frozen=True)
class _Pass:
    policy: Policy
    tz: ZoneInfo
    now: datetime
    start: datetime
    end: datetime


def _load_org(conn: Connection, settings: Settings) -> _Org:
    org = conn.execute(
        select(Organisation.timezone, Organisation.config).where(Organisation.id == 1)  # type: ignore[call-overload]
    ).first()
    tz = (org.timezone if org else None) or settings.timezone
    policy = Policy.from_config((org.config or {}).get("calendar_policy") if org else None)
    agents = conn.execute(
        select(Agent.id, Agent.calendar).where(Agent.active)  # type: ignore[call-overload, arg-type]
    ).all()
    return _Org(tz, policy, [(a.id, a.calendar) for a in agents if a.calendar])


def _load_sources(conn: Connection) -> dict[str, Any]:
    return {r.agent_id: r for r in conn.execute(select(CalendarSource)).all()}  # type: ignore[arg-type]


def _load_stored(conn: Connection) -> dict[str, set[tuple[Any, ...]]]:
    stored: dict[str, set[tuple[Any, ...]]] = {}
    for r in conn.execute(
        select(BusyInterval.agent_id, BusyInterval.start, BusyInterval.end,  # type: ignore[call-overload]
               BusyInterval.status, BusyInterval.all_day, BusyInterval.blocks, BusyInterval.note)
    ):
        stored.setdefault(r[0], set()).add(tuple(r[1:]))
    return stored


def _lock(conn: Connection) -> None:
    # A write to the version row first: on SQLite it takes the write lock, on PostgreSQL the
    # row lock, so a `calendar sync` run beside a server's background pass waits its turn
    # instead of both deciding to insert the same rows.
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(Meta).values(key=VERSION_KEY, value=0)
                 .on_conflict_do_nothing(index_elements=["key"]))
    conn.execute(update(Meta).where(Meta.key == VERSION_KEY)  # type: ignore[arg-type]
                 .values(value=Meta.value))


def _fetch(kind: str, keys: list[str], factory: SourceFactory, ics: IcsSource,
           start: datetime, end: datetime) -> dict[str, MailboxResult]:
    try:
        source: Source = ics if kind == "ics" else factory(kind)
        return source.fetch(keys, start, end)
    except Exception as exc:  # a source that cannot even be built fails its agents only
        msg = str(exc) if isinstance(exc, SourceError) else type(exc).__name__
        return {k: MailboxResult(error=msg) for k in keys}


def _backing_off(prev: object, key: str, now: datetime, interval: int) -> bool:
    failures = getattr(prev, "failures", 0)
    last = getattr(prev, "last_attempt_at", None)
    return bool(failures and last is not None and getattr(prev, "source_key", None) == key
                and now < last + backoff(failures, interval))


def _bump(conn: Connection, key: str, value: int | None = None) -> None:
    stmt = update(Meta).where(Meta.key == key)  # type: ignore[arg-type]
    stmt = stmt.values(value=value if value is not None else Meta.value + 1)
    if not conn.execute(stmt).rowcount:
        conn.execute(insert(Meta).values(key=key, value=value if value is not None else 1))


def _row(iv: Interval) -> tuple:
    return (iv.start, iv.end, iv.status, iv.all_day, iv.blocks, iv.note)


@dataclass
class _Plan:
    """What one agent's outcome writes: source-row values, and new intervals (None: keep)."""

    report: AgentReport
    values: dict[str, object]
    rows: list[Interval] | None
    changed: bool


def _plan(t: _Target, res: MailboxResult, prev: Any, stored: set[tuple[Any, ...]],
          ctx: _Pass, ics: IcsSource) -> _Plan:
    """Apply the policy to one agent's result and decide what to write (no database access)."""
    values: dict[str, object] = {"kind": t.kind, "last_attempt_at": ctx.now, "source_key": t.key}
    rows: list[Interval] = []
    if res.error is None:
        try:
            rows = intervals(res.events, ctx.policy, ctx.tz, (ctx.start, ctx.end))
        except Exception as exc:  # one odd event must not stop the pass
            res = MailboxResult(error=f"could not read events: {type(exc).__name__}")
    if res.error is not None:
        values.update(last_error=res.error[:500], failures=(prev.failures if prev else 0) + 1)
        return _Plan(AgentReport(t.agent_id, t.kind, ok=False, error=res.error), values, None,
                     changed=prev is None or prev.last_error is None)
    replace = {_row(iv) for iv in rows} != stored
    values.update(last_success_at=ctx.now, last_error=None, failures=0)
    st = ics.states.get(t.key) if t.kind == "ics" else None
    if st is not None:
        values.update(etag=st.etag, last_modified=st.last_modified)
        if st.changed or prev is None or prev.source_key != t.key:
            values["body"] = st.body
    report = AgentReport(t.agent_id, t.kind, ok=True, blocking=sum(iv.blocks for iv in rows),
                         stored=len(rows))
    changed = replace or prev is None or prev.last_error is not None or prev.last_success_at is None
    return _Plan(report, values, rows if replace else None, changed)


def _write(conn: Connection, agent_id: str, plan: _Plan, exists: bool) -> None:
    if plan.rows is not None:
        conn.execute(delete(BusyInterval).where(BusyInterval.agent_id == agent_id))  # type: ignore[arg-type]
        if plan.rows:
            conn.execute(insert(BusyInterval), [
                {"agent_id": agent_id, "start": iv.start, "end": iv.end, "status": iv.status,
                 "all_day": iv.all_day, "blocks": iv.blocks, "note": iv.note}
                for iv in plan.rows])
    if exists:
        conn.execute(update(CalendarSource)
                     .where(CalendarSource.agent_id == agent_id)  # type: ignore[arg-type]
                     .values(**plan.values))
    else:
        conn.execute(insert(CalendarSource).values(agent_id=agent_id, **plan.values))


def run_pass(engine: Engine, settings: Settings, *, now: datetime,
             sources: SourceFactory | None = None, force: bool = False) -> PassReport:
    """Sync every active agent's calendar once; failures keep the agent's last good intervals."""
    with engine.connect() as conn:
        org = _load_org(conn, settings)
        known = _load_sources(conn)
    tz = ZoneInfo(org.timezone)
    start, end = now - WINDOW_BACK, now + WINDOW_AHEAD
    report = PassReport()

    targets: list[_Target] = []
    for agent_id, cal in org.agents:
        t = _target(agent_id, cal)
        if isinstance(t, str):
            report.agents.append(AgentReport(agent_id, "?", ok=False, error=t))
            continue
        prev = known.get(agent_id)
        if not force and _backing_off(prev, t.key, now, settings.calendar_interval):
            report.agents.append(AgentReport(agent_id, t.kind, ok=False, skipped=True,
                                             error=getattr(prev, "last_error", None)))
            continue
        targets.append(t)

    # ICS feeds remember their ETag and last body; a changed URL starts afresh.
    states: dict[str, FeedState] = {}
    for t in targets:
        prev = known.get(t.agent_id)
        if t.kind == "ics" and prev is not None and prev.source_key == t.key:
            states[t.key] = FeedState(prev.etag, prev.last_modified, prev.body)
    own = Sources(settings, org.timezone) if sources is None else None
    factory: SourceFactory = own or sources  # type: ignore[assignment]
    # A long-lived Sources keeps its IcsSource, and with it the feeds' expansions.
    shared = factory if isinstance(factory, Sources) else None
    ics = shared.ics if shared is not None else IcsSource()
    ics.states = states
    results: dict[tuple[str, str], MailboxResult] = {}
    try:
        for kind in sorted({t.kind for t in targets}):
            keys = list(dict.fromkeys(t.key for t in targets if t.kind == kind))
            for key, res in _fetch(kind, keys, factory, ics, start, end).items():
                results[(kind, key)] = res
    finally:
        if own is not None:
            own.close()
        elif shared is None:
            ics.close()

    # Everything that is not a write happens before any write lock is taken: SQLite has one
    # writer at a time, and webhooks reserving agents must not wait behind a long pass.
    with engine.connect() as conn:
        stored = _load_stored(conn)
    ctx = _Pass(org.policy, tz, now, start, end)
    plans = [(t.agent_id, _plan(t, results.get((t.kind, t.key)) or MailboxResult(error="no result"),
                                known.get(t.agent_id), stored.get(t.agent_id, set()), ctx, ics))
             for t in targets]
    report.agents += [p.report for _, p in plans]
    changed = any(p.changed for _, p in plans)
    synced = {a for a, _ in org.agents}
    gone = [a for a in set(known) | set(stored) if a not in synced]
    # Each agent's intervals are replaced atomically; agents are written a batch per
    # transaction, and the version moves in the last one, once everything is in place.
    batches = [plans[i:i + WRITE_BATCH] for i in range(0, len(plans), WRITE_BATCH)] or [[]]
    for n, batch in enumerate(batches):
        with engine.begin() as conn:
            _lock(conn)
            ids = [a for a, _ in batch]
            exists = set(conn.execute(select(CalendarSource.agent_id)  # type: ignore[call-overload]
                                      .where(CalendarSource.agent_id.in_(ids))).scalars())  # type: ignore[attr-defined]
            for agent_id, plan in batch:
                _write(conn, agent_id, plan, agent_id in exists)
            if n < len(batches) - 1:
                continue
            if gone:  # calendar removed or agent deactivated: nothing of it may block any more
                conn.execute(delete(BusyInterval).where(BusyInterval.agent_id.in_(gone)))  # type: ignore[attr-defined]
                conn.execute(delete(CalendarSource).where(CalendarSource.agent_id.in_(gone)))  # type: ignore[attr-defined]
                changed = True
            beat = conn.execute(select(Meta.value).where(Meta.key == HEARTBEAT_KEY)).scalar()  # type: ignore[call-overload, arg-type]
            if any(a.ok for a in report.agents) and (
                    beat is None or now.timestamp() - beat >= HEARTBEAT.total_seconds()):
                changed = True
            if changed:
                _bump(conn, VERSION_KEY)
                _bump(conn, HEARTBEAT_KEY, int(now.timestamp()))
    report.changed = changed
    report.agents.sort(key=lambda a: a.agent_id)
    if report.failed:
        log.warning("calendar sync: %d of %d calendars failed", len(report.failed),
                    len(report.agents))
    return report

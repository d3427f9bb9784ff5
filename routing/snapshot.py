"""The organisation's configuration and calendars, cached in memory per server process.

Webhooks read this instead of the database: it is reloaded only when `org apply` or a
calendar sync bumps a version counter in the `meta` table (checked at most once a second).

The configuration is a few small tables and is reloaded at once, inside the request that
notices the new version. The calendars' busy index can be large (0.4 s to build for 2,000
agents with 200 intervals each) and a sync bumps its version at least every five minutes,
so it is built in a background thread while webhooks go on with the last one, and swapped
in when ready. A build that fails keeps the last good index; the next check tries again.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from calendar_sync.index import BusyIndex
from routing.decide import LoopSpec, loop_members
from routing.models import Agent, Loop, MenuEntry, Organisation, PhoneNumber
from switchboard.models import Meta

CHECK_EVERY = 1.0  # seconds between version checks
log = logging.getLogger("switchboard.routing")


@dataclass(frozen=True)
class AgentInfo:
    """An agent's configuration."""

    id: str
    name: str
    phone: str
    roles: tuple[str, ...]
    position: int
    active: bool
    has_calendar: bool


@dataclass(frozen=True)
class LoopInfo:
    """A loop's configuration with its members resolved."""

    id: str
    name: str
    members: tuple[str, ...]
    strategy: str
    ring_timeout: int
    max_wait: int
    wrap_up: int
    overflow: str
    active: bool
    name_en: str | None = None  # what English-speaking callers hear (`name` when None)

    def said(self, lang: str) -> str:
        """The loop's name as a caller in `lang` hears it."""
        return (self.name_en or self.name) if lang == "en" else self.name

    def spec(self) -> LoopSpec:
        """What the pure decision needs."""
        return LoopSpec(self.id, self.members, self.strategy, self.ring_timeout, self.max_wait)


@dataclass
class OrgSnapshot:
    """Everything a webhook needs to know about the organisation, read once."""

    configured: bool = False
    name: str = "sentralbordet"
    name_en: str | None = None
    timezone: str = "Europe/Oslo"
    config: dict[str, Any] = field(default_factory=dict)
    agents: dict[str, AgentInfo] = field(default_factory=dict)
    loops: dict[str, LoopInfo] = field(default_factory=dict)
    numbers: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    menu: dict[str, str] = field(default_factory=dict)
    busy: BusyIndex = field(default_factory=BusyIndex)
    hours: Any = None
    versions: tuple[int, int] = (0, 0)

    @property
    def english(self) -> tuple[str, str] | None:
        """(digit, loop id) of the English choice, if any."""
        e = self.config.get("english")
        if e and e.get("digit") and e.get("loop"):
            return str(e["digit"]), str(e["loop"])
        return None

    @property
    def menu_default(self) -> str | None:
        """The loop a caller goes to after three plays without a valid digit."""
        d = self.config.get("menu_default")
        if d:
            return str(d)
        return self.menu[list(self.menu)[-1]] if self.menu else None

    def closed_reason(self, at: datetime) -> str | None:
        """Why the lines are closed at `at`, or None when open."""
        if self.hours is None:
            return None
        return self.hours.closed_reason(at)


def read_versions(conn: Connection) -> tuple[int, int]:
    """(org_version, calendar_version) from the meta table."""
    rows: dict[str, int] = dict(
        conn.execute(select(Meta.key, Meta.value).where(  # type: ignore[call-overload]
            Meta.key.in_(("org_version", "calendar_version")))).all()  # type: ignore[attr-defined]
    )
    return int(rows.get("org_version", 0)), int(rows.get("calendar_version", 0))


def load_snapshot(conn: Connection, *, default_tz: str = "Europe/Oslo",
                  always_open: bool = False,
                  busy: tuple[BusyIndex, int] | None = None) -> OrgSnapshot:
    """Read the configuration tables and the busy intervals.

    `busy` is an index already built, with the calendar version it was built for: it is used
    instead of reading the intervals.
    """
    snap = OrgSnapshot(versions=read_versions(conn))
    org = conn.execute(select(Organisation.__table__)).first()  # type: ignore[attr-defined]
    snap.agents = {
        r.id: AgentInfo(r.id, r.name, r.phone, tuple(r.roles or ()), r.position, bool(r.active),
                        bool(r.calendar))
        for r in (row._mapping for row in conn.execute(select(Agent.__table__)))  # type: ignore[attr-defined]
    }
    active = [(a.id, a.roles) for a in sorted(snap.agents.values(), key=lambda a: a.position)
              if a.active]
    for r in (row._mapping for row in conn.execute(select(Loop.__table__))):  # type: ignore[attr-defined]
        snap.loops[r["id"]] = LoopInfo(
            r["id"], r["name"], loop_members(r["members"] or [], r["roles"] or [], active),
            r["strategy"], r["ring_timeout"], r["max_wait"], r["wrap_up"], r["overflow"],
            bool(r["active"]), r["name_en"])
    snap.numbers = {
        r.number: (r.kind, r.agent_id)
        for r in conn.execute(select(PhoneNumber.__table__))  # type: ignore[attr-defined]
    }
    snap.menu = {
        r.digit: r.loop_id
        for r in conn.execute(select(MenuEntry.__table__).order_by("digit"))  # type: ignore[attr-defined]
    }
    if org is not None:
        o = org
        snap.configured = True
        snap.name, snap.name_en = o.name, o.name_en
        snap.timezone = o.timezone or default_tz
        snap.config = dict(o.config or {})
    else:
        snap.timezone = default_tz
    if not always_open:
        from routing.hours import OpeningHours

        snap.hours = OpeningHours.from_config(snap.config, snap.timezone)
    if busy is None:
        snap.busy = BusyIndex.load(conn)
    else:
        snap.busy, calendar_version = busy
        snap.versions = (snap.versions[0], calendar_version)
    return snap


class SnapshotCache:
    """Holds the current OrgSnapshot; reloads it when a version counter moves."""

    def __init__(self, engine: Engine, *, default_tz: str = "Europe/Oslo",
                 always_open: bool = False) -> None:
        self.engine = engine
        self.default_tz = default_tz
        self.always_open = always_open
        self._snap: OrgSnapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None

    def get(self) -> OrgSnapshot:
        """The snapshot, at most CHECK_EVERY seconds behind the database (calendars: see above)."""
        now = time.monotonic()
        snap = self._snap
        if snap is not None and now - self._checked < CHECK_EVERY:
            return snap
        with self._lock:
            with self.engine.connect() as conn:
                versions = read_versions(conn)
                snap = self._snap
                if snap is None:  # the first load, or after invalidate(): all of it, now
                    snap = self._snap = load_snapshot(conn, default_tz=self.default_tz,
                                                      always_open=self.always_open)
                elif versions[0] != snap.versions[0]:
                    snap = self._snap = load_snapshot(
                        conn, default_tz=self.default_tz, always_open=self.always_open,
                        busy=(snap.busy, snap.versions[1]))
            if versions[1] != snap.versions[1]:
                self._build_busy()
            self._checked = time.monotonic()
            return snap

    def _build_busy(self) -> None:
        """Start building the busy index in the background, unless a build is running."""
        if self._building is not None and self._building.is_alive():
            return
        self._building = threading.Thread(target=self._swap_in_busy, name="busy-index",
                                          daemon=True)
        self._building.start()

    def _swap_in_busy(self) -> None:
        try:
            with self.engine.connect() as conn:
                calendar_version = read_versions(conn)[1]
                busy = BusyIndex.load(conn)
        except Exception as exc:  # keep routing on the last good index; retried next check
            log.warning("building the busy index failed (%s); keeping the last one",
                        type(exc).__name__)
            return
        with self._lock:
            snap = self._snap
            if snap is not None and snap.versions[1] != calendar_version:
                self._snap = dataclasses.replace(
                    snap, busy=busy, versions=(snap.versions[0], calendar_version))

    def wait_for_busy_index(self, timeout: float = 10.0) -> None:
        """Wait for a background build of the busy index to finish (for tests)."""
        building = self._building
        if building is not None:
            building.join(timeout)

    def invalidate(self) -> None:
        """Force a reload on the next get()."""
        self._snap = None

"""The routing figure of docs/benchmarks.md: one decision for a call into a loop of 2,000 members.

Each member has N stored busy intervals (BusyIndex built from rows, like BusyIndex.load gets
them; the build is not timed). One timed decision is what route_step does in process: the
rows of routing.roster's queries (the exceptional members, and ringall's idle keys) turned
into a Roster (routing.roster.build_roster, from rows held in memory: the query itself is not
timed), the calendar-busy set (BusyIndex.busy_now), then routing.decide.decide_roster.

The clock moves 50 ms per decision, as calls come in, so the busy set is carried across span
boundaries (or recomputed) as they pass; the bench says how often that happened and what a
full recompute costs. Prints the median over many decisions at 200 intervals per member, and
the ratio of the 200 to the 20 intervals median (ringall, the default strategy; the other
strategies' medians follow for comparison).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections import namedtuple
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from calendar_sync.index import BusyIndex
from routing.decide import LoopSpec, RouteState, decide_roster
from routing.roster import build_roster

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday morning
WINDOW_DAYS = 60  # intervals spread over the sync window around now
STEP = timedelta(milliseconds=50)  # the clock between two decisions
AgentRow = namedtuple("AgentRow", ["id", "logged_in", "routing_stop", "wrap_up_until",
                                   "last_answered_at", "last_offered_at", "answered_day",
                                   "answered_today"])


BusyRow = tuple[str, datetime, datetime, bool, str | None]


def busy_rows(members: list[str], per_member: int, rng: random.Random) -> list[BusyRow]:
    """`per_member` meetings of 15 min to 3 h each, spread over the window, some overlapping."""
    start = NOW - timedelta(days=WINDOW_DAYS // 2)
    rows: list[BusyRow] = []
    for agent in members:
        for _ in range(per_member):
            s = start + timedelta(minutes=rng.randrange(WINDOW_DAYS * 24 * 60))
            rows.append((agent, s, s + timedelta(minutes=rng.choice((15, 30, 60, 90, 180))),
                         rng.random() > 0.1, None))
    return rows


def agent_rows(members: list[str], rng: random.Random) -> list[AgentRow]:
    """Agent rows as load_states reads them: a mix of fresh, answered and wrapping-up agents."""
    today = NOW.date().isoformat()
    out = []
    for a in members:
        answered = NOW - timedelta(minutes=rng.randrange(1, 600)) if rng.random() < 0.7 else None
        wrap = NOW + timedelta(seconds=rng.randrange(-600, 30)) if answered else None
        out.append(AgentRow(a, rng.random() > 0.05, rng.random() < 0.03, wrap, answered,
                            answered, today if answered else None, rng.randrange(0, 20)))
    return out


@dataclass
class Fixture:
    """One loop's members, their agent rows, live offers and stored busy intervals."""

    ids: list[str]
    rows: list[AgentRow]
    offers: dict[str, str]
    index: BusyIndex


def fixture(*, members: int, per_member: int, seed: int = 7) -> Fixture:
    """The same members and agent rows for every interval count (same seed)."""
    rng = random.Random(seed)
    ids = [f"agent{i:04d}" for i in range(members)]
    rows = agent_rows(ids, rng)
    offers = {a: "ringing" for a in rng.sample(ids, members // 20)}  # 5% ringing elsewhere
    index = BusyIndex(busy_rows(ids, per_member, random.Random(seed + per_member)))
    return Fixture(ids, rows, offers, index)


def exceptional_rows(fx: Fixture, now: datetime) -> list[tuple[str, bool]]:
    """What routing.roster's exceptions query returns at `now`: (id, away) per exception."""
    out = []
    for r in fx.rows:
        away = not r.logged_in or r.routing_stop
        wrapping = r.wrap_up_until is not None and r.wrap_up_until > now
        if away or wrapping or r.id in fx.offers:
            out.append((r.id, away))
    return out


def key_rows(fx: Fixture, strategy: str) -> list[tuple[str, Any]]:
    """What routing.roster's key query for `strategy` returns: (id, key) where there is one."""
    today = NOW.date().isoformat()
    out: list[tuple[str, Any]] = []
    for r in fx.rows:
        if strategy == "ringall":
            times = [t for t in (r.last_answered_at, r.wrap_up_until, r.last_offered_at) if t]
            if times:
                out.append((r.id, max(times)))
        elif strategy == "least_recent" and r.last_answered_at is not None:
            out.append((r.id, r.last_answered_at))
        elif strategy == "fewest_calls" and r.answered_day == today and r.answered_today:
            out.append((r.id, r.answered_today))
    return out


@dataclass
class Timing:
    """Milliseconds per decision, and what the busy set cost along the way."""

    median: float
    mean: float
    worst: float
    recomputes: int
    advances: int


def time_decisions(fx: Fixture, *, strategy: str, repeat: int,
                   step: timedelta = STEP) -> Timing:
    """One decision (roster from rows, busy set, decide) `repeat` times, `step` apart."""
    loop = LoopSpec("big", tuple(fx.ids), strategy, 20, 120)
    keys = key_rows(fx, strategy)
    nows = [NOW + i * step for i in range(repeat)]
    rows = [exceptional_rows(fx, now) for now in nows]  # the database's part: not timed
    # As in a running server: the last decision was a minute ago (whatever the bench's
    # previous series left behind is forgotten first).
    fx.index.busy_now(NOW - timedelta(days=3))
    fx.index.busy_now(NOW - timedelta(minutes=1))
    fx.index.recomputes = fx.index.advances = 0
    times = []
    gc.collect()  # start each series from the same heap, not mid-way to a collection
    for now, exceptional in zip(nows, rows, strict=True):
        t0 = time.perf_counter()
        roster = build_roster(exceptional, keys, strategy=strategy)
        busy = fx.index.busy_now(now)
        d = decide_roster(loop, roster, busy, open_now=True, route=RouteState(),
                          rng=random.Random(1))
        times.append(time.perf_counter() - t0)
        assert d.kind == "dial" and d.agents
    ms = [t * 1000 for t in times]
    return Timing(statistics.median(ms), statistics.fmean(ms), max(ms), fx.index.recomputes,
                  fx.index.advances)


def recompute_ms(fx: Fixture) -> float:
    """Median cost of a full recompute of the busy set (now going back in time)."""
    times = []
    for i in range(21):
        fx.index.busy_now(NOW + timedelta(days=2 + i % 2))
        t0 = time.perf_counter()
        fx.index.busy_now(NOW - timedelta(hours=i))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    """Print the routing figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    at20 = time_decisions(fixture(members=args.members, per_member=20), strategy="ringall",
                          repeat=args.repeat)
    fx = fixture(members=args.members, per_member=200)
    at200 = time_decisions(fx, strategy="ringall", repeat=args.repeat)
    print(f"routing median_ms {at200.median:.2f}")
    print(f"routing median_ms_at_20 {at20.median:.2f}")
    print(f"routing growth_20_to_200 {at200.median / at20.median:.2f}")
    # A clock 100 times faster (5 s per decision): span boundaries pass every few decisions.
    fast = time_decisions(fx, strategy="ringall", repeat=args.repeat, step=STEP * 100)
    for name, t, step in (("at_200", at200, STEP), ("at_20", at20, STEP),
                          ("at_200_step_5s", fast, STEP * 100)):
        print(f"routing mean_ms_{name} {t.mean:.2f} (median {t.median:.2f}, worst "
              f"{t.worst:.2f}; busy set over {args.repeat} decisions "
              f"{step.total_seconds():g} s apart: {t.recomputes} full recomputes, "
              f"{t.advances} span boundaries passed, one agent looked at again for each)")
    print(f"routing busy_set_full_recompute_ms {recompute_ms(fx):.2f}")
    print(f"routing loop_at_now members {args.members}, exceptional rows "
          f"{len(exceptional_rows(fx, NOW))}, calendar-busy {len(fx.index.busy_now(NOW))}, "
          f"ringall idle keys {len(key_rows(fx, 'ringall'))}")
    for strategy in ("linear", "least_recent", "fewest_calls", "round_robin", "random"):
        ms = time_decisions(fx, strategy=strategy, repeat=args.repeat // 2).median
        print(f"routing median_ms_{strategy} {ms:.2f}")


if __name__ == "__main__":
    main()

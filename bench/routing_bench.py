"""CONTRACT §7 routing figure: one decision for a call into a loop of 2,000 members.

Each member has N stored busy intervals (BusyIndex built from rows, like BusyIndex.load gets
them; the build is not timed). One timed decision is what route_step does in process:
AgentStates for every member from their agent rows (routing.state.build_states), the busy map
through BusyIndex.busy_until, then routing.decide.decide. Prints the median over many
decisions at 200 intervals per member, and the ratio of the 200 to the 20 intervals median
(ringall, the default strategy; the other strategies' medians follow for comparison).
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

from calendar_sync.index import BusyIndex
from routing.decide import LoopSpec, RouteState, decide
from routing.state import build_states

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday morning
WINDOW_DAYS = 60  # intervals spread over the sync window around now
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


def time_decisions(fx: Fixture, *, strategy: str, repeat: int) -> float:
    """Median milliseconds of one decision (states, busy map, decide) over `repeat` runs."""
    loop = LoopSpec("big", tuple(fx.ids), strategy, 20, 120)
    today = NOW.date().isoformat()
    times = []
    gc.collect()  # start each series from the same heap, not mid-way to a collection
    for _ in range(repeat):
        t0 = time.perf_counter()
        states = build_states(fx.rows, fx.offers, today=today)
        busy = {a: fx.index.busy_until(a, NOW) is not None for a in loop.members}
        d = decide(loop, states, busy, now=NOW, open_now=True, route=RouteState(),
                   rng=random.Random(1))
        times.append(time.perf_counter() - t0)
        assert d.kind == "dial" and d.agents
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
    print(f"routing median_ms {at200:.2f}")
    print(f"routing median_ms_at_20 {at20:.2f}")
    print(f"routing growth_20_to_200 {at200 / at20:.2f}")
    for strategy in ("linear", "least_recent", "round_robin"):
        ms = time_decisions(fx, strategy=strategy, repeat=args.repeat // 2)
        print(f"routing median_ms_{strategy} {ms:.2f}")


if __name__ == "__main__":
    main()

"""The webhook figures (docs/benchmarks.md): `switchboard serve` and a bare FastAPI app, one run.

Both run as one uvicorn process each, started as subprocesses. Ours gets its own SQLite
database with the example organisation scaled to 200 agents in 20 loops, applied with
`switchboard org apply`. Each simulated call's /twilio/voice is sent in an untimed warm-up
phase; the timed mix is each call's menu digit (routes and reserves) and its `completed`
status callback, sent once `lag` later calls have had their digit answered.
Prints one figure per line; the last line is `ratio <ours ÷ bare throughput>`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench.loadgen import Call, Result, Signer, run_mix, send_all
from bench.orggen import MAIN_NUMBER, entry_digits, write_scaled_org
from bench.servers import REPO, bench_env, free_port, serving, switchboard

TOKEN = "bench-twilio-token-0123456789abcdef"
PUBLIC = "https://switchboard.bench.invalid"
PILOT_SECONDS = 1.5
_runs = itertools.count(1)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _calls(signer: Signer, digits: list[str], n: int) -> list[Call]:
    """n distinct calls, spread evenly over the digits that route into loops."""
    run = f"{next(_runs):04x}"
    return [signer.call(i, to=MAIN_NUMBER, digit=digits[i % len(digits)], run=run)
            for i in range(n)]


@dataclass
class Target:
    """One server under test: where it listens, how to make its calls, whether /voice first."""

    name: str
    port: int
    make: Callable[[int], list[Call]]
    warm_voice: bool

    def prepared(self, n: int, connections: int) -> list[Call]:
        """n new calls; for ours, each call's /voice is sent now (untimed)."""
        calls = self.make(n)
        if self.warm_voice:
            r = asyncio.run(send_all("127.0.0.1", self.port, [c.voice for c in calls],
                                     connections=connections))
            if r.errors:
                raise RuntimeError(f"warm-up /voice failed: {dict(r.errors)}")
        return calls


def _merge(into: Result, part: Result) -> None:
    into.seconds += part.seconds
    for kind, xs in part.latencies.items():
        into.latencies.setdefault(kind, []).extend(xs)
    into.stages.update(part.stages)
    into.errors.update(part.errors)


def _measure(targets: list[Target], *, connections: int, duration: float, lag: int,
             rounds: int) -> dict[str, Result]:
    """Each target's figures over `duration` seconds, taken in `rounds` alternating turns.

    A short pilot per target (which also warms it up) sizes each turn's pool of calls. Turns
    alternate so that the machine's other load, which drifts, falls on both sides alike.
    """
    rate = {}
    for t in targets:
        pilot = asyncio.run(run_mix("127.0.0.1", t.port, t.prepared(1200, connections),
                                    connections=connections, duration=PILOT_SECONDS, lag=lag))
        rate[t.name] = pilot.rps
    out = {t.name: Result(latencies={"menu": [], "status": []}) for t in targets}
    for _ in range(rounds):
        for t in targets:
            # Enough calls for the turn with a margin; a turn that still runs out simply
            # ends early and counts the time it ran.
            need = int(rate[t.name] * duration / rounds / 2 * 1.5) + 100
            calls = t.prepared(need, connections)
            part = asyncio.run(run_mix("127.0.0.1", t.port, calls, connections=connections,
                                       duration=duration / rounds, lag=lag))
            if part.errors:
                raise RuntimeError(f"{t.name}: requests failed: {dict(part.errors)}")
            _merge(out[t.name], part)
    return out


def _report(name: str, at32: Result, at8: Result) -> None:
    print(f"webhook {name}_rps {at32.rps:.1f}")
    print(f"webhook {name}_p99_ms_at_32 {at32.percentile(99):.1f}")
    print(f"webhook {name}_p50_ms_at_8 {at8.percentile(50):.1f}")
    print(f"webhook {name}_p99_ms_at_8 {at8.percentile(99):.1f}")
    for kind in ("menu", "status"):
        print(f"webhook {name}_{kind}_p99_ms_at_8 {at8.percentile(99, kind):.1f}")
    mix = " ".join(f"{k}={len(v)}" for k, v in at32.latencies.items())
    stages = " ".join(f"{k}={v}" for k, v in sorted(at32.stages.items()))
    _log(f"{name}: {at32.count} requests in {at32.seconds:.1f} s at 32 connections ({mix}); "
         f"menu answers by stage: {stages}")


def main() -> None:
    """Run both servers through the same mix and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--lag", type=int, default=16,
                        help="calls whose digit is answered before a call's status callback")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating turns per measurement (ours, bare, ours, …)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as d:
        tmp = Path(d)
        org = write_scaled_org(tmp / "org.yaml", agents=200, loops=20)
        digits = entry_digits(org)
        env = bench_env(tmp, token=TOKEN, public_url=PUBLIC)
        switchboard(["org", "apply", str(tmp / "org.yaml")], env=env, cwd=tmp)
        servers = {
            "ours": ([str(Path(sys.executable).parent / "switchboard"), "serve",
                      "--no-calendar-sync"], True),
            "bare": ([sys.executable, "-m", "bench.bare_app"], False),
        }
        with ExitStack() as stack:
            ports = {}
            for name, (cmd, _) in servers.items():
                ports[name] = port = free_port()
                _log(f"{name}: starting on port {port}")
                stack.enter_context(serving([*cmd, "--port", str(port)], env=env, cwd=tmp,
                                            port=port, log=tmp / f"{name}.log"))
            targets = [Target(name, ports[name],
                              partial(_calls, Signer(token=TOKEN, public_base=PUBLIC,
                                                     host="127.0.0.1", port=ports[name]), digits),
                              warm_voice)
                       for name, (_, warm_voice) in servers.items()]
            at = {conns: _measure(targets, connections=conns, duration=args.duration,
                                  lag=args.lag, rounds=args.rounds)
                  for conns in (32, 8)}
        figures = {name: (at[32][name], at[8][name]) for name in servers}
        for name, (at32, at8) in figures.items():
            _report(name, at32, at8)
        ours, bare = figures["ours"][0].rps, figures["bare"][0].rps
        print(f"webhook p99_ms_at_8 {figures['ours'][1].percentile(99):.1f}")
        print(f"ratio {ours / bare if bare else 0.0:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()

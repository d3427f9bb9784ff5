"""The desk's speed (docs/benchmarks.md): with 50 desks connected to `switchboard serve`, the
time from an offer to its screen pop reaching the desk, and the webhook ratio meanwhile.

The organisation is the webhook bench's (200 agents in 20 loops, SQLite, one process). Agents
agent001-agent050 (the members of loops 1-5, menu digits 1-5) sign in through /login and keep
/desk/events open, each in its own connection. For the latency, calls come in one at a time:
the time runs from sending the menu digit (the step that reserves the agents) to the first
server-sent event that shows the call on each rung desk. Then the webhook bench's mix runs
against ours (desks still connected) and the bare app, and the ratio is printed.
Prints one figure per line: `desk pop_p50_ms`, `desk pop_p95_ms`, `desk ratio_with_desks`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from bench.loadgen import Signer
from bench.orggen import MAIN_NUMBER, write_scaled_org
from bench.servers import REPO, bench_env, free_port, serving, switchboard
from bench.webhook_bench import Target, _calls, _measure

TOKEN = "bench-twilio-token-0123456789abcdef"
PUBLIC = "http://switchboard.bench.invalid"  # http: the session cookie is not Secure
PASSWORD = "bench-desk-password"
DESK_DIGITS = ("1", "2", "3", "4", "5")
POP = re.compile(r'data-testid="screen-pop" data-call-id="(CA[0-9a-zA-Z]+)"')
CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)"')


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _percentile(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Desks:
    """n signed-in desks with their event streams open, in a thread with its own event loop."""

    def __init__(self, base: str, agents: list[str]) -> None:
        self.base = base
        self.agents = agents
        self.seen: dict[tuple[str, str], float] = {}  # (agent, call sid) -> first pop
        self.ready = threading.Event()
        self.connected = 0
        self.errors: list[str] = []
        self._stop: asyncio.Event | None = None
        self._signing_in: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if not self.agents:
            self.ready.set()
        self.thread.start()
        if not self.ready.wait(120):
            raise RuntimeError("the desks did not connect")
        if self.errors:
            raise RuntimeError(f"desks failed: {self.errors[:3]}")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._signing_in = asyncio.Semaphore(4)  # argon2 is slow on purpose: not 50 at once
        tasks = [asyncio.create_task(self._desk(a)) for a in self.agents]
        await self._stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _desk(self, agent: str) -> None:
        # Each desk its own client, as each is its own browser (its own cookies).
        async with httpx.AsyncClient(base_url=self.base, timeout=None) as client:
            await self._desk_in(client, agent)

    async def _desk_in(self, client: httpx.AsyncClient, agent: str) -> None:
        try:
            assert self._signing_in is not None
            async with self._signing_in:
                form = await client.get("/login")
                pre = form.cookies.get("sb_pre", "")
                token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
                r = await client.post("/login", data={"username": agent, "password": PASSWORD,
                                                      "csrf_token": token},
                                      headers={"Cookie": f"sb_pre={pre}"})
            session = r.cookies.get("sb_session")
            if r.status_code != 303 or not session:
                raise RuntimeError(f"sign-in answered {r.status_code}")
            headers = {"Cookie": f"sb_session={session}", "Accept": "text/event-stream"}
            while True:  # a stream ends after a minute; reconnect as EventSource does
                async with client.stream("GET", "/desk/events", headers=headers) as stream:
                    self._connected()
                    event, data = "", []
                    async for line in stream.aiter_lines():
                        if line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: "):
                            data.append(line[6:])
                        elif line == "":
                            if event == "pop":
                                now = time.perf_counter()
                                for sid in POP.findall("\n".join(data)):
                                    self.seen.setdefault((agent, sid), now)
                            event, data = "", []
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.errors.append(f"{agent}: {type(exc).__name__}: {exc}")
            self.ready.set()

    def _connected(self) -> None:
        self.connected += 1
        if self.connected >= len(self.agents):
            self.ready.set()


def _pop_latencies(port: int, desks: Desks, calls: int, timeout: float = 5.0) -> list[float]:
    """Milliseconds from each menu digit sent to its pop on each rung desk."""
    signer = Signer(token=TOKEN, public_base=PUBLIC, host="127.0.0.1", port=port)
    out: list[float] = []
    missed = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        for i in range(calls):
            sid = f"CAdesk{i:028x}"[:34]
            base = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": f"+4741{i:06d}",
                    "To": MAIN_NUMBER, "Direction": "inbound", "CallStatus": "in-progress"}

            def post(path: str, params: dict[str, str], base_: dict[str, str] = base) -> str:
                sig = signer.validator.compute_signature(PUBLIC + path, base_ | params)
                r = http.post(path, data=base_ | params, headers={"X-Twilio-Signature": sig})
                r.raise_for_status()
                return r.text

            post("/twilio/voice", {"CallStatus": "ringing"})
            sent = time.perf_counter()
            twiml = post("/twilio/menu?play=1", {"Digits": DESK_DIGITS[i % len(DESK_DIGITS)]})
            rung = [parse_qs(urlparse(u.replace("&amp;", "&")).query).get("agent", [""])[0]
                    for u in re.findall(r'url="([^"]+)"', twiml)]
            rung = [a for a in rung if a in desks.agents]
            deadline = time.perf_counter() + timeout
            while time.perf_counter() < deadline and not all(
                    (a, sid) in desks.seen for a in rung):
                time.sleep(0.005)
            for a in rung:
                got = desks.seen.get((a, sid))
                if got is None:
                    missed += 1
                else:
                    out.append((got - sent) * 1000)
            post("/twilio/status", {"CallStatus": "completed", "CallDuration": "1"})
    if missed:
        _log(f"desk: {missed} pops did not arrive within {timeout} s")
    return out


def main() -> None:
    """Connect the desks, measure the pop latency, then the webhook ratio with them connected."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--desks", type=int, default=50)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--duration", type=float, default=6.0,
                        help="seconds per webhook measurement (ours and bare)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="switchboard-desk-bench-") as d:
        tmp = Path(d)
        write_scaled_org(tmp / "org.yaml", agents=200, loops=20)
        env = bench_env(tmp, token=TOKEN, public_url=PUBLIC)
        env["SWITCHBOARD_SECRET_KEY"] = "bench-desk-secret"
        switchboard(["org", "apply", str(tmp / "org.yaml")], env=env, cwd=tmp)
        agents = [f"agent{i:03d}" for i in range(1, args.desks + 1)]
        _set_passwords(env["SWITCHBOARD_DATABASE_URL"], agents)
        ports = {"ours": free_port(), "bare": free_port()}
        cmds = {"ours": [str(Path(sys.executable).parent / "switchboard"), "serve",
                         "--no-calendar-sync"],
                "bare": [sys.executable, "-m", "bench.bare_app"]}
        with ExitStack() as stack:
            for name, cmd in cmds.items():
                stack.enter_context(serving([*cmd, "--port", str(ports[name])], env=env,
                                            cwd=tmp, port=ports[name], log=tmp / f"{name}.log"))
            desks = Desks(f"http://127.0.0.1:{ports['ours']}", agents)
            desks.start()
            _log(f"desk: {len(agents)} desks connected")
            latencies = _pop_latencies(ports["ours"], desks, args.calls)
            digits = list(DESK_DIGITS) + ["6", "7", "8", "9"]
            targets = [Target(name, ports[name],
                              partial(_calls, Signer(token=TOKEN, public_base=PUBLIC,
                                                     host="127.0.0.1", port=ports[name]), digits),
                              name == "ours")
                       for name in ("ours", "bare")]
            at32 = _measure(targets, connections=32, duration=args.duration, lag=16, rounds=2)
            desks.stop()
            if desks.errors:
                _log(f"desk: stream errors: {desks.errors[:3]}")
        ours, bare = at32["ours"].rps, at32["bare"].rps
        print(f"desk pop_p50_ms {_percentile(latencies, 50):.0f}")
        print(f"desk pop_p95_ms {_percentile(latencies, 95):.0f}")
        print(f"desk pops_measured {len(latencies)}")
        print(f"desk ratio_with_desks {ours / bare if bare else 0.0:.2f}")


def _set_passwords(url: str, agents: list[str]) -> None:
    """One password for every desk agent, straight through switchboard.passwords."""
    from datetime import UTC, datetime

    from switchboard.db import make_engine
    from switchboard.passwords import set_password

    engine = make_engine(url)
    for agent in agents:
        set_password(engine, agent, PASSWORD, now=datetime.now(UTC))
    engine.dispose()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()

"""A small HTTP/1.1 load generator on raw asyncio streams (wrk is not at hand; httpx costs more
client CPU per request than the server under test on a two-core machine).

Each call of the measured mix is two signed requests: its menu digit, then, once `lag` later
calls have had their digit answered, its `completed` status callback. Every request is
pre-built (signature included) before the clock starts, and each is sent exactly once.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

# The shape of a real Twilio webhook form (tests/fixtures/twilio: an inbound call and a
# <Gather> action), with Norwegian numbers; every call gets its own CallSid and caller.
_COMMON = {
    "AccountSid": "AC00000000000000000000000000000000", "ApiVersion": "2010-04-01",
    "Called": "", "CalledCity": "", "CalledCountry": "NO", "CalledState": "", "CalledZip": "",
    "Caller": "", "CallerCity": "", "CallerCountry": "NO", "CallerState": "", "CallerZip": "",
    "Direction": "inbound", "From": "", "FromCity": "", "FromCountry": "NO", "FromState": "",
    "FromZip": "", "To": "", "ToCity": "", "ToCountry": "NO", "ToState": "", "ToZip": "",
}


@dataclass(frozen=True)
class Request:
    """One pre-built HTTP request: its bytes and which step it is."""

    kind: str  # voice | menu | status
    raw: bytes


@dataclass(frozen=True)
class Call:
    """The pre-signed requests of one simulated call."""

    voice: Request
    menu: Request
    status: Request


class Signer:
    """Builds signed raw requests the way Twilio sends them."""

    def __init__(self, *, token: str, public_base: str, host: str, port: int) -> None:
        self.validator = RequestValidator(token)
        self.public_base = public_base.rstrip("/")
        self.host_header = f"{host}:{port}"

    def request(self, kind: str, path_query: str, params: dict[str, str]) -> Request:
        """A POST of `params` to `path_query`, signed over PUBLIC_URL + path_query."""
        body = urlencode(params).encode()
        sig = self.validator.compute_signature(self.public_base + path_query, params)
        head = (f"POST {path_query} HTTP/1.1\r\nHost: {self.host_header}\r\n"
                "User-Agent: TwilioProxy/1.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"X-Twilio-Signature: {sig}\r\nContent-Length: {len(body)}\r\n\r\n")
        return Request(kind, head.encode() + body)

    def call(self, n: int, *, to: str, digit: str, run: str) -> Call:
        """Call number `n` of run `run`: /voice, the menu digit and the completed callback."""
        sid = f"CA{run}{n:028x}"[:34]
        caller = f"+474{n % 10_000_000:07d}"
        base = dict(_COMMON, CallSid=sid, Called=to, To=to, Caller=caller, From=caller)
        voice = self.request("voice", "/twilio/voice", dict(base, CallStatus="ringing"))
        menu = self.request("menu", "/twilio/menu?play=1",
                            dict(base, CallStatus="in-progress", Digits=digit,
                                 FinishedOnKey="", msg="Gather End"))
        status = self.request("status", "/twilio/status",
                              dict(base, CallStatus="completed", CallDuration="1",
                                   Duration="1", SequenceNumber="0",
                                   Timestamp="Wed, 25 Nov 2026 10:00:00 +0000",
                                   CallbackSource="call-progress-events"))
        return Call(voice, menu, status)


@dataclass
class Result:
    """What one timed run saw."""

    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    stages: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        """Requests answered in the timed window."""
        return sum(len(v) for v in self.latencies.values())

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float, kind: str | None = None) -> float:
        """The q-th percentile latency in milliseconds (nearest rank), all kinds or one."""
        xs = sorted(x for k, v in self.latencies.items() if kind in (None, k) for x in v)
        if not xs:
            return float("nan")
        rank = max(0, min(len(xs) - 1, math.ceil(q / 100 * len(xs)) - 1))
        return xs[rank] * 1000


class _Mix:
    """Hands out the next request: a due status callback first, else the next call's digit."""

    def __init__(self, calls: Iterable[Call], lag: int) -> None:
        self.calls: Iterator[Call] = iter(calls)
        self.lag = lag
        self.due: deque[Request] = deque()
        self.exhausted = False

    def next(self) -> tuple[Request, Call | None] | None:
        if self.due and (len(self.due) > self.lag or self.exhausted):
            return self.due.popleft(), None
        call = next(self.calls, None)
        if call is None:
            self.exhausted = True
            return (self.due.popleft(), None) if self.due else None
        return call.menu, call


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    raw: bytes) -> tuple[int, str, bytes]:
    """Send one request on a keep-alive connection; (status, stage header, body)."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, stage = 0, ""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value)
        elif lname == b"x-switchboard-stage":
            stage = value.strip().decode()
    body = await reader.readexactly(length) if length else b""
    return status, stage, body


def _check(status: int, body: bytes, result: Result, kind: str) -> None:
    if status != 200 or b"<Response" not in body:
        result.errors[f"{kind}:{status}"] += 1


async def run_mix(host: str, port: int, calls: list[Call], *, connections: int,
                  duration: float, lag: int) -> Result:
    """Send the mix for `duration` seconds (or until the calls run out) over `connections`.

    Status callbacks still owed when the clock stops are sent afterwards, untimed, so the
    agents those calls hold are free again for whatever runs next.
    """
    mix = _Mix(calls, lag)
    result = Result(latencies={"menu": [], "status": []})
    conns = [await asyncio.open_connection(host, port) for _ in range(connections)]
    start = time.perf_counter()
    stop_at = start + duration

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while time.perf_counter() < stop_at:
            item = mix.next()
            if item is None:
                return
            req, call = item
            t0 = time.perf_counter()
            status, stage, body = await _exchange(reader, writer, req.raw)
            result.latencies[req.kind].append(time.perf_counter() - t0)
            _check(status, body, result, req.kind)
            if call is not None:
                result.stages[stage or "-"] += 1
                mix.due.append(call.status)

    await asyncio.gather(*(worker(r, w) for r, w in conns))
    result.seconds = time.perf_counter() - start
    leftovers = list(mix.due)
    mix.due.clear()
    await _send_all(conns, leftovers, Result(latencies={"status": []}))
    for _, w in conns:
        w.close()
    return result


async def _send_all(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]],
                    reqs: list[Request], result: Result) -> None:
    queue = deque(reqs)

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while queue:
            req = queue.popleft()
            t0 = time.perf_counter()
            status, _, body = await _exchange(reader, writer, req.raw)
            result.latencies.setdefault(req.kind, []).append(time.perf_counter() - t0)
            _check(status, body, result, req.kind)

    await asyncio.gather(*(worker(r, w) for r, w in conns))


async def send_all(host: str, port: int, reqs: list[Request], *, connections: int) -> Result:
    """Send every request once over `connections` (untimed phases such as the /voice warm-up)."""
    result = Result()
    conns = [await asyncio.open_connection(host, port) for _ in range(connections)]
    start = time.perf_counter()
    await _send_all(conns, reqs, result)
    result.seconds = time.perf_counter() - start
    for _, w in conns:
        w.close()
    return result

"""The claim race on PostgreSQL: 16 threads, and two `switchboard serve` processes over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from switchboard.db import make_engine, migrate
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from tests.tickets.conftest import TICKET_ORG, give_tokens
from tests.tickets.test_claims import TICKET, callback
from tickets import claims

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
RACERS = [f"r{i}" for i in range(8)]
RACE_ORG = TICKET_ORG.replace("agents:\n", "agents:\n" + "".join(
    f'  - {{id: {a}, name: Racer {a}, phone: "+47900002{i:02d}"}}\n'
    for i, a in enumerate(RACERS)), 1)


@pytest.fixture
def race_url(own_pg_url: str) -> str:
    """A database of its own (the session's is shared: these tickets would be others' work)."""
    return own_pg_url


@pytest.fixture
def pg_engine(race_url: str) -> Iterator[Engine]:
    engine = make_engine(race_url)
    migrate(engine)
    apply_org(engine, parse_org_text(RACE_ORG), now=NOW)
    yield engine
    engine.dispose()


def test_claim_race_from_16_threads_has_one_winner(pg_engine: Engine) -> None:
    ticket_id = callback(pg_engine, NOW)
    barrier = threading.Barrier(16)
    won: list[str] = []
    lost: list[str] = []

    def go(i: int) -> None:
        barrier.wait()
        try:
            with pg_engine.begin() as conn:
                claims.claim(conn, ticket_id=ticket_id, agent_id=f"agent{i}", now=NOW)
            won.append(f"agent{i}")
        except claims.ClaimTaken:
            lost.append(f"agent{i}")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(won) == 1 and len(lost) == 15
    with pg_engine.connect() as conn:
        assert conn.execute(select(TICKET.c.owner).where(TICKET.c.id == ticket_id)
                            ).scalar_one() == won[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(pg_url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SWITCHBOARD_DATABASE_URL": pg_url,
           "TWILIO_AUTH_TOKEN": "race-test-token-1234567890",
           "SWITCHBOARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "SWITCHBOARD_PII_KEY": "test-pii-key-not-secret"}
    return subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli", "serve", "--port", str(port),
         "--no-calendar-sync", "--log-level", "warning"],
        cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):  # bounded: at most ~60 s
        if proc.poll() is not None:
            raise AssertionError(f"the server on {port} exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server on {port} did not come up")


def test_claim_race_between_two_server_processes_has_one_winner(
        pg_engine: Engine, race_url: str, tmp_path: Path) -> None:
    tokens = give_tokens(pg_engine, RACERS)
    ports = [_free_port(), _free_port()]
    procs = [_serve(race_url, port, tmp_path) for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_up(port, proc)
        for round_ in range(3):  # a few tickets, each raced by all eight agents
            ticket_id = callback(pg_engine, NOW, number=f"+479123456{round_}")
            barrier = threading.Barrier(len(RACERS))
            codes: dict[str, int] = {}

            def go(i: int, agent: str, ticket_id: int = ticket_id,
                   barrier: threading.Barrier = barrier, codes: dict[str, int] = codes) -> None:
                port = ports[i % 2]  # half the agents on each server
                barrier.wait()
                r = httpx.post(f"http://127.0.0.1:{port}/api/tickets/{ticket_id}/claim",
                               headers={"Authorization": f"Bearer {tokens[agent]}"},
                               timeout=30)
                codes[agent] = r.status_code

            threads = [threading.Thread(target=go, args=(i, a)) for i, a in enumerate(RACERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            winners = [a for a, c in codes.items() if c == 200]
            assert len(winners) == 1, codes
            assert sorted(codes.values()) == [200] + [409] * (len(RACERS) - 1)
            with pg_engine.connect() as conn:
                assert conn.execute(select(TICKET.c.owner).where(TICKET.c.id == ticket_id)
                                    ).scalar_one() == winners[0]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

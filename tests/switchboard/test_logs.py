"""Structured logs: JSON lines with a request id and the CallSid, and no caller's number."""

from __future__ import annotations

import io
import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from ivr.simulator import Simulator
from switchboard.db import make_engine, migrate
from switchboard.logs import MASK, configure, redact
from switchboard.orgapply import apply_org
from switchboard.orgfile import load_org_file
from switchboard.settings import Settings
from tests.ivr_steps import SMALL_ORG, press, status
from tests.twilio_harness import EXAMPLE_ORG, make_app, new_sid

CALLER = "+4798765432"  # a fictional number; the test asserts it never reaches the logs


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, as the server logs it (JSON lines)."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buf = io.StringIO()
    configure("debug", buf)
    yield buf
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])


def test_a_call_logs_json_with_ids_and_without_the_callers_number(
        settings: Settings, engine: Engine, log_lines: io.StringIO) -> None:
    tw = make_app(settings, engine, SMALL_ORG)
    sid = new_sid()
    press(tw, sid, "1", frm=CALLER)
    tw.clock.advance(30)
    status(tw, sid)
    # Code that logged a number by mistake is masked too (the second line of defence).
    logging.getLogger("switchboard.test").warning("callback to %s failed", CALLER)

    text = log_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    ended = [r for r in lines if r["msg"].startswith("call ended")]
    assert len(ended) == 1
    assert ended[0]["call_sid"] == sid and ended[0]["request_id"]
    assert ended[0]["level"] == "info" and ended[0]["logger"] == "switchboard.ivr"
    assert ended[0]["ts"].endswith("Z")
    mistake = [r for r in lines if r["logger"] == "switchboard.test"]
    assert mistake[0]["msg"] == f"callback to {MASK} failed"
    assert "call_sid" not in mistake[0]  # logged outside any request
    for needle in (CALLER, CALLER[3:], "98765432"):
        assert needle not in text


def test_each_request_gets_its_own_id(settings: Settings, engine: Engine,
                                      log_lines: io.StringIO) -> None:
    tw = make_app(settings, engine, SMALL_ORG)
    for _ in range(2):
        sid = new_sid()
        press(tw, sid, "1")
        status(tw, sid)
    ended = [json.loads(line) for line in log_lines.getvalue().splitlines()
             if '"call ended' in line]
    assert len(ended) == 2 and ended[0]["request_id"] != ended[1]["request_id"]
    assert ended[0]["call_sid"] != ended[1]["call_sid"]


@pytest.mark.parametrize("text, masked", [
    ("ring +4791234567 now", "ring [redacted] now"),
    ("mobile 912 34 567", "mobile [redacted]"),
    ("fnr 01017012345.", "fnr [redacted]."),
    ("mail ola.nordmann@example.org", "mail [redacted]"),
    ("on 2026-11-25 at 10:00, 12 ms", "on 2026-11-25 at 10:00, 12 ms"),
    ("sid CA0123456789abcdef0123456789abcdef", "sid CA0123456789abcdef0123456789abcdef"),
])
def test_redact(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_serve_logs_json_lines_without_the_callers_number(tmp_path: Path) -> None:
    """`switchboard serve` end to end: a simulated call, then its log on standard error."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    db = f"sqlite:///{tmp_path}/serve.db"
    engine = make_engine(db)
    migrate(engine)
    apply_org(engine, load_org_file(EXAMPLE_ORG, default_timezone="Europe/Oslo"),
              now=datetime.now(UTC))
    engine.dispose()
    token = "serve-test-twilio-token-0123"
    env = {"PATH": "/usr/bin:/bin", "SWITCHBOARD_DATABASE_URL": db, "TWILIO_AUTH_TOKEN": token,
           "SWITCHBOARD_PUBLIC_URL": url, "SWITCHBOARD_ALWAYS_OPEN": "1",
           "SWITCHBOARD_ADMIN_TOKEN": "serve-test-admin-token"}
    err = (tmp_path / "stderr.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "switchboard.cli", "serve", "--port",
                             str(port), "--no-calendar-sync"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=err)
    try:
        with httpx.Client(base_url=url, timeout=5) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
            sim = Simulator(public_base=url, token=token, to="+4722000000", from_=CALLER,
                            press="1", out=lambda _line: None)
            assert sim.run() == "voicemail"
            assert 'switchboard_calls_total{loop=' in http.get("/metrics").text
    finally:
        proc.terminate()
        proc.wait(15)
    text = (tmp_path / "stderr.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    assert any(r["logger"].startswith("uvicorn") for r in lines)
    ended = [r for r in lines if r["msg"].startswith("call ended")]
    assert len(ended) == 1 and ended[0]["call_sid"] == sim.call_sid
    for needle in (CALLER, CALLER[3:]):
        assert needle not in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

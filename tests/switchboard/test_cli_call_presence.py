"""`switchboard call` refuses what Twilio would not send; `switchboard presence` (docs/cli.md)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from routing.models import Agent
from switchboard.app import create_app
from switchboard.cli import app
from switchboard.db import make_engine
from switchboard.settings import Settings
from tests.twilio_harness import EXAMPLE_ORG


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "cli-test-token-7d3f")


@pytest.mark.parametrize("press", ["1x", "12a", "9 ", "٣"])
def test_call_refuses_press_keys_a_phone_does_not_have(token, press: str) -> None:
    # The URL leads nowhere: a refused value must stop the call before any request.
    r = CliRunner().invoke(app, ["call", "--to", "+4722000000", "--press", press,
                                 "--url", f"http://127.0.0.1:{unused_port()}"])
    assert r.exit_code == 2, r.output
    assert "--press takes the keys 0-9, * and #, and w for silence" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("status", ["answered", "COMPLETED", "in-progress", ""])
def test_call_refuses_dial_statuses_twilio_does_not_send(token, status: str) -> None:
    r = CliRunner().invoke(app, ["call", "--to", "+4722000000", "--dial-status", status,
                                 "--url", f"http://127.0.0.1:{unused_port()}"])
    assert r.exit_code == 2, r.output
    assert "--dial-status must be one of completed, busy, no-answer, failed, canceled" in r.stderr


@pytest.mark.parametrize("press", ["", "1", "w9", "*#0123456789w"])
def test_call_takes_every_valid_key(token, press: str) -> None:
    r = CliRunner().invoke(app, ["call", "--to", "+4722000000", "--press", press,
                                 "--url", f"http://127.0.0.1:{unused_port()}"])
    assert r.exit_code == 1 and "unreachable" in r.stderr  # it got as far as calling


def test_call_refuses_a_negative_talk(token) -> None:
    r = CliRunner().invoke(app, ["call", "--to", "+4722000000", "--talk", "-1"])
    assert r.exit_code == 2


def fresh_terminal_env() -> dict[str, str]:
    """The environment of a new terminal: nothing of the switchboard's exported."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("SWITCHBOARD_", "TWILIO_"))}


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchboard.cli", *args], cwd=cwd,
                          env=fresh_terminal_env(), capture_output=True, text=True, timeout=120)


def test_presence_in_a_fresh_terminal_reads_dotenv_and_matches_the_api(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SWITCHBOARD_DATABASE_URL=sqlite:///./demo.db\n"
        "TWILIO_AUTH_TOKEN=demo-token-for-the-test\n"
        "SWITCHBOARD_ADMIN_TOKEN=demo-admin-for-the-test\n"
        "SWITCHBOARD_ALWAYS_OPEN=1\n")
    assert cli(tmp_path, "org", "apply", str(EXAMPLE_ORG)).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path}/demo.db")
    table = Agent.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == "janet").values(
            logged_in=False, logout_reason="holiday"))

    r = cli(tmp_path, "presence")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["AGENT", "NAME", "STATE", "REASONS", "BUSY", "UNTIL", "NOTES"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert len(rows) == 12
    assert "logged_out" in rows["janet"].split() and "Janet Olsen" in rows["janet"]
    assert rows["may.tove"].split()[4:6] == ["available", "-"]  # May Tove Hansen
    assert "calendar_stale" in rows["ole.hansen"]

    r = cli(tmp_path, "presence", "--json")
    assert r.returncode == 0, r.stderr
    settings = Settings(SWITCHBOARD_DATABASE_URL=f"sqlite:///{tmp_path}/demo.db",
                        TWILIO_AUTH_TOKEN="demo-token-for-the-test",
                        SWITCHBOARD_ADMIN_TOKEN="demo-admin-for-the-test",
                        SWITCHBOARD_ALWAYS_OPEN=True, _env_file=None)
    api = TestClient(create_app(settings, engine)).get(
        "/api/presence", headers={"Authorization": "Bearer demo-admin-for-the-test"})
    assert api.status_code == 200
    assert json.loads(r.stdout) == api.json()
    engine.dispose()


def test_presence_without_a_readable_database_exits_1(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"SWITCHBOARD_DATABASE_URL=sqlite:///{tmp_path}/no/such/dir/x.db\n")
    r = cli(tmp_path, "presence")
    assert r.returncode == 1 and "cannot read the database" in r.stderr


def test_a_bad_setting_in_dotenv_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SWITCHBOARD_PUBLIC_URL=ftp://switchboard.example\n")
    r = cli(tmp_path, "presence")
    assert r.returncode == 2
    assert r.stderr.startswith("error: SWITCHBOARD_PUBLIC_URL must be a plain http(s) URL")
    assert "Traceback" not in r.stderr

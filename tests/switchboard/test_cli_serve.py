"""`switchboard serve` refuses to start without a real Twilio token (docs/cli.md#serve)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_serve(tmp_path: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "switchboard.cli", "serve", "--port", "0"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def test_serve_refuses_without_token(tmp_path: Path) -> None:
    r = run_serve(tmp_path, {})
    assert r.returncode == 2 and "TWILIO_AUTH_TOKEN is required" in r.stderr


def test_serve_refuses_placeholder_token(tmp_path: Path) -> None:
    r = run_serve(tmp_path, {"TWILIO_AUTH_TOKEN": "changeme"})
    assert r.returncode == 2 and "placeholder" in r.stderr

"""Start the servers under test as subprocesses and wait until they answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def switchboard(args: list[str], *, env: dict[str, str], cwd: Path) -> None:
    """Run one `switchboard` CLI verb to completion (its output goes to the bench's stderr)."""
    subprocess.run([str(VENV_BIN / "switchboard"), *args], env=env, cwd=cwd, check=True,
                   stdout=sys.stderr)


@contextmanager
def serving(cmd: list[str], *, env: dict[str, str], cwd: Path, port: int,
            log: Path) -> Iterator[None]:
    """Run `cmd` until the block ends; yields once GET /healthz answers 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}:\n"
                                   + log.read_text(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not answer within 60 s")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bench_env(tmp: Path, *, token: str, public_url: str) -> dict[str, str]:
    """The environment both servers run with: their own DB, a token, always open, no .env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(SWITCHBOARD_DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
               TWILIO_AUTH_TOKEN=token, SWITCHBOARD_PUBLIC_URL=public_url,
               SWITCHBOARD_ALWAYS_OPEN="1", PYTHONPATH=str(REPO))
    return env

"""The call simulator against a real running `switchboard serve` (docs/cli.md, `call`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.twilio_harness import EXAMPLE_ORG

TOKEN = "sim-test-token-5b1e0c"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("sim")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "TWILIO_"))}
    env.update(SWITCHBOARD_DATABASE_URL=f"sqlite:///{tmp}/sim.db",
               SWITCHBOARD_PUBLIC_URL=f"http://127.0.0.1:{port}",
               TWILIO_AUTH_TOKEN=TOKEN, SWITCHBOARD_ALWAYS_OPEN="1")
    cli = [sys.executable, "-m", "switchboard.cli"]
    subprocess.run(cli + ["org", "apply", str(EXAMPLE_ORG)], cwd=tmp, env=env, check=True,
                   capture_output=True, timeout=120)
    proc = subprocess.Popen(cli + ["serve", "--port", str(port), "--no-calendar-sync"], cwd=tmp,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        env["cwd"] = str(tmp)
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def call(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    run_env = {k: v for k, v in env.items() if k != "cwd"}
    return subprocess.run([sys.executable, "-m", "switchboard.cli", "call", *args],
                          cwd=env["cwd"], env=run_env, capture_output=True, text=True,
                          timeout=120)


def words(out: str) -> list[str]:
    return [line.split(" ", 1)[0] for line in out.splitlines()]


def test_press_1_dials_loop_1(server) -> None:
    r = call(server, "--to", "+4722000000", "--press", "1")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("CALL CA") and len(lines[0].split()) == 2
    assert lines[1].startswith("SAY nb-NO Velkommen til Arbeidsmandsforbundet")
    assert "GATHER" in lines and "PRESS 1" in lines
    dial = next(line for line in lines if line.startswith("DIAL "))
    assert dial.split()[1::2] == ["may.tove", "janet", "ole.hansen", "kari.nordmann",
                                  "per.olsen"]
    assert lines[-1] == "OUTCOME voicemail"  # nobody answers: overflow, then voicemail
    assert "RECORD" in lines


def test_press_7_replays_the_menu(server) -> None:
    r = call(server, "--to", "+4722000000", "--press", "7")
    assert r.returncode == 0, r.stderr
    w = words(r.stdout)
    assert w.count("GATHER") == 3  # the menu again after 7, and once more after silence
    assert "SAY nb-NO Det var ikke et gyldig valg." in r.stdout.splitlines()


def test_dial_status_completed_connects(server) -> None:
    r = call(server, "--to", "+4722000000", "--press", "2", "--dial-status", "completed")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "OUTCOME connected"
    assert sum(1 for line in lines if line.startswith("DIAL ")) == 1


def test_wrong_token_is_refused_with_exit_2(server) -> None:
    bad = dict(server, TWILIO_AUTH_TOKEN="not-the-token")
    r = call(bad, "--to", "+4722000000")
    assert r.returncode == 2 and "403" in r.stderr


def test_unreachable_server_exits_1(server) -> None:
    r = call(server, "--to", "+4722000000", "--url", f"http://127.0.0.1:{free_port()}")
    assert r.returncode == 1


def presence_states(env: dict[str, str]) -> dict[str, str]:
    run_env = {k: v for k, v in env.items() if k != "cwd"}
    r = subprocess.run([sys.executable, "-m", "switchboard.cli", "presence", "--json"],
                       cwd=env["cwd"], env=run_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return {p["id"]: p["state"] for p in json.loads(r.stdout)}


def test_answer_and_talk_show_the_agent_on_the_call_while_it_lasts(server) -> None:
    run_env = {k: v for k, v in server.items() if k != "cwd"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli", "call", "--to", "+4722000000", "--press", "1",
         "--answer", "janet", "--talk", "20"],
        cwd=server["cwd"], env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen: list[dict[str, str]] = []
        for _ in range(40):  # the call reaches janet within a few requests
            seen.append(presence_states(server))
            if seen[-1]["janet"] == "on_call" or proc.poll() is not None:
                break
            time.sleep(0.25)
        assert seen[-1]["janet"] == "on_call"
        assert "ringing" not in seen[-1].values()  # the others were released when she took it
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("CALL CA") and lines[-1] == "OUTCOME connected"
    # Wrap-up after the call is held to the injected clock in tests/ivr/test_answered_call.py.
    assert presence_states(server)["janet"] != "on_call"

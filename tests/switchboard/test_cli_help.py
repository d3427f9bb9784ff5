"""Every verb's --help: value names instead of type hints, and what its exit codes mean."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from switchboard.cli import app

TYPE_HINT = re.compile(r"<(bool|str|int|float|path|file|text|integer|filename)>", re.I)
BRACED = re.compile(r"\{[A-Za-z_.]+\}")


def verbs(command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """The path of every verb (leaf command) under `command`."""
    subs = getattr(command, "commands", None)
    if not subs:
        return [path]
    return [p for name, sub in sorted(subs.items()) for p in verbs(sub, (*path, name))]


VERBS = verbs(typer.main.get_command(app))


def test_the_known_verbs_are_all_there() -> None:
    assert {" ".join(v) for v in VERBS} >= {
        "serve", "call", "presence", "org apply", "calendar sync", "members import",
        "agents token"}


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_help_names_values_and_says_what_exit_codes_mean(verb: tuple[str, ...]) -> None:
    r = CliRunner().invoke(app, [*verb, "--help"])
    assert r.exit_code == 0, r.output
    assert not TYPE_HINT.search(r.output), r.output
    usage = r.output.splitlines()[0]
    assert usage.startswith("Usage: ") and not BRACED.search(usage), usage
    assert "Exit codes:" in r.output
    assert re.search(r"\b0 \w", r.output.split("Exit codes:", 1)[1])  # says what 0 means


@pytest.mark.parametrize("group", [(), ("org",), ("agents",), ("calendar",)], ids=repr)
def test_group_help_has_no_type_hints(group: tuple[str, ...]) -> None:
    r = CliRunner().invoke(app, [*group, "--help"])
    assert r.exit_code == 0 and not TYPE_HINT.search(r.output), r.output


def test_the_installed_command_prints_the_same_plain_help() -> None:
    script = Path(sys.executable).with_name("switchboard")  # the console script in .venv/bin
    r = subprocess.run([str(script), "org", "apply", "--help"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: switchboard org apply [OPTIONS] FILE\n")
    assert "{file}" not in r.stdout and "<path>" not in r.stdout
    assert "Exit codes: 0 applied" in r.stdout


def test_call_help_names_each_value() -> None:
    out = CliRunner().invoke(app, ["call", "--help"]).output
    for option in ("--to NUMBER", "--from NUMBER", "--press KEYS", "--dial-status STATUS",
                   "--answer AGENT_ID", "--talk SECONDS", "--url BASE"):
        assert option in out

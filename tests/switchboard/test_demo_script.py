"""scripts/demo keeps what the user changed: the demo register goes into an empty one only.

The real scripts/demo runs in a copy of the repository's demo files, with the project's .venv
behind two small wrappers: `scripts/install` does nothing (the .venv is there) and
`switchboard serve` only says it would serve, so the script runs to its end and stops.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select, update

from identity.models import Member
from switchboard.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


def demo_copy(tmp: Path) -> Path:
    """A directory laid out like the repository, for scripts/demo."""
    (tmp / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "demo", tmp / "scripts" / "demo")
    (tmp / "scripts" / "install").write_text("#!/bin/sh\nexit 0\n")
    (tmp / "examples").mkdir()
    for name in ("org.yaml", "members.csv"):
        shutil.copy2(ROOT / "examples" / name, tmp / "examples" / name)
    bin_ = tmp / ".venv" / "bin"
    bin_.mkdir(parents=True)
    real = Path(sys.executable).parent
    (bin_ / "python").write_text(f'#!/bin/sh\nexec "{real / "python"}" "$@"\n')
    (bin_ / "switchboard").write_text(
        '#!/bin/sh\nif [ "$1" = serve ]; then echo "would serve: $*"; exit 0; fi\n'
        f'exec "{real / "switchboard"}" "$@"\n')
    for script in (tmp / "scripts" / "install", bin_ / "python", bin_ / "switchboard"):
        script.chmod(0o755)
    return tmp


def run_demo(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "TWILIO_"))}
    r = subprocess.run([str(repo / "scripts" / "demo")], cwd=repo, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "would serve: serve --host 127.0.0.1 --port 8000" in r.stdout
    return r


def test_a_fix_to_a_member_survives_a_restart_of_the_demo(tmp_path: Path) -> None:
    repo = demo_copy(tmp_path)
    first = run_demo(repo)
    assert "not imported again" not in first.stdout
    engine = make_engine(f"sqlite:///{repo}/switchboard.db")
    table = Member.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        count = len(conn.execute(select(table.c.id)).all())
        assert count > 0  # the demo register was imported into the empty one
        conn.execute(update(table).where(table.c.membership_number == "100001")
                     .values(email="kari.ny@example.org"))  # a fix, as the desk makes it

    second = run_demo(repo)
    assert f"the member register has {count} members" in second.stdout
    with engine.connect() as conn:
        assert conn.execute(select(table.c.email).where(
            table.c.membership_number == "100001")).scalar_one() == "kari.ny@example.org"
        assert len(conn.execute(select(table.c.id)).all()) == count
    engine.dispose()

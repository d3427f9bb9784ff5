"""`org apply` warns, without failing, about a calendar file that does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from routing.models import Agent
from switchboard.cli import app
from switchboard.db import make_engine

ORG = """
organisation: {name: Testforbundet}
numbers: [{number: "+4722000000"}]
menu: {"1": ko}
agents:
  - {id: anne, name: Anne A, phone: "+4790000001",
     calendar: {source: ics, url: calendars/anne.ics}}
  - {id: bjorn, name: Bjorn B, phone: "+4790000002",
     calendar: {source: ics, url: "https://outlook.example/bjorn.ics"}}
  - {id: cato, name: Cato C, phone: "+4790000003", calendar: {source: ics, url: here.ics}}
loops: [{id: ko, name: Koen, members: [anne, bjorn, cato]}]
"""


@pytest.fixture
def org_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path}/w.db")
    (tmp_path / "here.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    path = tmp_path / "org.yaml"
    path.write_text(ORG)
    return path


def test_a_missing_calendar_file_is_a_warning_and_the_file_is_applied(org_file: Path) -> None:
    r = CliRunner().invoke(app, ["org", "apply", str(org_file)])
    assert r.exit_code == 0, r.output
    missing = org_file.parent / "calendars" / "anne.ics"
    assert r.stderr.splitlines() == [
        f"warning: agents[0].calendar.url: anne's calendar file {missing} does not exist; "
        "no calendar blocks for them until it does"]
    assert r.stdout.startswith(f"applied {org_file}: 3 agents")
    engine = make_engine(f"sqlite:///{org_file.parent}/w.db")
    with engine.connect() as conn:
        assert conn.execute(select(Agent.__table__.c.calendar)  # type: ignore[attr-defined]
                            .where(Agent.__table__.c.id == "anne")).scalar() == {  # type: ignore[attr-defined]
            "source": "ics", "url": str(missing)}
    engine.dispose()


def test_no_warning_once_the_file_exists(org_file: Path) -> None:
    (org_file.parent / "calendars").mkdir()
    (org_file.parent / "calendars" / "anne.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    r = CliRunner().invoke(app, ["org", "apply", str(org_file)])
    assert r.exit_code == 0 and r.stderr == ""

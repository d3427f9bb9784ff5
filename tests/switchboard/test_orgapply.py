"""Applying the org file: one transaction, idempotent, state fields, removals, and the CLI verb."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select
from typer.testing import CliRunner

from routing.models import Agent, Loop, MenuEntry, Organisation, PhoneNumber
from switchboard.cli import app
from switchboard.db import make_engine, migrate
from switchboard.orgapply import apply_org
from switchboard.orgfile import load_org_file, parse_org_text
from tests.switchboard.test_orgfile import EXAMPLE, GOOD, line_of

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TABLES = ("organisation", "agent", "loop", "phone_number", "menu_entry", "meta")


def parse(text: str) -> Any:
    return parse_org_text(text, "/srv/org.yaml", default_timezone="Europe/Oslo")


def dump(engine: Engine, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the configuration tables, in key order (columns in skip left out)."""
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            result = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            keep = [i for i, c in enumerate(result.keys()) if c not in skip]
            out[table] = [tuple(row[i] for i in keep) for row in result]
    return out


def agent(engine: Engine, agent_id: str) -> Agent:
    with Session(engine) as s:
        row = s.get(Agent, agent_id)
        assert row is not None
        return row


def update_agent(engine: Engine, agent_id: str, **values: Any) -> None:
    """What the desk or a rule does at run time."""
    with Session(engine) as s:
        row = s.get(Agent, agent_id)
        assert row is not None
        for k, v in values.items():
            setattr(row, k, v)
        s.add(row)
        s.commit()


def test_first_apply_writes_every_table(engine: Engine) -> None:
    report = apply_org(engine, parse(GOOD), now=NOW)
    assert (report.agents, report.loops, report.numbers, report.menu_entries) == (3, 2, 2, 2)
    # organisation + 3 agents + 2 loops + 2 numbers + 2 menu entries
    assert (report.created, report.updated, report.removed, report.version) == (10, 0, 0, 1)
    with Session(engine) as s:
        org = s.get(Organisation, 1)
        assert org is not None
        assert (org.name, org.name_en, org.timezone) == ("Testforbundet", "Test Union",
                                                         "Europe/Oslo")
        assert org.config == {
            "opening_hours": {"mon": "08:00-15:30", "fri": "08:00-14:00"},
            "holidays": "NO",
            "closed_days": ["2026-12-24"],
            "special_hours": {"2026-12-23": "08:00-12:00", "2026-12-30": "closed"},
            "kid": {"algorithm": "mod10", "membership_offset": 0, "membership_length": 6},
            "identity": {"placeholder_suffixes": ["00000", "00100", "00200", "11111", "99999"],
                         "lock_failures": 3, "lock_window_hours": 24},
            "calendar_policy": {"tentative_blocks": True, "all_day_free_blocks": False,
                                "block_keywords": []},
            "prompts": {},
            "english": {"digit": "9", "loop": "andre"},
            "menu_default": "andre",
            "greeting_line": {"nb": None, "en": None},
            "working_days": {"country": "NO", "subdivision": None, "cutoff": "15:00",
                             "count_day_of_receipt": False},
            "tickets": {"handover_confirm_hours": 24, "callback_max_attempts": 3,
                        "retention_days": 30, "untouched_hours": 24},
        }
        agents = s.exec(select(Agent).order_by(Agent.position)).all()
        assert [(a.id, a.position, a.active) for a in agents] == [
            ("anne", 0, True), ("bjorn", 1, True), ("cato", 2, True)]
        anne, bjorn, cato = agents
        assert anne.roles == ["saksbehandler"] and anne.calendar is None
        assert (bjorn.logged_in, bjorn.logout_reason) == (False, "holiday")
        assert bjorn.calendar == {"source": "ics", "url": "/srv/calendars/bjorn.ics"}
        assert (cato.routing_stop, cato.stop_reason) == (True, "org_file")
        assert cato.calendar == {"source": "graph", "mailbox": "cato@example.org"}
        loops = {lp.id: lp for lp in s.exec(select(Loop)).all()}
        okonomi = loops["okonomi"]
        assert (okonomi.members, okonomi.strategy, okonomi.ring_timeout, okonomi.max_wait,
                okonomi.wrap_up, okonomi.overflow) == (["anne", "bjorn"], "ringall", 20, 120, 10,
                                                       "andre")
        assert (loops["andre"].roles, loops["andre"].position) == (["saksbehandler"], 1)
        numbers = {(n.number, n.kind, n.agent_id) for n in s.exec(select(PhoneNumber)).all()}
        assert numbers == {("+4722000000", "switchboard", None), ("+4722000111", "direct", "anne")}
        menu = {(m.digit, m.loop_id) for m in s.exec(select(MenuEntry)).all()}
        assert menu == {("1", "okonomi"), ("2", "andre")}


def test_apply_is_idempotent(engine: Engine) -> None:
    apply_org(engine, parse(GOOD), now=NOW)
    before = dump(engine, skip=("applied_at", "value"))
    report = apply_org(engine, parse(GOOD), now=NOW)
    assert (report.created, report.updated, report.removed) == (0, 0, 0)
    assert report.version == 2
    assert dump(engine, skip=("applied_at", "value")) == before


def test_removed_agent_and_loop_are_deactivated_and_tables_match(engine: Engine) -> None:
    apply_org(engine, parse(GOOD), now=NOW)
    smaller = (GOOD.replace("  - id: cato\n    name: Cato C\n    phone: \"+4790000003\"\n"
                            "    routing_stop: true\n"
                            "    calendar: {source: graph, mailbox: cato@example.org}\n", "")
               .replace("    overflow: andre", "    overflow: voicemail")
               .replace('  "2": andre\n', "")
               .replace("loop: andre}", "loop: okonomi}")
               .replace('english: {digit: "9"', 'english: {digit: "8"'))
    smaller = smaller[:smaller.index("  - id: andre")]
    smaller = smaller.replace('  - number: "+4722000111"\n    kind: direct\n    agent: anne\n',
                              '  - number: "+4722000222"\n    kind: direct\n    agent: bjorn\n')
    report = apply_org(engine, parse(smaller), now=NOW)
    # cato and andre deactivated, old number and digit 2 deleted; new number; okonomi and org
    # updated.
    assert (report.created, report.updated, report.removed) == (1, 2, 4)
    with Session(engine) as s:
        cato = s.get(Agent, "cato")
        andre = s.get(Loop, "andre")
        assert cato is not None and cato.active is False and cato.name == "Cato C"
        assert andre is not None and andre.active is False
        assert andre.overflow == "voicemail"  # kept: where its waiting callers go
        numbers = {(n.number, n.agent_id) for n in s.exec(select(PhoneNumber)).all()}
        assert numbers == {("+4722000000", None), ("+4722000222", "bjorn")}
        assert [(m.digit, m.loop_id) for m in s.exec(select(MenuEntry)).all()] == [("1", "okonomi")]
    # Putting them back reactivates the same rows.
    report = apply_org(engine, parse(GOOD), now=NOW)
    # Number 222 deleted; 111 and digit 2 back; org, cato, andre and okonomi updated.
    assert (report.created, report.updated, report.removed) == (2, 4, 1)
    assert agent(engine, "cato").active is True


def test_removed_loop_keeps_its_overflow(engine: Engine) -> None:
    apply_org(engine, parse(GOOD), now=NOW)
    start, end = GOOD.index("  - id: okonomi"), GOOD.index("  - id: andre")
    without = (GOOD[:start] + GOOD[end:]).replace('"1": okonomi', '"1": andre')
    apply_org(engine, parse(without), now=NOW)
    with Session(engine) as s:
        okonomi = s.get(Loop, "okonomi")
        assert okonomi is not None and okonomi.active is False
        assert okonomi.overflow == "andre"  # callers still waiting in it move on to andre
        assert okonomi.members == ["anne", "bjorn"]


def test_reapply_keeps_a_logout_set_at_run_time(engine: Engine) -> None:
    apply_org(engine, parse(GOOD), now=NOW)
    update_agent(engine, "anne", logged_in=False, logout_reason="sick")
    update_agent(engine, "bjorn", logged_in=True, logout_reason=None)  # back from holiday
    apply_org(engine, parse(GOOD), now=NOW)
    assert (agent(engine, "anne").logged_in, agent(engine, "anne").logout_reason) == (False,
                                                                                      "sick")
    assert agent(engine, "bjorn").logged_in is True


def test_changing_logged_in_in_the_file_takes_effect(engine: Engine) -> None:
    apply_org(engine, parse(GOOD), now=NOW)
    update_agent(engine, "bjorn", logged_in=True, logout_reason=None)
    edited = GOOD.replace("    logged_in: false\n    logout_reason: holiday\n",
                          "    logged_in: false\n    logout_reason: training\n")
    apply_org(engine, parse(edited), now=NOW)
    assert (agent(engine, "bjorn").logged_in, agent(engine, "bjorn").logout_reason) == (
        False, "training")
    logged_in = GOOD.replace('    phone: "+4790000001"\n',
                             '    phone: "+4790000001"\n    logged_in: false\n'
                             '    logout_reason: sick\n')
    apply_org(engine, parse(logged_in), now=NOW)
    assert agent(engine, "anne").logged_in is False
    update_agent(engine, "anne", logged_in=True)
    apply_org(engine, parse(logged_in), now=NOW)  # unchanged again: the desk's login stays
    assert agent(engine, "anne").logged_in is True


def test_routing_stop_from_the_file_and_from_a_rule(engine: Engine) -> None:
    apply_org(engine, parse(GOOD), now=NOW)
    update_agent(engine, "anne", routing_stop=True, stop_reason="unanswered")
    update_agent(engine, "cato", routing_stop=False, stop_reason=None)
    apply_org(engine, parse(GOOD), now=NOW)
    anne, cato = agent(engine, "anne"), agent(engine, "cato")
    assert (anne.routing_stop, anne.stop_reason) == (True, "unanswered")
    assert (cato.routing_stop, cato.stop_reason) == (False, None)
    update_agent(engine, "cato", routing_stop=True, stop_reason="unanswered")
    apply_org(engine, parse(GOOD.replace("routing_stop: true", "routing_stop: false")), now=NOW)
    cato = agent(engine, "cato")
    assert (cato.routing_stop, cato.stop_reason) == (False, None)


def test_a_database_error_changes_nothing(engine: Engine) -> None:
    apply_org(engine, parse(GOOD), now=NOW)
    before = dump(engine)
    with engine.begin() as conn:
        # A real failure late in the transaction (after agents and loops were written).
        conn.execute(text("CREATE TRIGGER no_menu BEFORE INSERT ON menu_entry "
                          "BEGIN SELECT RAISE(ABORT, 'menu is read-only'); END"))
    edited = (GOOD.replace("name: Anne A", "name: Anne Andersen")
              .replace('"2": andre', '"2": andre\n  "3": okonomi'))
    with pytest.raises(SQLAlchemyError):
        apply_org(engine, parse(edited), now=NOW)
    assert dump(engine) == before


def test_example_file_applies(engine: Engine) -> None:
    report = apply_org(engine, load_org_file(EXAMPLE, default_timezone="UTC"), now=NOW)
    assert (report.agents, report.loops, report.numbers, report.menu_entries) == (12, 4, 2, 3)
    with Session(engine) as s:
        lonn = s.get(Loop, "lonn")
        assert lonn is not None and lonn.roles == ["saksbehandler"] and lonn.members == []
        holders = [a.id for a in s.exec(select(Agent).order_by(Agent.position)).all()
                   if "saksbehandler" in a.roles]
        assert len(holders) >= 3
        org = s.get(Organisation, 1)
        assert org is not None and org.config["english"] == {"digit": "9", "loop": "sentralbord"}
    assert apply_org(engine, load_org_file(EXAMPLE), now=NOW).changes == 0


@pytest.mark.postgres
def test_apply_on_postgresql(pg_url: str) -> None:
    from tests import pg

    # A database of its own, so other tests' rows in the session database are not disturbed.
    name, url = pg.create_database()
    eng = make_engine(url)
    try:
        migrate(eng)
        first = apply_org(eng, load_org_file(EXAMPLE), now=NOW)
        second = apply_org(eng, load_org_file(EXAMPLE), now=NOW)
        assert (first.created, second.changes, second.version) == (25, 0, 2)  # 3 departments
        with Session(eng) as s:
            assert len(s.exec(select(Agent)).all()) == 12
    finally:
        eng.dispose()
        pg.drop_database(name)


# --- the CLI verb, end to end on a tmp SQLite database ------------------------------------------

BAD_FILES = {  # (change to GOOD, expected start of the message, text on the line it names)
    "menu_missing_loop": (('"2": andre', '"2": nowhere'), 'menu."2" (line {})', "nowhere"),
    "overflow_cycle": (("    overflow: voicemail", "    overflow: okonomi"),
                       "loops[0].overflow (line {}): overflow cycle", "overflow: andre"),
    "duplicate_digit": (('  "2": andre\n', '  "2": andre\n  "1": andre\n'),
                        'menu."1" (line {}): duplicate digit', '"1": andre'),
    "non_e164_phone": (('phone: "+4790000002"', 'phone: "+47 900"'),
                       "agents[1].phone (line {})", "+47 900"),
    "unknown_loop_member": (("members: [anne, bjorn]", "members: [anne, dag]"),
                            'loops[0].members[1] (line {}): agent "dag" does not exist', "dag"),
    "bad_yaml": (('  "2": andre', '  "2": [andre'), "bad YAML (line {}", "english:"),
    "missing_required_key": (("  name: Testforbundet\n", ""),
                             "organisation.name (line {}): is required", "organisation:"),
    "unknown_key": (("    kind: switchboard", "    knd: switchboard"),
                    'numbers[0].knd (line {}): unknown key "knd"', "knd:"),
}


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{db}")
    eng = make_engine(f"sqlite:///{db}")
    yield eng
    eng.dispose()


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_cli_applies_a_good_file(cli_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(GOOD, encoding="utf-8")
    result = run_cli("org", "apply", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"applied {path}: 3 agents, 2 loops, 2 numbers, 2 menu entries "
        "(created 10, updated 0, removed 0)")
    again = run_cli("org", "apply", str(path))
    assert "(created 0, updated 0, removed 0)" in again.stdout


def test_cli_applies_the_example(cli_db: Engine) -> None:
    result = run_cli("org", "apply", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "12 agents, 4 loops, 2 numbers, 3 menu entries" in result.stdout


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_cli_refuses_a_bad_file_and_changes_nothing(cli_db: Engine, tmp_path: Path,
                                                    case: str) -> None:
    good = tmp_path / "org.yaml"
    good.write_text(GOOD, encoding="utf-8")
    assert run_cli("org", "apply", str(good)).exit_code == 0
    before = dump(cli_db)
    (old, new), expected, needle = BAD_FILES[case]
    bad_text = GOOD.replace(old, new, 1)
    expected = expected.format(line_of(bad_text, needle))
    bad = tmp_path / "bad.yaml"
    bad.write_text(bad_text, encoding="utf-8")
    result = run_cli("org", "apply", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert any(line.removeprefix("error: ").startswith(expected)
               for line in result.stderr.splitlines())
    assert dump(cli_db) == before


def test_cli_refuses_a_missing_file(cli_db: Engine, tmp_path: Path) -> None:
    result = run_cli("org", "apply", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot read")

"""Parsing and validating the org file: defaults, and every refusal names field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.orgfile import OrgFileError, load_org_file, parse_org_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "org.yaml"

GOOD = """\
organisation:
  name: Testforbundet
  name_en: Test Union
  timezone: Europe/Oslo
  holidays: "NO"
  opening_hours: {mon: "08:00-15:30", fri: "08:00-14:00"}
  closed_days: ["2026-12-24"]
  special_hours: {"2026-12-23": "08:00-12:00", "2026-12-30": closed}
numbers:
  - number: "+4722000000"
    kind: switchboard
  - number: "+4722000111"
    kind: direct
    agent: anne
menu:
  "1": okonomi
  "2": andre
english: {digit: "9", loop: andre}
agents:
  - id: anne
    name: Anne A
    phone: "+4790000001"
    roles: [saksbehandler]
  - id: bjorn
    name: Bjørn B
    phone: "+4790000002"
    logged_in: false
    logout_reason: holiday
    calendar: {source: ics, url: calendars/bjorn.ics}
  - id: cato
    name: Cato C
    phone: "+4790000003"
    routing_stop: true
    calendar: {source: graph, mailbox: cato@example.org}
loops:
  - id: okonomi
    name: Forsikring og faktura
    members: [anne, bjorn]
    strategy: ringall
    ring_timeout: 20
    max_wait: 120
    wrap_up: 10
    overflow: andre
  - id: andre
    name: Andre henvendelser
    members: [cato]
    roles: [saksbehandler]
    strategy: round_robin
    overflow: voicemail
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing needle."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[nth - 1]


def refuse(text: str) -> str:
    with pytest.raises(OrgFileError) as info:
        parse_org_text(text, "/srv/org.yaml", default_timezone="Europe/Oslo")
    return info.value.message


def test_good_file_and_defaults() -> None:
    org = parse_org_text(GOOD, "/srv/org.yaml", default_timezone="Europe/Oslo")
    assert org.organisation.name == "Testforbundet"
    assert org.organisation.holidays == "NO"
    assert org.menu == {"1": "okonomi", "2": "andre"}
    assert org.menu_default == "andre"  # the last menu entry's loop
    assert org.kid.algorithm == "mod10"
    assert (org.kid.membership_offset, org.kid.membership_length) == (0, 6)
    assert org.calendar_policy.tentative_blocks is True
    assert org.calendar_policy.all_day_free_blocks is False
    assert org.calendar_policy.block_keywords == []
    anne, bjorn, cato = org.agents
    assert (anne.logged_in, anne.logout_reason, anne.routing_stop) == (True, None, False)
    assert (bjorn.logged_in, bjorn.logout_reason) == (False, "holiday")
    assert cato.routing_stop is True
    andre = org.loops[1]
    assert (andre.max_wait, andre.wrap_up, andre.ring_timeout) == (0, 0, 20)
    assert org.numbers[1].kind == "direct" and org.numbers[1].agent == "anne"


def test_ics_relative_path_is_resolved_against_the_file_directory(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "org.yaml"
    path.write_text(GOOD.replace("https://", ""), encoding="utf-8")
    org = load_org_file(path, default_timezone="Europe/Oslo")
    calendar = org.agents[1].calendar
    assert calendar is not None and calendar.source == "ics"
    assert calendar.url == str(tmp_path / "conf" / "calendars" / "bjorn.ics")
    http = GOOD.replace("calendars/bjorn.ics", "https://outlook.example/b.ics")
    org = parse_org_text(http, "/srv/org.yaml", default_timezone="Europe/Oslo")
    assert org.agents[1].calendar.url == "https://outlook.example/b.ics"  # type: ignore[union-attr]


def test_timezone_default_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace("  timezone: Europe/Oslo\n", "")
    assert parse_org_text(text, "x.yaml", default_timezone="UTC").organisation.timezone == "UTC"
    monkeypatch.setenv("SWITCHBOARD_TIMEZONE", "Europe/Stockholm")
    assert parse_org_text(text, "x.yaml").organisation.timezone == "Europe/Stockholm"


def test_yaml_1_1_surprises_are_read_as_written() -> None:
    # Unquoted NO is Norway (not false), +47… a phone number, and 1: a menu key "1".
    text = (GOOD.replace('holidays: "NO"', "holidays: NO")
            .replace('number: "+4722000000"', "number: +4722000000")
            .replace('"1": okonomi', "1: okonomi")
            .replace('digit: "9"', "digit: 9"))
    org = parse_org_text(text, "x.yaml", default_timezone="Europe/Oslo")
    assert org.organisation.holidays == "NO"
    assert org.numbers[0].number == "+4722000000"
    assert list(org.menu) == ["1", "2"]
    assert org.english is not None and org.english.digit == "9"


def test_example_file_parses() -> None:
    org = load_org_file(EXAMPLE, default_timezone="UTC")
    assert org.organisation.name == "Arbeidsmandsforbundet"
    assert org.organisation.timezone == "Europe/Oslo"
    assert [a.id for a in org.agents] == [
        "may.tove", "janet", "ole.hansen", "kari.nordmann", "per.olsen", "ingrid.berg",
        "lars.johansen", "sofie.larsen", "nils.eriksen", "hanne.dahl", "erik.moen", "anna.lie",
    ]
    assert [a.phone for a in org.agents] == [f"+47900000{i:02d}" for i in range(1, 13)]
    assert [lp.id for lp in org.loops] == ["okonomi", "lonn", "andre", "sentralbord"]
    assert org.menu == {"1": "okonomi", "2": "lonn", "3": "andre"}
    assert org.english is not None and (org.english.digit, org.english.loop) == ("9", "sentralbord")
    calendars = {a.id: a.calendar for a in org.agents if a.calendar is not None}
    assert sorted(calendars) == ["kari.nordmann", "ole.hansen", "per.olsen"]
    for agent_id, calendar in calendars.items():
        assert calendar.url == str(EXAMPLE.parent / "calendars" / f"{agent_id}.ics")  # type: ignore[union-attr]


# --- refusals: (change to GOOD, expected message, the text on the line it names) ---------------

REFUSALS = {
    "menu_missing_loop": (
        ('"2": andre', '"2": nowhere'),
        'menu."2" (line {}): loop "nowhere" does not exist', '"2": nowhere'),
    "overflow_cycle": (
        ("    overflow: voicemail", "    overflow: okonomi"),
        "loops[0].overflow (line {}): overflow cycle: okonomi -> andre -> okonomi",
        "overflow: andre"),
    "duplicate_digit": (
        ('  "2": andre\n', '  "2": andre\n  "1": andre\n'),
        'menu."1" (line {}): duplicate digit "1" (first on line 16)', '"1": andre'),
    "non_e164_phone": (
        ('phone: "+4790000002"', 'phone: "+47 900"'),
        'agents[1].phone (line {}): "+47 900" is not an E.164 phone number', "+47 900"),
    "unknown_loop_member": (
        ("members: [anne, bjorn]", "members: [anne, bjørn2]"),
        'loops[0].members[1] (line {}): ', "members: [anne, bj"),
    "unknown_loop_member_id": (
        ("members: [anne, bjorn]", "members: [anne, dag]"),
        'loops[0].members[1] (line {}): agent "dag" does not exist', "members: [anne, dag]"),
    "unknown_key": (
        ("    roles: [saksbehandler]\n  - id: bjorn", "    rolls: [saksbehandler]\n  - id: bjorn"),
        'agents[0].rolls (line {}): unknown key "rolls" (did you mean "roles"?)', "rolls:"),
    "unknown_top_key": (
        ("menu:\n", "meny:\n"), 'meny (line {}): unknown key "meny"', "meny:"),
    "missing_required_name": (
        ("  name: Testforbundet\n", ""),
        "organisation.name (line {}): is required", "organisation:"),
    "missing_loops": (
        ("loops:", "loopz:"), "loops: is required", None),
    "unknown_top_key_hint": (
        ("loops:", "loopz:"), 'loopz (line {}): unknown key "loopz" (did you mean "loops"?)',
        "loopz:"),
    "duplicate_agent": (
        ("  - id: cato", "  - id: anne"),
        'agents[2].id (line {}): duplicate agent id "anne" (also agents[0])', "- id: anne", 2),
    "duplicate_loop": (
        ("  - id: andre", "  - id: okonomi"),
        'loops[1].id (line {}): duplicate loop id "okonomi" (also loops[0])', "- id: okonomi", 2),
    "duplicate_number": (
        ('"+4722000111"', '"+4722000000"'),
        "numbers[1].number (line {}): duplicate number (also numbers[0])", '"+4722000000"', 2),
    "direct_unknown_agent": (
        ("    agent: anne", "    agent: zed"),
        'numbers[1].agent (line {}): agent "zed" does not exist', "agent: zed"),
    "direct_without_agent": (
        ("    agent: anne\n", ""),
        "numbers[1] (line {}): a direct line needs `agent:`", "- number: \"+4722000111\""),
    "english_digit_clash": (
        ('digit: "9"', 'digit: "1"'),
        'english.digit (line {}): digit "1" is already a menu digit', "english:"),
    "english_unknown_loop": (
        ("loop: andre}", "loop: sentralbord}"),
        'english.loop (line {}): loop "sentralbord" does not exist', "english:"),
    "menu_default_unknown": (
        ("english:", "menu_default: kantine\nenglish:"),
        'menu_default (line {}): loop "kantine" does not exist', "menu_default"),
    "overflow_unknown": (
        ("    overflow: andre", "    overflow: kantine"),
        'loops[0].overflow (line {}): loop "kantine" does not exist', "overflow: kantine"),
    "menu_digit_two_keys": (
        ('"2": andre', '"12": andre'), 'menu."12" (line {}): "12" is not one key', '"12"'),
    "bad_id": (
        ("  - id: cato", "  - id: Cato C"),
        'agents[2].id (line {}): "Cato C" is not a valid id', "- id: Cato C"),
    "bad_timezone": (
        ("timezone: Europe/Oslo", "timezone: Europe/Olso"),
        'organisation.timezone (line {}): "Europe/Olso" is not a time zone', "Olso"),
    "bad_country": (
        ('holidays: "NO"', 'holidays: "XX"'),
        'organisation.holidays (line {}): "XX" is not a country code', "XX"),
    "bad_hours": (
        ('fri: "08:00-14:00"', 'fri: "14:00-08:00"'),
        'organisation.opening_hours.fri (line {}): "14:00-08:00" ends before it starts',
        "14:00-08:00"),
    "bad_weekday": (
        ('fri: "08:00-14:00"', 'fre: "08:00-14:00"'),
        'organisation.opening_hours.fre (line {}): unknown key "fre"', "fre:"),
    "bad_closed_day": (
        ('["2026-12-24"]', '["2026-12-32"]'),
        "organisation.closed_days[0] (line {}): ", "2026-12-32"),
    "bad_closed_day_unquoted": (
        ('["2026-12-24"]', "[2026-12-32]"),
        "organisation.closed_days[0] (line {}): ", "2026-12-32"),
    "bad_strategy": (
        ("strategy: round_robin", "strategy: roundrobin"),
        "loops[1].strategy (line {}): ", "roundrobin"),
    "bad_logout_reason": (
        ("logout_reason: holiday", "logout_reason: vacation"),
        "agents[1].logout_reason (line {}): ", "vacation"),
    "logged_out_without_reason": (
        ("    logout_reason: holiday\n", ""),
        "agents[1] (line {}): logged_in is false, so logout_reason is required",
        "- id: bjorn"),
    "bad_calendar_source": (
        ("source: graph", "source: google"), "agents[2].calendar (line {}): ", "google"),
    "bad_mailbox": (
        ("mailbox: cato@example.org", "mailbox: cato"),
        "agents[2].calendar.mailbox (line {}): is not a mailbox address", "mailbox: cato"),
    "ring_timeout_too_short": (
        ("ring_timeout: 20", "ring_timeout: 2"), "loops[0].ring_timeout (line {}): ",
        "ring_timeout: 2"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusal_names_field_and_line(case: str) -> None:
    (old, new), expected, needle, *nth = REFUSALS[case]
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    message = refuse(text)
    if needle is not None:
        expected = expected.format(line_of(text, needle, *nth))
    assert any(line.startswith(expected) for line in message.splitlines())


def test_bad_yaml_gives_a_line() -> None:
    text = GOOD.replace('  "2": andre', '  "2": [andre')
    assert refuse(text).startswith(f"bad YAML (line {line_of(text, 'english:')}")
    text = GOOD.replace("  name_en: Test Union", "name_en: Test Union\n   oops: 1")
    assert refuse(text).startswith("bad YAML (line ")


def test_not_a_mapping_and_empty_file() -> None:
    assert "must be a mapping" in refuse("- just\n- a list\n")
    assert "must be a mapping" in refuse("")


def test_several_problems_are_all_reported_in_line_order() -> None:
    text = GOOD.replace('phone: "+4790000003"', 'phone: "12345"').replace(
        "  name: Testforbundet\n", "  nmae: Testforbundet\n")
    first, *rest = refuse(text).splitlines()
    assert first.startswith("organisation.name (line 1): is required")
    assert any(line.startswith("organisation.nmae (line 2): unknown key") for line in rest)
    assert any(line.startswith(f"agents[2].phone (line {line_of(text, '12345')})")
               for line in rest)


@pytest.mark.parametrize("phone", [
    "+47 90000001", "004790000001", "90000001", "+4712", "+47900000011", "+4790000001 ",
    "tel:+4790000001",
])
def test_phones_must_be_valid_e164(phone: str) -> None:
    text = GOOD.replace('phone: "+4790000001"', f'phone: "{phone}"')
    assert refuse(text).startswith(f"agents[0].phone (line {line_of(text, phone)}): ")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(OrgFileError, match="cannot read"):
        load_org_file(tmp_path / "missing.yaml", default_timezone="UTC")

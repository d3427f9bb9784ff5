"""`switchboard members import`: good rows, bad rows, duplicates, --strict, idempotence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from identity.models import Member, MemberPhone
from identity.pii import PiiHasher
from identity.register import parse_csv
from switchboard.cli import app
from switchboard.db import make_engine, migrate, session_scope
from tests.identity.test_identity_helpers import FIXTURES, KARI

HEADER = "membership_number,name,national_id,birth_date,phone,email,returned_mail,status\n"


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "members.db"
    env = {"SWITCHBOARD_DATABASE_URL": f"sqlite:///{db}", "SWITCHBOARD_PII_KEY": "k" * 24,
           "SWITCHBOARD_ALLOW_TEST_IDS": "1"}

    def invoke(text: str | bytes, *args: str, extra_env: dict | None = None):  # type: ignore[no-untyped-def]
        path = tmp_path / "register.csv"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        result = CliRunner().invoke(app, ["members", "import", str(path), *args],
                                    env=env | (extra_env or {}))
        return result

    def engine():  # type: ignore[no-untyped-def]
        eng = make_engine(f"sqlite:///{db}")
        migrate(eng)
        return eng

    invoke.engine = engine  # type: ignore[attr-defined]
    return invoke


def members(engine) -> dict[str, Member]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return {m.membership_number: m for m in session.exec(select(Member)).all()}


def test_demo_register_imports(run) -> None:  # type: ignore[no-untyped-def]
    result = run((FIXTURES / "members.csv").read_bytes())
    assert result.exit_code == 0, result.output
    assert "8 new" in result.output and "1 need a national ID correction" in result.output
    got = members(run.engine())
    assert got["100003"].needs_correction is True
    assert got["100002"].returned_mail is True
    assert got["100004"].email is None
    assert got["100001"].national_id_masked == "148378 *****"
    assert got["100001"].national_id_hash and KARI["id"] not in got["100001"].national_id_hash


def test_bad_rows_are_reported_by_line_without_the_id(run) -> None:  # type: ignore[no-untyped-def]
    bad_id = "20036914712"  # fails the check digits: imported, flagged
    text = (HEADER
            + "200001,Good Person,20036914700,,91000001,,nei,active\n"
            + ",No Number,,,,,,\n"
            + "200003,,,,,,,\n"
            + "20000x,Letters,,,,,,\n"
            + "200005,Bad Date,,1970-13-01,,,,\n"
            + "200006,Bad Phone,,,12,,,\n"
            + "200007,Bad Flag,,,,,perhaps,\n"
            + f"200008,Bad Id,{bad_id},,,,,\n"
            + "200009,Bad Mail,,,,no-at-sign,,\n")
    result = run(text)
    assert result.exit_code == 0
    out = result.output
    for line, word in [(3, "membership_number"), (4, "name"), (5, "membership_number"),
                       (6, "birth_date"), (7, "phone number 1"), (8, "returned_mail"),
                       (10, "email")]:
        assert f"line {line}: rejected: {word}" in out
    # The flagged row is imported and reported by its line, never by its number.
    assert "line 9: imported with the needs-correction flag" in out
    assert "line 9: rejected" not in out and "line 2" not in out
    assert bad_id not in out and "12," not in out
    got = members(run.engine())
    assert set(got) == {"200001", "200008"}
    assert got["200008"].needs_correction is True and got["200008"].national_id_hash is None
    assert got["200001"].needs_correction is False


def test_strict_imports_nothing_when_a_row_is_rejected(run) -> None:  # type: ignore[no-untyped-def]
    text = HEADER + "300001,Fine,,,,,,\n300002,,,,,,,\n"
    result = run(text, "--strict")
    assert result.exit_code != 0
    assert "line 3: rejected" in result.output
    assert members(run.engine()) == {}
    assert run(HEADER + "300001,Fine,,,,,,\n", "--strict").exit_code == 0


def test_duplicates_in_a_file_and_idempotent_reimport(run) -> None:  # type: ignore[no-untyped-def]
    text = HEADER + "400001,First,,,91000001|+4722000000,,,\n400001,Again,,,,,,\n"
    result = run(text)
    assert "line 3: rejected: duplicate membership_number (first on line 2)" in result.output
    run(HEADER + "400002,Other,,,,,,\n")
    # Re-import: the existing member is updated, the one missing from the file stays.
    result = run(HEADER + "400001,First Renamed,,,91000009,a@example.org,ja,\n")
    assert "0 new, 1 updated" in result.output
    engine = run.engine()
    got = members(engine)
    assert set(got) == {"400001", "400002"}
    assert got["400001"].name == "First Renamed" and got["400001"].returned_mail is True
    with session_scope(engine) as session:
        phones = session.exec(select(MemberPhone.e164)).all()
    assert phones == ["+4791000009"]


def test_semicolons_bom_any_order_and_unknown_columns(run) -> None:  # type: ignore[no-untyped-def]
    text = "\ufeffNAME;Shoe_Size;Membership_Number;Returned_Mail\nSemi Colon;44;500001;Ja\n"
    result = run(text.encode("utf-8"))
    assert result.exit_code == 0
    assert "ignored unknown column(s): shoe_size" in result.output
    got = members(run.engine())
    assert got["500001"].name == "Semi Colon" and got["500001"].returned_mail is True


def test_test_ids_need_test_mode(run) -> None:  # type: ignore[no-untyped-def]
    row = HEADER + "600001,Synthetic,03851598730,,,,,\n"
    run(row, extra_env={"SWITCHBOARD_ALLOW_TEST_IDS": "0"})
    assert members(run.engine())["600001"].needs_correction is True
    run(row)
    assert members(run.engine())["600001"].needs_correction is False


def test_unreadable_file_and_missing_key(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run(b"\xff\xfe not utf-8").exit_code != 0
    assert run("name,city\nx,y\n").exit_code != 0
    missing = CliRunner().invoke(app, ["members", "import", str(tmp_path / "nope.csv")],
                                 env={"SWITCHBOARD_PII_KEY": "k" * 24})
    assert missing.exit_code != 0
    no_key = run(HEADER, extra_env={"SWITCHBOARD_PII_KEY": ""})
    assert no_key.exit_code != 0 and "SWITCHBOARD_PII_KEY" in no_key.output


def test_ten_thousand_rows(run) -> None:  # type: ignore[no-untyped-def]
    """The size a union's register reaches; its time is reported in the README, not here."""
    rows = [HEADER] + [f"{700000 + i},Member {i},,1970-01-01,+479{i:07d},,nei,active\n"
                       for i in range(10_000)]
    result = run("".join(rows))
    assert result.exit_code == 0, result.output
    assert "10000 new" in result.output
    assert len(members(run.engine())) == 10_000


def test_parse_is_pure_and_line_numbers_follow_quoted_newlines() -> None:
    text = (HEADER + '800001,"Two\nLines",,,,,,\n800002,,,,,,,\n').encode()
    result = parse_csv(text, hasher=PiiHasher(b"k"), today=dt.date(2026, 11, 25),
                       allow_test_ids=True)
    assert [r.line for r in result.records] == [2]
    assert [(r.line, r.reason) for r in result.rejections] == [(4, "name is missing")]


def test_possible_placeholders_are_reported_by_line_and_follow_the_org_file(run) -> None:  # type: ignore[no-untyped-def]
    from routing.models import Organisation

    valid_00100, fake_12345 = "11024000100", "11024012345"  # passes / fails the check digits
    text = (HEADER + f"900001,Berit Plassholder,{valid_00100},,,,,\n"
            + f"900002,Fake Suffix,{fake_12345},,,,,\n")
    out = run(text).output
    assert "line 2: imported; the national ID may be a placeholder: confirm it with the " \
           "member" in out
    assert "line 3: imported with the needs-correction flag" in out
    assert valid_00100 not in out and fake_12345 not in out
    got = members(run.engine())
    assert got["900001"].needs_correction is False
    assert got["900001"].national_id_possible_placeholder is True
    assert got["900001"].national_id_hash is not None
    # The org file says only 12345 is a fake suffix: Berit's number is no longer suspect, and a
    # number ending in 12345 that fails the check digits is a placeholder.
    engine = run.engine()
    with session_scope(engine) as session:
        session.add(Organisation(id=1, name="Demo", config={"identity": {
            "placeholder_suffixes": ["12345"]}}))
    out = run(text).output
    assert "line 2" not in out and "line 3: imported with the needs-correction flag" in out
    assert members(engine)["900001"].national_id_possible_placeholder is False

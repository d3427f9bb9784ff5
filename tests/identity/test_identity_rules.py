"""The org file's identity rules: placeholder suffixes (a valid number with one is a data check
the member confirms once), and the lock counted per call, per member and per calling number
over a window, lifted by the window or an admin (audited)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import select

from identity import fnr
from identity.fnr import Verdict, classify
from identity.models import AuditEntry
from routing.models import Organisation
from switchboard.db import session_scope
from tests.identity.test_identity_helpers import (
    KARI,
    NOW,
    OLA,
    STRANGER,
    Desk,
    add_call,
    audit_rows,
    desk,
    load_register,
    make_client,
)

TODAY = dt.date(2026, 11, 25)
BERIT = {"number": "100101", "id": "11024000100", "birth": "1940-02-11",
         "name": "Berit Plassholder", "phone": "+4791000101"}  # valid, ends in 00100
FAKE_SUFFIX = "11024012345"  # ends in 12345 and fails the check digits


def test_a_valid_number_with_a_placeholder_suffix_is_only_flagged() -> None:
    check = classify(BERIT["id"], today=TODAY)
    assert fnr.checksum_ok(BERIT["id"])
    assert check.verdict is Verdict.ACCEPT and check.possible_placeholder is True
    assert check.birth_date == dt.date(1940, 2, 11)
    # Failing the checksum with such a suffix, or a whole known fake: needs correction.
    assert classify("01027800100", today=TODAY).verdict is Verdict.NEEDS_CORRECTION
    assert classify("01020000100", today=TODAY).verdict is Verdict.NEEDS_CORRECTION
    assert classify("12345678910", today=TODAY).verdict is Verdict.NEEDS_CORRECTION


def test_the_suffixes_come_from_the_org_settings() -> None:
    mine = ("12345",)
    assert classify(BERIT["id"], today=TODAY, placeholder_suffixes=mine).possible_placeholder \
        is False
    assert classify(FAKE_SUFFIX, today=TODAY).verdict is Verdict.INVALID
    assert classify(FAKE_SUFFIX, today=TODAY, placeholder_suffixes=mine).verdict \
        is Verdict.NEEDS_CORRECTION
    # Whole known fakes stay fakes whatever the list says.
    assert classify("01020000100", today=TODAY, placeholder_suffixes=mine).verdict \
        is Verdict.NEEDS_CORRECTION


def _with_berit(world, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "berit.csv"
    csv.write_text("membership_number;name;national_id;phone;email\n"
                   f"{BERIT['number']};{BERIT['name']};{BERIT['id']};{BERIT['phone']};"
                   "berit@example.org\n", encoding="utf-8")
    load_register(world["engine"], settings, csv)


def test_possible_placeholder_is_a_data_check_confirmed_once(world, settings,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    _with_berit(world, settings, tmp_path)
    d = desk(world, "CA1", BERIT["phone"])
    d.post("/start", {"script": "member"})
    body = d.post("/member/verify", {"national_id": BERIT["id"],
                                     "membership_number": BERIT["number"]}).json()
    assert body["verified"] is True  # a valid number verifies the member
    assert body["member"]["national_id_needs_correction"] is False
    check = next(c for c in body["checks"] if c["check"] == "national_id_possible_placeholder")
    assert check["message"] == ("This number may be a placeholder: confirm it with the "
                                "member.")
    assert check["action"]["path"].endswith("/fixes/national-id/confirm")
    assert check["alternative"]["path"].endswith("/fixes/national-id")
    confirmed = d.client.post(d.url("/fixes/national-id/confirm"), headers=d.headers)  # no body
    assert confirmed.status_code == 200
    assert "national_id_possible_placeholder" not in [c["check"] for c in
                                                      confirmed.json()["checks"]]
    row = audit_rows(world["engine"], "CA1")[-1]
    assert (row.action, row.factors, row.outcome) == ("confirm_national_id", ["national_id"],
                                                       "ok")
    # Not asked again, on a later call either; and no second confirmation or ID fix offered.
    d2 = desk(world, "CA2", BERIT["phone"])
    d2.post("/start", {"script": "member"})
    again = d2.post("/member/verify", {"national_id": BERIT["id"],
                                       "membership_number": BERIT["number"]}).json()
    assert [c["check"] for c in again["checks"]] == []
    assert d2.post("/fixes/national-id/confirm", {}).json()["reason"] == "not_needed"
    assert d2.post("/fixes/national-id", {"national_id": BERIT["id"]}).json()["reason"] == \
        "not_needed"
    # A re-import of the same number keeps the confirmation.
    load_register(world["engine"], settings, tmp_path / "berit.csv")
    d3 = desk(world, "CA3", BERIT["phone"])
    d3.post("/start", {"script": "member"})
    assert d3.post("/member/verify", {"national_id": BERIT["id"], "membership_number":
                                      BERIT["number"]}).json()["checks"] == []


def test_org_suffixes_decide_what_the_api_refuses(world) -> None:  # type: ignore[no-untyped-def]
    with session_scope(world["engine"]) as session:
        session.add(Organisation(id=1, name="Demo", config={"identity": {
            "placeholder_suffixes": ["12345"]}}))
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    resp = d.post("/member/verify", {"national_id": FAKE_SUFFIX,
                                     "membership_number": KARI["number"]})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["msg"].endswith("this is a known placeholder, "
                                                    "not a national ID")


# --- the lock --------------------------------------------------------------------------------

WRONG = {"national_id": OLA["id"], "membership_number": KARI["number"]}
RIGHT = {"national_id": KARI["id"], "membership_number": KARI["number"]}


def _fail(d: Desk, times: int) -> list[int]:
    d.post("/start", {"script": "member"})
    return [d.post("/member/verify", WRONG).json()["attempts_left"] for _ in range(times)]


def test_hanging_up_does_not_reset_the_count(world) -> None:  # type: ignore[no-untyped-def]
    assert _fail(desk(world, "CA1", STRANGER), 2) == [2, 1]
    # The same calling number rings again: one attempt left, not three.
    d = desk(world, "CA2", STRANGER)
    assert d.get().json()["attempts_left"] == 1
    last = d.post("/start", {"script": "member"}) and d.post("/member/verify", WRONG)
    assert last.json()["locked"] is True and last.json()["callback_offered"] is True
    assert "call the member back" in last.json()["detail"]
    assert KARI["phone"] not in last.text and KARI["name"] not in last.text
    # The next call from that number starts locked, with the callback offered.
    fresh = desk(world, "CA3", STRANGER).get().json()
    assert fresh["locked"] is True and fresh["attempts_left"] == 0
    assert fresh["callback_offered"] is True
    assert desk(world, "CA4", STRANGER).post("/start", {"script": "member"}).json()["reason"] \
        == "locked"


def test_the_member_is_locked_whoever_calls(world) -> None:  # type: ignore[no-untyped-def]
    _fail(desk(world, "CA1", STRANGER), 3)
    # Another number, another call, the right factors: still locked for this member.
    d = desk(world, "CA2", OLA["phone"])
    d.post("/start", {"script": "member"})
    resp = d.post("/member/verify", RIGHT)
    assert resp.status_code == 409 and resp.json()["reason"] == "locked"
    assert resp.json()["callback_offered"] is True
    assert d.get().json()["callback_offered"] is True and d.get().json()["member"] is None
    assert audit_rows(world["engine"], "CA2")[-1].outcome == "refused_locked"
    # Other members are not locked by it.
    ok = d.post("/member/verify", {"national_id": OLA["id"], "membership_number": OLA["number"]})
    assert ok.status_code == 200 and ok.json()["verified"] is True


def test_the_lock_lifts_when_the_window_passes(world, settings, engine) -> None:  # type: ignore[no-untyped-def]
    _fail(desk(world, "CA1", STRANGER), 3)
    add_call(engine, "CA2", from_number=STRANGER)
    almost = Desk(make_client(settings, engine, NOW + dt.timedelta(hours=23)),
                  world["token"], "CA2")
    almost.post("/start", {"script": "member"})
    assert almost.post("/member/verify", RIGHT).json()["reason"] == "locked"
    add_call(engine, "CA3", from_number=STRANGER)
    later = Desk(make_client(settings, engine, NOW + dt.timedelta(hours=24, minutes=1)),
                 world["token"], "CA3")
    later.post("/start", {"script": "member"})
    assert later.post("/member/verify", RIGHT).json()["verified"] is True


def test_lock_size_and_window_are_org_settings(world) -> None:  # type: ignore[no-untyped-def]
    with session_scope(world["engine"]) as session:
        session.add(Organisation(id=1, name="Demo", config={"identity": {
            "lock_failures": 2, "lock_window_hours": 1}}))
    d = desk(world, "CA1", STRANGER)
    assert d.get().json()["attempts_left"] == 2
    d.post("/start", {"script": "member"})
    d.post("/member/verify", WRONG)
    assert d.post("/member/verify", WRONG).json()["locked"] is True


def test_admin_lists_and_unlocks_a_member_audited(world) -> None:  # type: ignore[no-untyped-def]
    _fail(desk(world, "CA1", STRANGER), 3)
    client = world["client"]
    admin = {"Authorization": "Bearer test-admin-token"}
    agent = {"Authorization": f"Bearer {world['token']}"}
    assert client.get("/api/identity/locks").status_code == 401
    assert client.get("/api/identity/locks", headers=agent).status_code == 403
    locks = client.get("/api/identity/locks", headers=admin).json()
    assert [m["membership_number"] for m in locks["locked"]] == [KARI["number"]]
    assert locks["locked"][0]["failures"] == 3
    assert locks["locked"][0]["unlocks_at"] == (NOW + dt.timedelta(hours=24)).isoformat()
    assert client.post("/api/identity/unlock", json={"membership_number": KARI["number"]},
                       headers=agent).status_code == 403
    assert client.post("/api/identity/unlock", json={}, headers=admin).status_code == 422
    assert client.post("/api/identity/unlock", json={"membership_number": "999999"},
                       headers=admin).status_code == 404
    done = client.post("/api/identity/unlock", json={"membership_number": KARI["number"]},
                       headers=admin)
    assert done.status_code == 200 and done.json()["cleared"] == 3
    assert client.get("/api/identity/locks", headers=admin).json()["locked"] == []
    with session_scope(world["engine"]) as session:
        row = session.exec(select(AuditEntry).where(AuditEntry.action == "unlock")).one()
        assert row.outcome == "ok" and row.member_id is not None and row.note == "admin"
    d = desk(world, "CA2", OLA["phone"])
    d.post("/start", {"script": "member"})
    assert d.post("/member/verify", RIGHT).json()["verified"] is True

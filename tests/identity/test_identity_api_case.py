"""Script 3 (a case on a member's behalf, with consent) and the data checks, over HTTP."""

from __future__ import annotations

from sqlmodel import select

from identity.models import Consent, Member
from switchboard.db import session_scope
from tests.identity.test_identity_helpers import (
    KARI,
    OLA,
    PER,
    STRANGER,
    Desk,
    assert_generic,
    audit_rows,
    call_level,
    desk,
)

# --- script 3 --------------------------------------------------------------------------------

CONSENT = {"consented": True, "given_to": "Nils Advokatsen", "scope": "the dismissal case",
           "method": "callback_registered_number", "phone_position": 1}


def _case_to_verify(world, sid: str) -> Desk:  # type: ignore[no-untyped-def]
    d = desk(world, sid, STRANGER)
    d.post("/start", {"script": "case"})
    subject = d.post("/case/member", {"membership_number": KARI["number"]})
    assert subject.status_code == 200 and subject.json()["callback"] == "offered"
    assert KARI["name"] not in subject.text and KARI["phone"] not in subject.text
    consent = d.post("/case/consent", CONSENT)
    assert consent.status_code == 200 and consent.json()["member"] is None
    return d


def test_case_script_with_id_and_number(world) -> None:  # type: ignore[no-untyped-def]
    d = _case_to_verify(world, "CA1")
    done = d.post("/case/verify", {"national_id": KARI["id"],
                                   "membership_number": KARI["number"]})
    assert done.json()["level"] == "case_proxy_verified"
    assert done.json()["member"]["name"] == KARI["name"]
    assert call_level(world["engine"], "CA1") == "case_proxy_verified"
    with session_scope(world["engine"]) as session:
        consent = session.exec(select(Consent)).one()
        member = session.exec(select(Member).where(Member.membership_number == KARI["number"])
                              ).one()
        assert consent.member_id == member.id
        assert consent.given_to == "Nils Advokatsen" and consent.scope == "the dismissal case"
        assert consent.agent_id == "may.tove" and consent.given_at is not None
        assert consent.method == "callback_registered_number" and consent.phone_position == 1


def test_case_script_with_mobile(world) -> None:  # type: ignore[no-untyped-def]
    d = _case_to_verify(world, "CA1")
    assert_generic(d.post("/case/verify", {"mobile": OLA["phone"]}))
    done = d.post("/case/verify", {"mobile": "912 34 567"})
    assert done.json()["level"] == "case_proxy_verified"


def test_case_needs_consent_first(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "case"})
    d.post("/case/member", {"membership_number": KARI["number"]})
    resp = d.post("/case/verify", {"mobile": KARI["phone"]})
    assert resp.status_code == 409 and resp.json()["reason"] == "not_now"
    refused = d.post("/case/consent", CONSENT | {"consented": False})
    assert refused.status_code == 409 and refused.json()["reason"] == "no_consent"
    assert d.get().json()["attempts_left"] == 3  # a "no" is not a failed factor


def test_case_failures(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "case"})
    assert_generic(d.post("/case/member", {"membership_number": "999999"}))
    d2 = _case_to_verify(world, "CA2")
    # The ID of the right member, but the membership number of another.
    assert_generic(d2.post("/case/verify", {"national_id": KARI["id"],
                                            "membership_number": OLA["number"]}))
    resp = d2.post("/case/verify", {"national_id": KARI["id"]})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "membership_number"]


# --- data checks -----------------------------------------------------------------------------

def test_data_checks_and_fixes(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)  # Ola calls from a number not on file
    d.post("/start", {"script": "member"})
    body = d.post("/member/verify", {"national_id": OLA["id"],
                                     "membership_number": OLA["number"]}).json()
    assert [c["check"] for c in body["checks"]] == ["phone_differs", "returned_mail"]
    after_phone = d.post("/fixes/phone", {"mode": "add"}).json()
    assert STRANGER in after_phone["member"]["phones"]
    assert OLA["phone"] in after_phone["member"]["phones"]
    after_addr = d.post("/fixes/address", {"address": "Ny gate 1", "postal_code": "5004",
                                           "city": "Bergen"}).json()
    assert after_addr["checks"] == [] and after_addr["member"]["returned_mail"] is False
    actions = [(r.action, r.factors) for r in audit_rows(world["engine"], "CA1")][-2:]
    assert actions == [("fix_phone", ["phone"]), ("fix_address", ["address"])]


def test_email_missing_check(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "member"})
    body = d.post("/member/verify", {"national_id": PER["id"],
                                     "membership_number": PER["number"]}).json()
    assert "email_missing" in [c["check"] for c in body["checks"]]
    assert d.post("/fixes/email", {"email": "not-an-address"}).status_code == 422
    fixed = d.post("/fixes/email", {"email": "per@example.org"}).json()
    assert "email_missing" not in [c["check"] for c in fixed["checks"]]
    assert fixed["member"]["email"] == "per@example.org"


def test_replace_phone(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "member"})
    d.post("/member/verify", {"national_id": OLA["id"], "membership_number": OLA["number"]})
    assert d.post("/fixes/phone", {"mode": "replace"}).json()["member"]["phones"] == [STRANGER]


def test_case_consent_before_naming_the_member_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "case"})
    resp = d.post("/case/consent", CONSENT)
    assert resp.status_code == 409 and resp.json()["reason"] == "not_now"
    with session_scope(world["engine"]) as session:
        assert session.exec(select(Consent)).all() == []

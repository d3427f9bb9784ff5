"""On-behalf scripts change nothing and see only their errand; consent records how it was
obtained; a call that has ended takes no more factors but can still be read."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from identity.models import Consent, Member
from ivr.models import Call
from switchboard.db import session_scope
from tests.identity.test_identity_helpers import (
    INGRID,
    KARI,
    OLA,
    STRANGER,
    Desk,
    audit_rows,
    desk,
    kid_for,
)

CONTACT = ("phones", "email", "address", "postal_code", "city", "birth_date", "national_id")
FIXES = [("/fixes/phone", {"mode": "replace"}), ("/fixes/email", {"email": "x@example.org"}),
         ("/fixes/address", {"address": "Ny 1", "postal_code": "0150", "city": "Oslo"}),
         ("/fixes/national-id", {"national_id": OLA["id"]})]
CALLBACK = {"consented": True, "given_to": "Nils Advokatsen", "scope": "the dismissal case",
            "method": "callback_registered_number", "phone_position": 1}


def _invoice_verified(world, sid: str, who: dict, caller: str = STRANGER) -> Desk:  # type: ignore[no-untyped-def]
    d = desk(world, sid, caller)
    d.post("/start", {"script": "invoice"})
    d.post("/invoice/kid", {"kid": kid_for(who["number"])})
    d.post("/invoice/name", {"name": who["name"]})
    d.post("/invoice/name-confirm", {"matches": True})
    return d


def _case_verified(world, sid: str) -> Desk:  # type: ignore[no-untyped-def]
    d = desk(world, sid, STRANGER)
    d.post("/start", {"script": "case"})
    d.post("/case/member", {"membership_number": KARI["number"]})
    d.post("/case/consent", CALLBACK)
    assert d.post("/case/verify", {"mobile": KARI["phone"]}).json()["verified"] is True
    return d


def _member(world, number: str) -> Member:  # type: ignore[no-untyped-def]
    with session_scope(world["engine"]) as session:
        return session.exec(select(Member).where(Member.membership_number == number)).one()


def test_invoice_payer_sees_the_errand_only_and_changes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    d = _invoice_verified(world, "CA1", OLA)
    done = d.post("/invoice/verify", {"national_id": OLA["id"]}).json()
    assert done["level"] == "invoice_payer_verified"
    member = done["member"]
    assert member["view"] == "invoice"
    assert (member["membership_number"], member["name"]) == (OLA["number"], OLA["name"])
    assert [k for k in CONTACT if k in member] == []
    assert done["checks"] == []  # Ola has returned mail, but the payer is not Ola
    assert OLA["phone"] not in str(done) and "ola.fiktivsen@example.org" not in str(done)
    before = _member(world, OLA["number"])
    for path, body in FIXES:
        resp = d.post(path, body)
        assert resp.status_code == 409, path
        assert resp.json()["reason"] == "not_the_member"
        assert "belong to the member" in resp.json()["detail"]
    after = _member(world, OLA["number"])
    assert after.model_dump() == before.model_dump()
    assert audit_rows(world["engine"], "CA1")[-1].outcome == "refused_not_the_member"


def test_case_proxy_sees_the_case_errand_and_changes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    d = _case_verified(world, "CA1")
    state = d.get().json()
    member = state["member"]
    assert member["view"] == "case" and member["name"] == KARI["name"]
    assert [k for k in CONTACT if k in member] == []
    assert member["consent"]["given_to"] == "Nils Advokatsen"
    assert member["consent"]["method"] == "callback_registered_number"
    assert state["checks"] == []
    before = _member(world, KARI["number"])
    # The proxy knew the member's mobile: that must not let them replace the national ID.
    for path, body in FIXES:
        assert d.post(path, body).json()["reason"] == "not_the_member"
    assert _member(world, KARI["number"]).national_id_hash == before.national_id_hash
    again = desk(world, "CA2", KARI["phone"])
    again.post("/start", {"script": "member"})
    assert again.post("/member/verify", {"national_id": KARI["id"], "membership_number":
                                         KARI["number"]}).json()["verified"] is True


def test_member_themself_gets_the_full_view(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    member = d.post("/member/verify", {"national_id": KARI["id"],
                                       "membership_number": KARI["number"]}).json()["member"]
    assert member["view"] == "member" and set(CONTACT) <= set(member)
    assert member["phones"] == [KARI["phone"]]


def test_national_id_fix_only_when_the_register_needs_it(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    d.post("/member/verify", {"national_id": KARI["id"], "membership_number": KARI["number"]})
    before = _member(world, KARI["number"]).national_id_hash
    resp = d.post("/fixes/national-id", {"national_id": "14837812233"})
    assert resp.status_code == 409 and resp.json()["reason"] == "not_needed"
    assert _member(world, KARI["number"]).national_id_hash == before
    assert d.post("/fixes/national-id/confirm", {}).json()["reason"] == "not_needed"
    # Ingrid's needs correction: offered, but it cannot be "confirmed", only replaced.
    d2 = desk(world, "CA2", INGRID["phone"])
    d2.post("/start", {"script": "member"})
    d2.post("/member/verify-birth-date", {"membership_number": INGRID["number"],
                                          "birth_date": INGRID["birth"]})
    assert d2.post("/fixes/national-id/confirm", {}).json()["reason"] == "cannot_confirm"


# --- consent ---------------------------------------------------------------------------------

def _to_consent(world, sid: str, caller: str) -> Desk:  # type: ignore[no-untyped-def]
    d = desk(world, sid, caller)
    d.post("/start", {"script": "case"})
    subject = d.post("/case/member", {"membership_number": KARI["number"]}).json()
    assert subject["callback_numbers"] == 1 and KARI["phone"] not in str(subject)
    return d


def test_consent_without_how_it_was_obtained_opens_no_case(world) -> None:  # type: ignore[no-untyped-def]
    d = _to_consent(world, "CA1", STRANGER)
    bare = {"consented": True, "given_to": "Nils Advokatsen", "scope": "the case"}
    resp = d.post("/case/consent", bare)
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "method"]
    no_phone = d.post("/case/consent", bare | {"method": "callback_registered_number"})
    assert no_phone.status_code == 422
    assert no_phone.json()["detail"][0]["loc"] == ["body", "phone_position"]
    # Kari has one registered number: there is no second one to have rung.
    wrong = d.post("/case/consent", CALLBACK | {"phone_position": 2})
    assert wrong.status_code == 409 and wrong.json()["reason"] == "consent_not_obtained"
    # The member did not verify on this call, so "the member was on the call" is refused.
    on_call = d.post("/case/consent", bare | {"method": "member_on_call"})
    assert on_call.status_code == 409 and on_call.json()["reason"] == "consent_not_obtained"
    assert d.get().json()["step"] == "consent"
    assert d.post("/case/verify", {"mobile": KARI["phone"]}).json()["reason"] == "not_now"
    with session_scope(world["engine"]) as session:
        assert session.exec(select(Consent)).all() == []


def test_consent_from_the_member_verified_on_this_call(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    d.post("/member/verify", {"national_id": KARI["id"], "membership_number": KARI["number"]})
    d.post("/start", {"script": "case"})
    subject = d.post("/case/member", {"membership_number": KARI["number"]}).json()
    assert subject["member_on_call"] is True
    ok = d.post("/case/consent", {"consented": True, "given_to": "Nils Advokatsen",
                                  "scope": "the dismissal case", "method": "member_on_call"})
    assert ok.status_code == 200 and ok.json()["step"] == "verify"
    with session_scope(world["engine"]) as session:
        consent = session.exec(select(Consent)).one()
        kari = session.exec(select(Member).where(Member.membership_number == KARI["number"])
                            ).one()
        assert consent.member_id == kari.id and consent.method == "member_on_call"
        assert consent.given_to == "Nils Advokatsen" and consent.scope == "the dismissal case"
        assert consent.agent_id == "may.tove" and consent.given_at is not None
        assert consent.phone_position is None and consent.call_sid == "CA1"


def test_consent_for_another_member_than_the_one_on_the_call_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", OLA["phone"])
    d.post("/start", {"script": "member"})
    d.post("/member/verify", {"national_id": OLA["id"], "membership_number": OLA["number"]})
    d.post("/start", {"script": "case"})
    d.post("/case/member", {"membership_number": KARI["number"]})
    resp = d.post("/case/consent", {"consented": True, "given_to": "Ola", "scope": "x",
                                    "method": "member_on_call"})
    assert resp.json()["reason"] == "consent_not_obtained"


# --- after the call --------------------------------------------------------------------------

def _end(world, sid: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(world["engine"]) as session:
        call = session.get(Call, sid)
        assert call is not None
        call.ended_at, call.stage, call.status = (dt.datetime(2026, 11, 25, 10, 5,
                                                              tzinfo=dt.UTC), "ended",
                                                  "completed")
        session.add(call)


def test_no_factors_after_the_call_has_ended(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    _end(world, "CA1")
    steps = [("/member/verify", {"national_id": KARI["id"], "membership_number":
                                 KARI["number"]}),
             ("/member/verify-birth-date", {"membership_number": INGRID["number"],
                                            "birth_date": INGRID["birth"]}),
             ("/member/known", {"member_id": 1, "reason": "I know her"}),
             ("/start", {"script": "invoice"}),
             ("/invoice/kid", {"kid": kid_for(KARI["number"])}),
             ("/case/member", {"membership_number": KARI["number"]}),
             ("/case/consent", CALLBACK), ("/case/verify", {"mobile": KARI["phone"]})]
    for path, body in steps:
        resp = d.post(path, body)
        assert resp.status_code == 409, path
        assert resp.json()["reason"] == "call_ended"
        assert resp.json()["detail"].startswith("The call has ended")
    state = d.get()
    assert state.status_code == 200 and state.json()["call_ended"] is True
    assert state.json()["attempts_left"] == 3  # nothing was tried, nothing counted
    assert audit_rows(world["engine"], "CA1")[-1].outcome == "refused_call_ended"


def test_state_and_fixes_still_work_after_the_call(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "member"})
    d.post("/member/verify", {"national_id": OLA["id"], "membership_number": OLA["number"]})
    _end(world, "CA1")
    state = d.get().json()
    assert state["verified"] is True and state["member"]["name"] == OLA["name"]
    assert state["level"] == "member_verified" and state["call_ended"] is True
    # What the member said on the call can still be typed in (audited like any fix).
    fixed = d.post("/fixes/address", {"address": "Ny gate 1", "postal_code": "5004",
                                      "city": "Bergen"})
    assert fixed.status_code == 200 and fixed.json()["member"]["returned_mail"] is False
    with session_scope(world["engine"]) as session:
        assert session.get(Call, "CA1").verification == "member_verified"  # tickets read it

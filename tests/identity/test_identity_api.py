"""The three scripts over HTTP: happy paths, every failure path, the lock, and no leaks."""

from __future__ import annotations

import json

import pytest

from switchboard.db import session_scope
from tests.identity.test_identity_helpers import (
    INGRID,
    KARI,
    OLA,
    SHARED_PHONE,
    STRANGER,
    Desk,
    add_agent,
    add_call,
    assert_generic,
    audit_rows,
    call_level,
    desk,
    kid_for,
    make_client,
)

# --- access ----------------------------------------------------------------------------------

def test_agent_token_required_and_scoped_to_own_calls(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    assert world["client"].get(d.url()).status_code == 401
    other = Desk(world["client"], world["other"], "CA1")
    assert other.get().status_code == 403
    assert Desk(world["client"], world["token"], "CA-none").get().status_code == 404
    assert d.get().status_code == 200


def test_missing_pii_key_is_a_clear_error(settings, engine) -> None:  # type: ignore[no-untyped-def]
    token = add_agent(engine, "may.tove")
    add_call(engine, "CA1", from_number=KARI["phone"])
    bare = settings.model_copy(update={"pii_key": None})
    resp = Desk(make_client(bare, engine), token, "CA1").get()
    assert resp.status_code == 503
    assert "SWITCHBOARD_PII_KEY" in resp.json()["detail"]


# --- candidates by calling number ------------------------------------------------------------

def test_candidates_zero_one_several(world) -> None:  # type: ignore[no-untyped-def]
    one = desk(world, "CA1", KARI["phone"]).get().json()
    assert [c["membership_number"] for c in one["candidates"]] == [KARI["number"]]
    assert one["candidates"][0]["verified"] is False
    assert one["candidates"][0]["label"] == "not verified"
    assert one["member"] is None and one["checks"] == []
    several = desk(world, "CA2", SHARED_PHONE).get().json()
    assert len(several["candidates"]) == 2
    assert desk(world, "CA3", STRANGER).get().json()["candidates"] == []
    assert desk(world, "CA4", "anonymous").get().json()["candidates"] == []
    assert desk(world, "CA5", None).get().json()["candidates"] == []


# --- script 1 --------------------------------------------------------------------------------

def test_member_script_happy_path(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    assert d.post("/start", {"script": "member"}).status_code == 200
    resp = d.post("/member/verify", {"national_id": KARI["id"],
                                     "membership_number": KARI["number"]})
    assert resp.status_code == 200
    body = resp.json()
    assert body["verified"] is True and body["level"] == "member_verified"
    assert body["member"]["name"] == KARI["name"]
    assert body["member"]["national_id"] == KARI["id"][:6] + " *****"
    assert body["candidates"] == []
    assert call_level(world["engine"], "CA1") == "member_verified"
    rows = audit_rows(world["engine"], "CA1")
    assert [(r.action, r.outcome) for r in rows] == [("start", "ok"), ("member_factors", "ok")]
    assert rows[1].factors == ["national_id", "membership_number"]
    assert rows[1].agent_id == "may.tove"


def test_member_known_by_agent(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    candidate = d.get().json()["candidates"][0]["member_id"]
    d.post("/start", {"script": "member"})
    assert d.post("/member/known", {"member_id": candidate}).status_code == 422  # no reason
    body = d.post("/member/known", {"member_id": candidate,
                                    "reason": "shop steward at my workplace"}).json()
    assert body["level"] == "known_by_agent" and body["member"]["name"] == KARI["name"]
    assert call_level(world["engine"], "CA1") == "known_by_agent"
    row = audit_rows(world["engine"], "CA1")[-1]
    assert row.factors == ["known_by_agent"] and row.note == "shop steward at my workplace"


@pytest.mark.parametrize("body", [
    {"national_id": OLA["id"], "membership_number": KARI["number"]},  # another member's ID
    {"national_id": KARI["id"], "membership_number": "999999"},  # no such member
    {"national_id": KARI["id"], "membership_number": OLA["number"]},  # another's number
])
def test_member_script_failures_are_generic(world, body) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    resp = d.post("/member/verify", body)
    assert_generic(resp)
    assert resp.json()["attempts_left"] == 2
    text = resp.text
    assert KARI["name"] not in text and OLA["name"] not in text
    assert call_level(world["engine"], "CA1") == "none"
    assert audit_rows(world["engine"], "CA1")[-1].outcome == "failed"


def test_same_message_whichever_factor_failed(world) -> None:  # type: ignore[no-untyped-def]
    bodies = []
    # Two callers (failures also count per calling number, which would change attempts_left).
    for i, (body, caller) in enumerate([
            ({"national_id": OLA["id"], "membership_number": KARI["number"]}, KARI["phone"]),
            ({"national_id": KARI["id"], "membership_number": "999999"}, STRANGER)]):
        d = desk(world, f"CA{i}", caller)
        d.post("/start", {"script": "member"})
        bodies.append(d.post("/member/verify", body).json())
    assert bodies[0] == bodies[1]


def test_placeholder_id_member_verifies_by_birth_date_then_corrects(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", INGRID["phone"])
    d.post("/start", {"script": "member"})
    # The placeholder is no national ID at all: refused as input, no attempt used.
    resp = d.post("/member/verify", {"national_id": INGRID["placeholder_id"],
                                     "membership_number": INGRID["number"]})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "national_id"]
    assert_generic(d.post("/member/verify-birth-date", {"membership_number": INGRID["number"],
                                                        "birth_date": "1978-02-02"}))
    ok = d.post("/member/verify-birth-date", {"membership_number": INGRID["number"],
                                              "birth_date": INGRID["birth"]})
    assert ok.status_code == 200 and ok.json()["level"] == "member_verified"
    assert [c["check"] for c in ok.json()["checks"]] == ["national_id_needs_correction"]
    new_id = "01827844183"  # synthetic, born 1978-02-01 (test mode)
    assert d.post("/fixes/national-id", {"national_id": "01827844184"}).status_code == 422
    # A valid number, but born on another day than the register says.
    other_birthday = d.post("/fixes/national-id", {"national_id": KARI["id"]})
    assert other_birthday.status_code == 422
    assert other_birthday.json()["detail"][0]["loc"] == ["body", "national_id"]
    fixed = d.post("/fixes/national-id", {"national_id": new_id})
    assert fixed.status_code == 200
    assert fixed.json()["checks"] == []
    assert fixed.json()["member"]["national_id"] == "018278 *****"
    # The corrected ID now verifies the member on a later call.
    d2 = desk(world, "CA2", INGRID["phone"])
    d2.post("/start", {"script": "member"})
    assert d2.post("/member/verify", {"national_id": new_id, "membership_number":
                                      INGRID["number"]}).json()["verified"] is True


def test_birth_date_route_is_only_for_ids_needing_correction(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    assert_generic(d.post("/member/verify-birth-date", {"membership_number": KARI["number"],
                                                        "birth_date": KARI["birth"]}))


# --- the lock --------------------------------------------------------------------------------

def test_three_failures_lock_the_call_and_offer_a_callback(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    wrong = {"national_id": OLA["id"], "membership_number": KARI["number"]}
    left = [d.post("/member/verify", wrong).json()["attempts_left"] for _ in range(3)]
    assert left == [2, 1, 0]
    right = {"national_id": KARI["id"], "membership_number": KARI["number"]}
    locked = d.post("/member/verify", right)
    assert locked.status_code == 409
    assert locked.json()["locked"] is True and locked.json()["callback_offered"] is True
    assert KARI["name"] not in locked.text
    # Switching script does not reset the lock.
    assert d.post("/start", {"script": "invoice"}).status_code == 409
    state = d.get().json()
    assert state["locked"] is True and state["callback_offered"] is True
    assert state["member"] is None
    outcomes = [r.outcome for r in audit_rows(world["engine"], "CA1")]
    assert outcomes == ["ok", "failed", "failed", "failed_locked", "refused_locked",
                        "refused_locked"]


def test_steps_out_of_order_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    assert d.post("/member/verify", {"national_id": KARI["id"],
                                     "membership_number": KARI["number"]}).status_code == 409
    d.post("/start", {"script": "invoice"})
    assert d.post("/invoice/name", {"name": "x"}).status_code == 409
    assert d.post("/fixes/email", {"email": "a@example.org"}).status_code == 409


# --- script 2 --------------------------------------------------------------------------------

def test_invoice_script_happy_path_without_early_leaks(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "invoice"})
    after_kid = d.post("/invoice/kid", {"kid": kid_for(KARI["number"])})
    assert after_kid.status_code == 200
    assert after_kid.json()["step"] == "name"
    assert KARI["name"] not in after_kid.text and KARI["number"] not in after_kid.text
    assert KARI["name"] not in d.get().text
    named = d.post("/invoice/name", {"name": "kari prøvesen"})
    assert named.json()["registered_name"] == KARI["name"]
    assert named.json()["names_look_alike"] is True
    assert named.json()["member"] is None
    d.post("/invoice/name-confirm", {"matches": True})
    before = d.get().json()
    assert before["member"] is None and before["candidates"] == []
    done = d.post("/invoice/verify", {"national_id": KARI["id"]})
    assert done.json()["level"] == "invoice_payer_verified"
    assert done.json()["member"]["membership_number"] == KARI["number"]
    # The calling number is the payer's, not the member's: no phone check on their behalf.
    assert "phone_differs" not in [c["check"] for c in done.json()["checks"]]
    assert call_level(world["engine"], "CA1") == "invoice_payer_verified"


def test_invoice_candidates_are_withheld(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])  # the payer calls from a member's phone
    d.post("/start", {"script": "invoice"})
    assert d.get().json()["candidates"] == []
    assert KARI["name"] not in d.get().text


def test_invoice_kid_check_digit_and_spoken_dash(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "invoice"})
    bad = kid_for(KARI["number"])[:-1] + "0"
    resp = d.post("/invoice/kid", {"kid": bad})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "kid"]
    assert bad not in resp.text
    assert d.get().json()["attempts_left"] == 3


def test_invoice_kid_for_no_member_fails_generically(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "invoice"})
    assert_generic(d.post("/invoice/kid", {"kid": kid_for("999999")}))


def test_invoice_kid_mod11_with_strek_per_org_config(world) -> None:  # type: ignore[no-untyped-def]
    from identity.kid import mod11_check_digit
    from routing.models import Organisation

    with session_scope(world["engine"]) as session:
        session.add(Organisation(id=1, name="Demo", config={"kid": {
            "algorithm": "mod11", "membership_offset": 2, "membership_length": 6}}))
    body = next("77" + KARI["number"] + f"{n:03d}" for n in range(1000)
                if mod11_check_digit("77" + KARI["number"] + f"{n:03d}") == "-")
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "invoice"})
    assert d.post("/invoice/kid", {"kid": body + " strek"}).json()["step"] == "name"


def test_invoice_name_mismatch_and_wrong_id(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "invoice"})
    d.post("/invoice/kid", {"kid": kid_for(KARI["number"])})
    named = d.post("/invoice/name", {"name": "Someone Else"}).json()
    assert named["names_look_alike"] is False
    assert_generic(d.post("/invoice/name-confirm", {"matches": False}))
    # The name must be asked again; the registered name is hidden again until then.
    again = d.get().json()
    assert again["step"] == "name" and "registered_name" not in again
    d.post("/invoice/name", {"name": KARI["name"]})
    d.post("/invoice/name-confirm", {"matches": True})
    resp = d.post("/invoice/verify", {"national_id": OLA["id"]})
    assert_generic(resp)
    assert resp.json()["locked"] is False and resp.json()["attempts_left"] == 1
    assert d.get().json()["member"] is None


# --- validation and documentation ------------------------------------------------------------

def test_422_has_field_path_and_never_echoes_the_value(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    wrong = KARI["id"][:-1] + str((int(KARI["id"][-1]) + 1) % 10)
    resp = d.post("/member/verify", {"national_id": wrong, "membership_number": "x" * 40})
    assert resp.status_code == 422
    assert ["body", "membership_number"] in [e["loc"] for e in resp.json()["detail"]]
    assert wrong not in resp.text
    resp = d.post("/member/verify", {"national_id": wrong, "membership_number": KARI["number"]})
    assert resp.status_code == 422 and wrong not in resp.text
    assert resp.json()["detail"][0]["loc"] == ["body", "national_id"]


def test_openapi_documents_the_identity_api_with_examples(world) -> None:  # type: ignore[no-untyped-def]
    schema = world["client"].get("/openapi.json").json()
    paths = [p for p in schema["paths"] if p.startswith("/api/calls/{call_sid}/identity")]
    assert "/api/calls/{call_sid}/identity/member/verify" in paths
    assert "/api/calls/{call_sid}/identity/case/consent" in paths
    verify = schema["paths"]["/api/calls/{call_sid}/identity/member/verify"]["post"]
    assert {"200", "409", "422"} <= set(verify["responses"])
    body_ref = verify["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert component["examples"][0]["membership_number"] == "100001"
    assert json.dumps(schema)  # serialisable


def test_invoice_for_member_whose_id_needs_correction_uses_birth_date(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", STRANGER)
    d.post("/start", {"script": "invoice"})
    d.post("/invoice/kid", {"kid": kid_for(INGRID["number"])})
    d.post("/invoice/name", {"name": INGRID["name"]})
    d.post("/invoice/name-confirm", {"matches": True})
    assert d.post("/invoice/verify", {}).status_code == 422
    assert_generic(d.post("/invoice/verify", {"birth_date": "1978-02-02"}))
    done = d.post("/invoice/verify", {"birth_date": INGRID["birth"]})
    assert done.json()["level"] == "invoice_payer_verified"


def test_known_only_for_calling_number_candidates(world) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    for body in ({"membership_number": "999999"}, {"membership_number": OLA["number"]}):
        resp = d.post("/member/known", body | {"reason": "I know her"})
        assert resp.status_code == 409 and resp.json()["reason"] == "not_a_candidate"
        assert "run a script" in resp.json()["detail"]
        assert OLA["name"] not in resp.text
    assert d.post("/member/known", {"reason": "I know her"}).status_code == 422
    assert d.get().json()["attempts_left"] == 3  # the agent's choice, not a caller's guess
    assert call_level(world["engine"], "CA1") == "none"
    rows = audit_rows(world["engine"], "CA1")
    assert [r.outcome for r in rows[-2:]] == ["refused_not_a_candidate"] * 2
    ok = d.post("/member/known", {"membership_number": KARI["number"], "reason": "I know her"})
    assert ok.json()["level"] == "known_by_agent"

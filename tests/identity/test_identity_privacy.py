"""Personal data (docs/identity-and-privacy.md): no national ID, KID or member's phone number
in logs, exception texts or audit rows, and no national ID in clear anywhere in the database
file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from typer.testing import CliRunner

from identity.models import AuditEntry, CallIdentity, Consent, IdentityFailure, MemberPhone
from switchboard.cli import app
from switchboard.db import session_scope
from switchboard.settings import Settings
from tests.identity.test_identity_helpers import (
    FIXTURES,
    INGRID,
    KARI,
    OLA,
    Desk,
    add_agent,
    add_call,
    kid_for,
    load_register,
    make_client,
)

NEW_ID = "01827844183"  # the corrected ID recorded for Ingrid below


def _secrets() -> list[str]:
    ids = [KARI["id"], OLA["id"], INGRID["placeholder_id"], NEW_ID, "148378 12314"]
    phones = [KARI["phone"], OLA["phone"], INGRID["phone"], "91234567", "912 34 567"]
    return ids + phones + [kid_for(KARI["number"])]


def _full_run(settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    load_register(engine, settings)
    token = add_agent(engine, "may.tove")
    client = make_client(settings, engine)
    # Script 1 with one wrong attempt, a bad input (422) and the data checks.
    add_call(engine, "CA1", from_number="+4791999999")
    d = Desk(client, token, "CA1")
    d.post("/start", {"script": "member"})
    assert d.post("/member/verify", {"national_id": OLA["id"],
                                     "membership_number": KARI["number"]}).status_code == 409
    assert d.post("/member/verify", {"national_id": KARI["id"][:-1] + "0",
                                     "membership_number": KARI["number"]}).status_code == 422
    assert d.post("/member/verify", {"national_id": KARI["id"],
                                     "membership_number": KARI["number"]}).status_code == 200
    assert d.post("/fixes/phone", {"mode": "add"}).status_code == 200
    # Script 1 by birth date, then the ID is corrected.
    add_call(engine, "CA2", from_number=INGRID["phone"])
    d = Desk(client, token, "CA2")
    d.post("/start", {"script": "member"})
    d.post("/member/verify-birth-date", {"membership_number": INGRID["number"],
                                         "birth_date": INGRID["birth"]})
    assert d.post("/fixes/national-id", {"national_id": NEW_ID}).status_code == 200
    # Script 2.
    add_call(engine, "CA3", from_number="anonymous")
    d = Desk(client, token, "CA3")
    d.post("/start", {"script": "invoice"})
    d.post("/invoice/kid", {"kid": kid_for(KARI["number"])})
    d.post("/invoice/name", {"name": KARI["name"]})
    d.post("/invoice/name-confirm", {"matches": True})
    assert d.post("/invoice/verify", {"national_id": KARI["id"]}).status_code == 200
    # Script 3, verified by mobile.
    add_call(engine, "CA4", from_number=OLA["phone"])
    d = Desk(client, token, "CA4")
    d.post("/start", {"script": "case"})
    d.post("/case/member", {"membership_number": KARI["number"]})
    assert d.post("/case/consent", {"consented": True, "given_to": "Nils Advokatsen",
                                    "scope": "case", "method": "callback_registered_number",
                                    "phone_position": 1}).status_code == 200
    assert d.post("/case/verify", {"mobile": KARI["phone"]}).status_code == 200


def test_no_personal_data_in_logs_or_audit(settings, engine, caplog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    _full_run(settings, engine)
    env = {"SWITCHBOARD_DATABASE_URL": settings.database_url, "SWITCHBOARD_PII_KEY": "k" * 24,
           "SWITCHBOARD_ALLOW_TEST_IDS": "1"}
    result = CliRunner().invoke(app, ["members", "import", str(FIXTURES / "members.csv")],
                                env=env)
    assert result.exit_code == 0
    texts = [caplog.text, result.output]
    texts += [r.getMessage() for r in caplog.records]
    texts += [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    with session_scope(engine) as session:
        assert session.exec(select(IdentityFailure)).all()  # the failure above is counted
        for model in (AuditEntry, CallIdentity, Consent, IdentityFailure):
            texts += [row.model_dump_json() for row in session.exec(select(model)).all()]
        assert len(session.exec(select(AuditEntry)).all()) >= 15
    haystack = "\n".join(texts)
    leaked = [i for i, secret in enumerate(_secrets()) if secret in haystack]
    assert leaked == []  # indexes only: the values themselves stay out of the test output


def test_database_file_holds_no_national_id_in_clear(settings, engine) -> None:  # type: ignore[no-untyped-def]
    _full_run(settings, engine)
    engine.dispose()
    db = Path(settings.database_url.removeprefix("sqlite:///"))
    blobs = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert len(blobs) > 10_000
    ids = [KARI["id"], OLA["id"], NEW_ID, "148378 12314", kid_for(KARI["number"])]
    assert [i for i, v in enumerate(ids) if v.encode() in blobs] == []
    # The masked form is there; it is what the desk shows.
    assert b"148378 *****" in blobs


def test_sql_errors_do_not_carry_parameters(settings, engine) -> None:  # type: ignore[no-untyped-def]
    load_register(engine, settings)
    with pytest.raises(IntegrityError) as info:
        with session_scope(engine) as session:
            member_id = session.exec(select(MemberPhone.member_id)).first()
            session.add(MemberPhone(member_id=member_id, e164=KARI["phone"]))
            session.add(MemberPhone(member_id=member_id, e164=KARI["phone"]))
            session.flush()
    assert KARI["phone"] not in str(info.value)


@pytest.mark.parametrize("key", [None, "", "changeme"])
def test_missing_or_placeholder_pii_key_is_refused(settings, key) -> None:  # type: ignore[no-untyped-def]
    from identity.pii import PiiHasher, PiiKeyMissing

    with pytest.raises(PiiKeyMissing, match="SWITCHBOARD_PII_KEY"):
        PiiHasher.from_settings(settings.model_copy(update={"pii_key": key and SecretStr(key)}))

"""Only ASCII 0-9 are digits: other scripts' digits are a clear validation error, never an
exception, in the validators, the CSV import, the org file and the identity API."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity import fnr, kid, phone
from identity.fnr import Verdict, classify
from identity.pii import PiiHasher
from identity.register import Rejection, parse_csv
from switchboard.orgfile import OrgFileError, parse_org_text
from tests.identity.test_identity_helpers import INGRID, KARI, STRANGER, desk, kid_for
from tests.switchboard.test_orgfile import GOOD

TODAY = dt.date(2026, 11, 25)
ARABIC, DEVANAGARI = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"), str.maketrans(
    "0123456789", "०१२३४५६७८९")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
SCRIPTS = {"arabic": ARABIC, "devanagari": DEVANAGARI, "fullwidth": FULLWIDTH,
           "superscript": SUPERSCRIPT}


def foreign(text: str, script: str, keep: int = 0) -> str:
    """The text with every digit after the first `keep` written in another script."""
    return text[:keep] + text[keep:].translate(SCRIPTS[script])


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("keep", [0, 10])
def test_national_id_in_other_digits_is_invalid_not_an_error(script: str, keep: int) -> None:
    check = classify(foreign(KARI["id"], script, keep), today=TODAY)
    assert check.verdict is Verdict.INVALID and check.reason == "use the digits 0-9 only"
    assert fnr.mask(foreign(KARI["id"], script, keep)) is None
    assert not fnr.checksum_ok(foreign(KARI["id"], script, keep))


@pytest.mark.parametrize("script", SCRIPTS)
def test_kid_in_other_digits_is_invalid_not_an_error(script: str) -> None:
    good = kid_for(KARI["number"])
    for algorithm in kid.ALGORITHMS:
        assert not kid.is_valid(foreign(good, script, 3), algorithm)
    assert kid.membership_number(foreign(good, script), kid.KidConfig()) is None
    assert kid.foreign_digits(foreign(good, script))


@pytest.mark.parametrize("script", SCRIPTS)
def test_phone_in_other_digits_is_no_number(script: str) -> None:
    # phonenumbers itself would read ٩١٢٣٤٥٦٧ as 91234567.
    assert phone.normalise(foreign("91234567", script)) is None
    assert phone.normalise("+47 912 34 567") == "+4791234567"


def test_kid_settings_read_only_ascii_digits() -> None:
    assert kid.KidConfig.from_config({"kid": {"membership_offset": "2"}}).membership_offset == 2
    with pytest.raises(ValueError, match="digits 0-9"):
        kid.KidConfig.from_config({"kid": {"membership_offset": "٢"}})


HEADER = "membership_number;name;national_id;birth_date;phone;postal_code\n"


@pytest.mark.parametrize("script", SCRIPTS)
def test_csv_rows_with_other_digits_are_rejected_by_field(script: str) -> None:
    rows = [f"{foreign('100001', script)};Nummer Utenlandsk;;;;",
            f"100002;Id Utenlandsk;{foreign(KARI['id'], script)};;;",
            f"100003;Telefon Utenlandsk;;;{foreign('91234567', script)};",
            f"100004;Post Utenlandsk;;;;{foreign('0150', script)}",
            "100005;Helt Vanlig;;;;0150"]
    result = parse_csv((HEADER + "\n".join(rows) + "\n").encode(),
                       hasher=PiiHasher(b"k"), today=TODAY, allow_test_ids=True)
    reasons = {r.line: r.reason for r in result.rejections}
    assert reasons[2].startswith("membership_number must be digits 0-9")
    assert reasons[3] == "national_id: use the digits 0-9 only"
    assert reasons[4] == "phone: use the digits 0-9 only"
    assert reasons[5] == "postal_code: use the digits 0-9 only"
    assert [r.membership_number for r in result.records] == ["100005"]
    assert all(isinstance(r, Rejection) for r in result.rejections)


def test_org_file_refuses_other_digits_in_kid_and_identity_settings() -> None:
    kid_text = GOOD.replace("organisation:", "kid:\n  membership_offset: ٣\norganisation:", 1)
    with pytest.raises(OrgFileError, match="membership_offset"):
        parse_org_text(kid_text, "/srv/org.yaml", default_timezone="Europe/Oslo")
    suffix_text = GOOD.replace(
        "organisation:", 'identity:\n  placeholder_suffixes: ["٠٠١٠٠"]\norganisation:', 1)
    with pytest.raises(OrgFileError, match="placeholder_suffixes") as err:
        parse_org_text(suffix_text, "/srv/org.yaml", default_timezone="Europe/Oslo")
    assert "five digits 0-9" in str(err.value)


# --- the identity API ------------------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_api_refuses_other_digits_with_a_422_naming_the_field(world, script: str) -> None:  # type: ignore[no-untyped-def]
    d = desk(world, "CA1", KARI["phone"])
    d.post("/start", {"script": "member"})
    cases = [
        ("/member/verify", {"national_id": foreign(KARI["id"], script),
                            "membership_number": KARI["number"]}, "national_id"),
        ("/member/verify", {"national_id": KARI["id"],
                            "membership_number": foreign(KARI["number"], script)},
         "membership_number"),
        ("/member/verify-birth-date", {"membership_number": foreign(INGRID["number"], script),
                                       "birth_date": INGRID["birth"]}, "membership_number"),
        ("/member/known", {"membership_number": foreign(KARI["number"], script),
                           "reason": "a colleague"}, "membership_number"),
    ]
    for path, body, field in cases:
        resp = d.post(path, body)
        assert resp.status_code == 422, (path, resp.text)
        assert ["body", field] in [e["loc"] for e in resp.json()["detail"]]
        assert "0-9" in resp.text
    assert d.get().json()["attempts_left"] == 3  # no attempt spent on a typing error
    inv = desk(world, "CA2", STRANGER)
    inv.post("/start", {"script": "invoice"})
    resp = inv.post("/invoice/kid", {"kid": foreign(kid_for(KARI["number"]), script)})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "kid"]
    assert "0-9" in resp.text
    case = desk(world, "CA3", STRANGER)
    case.post("/start", {"script": "case"})
    resp = case.post("/case/member", {"membership_number": foreign(KARI["number"], script)})
    assert resp.status_code == 422 and "0-9" in resp.text


@pytest.mark.parametrize("script", ["arabic", "fullwidth"])
def test_api_mobile_and_postal_code_refuse_other_digits(world, script: str) -> None:  # type: ignore[no-untyped-def]
    case = desk(world, "CA1", STRANGER)
    case.post("/start", {"script": "case"})
    case.post("/case/member", {"membership_number": KARI["number"]})
    case.post("/case/consent", {"consented": True, "given_to": "Nils", "scope": "the case",
                                "method": "callback_registered_number", "phone_position": 1})
    resp = case.post("/case/verify", {"mobile": foreign("91234567", script)})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "mobile"]
    assert case.get().json()["attempts_left"] == 3
    d = desk(world, "CA2", STRANGER)
    d.post("/start", {"script": "member"})
    d.post("/member/verify", {"national_id": KARI["id"], "membership_number": KARI["number"]})
    resp = d.post("/fixes/address", {"address": "Gate 1", "postal_code": foreign("0150", script),
                                     "city": "Oslo"})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "postal_code"]


# Any text at all: the validators answer, they never raise.
_DIGITS = st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２３４５６７８９⁰¹²³⁴⁵⁶⁷⁸⁹½Ⅻ -")


@given(st.one_of(st.text(max_size=30), st.text(_DIGITS, min_size=1, max_size=30)))
@settings(max_examples=300, deadline=None)
def test_validators_never_raise_and_accept_only_ascii_digits(text: str) -> None:
    check = classify(text, today=TODAY)
    assert check.verdict in tuple(Verdict)
    if check.verdict is not Verdict.INVALID:
        assert check.number is not None and set(check.number) <= set("0123456789")
    fnr.mask(text)
    for algorithm in kid.ALGORITHMS:
        if kid.is_valid(text, algorithm):
            assert set(kid.normalise(text)) <= set("0123456789-")
    number = kid.membership_number(text, kid.KidConfig())
    assert number is None or set(number) <= set("0123456789")
    e164 = phone.normalise(text)
    assert e164 is None or set(e164[1:]) <= set("0123456789")

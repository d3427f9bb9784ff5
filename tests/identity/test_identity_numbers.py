"""National ID, KID and phone rules against the fixture vectors, plus hypothesis round-trips."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity import fnr, kid, phone
from identity.fnr import K1_WEIGHTS, K2_WEIGHTS, Verdict, classify
from tests.identity.test_identity_helpers import FIXTURES

TODAY = dt.date(2026, 11, 25)
AFTER_2032 = dt.date(2032, 1, 3)


def _rows(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


ID_ROWS = _rows("norwegian_id_numbers.csv")


@pytest.mark.parametrize("row", ID_ROWS, ids=[f"row{i}" for i in range(len(ID_ROWS))])
def test_every_id_vector_gives_its_switchboard_verdict(row: dict[str, str]) -> None:
    assert classify(row["number"], today=TODAY).verdict == row["switchboard_verdict"]


@pytest.mark.parametrize("row", ID_ROWS, ids=[f"row{i}" for i in range(len(ID_ROWS))])
def test_after_2032_only_the_number_born_2032_01_02_changes(row: dict[str, str]) -> None:
    expected = "accept" if row["number"] == "02013299997" else row["switchboard_verdict"]
    assert classify(row["number"], today=AFTER_2032).verdict == expected


def test_born_on_the_day_is_valid_the_day_before_is_not() -> None:
    assert classify("02013299997", today=dt.date(2032, 1, 1)).verdict is Verdict.INVALID
    assert classify("02013299997", today=dt.date(2032, 1, 2)).verdict is Verdict.ACCEPT


def test_skatteetaten_own_vectors() -> None:
    for row in _rows("skatteetaten_foedselsnummer_testdata.csv"):
        check = classify(row["fødselsnummer"], today=AFTER_2032)
        if row["erGyldig"] != "true":
            assert check.verdict is not Verdict.ACCEPT
        elif row["erSyntetisk"] == "true":
            assert check.verdict is Verdict.TEST_ONLY
        else:
            assert check.verdict is Verdict.ACCEPT


def test_2032_rule_example_from_skatteetaten() -> None:
    # k1 remainder 0-3 allowed from 2032; both siblings on Skatteetaten's page are valid.
    assert fnr.checksum_ok("30108299939") and fnr.checksum_ok("30108299920")
    assert classify("30108299939", today=TODAY).verdict is Verdict.ACCEPT


@pytest.mark.parametrize("number", ["01020000100", "00000000000", "11111111111",
                                    "01027800100", "15107600000"])
def test_placeholders_need_correction(number: str) -> None:
    assert classify(number, today=TODAY).verdict is Verdict.NEEDS_CORRECTION


def test_01020000100_passes_the_checksum_but_is_a_placeholder() -> None:
    assert fnr.checksum_ok("01020000100")
    assert classify("01020000100", today=TODAY).verdict is Verdict.NEEDS_CORRECTION


def test_test_numbers_only_in_test_mode() -> None:
    check = classify("03851598730", today=TODAY)
    assert check.acceptable(allow_test_ids=True)
    assert not check.acceptable(allow_test_ids=False)
    assert not classify("13527248013", today=TODAY).acceptable(allow_test_ids=True)  # H


def test_mask_shows_only_the_birth_date_part() -> None:
    assert fnr.mask("148378 12314") == "148378 *****"
    assert fnr.mask("123") is None


# --- hypothesis round-trips -----------------------------------------------------------------

def _check_digits(first9: str) -> str | None:
    d = [int(c) for c in first9]
    k1 = (11 - sum(w * x for w, x in zip(K1_WEIGHTS[:9], d, strict=True)) % 11) % 11
    if k1 == 10:
        return None
    d.append(k1)
    k2 = (11 - sum(w * x for w, x in zip(K2_WEIGHTS[:10], d, strict=True)) % 11) % 11
    return None if k2 == 10 else f"{k1}{k2}"


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    """A real-format fødselsnummer or D-number born 1900-2025 (pre-2032 check digits)."""
    birth = draw(st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)))
    d_number = draw(st.booleans())
    individual = (draw(st.integers(0, 499)) if birth.year < 2000
                  else draw(st.integers(500, 999)))
    day = birth.day + (40 if d_number else 0)
    first9 = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}{individual:03d}"
    digits = _check_digits(first9)
    number = first9 + (digits or "")
    if digits is None or fnr._is_placeholder(number):
        from hypothesis import reject

        reject()
    return number


@given(valid_ids())
@settings(max_examples=300, deadline=None)
def test_generated_ids_validate(number: str) -> None:
    assert classify(number, today=TODAY).verdict is Verdict.ACCEPT


@given(valid_ids(), st.integers(0, 10), st.integers(1, 9))
@settings(max_examples=300, deadline=None)
def test_one_changed_digit_is_refused(number: str, pos: int, delta: int) -> None:
    mutated = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1:]
    # k2 covers all 11 digits with weights that are non-zero mod 11, so any single change
    # breaks it, whichever k1 rule applies.
    assert not fnr.checksum_ok(mutated)
    assert classify(mutated, today=TODAY).verdict is not Verdict.ACCEPT


# --- KID -------------------------------------------------------------------------------------

KID_ALGO = {"MOD10": "mod10", "MOD11": "mod11", "MOD10_OR_MOD11": "either"}
KID_ROWS = _rows("kid_numbers.csv")


@pytest.mark.parametrize("row", KID_ROWS, ids=[f"kid{i}" for i in range(len(KID_ROWS))])
def test_every_kid_vector(row: dict[str, str]) -> None:
    expected = row["expected_valid"] == "true"
    if row["algorithm"] == "ANY":
        assert not any(kid.is_valid(row["kid"], a) for a in ("mod10", "mod11", "either"))
    else:
        assert kid.is_valid(row["kid"], KID_ALGO[row["algorithm"]]) is expected


@pytest.mark.parametrize("spoken", ["036536 strek", "036536 minus", "036536-", "0365 36 Strek"])
def test_spoken_dash(spoken: str) -> None:
    assert kid.is_valid(spoken, "mod11")


@st.composite
def bodies(draw: st.DrawFn) -> str:
    return draw(st.text(alphabet="0123456789", min_size=3, max_size=20))


@given(bodies(), st.sampled_from(["mod10", "mod11"]), st.data())
@settings(max_examples=300, deadline=None)
def test_kid_round_trip(body: str, algorithm: str, data: st.DataObject) -> None:
    from stdnum import luhn

    check = luhn.calc_check_digit(body) if algorithm == "mod10" else kid.mod11_check_digit(body)
    full = body + check
    assert kid.is_valid(full, algorithm)
    pos = data.draw(st.integers(0, len(body) - 1))
    delta = data.draw(st.integers(1, 9))
    mutated = full[:pos] + str((int(full[pos]) + delta) % 10) + full[pos + 1:]
    assert not kid.is_valid(mutated, algorithm)


def test_membership_number_is_a_configurable_slice() -> None:
    from stdnum import luhn

    body = "00" + "123456" + "77"
    full = body + luhn.calc_check_digit(body)
    config = kid.KidConfig(algorithm="mod10", membership_offset=2, membership_length=6)
    assert kid.membership_number(full, config) == "123456"
    assert kid.membership_number(full[:-1] + "x", config) is None
    assert kid.KidConfig.from_config({}) == kid.KidConfig("mod10", 0, 6)
    assert kid.KidConfig.from_config({"kid": {"algorithm": "MOD11"}}).algorithm == "mod11"


# --- phone numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["91234567", "+47 912 34 567", "0047 91234567", "912 34 567"])
def test_common_norwegian_forms_normalise(raw: str) -> None:
    assert phone.normalise(raw) == "+4791234567"


@pytest.mark.parametrize("raw", ["anonymous", "Restricted", "", None, "unknown", "abc", "123"])
def test_withheld_or_text_caller_ids_mean_no_number(raw: str | None) -> None:
    assert phone.normalise(raw) is None

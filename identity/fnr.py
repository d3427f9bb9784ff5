"""Norwegian national ID numbers: fødselsnummer, D-, H- and synthetic test numbers (pure).

python-stdnum's `stdnum.no.fodselsnummer` gives the check-digit weights and the compact
form; it lacks the 2032 check-digit rule, the expanded D-number series (whose century the
individual number does not encode), synthetic test numbers (month + 80) and an injectable
"today", so those parts are added here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, replace
from enum import StrEnum

from stdnum.no import fodselsnummer as stdnum_fnr

from identity.digits import FOREIGN_DIGITS, has_foreign_digits, is_ascii_digits

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2, 1)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1)

# Personnummer (the last five digits) that membership systems write after a birth date when the
# real number is unknown: the default of the org file's `identity.placeholder_suffixes`. A number
# with one of these that fails the checksum is a placeholder; one that passes both check digits
# may be a real member's (346 birth dates from 1900 to 2025 have such a valid number), so it is
# only flagged for the agent to confirm with the member.
PLACEHOLDER_PERSONNUMMER = ("00000", "00100", "00200", "11111", "99999")
# Whole numbers known to be fake, whatever their checksum (01020000100 passes it).
PLACEHOLDER_NUMBERS = frozenset({"12345678910", "12345678901", "01010100000", "01020000100"})


class Verdict(StrEnum):
    """What a national ID is worth for identifying a member (docs/identity-and-privacy.md)."""

    ACCEPT = "accept"
    TEST_ONLY = "test_only"
    REFUSE = "refuse"
    INVALID = "invalid"
    NEEDS_CORRECTION = "needs_correction"


@dataclass(frozen=True)
class IdCheck:
    """The verdict on one number, with its kind and (when known) its birth date."""

    verdict: Verdict
    kind: str  # fnr | dnr | hnr | fh | synthetic_fnr | synthetic_dnr | placeholder | malformed
    reason: str
    birth_date: dt.date | None = None
    number: str | None = None  # compact 11 digits, only when the format is right
    possible_placeholder: bool = False  # valid, but ends in a placeholder suffix

    def acceptable(self, *, allow_test_ids: bool) -> bool:
        """True when this number may identify a member under the given mode."""
        return self.verdict is Verdict.ACCEPT or (
            self.verdict is Verdict.TEST_ONLY and allow_test_ids
        )


def compact(number: str) -> str:
    """The number without spaces, dashes or colons."""
    return stdnum_fnr.compact(number)


def checksum_ok(number: str) -> bool:
    """Check digits under the pre-2032 rule or the 2032 rule (k1 remainder 0-3)."""
    if len(number) != 11 or not is_ascii_digits(number):
        return False
    digits = [int(c) for c in number]
    k1_rest = sum(w * d for w, d in zip(K1_WEIGHTS, digits[:10], strict=True)) % 11
    k2_rest = sum(w * d for w, d in zip(K2_WEIGHTS, digits, strict=True)) % 11
    # Before 2032 k1 must leave remainder 0; from 2032 (Skatteetaten, "Nytt fødselsnummer fra
    # 2032") remainders 0-3 are allowed for k1. k2 keeps remainder 0 under both rules.
    return k1_rest in (0, 1, 2, 3) and k2_rest == 0


def _centuries(yy: int, individual: int) -> list[int]:
    """Candidate birth years from the individual number (Skatteetaten's table)."""
    if individual < 500:
        return [1900 + yy]
    if individual < 750 and yy >= 54:
        return [1800 + yy]
    if yy < 40:
        return [2000 + yy]
    if individual >= 900:
        return [1900 + yy]
    return []  # 500-899 with year >= 40: no century in the table


def _is_placeholder(number: str, suffixes: Collection[str] = PLACEHOLDER_PERSONNUMMER) -> bool:
    """A known fake: a whole fake number, one digit repeated, or a suffix failing the checksum."""
    return (
        number in PLACEHOLDER_NUMBERS
        or len(set(number)) == 1
        or (number[6:] in suffixes and not checksum_ok(number))
    )


def classify(raw: str, *, today: dt.date,
             placeholder_suffixes: Collection[str] = PLACEHOLDER_PERSONNUMMER) -> IdCheck:
    """Classify a national ID as of `today` (pure: no clock, no settings)."""
    if has_foreign_digits(raw):  # before compact(): stdnum folds fullwidth digits to ASCII
        return IdCheck(Verdict.INVALID, "malformed", FOREIGN_DIGITS)
    number = compact(raw)
    if len(number) != 11 or not is_ascii_digits(number):
        return IdCheck(Verdict.INVALID, "malformed", "not 11 digits")
    if _is_placeholder(number, placeholder_suffixes):
        return IdCheck(Verdict.NEEDS_CORRECTION, "placeholder", "a known placeholder",
                       number=number)
    if not checksum_ok(number):
        return IdCheck(Verdict.INVALID, "unknown", "check digits", number=number)
    check = _valid_number(number, today)
    if number[6:] in placeholder_suffixes:
        return replace(check, possible_placeholder=True)
    return check


def _valid_number(number: str, today: dt.date) -> IdCheck:
    """The verdict on an 11-digit number whose check digits are right."""
    day, month = int(number[0:2]), int(number[2:4])
    yy, individual = int(number[4:6]), int(number[6:9])
    if day >= 80:
        # FH-numbers (health sector) carry no birth date and never identify a member.
        return IdCheck(Verdict.REFUSE, "fh", "FH-number: not for member identification",
                       number=number)
    d_number = day > 40
    if d_number:
        day -= 40
    synthetic = hnumber = False
    if month > 80:
        synthetic, month = True, month - 80
    elif month > 40:
        hnumber, month = True, month - 40
    years = _centuries(yy, individual)
    if not years and d_number:
        # The D-number series expanded in November 2021 uses individual numbers whose
        # century cannot be read; any century with a real, past date is accepted.
        years = [2000 + yy, 1900 + yy]
    dates = []
    for year in years:
        try:
            dates.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not dates:
        return IdCheck(Verdict.INVALID, "unknown", "no such birth date", number=number)
    past = [d for d in dates if d <= today]
    if not past:
        return IdCheck(Verdict.INVALID, "unknown", "birth date in the future", number=number)
    birth = past[0] if len(past) == 1 else None  # two possible centuries: unknown
    base = "dnr" if d_number else "fnr"
    if hnumber:
        return IdCheck(Verdict.REFUSE, "hnr", "H-number: not for member identification",
                       birth, number)
    if synthetic:
        return IdCheck(Verdict.TEST_ONLY, f"synthetic_{base}", "synthetic test number",
                       birth, number)
    return IdCheck(Verdict.ACCEPT, base, "valid", birth, number)


def mask(number: str) -> str | None:
    """The display form `DDMMYY *****`, or None when the number is not 11 digits."""
    if has_foreign_digits(number):
        return None
    number = compact(number)
    if len(number) != 11 or not is_ascii_digits(number):
        return None
    return number[:6] + " *****"

"""KID numbers (Norwegian payment references): MOD10 and MOD11 check digits (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import luhn

from identity.digits import has_foreign_digits, is_ascii_digits

ALGORITHMS = ("mod10", "mod11", "either")
MIN_LENGTH, MAX_LENGTH = 2, 25  # the KID field in Norwegian giros holds 2-25 characters
_SPOKEN_DASH = re.compile(r"\b(bindestrek|strek|minus|dash)\b", re.IGNORECASE)


@dataclass(frozen=True)
class KidConfig:
    """How the organisation's invoice KIDs are built (org file `kid:`)."""

    algorithm: str = "mod10"
    membership_offset: int = 0
    membership_length: int = 6

    @classmethod
    def from_config(cls, config: dict | None) -> KidConfig:
        """Read `config["kid"]` from the organisation row; missing keys give the defaults."""
        kid = (config or {}).get("kid") or {}
        return cls(
            algorithm=str(kid.get("algorithm", "mod10")).lower(),
            membership_offset=_setting(kid, "membership_offset", 0),
            membership_length=_setting(kid, "membership_length", 6),
        )


def _setting(kid: dict, key: str, default: int) -> int:
    """A whole-number KID setting; text is read only when it is ASCII digits (int("٣") is 3)."""
    value = kid.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"kid.{key} must be a whole number")
    if isinstance(value, str):
        if not is_ascii_digits(value.strip()):
            raise ValueError(f"kid.{key} must be a whole number written with the digits 0-9")
        value = int(value.strip())
    return value


def foreign_digits(raw: str) -> bool:
    """True when the KID holds digits of another script (refused, never converted)."""
    return has_foreign_digits(raw)


def normalise(raw: str) -> str:
    """Digits and a final `-`; "strek" or "minus" said aloud count as `-`."""
    text = _SPOKEN_DASH.sub("-", raw)
    return re.sub(r"[\s.]", "", text)


def mod11_check_digit(body: str) -> str:
    """The MOD11 check character for body: weights 2..7 from the right; remainder 10 is `-`."""
    # Written by hand: python-stdnum has no general-length MOD11 with the `-` rule
    # (stdnum.no.kontonr's weights are fixed to 11-digit account numbers).
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    check = 11 - total % 11
    if check == 11:
        return "0"
    if check == 10:
        return "-"
    return str(check)


def mod10_valid(kid: str) -> bool:
    """MOD10 (Luhn) check, via python-stdnum."""
    return is_ascii_digits(kid) and luhn.is_valid(kid)


def mod11_valid(kid: str) -> bool:
    """MOD11 check, with `-` standing for remainder 10."""
    body, check = kid[:-1], kid[-1:]
    if not is_ascii_digits(body) or not (is_ascii_digits(check) or check == "-"):
        return False
    return mod11_check_digit(body) == check


def is_valid(raw: str, algorithm: str = "mod10") -> bool:
    """True when the KID has a valid length, characters and check digit for the algorithm."""
    kid = normalise(raw)
    if not MIN_LENGTH <= len(kid) <= MAX_LENGTH:
        return False
    if algorithm == "mod10":
        return mod10_valid(kid)
    if algorithm == "mod11":
        return mod11_valid(kid)
    if algorithm == "either":
        return mod10_valid(kid) or mod11_valid(kid)
    raise ValueError(f"unknown KID algorithm {algorithm!r}")


def membership_number(raw: str, config: KidConfig) -> str | None:
    """The membership number sliced out of a valid KID, or None when the KID is not valid."""
    kid = normalise(raw)
    if not is_valid(kid, config.algorithm):
        return None
    part = kid[config.membership_offset: config.membership_offset + config.membership_length]
    if len(part) != config.membership_length or not is_ascii_digits(part):
        return None
    return part

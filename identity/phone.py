"""Phone numbers: normalise to E.164 with phonenumbers (region NO); withheld IDs mean none."""

from __future__ import annotations

import phonenumbers

from identity.digits import has_foreign_digits

# What carriers and Twilio put in From when the caller withholds the number.
WITHHELD = frozenset({"", "anonymous", "restricted", "private", "unknown", "unavailable",
                      "withheld", "blocked", "+266696687", "+86282452253", "+7378742833",
                      "+2562533", "+8656696"})


def normalise(raw: str | None, region: str = "NO") -> str | None:
    """The number in E.164, or None for a withheld, text or invalid caller ID (never an error)."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in WITHHELD:
        return None
    if has_foreign_digits(text):
        # phonenumbers would convert ٩١٢… or ９１２… to ASCII; only 0-9 are digits here.
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """True for a mobile (or fixed-or-mobile) number."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    return kind in (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)

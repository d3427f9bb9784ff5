"""Only ASCII 0-9 are digits here: other scripts' digits are refused, never converted.

`str.isdigit()` and `int()` accept Arabic-Indic, Devanagari, fullwidth (and, for isdigit,
superscript) digits, so every number the switchboard reads goes through these checks instead.
"""

from __future__ import annotations

ASCII_DIGITS = frozenset("0123456789")
FOREIGN_DIGITS = "use the digits 0-9 only"


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of ASCII 0-9 and nothing else."""
    return bool(text) and set(text) <= ASCII_DIGITS


def has_foreign_digits(text: str) -> bool:
    """True when the text holds a digit or numeral that is not ASCII 0-9 (e.g. ٣, ३, ３, ²)."""
    return any(c.isnumeric() and c not in ASCII_DIGITS for c in text)

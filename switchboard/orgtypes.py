"""The org file's field types: ids, E.164 phones, menu keys, time ranges, printable text, and
the strict base every section shares (docs/org-file.md). Errors name the kind of value wanted."""

from __future__ import annotations

from typing import Annotated, Any

import phonenumbers
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from routing.hours import CLOSED, parse_range

ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
MENU_DIGITS = frozenset("0123456789*#")
VOICEMAIL = "voicemail"


def fail(kind: str, message: str) -> PydanticCustomError:
    """A validation error of this kind; the loader adds the field's path and line."""
    return PydanticCustomError(kind, message)


def _check_id(value: str) -> str:
    if not value or len(value) > 64 or not set(value) <= ID_CHARS:
        raise fail("id", f'"{value}" is not a valid id: use 1-64 of a-z, 0-9, ".", "_", "-"')
    return value


def _check_phone(value: str) -> str:
    """E.164 as phonenumbers sees it: valid, and already written as +<country><number>."""
    bad = fail("phone", f'"{value}" is not an E.164 phone number (like "+4790000001")')
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise bad from None
    if not phonenumbers.is_valid_number(parsed):
        raise bad
    if phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != value:
        raise bad
    return value


def _digit_text(value: Any) -> Any:
    # An unquoted menu key or digit (9) arrives as an int; "09" stays text and is refused below.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _check_digit(value: str) -> str:
    if len(value) != 1 or value not in MENU_DIGITS:
        raise fail("digit", f'"{value}" is not one key: use 0-9, * or #')
    return value


def _check_range(value: str) -> str:
    try:
        parse_range(value)
    except ValueError as exc:
        raise fail("time_range", str(exc)) from None
    return value


def _check_special(value: str) -> str:
    return value if value == CLOSED else _check_range(value)


Id = Annotated[str, AfterValidator(_check_id)]
Phone = Annotated[str, AfterValidator(_check_phone)]
Digit = Annotated[str, BeforeValidator(_digit_text), AfterValidator(_check_digit)]
TimeRange = Annotated[str, AfterValidator(_check_range)]
SpecialHours = Annotated[str, AfterValidator(_check_special)]


def check_text(value: Any) -> Any:
    """Text that can be written out: a lone surrogate (an escape such as "\\ud800") cannot."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # the message must not echo it: it cannot be printed
            raise fail("text", f"has something that is not text at character {exc.start + 1} "
                         f"(U+{ord(value[exc.start]):04X}, half of a surrogate pair): write the "
                         "character itself, or both halves of its escape") from None
    return value


Text = Annotated[str, BeforeValidator(check_text), Field(min_length=1)]


class Strict(BaseModel):
    """Every section refuses unknown keys, so a typo is an error rather than a silent default."""

    model_config = ConfigDict(extra="forbid")

"""The ticket API's request bodies and the personal-number rule for free text (docs/tickets.md)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# A national ID (fødselsnummer, D-number) is 11 digits, often written "DDMMYY NNNNN"; KIDs run
# up to 25 digits. Agents' free text never needs them (the ticket links the verified member),
# so such a number is refused rather than stored: the agent gets the form back with the text
# and the reason, and nothing is lost. Shorter KIDs are caught when labelled ("KID 1234567").
_PERSONAL_NUMBER = re.compile(
    r"(?<!\d)(?:\d{6}[ .-]\d{5}|\d{11,})(?!\d)"
    r"|\b(?:kid|fnr|f\.nr|fødselsnummer|fodselsnummer|personnummer|d-nummer)\b"
    r"[\s:#.-]*(?:nr\.?)?[\s:#.-]*\d[\d ]{3,}",
    re.IGNORECASE,
)
PERSONAL_NUMBER_MESSAGE = (
    "looks like a national ID or KID number: leave it out, the ticket links the verified member"
)


def has_personal_number(text: str | None) -> bool:
    """True when text holds something shaped like a national ID or a KID."""
    return bool(text) and _PERSONAL_NUMBER.search(text or "") is not None


def _no_personal_number(value: str | None) -> str | None:
    if has_personal_number(value):
        raise ValueError(PERSONAL_NUMBER_MESSAGE)
    return value


FreeText = Annotated[str, Field(min_length=1, max_length=4000),
                     AfterValidator(_no_personal_number)]
Category = Annotated[str, Field(min_length=1, max_length=100),
                     AfterValidator(_no_personal_number)]
Status = Literal["open", "in_progress", "waiting", "done"]
FollowUp = Literal["we_call", "caller_calls", "none"]


class TicketCreate(BaseModel):
    """POST /api/tickets: a message to a department (the level comes from the call itself)."""

    model_config = ConfigDict(extra="forbid")
    department: Annotated[str, Field(min_length=1, max_length=64)]
    text: FreeText
    category: Category | None = None
    call_sid: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    member_id: int | None = None
    follow_up: FollowUp = "none"
    confirm_to_agent: bool = False


class TicketPatch(BaseModel):
    """PATCH /api/tickets/{id}: take it (owner), change its status, add a note; any mix."""

    model_config = ConfigDict(extra="forbid")
    owner: Annotated[str, Field(min_length=1, max_length=64)] | None = None  # null: let go
    status: Status | None = None
    note: FreeText | None = None

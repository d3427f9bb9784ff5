"""Request bodies of the identity API, with OpenAPI examples (values are fictional)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from identity.digits import FOREIGN_DIGITS, has_foreign_digits, is_ascii_digits

_ID = Field(min_length=1, max_length=20, description="11 digits 0-9; spaces and dashes allowed")


def _membership_number(value: str) -> str:
    value = value.strip()
    if not is_ascii_digits(value):
        raise ValueError(f"a membership number is digits: {FOREIGN_DIGITS}")
    return value


def _no_foreign_digits(value: str) -> str:
    if has_foreign_digits(value):
        raise ValueError(FOREIGN_DIGITS)
    return value


MembershipNumber = Annotated[str, Field(min_length=1, max_length=32,
                                        description="digits 0-9"),
                             AfterValidator(_membership_number)]
Digits = Annotated[str, AfterValidator(_no_foreign_digits)]


class StartBody(BaseModel):
    """Which script the call needs."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"script": "member"}]})
    script: Literal["member", "invoice", "case"]


class KnownBody(BaseModel):
    """The agent knows the caller: one of the calling number's candidates (member_id or
    membership number), and a short reason in the agent's words (audited)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"member_id": 1, "reason": "shop steward I work with"}]})
    member_id: int | None = None
    membership_number: MembershipNumber | None = None
    reason: str = Field(min_length=3, max_length=200,
                        description="why the agent knows the member (audited)")


class MemberFactorsBody(BaseModel):
    """Script 1: national ID and membership number, which must belong to one member."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"national_id": "14837812314", "membership_number": "100001"}]})
    national_id: str = _ID
    membership_number: MembershipNumber


class BirthDateBody(BaseModel):
    """Script 1 for a member whose national ID needs correction."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"membership_number": "100003", "birth_date": "1978-02-01"}]})
    membership_number: MembershipNumber
    birth_date: dt.date


class KidBody(BaseModel):
    """Script 2: the KID the caller reads out ("strek"/"minus" means `-`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"kid": "10000100000429"}]})
    kid: str = Field(min_length=1, max_length=60)


class NameBody(BaseModel):
    """Script 2: the name the caller said, as the agent typed it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Kari Prøvesen"}]})
    name: str = Field(min_length=1, max_length=200)


class NameConfirmBody(BaseModel):
    """Script 2: the agent's judgement whether the names match."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"matches": True}]})
    matches: bool


class PayerFactorsBody(BaseModel):
    """Script 2: the member's national ID (birth date when the register's ID needs correction)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"national_id": "14837812314"}]})
    national_id: str | None = Field(None, min_length=1, max_length=20)
    birth_date: dt.date | None = None


class CaseSubjectBody(BaseModel):
    """Script 3: the member the case is about."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"membership_number": "100001"}]})
    membership_number: MembershipNumber


class ConsentBody(BaseModel):
    """Script 3: the member's oral consent, and how the agent heard it from the member.

    method `member_on_call`: the member is on this call and verified themself by the member
    script; `callback_registered_number`: the agent rang the member's registered number
    (`phone_position`, 1-based, says which of `callback_numbers`). Consent given any other way
    opens no case."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"consented": True, "given_to": "Nils Advokatsen", "scope": "the dismissal case",
         "method": "callback_registered_number", "phone_position": 1},
        {"consented": True, "given_to": "Nils Advokatsen", "scope": "the dismissal case",
         "method": "member_on_call"}]})
    consented: bool
    given_to: str = Field(min_length=1, max_length=200, description="who may speak for them")
    scope: str = Field(min_length=1, max_length=500, description="what the consent covers")
    method: Literal["member_on_call", "callback_registered_number"]
    phone_position: int | None = Field(None, ge=1, le=20,
                                       description="which registered number was rung")


class CaseFactorsBody(BaseModel):
    """Script 3: national ID plus membership number, or the member's mobile number."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"national_id": "14837812314", "membership_number": "100001"},
        {"mobile": "+4791234567"}]})
    national_id: str | None = Field(None, min_length=1, max_length=20)
    membership_number: MembershipNumber | None = None
    mobile: Digits | None = Field(None, max_length=32)


class PhoneFixBody(BaseModel):
    """Add the calling number to the member's numbers, or replace them with it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"mode": "add"}]})
    mode: Literal["add", "replace"] = "add"


class EmailFixBody(BaseModel):
    """A new e-mail address."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "kari@example.org"}]})
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AddressFixBody(BaseModel):
    """A new postal address (clears the returned-mail flag)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"address": "Demoveien 2", "postal_code": "0151", "city": "Oslo"}]})
    address: str = Field(min_length=1, max_length=200)
    postal_code: Digits = Field(min_length=4, max_length=16)
    city: str = Field(min_length=1, max_length=100)


class NationalIdFixBody(BaseModel):
    """The correct national ID for a member whose register entry needs correction."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"national_id": "01827844183"}]})
    national_id: str = _ID


class PlaceholderConfirmBody(BaseModel):
    """Nothing to send: the member has confirmed that the register's number is theirs."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class UnlockBody(BaseModel):
    """Admin: unlock a member (by membership number), or a call and its calling number."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"membership_number": "100001"}, {"call_sid": "CA00000000000000000000000000000001"}]})
    membership_number: MembershipNumber | None = None
    call_sid: str | None = Field(None, min_length=1, max_length=64)

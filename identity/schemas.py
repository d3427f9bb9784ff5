"""Request bodies of the identity API, with OpenAPI examples (values are fictional)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_ID = Field(min_length=1, max_length=20, description="11 digits; spaces and dashes allowed")


class StartBody(BaseModel):
    """Which script the call needs."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"script": "member"}]})
    script: Literal["member", "invoice", "case"]


class KnownBody(BaseModel):
    """The agent knows the caller: a candidate's member_id, or a membership number."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"member_id": 1}]})
    member_id: int | None = None
    membership_number: str | None = Field(None, max_length=32)


class MemberFactorsBody(BaseModel):
    """Script 1: national ID and membership number, which must belong to one member."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"national_id": "14837812314", "membership_number": "100001"}]})
    national_id: str = _ID
    membership_number: str = Field(min_length=1, max_length=32)


class BirthDateBody(BaseModel):
    """Script 1 for a member whose national ID needs correction."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"membership_number": "100003", "birth_date": "1978-02-01"}]})
    membership_number: str = Field(min_length=1, max_length=32)
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
    membership_number: str = Field(min_length=1, max_length=32)


class ConsentBody(BaseModel):
    """Script 3: the member's oral consent, taken on a callback to the registered number."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"consented": True, "given_to": "Nils Advokatsen", "scope": "the dismissal case"}]})
    consented: bool
    given_to: str = Field(min_length=1, max_length=200)
    scope: str = Field(min_length=1, max_length=500)


class CaseFactorsBody(BaseModel):
    """Script 3: national ID plus membership number, or the member's mobile number."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"national_id": "14837812314", "membership_number": "100001"},
        {"mobile": "+4791234567"}]})
    national_id: str | None = Field(None, min_length=1, max_length=20)
    membership_number: str | None = Field(None, max_length=32)
    mobile: str | None = Field(None, max_length=32)


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
    postal_code: str = Field(min_length=4, max_length=16)
    city: str = Field(min_length=1, max_length=100)


class NationalIdFixBody(BaseModel):
    """The correct national ID for a member whose register entry needs correction."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"national_id": "01827844183"}]})
    national_id: str = _ID

"""Pydantic models for the organisation file (docs/org-file.md), field by field, with defaults."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from identity.fnr import PLACEHOLDER_PERSONNUMMER
from switchboard.orgtypes import (
    VOICEMAIL,
    Digit,
    Id,
    Phone,
    SpecialHours,
    Strict,
    Text,
    TimeRange,
    check_text,
    fail,
)
from tickets.workdays import parse_deadline


def _holiday_country(value: str | None) -> str | None:
    """A country code the holidays package knows, upper-cased; None stays None."""
    if value is None:
        return None
    code = value.strip().upper()
    if code not in holidays_lib.list_supported_countries():
        raise fail("country", f'"{value}" is not a country code the holidays package knows')
    return code


class WeekHours(Strict):
    """Opening hours per weekday; a missing day is closed."""

    mon: TimeRange | None = None
    tue: TimeRange | None = None
    wed: TimeRange | None = None
    thu: TimeRange | None = None
    fri: TimeRange | None = None
    sat: TimeRange | None = None
    sun: TimeRange | None = None

    @model_validator(mode="after")
    def _some_day(self) -> WeekHours:
        if not self.as_config():
            raise fail("no_days", "names no day: leave opening_hours out for always open")
        return self

    def as_config(self) -> dict[str, str]:
        """{"mon": "08:00-15:30", …} for the days that open."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


def _check_cutoff(value: str) -> str:
    parts = value.split(":")
    if (len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts)
            or int(parts[0]) > 23 or int(parts[1]) > 59):
        raise fail("cutoff", f'"{value}" is not a time of day (like "15:00")')
    return value


class WorkingDays(Strict):
    """How ticket deadlines count working days (docs/tickets.md)."""

    country: str | None = "NO"
    subdivision: str | None = None
    cutoff: Annotated[str, AfterValidator(_check_cutoff)] = "15:00"
    count_day_of_receipt: bool = False

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return _holiday_country(value)

    @model_validator(mode="after")
    def _subdivision(self) -> WorkingDays:
        if self.subdivision is None:
            return self
        known = holidays_lib.list_supported_countries().get(self.country or "", [])
        if self.subdivision not in known:
            raise fail("subdivision", f'"{self.subdivision}" is not a subdivision of '
                         f'{self.country} (one of: {", ".join(known) or "none"})')
        return self


def _check_greeting(value: str | None) -> str | None:
    if value is None:
        return None
    import string

    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
    except ValueError:
        raise fail("greeting_line", "has an unmatched { or }") from None
    if fields - {"agent"}:
        raise fail("greeting_line", 'may only use the placeholder {agent} (the agent\'s '
                     'first name)')
    return value


class GreetingLine(Strict):
    """What the agent says first, per caller language; None: "{name}, du snakker med {agent}."."""

    nb: Annotated[str | None, BeforeValidator(check_text), AfterValidator(_check_greeting)] = None
    en: Annotated[str | None, BeforeValidator(check_text), AfterValidator(_check_greeting)] = None


class Organisation(Strict):
    """Names said in the greetings, time zone, and when the lines are open."""

    name: Text
    name_en: Text | None = None
    timezone: str = ""  # empty: the loader's default (Settings.timezone)
    holidays: str | None = None
    opening_hours: WeekHours | None = None
    closed_days: list[date] = []
    special_hours: dict[date, SpecialHours] = {}
    working_days: WorkingDays = WorkingDays()
    greeting_line: GreetingLine = GreetingLine()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise fail("timezone", f'"{value}" is not a time zone (like "Europe/Oslo")') from None
        return value

    @model_validator(mode="after")
    def _default_zone(self, info: ValidationInfo) -> Organisation:
        if not self.timezone:
            self.timezone = (info.context or {}).get("default_timezone") or "Europe/Oslo"
        return self

    @field_validator("holidays")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return _holiday_country(value)


class Kid(Strict):
    """Where the membership number sits in an invoice KID."""

    algorithm: Literal["mod10", "mod11", "either"] = "mod10"
    membership_offset: int = Field(default=0, ge=0)
    membership_length: int = Field(default=6, ge=1)


def _check_suffix(value: Any) -> str:
    # An unquoted 99999 arrives as an int; 00100 stays text (YAML 1.2 integers have no
    # leading zero). Only ASCII 0-9 count: "٠٠١٠٠" is refused, not converted.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or len(text) != 5 or not set(text) <= set("0123456789"):
        raise fail("suffix", f'"{value}" is not five digits 0-9 (write it in quotes: "00100")')
    return text


class Identity(Strict):
    """Identity rules: fake personnummer suffixes, and the lock on failed verifications."""

    placeholder_suffixes: list[Annotated[str, BeforeValidator(_check_suffix)]] = list(
        PLACEHOLDER_PERSONNUMMER)
    lock_failures: int = Field(default=3, ge=1, le=100)
    lock_window_hours: int = Field(default=24, ge=1, le=24 * 365)


class CalendarPolicy(Strict):
    """What in a calendar blocks loop calls (docs/calendars.md#what-blocks-an-agent)."""

    tentative_blocks: bool = True
    all_day_free_blocks: bool = False
    block_keywords: list[Text] = []


class Number(Strict):
    """A number Twilio sends calls for."""

    number: Phone
    kind: Literal["switchboard", "direct"] = "switchboard"
    agent: Id | None = None

    @model_validator(mode="after")
    def _agent_for_direct(self) -> Number:
        if self.kind == "direct" and self.agent is None:
            raise fail("direct_agent", "a direct line needs `agent:` (the agent it rings)")
        if self.kind == "switchboard" and self.agent is not None:
            raise fail("switchboard_agent", "only a direct line names an agent")
        return self


class English(Strict):
    """"For English, press 9": the digit and the loop it leads to."""

    digit: Digit
    loop: Id


class IcsCalendar(Strict):
    """An ICS feed: http(s) URL, or a file path (relative to the org file's directory)."""

    source: Literal["ics"]
    url: Text

    @field_validator("url")
    @classmethod
    def _absolute_path(cls, value: str, info: ValidationInfo) -> str:
        parts = urlsplit(value)
        if parts.scheme in ("http", "https"):
            return value
        path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(value).expanduser()
        base = Path((info.context or {}).get("base_dir") or Path.cwd())
        # Stored absolute so the sync job finds it whatever directory it runs in.
        return str(path if path.is_absolute() else (base / path).resolve())


class MailboxCalendar(Strict):
    """Exchange on premises (ews) or Microsoft 365 (graph): server and credentials from env."""

    source: Literal["ews", "graph"]
    mailbox: Text

    @field_validator("mailbox")
    @classmethod
    def _address(cls, value: str) -> str:
        if "@" not in value.strip("@"):
            raise fail("mailbox", "is not a mailbox address (like name@example.org)")
        return value


Calendar = Annotated[IcsCalendar | MailboxCalendar, Field(discriminator="source")]


class Agent(Strict):
    """A member of staff who answers calls."""

    id: Id
    name: Text
    phone: Phone
    email: Text | None = None
    roles: list[Id] = []
    logged_in: bool = True
    logout_reason: Literal["holiday", "leave", "sick", "training", "other"] | None = None
    routing_stop: bool = False
    calendar: Calendar | None = None
    access: Literal["agent", "admin"] = "agent"  # admin: may use /admin (docs/desk.md)
    cover: Id | None = None  # who takes their open work when they log out (docs/tickets.md)

    @model_validator(mode="after")
    def _reason_needs_logout(self) -> Agent:
        if self.logged_in and self.logout_reason is not None:
            raise fail("logout_reason", "logout_reason is set, so logged_in must be false")
        if not self.logged_in and self.logout_reason is None:
            # A logout in the file is for holiday or leave; the desk shows why (docs/org-file.md).
            raise fail("logout_reason", "logged_in is false, so logout_reason is required "
                         "(holiday, leave, sick, training or other)")
        return self


class Loop(Strict):
    """A group of agents a menu digit leads to."""

    id: Id
    name: Text
    name_en: Text | None = None  # said to English-speaking callers; `name` when absent
    members: list[Id] = []
    roles: list[Id] = []
    strategy: Literal[
        "ringall", "linear", "round_robin", "least_recent", "fewest_calls", "random"
    ] = "ringall"
    ring_timeout: int = Field(default=20, ge=5, le=600)  # Twilio's <Dial timeout> range
    max_wait: int = Field(default=0, ge=0)
    wrap_up: int = Field(default=0, ge=0)
    overflow: Id = VOICEMAIL
    department: Id | None = None  # whose ticket list gets this loop's callback tickets
    # The service level: the share of answered calls answered within this many seconds.
    service_level_seconds: int = Field(default=20, ge=1, le=3600)


def _check_deadline(value: str) -> str:
    try:
        parse_deadline(value)
    except ValueError as exc:
        raise fail("deadline", str(exc)) from None
    return value


class Department(Strict):
    """Where tickets go: a shared inbox, a deadline and (optionally) its people."""

    id: Id
    name: Text
    email: Text
    deadline: Annotated[str, AfterValidator(_check_deadline)]
    escalation: Text | None = None
    members: list[Id] = []

    @field_validator("email", "escalation")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value.strip("@"):
            raise fail("email", "is not an e-mail address (like name@example.org)")
        return value


class Tickets(Strict):
    """The ticket rules' numbers (docs/tickets.md): handover, callbacks, retention."""

    handover_confirm_hours: int = Field(default=24, ge=1, le=24 * 30)
    callback_max_attempts: int = Field(default=3, ge=1, le=20)
    retention_days: int = Field(default=30, ge=1, le=3650)
    # Escalation (tickets.escalation): hours counted on working days only.
    untouched_hours: int = Field(default=24, ge=1, le=24 * 60)


Prompts = dict[Literal["nb", "en"], dict[Id, Text]]


class OrgFile(Strict):
    """The whole organisation file, validated field by field (cross-checks are in orgfile)."""

    organisation: Organisation
    kid: Kid = Kid()
    identity: Identity = Identity()
    calendar_policy: CalendarPolicy = CalendarPolicy()
    numbers: list[Number]
    menu: Annotated[dict[Digit, Id], Field(min_length=1)]
    menu_default: Id | None = None
    prompts: Prompts = {}
    english: English | None = None
    agents: list[Agent]
    loops: Annotated[list[Loop], Field(min_length=1)]
    departments: list[Department] = []
    tickets: Tickets = Tickets()

    @model_validator(mode="after")
    def _default_menu_entry(self) -> OrgFile:
        if self.menu_default is None and self.menu:
            # The contract: after three plays with no valid digit, the last entry's loop.
            self.menu_default = list(self.menu.values())[-1]
        return self


def _models_in(tp: Any) -> set[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return {tp}
    return {m for arg in get_args(tp) for m in _models_in(arg)}


def keys_at(loc: tuple[str | int, ...]) -> list[str]:
    """The keys allowed in the mapping at loc (for "did you mean" hints)."""
    current: set[type[BaseModel]] = {OrgFile}
    for part in loc:
        found = {
            m2 for m in current if isinstance(part, str) and part in m.model_fields
            for m2 in _models_in(m.model_fields[part].annotation)
        }
        # List indexes and union tags are not fields: stay with the models we have.
        current = found or current
    return sorted({name for m in current for name in m.model_fields})

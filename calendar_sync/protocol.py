"""The one interface every calendar source implements, and the plain data it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

Status = Literal["busy", "tentative", "oof", "free", "workingElsewhere"]
STATUSES: frozenset[str] = frozenset({"busy", "tentative", "oof", "free", "workingElsewhere"})


@dataclass(frozen=True)
class RawEvent:
    """One event (or occurrence) as a source reports it, before the policy looks at it.

    `start`/`end` are tz-aware datetimes, or dates for date-valued (all-day) ICS events.
    `all_day` is True/False where the source says so, None where it has no flag (EWS, Graph):
    the policy then treats local midnight to local midnight as all-day.
    `subject` is None where the source gives no subject (availability-only, private items).
    """

    start: datetime | date
    end: datetime | date
    status: Status
    all_day: bool | None = None
    subject: str | None = None
    cancelled: bool = False


@dataclass
class MailboxResult:
    """Events for one mailbox (or ICS feed), or the reason they could not be read."""

    events: list[RawEvent] = field(default_factory=list)
    error: str | None = None


class CalendarSource(Protocol):
    """Busy intervals for these mailboxes in [start, end), with an error per mailbox."""

    kind: str

    def fetch(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, MailboxResult]:
        """One result per mailbox; a mailbox that fails must not fail the others."""
        ...


class SourceError(Exception):
    """A whole source failed (server unreachable, SOAP fault, bad credentials)."""

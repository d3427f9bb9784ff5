"""Working days and ticket deadlines (docs/tickets.md): pure functions, the clock is an input.

A deadline is `N hours` (N clock hours after receipt) or `N working days` (local midnight ending
the Nth working day). A ticket received on a working day before the cut-off was received that
day; otherwise on the next working day. With `count_day_of_receipt` false the count starts on
the working day after that; with true that day is day 1. Working days are Monday to Friday
without the country's (and subdivision's) public holidays and the organisation's closed days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays as holidays_lib

HOURS, WORKING_DAYS = "hours", "working_days"
_DEADLINE = re.compile(r"^\s*(\d{1,4})\s+(hours?|working\s+days?)\s*$", re.IGNORECASE)
MAX_SCAN_DAYS = 3660  # no real calendar has ten closed years in a row: stop a bad config looping


@dataclass(frozen=True)
class Deadline:
    """A department's deadline: an amount of clock hours or of working days."""

    amount: int
    unit: Literal["hours", "working_days"]

    def __str__(self) -> str:
        if self.unit == HOURS:
            return f"{self.amount} hour" + ("" if self.amount == 1 else "s")
        return f"{self.amount} working day" + ("" if self.amount == 1 else "s")


def parse_deadline(text: str) -> Deadline:
    """`"24 hours"` or `"5 working days"` (singular too); ValueError names what is wrong."""
    m = _DEADLINE.match(text or "")
    if not m:
        raise ValueError(f'"{text}" is not a deadline: write "N hours" or "N working days"')
    amount = int(m.group(1))
    if amount < 1:
        raise ValueError(f'"{text}" is not a deadline: N must be at least 1')
    if m.group(2).lower().startswith("hour"):
        return Deadline(amount, "hours")
    return Deadline(amount, "working_days")


@dataclass(frozen=True)
class WorkCalendar:
    """The organisation's working days: country, subdivision, cut-off and closed days."""

    country: str | None = "NO"
    subdivision: str | None = None
    cutoff: time = time(15, 0)
    count_day_of_receipt: bool = False
    closed_days: frozenset[date] = field(default_factory=frozenset)
    timezone: str = "Europe/Oslo"

    @property
    def zone(self) -> ZoneInfo:
        """The organisation's time zone."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_config(cls, config: dict, timezone: str) -> WorkCalendar:
        """From Organisation.config (the org file's `working_days` and `closed_days`)."""
        wd = config.get("working_days") or {}
        hh, mm = (wd.get("cutoff") or "15:00").split(":")
        return cls(
            country=wd.get("country", "NO"), subdivision=wd.get("subdivision"),
            cutoff=time(int(hh), int(mm)),
            count_day_of_receipt=bool(wd.get("count_day_of_receipt", False)),
            closed_days=frozenset(date.fromisoformat(d) for d in config.get("closed_days") or []),
            timezone=timezone,
        )


@lru_cache(maxsize=16)
def _public_holidays(country: str, subdivision: str | None) -> holidays_lib.HolidayBase:
    # One object per country/subdivision; it fills in years lazily as dates are asked about.
    return holidays_lib.country_holidays(country, subdiv=subdivision)


def is_working_day(day: date, cal: WorkCalendar) -> bool:
    """Monday to Friday, not a public holiday and not one of the organisation's closed days."""
    if day.weekday() >= 5 or day in cal.closed_days:
        return False
    return not (cal.country and day in _public_holidays(cal.country, cal.subdivision))


def next_working_day(day: date, cal: WorkCalendar) -> date:
    """The first working day strictly after `day`."""
    for _ in range(MAX_SCAN_DAYS):
        day += timedelta(days=1)
        if is_working_day(day, cal):
            return day
    raise ValueError("no working day within ten years: check working_days and closed_days")


def receipt_day(received: datetime, cal: WorkCalendar) -> date:
    """The working day a ticket counts as received on (after the cut-off: the next one)."""
    local = received.astimezone(cal.zone)
    day = local.date()
    if is_working_day(day, cal) and local.time() < cal.cutoff:
        return day
    return next_working_day(day, cal)


def _midnight_after(day: date, cal: WorkCalendar) -> datetime:
    """Local midnight ending `day`, in UTC (zoneinfo handles the DST change nights)."""
    local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=cal.zone)
    return local.astimezone(UTC)


def last_working_day(received: datetime, amount: int, cal: WorkCalendar) -> date:
    """The Nth working day of the count that starts at receipt."""
    day = receipt_day(received, cal)
    count = 1 if cal.count_day_of_receipt else 0
    while count < amount:
        day = next_working_day(day, cal)
        count += 1
    return day


def due_at(received: datetime, deadline: Deadline, cal: WorkCalendar) -> datetime:
    """When a ticket received at `received` (aware) is due, in UTC."""
    if received.tzinfo is None:
        raise ValueError("received must be timezone-aware")
    if deadline.unit == HOURS:
        # In UTC: adding to a local time would add wall-clock hours across a DST change.
        return received.astimezone(UTC) + timedelta(hours=deadline.amount)
    return _midnight_after(last_working_day(received, deadline.amount, cal), cal)


def working_days_between(start: date, end: date, cal: WorkCalendar) -> int:
    """Working days d with start <= d <= end (0 when end is before start)."""
    n, day = 0, start
    for _ in range(MAX_SCAN_DAYS):
        if day > end:
            break
        n += is_working_day(day, cal)
        day += timedelta(days=1)
    return n


@dataclass(frozen=True)
class TimeLeft:
    """What a list shows next to a due date."""

    urgency: Literal["ok", "amber", "red"]
    seconds: int  # negative when overdue
    working_days: int  # working days from today up to the due date's last day
    label: str  # Norwegian, for the pages: "3 arbeidsdager igjen", "5 t igjen", "2 t over fristen"
    label_en: str


def _hours_text(seconds: int) -> tuple[str, str]:
    minutes = abs(seconds) // 60
    if minutes < 60:
        return f"{minutes} min", f"{minutes} min"
    hours = minutes // 60
    return f"{hours} t", f"{hours} h"


def time_left(now: datetime, due: datetime, cal: WorkCalendar) -> TimeLeft:
    """Red when overdue, amber within the due date's last working day, else ok."""
    seconds = int((due - now).total_seconds())
    zone = cal.zone
    today = now.astimezone(zone).date()
    # The last day the ticket may be worked on: the day the deadline ends in (a deadline at
    # local midnight belongs to the day before it).
    last = (due - timedelta(microseconds=1)).astimezone(zone).date()
    while not is_working_day(last, cal) and last > today:
        last -= timedelta(days=1)
    days = working_days_between(today, last, cal)
    if seconds <= 0:
        nb, en = _hours_text(seconds)
        if -seconds >= 48 * 3600:
            nb, en = f"{-seconds // 86400} døgn", f"{-seconds // 86400} days"
        return TimeLeft("red", seconds, 0, f"{nb} over fristen", f"{en} overdue")
    urgency: Literal["ok", "amber"] = "amber" if today >= last else "ok"
    if urgency == "amber" or days <= 1 or seconds < 48 * 3600:  # near: hours say more
        nb, en = _hours_text(seconds)
        return TimeLeft(urgency, seconds, days, f"{nb} igjen", f"{en} left")
    return TimeLeft(urgency, seconds, days, f"{days} arbeidsdager igjen",
                    f"{days} working days left")

"""Opening hours: is the switchboard open at this instant, and if not, why (pure and fast)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOSED = "closed"
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

# A range is [start, end) in minutes after local midnight; end may be 24:00 (1440).
Range = tuple[int, int]


def parse_range(text: str) -> Range:
    """Parse "HH:MM-HH:MM" into minutes after midnight; raise ValueError when it is not one."""
    m = _RANGE.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f'"{text}" is not a time range like "08:00-15:30"')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f'"{text}" has a time that does not exist')
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= end:
        # Overnight ranges would need two dates' rules at once; nobody answers phones at 03:00.
        raise ValueError(f'"{text}" ends before it starts')
    return start, end


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass
class OpeningHours:
    """The organisation's opening rules, in its own time zone."""

    tz: ZoneInfo
    weekly: tuple[Range | None, ...] | None  # Monday first; None as a whole: always open
    closed_days: frozenset[date] = frozenset()
    special: dict[date, Range | None] = field(default_factory=dict)  # None: closed that date
    country: str | None = None
    _holidays: dict[int, frozenset[date]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, config: dict[str, Any], tz: str) -> OpeningHours:
        """Build from the Organisation.config dict the org file wrote (keys as in orgapply)."""
        hours = config.get("opening_hours")
        weekly = None
        if hours is not None:
            weekly = tuple(
                parse_range(hours[d]) if hours.get(d) else None for d in WEEKDAYS
            )
        special: dict[date, Range | None] = {}
        for day, value in (config.get("special_hours") or {}).items():
            special[_day(day)] = None if value == CLOSED else parse_range(value)
        return cls(
            tz=ZoneInfo(tz),
            weekly=weekly,
            closed_days=frozenset(_day(d) for d in config.get("closed_days") or ()),
            special=special,
            country=config.get("holidays") or None,
        )

    def is_holiday(self, day: date) -> bool:
        """Is this local date a public holiday of the organisation's country?"""
        if self.country is None:
            return False
        days = self._holidays.get(day.year)
        if days is None:
            # The holidays package computes a year on demand; keep it, the IVR asks every call.
            days = frozenset(holidays_lib.country_holidays(self.country, years=day.year).keys())
            self._holidays[day.year] = days
        return day in days

    def closed_reason(self, at: datetime) -> str | None:
        """Why it is closed now ("holiday", "closed_day", "outside_hours"), or None when open."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("opening hours need a time-zone-aware datetime")
        local = at.astimezone(self.tz)
        day = local.date()
        minute = local.hour * 60 + local.minute
        if day in self.special:
            span = self.special[day]
            if span is None:
                return "closed_day"
            return None if span[0] <= minute < span[1] else "outside_hours"
        if day in self.closed_days:
            return "closed_day"
        if self.is_holiday(day):
            return "holiday"
        if self.weekly is None:
            return None
        span = self.weekly[local.weekday()]
        if span is None or not span[0] <= minute < span[1]:
            return "outside_hours"
        return None

    def is_open(self, at: datetime) -> bool:
        """Open at this instant (at is tz-aware, any zone; compared in local wall-clock time)."""
        return self.closed_reason(at) is None

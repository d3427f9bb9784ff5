"""docs/calendars.md's rules as plain functions: which events block, what is all-day, notes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calendar_sync.protocol import RawEvent

ALL_DAY_FREE = "all_day_free"


@dataclass(frozen=True)
class Policy:
    """The organisation's `calendar_policy` (org file), with the contract's defaults."""

    tentative_blocks: bool = True
    all_day_free_blocks: bool = False
    block_keywords: tuple[str, ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_config(cls, cfg: Mapping[str, object] | None) -> Policy:
        """Build from the organisation's config["calendar_policy"] (missing keys: defaults)."""
        cfg = cfg or {}
        words = tuple(str(w) for w in (cfg.get("block_keywords") or []) if str(w).strip())  # type: ignore[attr-defined]
        pattern = None
        if words:
            # Whole words, case-insensitive: "kurs" matches "Kurs i Excel", not "Kursdag".
            alternatives = "|".join(re.escape(w.strip()) for w in words)
            pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return cls(
            tentative_blocks=bool(cfg.get("tentative_blocks", True)),
            all_day_free_blocks=bool(cfg.get("all_day_free_blocks", False)),
            block_keywords=words,
            _pattern=pattern,
        )

    def keyword_hit(self, subject: str | None) -> bool:
        """True when the subject contains one of block_keywords as a whole word."""
        return bool(subject and self._pattern and self._pattern.search(subject))


@dataclass(frozen=True)
class Interval:
    """What is stored for an agent: a span in UTC and the policy's verdict on it."""

    start: datetime
    end: datetime
    status: str
    all_day: bool
    blocks: bool
    note: str | None


def _local_midnight(d: date, tz: ZoneInfo) -> datetime:
    """The start of local day d, in UTC (23 or 25 hours long on DST days)."""
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    # A floating time (no TZID) is read in the organisation's time zone.
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _is_midnight(value: datetime, tz: ZoneInfo) -> bool:
    local = value.astimezone(tz)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def span(event: RawEvent, tz: ZoneInfo) -> tuple[datetime, datetime, bool] | None:
    """The event's span in UTC and whether it is all-day; None when it is empty."""
    start, end = event.start, event.end
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        # Date-valued (ICS VALUE=DATE): whole local days; DTEND is exclusive.
        d0 = start if not isinstance(start, datetime) else start.date()
        d1 = end if not isinstance(end, datetime) else end.date()
        if d1 <= d0:
            d1 = d0 + timedelta(days=1)
        return _local_midnight(d0, tz), _local_midnight(d1, tz), True
    start, end = _aware(start, tz), _aware(end, tz)
    if event.all_day:
        # Flagged all-day (X-MICROSOFT-CDO-ALLDAYEVENT) but written as date-times: the days
        # it names in its own zone become whole local days in ours.
        d0, d1 = start.date(), end.date()
        if end.time() != time(0):
            d1 += timedelta(days=1)
        if d1 <= d0:
            d1 = d0 + timedelta(days=1)
        return _local_midnight(d0, tz), _local_midnight(d1, tz), True
    s, e = start.astimezone(UTC), end.astimezone(UTC)
    if e <= s:
        return None
    # No flag from the source (EWS, Graph): local midnight to local midnight means all-day.
    all_day = event.all_day is None and _is_midnight(s, tz) and _is_midnight(e, tz)
    return s, e, all_day


def judge(event: RawEvent, all_day: bool, policy: Policy) -> tuple[bool, str | None]:
    """(blocks, note) for one event under the policy."""
    if event.cancelled:
        return False, None
    if policy.keyword_hit(event.subject):
        return True, None
    if event.status in ("busy", "oof"):
        return True, None
    if event.status == "tentative":
        return policy.tentative_blocks, None
    if event.status == "free" and all_day:
        if policy.all_day_free_blocks:
            return True, None
        return False, ALL_DAY_FREE
    return False, None  # free (timed) and workingElsewhere never block


def intervals(
    events: Iterable[RawEvent], policy: Policy, tz: ZoneInfo, window: tuple[datetime, datetime]
) -> list[Interval]:
    """The rows worth storing (those that block or carry a note) overlapping the window, sorted."""
    lo, hi = window
    out: set[Interval] = set()
    for ev in events:
        if ev.cancelled:
            continue
        sp = span(ev, tz)
        if sp is None:
            continue
        s, e, all_day = sp
        if e <= lo or s >= hi:
            continue
        blocks, note = judge(ev, all_day, policy)
        if blocks or note:
            out.add(Interval(s, e, ev.status, all_day, blocks, note))
    return sorted(out, key=lambda i: (i.start, i.end, i.status, i.blocks))

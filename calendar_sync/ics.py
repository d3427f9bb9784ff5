"""ICS feeds (Outlook "publish calendar" links, any ICS export, or a file) via icalendar and
recurring-ical-events, fetched again cheaply with ETag / If-Modified-Since."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx
import icalendar
import recurring_ical_events

from calendar_sync.protocol import MailboxResult, RawEvent, Status
from calendar_sync.vtimezone import own_zones

BUSYSTATUS: dict[str, Status] = {
    "BUSY": "busy",
    "OOF": "oof",
    "TENTATIVE": "tentative",
    "FREE": "free",
    "WORKINGELSEWHERE": "workingElsewhere",
}
PRIVATE_CLASSES = {"PRIVATE", "CONFIDENTIAL"}


REUSE_AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class _Parsed:
    digest: bytes
    start: datetime
    end: datetime
    events: list[RawEvent]


class FeedError(Exception):
    """The feed's server answered, but not with the calendar."""


@dataclass
class FeedState:
    """What we remember about one feed between passes, so an unchanged feed costs a 304."""

    etag: str | None = None
    last_modified: str | None = None
    body: bytes | None = None
    changed: bool = False  # set by a fetch that got new bytes (so the caller stores them)


def _text(component: icalendar.cal.Component, name: str) -> str | None:
    value = component.get(name)
    return None if value is None else str(value).strip()


def _status(event: icalendar.cal.Component) -> Status:
    busy = (_text(event, "X-MICROSOFT-CDO-BUSYSTATUS") or "").upper()
    if busy in BUSYSTATUS:
        return BUSYSTATUS[busy]
    if (_text(event, "TRANSP") or "").upper() == "TRANSPARENT":
        return "free"
    if (_text(event, "STATUS") or "").upper() == "TENTATIVE":
        return "tentative"
    return "busy"


def _end(event: icalendar.cal.Component, start: datetime | date) -> datetime | date:
    dtend: Any = event.get("DTEND")
    if dtend is not None:
        return dtend.dt  # type: ignore[no-any-return]
    duration: Any = event.get("DURATION")
    if duration is not None:
        return start + duration.dt  # type: ignore[no-any-return]
    # RFC 5545 3.6.1: no end means one day for a date, zero length for a date-time.
    return start + timedelta(days=1) if not isinstance(start, datetime) else start


def parse_ics(body: bytes | str, start: datetime, end: datetime) -> list[RawEvent]:
    """Every event occurrence overlapping [start, end), expanded; raises ValueError if broken."""
    # Each feed's VTIMEZONEs govern its own events, whatever other feeds (parsed before or in
    # other threads) define under the same TZID: see calendar_sync/vtimezone.py.
    cal = icalendar.Calendar.from_ical(own_zones(body))
    if cal.name != "VCALENDAR":
        raise ValueError("not a VCALENDAR")
    # A day of slack each side: date-valued events are placed in local days by the policy.
    query = recurring_ical_events.of(cal, skip_bad_series=True)
    out: list[RawEvent] = []
    for ev in query.between(start - timedelta(days=1), end + timedelta(days=1)):
        if ev.name != "VEVENT" or ev.get("DTSTART") is None:
            continue
        s = ev["DTSTART"].dt
        flag = (_text(ev, "X-MICROSOFT-CDO-ALLDAYEVENT") or "").upper() == "TRUE"
        private = (_text(ev, "CLASS") or "").upper() in PRIVATE_CLASSES
        out.append(
            RawEvent(
                start=s,
                end=_end(ev, s),
                status=_status(ev),
                all_day=flag or not isinstance(s, datetime),
                subject=None if private else _text(ev, "SUMMARY"),
                cancelled=(_text(ev, "STATUS") or "").upper() == "CANCELLED",
            )
        )
    return out


def _is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _file_path(url: str) -> Path:
    if url.lower().startswith("file://"):
        return Path(unquote(urlparse(url).path))
    return Path(url)


class IcsSource:
    """ICS feeds by URL or path; `states` carries ETags and cached bodies between passes."""

    kind = "ics"

    def __init__(self, states: dict[str, FeedState] | None = None,
                 client: httpx.Client | None = None, workers: int = 8) -> None:
        self.states: dict[str, FeedState] = states if states is not None else {}
        self._client = client or httpx.Client(timeout=20.0, follow_redirects=True)
        self._workers = workers
        # Expanding a large feed costs tens of milliseconds, and most feeds do not change from
        # one minute to the next: keep each feed's expansion over a range a day longer than
        # the window, and expand again only when the bytes change or the window leaves it.
        self._parsed: dict[str, _Parsed] = {}
        self.expansions = 0  # how many times a feed was parsed and expanded (for tests)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()

    def _read(self, url: str) -> bytes:
        state = self.states.setdefault(url, FeedState())
        if not _is_http(url):
            data = _file_path(url).read_bytes()
            state.changed = data != state.body
            state.body = data
            return data
        headers: dict[str, str] = {}
        if state.body is not None:  # ask for a 304 only when we can reuse what we have
            if state.etag:
                headers["If-None-Match"] = state.etag
            if state.last_modified:
                headers["If-Modified-Since"] = state.last_modified
        resp = self._client.get(url, headers=headers)
        if resp.status_code == 304 and state.body is not None:
            state.changed = False
            return state.body
        if resp.status_code != 200:
            # No URL in the message: publish links carry a secret token.
            raise FeedError(f"HTTP {resp.status_code}")
        state.etag = resp.headers.get("ETag")
        state.last_modified = resp.headers.get("Last-Modified")
        # Servers without ETag answer 200 every time; store the body again only if it changed.
        state.changed = resp.content != state.body
        state.body = resp.content
        return resp.content

    def _one(self, url: str, start: datetime, end: datetime) -> MailboxResult:
        try:
            body = self._read(url)
        except httpx.HTTPError as exc:
            return MailboxResult(error=f"unreachable: {type(exc).__name__}")
        except FeedError as exc:
            return MailboxResult(error=str(exc))
        except OSError as exc:  # a file source; its path is not repeated (it may name a person)
            return MailboxResult(error=f"file not readable: {type(exc).__name__}")
        digest = hashlib.sha256(body).digest()
        cached = self._parsed.get(url)
        if cached and cached.digest == digest and cached.start <= start and end <= cached.end:
            return MailboxResult(events=cached.events)
        try:
            events = parse_ics(body, start, end + REUSE_AHEAD)
        except Exception as exc:  # icalendar raises ValueError and friends on broken input
            self._parsed.pop(url, None)
            return MailboxResult(error=f"malformed ICS: {type(exc).__name__}")
        self.expansions += 1
        self._parsed[url] = _Parsed(digest, start, end + REUSE_AHEAD, events)
        return MailboxResult(events=events)

    def fetch(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, MailboxResult]:
        """Read each feed (in parallel threads: they are independent servers)."""
        urls = list(dict.fromkeys(mailboxes))
        for url in urls:
            self.states.setdefault(url, FeedState())
        for gone in set(self._parsed) - set(urls):
            del self._parsed[gone]
        with ThreadPoolExecutor(max_workers=max(1, min(self._workers, len(urls)))) as pool:
            results = list(pool.map(lambda u: self._one(u, start, end), urls))
        return dict(zip(urls, results, strict=True))

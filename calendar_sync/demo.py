"""Demo calendars, written the way Outlook publishes them: `python -m calendar_sync.demo DIR`.

ole.hansen has a meeting now, kari.nordmann an all-day Busy event today, and per.olsen an
all-day Free "Hjemmekontor" today (noted in presence, not blocking). Dates are relative to
today in Europe/Oslo, so the demo shows the same thing whenever it runs.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
WINDOWS_TZ = "W. Europe Standard Time"
# The VTIMEZONE block Outlook writes for Central European time.
VTIMEZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE"""


def _local(dt: datetime) -> str:
    return dt.astimezone(OSLO).strftime("%Y%m%dT%H%M%S")


def vevent(summary: str, start: datetime | date, end: datetime | date, *,
           busystatus: str | None = "BUSY", transp: str | None = None,
           extra: list[str] | None = None, uid: str | None = None,
           tzid: str = WINDOWS_TZ) -> str:
    """One Outlook-style VEVENT: timed events in a Windows TZID, all-day ones as VALUE=DATE."""
    lines = ["BEGIN:VEVENT", f"UID:{uid or uuid.uuid4().hex}", f"SUMMARY:{summary}",
             "DTSTAMP:20260101T000000Z"]
    if isinstance(start, datetime) and isinstance(end, datetime):
        lines += [f"DTSTART;TZID={tzid}:{_local(start)}", f"DTEND;TZID={tzid}:{_local(end)}",
                  "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE"]
    else:
        lines += [f"DTSTART;VALUE=DATE:{start:%Y%m%d}", f"DTEND;VALUE=DATE:{end:%Y%m%d}",
                  "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE"]
    if transp or busystatus:
        lines.append(f"TRANSP:{transp or ('TRANSPARENT' if busystatus == 'FREE' else 'OPAQUE')}")
    if busystatus:
        lines.append(f"X-MICROSOFT-CDO-BUSYSTATUS:{busystatus}")
    lines += extra or []
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


def vcalendar(*events: str, vtimezone: bool = True) -> str:
    """A published Exchange calendar around the given VEVENTs (CRLF, as Outlook writes)."""
    head = ["BEGIN:VCALENDAR", "METHOD:PUBLISH", "PRODID:Microsoft Exchange Server 2010",
            "VERSION:2.0", "X-WR-CALNAME:Kalender"]
    body = head + ([VTIMEZONE.replace("\n", "\r\n")] if vtimezone else []) + list(events)
    return "\r\n".join(body + ["END:VCALENDAR"]) + "\r\n"


def write_demo(directory: Path, now: datetime) -> list[Path]:
    """Write the three demo agents' calendars into directory; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    today = now.astimezone(OSLO).date()
    tomorrow = today + timedelta(days=1)
    meeting_start = now.replace(second=0, microsecond=0) - timedelta(minutes=30)
    files = {
        "ole.hansen.ics": vcalendar(vevent("Styremøte", meeting_start,
                                           meeting_start + timedelta(hours=2), uid="demo-ole")),
        "kari.nordmann.ics": vcalendar(vevent("Tariffkonferanse", today, tomorrow,
                                              uid="demo-kari")),
        "per.olsen.ics": vcalendar(vevent("Hjemmekontor", today, tomorrow, busystatus="FREE",
                                          uid="demo-per")),
    }
    paths = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8", newline="")
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    """Entry point: write the demo calendars into argv[0]."""
    if len(argv) != 1:
        print("usage: python -m calendar_sync.demo DIR", file=sys.stderr)
        return 2
    for path in write_demo(Path(argv[0]), datetime.now(UTC)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`switchboard presence`: everyone's presence, read from the database (docs/cli.md#presence).

It reads the database the other verbs use (SWITCHBOARD_DATABASE_URL from the environment or
`.env`), so it works in a fresh terminal with no server running and no token to pass; the
figures are the ones GET /api/presence gives (the same `routing.presence.presence`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from routing.presence import presence
from routing.snapshot import load_snapshot

HEADERS = ("AGENT", "NAME", "STATE", "REASONS", "BUSY UNTIL", "NOTES")


def read_presence(engine: Engine, *, now: datetime, default_tz: str,
                  always_open: bool) -> tuple[list[dict[str, Any]], str]:
    """(presence as GET /api/presence gives it, the organisation's time zone)."""
    with engine.connect() as conn:
        snap = load_snapshot(conn, default_tz=default_tz, always_open=always_open)
        return presence(conn, snap, now=now), snap.timezone


def _local(iso: str | None, tz: str) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def presence_table(rows: Sequence[dict[str, Any]], *, tz: str) -> str:
    """One line per agent under a header, in columns; times in the organisation's zone."""
    if not rows:
        return "no agents (apply an org file first: switchboard org apply FILE)"
    lines = [HEADERS] + [(
        r["id"], r["name"], r["state"], ",".join(r["reasons"]) or "-",
        _local(r.get("busy_until"), tz), ",".join(r["notes"]) or "-",
    ) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                     .rstrip() for line in lines)

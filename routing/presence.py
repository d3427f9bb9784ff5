"""Presence read-out (docs/http-api.md#presence): who is offerable now, and every reason why not."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from routing.decide import REASON_ORDER, reasons
from routing.models import Agent
from routing.snapshot import OrgSnapshot
from routing.state import load_states

STALE_AFTER = timedelta(minutes=15)


def presence(conn: Connection, snap: OrgSnapshot, *, now: datetime) -> list[dict[str, Any]]:
    """One object per active agent, in the file's order."""
    states = load_states(conn, None, now=now, tz=snap.timezone)
    table = Agent.__table__  # type: ignore[attr-defined]
    stops: dict[str, str | None] = dict(conn.execute(select(table.c.id, table.c.stop_reason)).all())
    # Everyone's reason, return date and stop reason, for colleagues to see (docs/admin.md).
    status = {r.id: r for r in conn.execute(
        select(table.c.id, table.c.logout_reason, table.c.back_on, table.c.stop_reason))}
    open_now = snap.closed_reason(now) is None
    out: list[dict[str, Any]] = []
    for agent in sorted(snap.agents.values(), key=lambda a: a.position):
        st = states.get(agent.id)
        if st is None or not agent.active:
            continue
        until = snap.busy.busy_until(agent.id, now)
        why = reasons(st, now=now, open_now=open_now, busy=until is not None)
        why.sort(key=REASON_ORDER.index)
        notes = list(snap.busy.notes(agent.id, now))
        if agent.has_calendar:
            last = snap.busy.last_success.get(agent.id)
            if last is None or now - last > STALE_AFTER:
                notes.append("calendar_stale")
        item: dict[str, Any] = {
            "id": agent.id, "name": agent.name, "offerable": not why,
            "state": why[0] if why else "available", "reasons": why,
            "busy_until": until.isoformat() if until else None, "notes": notes,
        }
        extra = status.get(agent.id)
        item["logout_reason"] = extra.logout_reason if extra is not None and not st.logged_in \
            else None
        item["back_on"] = extra.back_on.isoformat() if extra is not None and extra.back_on \
            and not st.logged_in else None
        item["stop_reason"] = stops.get(agent.id) if st.routing_stop else None
        out.append(item)
    return out

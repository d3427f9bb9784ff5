"""The statistics' two read-outs: the loops now (wallboard, /api/stats/loops) and a report for
a day, week or month (/reports, /api/stats/report), both from the stored call records."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Connection

from console.stats import (
    buckets,
    period_bounds,
    series,
    tally,
)
from console.stats_load import load_calls, load_waiting, loop_confs
from routing.decide import REASON_ORDER
from routing.presence import presence
from routing.snapshot import OrgSnapshot


def today_bounds(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the organisation's local day that holds `now`."""
    from zoneinfo import ZoneInfo

    return period_bounds("day", now.astimezone(ZoneInfo(tz)).date(), tz)


def loops_now(conn: Connection, snap: OrgSnapshot, *, now: datetime) -> dict[str, Any]:
    """Per active loop: waiting now, longest wait, answered and abandoned today, service level,
    and who can take its calls; per agent: answered today and talk time; plus presence."""
    loops = loop_confs(conn, snap)
    start, end = today_bounds(now, snap.timezone)
    t = tally(load_calls(conn, start, end), {lp.id: lp.service_level_seconds for lp in loops},
              now=now)
    waiting = load_waiting(conn, loops, now=now)
    people = presence(conn, snap, now=now)
    by_id = {p["id"]: p for p in people}
    out_loops = []
    for lp in loops:
        if not lp.active:
            continue
        here = [w for w in waiting if w.loop_id == lp.id]
        fig = t.loops.get(lp.id)
        members = [by_id[m] for m in lp.members if m in by_id]
        not_offerable = Counter(p["state"] for p in members if not p["offerable"])
        out_loops.append({
            "id": lp.id, "name": lp.name,
            "waiting": len(here),
            "longest_wait_s": round(max(((now - w.entered).total_seconds() for w in here),
                                        default=0.0), 1),
            "answered_today": fig.answered if fig else 0,
            "abandoned_today": fig.abandoned if fig else 0,
            "service_level": fig.service_level if fig else None,
            "service_level_seconds": lp.service_level_seconds,
            "offerable": sum(1 for p in members if p["offerable"]),
            "not_offerable": {r: not_offerable[r] for r in REASON_ORDER if not_offerable[r]},
            "members": [p["id"] for p in members],
        })
    agents = []
    for p in people:
        fig = t.agents.get(p["id"])
        agents.append({**p, "answered_today": fig.answered if fig else 0,
                       "talk_today_s": round(sum(fig.talks), 1) if fig else 0.0})
    everyone = Counter(p["state"] for p in people if not p["offerable"])
    return {
        "at": now.isoformat(), "timezone": snap.timezone, "loops": out_loops, "agents": agents,
        "offerable": sum(1 for p in people if p["offerable"]),
        "not_offerable": {r: everyone[r] for r in REASON_ORDER if everyone[r]},
    }


def report(conn: Connection, snap: OrgSnapshot, *, period: str, day: date,
           now: datetime) -> dict[str, Any]:
    """Per loop and per agent over the day, ISO week or month that holds `day`."""
    start, end = period_bounds(period, day, snap.timezone)
    loops = loop_confs(conn, snap)
    calls = load_calls(conn, start, end)
    t = tally(calls, {lp.id: lp.service_level_seconds for lp in loops}, now=now)
    loop_rows = []
    for lp in loops:
        fig = t.loops.get(lp.id)
        if fig is None and not lp.active:
            continue  # a removed loop shows only where it had calls
        loop_rows.append({"id": lp.id, "name": lp.name,
                          "service_level_seconds": lp.service_level_seconds,
                          **(fig.as_dict() if fig else _empty())})
    names = {a.id: a.name for a in snap.agents.values()}
    order = sorted(snap.agents.values(), key=lambda a: a.position)
    agent_rows = []
    for a in order:
        fig = t.agents.get(a.id)
        if fig is None and not a.active:
            continue
        agent_rows.append({"id": a.id, "name": a.name, **(fig.as_dict() if fig else _empty())})
    for aid, fig in t.agents.items():  # an agent no longer in the configuration at all
        if aid not in names:
            agent_rows.append({"id": aid, "name": aid, **fig.as_dict()})
    return {
        "period": period, "date": day.isoformat(), "timezone": snap.timezone,
        "start": start.isoformat(), "end": end.isoformat(),
        "hours": round((end - start).total_seconds() / 3600, 2),
        "calls": t.calls, "total": t.total.as_dict(), "loops": loop_rows, "agents": agent_rows,
        "series": series(calls, buckets(period, start, end, snap.timezone)),
    }


def _empty() -> dict[str, Any]:
    from console.stats import Figures

    return Figures().as_dict()


CSV_FIELDS = ("offered", "answered", "abandoned", "abandoned_short", "abandon_avg_s",
              "abandon_max_s", "overflowed", "voicemail", "callbacks", "service_level",
              "wait_avg_s", "wait_max_s", "answer_avg_s", "talk_s", "talk_avg_s")


def report_csv(rep: dict[str, Any]) -> str:
    """The report as CSV: one row per loop, per agent, and the total."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(("period", "date", "kind", "id", "name", *CSV_FIELDS))
    head = (rep["period"], rep["date"])

    def cell(v: Any) -> Any:
        return "" if v is None else v

    def text(v: str) -> str:
        # A spreadsheet runs a cell that starts with these as a formula (CSV injection).
        return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v

    for kind, rows in (("loop", rep["loops"]), ("agent", rep["agents"])):
        for r in rows:
            w.writerow((*head, kind, text(r["id"]), text(r["name"]),
                        *(cell(r[f]) for f in CSV_FIELDS)))
    w.writerow((*head, "total", "", "", *(cell(rep["total"][f]) for f in CSV_FIELDS)))
    return buf.getvalue()

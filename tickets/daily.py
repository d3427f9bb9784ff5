"""The daily look (docs/tickets.md#the-daily-look), and who has looked at which list.

Every working day, from the organisation's opening time (its `opening_hours` for that day, in
its time zone; 08:00 when it has none), each department's people (its `members` with a work
address, and its inbox) get one mail: how many tickets are open, due today, overdue, and how
many callbacks wait, with links to the list. No ticket text, no member data. A `daily_look`
row per department and date is written in the same transaction as the mails, and only by the
pass that inserted it, so the mail goes once a day even with several server processes.

Opening a department's /tickets list writes a `department_view` row; the wallboard flags a
department nobody has opened since the start of the last working day before today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from routing.hours import WEEKDAYS, parse_range
from routing.models import Agent, Organisation
from tickets import mail
from tickets.departments import departments, work_calendar
from tickets.models import DailyLook, DepartmentView, Ticket
from tickets.workdays import MAX_SCAN_DAYS, WorkCalendar, is_working_day

TICKET = Ticket.__table__  # type: ignore[attr-defined]
DAILY = DailyLook.__table__  # type: ignore[attr-defined]
VIEW = DepartmentView.__table__  # type: ignore[attr-defined]
AGENT = Agent.__table__  # type: ignore[attr-defined]
ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
DEFAULT_OPENING = time(8, 0)
VIEW_EVERY = timedelta(minutes=15)  # one row per agent and list per quarter hour is enough


def opening_time(config: dict[str, Any], day: date) -> time | None:
    """When the organisation opens on `day` (its special hours, else its week), None: closed."""
    special = (config.get("special_hours") or {}).get(day.isoformat())
    if special is not None:
        return None if special == "closed" else _minutes(parse_range(special)[0])
    hours = config.get("opening_hours")
    if hours is None:
        return DEFAULT_OPENING  # always open: the morning mail goes at 08:00
    span = hours.get(WEEKDAYS[day.weekday()])
    return _minutes(parse_range(span)[0]) if span else None


def _minutes(m: int) -> time:
    return time(m // 60, m % 60)


def _local_day_bounds(day: date, cal: WorkCalendar) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=cal.zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=cal.zone).astimezone(UTC)
    return start, end


def counts(conn: Connection, department_id: str, *, now: datetime,
           cal: WorkCalendar) -> dict[str, int]:
    """A department's list in numbers: open, due today, overdue, callbacks waiting."""
    start, end = _local_day_bounds(now.astimezone(cal.zone).date(), cal)
    not_done = and_(TICKET.c.department_id == department_id, TICKET.c.status != "done")

    def n(*where: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(TICKET)
                                .where(not_done, *where)).scalar_one())

    return {
        "open": n(),
        # Due today: a deadline falling later today, or at the midnight that ends today.
        "due_today": n(TICKET.c.due_at > now, TICKET.c.due_at <= end),
        "overdue": n(TICKET.c.due_at <= now),
        "callbacks": n(TICKET.c.kind == "callback", TICKET.c.owner.is_(None)),
    }


def recipients(conn: Connection, department: dict[str, Any]) -> list[str]:
    """The department's inbox and its members' work addresses, each once."""
    members = list(department.get("members") or [])
    found = [department["email"]]
    if members:
        rows = conn.execute(select(AGENT.c.id, AGENT.c.email).where(
            AGENT.c.id.in_(members), AGENT.c.active.is_(True))).all()
        emails = {r.id: r.email for r in rows}
        found += [emails[m] for m in members if emails.get(m)]
    return list(dict.fromkeys(found))


def _body(department: dict[str, Any], c: dict[str, int], day: date) -> str:
    link = f"{mail.LINK_BASE}/tickets?department={department['id']}"
    return (f"God morgen! Saker i {department['name']} {day:%d.%m.%Y}:\n\n"
            f"Åpne saker: {c['open']}\n"
            f"Frist i dag: {c['due_today']}\n"
            f"Over fristen: {c['overdue']}\n"
            f"Tilbakeringinger som venter: {c['callbacks']}\n\n"
            f"Avdelingens liste: {link}\n"
            f"Ufordelte saker: {link}&owner=none\n")


def _claim_day(conn: Connection, department_id: str, day: date, now: datetime) -> bool:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(DAILY).values(department_id=department_id, day=day, at=now,
                                        recipients=0).on_conflict_do_nothing(
        index_elements=["department_id", "day"]).returning(DAILY.c.department_id)
    # RETURNING, not rowcount: the drivers disagree on rowcount for ON CONFLICT DO NOTHING.
    return conn.execute(stmt).first() is not None


def due_now(conn: Connection, *, now: datetime) -> date | None:
    """Today's local date when the morning mail is due (a working day, past opening), else None."""
    cal = work_calendar(conn)
    local = now.astimezone(cal.zone)
    day = local.date()
    if not is_working_day(day, cal):
        return None
    config = conn.execute(select(ORGANISATION.c.config)).scalar() or {}
    opens = opening_time(config, day)
    if opens is None or local.time() < opens:
        return None
    return day


def run_daily(engine: Engine, *, now: datetime) -> list[str]:
    """Send today's morning mail to each department not yet mailed today; the ids mailed."""
    with engine.connect() as conn:
        day = due_now(conn, now=now)
        depts = departments(conn) if day is not None else []
    sent = []
    for dept in depts:
        assert day is not None
        with engine.begin() as conn:  # one department per transaction: one failure, one retry
            if not _claim_day(conn, dept["id"], day, now):
                continue
            cal = work_calendar(conn)
            c = counts(conn, dept["id"], now=now, cal=cal)
            to = recipients(conn, dept)
            for address in to:
                mail.enqueue(conn, to=address, now=now, body=_body(dept, c, day),
                             subject=f"Dagens saker i {dept['name']}: {c['open']} åpne, "
                                     f"{c['overdue']} over fristen")
            conn.execute(update(DAILY).where(DAILY.c.department_id == dept["id"],
                                             DAILY.c.day == day).values(recipients=len(to)))
        sent.append(dept["id"])
    return sent


def record_view(conn: Connection, *, department_id: str, agent_id: str | None,
                now: datetime) -> bool:
    """Note that someone opened a department's list (at most once per agent a quarter hour)."""
    recent = conn.execute(select(VIEW.c.id).where(
        VIEW.c.department_id == department_id, VIEW.c.agent_id == agent_id,
        VIEW.c.at > now - VIEW_EVERY).limit(1)).first()
    if recent is not None:
        return False
    conn.execute(insert(VIEW).values(department_id=department_id, agent_id=agent_id, at=now))
    return True


def previous_working_day(day: date, cal: WorkCalendar) -> date:
    """The last working day strictly before `day`."""
    for _ in range(MAX_SCAN_DAYS):
        day -= timedelta(days=1)
        if is_working_day(day, cal):
            return day
    raise ValueError("no working day within ten years: check working_days and closed_days")


def unwatched(conn: Connection, *, now: datetime) -> set[str]:
    """Departments whose list nobody opened since the start of the last working day."""
    cal = work_calendar(conn)
    since, _ = _local_day_bounds(previous_working_day(now.astimezone(cal.zone).date(), cal), cal)
    seen = set(conn.execute(select(VIEW.c.department_id).where(VIEW.c.at >= since)
                            .distinct()).scalars())
    return {d["id"] for d in departments(conn)} - seen


def board(conn: Connection, *, now: datetime) -> list[dict[str, Any]]:
    """The wallboard's departments: open, overdue, escalated, and whether nobody looked."""
    cal = work_calendar(conn)
    quiet = unwatched(conn, now=now)
    out = []
    for d in departments(conn):
        c = counts(conn, d["id"], now=now, cal=cal)
        escalated = int(conn.execute(select(func.count()).select_from(TICKET).where(
            TICKET.c.department_id == d["id"], TICKET.c.status != "done",
            TICKET.c.escalated_at.is_not(None))).scalar_one())
        out.append({"id": d["id"], "name": d["name"], "open": c["open"],
                    "overdue": c["overdue"], "escalated": escalated,
                    "unwatched": d["id"] in quiet})
    return out

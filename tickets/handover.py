"""Absence handover (docs/tickets.md#absence-handover): an agent's open work goes to their cover.

When an agent logs out (any reason), every ticket they own that is not done (messages,
callbacks, the phone and letter tasks promises and callbacks make, all of which are tickets)
moves to their cover: the one chosen at logout, else `cover:` in the org file, else nobody
(back to the department's unassigned list). One `handover` row is the note listing what
moved; each moved ticket gets a `handover` entry in its history. The cover gets a mail (no
member data) and confirms on the desk; one who has not confirmed within
`tickets.handover_confirm_hours` is escalated to the departments' escalation addresses. Back
again, the agent sees the note and can take each item back.

Every function takes a `Connection` inside the caller's transaction: the logout and its
handover commit together, or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from routing.models import Agent
from tickets import mail
from tickets.claims import ticket_rules
from tickets.departments import department_of_agent, department_row
from tickets.models import Handover, Ticket
from tickets.service import add_event

log = logging.getLogger("switchboard.tickets.handover")
TICKET = Ticket.__table__  # type: ignore[attr-defined]
HANDOVER = Handover.__table__  # type: ignore[attr-defined]
AGENT = Agent.__table__  # type: ignore[attr-defined]
JOB_EVERY = 60.0


class HandoverError(Exception):
    """A refused handover step, naming the field (422), or not yours (403 via `forbidden`)."""

    def __init__(self, field: str, message: str, *, forbidden: bool = False) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.forbidden = field, message, forbidden


def _agent(conn: Connection, agent_id: str | None) -> dict[str, Any] | None:
    if not agent_id:
        return None
    row = conn.execute(select(AGENT.c.id, AGENT.c.name, AGENT.c.email, AGENT.c.cover)
                       .where(AGENT.c.id == agent_id, AGENT.c.active.is_(True))).first()
    return dict(row._mapping) if row else None


def check_cover(conn: Connection, agent_id: str, cover: str | None) -> None:
    """HandoverError naming `cover` when a cover chosen at logout is not another agent."""
    if cover is None:
        return
    if cover == agent_id:
        raise HandoverError("cover", "an agent cannot be their own cover")
    if _agent(conn, cover) is None:
        raise HandoverError("cover", f'agent "{cover}" does not exist')


def cover_of(conn: Connection, agent_id: str, chosen: str | None = None) -> str | None:
    """Who takes the agent's work: the one chosen at logout, else the org file's cover."""
    if chosen:
        return chosen
    me = _agent(conn, agent_id)
    named = me["cover"] if me else None
    return named if named and named != agent_id and _agent(conn, named) else None


def hand_over(conn: Connection, *, agent_id: str, cover: str | None, reason: str | None,
              now: datetime) -> int | None:
    """Move the agent's open tickets to `cover` (None: the unassigned lists); the note's id.

    Nothing open: no note. Each move is a conditional UPDATE on the owner, so a ticket someone
    else took in between stays theirs.
    """
    to = cover_of(conn, agent_id, cover)
    rows = conn.execute(select(TICKET.c.id, TICKET.c.kind, TICKET.c.status,
                               TICKET.c.department_id)
                        .where(TICKET.c.owner == agent_id, TICKET.c.status != "done")
                        .order_by(TICKET.c.due_at.is_(None), TICKET.c.due_at, TICKET.c.id)).all()
    items: list[dict[str, Any]] = []
    for r in rows:
        values: dict[str, Any] = {"owner": to, "version": TICKET.c.version + 1,
                                  "updated_at": now}
        if to is None and r.status == "in_progress":
            values["status"] = "open"  # back on the list, so anyone may claim it
        moved = conn.execute(update(TICKET).where(TICKET.c.id == r.id,
                                                  TICKET.c.owner == agent_id).values(**values))
        if moved.rowcount == 1:
            items.append({"id": r.id, "kind": r.kind, "status": r.status,
                          "department": r.department_id})
    if not items:
        return None
    handover_id = int(conn.execute(HANDOVER.insert().values(
        from_agent=agent_id, to_agent=to, at=now, reason=reason, items=items,
    ).returning(HANDOVER.c.id)).scalar_one())
    for item in items:
        add_event(conn, ticket_id=item["id"], at=now, actor=agent_id, kind="handover",
                  old=agent_id, new=to, note=f"overlevering #{handover_id}")
    _notify(conn, handover_id=handover_id, agent_id=agent_id, to=to, items=items, now=now)
    return handover_id


def _links(items: list[dict[str, Any]]) -> str:
    return "".join(f"- sak #{i['id']} ({i['kind']}): {mail.LINK_BASE}/tickets/{i['id']}\n"
                   for i in items)


def _notify(conn: Connection, *, handover_id: int, agent_id: str, to: str | None,
            items: list[dict[str, Any]], now: datetime) -> None:
    """The cover's mail (or, with no cover, each department inbox's): numbers and links only."""
    me = _agent(conn, agent_id)
    who = me["name"] if me else agent_id
    cover = _agent(conn, to)
    if cover is not None:
        if cover["email"]:
            mail.enqueue(conn, to=cover["email"], now=now,
                         subject=f"Overlevering #{handover_id}: {len(items)} saker fra {who}",
                         body=(f"{who} er borte, og {len(items)} åpne saker er overlevert til "
                               f"deg:\n\n{_links(items)}\nBekreft mottak på skrivebordet: "
                               f"{mail.LINK_BASE}/desk\n"))
        return
    for dept_id in sorted({i["department"] for i in items if i["department"]}):
        dept = department_row(conn, dept_id)
        if dept is None:
            continue
        mine = [i for i in items if i["department"] == dept_id]
        mail.enqueue(conn, to=dept["email"], now=now,
                     subject=f"Overlevering #{handover_id}: {len(mine)} saker tilbake på listen",
                     body=(f"{who} er borte uten navngitt stedfortreder. Disse sakene er "
                           f"tilbake på avdelingens liste uten eier:\n\n{_links(mine)}"))


def confirm(conn: Connection, *, handover_id: int, agent_id: str, now: datetime) -> bool:
    """The cover confirms receipt; True when this call confirmed it (False: already done)."""
    row = conn.execute(select(HANDOVER).where(HANDOVER.c.id == handover_id)).first()
    if row is None:
        raise HandoverError("handover", "no such handover")
    if row.to_agent != agent_id:
        raise HandoverError("handover", "only the cover can confirm it", forbidden=True)
    done = conn.execute(update(HANDOVER).where(HANDOVER.c.id == handover_id,
                                               HANDOVER.c.confirmed_at.is_(None))
                        .values(confirmed_at=now))
    return done.rowcount == 1


def take_back(conn: Connection, *, handover_id: int, agent_id: str, ticket_id: int | None,
              now: datetime) -> list[int]:
    """The returning agent takes items back (one, or all with ticket_id None); the ids taken.

    An item is taken back only while it is not done and still with the cover (or unowned):
    work the cover passed on or finished stays where it is.
    """
    row = conn.execute(select(HANDOVER).where(HANDOVER.c.id == handover_id)).first()
    if row is None:
        raise HandoverError("handover", "no such handover")
    if row.from_agent != agent_id:
        raise HandoverError("handover", "only the agent who handed it over can take it back",
                            forbidden=True)
    items = [dict(i) for i in row.items]
    wanted = [i for i in items if not i.get("returned_at")
              and (ticket_id is None or i["id"] == ticket_id)]
    if ticket_id is not None and not wanted:
        raise HandoverError("ticket_id", f"ticket #{ticket_id} is not waiting in this handover")
    taken = []
    for item in wanted:
        holder = TICKET.c.owner.is_(None) if row.to_agent is None else (
            (TICKET.c.owner == row.to_agent) | TICKET.c.owner.is_(None))
        moved = conn.execute(update(TICKET).where(
            TICKET.c.id == item["id"], TICKET.c.status != "done", holder,
        ).values(owner=agent_id, version=TICKET.c.version + 1, updated_at=now))
        item["returned_at"] = now.astimezone(UTC).isoformat()
        item["returned"] = moved.rowcount == 1
        if moved.rowcount == 1:
            taken.append(item["id"])
            add_event(conn, ticket_id=item["id"], at=now, actor=agent_id, kind="owner",
                      old=row.to_agent, new=agent_id, note=f"tatt tilbake, #{handover_id}")
    conn.execute(update(HANDOVER).where(HANDOVER.c.id == handover_id).values(items=items))
    return taken


def escalate_due(conn: Connection, *, now: datetime) -> list[int]:
    """Escalate handovers their cover has not confirmed in time; the ids escalated now.

    The mark (escalated_at) is set by a conditional UPDATE first, so a pass in another server
    process never mails twice.
    """
    hours = ticket_rules(conn)["handover_confirm_hours"]
    rows = conn.execute(select(HANDOVER).where(
        HANDOVER.c.confirmed_at.is_(None), HANDOVER.c.escalated_at.is_(None),
        HANDOVER.c.to_agent.is_not(None), HANDOVER.c.at <= now - timedelta(hours=hours),
    ).order_by(HANDOVER.c.id)).all()
    out = []
    for row in rows:
        marked = conn.execute(update(HANDOVER).where(
            HANDOVER.c.id == row.id, HANDOVER.c.escalated_at.is_(None),
            HANDOVER.c.confirmed_at.is_(None)).values(escalated_at=now))
        if marked.rowcount != 1:
            continue
        out.append(row.id)
        for item in row.items:
            add_event(conn, ticket_id=item["id"], at=now, actor=None,
                      kind="handover_escalated", new=row.to_agent,
                      note=f"overlevering #{row.id} ikke bekreftet")
        for address in _escalation_addresses(conn, row):
            cover = _agent(conn, row.to_agent)
            mail.enqueue(conn, to=address, now=now,
                         subject=f"Overlevering #{row.id} er ikke bekreftet",
                         body=(f"{len(row.items)} saker ble overlevert til "
                               f"{cover['name'] if cover else row.to_agent}, som ikke har "
                               f"bekreftet mottak etter {hours} timer.\n\n{_links(row.items)}"))
    return out


def _escalation_addresses(conn: Connection, row: Any) -> list[str]:
    """The escalation contacts of the items' departments and of the absent agent's own."""
    ids = {i.get("department") for i in row.items} - {None}
    home = department_of_agent(conn, row.from_agent)
    if home is not None:
        ids.add(home["id"])
    found = (department_row(conn, d) for d in sorted(ids))
    return sorted({d["escalation"] for d in found if d and d.get("escalation")})


def for_desk(conn: Connection, agent_id: str) -> dict[str, list[dict[str, Any]]]:
    """The desk panel: handovers waiting for my confirmation, and my own with items to take."""
    incoming = [dict(r._mapping) for r in conn.execute(
        select(HANDOVER).where(HANDOVER.c.to_agent == agent_id,
                               HANDOVER.c.confirmed_at.is_(None)).order_by(HANDOVER.c.at))]
    mine = []
    for r in conn.execute(select(HANDOVER).where(HANDOVER.c.from_agent == agent_id)
                          .order_by(HANDOVER.c.at.desc()).limit(20)):
        waiting = [i for i in r.items if not i.get("returned_at")]
        if not waiting:
            continue
        open_ids = set(conn.execute(select(TICKET.c.id).where(
            TICKET.c.id.in_([i["id"] for i in waiting]), TICKET.c.status != "done")).scalars())
        waiting = [i for i in waiting if i["id"] in open_ids]
        if waiting:
            mine.append(dict(r._mapping) | {"waiting": waiting})
    names = {a.id: a.name for a in conn.execute(select(AGENT.c.id, AGENT.c.name))}
    for h in incoming + mine:
        h["from_name"] = names.get(h["from_agent"], h["from_agent"])
        h["to_name"] = names.get(h["to_agent"], h["to_agent"]) if h["to_agent"] else None
    return {"incoming": incoming, "mine": mine}


def run_escalations(engine: Engine, *, now: datetime) -> list[int]:
    """One pass of the job in its own transaction."""
    with engine.begin() as conn:
        return escalate_due(conn, now=now)


def handover_job(engine: Engine, clock: Callable[[], datetime],
                 every: float = JOB_EVERY) -> Callable[[], Any]:
    """The background job (for app.state.jobs): escalate unconfirmed handovers every minute."""
    async def job() -> None:
        while True:
            try:
                await asyncio.to_thread(run_escalations, engine, now=clock())
            except Exception as exc:  # keep the job alive; the next pass tries again
                log.warning("handover escalation pass failed (%s)", type(exc).__name__)
            await asyncio.sleep(every)
    return job

"""Retention (docs/tickets.md#retention): purge the personal details of old work, keep the shell.

After `tickets.retention_days` (default 30):
- a done ticket last changed before then loses its text, caller number, recording link and
  member link; its timeline keeps every entry (who, when, what changed) but loses the notes,
  the ticket's mails lose their bodies, and its promises their notes;
- a call that started before then loses the calling number, its identity state the member
  link, and failed identity checks the keyed hash of the calling number.
What stays is what the statistics read: dates and times, department, loop, kind, outcome,
status, the agents. Each run writes one audit row with the counts (console.audit); running it
again purges nothing more (every step selects only what still holds personal data).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, inspect, select, update
from sqlalchemy.engine import Connection, Engine

from console.audit import SYSTEM, record
from identity.models import CallIdentity, IdentityFailure
from ivr.models import Call
from tickets.claims import ticket_rules
from tickets.models import OutboxMail, Ticket, TicketEvent

log = logging.getLogger("switchboard.tickets.retention")
TICKET = Ticket.__table__  # type: ignore[attr-defined]
EVENT = TicketEvent.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxMail.__table__  # type: ignore[attr-defined]
CALL = Call.__table__  # type: ignore[attr-defined]
IDENTITY = CallIdentity.__table__  # type: ignore[attr-defined]
FAILURE = IdentityFailure.__table__  # type: ignore[attr-defined]
# The statistics count a voicemail as "a recording link is set" (console.stats_load): a purged
# link becomes "" (there was a recording; its link is gone), never NULL, so the counts stay.
PURGED_LINK = ""
JOB_EVERY = 3600.0  # the job wakes hourly and purges once per day


def _purge_tickets(conn: Connection, cutoff: datetime, now: datetime) -> dict[str, int]:
    ids = list(conn.execute(select(TICKET.c.id).where(
        TICKET.c.status == "done", TICKET.c.updated_at < cutoff,
        TICKET.c.purged_at.is_(None))).scalars())
    counts = {"tickets": 0, "notes": 0, "mails": 0, "promises": 0}
    if not ids:
        return counts
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        conn.execute(update(TICKET).where(TICKET.c.id.in_(chunk)).values(
            text="", caller_number=None, member_id=None, purged_at=now,
            recording_url=_link_gone(TICKET.c.recording_url)))
        counts["notes"] += conn.execute(update(EVENT).where(
            EVENT.c.ticket_id.in_(chunk), EVENT.c.note.is_not(None)).values(note=None)).rowcount
        counts["mails"] += conn.execute(update(OUTBOX).where(
            OUTBOX.c.ticket_id.in_(chunk), OUTBOX.c.body != "").values(body="")).rowcount
        counts["promises"] += _purge_promises(conn, chunk)
    counts["tickets"] = len(ids)
    return counts


def _link_gone(column: Any) -> Any:
    return case((column.is_(None), None), else_=PURGED_LINK)


def _purge_promises(conn: Connection, ticket_ids: list[int]) -> int:
    """Promise notes, where the promises table exists (tickets.promises)."""
    if "ticket_promise" not in inspect(conn).get_table_names():
        return 0
    from tickets.models import TicketPromise  # type: ignore[attr-defined]

    table = TicketPromise.__table__  # type: ignore[attr-defined]
    return int(conn.execute(update(table).where(table.c.ticket_id.in_(ticket_ids),
                                                table.c.note != "").values(note="")).rowcount)


def _purge_calls(conn: Connection, cutoff: datetime) -> dict[str, int]:
    calls = conn.execute(update(CALL).where(CALL.c.started_at < cutoff,
                                            CALL.c.from_number.is_not(None))
                         .values(from_number=None)).rowcount
    old = select(CALL.c.call_sid).where(CALL.c.started_at < cutoff)
    identity = conn.execute(update(IDENTITY).where(
        IDENTITY.c.call_sid.in_(old),
        IDENTITY.c.member_id.is_not(None) | IDENTITY.c.self_member_id.is_not(None),
    ).values(member_id=None, self_member_id=None)).rowcount
    hashes = conn.execute(update(FAILURE).where(
        FAILURE.c.at < cutoff, FAILURE.c.caller_hash.is_not(None)).values(caller_hash=None)
    ).rowcount
    # Open callbacks of old calls keep their number: the work is not done yet.
    return {"calls": calls, "call_identities": identity, "caller_hashes": hashes}


def purge(engine: Engine, *, now: datetime, days: int | None = None,
          who: str = SYSTEM) -> dict[str, Any]:
    """Purge what is older than the period (the org file's unless `days`); the counts."""
    with engine.connect() as conn:
        period = days if days is not None else ticket_rules(conn)["retention_days"]
    if period < 1:
        raise ValueError("days: must be 1 or more")
    cutoff = now - timedelta(days=period)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        if sqlite:
            # Overwrite what an UPDATE frees with zeros, so the old values do not linger in
            # the database file's free space (per connection; off again below).
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
        counts = _purge_tickets(conn, cutoff, now) | _purge_calls(conn, cutoff)
        if any(counts.values()):
            record(conn, who=who, kind="retention", object_id="purge", action="purge",
                   before=None, after={"days": period, "cutoff": cutoff.isoformat(), **counts},
                   at=now)
        if sqlite:
            conn.exec_driver_sql("PRAGMA secure_delete=OFF")
    if sqlite and any(counts.values()):
        _scrub_sqlite(engine)
    return {"days": period, "cutoff": cutoff.isoformat(), **counts}


def _scrub_sqlite(engine: Engine) -> None:
    """Make sure the purged bytes are gone from the SQLite file and its write-ahead log.

    In WAL mode the changed pages are first written to the -wal file, and the old page
    images stay there until a checkpoint copies the new ones into the database and the log
    is reset: wal_checkpoint(TRUNCATE) does that and cuts the log to zero bytes. VACUUM then
    rebuilds the database file from its live rows, so no old copy of a page (index pages,
    pages freed before secure_delete was on) survives; its own writes go through the log,
    hence the second checkpoint.
    """
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.commit()
        previous = raw.isolation_level
        raw.isolation_level = None  # VACUUM cannot run inside a transaction
        try:
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.isolation_level = previous


def retention_job(engine: Engine, clock: Callable[[], datetime],
                  every: float = JOB_EVERY) -> Callable[[], Any]:
    """The background job (for app.state.jobs): purge once a day (UTC date), at start first."""
    async def job() -> None:
        last: date | None = None
        while True:
            today = clock().date()
            if today != last:
                try:
                    counts = await asyncio.to_thread(purge, engine, now=clock())
                    last = today
                    log.info("retention purge: %s", {k: v for k, v in counts.items()
                                                      if k != "cutoff"})
                except Exception as exc:  # keep the job alive; the next pass tries again
                    log.warning("retention purge failed (%s)", type(exc).__name__)
            await asyncio.sleep(every)
    return job

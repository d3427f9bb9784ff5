"""Reading the stored call records for the statistics (console/stats.py does the counting).

Three indexed reads per period, whatever its length: the calls that started in it
(`ix_call_started`), their offers (`ix_offer_call`) and their callback tickets. None of this
runs in a webhook.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from console.stats import DEFAULT_SERVICE_LEVEL, CallRec, LoopConf, OfferRec, utc
from ivr.models import Call
from routing.models import Loop, Offer
from routing.snapshot import OrgSnapshot
from routing.state import EXPIRY_GRACE, ON_CALL_CAP
from tickets.models import Ticket

CALL = Call.__table__  # type: ignore[attr-defined]
OFFER = Offer.__table__  # type: ignore[attr-defined]
LOOP = Loop.__table__  # type: ignore[attr-defined]
TICKET = Ticket.__table__  # type: ignore[attr-defined]
STALE_IN_LINE = 60  # seconds: as ivr.loopflow, a caller on hold not seen for this long is gone

_CALL_COLS = (CALL.c.call_sid, CALL.c.kind, CALL.c.started_at, CALL.c.ended_at, CALL.c.stage,
              CALL.c.outcome, CALL.c.loop_path, CALL.c.direct_agent_id)


def loop_confs(conn: Connection, snap: OrgSnapshot) -> list[LoopConf]:
    """Every loop (inactive ones too: past calls point at them), in the file's order."""
    rows = conn.execute(select(LOOP.c.id, LOOP.c.name, LOOP.c.service_level_seconds,
                               LOOP.c.ring_timeout, LOOP.c.active, LOOP.c.position)
                        .order_by(LOOP.c.active.desc(), LOOP.c.position)).all()
    out = []
    for r in rows:
        info = snap.loops.get(r.id)
        out.append(LoopConf(r.id, r.name, int(r.service_level_seconds or DEFAULT_SERVICE_LEVEL),
                            info.members if info else (), int(r.ring_timeout or 20),
                            bool(r.active)))
    return out


def _path(raw: Any) -> tuple[tuple[str, datetime], ...]:
    out = []
    for entry in raw or ():
        try:
            where, at = entry
            out.append((str(where), utc(datetime.fromisoformat(at))))
        except (TypeError, ValueError):  # a hand-edited row: skip the entry, keep the rest
            continue
    return tuple(out)  # type: ignore[arg-type]


def load_calls(conn: Connection, start: datetime, end: datetime) -> list[CallRec]:
    """The calls that started in [start, end), with their offers and callback tickets."""
    in_period = and_(CALL.c.started_at >= start, CALL.c.started_at < end)
    calls = conn.execute(select(*_CALL_COLS).where(in_period)).all()
    offers: dict[str, list[OfferRec]] = defaultdict(list)
    for o in conn.execute(
            select(OFFER.c.call_sid, OFFER.c.agent_id, OFFER.c.loop_id, OFFER.c.answered_at,
                   OFFER.c.ended_at)
            .select_from(OFFER.join(CALL, CALL.c.call_sid == OFFER.c.call_sid))
            .where(in_period).order_by(OFFER.c.id)):
        offers[o.call_sid].append(OfferRec(o.agent_id, o.loop_id, utc(o.answered_at),
                                           utc(o.ended_at)))
    tickets: dict[str, tuple[str | None, str | None, bool]] = {}
    for t in conn.execute(
            select(TICKET.c.call_sid, TICKET.c.loop_id, TICKET.c.agent_id,
                   TICKET.c.recording_url)
            .select_from(TICKET.join(CALL, CALL.c.call_sid == TICKET.c.call_sid))
            .where(in_period, TICKET.c.kind == "callback")):
        tickets[t.call_sid] = (t.loop_id, t.agent_id, t.recording_url is not None)
    out = []
    for c in calls:
        ticket = tickets.get(c.call_sid)
        out.append(CallRec(
            call_sid=c.call_sid, kind=c.kind, started_at=utc(c.started_at),  # type: ignore[arg-type]
            ended_at=utc(c.ended_at), stage=c.stage, outcome=c.outcome,
            path=_path(c.loop_path), direct_agent_id=c.direct_agent_id,
            offers=tuple(offers.get(c.call_sid, ())),
            voicemail_left=bool(ticket and ticket[2]),
            callback=(ticket[0], ticket[1]) if ticket else None))
    return out


@dataclass(frozen=True)
class Waiting:
    """A caller in a loop now, waiting in line or while agents ring."""

    call_sid: str
    loop_id: str
    entered: datetime
    stage: str


def load_waiting(conn: Connection, loops: list[LoopConf], *, now: datetime) -> list[Waiting]:
    """Callers in a loop now; a caller whose webhooks stopped coming (a lost status) is gone."""
    ring = {lp.id: lp.ring_timeout for lp in loops}
    rows = conn.execute(
        select(CALL.c.call_sid, CALL.c.loop_id, CALL.c.loop_entered_at, CALL.c.stage,
               CALL.c.last_seen_at)
        .where(CALL.c.started_at >= now - ON_CALL_CAP, CALL.c.ended_at.is_(None),
               CALL.c.stage.in_(("loop", "queue")), CALL.c.loop_id.is_not(None))).all()
    out = []
    for r in rows:
        seen = utc(r.last_seen_at) or utc(r.loop_entered_at)
        entered = utc(r.loop_entered_at)
        if seen is None or entered is None:
            continue
        # On hold a caller comes back every 20 s; ringing lasts at most the ring timeout.
        limit = STALE_IN_LINE if r.stage == "queue" else ring.get(r.loop_id, 20) + EXPIRY_GRACE
        if now - seen <= timedelta(seconds=limit):
            out.append(Waiting(r.call_sid, r.loop_id, entered, r.stage))
    return out

"""A call in a loop: offer agents, wait in line, overflow, voicemail (docs/routing.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from twilio.twiml.voice_response import VoiceResponse

from ivr import twiml
from ivr.calls import CALL, CallRow
from ivr.context import FlowContext
from ivr.prompts import say
from routing.decide import Decision, RouteState, decide_roster
from routing.models import Loop
from routing.roster import load_roster
from routing.snapshot import OrgSnapshot
from routing.state import reserve
from switchboard.db import DriverSQL, bind_value

LOOP = Loop.__table__  # type: ignore[attr-defined]
MAX_HOPS = 10  # overflow hops before voicemail, whatever the configuration says
STALE_IN_LINE = 60  # seconds: a waiting caller not seen for this long no longer holds a place
# Every routing step counts the line: hand-written SQL on the driver (switchboard.db.DriverSQL)
# saves Core's 13-25 us of Python per execution (README, Performance).
_AHEAD = DriverSQL(
    "SELECT count(*) FROM call WHERE loop_id = ? AND stage = 'queue' AND ended_at IS NULL"
    " AND call_sid != ? AND queued_at < ? AND last_seen_at > ?")
_CALL_TIME = CALL.c.queued_at  # the type of every datetime column of call
# Built once with bind parameters: SQLAlchemy then skips rebuilding the statement and its
# cache key on every round-robin step.
_LAST_RUNG = select(LOOP.c.last_rung_agent).where(LOOP.c.id == bindparam("b_loop"))
_SET_LAST_RUNG = update(LOOP).where(LOOP.c.id == bindparam("b_loop"))


def enter_loop(ctx: FlowContext, conn: Connection, snap: OrgSnapshot, call: CallRow,
               loop_id: str, vr: VoiceResponse, now: datetime, *, hops: int = 0) -> str:
    """Put the call into a loop and take the first routing step; returns the stage."""
    route = {"attempt": call.route.get("attempt", 0), "tried": [], "rounds": 0, "timeouts": {},
             "waits": call.route.get("waits", 0), "hops": hops,
             "first_loop_at": call.route.get("first_loop_at") or now.isoformat()}
    call.set(loop_id=loop_id, loop_entered_at=now, loop_used=0.0, queued_at=now,
             stage="loop", route=route, last_seen_at=now,
             loop_path=_path(call, loop_id, now))  # for the statistics (console/stats.py)
    return route_step(ctx, conn, snap, call, vr, now)


def _path(call: CallRow, where: str, now: datetime) -> list[list[str]]:
    """The call's loop path with one more entry (a loop id or "voicemail")."""
    return [*(call.get("loop_path") or []), [where, now.isoformat()]]


def to_voicemail(ctx: FlowContext, call: CallRow, vr: VoiceResponse, *,
                 stage: str = "voicemail") -> str:
    """Record a message for the call's loop or direct-line agent."""
    call.set(stage=stage, queued_at=None)
    twiml.voicemail(vr, call["lang"], ctx.url("recorded", a=call.route.get("attempt", 0)))
    return stage


def _ahead_in_line(conn: Connection, call: CallRow, now: datetime) -> int:
    """Callers waiting in the same loop who came before this one."""
    return int(_AHEAD.run(conn, (
        call["loop_id"], call["call_sid"], bind_value(conn, _CALL_TIME, call["queued_at"]),
        bind_value(conn, _CALL_TIME, now - timedelta(seconds=STALE_IN_LINE)))).fetchone()[0])


def route_step(ctx: FlowContext, conn: Connection, snap: OrgSnapshot, call: CallRow,
               vr: VoiceResponse, now: datetime) -> str:
    """Decide and render the next step for a call in its loop; returns the stage."""
    route = call.route
    loop = snap.loops.get(call["loop_id"] or "")
    if loop is None or not loop.active:
        target = loop.overflow if loop is not None else "voicemail"
        return _overflow(ctx, conn, snap, call, vr, now, target)
    # Only the exceptional members come from the database, and the calendar-busy set is shared
    # by every decision until the next calendar boundary (docs/benchmarks.md; routing.roster).
    roster = load_roster(conn, loop.members, now=now, strategy=loop.strategy, tz=snap.timezone)
    busy = snap.busy.busy_now(now)
    open_now = snap.closed_reason(now) is None
    ahead = _ahead_in_line(conn, call, now) if call["queued_at"] is not None else 0
    last_rung = (conn.execute(_LAST_RUNG, {"b_loop": loop.id}).scalar()
                 if loop.strategy == "round_robin" else None)
    state = RouteState(used=float(call["loop_used"] or 0), tried=list(route.get("tried", [])),
                       rounds=int(route.get("rounds", 0)))
    # A lost race for an agent means deciding again with fresh state. Each loss means another
    # call now holds one more member, so members + 1 tries always end; a fixed small number
    # would send callers to the line while members are still free (50 calls at once).
    for _ in range(len(loop.members) + 1):
        d = decide_roster(loop.spec(), roster, busy, open_now=open_now, route=state,
                          ahead_in_line=ahead, last_rung=last_rung, rng=ctx.rng)
        if d.kind != "dial":
            break
        attempt = int(route.get("attempt", 0)) + 1
        got = reserve(conn, call_sid=call["call_sid"], loop_id=loop.id, attempt=attempt,
                      agent_ids=d.agents, now=now, ring_timeout=d.timeout)
        if not got:
            roster = load_roster(conn, loop.members, now=now, strategy=loop.strategy,
                                 tz=snap.timezone)
            continue
        tried = [] if d.new_round else list(state.tried)
        route.update(attempt=attempt, tried=tried + [a for a in d.agents if a in got])
        route.setdefault("timeouts", {})[str(attempt)] = d.timeout
        call.set(stage="loop", last_seen_at=now)
        call.touch_route()
        if loop.strategy == "round_robin":
            conn.execute(_SET_LAST_RUNG, {"b_loop": loop.id, "last_rung_agent": d.agents[-1]})
        rings = [twiml.Ring(a, snap.agents[a].phone,
                            ctx.url("whisper", o=got[a], agent=a))
                 for a in d.agents if a in got]
        twiml.dial(vr, rings, action=ctx.url("dial", a=attempt), timeout=d.timeout)
        return "loop"
    else:  # every reservation lost its race: everyone is taken, so wait
        d = Decision("wait" if loop.max_wait > 0 else "overflow")
    if d.kind == "wait":
        waits = int(route.get("waits", 0)) + 1
        route["waits"] = waits
        call.set(stage="queue", last_seen_at=now)
        call.touch_route()
        twiml.hold(vr, call["lang"], ahead + 1, ctx.music_url,
                   ctx.url("wait", a=route.get("attempt", 0), w=waits))
        return "queue"
    return _overflow(ctx, conn, snap, call, vr, now, loop.overflow)


def _overflow(ctx: FlowContext, conn: Connection, snap: OrgSnapshot, call: CallRow,
              vr: VoiceResponse, now: datetime, target: str) -> str:
    hops = int(call.route.get("hops", 0)) + 1
    nxt = snap.loops.get(target)
    if target == "voicemail" or nxt is None or hops > MAX_HOPS:
        call.set(loop_path=_path(call, "voicemail", now))
        return to_voicemail(ctx, call, vr)
    twiml.add_say(vr, call["lang"], say(call["lang"], "overflow", loop=nxt.said(call["lang"])))
    return enter_loop(ctx, conn, snap, call, target, vr, now, hops=hops)


def after_no_answer(ctx: FlowContext, conn: Connection, snap: OrgSnapshot, call: CallRow,
                    attempt: int, vr: VoiceResponse, now: datetime) -> str:
    """A <Dial> ended with nobody confirming: count its time, then the next step."""
    route = call.route
    timeout = float(route.get("timeouts", {}).get(str(attempt), 0))
    if attempt == int(route.get("attempt", 0)):
        loop = snap.loops.get(call["loop_id"] or "")
        if loop is not None and loop.strategy == "ringall":
            route["rounds"] = int(route.get("rounds", 0)) + 1
        call.set(loop_used=float(call["loop_used"] or 0) + timeout)
        call.touch_route()
    return route_step(ctx, conn, snap, call, vr, now)


def after_wait(ctx: FlowContext, conn: Connection, snap: OrgSnapshot, call: CallRow,
               vr: VoiceResponse, now: datetime) -> str:
    """Back from a hold segment: count the time waited, then re-check."""
    last = call["last_seen_at"]
    waited = max(float(twiml.HOLD_SECONDS), (now - last).total_seconds() if last else 0.0)
    call.set(loop_used=float(call["loop_used"] or 0) + waited, last_seen_at=now)
    return route_step(ctx, conn, snap, call, vr, now)

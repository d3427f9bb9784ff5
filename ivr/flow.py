"""The call's state machine: a function per Twilio step, each answered once (docs/routing.md)."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from twilio.twiml.voice_response import VoiceResponse

from ivr import twiml
from ivr.calls import (
    CALL,
    CallRow,
    answer_call_once,
    answer_once,
    insert_call,
    load_call,
    save_call,
)
from ivr.context import FlowContext
from ivr.loopflow import after_no_answer, after_wait, enter_loop, to_voicemail
from ivr.prompts import WHISPER, WHISPER_LANG, english_greeting, english_offer, menu_texts, say
from routing.snapshot import OrgSnapshot
from routing.state import OFFER, answered_offer, confirm, end_call, release_ringing, reserve
from tickets.callbacks import callable_number, callback_due, upsert_callback

log = logging.getLogger("switchboard.ivr")
MENU_PLAYS = 3
DIRECT_RING_TIMEOUT = 20
FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
EMPTY_TWIML = str(VoiceResponse())  # a status callback's answer (Twilio ignores its body)

Answer = tuple[str, str | None]


def _hours_text(snap: OrgSnapshot, lang: str) -> str:
    hours = snap.config.get("opening_hours") or {}
    days = [d for d in ("mon", "tue", "wed", "thu", "fri") if d in hours]
    if not days:
        return ""
    span = hours[days[0]].replace("-", " til " if lang == "nb" else " to ")
    return ("hverdager " if lang == "nb" else "on weekdays ") + span


def _closed_text(snap: OrgSnapshot, reason: str, lang: str) -> str:
    """Why the lines are closed, in the caller's language."""
    if reason != "outside_hours":
        return say(lang, "closed_holiday", name=snap.name)
    hours = _hours_text(snap, lang)
    if not hours:  # no weekday opening to tell of
        return say(lang, "closed_now", name=snap.name)
    return say(lang, "closed", name=snap.name, hours=hours)


def _connecting(vr: VoiceResponse, snap: OrgSnapshot, lang: str, loop_id: str) -> None:
    """"Putting you through to …": said whether the caller chose the loop or was sent there."""
    loop = snap.loops.get(loop_id)
    if loop is not None:
        twiml.add_say(vr, lang, say(lang, "connecting", loop=loop.said(lang)))


def _menu(ctx: FlowContext, snap: OrgSnapshot, play: int, prefix: str | None = None) -> str:
    pieces = menu_texts(
        name=snap.name, name_en=snap.name_en, prompts=snap.config.get("prompts") or {},
        menu=[(d, snap.loops[lp].name) for d, lp in snap.menu.items() if lp in snap.loops],
        english_digit=snap.english[0] if snap.english else None)
    return twiml.render(twiml.gather_menu(pieces, ctx.url("menu", play=play), prefix=prefix))


def voice(ctx: FlowContext, form: dict[str, str]) -> Answer:
    """A call comes in: greet and offer the menu, or ring a direct line."""
    call_sid = form.get("CallSid", "")
    now = ctx.clock()

    def step(conn: Connection, now: datetime) -> Answer:
        snap = ctx.cache.get()
        to = form.get("To", "")
        kind, agent_id = snap.numbers.get(to, ("switchboard", None))
        insert_call(conn, dict(call_sid=call_sid, from_number=form.get("From") or None,
                               to_number=to or None, kind=kind, direct_agent_id=agent_id,
                               stage="menu", lang="nb", route={}, started_at=now,
                               last_seen_at=now))
        call = load_call(conn, call_sid)
        assert call is not None
        vr = VoiceResponse()
        if not snap.configured:
            twiml.add_say(vr, "nb", say("nb", "error"))
            stage = to_voicemail(ctx, call, vr)
        elif kind == "direct" and agent_id:
            stage = _direct(ctx, conn, snap, call, agent_id, vr, now)
        elif reason := snap.closed_reason(now):
            text = _closed_text(snap, reason, "nb")
            if snap.english:
                # The English digit is offered here too, so that an English speaker hears in
                # English why nobody answers and what to do (the menu step takes the digit).
                call.set(stage="closed")
                save_call(conn, call)
                offer = english_offer(prompts=snap.config.get("prompts") or {},
                                      digit=snap.english[0])
                return twiml.render(twiml.gather_menu([("nb", text), ("en", offer)],
                                                      ctx.url("menu", play=1))), "closed"
            twiml.add_say(vr, "nb", text)
            stage = to_voicemail(ctx, call, vr, stage="closed")
        else:
            save_call(conn, call)
            return _menu(ctx, snap, 1), "menu"
        save_call(conn, call)
        return twiml.render(vr), stage

    return answer_once(ctx.tx, call_sid=call_sid, step="voice", now=now, fn=step)


def _direct(ctx: FlowContext, conn: Connection, snap: OrgSnapshot, call: CallRow,
            agent_id: str, vr: VoiceResponse, now: datetime) -> str:
    """A direct line rings its agent whatever the calendar or a routing stop says."""
    agent = snap.agents.get(agent_id)
    from routing.models import Agent

    row = conn.execute(select(Agent.__table__.c.logged_in, Agent.__table__.c.active)  # type: ignore[attr-defined]
                       .where(Agent.__table__.c.id == agent_id)).first()  # type: ignore[attr-defined]
    name = agent.name if agent else agent_id
    call.set(stage="direct", direct_agent_id=agent_id)
    call.route["first_loop_at"] = now.isoformat()
    call.touch_route()
    if agent is None or row is None or not row.active or not row.logged_in:
        twiml.add_say(vr, "nb", say("nb", "direct_logged_out", agent=name))
        return to_voicemail(ctx, call, vr)
    if snap.closed_reason(now):
        twiml.add_say(vr, "nb", say("nb", "direct_closed", agent=name))
        return to_voicemail(ctx, call, vr, stage="closed")
    got = reserve(conn, call_sid=call["call_sid"], loop_id=None, attempt=1, agent_ids=[agent_id],
                  now=now, ring_timeout=DIRECT_RING_TIMEOUT)
    if not got:
        twiml.add_say(vr, "nb", say("nb", "direct_busy", agent=name))
        return to_voicemail(ctx, call, vr)
    call.route.update(attempt=1, timeouts={"1": DIRECT_RING_TIMEOUT})
    call.touch_route()
    twiml.dial(vr, [twiml.Ring(agent_id, agent.phone,
                               ctx.url("whisper", o=got[agent_id], agent=agent_id))],
               action=ctx.url("dial", a=1), timeout=DIRECT_RING_TIMEOUT)
    return "direct"


def menu(ctx: FlowContext, form: dict[str, str], play: int) -> Answer:
    """The caller pressed a digit (or nothing) at the menu."""
    call_sid = form.get("CallSid", "")
    digit = (form.get("Digits") or "").strip()[:1]

    def step(conn: Connection, now: datetime, call: CallRow | None) -> Answer:
        snap = ctx.cache.get()
        if call is None:  # a step for a call we never saw: start it properly
            return voice_fresh(ctx, conn, snap, form, now)
        vr = VoiceResponse()
        eng = snap.english
        english = eng is not None and digit == eng[0]
        if english:
            call.set(lang="en")
            twiml.add_say(vr, "en", english_greeting(name_en=snap.name_en, name=snap.name,
                                                     prompts=snap.config.get("prompts") or {}))
        if call["stage"] == "closed":  # the closed message offered the English digit
            if english:
                reason = snap.closed_reason(now) or "outside_hours"
                twiml.add_say(vr, "en", _closed_text(snap, reason, "en"))
            stage = to_voicemail(ctx, call, vr, stage="closed")
        elif eng is not None and english:
            _connecting(vr, snap, "en", eng[1])
            stage = enter_loop(ctx, conn, snap, call, eng[1], vr, now)
        elif digit and digit in snap.menu:
            loop_id = snap.menu[digit]
            _connecting(vr, snap, "nb", loop_id)
            stage = enter_loop(ctx, conn, snap, call, loop_id, vr, now)
        elif play < MENU_PLAYS:
            save_call(conn, call)
            prefix = say("nb", "invalid") if digit else None
            return _menu(ctx, snap, play + 1, prefix=prefix), "menu"
        else:
            default = snap.menu_default
            if default is None:
                stage = to_voicemail(ctx, call, vr)
            else:
                _connecting(vr, snap, "nb", default)
                stage = enter_loop(ctx, conn, snap, call, default, vr, now)
        save_call(conn, call)
        return twiml.render(vr), stage

    return answer_call_once(ctx.tx, call_sid=call_sid, step=f"menu?play={play}",
                            now=ctx.clock(), fn=step)


def voice_fresh(ctx: FlowContext, conn: Connection, snap: OrgSnapshot, form: dict[str, str],
                now: datetime) -> Answer:
    """Start a call whose first webhook we never saw (lost state): greet from the top."""
    insert_call(conn, dict(call_sid=form.get("CallSid", ""), from_number=form.get("From") or None,
                           to_number=form.get("To") or None, stage="menu", lang="nb", route={},
                           started_at=now, last_seen_at=now))
    return _menu(ctx, snap, 1), "menu"


def dial_action(ctx: FlowContext, form: dict[str, str], attempt: int) -> Answer:
    """A <Dial> ended: the bridged call is over, or nobody confirmed."""
    call_sid = form.get("CallSid", "")

    def step(conn: Connection, now: datetime, call: CallRow | None) -> Answer:
        snap = ctx.cache.get()
        vr = VoiceResponse()
        if call is None or call["ended_at"] is not None:
            # Gone, or its status callback came first (the caller hung up while it rang):
            # routing on would reserve agents for nobody until the reservations expire.
            vr.hangup()
            return twiml.render(vr), "ended"
        answered = answered_offer(conn, call_sid=call_sid)
        if answered is not None:
            agent_id, loop_id = answered
            loop = snap.loops.get(loop_id or "")
            end_call(conn, call_sid=call_sid, now=now, wrap_up=loop.wrap_up if loop else 0)
            call.set(stage="connected", outcome="connected", answered_by=agent_id,
                     queued_at=None)
            save_call(conn, call)
            vr.hangup()
            return twiml.render(vr), "connected"
        release_ringing(conn, call_sid=call_sid, now=now)
        if call["kind"] == "direct" and call["direct_agent_id"] and not call["loop_id"]:
            agent = snap.agents.get(call["direct_agent_id"])
            twiml.add_say(vr, call["lang"], say(call["lang"], "direct_no_answer",
                                                agent=agent.name if agent else ""))
            stage = to_voicemail(ctx, call, vr)
        else:
            stage = after_no_answer(ctx, conn, snap, call, attempt, vr, now)
        save_call(conn, call)
        return twiml.render(vr), stage

    return answer_call_once(ctx.tx, call_sid=call_sid, step=f"dial?a={attempt}",
                            now=ctx.clock(), fn=step)


def wait(ctx: FlowContext, form: dict[str, str], attempt: int, waits: int) -> Answer:
    """Back from a hold segment."""
    call_sid = form.get("CallSid", "")

    def step(conn: Connection, now: datetime, call: CallRow | None) -> Answer:
        snap = ctx.cache.get()
        vr = VoiceResponse()
        if call is None:
            return voice_fresh(ctx, conn, snap, form, now)
        if call["ended_at"] is not None:  # hung up while on hold: nobody to offer agents for
            vr.hangup()
            return twiml.render(vr), "ended"
        stage = after_wait(ctx, conn, snap, call, vr, now)
        save_call(conn, call)
        return twiml.render(vr), stage

    return answer_call_once(ctx.tx, call_sid=call_sid, step=f"wait?a={attempt}&w={waits}",
                            now=ctx.clock(), fn=step)


def whisper(ctx: FlowContext, form: dict[str, str], offer_id: int) -> Answer:
    """The agent picked up: say where the call comes from and ask for a key."""
    leg = form.get("CallSid", "") or f"offer-{offer_id}"

    def step(conn: Connection, now: datetime) -> Answer:
        snap = ctx.cache.get()
        offer = conn.execute(select(OFFER.c.call_sid, OFFER.c.loop_id)
                             .where(OFFER.c.id == offer_id)).first()
        lang = "nb"
        if offer is not None:
            c = conn.execute(select(CALL.c.lang).where(CALL.c.call_sid == offer.call_sid)).first()
            lang = c.lang if c else "nb"
        loop = snap.loops.get(offer.loop_id) if offer is not None and offer.loop_id else None
        source = loop.name if loop else "din direktelinje"
        text = WHISPER.format(source=source, lang=WHISPER_LANG.get(lang, ""))
        return twiml.render(twiml.whisper(text, ctx.url("whisper/confirm", o=offer_id))), "whisper"

    return answer_once(ctx.tx, call_sid=leg, step=f"whisper?o={offer_id}",
                       now=ctx.clock(), fn=step)


def whisper_confirm(ctx: FlowContext, form: dict[str, str], offer_id: int) -> Answer:
    """The agent pressed a key (a person, not voicemail): bridge; silence hangs up the leg."""
    leg = form.get("CallSid", "") or f"offer-{offer_id}"
    pressed = bool((form.get("Digits") or "").strip())

    def step(conn: Connection, now: datetime) -> Answer:
        vr = VoiceResponse()
        if not pressed:
            vr.hangup()
            return twiml.render(vr), "whisper"
        snap = ctx.cache.get()
        got = confirm(conn, offer_id=offer_id, now=now, tz=snap.timezone)
        if got is None:
            twiml.add_say(vr, "nb", say("nb", "already_answered"))
            vr.hangup()
            return twiml.render(vr), "whisper"
        call_sid, _loop, agent_id = got
        # Who has the call and since when: the desk's screen pop reads these (docs/desk.md).
        conn.execute(update(CALL).where(CALL.c.call_sid == call_sid).values(
            answered_by=agent_id, answered_at=now, stage="connected", queued_at=None))
        return twiml.render(vr), "connected"  # an empty <Response/> bridges the call

    return answer_once(ctx.tx, call_sid=leg, step=f"whisper/confirm?o={offer_id}",
                       now=ctx.clock(), fn=step)


def recorded(ctx: FlowContext, form: dict[str, str], attempt: int) -> Answer:
    """A voicemail was left: it goes on the call's callback ticket."""
    call_sid = form.get("CallSid", "")

    def step(conn: Connection, now: datetime, call: CallRow | None) -> Answer:
        vr = VoiceResponse()
        lang = call["lang"] if call is not None else "nb"
        url = (form.get("RecordingUrl") or "")[:1000] or None
        if call is not None and url:
            duration = form.get("RecordingDuration", "")
            upsert_callback(
                conn, call_sid=call_sid, now=now, loop_id=call["loop_id"],
                agent_id=call["direct_agent_id"] if not call["loop_id"] else None,
                number=callable_number(call["from_number"]),
                progress=_progress(call), recording_url=url,
                recording_duration=int(duration) if duration.isdigit() else None)
            call.set(outcome=call["outcome"] or ("closed" if call["stage"] == "closed"
                                                  else "voicemail"))
            save_call(conn, call)
        twiml.add_say(vr, lang, say(lang, "thanks"))
        vr.hangup()
        return twiml.render(vr), call["stage"] if call is not None else "voicemail"

    return answer_call_once(ctx.tx, call_sid=call_sid, step=f"recorded?a={attempt}",
                            now=ctx.clock(), fn=step)


def _progress(call: CallRow) -> str:
    where = call["loop_id"] or (f"direct:{call['direct_agent_id']}"
                                if call["direct_agent_id"] else "")
    return f"{call['stage']}:{where}" if where else str(call["stage"])


def status(ctx: FlowContext, form: dict[str, str]) -> str:
    """Twilio's status callback: a final status ends the call, frees agents, makes tickets."""
    call_sid = form.get("CallSid", "")
    call_status = (form.get("CallStatus") or "").lower()
    vr = EMPTY_TWIML
    if call_status not in FINAL_STATUSES or not call_sid:
        return vr
    now = ctx.clock()
    with ctx.tx.begin() as conn:
        call = load_call(conn, call_sid)
        if call is None or call["ended_at"] is not None:
            return vr
        snap = ctx.cache.get()
        loop = snap.loops.get(call["loop_id"] or "")
        end_call(conn, call_sid=call_sid, now=now, wrap_up=loop.wrap_up if loop else 0)
        answered = call["answered_by"] is not None
        outcome = call["outcome"] or ("connected" if answered else
                                      "closed" if call["stage"] == "closed" else
                                      "voicemail" if call["stage"] == "voicemail" else "hangup")
        first = call.route.get("first_loop_at")
        in_loop = (now - datetime.fromisoformat(first)).total_seconds() if first else None
        due = partial(callback_due, stage=call["stage"], answered=answered, recorded=False,
                      seconds_in_loop=in_loop)
        # callback_due looks only at whether there is a number; a raw number is needed for a
        # callable one, so the phone-number parsing runs only when a ticket may be due.
        number = callable_number(call["from_number"]) if due(number=call["from_number"]) else None
        if number is not None and due(number=number):
            upsert_callback(conn, call_sid=call_sid, now=now, loop_id=call["loop_id"],
                            agent_id=call["direct_agent_id"] if not call["loop_id"] else None,
                            number=number, progress=_progress(call))
        call.set(ended_at=now, status=call_status, outcome=outcome, queued_at=None)
        save_call(conn, call)
    log.info("call ended status=%s outcome=%s", call_status, outcome)
    return vr

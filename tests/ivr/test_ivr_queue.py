"""Through the webhooks: the waiting line, max_wait, wrap-up and the status callback (§4, §5)."""

from __future__ import annotations

import io
import wave
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from ivr.models import Call
from routing.models import Offer
from tests.ivr_steps import SMALL_ORG, confirm, dial_ends, press, rung, says, status
from tests.twilio_harness import Twilio, make_app, new_sid


@pytest.fixture
def tw(settings, engine) -> Twilio:
    return make_app(settings, engine, SMALL_ORG)


def occupy_both_agents(tw: Twilio) -> tuple[str, ET.Element]:
    """Two callers into the ringall loop `ko`; a1 takes the first, a2 the second.

    Returns the first call's sid and the TwiML with its <Dial>."""
    x, y = new_sid(), new_sid()
    root, _ = press(tw, x, "1")
    assert rung(root) == ["a1", "a2"]
    assert confirm(tw, root, "a1", "CAlegx") == "connected"
    root_y, _ = press(tw, y, "1")
    assert rung(root_y) == ["a2"]  # a1 is on x's call; a2 was released when a1 took x
    assert confirm(tw, root_y, "a2", "CAlegy") == "connected"
    return x, root


def hold_music_seconds(tw: Twilio, url: str) -> float:
    """Length of the audio a <Play> points at, read from the WAV the app serves."""
    r = tw.client.get(urlparse(url).path)
    assert r.status_code == 200
    with wave.open(io.BytesIO(r.content)) as w:
        return w.getnframes() / w.getframerate()


def test_callers_wait_in_line_with_music_and_position_first_in_line_served_first(tw) -> None:
    x, dial_x = occupy_both_agents(tw)
    c, d = new_sid(), new_sid()
    tw.clock.advance(1)
    hold_c, stage_c = press(tw, c, "1")
    tw.clock.advance(1)
    hold_d, stage_d = press(tw, d, "1")
    assert (stage_c, stage_d) == ("queue", "queue")
    assert "nummer 1" in says(hold_c) and "nummer 2" in says(hold_d)
    for hold in (hold_c, hold_d):
        assert [el.tag for el in hold][-3:] == ["Say", "Play", "Redirect"]  # Redirect last
        assert hold.find("Dial") is None
        assert hold_music_seconds(tw, hold.find("Play").text) <= 20
        assert "/twilio/wait?" in hold.find("Redirect").text
    # x's call ends: a1 is free (this loop has no wrap-up).
    _, stage = dial_ends(tw, dial_x, x, "completed")
    assert stage == "connected"
    tw.clock.advance(1)
    newcomer, stage = press(tw, new_sid(), "1")  # a new caller does not jump the line
    assert stage == "queue" and "nummer 3" in says(newcomer)
    tw.clock.advance(14)
    # d comes back from its hold segment first, but c is ahead in line: d keeps waiting.
    _, again_d, stage = tw.post(hold_d.find("Redirect").text, {"CallSid": d})
    assert stage == "queue" and "nummer 2" in says(again_d)
    _, ring_c, stage = tw.post(hold_c.find("Redirect").text, {"CallSid": c})
    assert stage == "loop" and rung(ring_c) == ["a1"]


@pytest.mark.parametrize("segment", [15, 25])
def test_max_wait_counts_the_time_waited_then_overflows(tw, segment: int) -> None:
    occupy_both_agents(tw)
    sid = new_sid()
    root, stage = press(tw, sid, "1")
    assert stage == "queue"
    waited = 0
    while root.find("Redirect") is not None and waited < 200:
        tw.clock.advance(segment)  # Twilio comes back after the music (later if it is slow)
        waited += segment
        _, root, stage = tw.post(root.find("Redirect").text, {"CallSid": sid})
        if waited < 60:  # the loop's max_wait
            assert stage == "queue", waited
    assert waited == -(-60 // segment) * segment  # the first re-check at or past 60 s
    assert stage == "voicemail" and root.find("Record") is not None


def test_wrap_up_keeps_the_agent_from_loop_calls_for_the_loops_seconds(tw) -> None:
    first = new_sid()
    root, _ = press(tw, first, "2")  # loop `rolig`: a1 only, wrap_up 30, max_wait 0
    assert rung(root) == ["a1"]
    assert confirm(tw, root, "a1", "CAleg1") == "connected"
    tw.clock.advance(120)
    _, stage = dial_ends(tw, root, first, "completed")  # the conversation is over
    assert stage == "connected"
    tw.clock.advance(29)
    root, stage = press(tw, new_sid(), "2")
    assert rung(root) == [] and stage == "voicemail"  # a1 rests: one round of nobody
    tw.clock.advance(1)
    root, stage = press(tw, new_sid(), "2")
    assert rung(root) == ["a1"] and stage == "loop"


def test_wrap_up_follows_the_agent_into_other_loops(tw) -> None:
    first = new_sid()
    root, _ = press(tw, first, "2")  # rolig: wrap_up 30
    confirm(tw, root, "a1", "CAleg1")
    dial_ends(tw, root, first, "completed")
    root, _ = press(tw, new_sid(), "3")  # lang: no wrap-up of its own, a1 still rests
    assert rung(root) == ["a2"]


@pytest.mark.parametrize("final", ["completed", "busy", "failed", "no-answer", "canceled"])
def test_status_callback_ends_the_call_and_frees_its_ringing_agent(tw, final: str) -> None:
    sid = new_sid()
    root, _ = press(tw, sid, "2")  # a1 rings for this call
    assert rung(root) == ["a1"]
    blocked, _ = press(tw, new_sid(), "2")
    assert rung(blocked) == []  # a1 is reserved
    assert status(tw, sid, final) == 200
    with tw.client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        call = conn.execute(select(Call.__table__).where(  # type: ignore[attr-defined]
            Call.__table__.c.call_sid == sid)).one()  # type: ignore[attr-defined]
        live = conn.execute(select(Offer.__table__).where(  # type: ignore[attr-defined]
            Offer.__table__.c.live.is_(True))).all()  # type: ignore[attr-defined]
    assert call.status == final and call.ended_at is not None
    assert live == []
    root, _ = press(tw, new_sid(), "2")
    assert rung(root) == ["a1"]


def test_status_callback_ends_an_answered_call_whose_dial_action_never_came(tw) -> None:
    sid = new_sid()
    root, _ = press(tw, sid, "3")  # lang: linear a1, a2, no wrap-up
    confirm(tw, root, "a1", "CAleg1")
    root2, _ = press(tw, new_sid(), "3")
    assert rung(root2) == ["a2"]  # a1 is on the call
    assert status(tw, sid, "completed") == 200
    tw.clock.advance(1)
    root3, _ = press(tw, new_sid(), "3")
    assert rung(root3) == ["a1"]
    with tw.client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        call = conn.execute(select(Call.__table__).where(  # type: ignore[attr-defined]
            Call.__table__.c.call_sid == sid)).one()  # type: ignore[attr-defined]
    assert call.outcome == "connected" and call.answered_by == "a1"


def test_status_that_is_not_final_keeps_the_reservation(tw) -> None:
    sid = new_sid()
    press(tw, sid, "2")
    for interim in ("ringing", "in-progress", "queued", ""):
        assert status(tw, sid, interim) == 200
    root, _ = press(tw, new_sid(), "2")
    assert rung(root) == []


def set_agent(tw: Twilio, agent_id: str, **values: object) -> None:
    """Change an agent's run-time state as the desk would."""
    from sqlalchemy import update

    from routing.models import Agent

    agent = Agent.__table__  # type: ignore[attr-defined]
    with tw.client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(update(agent).where(agent.c.id == agent_id).values(**values))


def test_overflow_at_once_when_nobody_could_take_the_call_soon(tw) -> None:
    set_agent(tw, "a1", logged_in=False, logout_reason="sick")
    set_agent(tw, "a2", routing_stop=True)
    root, stage = press(tw, new_sid(), "1")  # ko has max_wait 60, yet nobody to wait for
    assert stage == "voicemail" and root.find("Record") is not None
    assert root.find("Play") is None


def test_waits_when_the_only_available_member_is_on_a_call(tw) -> None:
    set_agent(tw, "a1", logged_in=False, logout_reason="holiday")
    busy = new_sid()
    ring, _ = press(tw, busy, "1")
    assert rung(ring) == ["a2"]
    confirm(tw, ring, "a2", "CAleg")
    root, stage = press(tw, new_sid(), "1")
    assert stage == "queue" and "nummer 1" in says(root)


def test_position_moves_up_when_a_caller_ahead_hangs_up(tw) -> None:
    occupy_both_agents(tw)
    first, second, third = new_sid(), new_sid(), new_sid()
    holds = {}
    for sid in (first, second, third):
        tw.clock.advance(1)
        holds[sid], _ = press(tw, sid, "1")
    assert "nummer 3" in says(holds[third])
    status(tw, first, "completed")  # the first in line gives up
    tw.clock.advance(15)
    _, again, stage = tw.post(holds[third].find("Redirect").text, {"CallSid": third})
    assert stage == "queue" and "nummer 2" in says(again)


def test_callers_waiting_in_a_removed_loop_move_to_its_former_overflow(settings, engine) -> None:
    from switchboard.orgapply import apply_org
    from switchboard.orgfile import parse_org_text

    org = SMALL_ORG.replace("wrap_up: 0, overflow: voicemail}\n  - {id: rolig",
                            "wrap_up: 0, overflow: lang}\n  - {id: rolig")
    tw = make_app(settings, engine, org)
    occupy_both_agents(tw)
    sid = new_sid()
    hold, stage = press(tw, sid, "1")
    assert stage == "queue"
    without_ko = (org.replace('menu: {"1": ko, ', 'menu: {')
                  .split("  - {id: ko,")[0] + "  - {id: rolig" + org.split("  - {id: rolig")[1])
    apply_org(engine, parse_org_text(without_ko), now=tw.clock())
    tw.client.app.state.flow.cache.invalidate()  # the once-a-second version check, now
    tw.clock.advance(15)
    _, root, stage = tw.post(hold.find("Redirect").text, {"CallSid": sid})
    # lang's members are both on calls too: the caller now waits there, told so.
    assert "Lang" in says(root) and stage == "queue"


def test_a_dial_action_after_the_status_callback_reserves_nobody(tw) -> None:
    # The caller hangs up while it rings; Twilio's status callback happens to come first.
    sid = new_sid()
    ring, _ = press(tw, sid, "3")  # lang: linear a1, a2, max_wait 600
    assert rung(ring) == ["a1"]
    tw.clock.advance(6)
    status(tw, sid, "completed")
    _, after, _ = tw.post(ring.find("Dial").get("action"),
                          {"CallSid": sid, "DialCallStatus": "no-answer",
                           "CallStatus": "completed"})
    assert after.find("Dial") is None and after.find("Play") is None
    root, stage = press(tw, new_sid(), "3")
    assert stage == "loop" and rung(root) == ["a1"]  # nobody rings for the departed caller


def connected_calls(tw: Twilio) -> list[str]:
    """CallSids of the calls an agent has taken."""
    with tw.client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(select(Call.__table__.c.call_sid).where(  # type: ignore[attr-defined]
            Call.__table__.c.answered_by.is_not(None))).scalars())  # type: ignore[attr-defined]


def test_a_hold_redirect_after_the_status_callback_reserves_nobody(tw) -> None:
    occupy_both_agents(tw)
    sid = new_sid()
    hold, _ = press(tw, sid, "3")
    assert hold.find("Redirect") is not None
    status(tw, sid, "completed")  # the caller hangs up on hold
    for taken in connected_calls(tw):  # then a1 and a2 finish their calls
        status(tw, taken, "completed")
    tw.clock.advance(15)
    _, after, _ = tw.post(hold.find("Redirect").text, {"CallSid": sid})  # a late re-post
    assert after.find("Dial") is None
    root, _ = press(tw, new_sid(), "3")
    assert rung(root) == ["a1"]

"""An answered call as the desk sees it: who rings, who has the call and since when, wrap-up.

The simulator plays Twilio (ivr.simulator, `switchboard call --answer --talk`) against the app;
while the call lasts, presence and the call's row say who is on it (docs/desk.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ivr.models import Call
from ivr.simulator import Simulator
from routing.models import Offer
from tests.conftest import PUBLIC
from tests.ivr_steps import MAIN, confirm, dial_ends, press, rung, status
from tests.twilio_harness import Twilio, make_app, new_sid

ADMIN = {"Authorization": "Bearer test-admin-token"}
OKONOMI = ["may.tove", "janet", "ole.hansen", "kari.nordmann", "per.olsen"]  # ringall


@pytest.fixture
def tw(settings, engine) -> Twilio:
    return make_app(settings, engine)  # examples/org.yaml


def states(tw: Twilio) -> dict[str, str]:
    """Presence's one-word state per agent, as GET /api/presence gives it."""
    r = tw.client.get("/api/presence", headers=ADMIN)
    assert r.status_code == 200
    return {p["id"]: p["state"] for p in r.json()}


def call_row(engine, sid: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Call.__table__).where(Call.call_sid == sid)).one()


def offers(engine, sid: str) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Offer.agent_id, Offer.state)
                                 .where(Offer.call_sid == sid)).all())


def simulate(tw: Twilio, **kw: Any) -> tuple[Simulator, list[str]]:
    lines: list[str] = []
    sim = Simulator(public_base=PUBLIC, token=tw.token, to=MAIN, client=tw.client,
                    out=lines.append, **kw)
    sim.run()
    return sim, lines


def test_ringing_then_one_confirms_the_others_are_released_at_once(tw, engine) -> None:
    sid = new_sid()
    root, _ = press(tw, sid, "1")
    assert rung(root) == OKONOMI
    assert {a: states(tw)[a] for a in OKONOMI} == dict.fromkeys(OKONOMI, "ringing")
    assert call_row(engine, sid).answered_by is None
    tw.clock.advance(4)
    assert confirm(tw, root, "janet", "CAlegjanet") == "connected"
    got = states(tw)
    assert got["janet"] == "on_call"
    # Twilio cancels the other legs: nobody else's presence says ringing any more.
    assert {a: got[a] for a in OKONOMI if a != "janet"} == {
        a: "available" for a in OKONOMI if a != "janet"}
    row = call_row(engine, sid)
    assert (row.answered_by, row.stage, row.ended_at) == ("janet", "connected", None)
    assert row.answered_at.replace(tzinfo=None) == tw.clock().replace(tzinfo=None)
    assert offers(engine, sid) == {a: ("on_call" if a == "janet" else "released")
                                   for a in OKONOMI}


def test_when_the_call_ends_the_agent_goes_to_wrap_up(tw, engine) -> None:
    sid = new_sid()
    root, _ = press(tw, sid, "1")
    confirm(tw, root, "may.tove", "CAlegmay")
    tw.clock.advance(60)
    dial_ends(tw, root, sid, "completed")  # the bridged call is over
    assert states(tw)["may.tove"] == "wrap_up"  # okonomi's wrap_up: 10 s
    assert status(tw, sid, "completed") == 200
    row = call_row(engine, sid)
    assert row.ended_at is not None and (row.outcome, row.status) == ("connected", "completed")
    assert offers(engine, sid)["may.tove"] == "ended"
    tw.clock.advance(11)
    assert states(tw)["may.tove"] == "available"


def test_the_status_callback_alone_ends_an_answered_call_into_wrap_up(tw, engine) -> None:
    sid = new_sid()
    root, _ = press(tw, sid, "1")
    confirm(tw, root, "per.olsen", "CAlegper")
    assert status(tw, sid, "completed") == 200  # its <Dial action> never came
    assert states(tw)["per.olsen"] == "wrap_up"
    assert call_row(engine, sid).ended_at is not None


def test_simulator_answer_and_talk_keep_the_call_connected_while_it_lasts(tw, engine) -> None:
    seen: dict[str, Any] = {}

    def talking(seconds: float) -> None:  # the simulator's sleep: look at the desk's data
        seen["seconds"] = seconds
        seen["states"] = states(tw)
        seen["answered"] = {r.call_sid: (r.answered_by, r.stage, r.ended_at)
                            for r in _all_calls(engine)}
        tw.clock.advance(seconds)

    sim, lines = simulate(tw, press="1", answer="kari.nordmann", talk=90, sleep=talking)
    assert lines[0] == f"CALL {sim.call_sid}"
    assert lines[-1] == "OUTCOME connected"
    assert [line for line in lines if line.startswith("DIAL ")] == [
        "DIAL may.tove +4790000001 janet +4790000002 ole.hansen +4790000003 "
        "kari.nordmann +4790000004 per.olsen +4790000005"]
    assert seen["seconds"] == 90
    assert seen["states"]["kari.nordmann"] == "on_call"
    assert {seen["states"][a] for a in OKONOMI if a != "kari.nordmann"} == {"available"}
    assert seen["answered"][sim.call_sid] == ("kari.nordmann", "connected", None)
    assert sim.answered_by == "kari.nordmann"
    # Hung up after the talk: wrap-up, and the call's row says it ended.
    assert states(tw)["kari.nordmann"] == "wrap_up"
    row = call_row(engine, sim.call_sid)
    assert row.ended_at is not None and row.outcome == "connected"


def test_ctrl_c_while_talking_still_hangs_up_the_call(tw, engine) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    sim, lines = simulate(tw, press="1", answer="janet", talk=600, sleep=interrupted)
    assert lines[-1] == "OUTCOME connected"
    assert states(tw)["janet"] == "wrap_up"  # not left on_call
    assert call_row(engine, sim.call_sid).ended_at is not None


def test_simulator_answer_lets_the_other_phones_ring_out_until_the_agent_is_rung(tw) -> None:
    # lonn is linear over the case workers: ole.hansen, kari.nordmann, per.olsen, ingrid.berg …
    sim, lines = simulate(tw, press="2", answer="ingrid.berg", sleep=_no_sleep)
    dials = [line.split()[1] for line in lines if line.startswith("DIAL ")]
    assert dials == ["ole.hansen", "kari.nordmann", "per.olsen", "ingrid.berg"]
    assert lines[-1] == "OUTCOME connected" and sim.answered_by == "ingrid.berg"


def test_simulator_answer_by_an_agent_never_rung_ends_in_voicemail(tw) -> None:
    sim, lines = simulate(tw, press="3", answer="may.tove", sleep=_no_sleep)
    assert lines[-1] == "OUTCOME voicemail" and sim.answered_by is None


def test_simulator_prints_the_call_sid_the_server_stored_first(tw, engine) -> None:
    sim, lines = simulate(tw, press="1", dial_status="completed", sleep=_no_sleep)
    assert lines[0].split() == ["CALL", sim.call_sid]
    assert call_row(engine, sim.call_sid).answered_by == "may.tove"


@pytest.mark.parametrize("kw", [{"press": "1x"}, {"press": "12a"},
                                {"dial_status": "answered"}, {"dial_status": "COMPLETED"}])
def test_simulator_refuses_what_twilio_would_not_send(tw, kw: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="0-9, \\* and #|completed, busy, no-answer"):
        Simulator(public_base=PUBLIC, token=tw.token, to=MAIN, client=tw.client, **kw)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the simulator waited {seconds} s without --talk")


def _all_calls(engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Call.__table__)).all())

"""The database goes away during calls (a real outage through a TCP relay, not a mock): every
call still gets 200 and TwiML with a message and a voicemail, never a 500; when the database is
back, the next call gets the menu again without a restart (docs/http-api.md#twilio-webhooks).

SQLite cannot be cut off like that: the app's pooled connections keep the open file whatever
happens to its directory, and file permissions do not stop root. What can happen to it, a
writer that holds the lock past the busy timeout, is tested in test_sqlite_locked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine, make_url

from switchboard.db import make_engine, migrate
from tests.ivr_steps import assert_fallback, rung, start, status
from tests.tcp_relay import TcpRelay
from tests.twilio_harness import Twilio, make_app, new_sid

pytestmark = pytest.mark.postgres


@pytest.fixture
def relay(own_pg_url: str) -> Iterator[TcpRelay]:
    url = make_url(own_pg_url)
    r = TcpRelay(url.host or "127.0.0.1", url.port or 5432)
    r.start()
    yield r
    r.stop()


@pytest.fixture
def relayed_engine(own_pg_url: str, relay: TcpRelay) -> Iterator[Engine]:
    direct = make_engine(own_pg_url)
    migrate(direct)
    direct.dispose()
    url = make_url(own_pg_url).set(port=relay.port, host="127.0.0.1",
                               query={"connect_timeout": "2"})
    eng = make_engine(url.render_as_string(hide_password=False))
    yield eng
    eng.dispose()


def test_outage_answers_with_the_fallback_and_recovers_by_itself(
        settings, relayed_engine: Engine, relay: TcpRelay) -> None:
    tw: Twilio = make_app(settings, relayed_engine)
    code, root, stage = start(tw, new_sid())
    assert code == 200 and stage == "menu"
    in_progress = new_sid()
    _, at_menu, _ = start(tw, in_progress)

    relay.stop()
    # A new call, and a call already at the menu pressing its digit.
    assert_fallback(*start(tw, new_sid()))
    code, root, stage = tw.post(at_menu.find("Gather").get("action"),
                                {"CallSid": in_progress, "Digits": "1"})
    assert_fallback(code, root, stage)
    # The fallback's voicemail and the status callback answer without the database too.
    code, thanks, _ = tw.post(root.find("Record").get("action"),
                              {"CallSid": in_progress, "RecordingUrl": "https://x.test/RE1"})
    assert code == 200 and thanks.find("Hangup") is not None
    assert status(tw, in_progress, "completed") == 200

    relay.start()
    code, root, stage = start(tw, new_sid())
    assert code == 200 and stage == "menu" and root.find("Gather") is not None
    sid = new_sid()
    _, root, _ = start(tw, sid)
    _, ring, stage = tw.post(root.find("Gather").get("action"), {"CallSid": sid, "Digits": "1"})
    assert stage == "loop" and rung(ring)


def test_outage_in_the_middle_of_a_loop_call(settings, relayed_engine: Engine,
                                             relay: TcpRelay) -> None:
    tw: Twilio = make_app(settings, relayed_engine)
    sid = new_sid()
    _, root, _ = start(tw, sid)
    _, ring, _ = tw.post(root.find("Gather").get("action"), {"CallSid": sid, "Digits": "2"})
    relay.stop()
    assert_fallback(*tw.post(ring.find("Dial").get("action"),
                             {"CallSid": sid, "DialCallStatus": "no-answer"}))
    relay.start()
    # The same step again (Twilio's retry) now gets the real next step.
    code, nxt, stage = tw.post(ring.find("Dial").get("action"),
                               {"CallSid": sid, "DialCallStatus": "no-answer"})
    assert code == 200 and stage == "loop" and rung(nxt) != rung(ring)

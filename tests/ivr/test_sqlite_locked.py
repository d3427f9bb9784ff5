"""SQLite held by another writer past the busy timeout (a real lock, taken by a second
connection to the same file): calls get the fallback TwiML, never a 500, and once the lock is
gone the next call and Twilio's retry of the failed step work again, with no restart
(ivr.txn opens a new group on the same shared connection)."""

from __future__ import annotations

import sqlite3

import pytest

import switchboard.db
from switchboard.db import make_engine, migrate
from tests.ivr_steps import assert_fallback, rung, start
from tests.twilio_harness import make_app, new_sid


def test_a_locked_database_answers_with_the_fallback_and_recovers(
        settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(switchboard.db, "SQLITE_BUSY_SECONDS", 1)  # wait 1 s, not 5
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        tw = make_app(settings, engine)
        sid = new_sid()
        code, menu, stage = start(tw, sid)
        assert code == 200 and stage == "menu"
        digit = menu.find("Gather").get("action")

        holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"),
                                 isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            assert_fallback(*start(tw, new_sid()))
            assert_fallback(*tw.post(digit, {"CallSid": sid, "Digits": "1"}))
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        code, _, stage = start(tw, new_sid())
        assert code == 200 and stage == "menu"
        # Twilio's retry of the digit that failed now routes the call.
        code, ring, stage = tw.post(digit, {"CallSid": sid, "Digits": "1"})
        assert code == 200 and stage == "loop" and rung(ring)
    finally:
        engine.dispose()

"""/metrics parses with prometheus-client's own parser and moves with simulated calls; /readyz
answers 503 when the database is gone or its schema is behind the migrations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from calendar_sync.models import CalendarSource
from switchboard.app import create_app
from switchboard.db import make_engine
from switchboard.settings import Settings
from tests.ivr_steps import SMALL_ORG, confirm, dial_ends, press, status
from tests.twilio_harness import Twilio, make_app, new_sid


def scrape(tw: Twilio) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels), through prometheus-client's parser."""
    r = tw.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def calls(m: dict, loop: str, outcome: str) -> float:
    return m.get(("switchboard_calls_total", (("loop", loop), ("outcome", outcome))), 0.0)


def line(m: dict, loop: str, suffix: str, le: str | None = None) -> float:
    labels = (("le", le), ("loop", loop)) if le else (("loop", loop),)
    return m.get((f"switchboard_time_in_line_seconds_{suffix}", labels), 0.0)


def webhooks(m: dict, route: str) -> float:
    return m.get(("switchboard_webhook_seconds_count", (("route", route),)), 0.0)


def test_the_counters_move_with_simulated_calls(settings: Settings, engine: Engine) -> None:
    tw = make_app(settings, engine, SMALL_ORG)
    before = scrape(tw)
    assert calls(before, "ko", "answered") == 0 and calls(before, "ko", "abandoned") == 0
    assert before[("switchboard_mail_outbox_depth", ())] == 0
    assert before[("switchboard_calls_waiting", (("loop", "ko"),))] == 0

    sid = new_sid()
    root, _ = press(tw, sid, "1")
    mid = scrape(tw)
    assert mid[("switchboard_calls_waiting", (("loop", "ko"),))] == 1  # ringing a1 and a2
    tw.clock.advance(12)
    confirm(tw, root, "a1", new_sid())
    tw.clock.advance(60)
    dial_ends(tw, root, sid, "completed")
    status(tw, sid)
    gone = new_sid()
    press(tw, gone, "1")
    tw.clock.advance(40)
    status(tw, gone)

    after = scrape(tw)
    assert calls(after, "ko", "answered") == 1 and calls(after, "ko", "abandoned") == 1
    assert line(after, "ko", "count") == 2 and line(after, "ko", "sum") == 52.0
    assert line(after, "ko", "bucket", "20.0") == 1 and line(after, "ko", "bucket", "60.0") == 2
    assert webhooks(after, "/twilio/menu") == webhooks(before, "/twilio/menu") + 2
    assert webhooks(after, "/twilio/status") == webhooks(before, "/twilio/status") + 2
    assert after[("switchboard_calls_waiting", (("loop", "ko"),))] == 0
    # A scrape reads only what ended since the last one: nothing is counted twice.
    again = scrape(tw)
    assert calls(again, "ko", "answered") == 1 and line(again, "ko", "count") == 2


def test_calendar_sources_show_their_age_and_failures(settings: Settings,
                                                      engine: Engine) -> None:
    tw = make_app(settings, engine, SMALL_ORG)
    table = CalendarSource.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(insert(table), [
            {"agent_id": "a1", "kind": "ics", "failures": 0,
             "last_success_at": tw.clock.now - timedelta(minutes=5)},
            {"agent_id": "a2", "kind": "ews", "failures": 3, "last_success_at": None}])
    m = scrape(tw)
    assert m[("switchboard_calendar_sync_age_seconds", (("agent", "a1"), ("kind", "ics")))] == 300
    assert m[("switchboard_calendar_sync_failures", (("agent", "a2"), ("kind", "ews")))] == 3
    never = m[("switchboard_calendar_sync_age_seconds", (("agent", "a2"), ("kind", "ews")))]
    assert never != never  # NaN: never synced


def test_readyz(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    tw = make_app(settings, engine, SMALL_ORG)
    r = tw.client.get("/readyz")
    assert r.status_code == 200 and r.json()["schema"] == "ok"
    heads = r.json()["heads"]
    assert heads and sorted(r.json()["current"]) == heads
    with engine.begin() as conn:  # as if a newer release's migrations had not run yet
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
    r = tw.client.get("/readyz")
    assert r.status_code == 503 and r.json()["current"] == ["0001"]
    assert tw.client.get("/healthz").status_code == 200  # the process is still up

    gone = make_engine(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    app = create_app(settings, gone)
    from fastapi.testclient import TestClient

    r = TestClient(app).get("/readyz")
    assert r.status_code == 503 and r.json()["database"].startswith("unavailable")


def test_a_new_process_counts_the_whole_history(settings: Settings, engine: Engine) -> None:
    tw = make_app(settings, engine, SMALL_ORG)
    for _ in range(2):
        sid = new_sid()
        press(tw, sid, "1")
        tw.clock.advance(15)
        status(tw, sid)
        tw.clock.advance(20 * 24 * 3600)  # the two calls are weeks apart
    later = make_app(settings, engine, SMALL_ORG, clock=tw.clock)  # a restarted server
    m = scrape(later)
    assert calls(m, "ko", "abandoned") == 2 and line(m, "ko", "sum") == 30.0

"""Retention (docs/tickets.md#retention): the purge leaves no personal detail in any table, in
the SQLite file or its WAL, keeps the statistics, is audited by counts and is idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from console.audit import AUDIT
from identity.models import Member
from switchboard.models import metadata
from tests.ivr_steps import dial_ends, press, status
from tests.tickets.conftest import World
from tests.twilio_harness import new_sid
from tickets.models import Ticket
from tickets.retention import purge

TICKET = Ticket.__table__  # type: ignore[attr-defined]
MEMBER = Member.__table__  # type: ignore[attr-defined]
NUMBER = "+4798765432"  # a fictional caller, not in any register
STILL_OPEN = "+4797531864"  # a caller whose callback nobody has made yet
TEXT = "Medlemmet Ola Nordmann spør om sykepenger for juni"
NOTE = "Ring etter lunsj, han er på nattskift"
RECORDING = "https://api.twilio.com/rec/RErecordingpurgetest"
ADMIN = {"Authorization": "Bearer test-admin-token"}


def voicemail(tk: World, number: str, recording: str | None = None) -> int:
    """An unanswered caller in loop ko who reaches voicemail (and maybe leaves a message)."""
    sid = new_sid()
    root, _ = press(tk.tw, sid, "1", frm=number)
    root, stage = dial_ends(tk.tw, root, sid, "no-answer")
    assert stage == "voicemail"
    if recording:
        tk.tw.post(root.find("Record").get("action"),  # type: ignore[union-attr]
                   {"CallSid": sid, "RecordingUrl": recording, "RecordingDuration": "9"})
    tk.clock.advance(10)
    status(tk.tw, sid, "completed")
    with tk.engine.connect() as conn:
        return conn.execute(select(TICKET.c.id).where(TICKET.c.call_sid == sid)).scalar_one()


def every_row(engine: Engine) -> str:
    """Every value of every table, as one text to search."""
    out = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            out += [repr(tuple(r)) for r in conn.execute(select(table))]
    return "\n".join(out)


def file_bytes(db: Path) -> bytes:
    """The database file and its write-ahead log, as they lie on disk."""
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())


def report(tk: World, day: str) -> Any:
    r = tk.client.get(f"/api/stats/report?period=day&date={day}", headers=ADMIN)
    assert r.status_code == 200
    return r.json()


def test_purge_removes_personal_details_everywhere_and_keeps_statistics(
        tk: World, settings: Any) -> None:
    db = Path(settings.database_url.split("///", 1)[1])
    day = tk.clock().date().isoformat()
    cb = voicemail(tk, NUMBER, RECORDING)
    open_cb = voicemail(tk, STILL_OPEN)
    with tk.engine.begin() as conn:
        member = conn.execute(insert(MEMBER).values(
            membership_number="654321", name="Ola Nordmann").returning(MEMBER.c.id)).scalar_one()
    message = tk.create("a1", text=TEXT).json()
    with tk.engine.begin() as conn:  # as if verified on the call
        conn.execute(update(TICKET).where(TICKET.c.id == message["id"]).values(
            member_id=member, call_sid=conn.execute(select(TICKET.c.call_sid).where(
                TICKET.c.id == cb)).scalar_one()))
    v = tk.patch(message["id"], message["version"], "a1", note=NOTE).json()["version"]
    tk.patch(message["id"], v, "a1", status="done")
    assert tk.client.post(f"/api/tickets/{cb}/claim", headers=tk.auth("a2")).status_code == 200
    tk.client.post(f"/api/tickets/{cb}/callback-outcome", json={"outcome": "reached"},
                   headers=tk.auth("a2"))
    before = report(tk, day)
    # Two callers reached voicemail and one left a message: the figures the purge must keep.
    assert (before["total"]["callbacks"], before["total"]["voicemail"]) == (2, 1)
    raw = file_bytes(db) + every_row(tk.engine).encode()
    for secret in (NUMBER, TEXT, NOTE, RECORDING):
        assert secret.encode() in raw  # the test can see them before the purge

    tk.clock.advance(29 * 86400)
    early = purge(tk.engine, now=tk.clock())
    assert (early["tickets"], early["calls"]) == (0, 0)  # not yet: 30 days by default
    tk.clock.advance(2 * 86400)
    counts = purge(tk.engine, now=tk.clock())
    assert (counts["days"], counts["tickets"], counts["calls"]) == (30, 2, 2)
    assert counts["notes"] >= 1 and counts["mails"] >= 2

    rows = every_row(tk.engine)
    data = file_bytes(db)
    for name, secret in (("number", NUMBER), ("text", TEXT), ("note", NOTE),
                         ("recording", RECORDING)):
        in_rows, in_file = secret in rows, secret.encode() in data
        assert not in_rows, f"the {name} is still in a table"
        assert not in_file, f"the {name} is still in the SQLite file or its WAL"
    # The open callback is work not done: its ticket keeps the number to call.
    with tk.engine.connect() as conn:
        kept = conn.execute(select(TICKET.c.caller_number).where(TICKET.c.id == open_cb)
                            ).scalar_one()
    assert kept == STILL_OPEN
    with tk.engine.connect() as conn:
        shell = conn.execute(select(TICKET).where(TICKET.c.id == message["id"])).one()
        callback = conn.execute(select(TICKET).where(TICKET.c.id == cb)).one()
    assert (shell.department_id, shell.status, shell.kind, shell.member_id, shell.text) == (
        "innkreving", "done", "message", None, "")
    assert shell.created_at is not None and shell.purged_at is not None
    assert (callback.outcome, callback.caller_number, callback.loop_id) == ("reached", None, "ko")
    assert report(tk, day) == before  # statistics for the purged day are unchanged
    page = tk.client.get(f"/api/tickets/{message['id']}", headers=tk.auth("a1")).json()
    assert [e["kind"] for e in page["history"]].count("note") == 1  # the entry, not the words

    again = purge(tk.engine, now=tk.clock())
    assert all(v == 0 for k, v in again.items() if k not in ("days", "cutoff"))
    with tk.engine.connect() as conn:
        audits = conn.execute(select(AUDIT.c.after).where(AUDIT.c.kind == "retention")).all()
    assert len(audits) == 1 and audits[0].after["tickets"] == 2
    assert NUMBER not in repr(audits[0].after)


def test_switchboard_purge_verb(settings: Any, engine: Engine,
                                monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from switchboard.cli import app

    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    ok = runner.invoke(app, ["purge", "--days", "7"])
    assert ok.exit_code == 0, ok.output
    assert "purged what is older than 7 days" in ok.output and "0 tickets" in ok.output
    bad = runner.invoke(app, ["purge", "--days", "0"])
    assert bad.exit_code == 2 and "--days" in bad.output

"""The admin edits on PostgreSQL: concurrent edits of one loop take turns (one 412, nothing
lost), the export round trip, and the audit rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from console.admin_edit import OrgEditor, Stale, loop_of
from console.audit import AUDIT
from routing.snapshot import SnapshotCache
from switchboard.orgapply import apply_org
from switchboard.orgexport import export_text
from switchboard.orgfile import load_org_file, parse_org_text
from tests.switchboard.test_orgfile import EXAMPLE

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def pg_engine(own_pg_engine: Engine) -> Engine:
    """A database of this test's own (the session's is shared with other tests' orgs)."""
    apply_org(own_pg_engine, load_org_file(EXAMPLE, default_timezone="Europe/Oslo"), now=NOW)
    return own_pg_engine


def test_concurrent_loop_edits_on_postgres(pg_engine: Engine) -> None:
    editor = OrgEditor(pg_engine, SnapshotCache(pg_engine), lambda: NOW, "Europe/Oslo")
    loop, etag = editor.get(loop_of("okonomi"))
    changes = {"a": {"ring_timeout": 25}, "b": {"max_wait": 300}}
    outcome: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        def change(data: dict[str, Any]) -> None:
            loop_of("okonomi")(data).update(changes[name])
        barrier.wait()
        try:
            outcome[name] = editor.edit(who=name, kind="loop", object_id="okonomi",
                                        action="update", getter=loop_of("okonomi"),
                                        change=change, if_match=etag)
        except Stale as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in changes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stale = [n for n, o in outcome.items() if isinstance(o, Stale)]
    assert len(stale) == 1 and len(outcome) == 2
    loser = stale[0]
    exc = outcome[loser]
    assert isinstance(exc, Stale)
    winner = next(n for n in changes if n != loser)
    assert all(exc.current[k] == v for k, v in changes[winner].items())

    def retry(data: dict[str, Any]) -> None:
        loop_of("okonomi")(data).update(changes[loser])
    editor.edit(who=loser, kind="loop", object_id="okonomi", action="update",
                getter=loop_of("okonomi"), change=retry, if_match=exc.etag)
    final, _ = editor.get(loop_of("okonomi"))
    assert (final["ring_timeout"], final["max_wait"]) == (25, 300)
    with pg_engine.connect() as conn:
        rows = list(conn.execute(select(AUDIT).order_by(AUDIT.c.id)))
    assert [r.who for r in rows] == [winner, loser]
    assert rows[1].before == rows[0].after
    # And the export of the edited org applies as no change.
    text = export_text(pg_engine)
    report = apply_org(pg_engine, parse_org_text(text, "/srv/org.yaml",
                                                 default_timezone="Europe/Oslo"), now=NOW)
    assert report.changes == 0 and export_text(pg_engine) == text
    assert loop == {**final, "ring_timeout": 20, "max_wait": 120}

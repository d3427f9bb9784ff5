"""The desk on PostgreSQL with two server processes: a desk connected to one sees the offer
that a call handled by the other makes (the desk feed reads the database, not memory)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from switchboard.db import make_engine
from tests import pg
from tests.console.conftest import (
    TwilioCall,
    free_port,
    http_login,
    live_settings,
    prepare,
    serving,
)

pytestmark = pytest.mark.postgres


def test_a_desk_on_one_process_sees_an_offer_made_by_another(pg_url: str,
                                                             tmp_path: Path) -> None:
    name, url = pg.create_database()  # its own database: the org below is this test's
    try:
        ports = free_port(), free_port()
        settings = [live_settings(tmp_path, f"http://127.0.0.1:{p}").model_copy(
            update={"database_url": url}) for p in ports]
        engines = [make_engine(url), make_engine(url)]
        prepare(engines[0])
        with serving(settings[0], engines[0], ports[0]) as desk_side, \
                serving(settings[1], engines[1], ports[1]) as call_side:
            with httpx.Client(base_url=desk_side.url, follow_redirects=False,
                              timeout=20) as janet:
                assert http_login(janet, "janet").status_code == 303
                with janet.stream("GET", "/desk/events") as stream:
                    call: TwilioCall | None = None
                    popped = False
                    for line in stream.iter_lines():
                        if line == "event: status" and call is None:
                            call = TwilioCall(call_side, from_="+4791234567")
                            call.start(press="2")  # handled by the other process
                        if call is not None and f'data-call-id="{call.sid}"' in line:
                            popped = True
                            break
                    assert popped and call is not None
                    [item] = janet.get("/api/me/calls").json()["items"]
                    assert item["call_id"] == call.sid and item["status"] == "ringing"
                    call.hang_up()
        for engine in engines:
            engine.dispose()
    finally:
        pg.drop_database(name)

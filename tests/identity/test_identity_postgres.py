"""The register and a verification run the same on PostgreSQL."""

from __future__ import annotations

import pytest

from switchboard.db import make_engine, migrate
from tests.identity.test_identity_helpers import (
    KARI,
    Desk,
    add_agent,
    add_call,
    load_register,
    make_client,
)

pytestmark = pytest.mark.postgres


def test_import_lookup_and_verify_on_postgres(pg_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(pg_url)
    migrate(engine)
    load_register(engine, settings)
    load_register(engine, settings)  # idempotent on membership number
    token = add_agent(engine, "pg.agent")
    add_call(engine, "CA-pg-1", from_number=KARI["phone"], answered_by="pg.agent")
    d = Desk(make_client(settings, engine), token, "CA-pg-1")
    assert [c["membership_number"] for c in d.get().json()["candidates"]] == [KARI["number"]]
    d.post("/start", {"script": "member"})
    body = d.post("/member/verify", {"national_id": KARI["id"],
                                     "membership_number": KARI["number"]}).json()
    assert body["level"] == "member_verified"
    engine.dispose()

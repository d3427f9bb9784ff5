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


def test_lock_counts_and_admin_list_on_postgres(pg_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.identity.test_identity_helpers import OLA

    engine = make_engine(pg_url)
    migrate(engine)
    load_register(engine, settings)
    token = add_agent(engine, "pg.locker")
    client = make_client(settings, engine)
    for sid in ("CA-pg-l1", "CA-pg-l2"):  # two calls from one number: the count carries over
        add_call(engine, sid, from_number="+4791999998", answered_by="pg.locker")
    d = Desk(client, token, "CA-pg-l1")
    d.post("/start", {"script": "member"})
    wrong = {"national_id": KARI["id"], "membership_number": OLA["number"]}
    assert [d.post("/member/verify", wrong).json()["attempts_left"] for _ in range(2)] == [2, 1]
    d2 = Desk(client, token, "CA-pg-l2")
    d2.post("/start", {"script": "member"})
    assert d2.post("/member/verify", wrong).json()["locked"] is True
    admin = {"Authorization": "Bearer test-admin-token"}
    locked = client.get("/api/identity/locks", headers=admin).json()["locked"]
    assert [m["membership_number"] for m in locked] == [OLA["number"]]
    cleared = client.post("/api/identity/unlock", json={"call_sid": "CA-pg-l2"}, headers=admin)
    assert cleared.json()["cleared"] == 3  # the calling number's failures, on both calls
    engine.dispose()


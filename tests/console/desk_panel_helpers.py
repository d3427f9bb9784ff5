"""Shared set-up for the desk call panel's tests: the demo member register, departments, and
signed-in httpx clients with the desk's CSRF token."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx

from identity.pii import PiiHasher
from identity.register import parse_csv, store
from switchboard.db import session_scope
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from tests.console.conftest import ORG, ROOT, Live, csrf_from, http_login

DEMO_REGISTER = ROOT / "examples" / "members.csv"
DEPARTMENTS = """
departments:
  - {id: innkreving, name: Innkreving og kontingent, email: innkreving@example.org,
     deadline: 5 working days}
  - {id: medlem, name: Medlemsservice, email: medlemsservice@example.org, deadline: 24 hours}
"""
# The demo register's people used in the tests (fictional; synthetic test numbers).
KARI = {"membership_number": "100001", "national_id": "14837812314", "name": "Kari Prøvesen",
        "kid": "10000100000429", "phone": "+4791234567"}
OLA = {"membership_number": "100002", "national_id": "02916523451", "name": "Ola Fiktivsen",
       "phone": "+4791000002"}


def import_register(live: Live, path: Path = DEMO_REGISTER) -> None:
    """Import a member register the way `switchboard members import` does."""
    hasher = PiiHasher.from_settings(live.settings)
    now = dt.datetime.now(dt.UTC)
    result = parse_csv(path.read_bytes(), hasher=hasher, today=now.date(),
                       allow_test_ids=live.settings.allow_test_ids)
    assert not result.rejections, "the demo register imports cleanly"
    with session_scope(live.engine) as session:
        store(session, result.records, now=now)


def add_departments(live: Live) -> None:
    """Apply the test org again, now with two departments (Lønn's calls go to Medlemsservice)."""
    text = ORG.replace("strategy: ringall,", "strategy: ringall, department: medlem,")
    org = parse_org_text(text + DEPARTMENTS, "console-test.yaml", default_timezone="Europe/Oslo")
    apply_org(live.engine, org, now=dt.datetime.now(dt.UTC))


def signed_in(live: Live, agent_id: str) -> tuple[httpx.Client, str]:
    """An httpx client signed in as agent_id, and the CSRF token its desk carries."""
    client = httpx.Client(base_url=live.url, follow_redirects=False, timeout=10)
    assert http_login(client, agent_id).status_code == 303
    return client, csrf_from(client.get("/desk").text)

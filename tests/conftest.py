"""Shared fixtures: a migrated SQLite database per test, settings, and a signing helper."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from switchboard.db import make_engine, migrate
from switchboard.settings import Settings

TOKEN = "test-twilio-token-0123456789"
PUBLIC = "https://switchboard.test"
FIXTURES = Path(__file__).parent / "fixtures"


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    """X-Twilio-Signature for a POST of params to url."""
    return RequestValidator(token).compute_signature(url, params)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        SWITCHBOARD_DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
        SWITCHBOARD_PUBLIC_URL=PUBLIC,
        TWILIO_AUTH_TOKEN=TOKEN,
        SWITCHBOARD_ADMIN_TOKEN="test-admin-token",
        SWITCHBOARD_PII_KEY="test-pii-key-not-secret",
        SWITCHBOARD_ALLOW_TEST_IDS=True,
        _env_file=None,
    )


@pytest.fixture
def engine(settings: Settings):
    eng = make_engine(settings.database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's .env."""
    monkeypatch.chdir(tmp_path)
    os.environ.pop("SWITCHBOARD_DATABASE_URL", None)


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    from tests import pg

    if os.environ.get("SWITCHBOARD_TEST_POSTGRES_SKIP") == "1" or not pg.reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not reachable and CI=true")
        pytest.skip("PostgreSQL is not reachable: skipping the PostgreSQL tests")
    name, url = pg.create_database()
    yield url
    pg.drop_database(name)


@pytest.fixture
def own_pg_url(pg_url: str):
    """A PostgreSQL database of this test's own, for tests whose rows must not meet other
    tests' (an org of their own, purges, races, presence); dropped afterwards."""
    from tests import pg

    name, url = pg.create_database()
    yield url
    pg.drop_database(name)


@pytest.fixture
def own_pg_engine(own_pg_url: str):
    """An engine on own_pg_url, migrated to the latest schema."""
    eng = make_engine(own_pg_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def world(settings: Settings, engine):  # type: ignore[no-untyped-def]
    """The identity API tests' world: the demo register, two agents and a client."""
    from tests.identity.test_identity_helpers import make_world

    return make_world(settings, engine)

"""Finding the test PostgreSQL server; a fresh database per run (docs/development.md#tests)."""

from __future__ import annotations

import os
import sys
import uuid

import psycopg

DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    """The admin URL of the test server (plain libpq form)."""
    url = os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", DEFAULT)
    return url.replace("postgresql+psycopg://", "postgresql://")


def reachable() -> bool:
    """True when the server answers."""
    try:
        with psycopg.connect(server_url(), connect_timeout=3):
            return True
    except Exception:
        return False


def create_database() -> tuple[str, str]:
    """Create a fresh database; return (name, SQLAlchemy URL)."""
    name = "switchboard_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server_url().rsplit("/", 1)[0]
    return name, f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"


def drop_database(name: str) -> None:
    """Drop a database made by create_database, closing what still holds it."""
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__" and sys.argv[1:] == ["check"]:
    sys.exit(0 if reachable() else 1)

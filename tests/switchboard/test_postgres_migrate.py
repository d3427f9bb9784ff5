"""The same migrations run on PostgreSQL; several processes migrating at once do not collide."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect

from switchboard.db import make_engine, migrate

pytestmark = pytest.mark.postgres


def test_concurrent_migrations_on_postgres(pg_url: str) -> None:
    engines = [make_engine(pg_url) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(migrate, engines))
    tables = set(inspect(engines[0]).get_table_names())
    assert {"agent", "loop", "offer", "call", "ticket", "busy_interval"} <= tables
    for e in engines:
        e.dispose()

"""The statistics and /metrics on PostgreSQL: the same calls, the same exact figures."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from switchboard.settings import Settings
from tests.console import test_metrics as metrics_tests
from tests.console import test_stats as stats_tests

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(own_pg_engine: Engine) -> Engine:
    """A database of this test's own."""
    return own_pg_engine


def test_report_on_the_25_hour_day(settings: Settings, pg_engine: Engine) -> None:
    stats_tests.test_report_on_the_25_hour_day(settings, pg_engine)


def test_the_23_hour_day(settings: Settings, pg_engine: Engine) -> None:
    stats_tests.test_the_23_hour_day_and_the_week_around_it(settings, pg_engine)


def test_loops_now(settings: Settings, pg_engine: Engine) -> None:
    stats_tests.test_loops_now_counts_waiting_callers_and_today(settings, pg_engine)


def test_metrics_move_with_calls(settings: Settings, pg_engine: Engine) -> None:
    metrics_tests.test_the_counters_move_with_simulated_calls(settings, pg_engine)

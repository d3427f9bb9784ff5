"""The IVR's composition root: builds the flow context and the Twilio webhook router."""

from __future__ import annotations

from fastapi import FastAPI, Response
from sqlalchemy.engine import Engine

from ivr.context import FlowContext
from ivr.music import hold_wav
from ivr.router import build_router
from routing.snapshot import SnapshotCache
from switchboard.settings import Settings


def install(app: FastAPI, *, settings: Settings, engine: Engine) -> FlowContext:
    """Mount the webhooks and the hold music; return the flow context other packages read."""
    cache = SnapshotCache(engine, default_tz=settings.timezone, always_open=settings.always_open)
    ctx = FlowContext(settings=settings, engine=engine, cache=cache)
    app.include_router(build_router(ctx))

    @app.get("/static/hold.wav", include_in_schema=False)
    def hold_music() -> Response:
        return Response(hold_wav(), media_type="audio/wav")

    return ctx

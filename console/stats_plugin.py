"""Statistics and operations in the app: the stats API, the wallboard, the reports page,
/metrics, /readyz, and the middleware that gives each request an id and times the webhooks."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from starlette.responses import Response

from console import reports, stats_api, wallboard
from console.metrics import WEBHOOK_BUCKETS, CallCollector, RequestObserver, ready
from ivr.context import FlowContext
from switchboard.auth import Authenticator


def install(app: FastAPI, *, ctx: FlowContext, auth: Authenticator) -> None:
    """Mount the routes, /metrics, /readyz and the request middleware."""
    app.include_router(stats_api.build_router(ctx=ctx, auth=auth))
    app.include_router(wallboard.build_router(ctx=ctx, auth=auth))
    app.include_router(reports.build_router(ctx=ctx, auth=auth))

    # One registry per app (tests build many apps in one process).
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CallCollector(ctx))
    webhook = Histogram("switchboard_webhook_seconds", "Time to answer a Twilio webhook",
                        ["route"], registry=registry, buckets=WEBHOOK_BUCKETS)
    app.add_middleware(RequestObserver, histogram=webhook)  # type: ignore[arg-type]
    app.state.metrics_registry = registry

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Any:
        ok, body = ready(ctx.engine)
        return JSONResponse(body, status_code=200 if ok else 503)

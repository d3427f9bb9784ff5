"""The console's composition root: the JSON API for agents and admins, and the pages."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from console import admin_plugin, desk_panel, desk_stop, stats_plugin
from console.api import build_router as build_api
from console.auth_pages import build_router as build_auth_pages
from console.desk import build_router as build_desk
from console.events import Broadcaster, DeskFeed
from console.web import install_static, render
from ivr.context import FlowContext
from switchboard.auth import Authenticator

# Where JSON (or TwiML) answers errors; every other path is a page and gets an HTML page.
NOT_PAGES = ("/api/", "/twilio/", "/static/", "/metrics", "/healthz", "/readyz")
PAGE_ERRORS = {403: "error.403", 404: "error.404"}


async def _page_errors(request: Request, exc: Exception) -> Response:
    """403 and 404 on a page as a page in the user's language; the rest as FastAPI does."""
    assert isinstance(exc, StarletteHTTPException)
    key = PAGE_ERRORS.get(exc.status_code)
    if key is None or request.url.path.startswith(NOT_PAGES):
        return await http_exception_handler(request, exc)
    return render(request, "error.html", {"message": key}, status_code=exc.status_code)


def install(app: FastAPI, *, ctx: FlowContext, auth: Authenticator) -> None:
    """Mount the console's routers, pages and static files."""
    app.include_router(build_api(ctx=ctx, auth=auth))
    admin_plugin.install(app, ctx=ctx, auth=auth)  # admin API, agents' state
    app.include_router(build_auth_pages(auth))
    # One broadcaster per process for live pages; the desk feed fills it (console.events).
    hub = Broadcaster()
    feed = DeskFeed(ctx, hub)
    app.state.broadcaster, app.state.desk_feed = hub, feed
    app.include_router(build_desk(ctx=ctx, auth=auth, hub=hub, feed=feed))
    desk_panel.install(app, ctx=ctx, auth=auth)  # identity steps, data checks, tickets
    jobs = getattr(app.state, "jobs", None)
    if jobs is not None:
        jobs.append(lambda: desk_stop.job(ctx.engine, ctx.clock))
    stats_plugin.install(app, ctx=ctx, auth=auth)  # stats API, wallboard, reports, /metrics
    app.add_exception_handler(StarletteHTTPException, _page_errors)
    install_static(app)

"""The desk's call panel (docs/desk.md): identity steps, data checks, the ticket form, and the
call record page, mounted together on the app."""

from __future__ import annotations

from fastapi import FastAPI

from console import call_record, desk_checks, desk_identity, desk_ticket
from console.desk_callctx import PanelDeps
from ivr.context import FlowContext
from switchboard.auth import Authenticator


def install(app: FastAPI, *, ctx: FlowContext, auth: Authenticator) -> None:
    """Mount the panel's routes (the tickets package must be installed first)."""
    deps = PanelDeps(settings=ctx.settings, engine=ctx.engine, clock=lambda: ctx.clock())
    app.include_router(desk_identity.build_router(deps=deps, auth=auth))
    app.include_router(desk_checks.build_router(deps=deps, auth=auth))
    app.include_router(desk_ticket.build_router(deps=deps, tickets=app.state.tickets, auth=auth))
    app.include_router(call_record.build_router(deps=deps, cache=ctx.cache, auth=auth))

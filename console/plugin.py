"""The console's composition root: the JSON API for agents and admins, and (later) the pages."""

from __future__ import annotations

from fastapi import FastAPI

from console import admin_plugin
from console.api import build_router as build_api
from ivr.context import FlowContext
from switchboard.auth import Authenticator


def install(app: FastAPI, *, ctx: FlowContext, auth: Authenticator) -> None:
    """Mount the console's routers."""
    app.include_router(build_api(ctx=ctx, auth=auth))
    admin_plugin.install(app, ctx=ctx, auth=auth)  # admin API, agents' state

"""The identity package's composition root: the verification API for agents."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from identity.admin import build_admin_router
from identity.router import build_router
from switchboard.auth import Authenticator
from switchboard.settings import Settings


def install(app: FastAPI, *, settings: Settings, engine: Engine, auth: Authenticator) -> None:
    """Mount the identity API: the desk's per-call routes and the admin's lock routes."""
    app.include_router(build_router(settings=settings, engine=engine, auth=auth))
    app.include_router(build_admin_router(settings=settings, engine=engine, auth=auth))

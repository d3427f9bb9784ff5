"""JSON endpoints for the desk's identity checks: /api/calls/{call_sid}/identity/…"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.engine import Engine

from switchboard.auth import Authenticator
from switchboard.settings import Settings


def build_router(*, settings: Settings, engine: Engine, auth: Authenticator) -> APIRouter:
    """The identity API routes."""
    return APIRouter(prefix="/api/calls/{call_sid}/identity", tags=["identity"])

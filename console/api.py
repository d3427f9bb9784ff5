"""JSON API: presence (docs/http-api.md#presence)."""

from fastapi import APIRouter, Depends

from ivr.context import FlowContext
from routing.presence import presence
from switchboard.auth import Authenticator, Principal


def build_router(*, ctx: FlowContext, auth: Authenticator) -> APIRouter:
    """The /api routes of the console."""
    router = APIRouter(prefix="/api", tags=["presence"])

    @router.get("/presence", summary="Every agent's presence: offerable, state, reasons, "
                                     "busy_until, notes")
    def get_presence(_: Principal = Depends(auth.any_user)) -> list[dict]:
        snap = ctx.cache.get()
        with ctx.engine.connect() as conn:
            return presence(conn, snap, now=ctx.clock())

    return router

"""Thin Twilio webhook routes: check the signature, run one flow step, return TwiML.

Handlers are `async` and call the (short, synchronous) database work directly: on SQLite the
writes are serialised anyway, and skipping the thread-pool hop keeps p99 low (README, Speed).
Any failure below the signature check answers with static TwiML, so a caller never meets an
error page or silence, even when the database is down.

The routes take the bare `Request` and read their few query integers themselves instead of
declaring `Depends(...)` and `Query(...)` parameters: FastAPI's dependency and parameter
resolution cost about 0.1 ms per webhook, a tenth of a menu step (README, Performance).
The signature check is the same `TwilioSignature` as before and still runs first, and a bad
query integer still gets FastAPI's 422.
"""

import logging
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from twilio.twiml.voice_response import VoiceResponse

from ivr import flow
from ivr.context import FlowContext
from ivr.signature import TwilioSignature
from ivr.twiml import fallback

TWIML = "application/xml"
log = logging.getLogger("switchboard.ivr")


def query_int(request: Request, name: str, default: int | None, *, ge: int = 0,
              le: int | None = None) -> int:
    """A non-negative integer query parameter in [ge, le]; 422 when missing or invalid."""
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise RequestValidationError([{"type": "missing", "loc": ("query", name),
                                           "msg": "Field required", "input": None}])
        return default
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or int(value) < ge or (
            le is not None and int(value) > le):
        bounds = f"an integer from {ge}" + (f" to {le}" if le is not None else "")
        raise RequestValidationError([{"type": "value_error", "loc": ("query", name),
                                       "msg": f"Input should be {bounds}", "input": raw}])
    return int(value)


def build_router(ctx: FlowContext) -> APIRouter:
    """The /twilio routes, all behind the signature check."""
    settings = ctx.settings
    assert settings.twilio_auth_token is not None
    signed = TwilioSignature(settings.twilio_auth_token.get_secret_value(), settings.public_base)
    router = APIRouter(prefix="/twilio", tags=["twilio"])

    async def run(fn: Callable[[], tuple[str, str | None]]) -> Response:
        try:
            body, stage = fn()
            await ctx.tx.committed()  # never answer before the step is stored (ivr.txn)
            # Built here, inside the fallback: writing the answer out (its text as UTF-8, the
            # stage as a header) can fail too, on text that is not text (a lone surrogate).
            return Response(body, media_type=TWIML, headers={"X-Switchboard-Stage": stage or ""})
        except Exception as exc:  # the caller must hear something whatever broke
            log.error("webhook step failed (%s); answering with the fallback TwiML",
                      type(exc).__name__)
            return Response(fallback(settings.public_base), media_type=TWIML,
                            headers={"X-Switchboard-Stage": "fallback"})

    def need_sid(form: dict[str, str]) -> Response | None:
        if form.get("CallSid"):
            return None
        vr = VoiceResponse()
        vr.say("Beklager, vi har tekniske problemer.", language="nb-NO")
        vr.hangup()
        return Response(str(vr), media_type=TWIML)

    # Starlette tries the routes in order, each for a few microseconds: the two steps of
    # every call (the measured mix of docs/benchmarks.md) go first.
    @router.post("/status")
    async def status(request: Request) -> Response:
        form = await signed(request)
        try:
            body = flow.status(ctx, form)
            await ctx.tx.committed()
            return Response(body, media_type=TWIML)  # inside: writing it out can fail too
        except Exception as exc:
            log.error("status callback failed (%s)", type(exc).__name__)
            return Response(str(VoiceResponse()), media_type=TWIML)

    @router.post("/menu")
    async def menu(request: Request) -> Response:
        form = await signed(request)
        play = query_int(request, "play", 1, ge=1, le=99)
        return need_sid(form) or await run(lambda: flow.menu(ctx, form, play))

    @router.post("/voice")
    async def voice(request: Request) -> Response:
        form = await signed(request)
        return need_sid(form) or await run(lambda: flow.voice(ctx, form))

    @router.post("/dial")
    async def dial(request: Request) -> Response:
        form = await signed(request)
        a = query_int(request, "a", 0)
        return need_sid(form) or await run(lambda: flow.dial_action(ctx, form, a))

    @router.post("/wait")
    async def wait(request: Request) -> Response:
        form = await signed(request)
        a, w = query_int(request, "a", 0), query_int(request, "w", 0)
        return need_sid(form) or await run(lambda: flow.wait(ctx, form, a, w))

    @router.post("/whisper")
    async def whisper(request: Request) -> Response:
        form = await signed(request)
        o = query_int(request, "o", None)
        return await run(lambda: flow.whisper(ctx, form, o))

    @router.post("/whisper/confirm")
    async def whisper_confirm(request: Request) -> Response:
        form = await signed(request)
        o = query_int(request, "o", None)
        return await run(lambda: flow.whisper_confirm(ctx, form, o))

    @router.post("/recorded")
    async def recorded(request: Request) -> Response:
        form = await signed(request)
        a, fallback_ = query_int(request, "a", 0), query_int(request, "fallback", 0)
        if fallback_ or not form.get("CallSid"):
            vr = VoiceResponse()
            vr.say("Takk for beskjeden. Ha det bra.", language="nb-NO")
            vr.hangup()
            return Response(str(vr), media_type=TWIML)
        return await run(lambda: flow.recorded(ctx, form, a))

    return router

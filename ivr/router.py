"""Thin Twilio webhook routes: check the signature, run one flow step, return TwiML.

Handlers are `async` and call the (short, synchronous) database work directly: on SQLite the
writes are serialised anyway, and skipping the thread-pool hop keeps p99 low (README, Speed).
Any failure below the signature check answers with static TwiML, so a caller never meets an
error page or silence, even when the database is down.
"""

import logging
from collections.abc import Callable

from fastapi import APIRouter, Depends, Query, Response
from twilio.twiml.voice_response import VoiceResponse

from ivr import flow
from ivr.context import FlowContext
from ivr.signature import TwilioSignature
from ivr.twiml import fallback

TWIML = "application/xml"
log = logging.getLogger("switchboard.ivr")


def build_router(ctx: FlowContext) -> APIRouter:
    """The /twilio routes, all behind the signature check."""
    settings = ctx.settings
    assert settings.twilio_auth_token is not None
    signed = TwilioSignature(settings.twilio_auth_token.get_secret_value(), settings.public_base)
    router = APIRouter(prefix="/twilio", tags=["twilio"])

    def run(fn: Callable[[], tuple[str, str | None]]) -> Response:
        try:
            body, stage = fn()
        except Exception as exc:  # the caller must hear something whatever broke
            log.error("webhook step failed (%s); answering with the fallback TwiML",
                      type(exc).__name__)
            return Response(fallback(settings.public_base), media_type=TWIML,
                            headers={"X-Switchboard-Stage": "fallback"})
        return Response(body, media_type=TWIML, headers={"X-Switchboard-Stage": stage or ""})

    def need_sid(form: dict[str, str]) -> Response | None:
        if form.get("CallSid"):
            return None
        vr = VoiceResponse()
        vr.say("Beklager, vi har tekniske problemer.", language="nb-NO")
        vr.hangup()
        return Response(str(vr), media_type=TWIML)

    @router.post("/voice")
    async def voice(form: dict[str, str] = Depends(signed)) -> Response:
        return need_sid(form) or run(lambda: flow.voice(ctx, form))

    @router.post("/menu")
    async def menu(play: int = Query(1, ge=1, le=99),
                   form: dict[str, str] = Depends(signed)) -> Response:
        return need_sid(form) or run(lambda: flow.menu(ctx, form, play))

    @router.post("/dial")
    async def dial(a: int = Query(0, ge=0), form: dict[str, str] = Depends(signed)) -> Response:
        return need_sid(form) or run(lambda: flow.dial_action(ctx, form, a))

    @router.post("/wait")
    async def wait(a: int = Query(0, ge=0), w: int = Query(0, ge=0),
                   form: dict[str, str] = Depends(signed)) -> Response:
        return need_sid(form) or run(lambda: flow.wait(ctx, form, a, w))

    @router.post("/whisper")
    async def whisper(o: int = Query(..., ge=0), agent: str = Query(""),
                      form: dict[str, str] = Depends(signed)) -> Response:
        return run(lambda: flow.whisper(ctx, form, o))

    @router.post("/whisper/confirm")
    async def whisper_confirm(o: int = Query(..., ge=0),
                              form: dict[str, str] = Depends(signed)) -> Response:
        return run(lambda: flow.whisper_confirm(ctx, form, o))

    @router.post("/recorded")
    async def recorded(a: int = Query(0, ge=0), fallback_: int = Query(0, alias="fallback"),
                       form: dict[str, str] = Depends(signed)) -> Response:
        if fallback_ or not form.get("CallSid"):
            vr = VoiceResponse()
            vr.say("Takk for beskjeden. Ha det bra.", language="nb-NO")
            vr.hangup()
            return Response(str(vr), media_type=TWIML)
        return run(lambda: flow.recorded(ctx, form, a))

    @router.post("/status")
    async def status(form: dict[str, str] = Depends(signed)) -> Response:
        try:
            body = flow.status(ctx, form)
        except Exception as exc:
            log.error("status callback failed (%s)", type(exc).__name__)
            body = str(VoiceResponse())
        return Response(body, media_type=TWIML)

    return router

"""Thin Twilio webhook routes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.engine import Engine
from twilio.twiml.voice_response import VoiceResponse

from ivr.signature import TwilioSignature
from switchboard.settings import Settings

TWIML = "application/xml"


def build_router(*, settings: Settings, engine: Engine) -> APIRouter:
    """The /twilio routes, all behind the signature check."""
    assert settings.twilio_auth_token is not None
    signed = TwilioSignature(settings.twilio_auth_token.get_secret_value(), settings.public_base)
    router = APIRouter(prefix="/twilio")

    @router.post("/voice")
    async def voice(form: dict[str, str] = Depends(signed)) -> Response:
        vr = VoiceResponse()
        vr.say("Velkommen.", language="nb-NO")
        return Response(str(vr), media_type=TWIML)

    return router

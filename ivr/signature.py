"""Twilio's X-Twilio-Signature check, against SWITCHBOARD_PUBLIC_URL (so a TLS proxy works)."""

from __future__ import annotations

from fastapi import HTTPException, Request
from twilio.request_validator import RequestValidator


def public_url_for(request: Request, public_base: str) -> str:
    """The URL Twilio signed: our public base plus the request's path and query."""
    url = public_base + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


class TwilioSignature:
    """A FastAPI dependency: 403 unless the request carries a valid Twilio signature."""

    def __init__(self, auth_token: str, public_base: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_base = public_base.rstrip("/")

    async def __call__(self, request: Request) -> dict[str, str]:
        form = await request.form()
        params = {k: str(v) for k, v in form.multi_items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        url = public_url_for(request, self.public_base)
        if not signature or not self.validator.validate(url, params, signature):
            raise HTTPException(status_code=403, detail="invalid Twilio signature")
        return params

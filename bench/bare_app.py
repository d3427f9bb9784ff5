"""The baseline of docs/benchmarks.md: a bare FastAPI app that does only what every webhook must.

It parses the same form, checks X-Twilio-Signature with twilio's RequestValidator against
SWITCHBOARD_PUBLIC_URL (as ivr/signature.py does) and answers one fixed VoiceResponse. The
webhook bench serves it with uvicorn in a subprocess, the same way `switchboard serve` runs.
Run: python -m bench.bare_app --port 8100   (TWILIO_AUTH_TOKEN and SWITCHBOARD_PUBLIC_URL set)
"""

from __future__ import annotations

import argparse
import os

from fastapi import FastAPI, HTTPException, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse


def create_bare_app(auth_token: str, public_base: str) -> FastAPI:
    """The bare app: signature check plus a fixed TwiML answer on every /twilio/* POST."""
    validator = RequestValidator(auth_token)
    base = public_base.rstrip("/")
    vr = VoiceResponse()
    vr.say("Takk.", language="nb-NO")
    fixed = str(vr)
    app = FastAPI()

    @app.post("/twilio/{step:path}")
    async def webhook(step: str, request: Request) -> Response:
        form = await request.form()
        params = {k: str(v) for k, v in form.multi_items()}
        url = base + request.url.path + ("?" + request.url.query if request.url.query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, params, signature):
            raise HTTPException(status_code=403, detail="invalid Twilio signature")
        return Response(fixed, media_type="application/xml")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    """Serve the bare app like `switchboard serve` serves ours (uvicorn, one process)."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    app = create_bare_app(os.environ["TWILIO_AUTH_TOKEN"],
                          os.environ.get("SWITCHBOARD_PUBLIC_URL", "http://127.0.0.1:8000"))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()

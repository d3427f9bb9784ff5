"""Twilio's X-Twilio-Signature check, against SWITCHBOARD_PUBLIC_URL (so a TLS proxy works).

Two shortcuts keep this, the part every webhook pays, at about half its textbook cost (80 of
160 us per request; README, Performance). Neither changes what is accepted:

- A urlencoded body (what Twilio sends) is parsed with the standard library's `parse_qsl`,
  decoding exactly as Starlette's `request.form()` does (bytes as Latin-1, then
  `unquote_plus` as UTF-8 with replacement); test_signature holds the two to each other on
  generated bodies. Any other content type still goes through `request.form()`.
- `RequestValidator.validate` computes the HMAC twice, for the URL with and without its
  port, and accepts either. The URL we build is always one of the two (it has a port exactly
  when SWITCHBOARD_PUBLIC_URL has one), so we first compare that one with twilio's own
  `compute_signature` and `compare`, and call the full `validate` only when it does not
  match. A request is accepted exactly when `validate` accepts it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from twilio.request_validator import RequestValidator, compare

from switchboard.logs import CALL_SID

URLENCODED = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000  # as Starlette's request.form()


def public_url_for(request: Request, public_base: str) -> str:
    """The URL Twilio signed: our public base plus the request's path and query."""
    url = public_base + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def form_params(request: Request) -> dict[str, str]:
    """The posted form as a dict (the last value of a repeated field wins)."""
    ctype = request.headers.get("content-type", "")
    if ctype.partition(";")[0].strip().lower() != URLENCODED:
        form = await request.form()
        return {k: str(v) for k, v in form.multi_items()}
    body = await request.body()
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True,
                          max_num_fields=MAX_FIELDS)
    except ValueError:
        raise HTTPException(status_code=400, detail="too many form fields") from None
    return dict(pairs)


class TwilioSignature:
    """A FastAPI dependency: 403 unless the request carries a valid Twilio signature."""

    def __init__(self, auth_token: str, public_base: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_base = public_base.rstrip("/")

    def valid(self, url: str, params: dict[str, str], signature: str) -> bool:
        """Whether `validate` accepts the signature (see the module's docstring)."""
        if not signature:
            return False
        if "bodySHA256" not in url and compare(
                self.validator.compute_signature(url, params), signature):
            return True
        return bool(self.validator.validate(url, params, signature))

    async def __call__(self, request: Request) -> dict[str, str]:
        params = await form_params(request)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not self.valid(public_url_for(request, self.public_base), params, signature):
            raise HTTPException(status_code=403, detail="invalid Twilio signature")
        CALL_SID.set(params.get("CallSid"))  # the request's log lines carry it (switchboard.logs)
        return params

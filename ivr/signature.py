"""Twilio's X-Twilio-Signature check, against SWITCHBOARD_PUBLIC_URL (so a TLS proxy works).

A request is accepted exactly when the installed twilio's `RequestValidator.validate` accepts
it, given what twilio's documentation hands it: the URL Twilio requested (our public base plus
the path and query), the signing algorithm named by `X-Twilio-Webhooks-Signature-Settings`
(HMAC-SHA1 without it), and the form fields, or, when the URL carries `bodySHA256` (JSON
webhooks), the body's text, whose hash `validate` then checks as well.

Two shortcuts keep this, the part every webhook pays, at about half its textbook cost (80 of
160 us per request; README, Performance). Neither changes what is accepted:

- A urlencoded body (what Twilio sends) is parsed with the standard library's `parse_qsl`,
  decoding exactly as Starlette's `request.form()` does (bytes as Latin-1, then
  `unquote_plus` as UTF-8 with replacement); test_signature holds the two to each other on
  generated bodies. Any other content type still goes through `request.form()`.
- `validate` computes the HMAC twice, for `urlparse(url).geturl()` with and without its
  port, and accepts either. When the URL is our (plain, see `plain_http_url`) public base
  followed by a plain path and query, `geturl()` gives it back unchanged, so it is one of the
  two: we first compare that one with twilio's own `compute_signature` and `compare`, and
  call the full `validate` only when it does not match. Any other URL (`HTTPS://…`, a leading
  space, a trailing `?`, `#` or `;`, a query with odd characters) goes to `validate` alone.
  The base is made plain once, at start-up, so the hot path adds one prefix test and one
  regular-expression match.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, parse_qsl, urlparse

from fastapi import HTTPException, Request
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    compare,
    get_signature_algorithm,
)

from switchboard.logs import CALL_SID
from switchboard.settings import plain_http_url

URLENCODED = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000  # as Starlette's request.form()
BODY_HASH = "bodySHA256"
# After the plain base: a path without ';' (urlparse would split parameters off it) and an
# optional non-empty query without '#' or white space (urlparse would drop or split them).
_PLAIN_REST = re.compile(r"(?:/[A-Za-z0-9._~%!$&'()*+,=:@-]*)+"
                         r"(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]+)?")


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
        self.public_base = plain_http_url(public_base)  # once, here: see the module's notes

    def _plain(self, url: str) -> bool:
        """Whether `urlparse(url).geturl()` is url itself (our plain base, a plain rest)."""
        return url.startswith(self.public_base) and _PLAIN_REST.fullmatch(
            url, len(self.public_base)) is not None

    def valid(self, url: str, params: dict[str, str] | str, signature: str,
              algorithm: str | None = None) -> bool:
        """Whether `validate` accepts the signature (see the module's docstring)."""
        if not signature:
            return False
        if isinstance(params, dict) and BODY_HASH not in url and self._plain(url):
            try:
                if compare(self.validator.compute_signature(url, params, algorithm),
                           signature):
                    return True
            except ValueError:  # an algorithm this twilio does not know: validate refuses it
                pass
        return bool(self.validator.validate(url, params, signature, algorithm))

    async def __call__(self, request: Request) -> dict[str, str]:
        signature = request.headers.get("X-Twilio-Signature", "")
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        url = public_url_for(request, self.public_base)
        signed: dict[str, str] | str
        if BODY_HASH in url and BODY_HASH in parse_qs(urlparse(url).query):  # as validate
            # The body is signed by its hash: `validate` checks the text Twilio hashed.
            try:
                signed = (await request.body()).decode("utf-8")
            except UnicodeDecodeError:  # not the text Twilio hashed, whatever it says
                raise HTTPException(status_code=403, detail="invalid Twilio signature") from None
            params = await form_params(request)
        else:
            signed = params = await form_params(request)
        if not self.valid(url, signed, signature, algorithm):
            raise HTTPException(status_code=403, detail="invalid Twilio signature")
        CALL_SID.set(params.get("CallSid"))  # the request's log lines carry it (switchboard.logs)
        return params

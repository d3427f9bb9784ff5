"""Every Twilio entry point refuses requests without a valid signature (docs/http-api.md)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import ValidationError
from starlette.requests import Request
from twilio.request_validator import (
    RequestValidator,
    add_port,
    get_signature_algorithm,
    remove_port,
)

from ivr.signature import URLENCODED, TwilioSignature, form_params
from switchboard.app import create_app
from switchboard.settings import Settings
from tests.conftest import PUBLIC, sign

PARAMS = {"CallSid": "CA00000000000000000000000000000001", "From": "+4791234567",
          "To": "+4722000000", "CallStatus": "ringing"}


def test_signed_request_gets_twiml_and_unsigned_gets_403(settings, engine) -> None:
    client = TestClient(create_app(settings, engine))
    url = PUBLIC + "/twilio/voice"
    ok = client.post("/twilio/voice", data=PARAMS,
                     headers={"X-Twilio-Signature": sign(url, PARAMS)})
    assert ok.status_code == 200
    assert ET.fromstring(ok.text).tag == "Response"
    assert client.post("/twilio/voice", data=PARAMS).status_code == 403
    bad = sign(url, PARAMS, token="wrong-token")
    assert client.post("/twilio/voice", data=PARAMS,
                       headers={"X-Twilio-Signature": bad}).status_code == 403
    other = sign(PUBLIC + "/twilio/status", PARAMS)
    assert client.post("/twilio/voice", data=PARAMS,
                       headers={"X-Twilio-Signature": other}).status_code == 403


# The shortcuts of ivr/signature.py accept and parse exactly what the textbook way does.

BODY_CHARS = st.sampled_from(list("aZ09=&;+%2Bx-_.~ ") + ["%C3%A6", "%ZZ", "æ", "\u00ff"])


def _request(body: bytes, ctype: str = URLENCODED) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/twilio/voice", "query_string": b"",
             "headers": [(b"content-type", ctype.encode())]}
    return Request(scope, receive)


async def _starlette_form(body: bytes) -> dict[str, str]:
    form = await _request(body).form()
    return {k: str(v) for k, v in form.multi_items()}


@hsettings(max_examples=300, deadline=None)
@given(st.lists(BODY_CHARS, max_size=40).map("".join),
       st.sampled_from(["utf-8", "latin-1"]))
def test_form_parse_matches_starlettes(text: str, encoding: str) -> None:
    body = text.encode(encoding, errors="replace")
    ours = asyncio.run(form_params(_request(body)))
    assert ours == asyncio.run(_starlette_form(body))


URLS = [
    "https://sb.example.org/twilio/menu?play=1", "https://sb.example.org:443/twilio/status",
    "http://127.0.0.1:8000/twilio/wait?a=1&w=2", "http://sb.example.org/twilio/voice",
    "https://sb.example.org:8443/twilio/dial?a=3", "https://sb.example.org/sb/twilio/voice"]
# URLs that `validate` reads in their `urlparse().geturl()` form, not as written.
ODD_URLS = [
    "HTTPS://sb.example.org/twilio/voice", " https://sb.example.org/twilio/voice",
    "https://sb.example.org/twilio/voice?", "https://sb.example.org/twilio/voice#",
    "https://sb.example.org/twilio/voice;", "http://127.0.0.1:8000/twilio/wait;?a=1&w=2",
    "https://sb.example.org/twilio/menu?play=1#"]


def _other_port_form(url: str) -> str:
    parsed = urlparse(url)
    return add_port(parsed) if parsed.port is None else remove_port(parsed)


def _base(url: str) -> str:
    """The plain public base a deployment serving url would be configured with."""
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


@hsettings(max_examples=300, deadline=None)
@given(st.sampled_from(URLS + ODD_URLS),
       st.dictionaries(st.sampled_from(["CallSid", "Digits", "From", "To", "x"]),
                       st.text(max_size=12), max_size=5),
       st.sampled_from(["same", "parsed", "other_port", "other_url", "other_token", "empty"]))
@example(url=ODD_URLS[0], params=PARAMS, how="same")
@example(url=ODD_URLS[1], params=PARAMS, how="same")
@example(url=ODD_URLS[2], params=PARAMS, how="same")
@example(url=ODD_URLS[3], params=PARAMS, how="same")
@example(url=ODD_URLS[4], params=PARAMS, how="same")
@example(url=ODD_URLS[5], params=PARAMS, how="same")
@example(url=ODD_URLS[6], params=PARAMS, how="same")
def test_signature_check_accepts_exactly_what_validate_accepts(
        url: str, params: dict[str, str], how: str) -> None:
    token = "t" * 32
    check = TwilioSignature(token, _base(url))  # so the shortcut is tried
    signed_url = {"same": url, "parsed": urlparse(url).geturl(),
                  "other_port": _other_port_form(url),
                  "other_url": url + "&extra=1"}.get(how, url)
    signature = ("" if how == "empty" else
                 RequestValidator("u" * 32 if how == "other_token" else token)
                 .compute_signature(signed_url, params))
    expected = bool(signature) and RequestValidator(token).validate(url, params, signature)
    assert check.valid(url, params, signature) == expected
    if url in URLS:
        assert expected == (how in ("same", "parsed", "other_port"))


# The whole webhook check, as a request meets it: signature-settings header (the algorithm)
# and JSON bodies signed by their hash (`bodySHA256` in the URL) included.

BASE = "https://sb.example.org"
JSON = '{"CallSid": "CA01", "Digits": "1"}'
ALGORITHMS = [None, "algorithm=HMAC_SHA1", "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
              "algorithm=hmac_sha256", "algorithm=HMAC_SHA512", "key=only"]


def _webhook(path_query: str, body: bytes, ctype: str, headers: dict[str, str]) -> Request:
    request = _request(body, ctype)
    path, _, query = path_query.partition("?")
    request.scope.update(path=path, query_string=query.encode())
    request.scope["headers"] += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return request


def _accepted(check: TwilioSignature, request: Request) -> bool:
    try:
        asyncio.run(check(request))
    except HTTPException as exc:
        assert exc.status_code == 403
        return False
    return True


@hsettings(max_examples=300, deadline=None)
@given(st.sampled_from(["/twilio/voice", "/twilio/menu?play=2", "/twilio/status?bodySHA256=",
                        "/twilio/status?bodySHA256={hash}", "/twilio/status?bodySHA256=00"]),
       st.sampled_from(["form", "json"]),
       st.sampled_from(ALGORITHMS),
       st.sampled_from(["HMAC_SHA1", "HMAC_SHA256"]),
       st.sampled_from(["same", "other_token", "empty"]))
@example(path_query="/twilio/voice", kind="form", header=ALGORITHMS[2], signed_with="HMAC_SHA256",
         how="same")
@example(path_query="/twilio/menu?play=2", kind="form", header=ALGORITHMS[3],
         signed_with="HMAC_SHA256", how="same")
@example(path_query="/twilio/status?bodySHA256=00", kind="json", header=None,
         signed_with="HMAC_SHA1", how="same")
@example(path_query="/twilio/status?bodySHA256={hash}", kind="form", header=None,
         signed_with="HMAC_SHA1", how="same")
@example(path_query="/twilio/voice", kind="form", header=ALGORITHMS[4], signed_with="HMAC_SHA1",
         how="same")
def test_webhook_check_accepts_exactly_what_validate_accepts(
        path_query: str, kind: str, header: str | None, signed_with: str, how: str) -> None:
    token = "t" * 32
    body = JSON if kind == "json" else urlencode(PARAMS)
    path_query = path_query.format(hash=RequestValidator(token).compute_hash(body))
    url = BASE + path_query
    # What twilio's documentation hands `validate`: the body's text when the URL carries its
    # hash, the form fields otherwise.
    by_hash = "bodySHA256" in parse_qs(urlparse(url).query)
    params: str | dict[str, str] = body if by_hash else (PARAMS if kind == "form" else {})
    signature = ("" if how == "empty" else
                 RequestValidator("u" * 32 if how == "other_token" else token)
                 .compute_signature(url, {} if by_hash else params, signed_with))
    algorithm = get_signature_algorithm(header)
    expected = bool(signature) and RequestValidator(token).validate(url, params, signature,
                                                                    algorithm)
    headers = {"X-Twilio-Signature": signature}
    if header is not None:
        headers["X-Twilio-Webhooks-Signature-Settings"] = header
    ctype = "application/json" if kind == "json" else URLENCODED
    request = _webhook(path_query, body.encode(), ctype, headers)
    assert _accepted(TwilioSignature(token, BASE), request) == expected


def test_json_body_signed_by_its_hash_is_checked_against_the_body() -> None:
    token = "t" * 32
    check = TwilioSignature(token, BASE)
    validator = RequestValidator(token)
    path_query = f"/twilio/status?bodySHA256={validator.compute_hash(JSON)}"
    signature = validator.compute_signature(BASE + path_query, {})
    headers = {"X-Twilio-Signature": signature}
    assert _accepted(check, _webhook(path_query, JSON.encode(), "application/json", headers))
    changed = JSON.replace('"1"', '"9"').encode()
    assert not _accepted(check, _webhook(path_query, changed, "application/json", headers))
    # A body that is not UTF-8 cannot be the text Twilio hashed.
    assert not _accepted(check, _webhook(path_query, b"\xff" + JSON.encode(),
                                         "application/json", headers))


# SWITCHBOARD_PUBLIC_URL is made plain once, when the settings are read.

@pytest.mark.parametrize(("written", "plain"), [
    ("HTTPS://sb.example.org", "https://sb.example.org"),
    (" https://sb.example.org ", "https://sb.example.org"),
    ("https://sb.example.org/", "https://sb.example.org"),
    ("https://sb.example.org?", "https://sb.example.org"),
    ("https://sb.example.org/#", "https://sb.example.org"),
    ("https://sb.example.org;", "https://sb.example.org"),
    ("Http://sb.example.org:8443/sb/;?#", "http://sb.example.org:8443/sb"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://[::1]:8000/", "http://[::1]:8000"),
])
def test_public_url_is_made_plain_at_start_up(written: str, plain: str) -> None:
    settings = Settings(SWITCHBOARD_PUBLIC_URL=written, _env_file=None)
    assert settings.public_url == plain
    assert settings.public_base == plain
    # What the webhooks build from it is already in the form `validate` reads.
    url = plain + "/twilio/menu?play=1"
    assert urlparse(url).geturl() == url


@pytest.mark.parametrize("written", [
    "ftp://sb.example.org", "sb.example.org", "https://", "https:///twilio",
    "https://sb.example.org?x=1", "https://sb.example.org/#top",
    "https://user:pw@sb.example.org", "https://sb.example.org:99999",
    "https://sb.example.org:0", "https://sb.example.org:abc", "https://sb.example.org:",
    "https://sb .example.org", "https://sb.example.org/a b", "https://sb.example.org/a;b",
    "https://sb.example.org/a\tb", "https://sbø.example.org", "",
])
def test_public_url_that_is_not_plain_is_refused(written: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(SWITCHBOARD_PUBLIC_URL=written, _env_file=None)
    text = str(caught.value)
    assert "SWITCHBOARD_PUBLIC_URL" in text
    assert "plain http(s) URL" in text

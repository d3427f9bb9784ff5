"""Every Twilio entry point refuses requests without a valid signature (CONTRACT §5)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.requests import Request
from twilio.request_validator import RequestValidator, add_port, remove_port

from ivr.signature import URLENCODED, TwilioSignature, form_params
from switchboard.app import create_app
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


URLS = st.sampled_from([
    "https://sb.example.org/twilio/menu?play=1", "https://sb.example.org:443/twilio/status",
    "http://127.0.0.1:8000/twilio/wait?a=1&w=2", "http://sb.example.org/twilio/voice",
    "https://sb.example.org:8443/twilio/dial?a=3"])


def _other_port_form(url: str) -> str:
    parsed = urlparse(url)
    return add_port(parsed) if parsed.port is None else remove_port(parsed)


@hsettings(max_examples=200, deadline=None)
@given(URLS, st.dictionaries(st.sampled_from(["CallSid", "Digits", "From", "To", "x"]),
                             st.text(max_size=12), max_size=5),
       st.sampled_from(["same", "other_port", "other_url", "other_token", "empty"]))
def test_signature_check_accepts_exactly_what_validate_accepts(
        url: str, params: dict[str, str], how: str) -> None:
    token = "t" * 32
    check = TwilioSignature(token, "https://unused.example.org")
    signed_url = {"same": url, "other_port": _other_port_form(url),
                  "other_url": url + "&extra=1"}.get(how, url)
    signature = ("" if how == "empty" else
                 RequestValidator("u" * 32 if how == "other_token" else token)
                 .compute_signature(signed_url, params))
    expected = bool(signature) and RequestValidator(token).validate(url, params, signature)
    assert check.valid(url, params, signature) == expected
    assert expected == (how in ("same", "other_port"))

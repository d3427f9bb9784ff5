"""Every Twilio entry point refuses requests without a valid signature (CONTRACT §5)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

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

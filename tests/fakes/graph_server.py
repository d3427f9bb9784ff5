"""A fake Microsoft Graph: `POST /v1.0/users/{id}/calendar/getSchedule`, JSON shaped like
tests/fixtures/graph/calendar_getschedule_response.json, with 429 + Retry-After on demand."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from azure.core.credentials import AccessToken

from tests.fakes.server import QuietHandler

TOKEN = "fake-graph-token"


class FakeCredential:
    """The one test double above the wire: azure-identity accepts only an https authority."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(TOKEN, int(datetime.now(UTC).timestamp()) + 3600)


@dataclass
class GraphItem:
    start: datetime
    end: datetime
    status: str = "busy"  # free | tentative | busy | oof | workingElsewhere | unknown
    subject: str | None = None
    private: bool = False


@dataclass
class GraphState:
    calendars: dict[str, list[GraphItem]] = field(default_factory=dict)
    throttle: int = 0  # answer this many requests with 429 first
    raw_response: bytes | None = None  # answer every getSchedule with these bytes instead
    retry_after: int = 1
    requests: list[int] = field(default_factory=list)  # status of each answer
    batch_sizes: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _dtz(dt: datetime) -> dict[str, str]:
    return {"dateTime": dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "timeZone": "UTC"}


def _schedule(box: str, items: list[GraphItem] | None) -> dict[str, object]:
    if items is None:
        return {"scheduleId": box, "error": {
            "message": "The specified object was not found in the store., The process failed "
                       "to get the correct properties.",
            "responseCode": "ErrorItemNotFound"}}
    out = []
    for it in items:
        entry: dict[str, object] = {"isPrivate": it.private, "status": it.status,
                                    "start": _dtz(it.start), "end": _dtz(it.end)}
        if it.subject is not None and not it.private:
            entry["subject"] = it.subject
            entry["location"] = ""
        out.append(entry)
    return {"scheduleId": box, "availabilityView": "0", "scheduleItems": out,
            "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday",
                                            "friday"],
                             "startTime": "08:00:00.0000000", "endTime": "15:30:00.0000000",
                             "timeZone": {"name": "W. Europe Standard Time"}}}


class GraphHandler(QuietHandler):
    def do_POST(self) -> None:
        state: GraphState = self.server.state  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with state.lock:
            state.paths.append(self.path)
            state.authorizations.append(self.headers.get("Authorization", ""))
            throttled = state.throttle > 0
            if throttled:
                state.throttle -= 1
            state.requests.append(429 if throttled else 200)
        if throttled:
            body = json.dumps({"error": {"code": "ApplicationThrottled",
                                         "message": "Too many requests"}}).encode()
            self.reply(429, body, "application/json",
                       {"Retry-After": str(state.retry_after)})
            return
        if not self.path.endswith("/calendar/getSchedule"):
            self.reply(404, b'{"error": {"code": "NotFound", "message": "no such path"}}',
                       "application/json")
            return
        # Graph reads property names case-insensitively, and msgraph-sdk sends this body's
        # names in PascalCase ("Schedules", "StartTime"), so the fake does the same.
        if state.raw_response is not None:
            self.reply(200, state.raw_response, "application/json")
            return
        req = {k.lower(): v for k, v in json.loads(raw).items()}
        boxes = req["schedules"]
        lo = datetime.fromisoformat(req["starttime"]["dateTime"]).replace(tzinfo=UTC)
        hi = datetime.fromisoformat(req["endtime"]["dateTime"]).replace(tzinfo=UTC)
        with state.lock:
            state.batch_sizes.append(len(boxes))
        if len(boxes) > 20:  # Graph refuses more than 20 schedules per call
            self.reply(400, b'{"error": {"code": "ErrorInvalidParameter", "message": "max 20"}}',
                       "application/json")
            return
        value = []
        for box in boxes:
            items = state.calendars.get(box.lower())
            if items is not None:
                items = [i for i in items if i.end > lo and i.start < hi]
            value.append(_schedule(box, items))
        body = json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata"
                           "#Collection(microsoft.graph.scheduleInformation)",
                           "value": value}).encode()
        self.reply(200, body, "application/json; odata.metadata=minimal")

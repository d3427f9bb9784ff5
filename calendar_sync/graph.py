"""Microsoft 365 via Microsoft Graph: msgraph-sdk `users/{anchor}/calendar/getSchedule`.

The only module that imports msgraph or azure. At most 20 schedules per call (Graph's limit);
429 `Retry-After` is honoured by kiota's RetryHandler, which the SDK's default middleware
includes. The base URL comes from settings so tests can point it at a local server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import httpx
from azure.identity import ClientSecretCredential
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
    GetSchedulePostRequestBody,
)
from msgraph_core import GraphClientFactory

from calendar_sync.protocol import STATUSES, MailboxResult, RawEvent, SourceError
from switchboard.settings import Settings

BATCH = 20  # getSchedule takes at most 20 schedules per call
SCOPES = ["https://graph.microsoft.com/.default"]


def _zone(name: str | None) -> tzinfo:
    if not name or name.upper() in ("UTC", "COORDINATED UNIVERSAL TIME"):
        return UTC
    try:
        return ZoneInfo(WINDOWS_TO_OLSON.get(name, name))
    except (KeyError, ValueError):
        return UTC


def parse_dtz(value: DateTimeTimeZone | None) -> datetime | None:
    """A Graph dateTimeTimeZone as an aware datetime (Windows zone names accepted)."""
    if value is None or not value.date_time:
        return None
    dt = datetime.fromisoformat(value.date_time.rstrip("Z"))
    return dt.replace(tzinfo=_zone(value.time_zone)) if dt.tzinfo is None else dt


def _result(info: Any) -> MailboxResult:
    if info.error is not None:
        return MailboxResult(error=info.error.response_code or "Graph schedule error")
    events: list[RawEvent] = []
    for item in info.schedule_items or []:
        status = item.status.value if item.status is not None else "busy"
        start, end = parse_dtz(item.start), parse_dtz(item.end)
        if status not in STATUSES or start is None or end is None:
            continue  # "unknown" says nothing
        subject = None if item.is_private else item.subject
        events.append(RawEvent(start=start, end=end, status=status, subject=subject))  # type: ignore[arg-type]
    return MailboxResult(events=events)


class GraphSource:
    """Free/busy for many mailboxes, 20 per getSchedule call, a few calls at a time."""

    kind = "graph"

    def __init__(self, settings: Settings, credential: Any = None, concurrency: int = 4) -> None:
        if not settings.graph_anchor_user:
            raise SourceError("SWITCHBOARD_GRAPH_ANCHOR_USER is not set")
        if credential is None:
            if not (settings.graph_tenant_id and settings.graph_client_id
                    and settings.graph_client_secret):
                raise SourceError("the SWITCHBOARD_GRAPH_* credentials are not set")
            credential = ClientSecretCredential(
                settings.graph_tenant_id, settings.graph_client_id,
                settings.graph_client_secret.get_secret_value(),
            )
        self._credential = credential
        self._base = settings.graph_base_url.rstrip("/")
        self._anchor = settings.graph_anchor_user
        self._concurrency = concurrency

    def _client(self) -> tuple[GraphServiceClient, httpx.AsyncClient]:
        host = urlparse(self._base).hostname or ""
        # kiota only sends the token to allowed hosts; the configured API host is one.
        auth = AzureIdentityAuthenticationProvider(
            self._credential, scopes=SCOPES, allowed_hosts=[host]
        )
        # Our own httpx client (with the SDK's default middleware: retry, redirect, ...)
        # so it can be closed before this pass's event loop ends.
        http = GraphClientFactory.create_with_default_middleware()
        adapter = GraphRequestAdapter(auth, client=http)
        adapter.base_url = self._base
        return GraphServiceClient(request_adapter=adapter), http

    async def _batch(self, client: GraphServiceClient, batch: list[str], start: datetime,
                     end: datetime, gate: asyncio.Semaphore) -> dict[str, MailboxResult]:
        body = GetSchedulePostRequestBody(
            schedules=batch,
            start_time=DateTimeTimeZone(date_time=start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                                        time_zone="UTC"),
            end_time=DateTimeTimeZone(date_time=end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                                      time_zone="UTC"),
            availability_view_interval=30,
        )
        config: RequestConfiguration[Any] = RequestConfiguration()
        config.headers.add("Prefer", 'outlook.timezone="UTC"')
        async with gate:
            try:
                resp = await client.users.by_user_id(self._anchor).calendar.get_schedule.post(
                    body, request_configuration=config
                )
            except Exception as exc:  # ODataError, transport errors, retries used up
                code = getattr(getattr(exc, "error", None), "code", None)
                error = f"Graph request failed: {code or type(exc).__name__}"
                return {m: MailboxResult(error=error) for m in batch}
        out: dict[str, MailboxResult] = {}
        by_id = {m.lower(): m for m in batch}
        for i, info in enumerate((resp.value if resp else None) or []):
            key = by_id.get((info.schedule_id or "").lower())
            if key is None and i < len(batch):
                key = batch[i]
            if key is not None:
                out[key] = _result(info)
        for m in batch:
            out.setdefault(m, MailboxResult(error="Graph gave no schedule for this mailbox"))
        return out

    async def _fetch(self, boxes: list[str], start: datetime,
                     end: datetime) -> dict[str, MailboxResult]:
        client, http = self._client()
        gate = asyncio.Semaphore(self._concurrency)
        try:
            parts = await asyncio.gather(*(
                self._batch(client, boxes[i:i + BATCH], start, end, gate)
                for i in range(0, len(boxes), BATCH)
            ))
        finally:
            await http.aclose()
        merged: dict[str, MailboxResult] = {}
        for part in parts:
            merged.update(part)
        return merged

    def fetch(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, MailboxResult]:
        """Blocking: runs the async SDK on its own event loop (call it from a worker thread)."""
        boxes = list(dict.fromkeys(mailboxes))
        if not boxes:
            return {}
        return asyncio.run(self._fetch(boxes, start, end))

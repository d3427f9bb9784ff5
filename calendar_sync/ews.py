"""Exchange Server on premises via EWS: exchangelib's GetUserAvailability, DetailedMerged view.

The only module that imports exchangelib. Configured with an explicit server version and auth
type, so a pass is exactly one GetServerTimeZones plus one GetUserAvailability per 100 mailboxes
(exchangelib's own chunk size) and no autodiscover or version probing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from exchangelib import (
    BASIC,
    NTLM,
    OAUTH2,
    Build,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    OAuth2Credentials,
    Version,
)
from exchangelib.protocol import FailFast, Protocol
from requests import Response
from requests.adapters import HTTPAdapter

from calendar_sync.protocol import MailboxResult, RawEvent, SourceError, Status
from switchboard.settings import Settings

BUSY_TYPES: dict[str, Status] = {
    "Free": "free",
    "Tentative": "tentative",
    "Busy": "busy",
    "OOF": "oof",
    "WorkingElsewhere": "workingElsewhere",
}  # "NoData" is dropped: nothing is known about that span
AUTH_TYPES = {"ntlm": NTLM, "basic": BASIC, "oauth2": OAUTH2}
# Exchange 2016 and later speak this; a fixed version means no probing request.
DEFAULT_BUILD = Build(15, 1)


def _credentials(settings: Settings) -> Any:
    if settings.ews_auth.lower() == "oauth2":
        # App-only OAuth2 (Exchange Online, until Microsoft switches EWS off there).
        secret = settings.graph_client_secret
        return OAuth2Credentials(client_id=settings.graph_client_id or "",
                                 client_secret=secret.get_secret_value() if secret else "",
                                 tenant_id=settings.graph_tenant_id or "")
    password = settings.ews_password.get_secret_value() if settings.ews_password else ""
    return Credentials(username=settings.ews_username or "", password=password)


def _message(exc: BaseException) -> str:
    # The class name says what happened (ErrorMailRecipientNotFound, ...); the server's text
    # repeats the mailbox address, which stays out of logs and the database.
    return type(exc).__name__


class _ChunkedResponse(Response):
    """A Response whose iter_content() defaults to 64 KiB chunks instead of 1 byte."""

    def iter_content(self, chunk_size: int | None = 65536,  # type: ignore[override]
                     decode_unicode: Any = False) -> Any:
        return super().iter_content(chunk_size, decode_unicode=decode_unicode)


class _Adapter(HTTPAdapter):
    # exchangelib parses every SOAP answer from `response.iter_content()`, whose default
    # chunk size is one byte; on a 100-mailbox GetUserAvailability answer (megabytes) that
    # loop cost more than a second per request. Bigger chunks, same bytes, same parser.
    def build_response(self, req: Any, resp: Any) -> Response:
        response = super().build_response(req, resp)
        response.__class__ = _ChunkedResponse
        return response


class _Protocol(Protocol):
    HTTP_ADAPTER_CLS = _Adapter


def _plain(value: datetime) -> datetime:
    # exchangelib's EWSDateTime subclass would leak into storage and comparisons.
    return datetime.fromtimestamp(value.timestamp(), UTC)


class EwsSource:
    """Free/busy for many mailboxes in one pass; the SWITCHBOARD_EWS_* settings: docs/cli.md."""

    kind = "ews"

    def __init__(self, settings: Settings, timezone: str, build: Build = DEFAULT_BUILD) -> None:
        if not settings.ews_url:
            raise SourceError("SWITCHBOARD_EWS_URL is not set")
        auth = AUTH_TYPES.get(settings.ews_auth.lower())
        if auth is None:
            raise SourceError("SWITCHBOARD_EWS_AUTH must be ntlm, basic or oauth2")
        config = Configuration(
            service_endpoint=settings.ews_url,
            credentials=_credentials(settings),
            auth_type=auth,
            version=Version(build=build),
            retry_policy=FailFast(),
        )
        self._protocol = _Protocol(config=config)
        self._tz = EWSTimeZone(timezone)

    def close(self) -> None:
        """Release the HTTP sessions."""
        self._protocol.close()

    def fetch(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, MailboxResult]:
        """Events per mailbox; a failing mailbox gets its error, a SOAP fault fails the rest."""
        boxes = list(dict.fromkeys(mailboxes))
        if not boxes:
            return {}
        results: dict[str, MailboxResult] = {}
        s = EWSDateTime.from_datetime(start).astimezone(self._tz)
        e = EWSDateTime.from_datetime(end).astimezone(self._tz)
        try:
            views = self._protocol.get_free_busy_info(
                [(m, "Required", False) for m in boxes], start=s, end=e,
                merged_free_busy_interval=30, requested_view="DetailedMerged",
            )
            # One FreeBusyResponse per mailbox, in request order.
            for mailbox, view in zip(boxes, views, strict=False):
                results[mailbox] = self._result(view)
        except Exception as exc:  # transport errors, SOAP faults, auth failures
            error = f"EWS request failed: {_message(exc)}"
            for mailbox in boxes:
                results.setdefault(mailbox, MailboxResult(error=error))
        for mailbox in boxes:
            results.setdefault(mailbox, MailboxResult(error="EWS gave no answer for this mailbox"))
        return results

    def _result(self, view: Any) -> MailboxResult:
        if isinstance(view, Exception):
            return MailboxResult(error=_message(view))
        events: list[RawEvent] = []
        for ev in view.calendar_events or []:
            status = BUSY_TYPES.get(ev.busy_type)
            if status is None or ev.start is None or ev.end is None:
                continue
            details = ev.details
            subject = None
            if details is not None and not details.is_private:
                subject = details.subject
            events.append(RawEvent(start=_plain(ev.start), end=_plain(ev.end), status=status,
                                   subject=subject))
        return MailboxResult(events=events)

"""A fake calendar host: serves ICS files with ETag / Last-Modified and answers 304s."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from tests.fakes.server import QuietHandler


@dataclass
class Feed:
    body: bytes
    status: int = 200
    last_modified: str = "Wed, 25 Nov 2026 08:00:00 GMT"

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class IcsState:
    feeds: dict[str, Feed] = field(default_factory=dict)
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, status sent)

    def put(self, path: str, body: str | bytes, status: int = 200) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.feeds[path] = Feed(data, status)


class IcsHandler(QuietHandler):
    def do_GET(self) -> None:
        state: IcsState = self.server.state  # type: ignore[attr-defined]
        feed = state.feeds.get(self.path)
        if feed is None:
            status, body, headers = 404, b"not found", {}
        elif feed.status != 200:
            status, body, headers = feed.status, b"internal error", {}
        elif self.headers.get("If-None-Match") == feed.etag:
            status, body, headers = 304, b"", {"ETag": feed.etag}
        else:
            status, body = 200, feed.body
            headers = {"ETag": feed.etag, "Last-Modified": feed.last_modified}
        state.requests.append((self.path, status))
        if status == 304:
            self.send_response(304)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            return
        self.reply(status, body, "text/calendar; charset=utf-8", headers)

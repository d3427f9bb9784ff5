"""A fake SMTP server on 127.0.0.1 (aiosmtpd): keeps every message, can refuse on demand."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Mailbox:
    """What the fake received; set `refuse` to answer the next DATA commands with a 451."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: int = 0  # how many of the next messages to refuse (temporary failure)
    refused: int = 0
    logins: list[str] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to `address`."""
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def text(msg: EmailMessage) -> str:
        """A message's plain-text body."""
        part = msg.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.box.refuse > 0:
            self.box.refuse -= 1
            self.box.refused += 1
            return "451 4.3.0 try again later"
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        self.box.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"


@contextmanager
def smtp_server(*, user: str | None = None, password: str | None = None,
                tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, Mailbox]]:
    """Run the fake; yields (SWITCHBOARD_SMTP_URL for it, its mailbox). With `tls` (a server
    context) it speaks implicit TLS, as smtps:// on port 465 does."""
    box = Mailbox()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        if ok:
            box.logins.append(user or "")
        return AuthResult(success=ok)

    kwargs: dict[str, Any] = {}
    if user is not None:
        # Plain-text AUTH over an unencrypted local socket: only ever in this test fake.
        kwargs = {"authenticator": authenticator, "auth_require_tls": False}
    if tls is not None:
        kwargs["ssl_context"] = tls
    with socket.socket() as probe:  # a free port: aiosmtpd's start-up check cannot use 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        creds = f"{user}:{password}@" if user is not None else ""
        # TLS checks the certificate's name, made for "localhost"; plain SMTP uses the address.
        host = "localhost" if tls else "127.0.0.1"
        yield f"{'smtps' if tls else 'smtp'}://{creds}{host}:{port}", box
    finally:
        controller.stop()


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for "localhost", made with openssl."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client

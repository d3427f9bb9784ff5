"""Ticket mail: every mail goes into the `outbox` table first; a background job sends it.

With no SMTP configured, mail waits in the outbox. A failed send is retried with backoff and
never dropped. Mails carry no national ID, KID, text or phone number: only the ticket's number,
department, due date and a link to the ticket (docs/tickets.md).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from tickets.models import OutboxMail, TicketEvent

log = logging.getLogger("switchboard.tickets.mail")
OUTBOX = OutboxMail.__table__  # type: ignore[attr-defined]
EVENT = TicketEvent.__table__  # type: ignore[attr-defined]
LEASE = timedelta(minutes=5)  # a claimed mail whose sender died is tried again after this
MAX_BACKOFF = timedelta(hours=1)
BATCH = 20
# Callback tickets are made inside a webhook that does not know PUBLIC_URL; their link is
# completed when the mail is sent.
LINK_BASE = "{PUBLIC_URL}"
FOLLOW_UP_NB = {"we_call": "vi ringer tilbake", "caller_calls": "innringer ringer igjen",
                "none": "ingen oppfølging avtalt"}


class MailSender(Protocol):
    """Sends one mail; raises on failure (the outbox keeps it and tries again)."""

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Deliver one plain-text mail."""


class SmtpSender:
    """smtplib over `smtp://host:port` (STARTTLS when offered) or `smtps://user:pw@host:465`."""

    def __init__(self, url: str, mail_from: str, *, timeout: float = 15.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SWITCHBOARD_SMTP_URL: use smtp://host:port or "
                             "smtps://user:password@host:465")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.mail_from = mail_from
        self.timeout = timeout
        # The system's trusted CAs by default; a test gives one that trusts its own certificate.
        self.ssl_context = ssl_context or ssl.create_default_context()

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Deliver one plain-text mail (UTF-8)."""
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.mail_from, to, subject
        msg.set_content(body)
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if not self.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.user and self.password:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)


def enqueue(conn: Connection, *, to: str, subject: str, body: str, now: datetime,
            ticket_id: int | None = None) -> int:
    """Put a mail in the outbox (in the caller's transaction) and note it on the ticket."""
    mail_id = conn.execute(insert(OUTBOX).values(
        ticket_id=ticket_id, to_addr=to, subject=subject, body=body, created_at=now,
        attempts=0, next_attempt_at=now).returning(OUTBOX.c.id)).scalar_one()
    if ticket_id is not None:
        conn.execute(insert(EVENT).values(ticket_id=ticket_id, at=now, kind="mail_queued",
                                          new=to, note=subject))
    return int(mail_id)


def _due_text(ticket: dict[str, Any], timezone: str = "Europe/Oslo") -> str:
    due = ticket.get("due_at")
    if due is None:
        return "ingen frist"
    return due_text(due if due.tzinfo else due.replace(tzinfo=UTC), timezone)


def due_text(due: datetime, timezone: str = "Europe/Oslo") -> str:
    """A due date as people say it: a deadline at midnight is the end of the day before."""
    local = due.astimezone(ZoneInfo(timezone))
    if local.hour == local.minute == 0:
        return f"innen utgangen av {(local - timedelta(days=1)):%d.%m.%Y}"
    return f"{local:%d.%m.%Y} kl. {local:%H:%M}"


def queue_new_ticket(conn: Connection, *, ticket: dict[str, Any], department: dict[str, Any],
                     now: datetime, public_url: str | None) -> int:
    """Tell the department's inbox about a new ticket: number, kind, due date, link only."""
    kind = "Tilbakeringing" if ticket["kind"] == "callback" else "Ny sak"
    link = f"{(public_url or LINK_BASE).rstrip('/')}/tickets/{ticket['id']}"
    body = (f"{kind} #{ticket['id']} til {department['name']}.\n\n"
            f"Frist: {_due_text(ticket)}\n"
            f"Oppfølging: {FOLLOW_UP_NB.get(ticket['follow_up'], ticket['follow_up'])}\n\n"
            f"Åpne saken: {link}\n")
    return enqueue(conn, to=department["email"], subject=f"{kind} #{ticket['id']}: "
                   f"{department['name']}", body=body, now=now, ticket_id=ticket["id"])


def queue_done_to_agent(conn: Connection, *, ticket: dict[str, Any],
                        agent: dict[str, Any] | None, now: datetime,
                        public_url: str) -> int | None:
    """Tell the agent who wrote the ticket that it is done (if they have a work address)."""
    if agent is None or not agent.get("email"):
        conn.execute(insert(EVENT).values(ticket_id=ticket["id"], at=now, kind="mail_skipped",
                                          note="the agent who wrote it has no e-mail address"))
        return None
    link = f"{public_url.rstrip('/')}/tickets/{ticket['id']}"
    body = (f"Saken du skrev, #{ticket['id']}, er ferdig.\n\nÅpne saken: {link}\n")
    return enqueue(conn, to=agent["email"], subject=f"Sak #{ticket['id']} er ferdig",
                   body=body, now=now, ticket_id=ticket["id"])


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 30 s, 1 min, 2 min … at most an hour."""
    return min(timedelta(seconds=30 * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def _error_text(exc: BaseException) -> str:
    # The class and SMTP code only: an SMTP error's text may echo the recipient or the body.
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def pending(conn: Connection, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Unsent mails (all of them, or those due to be tried at `now`), oldest first."""
    q = select(OUTBOX).where(OUTBOX.c.sent_at.is_(None))
    if now is not None:
        q = q.where(OUTBOX.c.next_attempt_at <= now)
    return [dict(r._mapping) for r in conn.execute(q.order_by(OUTBOX.c.id)).all()]


def _claim(engine: Engine, row: dict[str, Any], now: datetime) -> bool:
    """Lease one mail to this sender; False when another process claimed it first."""
    with engine.begin() as conn:
        got = conn.execute(update(OUTBOX).where(
            OUTBOX.c.id == row["id"], OUTBOX.c.sent_at.is_(None),
            OUTBOX.c.next_attempt_at == row["next_attempt_at"],
        ).values(next_attempt_at=now + LEASE))
        return got.rowcount == 1


def send_pending(engine: Engine, sender: MailSender, *, now: datetime,
                 public_url: str = "", batch: int = BATCH) -> tuple[int, int]:
    """Send the mails due now; (sent, failed). A failure stays in the outbox with a backoff."""
    with engine.connect() as conn:
        due = pending(conn, now=now)[:batch]
    sent = failed = 0
    for row in due:
        if not _claim(engine, row, now):
            continue
        try:
            body = row["body"].replace(LINK_BASE, public_url.rstrip("/"))
            sender.send(to=row["to_addr"], subject=row["subject"], body=body)
        except Exception as exc:  # noqa: BLE001 - any failure: keep the mail, try later
            failed += 1
            attempts = row["attempts"] + 1
            with engine.begin() as conn:
                conn.execute(update(OUTBOX).where(OUTBOX.c.id == row["id"]).values(
                    attempts=attempts, next_attempt_at=now + backoff(attempts),
                    last_error=_error_text(exc)))
            log.warning("mail %s failed (attempt %s): %s", row["id"], attempts, _error_text(exc))
            continue
        sent += 1
        with engine.begin() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == row["id"]).values(
                attempts=row["attempts"] + 1, sent_at=now, last_error=None))
            if row["ticket_id"] is not None:
                conn.execute(insert(EVENT).values(ticket_id=row["ticket_id"], at=now,
                                                  kind="mail_sent", new=row["to_addr"],
                                                  note=row["subject"]))
    return sent, failed


async def outbox_worker(engine: Engine, sender: MailSender | None, clock: Callable[[], datetime],
                        *, public_url: str, interval: float = 5.0) -> None:
    """The background job: send what is due, then sleep; without a sender, mail waits."""
    if sender is None:
        log.info("no SWITCHBOARD_SMTP_URL: ticket mail waits in the outbox")
        return
    while True:
        try:
            await asyncio.to_thread(send_pending, engine, sender, now=clock(),
                                    public_url=public_url)
        except Exception:  # the database may be briefly away: try again next round
            log.exception("outbox round failed")
        await asyncio.sleep(interval)

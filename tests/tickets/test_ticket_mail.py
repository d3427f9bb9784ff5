"""Ticket mail: through the outbox to a real (local) SMTP server, retried, never lost, no PII."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import select

from tests.conftest import PUBLIC
from tests.fakes.smtp_server import Mailbox, smtp_server
from tests.tickets.conftest import World
from tickets.mail import OUTBOX, SmtpSender, backoff, outbox_worker, pending, send_pending
from tickets.plugin import sender_from

SECRET_TEXT = "Medlemmet ringer fra 900 00 001 om fakturaen"


def _send(tk: World, url: str) -> tuple[int, int]:
    return send_pending(tk.engine, SmtpSender(url, "sentralbord@union.example"),
                        now=tk.clock(), public_url=PUBLIC)


def _outbox(tk: World) -> list[dict]:
    with tk.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(OUTBOX).order_by(OUTBOX.c.id))]


def test_a_new_ticket_mails_its_department_with_only_a_link(tk: World) -> None:
    t = tk.create(text=SECRET_TEXT, category="Faktura").json()
    with smtp_server() as (url, box):
        assert _send(tk, url) == (1, 0)
    (msg,) = box.to("innkreving@union.example")
    assert msg["From"] == "sentralbord@union.example"
    assert msg["Subject"] == f"Ny sak #{t['id']}: Innkreving og kontingent"
    body = Mailbox.text(msg)
    assert f"{PUBLIC}/tickets/{t['id']}" in body
    assert "Frist: innen utgangen av 02.12.2026" in body
    # Neither the text nor any phone-number-like digits leave the building.
    assert "900" not in body and "fakturaen" not in body and "Faktura" not in body
    assert not re.search(r"\d{8}", body.replace(f"{t['id']}", ""))
    history = tk.client.get(f"/api/tickets/{t['id']}", headers=tk.auth()).json()["history"]
    assert [e["kind"] for e in history] == ["created", "mail_queued", "mail_sent"]


def test_without_smtp_mail_waits_in_the_outbox(tk: World, settings) -> None:  # type: ignore[no-untyped-def]
    assert sender_from(settings) is None
    tk.create()
    asyncio.run(outbox_worker(tk.engine, None, tk.clock, public_url=PUBLIC))  # returns at once
    (row,) = _outbox(tk)
    assert row["sent_at"] is None and row["attempts"] == 0
    assert row["to_addr"] == "innkreving@union.example"
    with smtp_server() as (url, box):  # configured later: the waiting mail goes out
        assert _send(tk, url) == (1, 0)
    assert len(box.messages) == 1 and _outbox(tk)[0]["sent_at"] is not None


def test_a_refused_mail_is_retried_with_backoff_and_never_lost(tk: World) -> None:
    tk.create()
    with smtp_server() as (url, box):
        box.refuse = 2
        assert _send(tk, url) == (0, 1)
        (row,) = _outbox(tk)
        assert (row["attempts"], row["sent_at"], row["last_error"]) == (
            1, None, "SMTPDataError 451")
        assert row["next_attempt_at"] == tk.clock() + timedelta(seconds=30)
        assert _send(tk, url) == (0, 0)  # not due yet
        tk.clock.advance(30)
        assert _send(tk, url) == (0, 1)
        assert _outbox(tk)[0]["next_attempt_at"] == tk.clock() + timedelta(seconds=60)
        tk.clock.advance(60)
        assert _send(tk, url) == (1, 0)
    assert box.refused == 2 and len(box.messages) == 1
    (row,) = _outbox(tk)
    assert row["attempts"] == 3 and row["sent_at"] == tk.clock() and row["last_error"] is None


def test_a_server_that_is_down_keeps_the_mail(tk: World) -> None:
    tk.create()
    with smtp_server() as (url, _):
        pass  # stopped: nothing listens there now
    assert _send(tk, url) == (0, 1)
    (row,) = _outbox(tk)
    assert row["sent_at"] is None and row["last_error"] == "ConnectionRefusedError"
    with tk.engine.connect() as conn:
        assert len(pending(conn)) == 1


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30) == timedelta(hours=1)


def test_done_with_confirm_to_agent_mails_the_writer(tk: World) -> None:
    t = tk.create(agent="a1", confirm_to_agent=True).json()
    quiet = tk.create(agent="a2").json()
    tk.patch(t["id"], 1, agent="a2", status="done")
    tk.patch(quiet["id"], 1, agent="a2", status="done")
    with smtp_server() as (url, box):
        assert _send(tk, url) == (3, 0)
    (msg,) = box.to("a1@union.example")
    assert msg["Subject"] == f"Sak #{t['id']} er ferdig"
    assert f"{PUBLIC}/tickets/{t['id']}" in Mailbox.text(msg)
    assert box.to("a2@union.example") == []


def test_done_for_an_agent_without_mail_is_noted_not_lost(tk: World) -> None:
    t = tk.create(agent="a3", confirm_to_agent=True).json()
    tk.patch(t["id"], 1, status="done")
    got = tk.client.get(f"/api/tickets/{t['id']}", headers=tk.auth()).json()
    assert got["history"][-1]["kind"] == "mail_skipped"


def test_smtp_url_with_a_login(tk: World) -> None:
    tk.create()
    with smtp_server(user="sentral", password="hemmelig") as (url, box):
        # The fake speaks plain SMTP; smtp:// with credentials logs in before sending.
        assert _send(tk, url) == (1, 0)
    assert box.logins == ["sentral"] and len(box.messages) == 1


def test_bad_smtp_url_is_refused_naming_the_setting() -> None:
    import pytest

    with pytest.raises(ValueError, match="SWITCHBOARD_SMTP_URL"):
        SmtpSender("http://mail.example", "x@example.org")
    s = SmtpSender("smtps://u%40x:p%3Aw@mail.example", "x@example.org")
    assert (s.tls, s.port, s.user, s.password) == (True, 465, "u@x", "p:w")


def test_the_background_job_sends_what_waits(settings, engine) -> None:  # type: ignore[no-untyped-def]
    from tests.tickets.conftest import TICKET_ORG, give_tokens
    from tests.twilio_harness import make_app

    with smtp_server() as (url, box):
        configured = settings.model_copy(update={"smtp_url": SecretStr(url)})
        tw = make_app(configured, engine, TICKET_ORG)
        app = tw.client.app
        sender = app.state.tickets.sender  # what the registered job sends with
        assert isinstance(sender, SmtpSender) and (sender.host, sender.tls) == ("127.0.0.1", False)
        token = give_tokens(engine, ["a1"])["a1"]
        r = tw.client.post("/api/tickets", json={"department": "lonn", "text": "Hei"},
                           headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201

        async def run_until_sent() -> None:
            task = asyncio.create_task(outbox_worker(
                engine, sender, tw.clock, public_url=PUBLIC, interval=0.01))
            for _ in range(500):  # bounded: at most a few seconds
                if box.messages:
                    break
                await asyncio.sleep(0.01)
            task.cancel()

        asyncio.run(run_until_sent())
    (msg,) = box.to("lonn@union.example")
    assert f"{PUBLIC}/tickets/{r.json()['id']}" in Mailbox.text(msg)


def test_smtps_speaks_tls_and_checks_the_certificate(tk: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import smtplib
    import ssl

    import pytest

    from tests.fakes.smtp_server import self_signed

    server_ctx, client_ctx = self_signed(tmp_path)
    tk.create()
    with smtp_server(user="sentral", password="hemmelig", tls=server_ctx) as (url, box):
        assert url.startswith("smtps://sentral:hemmelig@localhost:")
        with pytest.raises((ssl.SSLError, smtplib.SMTPException)):  # an untrusted certificate
            SmtpSender(url, "sb@union.example").send(to="x@union.example", subject="s", body="b")
        sender = SmtpSender(url, "sb@union.example", ssl_context=client_ctx)
        assert send_pending(tk.engine, sender, now=tk.clock(), public_url=PUBLIC) == (1, 0)
    assert box.logins == ["sentral"] and len(box.to("innkreving@union.example")) == 1

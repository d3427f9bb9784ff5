"""The tickets package's composition root: the API, the outbox sender job, and the context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from console.overruns_pages import build_router as build_overruns_pages
from console.tickets_pages import build_router as build_pages
from switchboard.auth import Authenticator
from switchboard.settings import Settings
from tickets.claims_pages import build_router as build_claims_pages
from tickets.escalation import deadline_job
from tickets.handover import handover_job
from tickets.handover_pages import build_router as build_handover_pages
from tickets.mail import MailSender, SmtpSender, outbox_worker
from tickets.retention import retention_job
from tickets.router import TicketContext, build_departments_router, build_router


def sender_from(settings: Settings) -> MailSender | None:
    """The SMTP sender SWITCHBOARD_SMTP_URL names, or None (mail then waits in the outbox)."""
    if settings.smtp_url is None or not settings.smtp_url.get_secret_value():
        return None
    return SmtpSender(settings.smtp_url.get_secret_value(), settings.mail_from)


def install(app: FastAPI, *, settings: Settings, engine: Engine, auth: Authenticator,
            jobs: list[Callable[[], Awaitable[None]]]) -> TicketContext:
    """Mount /api/tickets and the /tickets pages, register the outbox job, and keep the
    context on app.state.tickets."""

    def clock() -> datetime:
        # One clock for the whole app: the IVR's (tests move it), else the wall clock.
        flow = getattr(app.state, "flow", None)
        return flow.clock() if flow is not None else datetime.now(UTC)

    ctx = TicketContext(engine=engine, settings=settings, clock=clock,
                        sender=sender_from(settings))
    app.state.tickets = ctx
    app.include_router(build_router(ctx, auth))
    app.include_router(build_departments_router(ctx, auth))
    app.include_router(build_pages(ctx, auth))
    jobs.append(lambda: outbox_worker(engine, ctx.sender, lambda: ctx.clock(),
                                      public_url=ctx.public_url))
    # Absence handover: the desk panel, /api/handovers, and escalation of unconfirmed ones.
    app.include_router(build_handover_pages(ctx, auth))
    app.include_router(build_claims_pages(ctx, auth))  # the ticket page's claim/outcome
    jobs.append(handover_job(engine, lambda: ctx.clock()))
    # Retention: the personal details of old work are purged once a day (tickets.retention).
    jobs.append(retention_job(engine, lambda: ctx.clock()))
    # Promises, escalation and the daily look (tickets.escalation runs both passes), and the
    # team lead's overruns page with the ticket page's promise form.
    app.include_router(build_overruns_pages(ctx, auth))
    jobs.append(deadline_job(engine, lambda: ctx.clock()))
    return ctx

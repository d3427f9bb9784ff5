"""The ticket page's claim and callback-outcome buttons (tickets.claims, docs/tickets.md).

`POST /tickets/{id}/claim` and `POST /tickets/{id}/outcome` do what the JSON API's
`/claim` and `/callback-outcome` do, then go back to the ticket's page; when someone else
was first, the page comes back saying so (409).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console.i18n import translate
from console.tickets_pages import ticket_view
from console.web import lang_of, render
from switchboard.auth import Authenticator, Principal
from tickets import claims, service
from tickets.router import TicketContext


def build_router(ctx: TicketContext, auth: Authenticator) -> APIRouter:
    """POST /tickets/{id}/claim and /tickets/{id}/outcome."""
    router = APIRouter(include_in_schema=False)

    def run(ticket_id: int, user: Principal, outcome: str | None) -> None:
        with ctx.engine.begin() as conn:
            if outcome is None:
                claims.claim(conn, ticket_id=ticket_id, agent_id=user.agent_id or "",
                             now=ctx.clock())
            else:
                claims.record_outcome(conn, ticket_id=ticket_id, agent_id=user.agent_id or "",
                                      outcome=outcome, now=ctx.clock(),
                                      public_url=ctx.public_url)

    async def act(request: Request, ticket_id: int, user: Principal,
                  outcome: str | None) -> Response:
        lang = lang_of(request)
        try:
            await run_in_threadpool(run, ticket_id, user, outcome)
        except service.TicketNotFound:
            raise HTTPException(404, "no such ticket") from None
        except service.TicketError as exc:
            detail, code = f"{exc.field}: {exc.message}", 422
        except claims.ClaimTaken:
            detail, code = translate(lang, "tk.claimed_by_other"), 409
        else:
            return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
        view = ticket_view(ctx, ticket_id, lang=lang)
        view |= {"problem": "invalid", "problem_detail": detail}
        return render(request, "tickets_ticket.html", view, status_code=code)

    @router.post("/tickets/{ticket_id}/claim")
    async def claim(request: Request, ticket_id: int,
                    user: Principal = Depends(auth.page_user)) -> Response:
        return await act(request, ticket_id, user, None)

    @router.post("/tickets/{ticket_id}/outcome")
    async def outcome(request: Request, ticket_id: int,
                      user: Principal = Depends(auth.page_user)) -> Response:
        form = await request.form()
        value = form.get("outcome")
        return await act(request, ticket_id, user, value if isinstance(value, str) else "")

    return router

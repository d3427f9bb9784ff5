"""What the desk's call panel routes share: the signed-in agent's own call as an identity
`Ctx`, validation the way the identity API validates, and field errors sent back next to
their fields without echoing what was typed (docs/desk.md).

Field errors go back as HTMX out-of-band swaps into each field's error slot with
`HX-Reswap: none`: the browser keeps everything typed, and the server never repeats a value
(which could be a national ID or a KID) into the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from starlette.responses import Response

from console.web import render
from identity import fnr, lock, service
from identity import kid as kidlib
from identity.digits import FOREIGN_DIGITS
from identity.pii import PiiHasher, PiiKeyMissing
from identity.rules import load_rules
from identity.service import Ctx, Outcome
from switchboard.auth import Principal
from switchboard.db import session_scope
from switchboard.settings import Settings
from tickets.schemas import PERSONAL_NUMBER_MESSAGE

M = TypeVar("M", bound=BaseModel)


@dataclass
class PanelDeps:
    """The settings, database and clock the panel's routes use."""

    settings: Settings
    engine: Engine
    clock: Callable[[], datetime]

    @property
    def zone(self) -> ZoneInfo:
        """The organisation's time zone (dates spoken by callers are local)."""
        return ZoneInfo(self.settings.timezone)


class FieldErrors(Exception):
    """Bad input: {field: i18n key or text}; shown next to each field, nothing echoed."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@contextmanager
def agent_call(deps: PanelDeps, call_sid: str, user: Principal) -> Iterator[Ctx]:
    """The identity Ctx for a call this agent answered (404 none, 403 another agent's); the
    session commits when the block ends normally (a failed attempt is counted then)."""
    try:
        hasher = PiiHasher.from_settings(deps.settings)
    except PiiKeyMissing as exc:
        raise HTTPException(503, str(exc)) from None
    with session_scope(deps.engine) as session:
        try:
            call = service.agent_call(session, call_sid=call_sid, agent_id=user.agent_id or "")
        except service.CallNotFound:
            raise HTTPException(404, "no such call") from None
        except service.NotYourCall:
            raise HTTPException(403, "this call was answered by another agent") from None
        yield Ctx(session=session, call=call, agent_id=user.agent_id or "", now=deps.clock(),
                  hasher=hasher, allow_test_ids=deps.settings.allow_test_ids,
                  rules=load_rules(session), caller=lock.caller_hash(hasher, call.from_number))


def factor_step(ctx: Ctx, factor: str | None, op: Callable[[Ctx], Outcome]) -> Outcome:
    """Run op; a factor step on an ended call is refused (call_ended), as the API does."""
    if factor is not None and service.call_ended(ctx.call):
        state = service.load_state(ctx)
        service.audit(ctx, script=state.script, action=factor, factors=(),
                      outcome="refused_call_ended")
        return Outcome(state, service.refusal_body(state, "call_ended"))
    return op(ctx)


_PYDANTIC_KEYS = {"missing": "err.required", "string_too_short": "err.required",
                  "string_too_long": "err.too_long", "literal_error": "err.choice",
                  "string_pattern_mismatch": "err.email", "int_parsing": "err.choice",
                  "greater_than_equal": "err.choice", "less_than_equal": "err.choice",
                  "bool_parsing": "err.choice"}


def _error_key(error: Any) -> str:
    kind = str(error.get("type", ""))
    msg = str(error.get("msg", ""))
    if kind.startswith("date"):
        return "err.date"
    if PERSONAL_NUMBER_MESSAGE in msg:
        return "err.personal_number"
    if FOREIGN_DIGITS in msg:
        return "err.digits"
    return _PYDANTIC_KEYS.get(kind, msg.removeprefix("Value error, "))


def parse(model: type[M], data: dict[str, Any]) -> M:
    """The API's request model from form data; FieldErrors naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors():
            loc = e.get("loc") or ("form",)
            errors.setdefault(str(loc[-1] if loc else "form"), _error_key(e))
        raise FieldErrors(errors) from None


def national_id(ctx: Ctx, deps: PanelDeps, raw: str, field: str = "national_id") -> fnr.IdCheck:
    """The number's verdict as the API judges it; FieldErrors unless usable."""
    check = fnr.classify(raw, today=ctx.now.astimezone(deps.zone).date(),
                         placeholder_suffixes=ctx.rules.placeholder_suffixes)
    if check.acceptable(allow_test_ids=deps.settings.allow_test_ids):
        return check
    keys = {fnr.Verdict.REFUSE: "err.id_refuse", fnr.Verdict.TEST_ONLY: "err.id_test_only",
            fnr.Verdict.NEEDS_CORRECTION: "err.id_placeholder"}
    default = "err.digits" if check.reason == FOREIGN_DIGITS else "err.id_invalid"
    raise FieldErrors({field: keys.get(check.verdict, default)})


def valid_kid(ctx: Ctx, raw: str) -> None:
    """The KID's characters and check digit, as the API checks them."""
    if kidlib.foreign_digits(raw):
        raise FieldErrors({"kid": "err.digits"})
    if not kidlib.is_valid(raw, service.kid_config(ctx.session).algorithm):
        raise FieldErrors({"kid": "err.kid"})


def form_dict(form: Any) -> dict[str, str]:
    """A submitted form as plain strings (the CSRF token left out)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def plain_post(request: Request) -> bool:
    """A form posted without HTMX (scripts off): it gets the desk again, not a fragment."""
    return request.headers.get("HX-Request") != "true"


def back_to(path: str) -> Response:
    """See-other to a page (the fallback answer to a plain form post)."""
    return RedirectResponse(path, status_code=303)


def errors_response(request: Request, form_id: str, fields: Sequence[str],
                    errors: dict[str, str]) -> Response:
    """Each field's error into its slot (out of band), the rest cleared; the form stays."""
    return render(request, "desk_field_errors.html",
                  {"form_id": form_id, "fields": list(dict.fromkeys([*fields, *errors])),
                   "errors": errors}, headers={"HX-Reswap": "none"})

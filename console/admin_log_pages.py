"""The admin pages' logs: the audit log with filters, and the mail outbox (tickets' mail)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import inspect, select
from starlette.responses import Response

from console.admin_api import audit_entries
from console.admin_edit import OrgEditor
from console.admin_pages import page
from console.audit import AuditFilter
from switchboard.auth import Authenticator, Principal


def build_router(*, editor: OrgEditor, auth: Authenticator) -> APIRouter:
    """/admin/audit and /admin/outbox."""
    router = APIRouter(prefix="/admin", include_in_schema=False)
    admin = Depends(auth.page_admin)

    @router.get("/audit")
    def audit(request: Request, _: Principal = admin, who: str = "", kind: str = "",
              object_id: str = "", since: str = "", until: str = "") -> Response:
        errors = []
        days: dict[str, date | None] = {}
        for key, value in (("since", since), ("until", until)):
            try:
                days[key] = date.fromisoformat(value) if value else None
            except ValueError:
                errors.append((key, f'"{value}" is not a date (YYYY-MM-DD)'))
                days[key] = None
        rows = audit_entries(editor, AuditFilter(who=who or None, kind=kind or None,
                                                 object_id=object_id or None),
                             days["since"], days["until"])
        for r in rows:
            r["diff"] = _diff(r["before"], r["after"])
        return page(request, "admin_audit.html", {
            "rows": rows, "errors": errors,
            "filters": {"who": who, "kind": kind, "object_id": object_id, "since": since,
                        "until": until}}, 422 if errors else 200)

    @router.get("/outbox")
    def outbox(request: Request, _: Principal = admin) -> Response:
        with editor.engine.connect() as conn:
            if "outbox" not in inspect(conn).get_table_names():
                return page(request, "admin_outbox.html", {"mails": None})
            from tickets.models import OutboxMail

            table = OutboxMail.__table__  # type: ignore[attr-defined]
            mails = list(conn.execute(select(table).order_by(table.c.id.desc()).limit(200)))
        return page(request, "admin_outbox.html", {"mails": mails})

    return router


def _diff(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(key, before, after) for each top-level key that changed."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", _short(before), _short(after))]
    keys = list(dict.fromkeys([*before, *after]))
    return [(k, _short(before.get(k)), _short(after.get(k))) for k in keys
            if before.get(k) != after.get(k)]


def _short(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value) or "[]"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_short(v)}" for k, v in value.items()) or "{}"
    return str(value)

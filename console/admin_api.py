"""The admin API (docs/admin.md): the live configuration, object by object, with ETags.

Every object is its org-file entry (the same keys, the same defaults). GET gives it with an
`ETag`; PUT replaces it and needs `If-Match` (428 without, 412 with the current version when
stale). Every change is validated as the org file is, applied with `org apply`'s machinery and
audited (console.admin_edit). Admin token or an admin's session; an agent gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from console.admin_edit import (
    MENU_KEYS,
    Data,
    Getter,
    Invalid,
    NotConfigured,
    NotFound,
    OrgEditor,
    Stale,
    agent_of,
    department_of,
    loop_of,
    section,
)
from console.audit import ADMIN_TOKEN, AuditFilter, entries
from switchboard.auth import Authenticator, Principal
from switchboard.orgexport import dump_yaml

# Collections: path segment -> (org data key, the entry's key, getter factory).
COLLECTIONS: dict[str, tuple[str, str, Callable[[str], Getter]]] = {
    "agents": ("agents", "agent", agent_of),
    "loops": ("loops", "loop", loop_of),
    "departments": ("departments", "department", department_of),
}
# Sections edited as a whole: path -> (keys, the key they sit under or None for top level).
HOURS_KEYS = ("opening_hours", "closed_days", "special_hours")
SECTIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "organisation": (("organisation",), None),
    "numbers": (("numbers",), None),
    "menu": (MENU_KEYS, None),
    "hours": (HOURS_KEYS, "organisation"),  # opening hours, closed days, special hours
}


def is_admin(p: Principal) -> bool:
    """The admin token, or an agent with `access: admin`."""
    return p.kind == "admin" or getattr(p, "access", None) == "admin" \
        or bool(getattr(p, "is_admin", False))


def who_of(p: Principal) -> str:
    """The audit log's `who`: the agent's id, or "admin-token"."""
    return p.agent_id or ADMIN_TOKEN


def _ok(obj: Any, etag: str, status: int = 200) -> JSONResponse:
    return JSONResponse(obj, status_code=status, headers={"ETag": etag})


def _run(fn: Callable[[], Response]) -> Response:
    """Map the editor's refusals onto HTTP answers."""
    try:
        return fn()
    except NotConfigured as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    except NotFound as exc:
        return JSONResponse({"detail": f'"{exc}" does not exist'}, status_code=404)
    except Stale as exc:
        return JSONResponse(
            {"detail": "changed since you read it: here is the current version; apply your "
                       "change to it and send its ETag", "current": exc.current,
             "etag": exc.etag},
            status_code=412, headers={"ETag": exc.etag})
    except Invalid as exc:
        return JSONResponse(
            {"detail": str(exc),
             "errors": [{"field": f, "message": m} for f, m in exc.problems]},
            status_code=422)


def _need_if_match(if_match: str | None) -> str:
    if not if_match:
        raise HTTPException(428, "If-Match is required: GET the object and send its ETag")
    return if_match


def _replace(key: str, ident: str, body: dict[str, Any]) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        items = data.setdefault(key, [])
        for i, item in enumerate(items):
            if item["id"] == ident:
                items[i] = body
                return
        raise NotFound(ident)
    return change


def drop_agent(ident: str) -> Callable[[Data], None]:
    """Remove an agent, and from every loop's and department's members with them."""
    def change(data: Data) -> None:
        before = len(data["agents"])
        data["agents"] = [a for a in data["agents"] if a["id"] != ident]
        if len(data["agents"]) == before:
            raise NotFound(ident)
        for group in (*data["loops"], *data.get("departments", [])):
            if ident in group.get("members", []):
                group["members"] = [m for m in group["members"] if m != ident]
    return change


def _drop(key: str, ident: str) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        items = data.get(key, [])
        kept = [x for x in items if x["id"] != ident]
        if len(kept) == len(items):
            raise NotFound(ident)
        data[key] = kept
    return change


def build_router(*, editor: OrgEditor, auth: Authenticator) -> APIRouter:
    """The /api/admin routes."""
    router = APIRouter(prefix="/api/admin", tags=["admin"])
    admin = Depends(auth.admin)  # 401 for nobody, 403 for an agent who is not an admin

    @router.get("/org", summary="The whole live configuration as org-file data")
    def get_org(_: Principal = admin) -> Response:
        return _run(lambda: JSONResponse(editor.data()))

    @router.get("/org.yaml", summary="The live configuration as an org file (org export)")
    def get_org_yaml(_: Principal = admin) -> Response:
        return _run(lambda: PlainTextResponse(
            dump_yaml(editor.data()), media_type="application/yaml",
            headers={"Content-Disposition": 'attachment; filename="org.yaml"'}))

    @router.get("/audit", summary="The audit log, newest first, with filters")
    def get_audit(_: Principal = admin, who: str | None = None, kind: str | None = None,
                  object_id: str | None = None, since: date | None = None,
                  until: date | None = None, limit: int = 200) -> list[dict[str, Any]]:
        return audit_entries(editor, AuditFilter(who=who or None, kind=kind or None,
                                                 object_id=object_id or None, limit=limit),
                             since, until)

    for path, (key, kind, getter_of) in COLLECTIONS.items():
        _collection_routes(router, editor, admin, path, key, kind, getter_of)
    for path, (keys, parent) in SECTIONS.items():
        _section_routes(router, editor, admin, path, keys, parent)

    @router.post("/loops/{loop_id}/members", summary="Add an agent to a loop's members")
    def add_member(loop_id: str, p: Principal = admin, body: dict[str, Any] = Body(...),
                   if_match: str | None = Header(None)) -> Response:
        agent_id = body.get("agent_id")
        if not isinstance(agent_id, str) or not agent_id:
            raise HTTPException(422, "agent_id: is required")
        position = body.get("position")

        def change(data: Data) -> None:
            members = loop_of(loop_id)(data).setdefault("members", [])
            if agent_id not in members:
                at = position if isinstance(position, int) else len(members)
                members.insert(max(0, min(at, len(members))), agent_id)
        return _run(lambda: _edited(editor.edit(
            who=who_of(p), kind="loop", object_id=loop_id, action="member_add",
            getter=loop_of(loop_id), change=change, if_match=if_match)))

    @router.delete("/loops/{loop_id}/members/{agent_id}",
                   summary="Remove an agent from a loop's named members")
    def remove_member(loop_id: str, agent_id: str, p: Principal = admin,
                      if_match: str | None = Header(None)) -> Response:
        def change(data: Data) -> None:
            loop = loop_of(loop_id)(data)
            if agent_id not in loop.get("members", []):
                raise NotFound(agent_id)
            loop["members"] = [m for m in loop["members"] if m != agent_id]
        return _run(lambda: _edited(editor.edit(
            who=who_of(p), kind="loop", object_id=loop_id, action="member_remove",
            getter=loop_of(loop_id), change=change, if_match=if_match)))

    return router


def _edited(result: Any, status: int = 200) -> Response:
    return _ok(result.after, result.etag, status)


def _collection_routes(router: APIRouter, editor: OrgEditor, admin: Any, path: str, key: str,
                       kind: str, getter_of: Callable[[str], Getter]) -> None:
    """GET (list), POST, GET/PUT/DELETE one, for agents, loops and departments."""

    @router.get(f"/{path}", summary=f"Every {kind}, in the org file's order",
                name=f"list_{path}")
    def list_all(_: Principal = admin) -> Response:
        return _run(lambda: JSONResponse(editor.data().get(key, [])))

    @router.post(f"/{path}", summary=f"Create a {kind}", status_code=201,
                 name=f"create_{kind}")
    def create(p: Principal = admin, body: dict[str, Any] = Body(...)) -> Response:
        ident = body.get("id")
        if not isinstance(ident, str) or not ident:
            return JSONResponse({"detail": f"{key}: id is required",
                                 "errors": [{"field": "id", "message": "is required"}]},
                                status_code=422)

        def change(data: Data) -> None:
            if any(x["id"] == ident for x in data.get(key, [])):
                raise Invalid([(f"{key}.id", f'{kind} "{ident}" already exists')])
            data.setdefault(key, []).append(body)
        return _run(lambda: _edited(editor.edit(
            who=who_of(p), kind=kind, object_id=ident, action="create",
            getter=getter_of(ident), change=change, if_match=None), 201))

    @router.get(f"/{path}/{{ident}}", summary=f"One {kind}, with its ETag", name=f"get_{kind}")
    def get_one(ident: str, _: Principal = admin) -> Response:
        return _run(lambda: _ok(*editor.get(getter_of(ident))))

    @router.put(f"/{path}/{{ident}}", summary=f"Replace a {kind} (If-Match required)",
                name=f"put_{kind}")
    def put_one(ident: str, p: Principal = admin, body: dict[str, Any] = Body(...),
                if_match: str | None = Header(None)) -> Response:
        match = _need_if_match(if_match)
        body = {"id": ident, **body}
        if body["id"] != ident:
            return JSONResponse(
                {"detail": f"id: cannot change (the path names {ident})",
                 "errors": [{"field": "id", "message": "cannot change"}]}, status_code=422)
        return _run(lambda: _edited(editor.edit(
            who=who_of(p), kind=kind, object_id=ident, action="update",
            getter=getter_of(ident), change=_replace(key, ident, body), if_match=match)))

    @router.delete(f"/{path}/{{ident}}", summary=f"Remove a {kind}", name=f"delete_{kind}")
    def delete_one(ident: str, p: Principal = admin,
                   if_match: str | None = Header(None)) -> Response:
        change = drop_agent(ident) if key == "agents" else _drop(key, ident)

        def run() -> Response:
            editor.edit(who=who_of(p), kind=kind, object_id=ident, action="delete",
                        getter=getter_of(ident), change=change, if_match=if_match)
            return Response(status_code=204)
        return _run(run)


def _section_routes(router: APIRouter, editor: OrgEditor, admin: Any, path: str,
                    keys: tuple[str, ...], parent: str | None) -> None:
    """GET/PUT of a section: the organisation, its hours, numbers, the menu."""
    getter = section(*keys, parent=parent)

    @router.get(f"/{path}", summary=f"The {path} section, with its ETag", name=f"get_{path}")
    def get_section(_: Principal = admin) -> Response:
        return _run(lambda: _ok(*editor.get(getter)))

    @router.put(f"/{path}", summary=f"Replace the {path} section (If-Match required)",
                name=f"put_{path}")
    def put_section(p: Principal = admin, body: dict[str, Any] = Body(...),
                    if_match: str | None = Header(None)) -> Response:
        match = _need_if_match(if_match)
        unknown = sorted(set(body) - set(keys))
        if unknown:
            return JSONResponse(
                {"detail": f'{unknown[0]}: not part of {path} (keys: {", ".join(keys)})',
                 "errors": [{"field": k, "message": "unknown key"} for k in unknown]},
                status_code=422)

        def change(data: Data) -> None:
            target = data if parent is None else data[parent]
            for k in keys:
                if body.get(k) is None:
                    target.pop(k, None)
                else:
                    target[k] = body[k]
        return _run(lambda: _edited(editor.edit(
            who=who_of(p), kind=path, object_id=path, action="update", getter=getter,
            change=change, if_match=match)))


def audit_entries(editor: OrgEditor, f: AuditFilter, since: date | None,
                  until: date | None) -> list[dict[str, Any]]:
    """Audit rows; since/until are local dates in the organisation's time zone, inclusive."""
    tz = ZoneInfo(editor.tz)
    try:
        tz = ZoneInfo(editor.data()["organisation"]["timezone"])
    except (NotConfigured, KeyError):
        pass

    def start(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)

    f = AuditFilter(who=f.who, kind=f.kind, object_id=f.object_id, limit=f.limit,
                    since=start(since) if since else None,
                    until=start(until + timedelta(days=1)) if until else None)
    with editor.engine.connect() as conn:
        return entries(conn, f)

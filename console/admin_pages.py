"""The admin pages (/admin, admins only): agents, loops and members, numbers and menu, hours,
departments and the org file's download (the audit log and outbox: console.admin_log_pages).

Every form save is one OrgEditor edit (console.admin_edit), as the admin API's: validated by the
org file's own code, applied with `org apply`'s machinery, audited, and refused when the object
changed since the page was rendered (the form carries its ETag). Errors name the org file's
fields; a stale save shows the current version and the values that were not saved.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

import console.admin_texts  # noqa: F401  (registers the pages' words)
from console import admin_forms as forms
from console.admin_api import HOURS_KEYS, drop_agent, who_of
from console.admin_edit import (
    MENU_KEYS,
    Invalid,
    NotFound,
    OrgEditor,
    Stale,
    agent_of,
    department_of,
    etag_of,
    loop_of,
    section,
)
from console.agent_state_pages import state_form
from console.i18n import translate
from console.web import lang_of, render
from routing.models import Agent
from switchboard.auth import Authenticator, Principal
from switchboard.orgexport import NotConfigured, dump_yaml

AGENT = Agent.__table__  # type: ignore[attr-defined]
STRATEGIES = ("ringall", "linear", "round_robin", "least_recent", "fewest_calls", "random")
SECTIONS = ("agents", "loops", "numbers", "hours", "departments", "audit", "outbox")
Shower = Callable[..., Response]


def page(request: Request, template: str, ctx: dict[str, Any], status: int = 200) -> Response:
    """An admin page: the section links, the saved/stale/error messages, then ctx."""
    base = {"sections": SECTIONS, "saved": request.query_params.get("saved") == "1",
            "errors": [], "notice": None}
    return render(request, template, base | ctx, status_code=status)


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    return {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form.keys()}


def build_router(*, editor: OrgEditor, auth: Authenticator) -> APIRouter:
    """Every /admin page."""
    router = APIRouter(prefix="/admin", include_in_schema=False)
    admin = Depends(auth.page_admin)

    async def save(request: Request, user: Principal, *, kind: str, object_id: str,
                   action: str, getter: Any, change: Any, etag: str | None, done: str,
                   show: Shower, mine: dict[str, Any] | None = None) -> Response:
        """One edit from a form; the page again with errors, or on to `done`."""
        try:
            await run_in_threadpool(partial(
                editor.edit, who=who_of(user), kind=kind, object_id=object_id, action=action,
                getter=getter, change=change, if_match=etag or None))
        except Invalid as exc:
            return await run_in_threadpool(show, errors=exc.problems, status=422)
        except Stale as exc:
            notice = translate(lang_of(request), "admin.stale",
                               mine=forms.differences(mine or {}, exc.current))
            return await run_in_threadpool(show, notice=notice, status=409)
        except NotFound:
            raise HTTPException(404, "no such object") from None
        return RedirectResponse(done + ("&" if "?" in done else "?") + "saved=1", 303)

    @router.get("")
    def index(request: Request, _: Principal = admin) -> Response:
        return page(request, "admin.html", {})

    @router.get("/org.yaml")
    def download(_: Principal = admin) -> Response:
        try:
            text = dump_yaml(editor.data())
        except NotConfigured as exc:
            raise HTTPException(409, str(exc)) from None
        return PlainTextResponse(text, media_type="application/yaml", headers={
            "Content-Disposition": 'attachment; filename="org.yaml"'})

    # --- agents ---------------------------------------------------------------------------

    def show_agents(request: Request, *, errors: Any = (), notice: Any = None,
                    status: int = 200, form: dict[str, Any] | None = None) -> Response:
        data = editor.data()
        with editor.engine.connect() as conn:
            states = {r.id: r for r in conn.execute(select(AGENT))}
        return page(request, "admin_agents.html", {
            "agents": data["agents"], "states": states, "errors": errors, "notice": notice,
            "form": form or {}}, status)

    @router.get("/agents")
    def agents(request: Request, _: Principal = admin) -> Response:
        return show_agents(request)

    @router.post("/agents")
    async def create_agent(request: Request, user: Principal = admin) -> Response:
        f = await _form(request)
        body = forms.agent_data(f, None)

        def change(data: dict[str, Any]) -> None:
            if any(a["id"] == body["id"] for a in data["agents"]):
                raise Invalid([("agents.id", f'agent "{body["id"]}" already exists')])
            data["agents"].append(body)
        return await save(request, user, kind="agent", object_id=body["id"], action="create",
                          getter=agent_of(body["id"]), change=change, etag=None,
                          done=f"/admin/agents/{body['id']}",
                          show=partial(show_agents, request, form=body))

    def show_agent(request: Request, agent_id: str, user: Principal, *, errors: Any = (),
                   notice: Any = None, status: int = 200) -> Response:
        try:
            agent, etag = editor.get(agent_of(agent_id))
        except NotFound:
            raise HTTPException(404, "no such agent") from None
        sf = state_form(editor.engine, agent_id, admin=True, next=f"/admin/agents/{agent_id}")
        return page(request, "admin_agent.html", {
            "agent": agent, "etag": etag, "sf": sf, "errors": errors, "notice": notice}, status)

    @router.get("/agents/{agent_id}")
    def agent(request: Request, agent_id: str, user: Principal = admin) -> Response:
        return show_agent(request, agent_id, user)

    @router.post("/agents/{agent_id}")
    async def save_agent(request: Request, agent_id: str, user: Principal = admin) -> Response:
        f = await _form(request)
        try:
            current = agent_of(agent_id)(await run_in_threadpool(editor.data))
        except NotFound:
            raise HTTPException(404, "no such agent") from None
        body = forms.agent_data(f, current) | {"id": agent_id}

        def change(data: dict[str, Any]) -> None:
            data["agents"] = [body if a["id"] == agent_id else a for a in data["agents"]]
        return await save(request, user, kind="agent", object_id=agent_id, action="update",
                          getter=agent_of(agent_id), change=change,
                          etag=forms.text(f, "etag"), done=f"/admin/agents/{agent_id}",
                          show=partial(show_agent, request, agent_id, user), mine=body)

    @router.post("/agents/{agent_id}/delete")
    async def delete_agent(request: Request, agent_id: str, user: Principal = admin
                           ) -> Response:
        f = await _form(request)
        return await save(request, user, kind="agent", object_id=agent_id, action="delete",
                          getter=agent_of(agent_id), change=drop_agent(agent_id),
                          etag=forms.text(f, "etag"), done="/admin/agents",
                          show=partial(show_agent, request, agent_id, user))

    # --- loops ----------------------------------------------------------------------------

    def loop_choices() -> dict[str, Any]:
        data = editor.data()
        return {"all_agents": data["agents"], "all_loops": data["loops"],
                "departments": data.get("departments", []), "strategies": STRATEGIES}

    def show_loops(request: Request, *, errors: Any = (), notice: Any = None,
                   status: int = 200, form: dict[str, Any] | None = None) -> Response:
        return page(request, "admin_loops.html", loop_choices() | {
            "errors": errors, "notice": notice, "form": form or {}}, status)

    @router.get("/loops")
    def loops(request: Request, _: Principal = admin) -> Response:
        return show_loops(request)

    @router.post("/loops")
    async def create_loop(request: Request, user: Principal = admin) -> Response:
        body = forms.loop_data(await _form(request), None)

        def change(data: dict[str, Any]) -> None:
            if any(lp["id"] == body["id"] for lp in data["loops"]):
                raise Invalid([("loops.id", f'loop "{body["id"]}" already exists')])
            data["loops"].append(body)
        return await save(request, user, kind="loop", object_id=body["id"], action="create",
                          getter=loop_of(body["id"]), change=change, etag=None,
                          done=f"/admin/loops/{body['id']}",
                          show=partial(show_loops, request, form=body))

    def show_loop(request: Request, loop_id: str, *, errors: Any = (), notice: Any = None,
                  status: int = 200) -> Response:
        try:
            loop, etag = editor.get(loop_of(loop_id))
        except NotFound:
            raise HTTPException(404, "no such loop") from None
        return page(request, "admin_loop.html", loop_choices() | {
            "the_loop": loop, "etag": etag, "errors": errors, "notice": notice}, status)

    @router.get("/loops/{loop_id}")
    def loop(request: Request, loop_id: str, _: Principal = admin) -> Response:
        return show_loop(request, loop_id)

    @router.post("/loops/{loop_id}")
    async def save_loop(request: Request, loop_id: str, user: Principal = admin) -> Response:
        f = await _form(request)
        body = forms.loop_data(f, {"id": loop_id}) | {"id": loop_id}

        def change(data: dict[str, Any]) -> None:
            data["loops"] = [body if lp["id"] == loop_id else lp for lp in data["loops"]]
        return await save(request, user, kind="loop", object_id=loop_id, action="update",
                          getter=loop_of(loop_id), change=change, etag=forms.text(f, "etag"),
                          done=f"/admin/loops/{loop_id}",
                          show=partial(show_loop, request, loop_id), mine=body)

    @router.post("/loops/{loop_id}/members")
    async def add_member(request: Request, loop_id: str, user: Principal = admin) -> Response:
        f = await _form(request)
        agent_id = forms.text(f, "agent_id")

        def change(data: dict[str, Any]) -> None:
            members = loop_of(loop_id)(data).setdefault("members", [])
            if agent_id and agent_id not in members:
                members.append(agent_id)
        return await save(request, user, kind="loop", object_id=loop_id, action="member_add",
                          getter=loop_of(loop_id), change=change, etag=None,
                          done=f"/admin/loops/{loop_id}",
                          show=partial(show_loop, request, loop_id))

    @router.post("/loops/{loop_id}/members/{agent_id}/remove")
    async def remove_member(request: Request, loop_id: str, agent_id: str,
                            user: Principal = admin) -> Response:
        def change(data: dict[str, Any]) -> None:
            lp = loop_of(loop_id)(data)
            lp["members"] = [m for m in lp.get("members", []) if m != agent_id]
        return await save(request, user, kind="loop", object_id=loop_id,
                          action="member_remove", getter=loop_of(loop_id), change=change,
                          etag=None, done=f"/admin/loops/{loop_id}",
                          show=partial(show_loop, request, loop_id))

    @router.post("/loops/{loop_id}/delete")
    async def delete_loop(request: Request, loop_id: str, user: Principal = admin) -> Response:
        f = await _form(request)

        def change(data: dict[str, Any]) -> None:
            data["loops"] = [lp for lp in data["loops"] if lp["id"] != loop_id]
        return await save(request, user, kind="loop", object_id=loop_id, action="delete",
                          getter=loop_of(loop_id), change=change, etag=forms.text(f, "etag"),
                          done="/admin/loops", show=partial(show_loop, request, loop_id))

    # --- numbers and menu, hours ----------------------------------------------------------

    def show_numbers(request: Request, *, errors: Any = (), notice: Any = None,
                     status: int = 200) -> Response:
        numbers, n_etag = editor.get(section("numbers"))
        menu, m_etag = editor.get(section(*MENU_KEYS))
        data = editor.data()
        return page(request, "admin_numbers.html", {
            "numbers": numbers["numbers"], "n_etag": n_etag, "menu": menu, "m_etag": m_etag,
            "all_agents": data["agents"], "all_loops": data["loops"], "errors": errors,
            "notice": notice}, status)

    @router.get("/numbers")
    def numbers(request: Request, _: Principal = admin) -> Response:
        return show_numbers(request)

    @router.post("/numbers")
    async def save_numbers(request: Request, user: Principal = admin) -> Response:
        f = await _form(request)
        rows = forms.numbers_data(f)

        def change(data: dict[str, Any]) -> None:
            data["numbers"] = rows
        return await save(request, user, kind="numbers", object_id="numbers", action="update",
                          getter=section("numbers"), change=change, etag=forms.text(f, "etag"),
                          done="/admin/numbers", show=partial(show_numbers, request),
                          mine={"numbers": rows})

    @router.post("/menu")
    async def save_menu(request: Request, user: Principal = admin) -> Response:
        f = await _form(request)
        current = await run_in_threadpool(editor.data)
        body = forms.menu_data(f, current)

        def change(data: dict[str, Any]) -> None:
            for k, v in body.items():
                if v is None:
                    data.pop(k, None)
                else:
                    data[k] = v
        return await save(request, user, kind="menu", object_id="menu", action="update",
                          getter=section(*MENU_KEYS), change=change,
                          etag=forms.text(f, "etag"), done="/admin/numbers",
                          show=partial(show_numbers, request), mine=body)

    def show_hours(request: Request, *, errors: Any = (), notice: Any = None,
                   status: int = 200) -> Response:
        hours, etag = editor.get(section(*HOURS_KEYS, parent="organisation"))
        return page(request, "admin_hours.html", {
            "hours": hours, "etag": etag, "weekdays": forms.WEEKDAYS, "errors": errors,
            "notice": notice}, status)

    @router.get("/hours")
    def hours(request: Request, _: Principal = admin) -> Response:
        return show_hours(request)

    @router.post("/hours")
    async def save_hours(request: Request, user: Principal = admin) -> Response:
        f = await _form(request)
        body = forms.hours_data(f)

        def change(data: dict[str, Any]) -> None:
            for k, v in body.items():
                if v is None:
                    data["organisation"].pop(k, None)
                else:
                    data["organisation"][k] = v
        return await save(request, user, kind="hours", object_id="hours", action="update",
                          getter=section(*HOURS_KEYS, parent="organisation"), change=change,
                          etag=forms.text(f, "etag"), done="/admin/hours",
                          show=partial(show_hours, request), mine=body)

    # --- departments ----------------------------------------------------------------------

    def show_departments(request: Request, *, errors: Any = (), notice: Any = None,
                         status: int = 200) -> Response:
        data = editor.data()
        depts = [(d, etag_of(d)) for d in data.get("departments", [])]
        return page(request, "admin_departments.html", {
            "departments": depts, "errors": errors, "notice": notice}, status)

    @router.get("/departments")
    def departments(request: Request, _: Principal = admin) -> Response:
        return show_departments(request)

    @router.post("/departments")
    async def create_department(request: Request, user: Principal = admin) -> Response:
        body = forms.department_data(await _form(request), None)

        def change(data: dict[str, Any]) -> None:
            if any(d["id"] == body["id"] for d in data.get("departments", [])):
                raise Invalid([("departments.id", f'department "{body["id"]}" already exists')])
            data.setdefault("departments", []).append(body)
        return await save(request, user, kind="department", object_id=body["id"],
                          action="create", getter=department_of(body["id"]), change=change,
                          etag=None, done="/admin/departments",
                          show=partial(show_departments, request))

    @router.post("/departments/{dept_id}")
    async def save_department(request: Request, dept_id: str, user: Principal = admin
                              ) -> Response:
        f = await _form(request)
        delete = forms.text(f, "delete") == "1"
        body = forms.department_data(f, {"id": dept_id}) | {"id": dept_id}

        def change(data: dict[str, Any]) -> None:
            items = data.get("departments", [])
            data["departments"] = [d for d in items if d["id"] != dept_id] if delete else [
                body if d["id"] == dept_id else d for d in items]
            if delete:
                for lp in data["loops"]:
                    if lp.get("department") == dept_id:
                        lp.pop("department")
        return await save(request, user, kind="department", object_id=dept_id,
                          action="delete" if delete else "update",
                          getter=department_of(dept_id), change=change,
                          etag=forms.text(f, "etag"), done="/admin/departments",
                          show=partial(show_departments, request), mine=body)

    return router


"""The agent/admin boundary, once per route: every route of the app is found by walking the
app's routers, its level is read from the auth dependency it declares (switchboard.auth), and
then each route is called signed out, as an agent and as an admin.

To add a route family, do nothing: it is found. List a path in EXPECTED to pin its level (so
a route that loses its admin dependency fails here), and list truly open paths in PUBLIC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from tests.console.conftest import Live, csrf_from, http_login

# Open on purpose: Twilio's webhooks (their signature is their check), sign-in, static files,
# health and metrics, the API's own description.
PUBLIC = re.compile(r"^(/twilio/.*|/login|/lang|/|/healthz|/readyz|/metrics|/openapi\.json"
                    r"|/docs.*|/redoc|/static/.*)$")
# The level some paths must have (when the app has them): add yours.
EXPECTED = {
    "/desk": "user", "/desk/events": "user", "/desk/pop": "user", "/desk/stop-today": "user",
    "/logout": "user", "/api/me/calls": "user", "/api/me/calls/{call_id}": "user",
    "/api/presence": "user", "/tickets": "user", "/wallboard": "user", "/api/tickets": "user",
    "/admin": "admin", "/api/admin/agents/{ident}": "admin", "/api/admin/loops/{ident}": "admin",
    "/api/admin/loops/{loop_id}/members": "admin", "/api/identity/unlock": "admin",
}
MUST_EXIST = ("/desk", "/desk/events", "/logout", "/api/me/calls", "/api/presence")


def _walk(routes: list[Any], prefix: str = "", extra: tuple[Any, ...] = ()
          ) -> Iterator[tuple[str, set[str], Any, tuple[Any, ...]]]:
    for r in routes:
        if isinstance(r, APIRoute):
            yield prefix + r.path, set(r.methods or ()), r, extra
        elif hasattr(r, "original_router"):  # FastAPI's lazily included router
            ctx = r.include_context
            yield from _walk(r.original_router.routes, prefix + (ctx.prefix or ""),
                             extra + tuple(ctx.dependencies or ()))
        elif isinstance(r, Mount):
            continue  # static files
        elif isinstance(r, Route):
            yield prefix + r.path, set(r.methods or ()), r, extra


def _calls(dependant: Any) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def level(app: FastAPI, route: Any, extra: tuple[Any, ...]) -> str:
    """public, user, admin or page-user/page-admin, from the auth dependencies declared."""
    auth = app.state.auth
    calls = list(_calls(route.dependant)) if isinstance(route, APIRoute) else []
    calls += [d.dependency for d in extra]
    # A narrower dependency built on these (a team lead's page) names its level itself.
    named = [getattr(c, "boundary_level", None) for c in calls]
    if any(named):
        return next(n for n in named if n)
    if auth.page_admin in calls:
        return "page-admin"
    if auth.admin in calls:
        return "admin"
    if auth.page_user in calls:
        return "page-user"
    if any(c in calls for c in (auth.agent, auth.any_user)):
        return "user"
    return "public"


def all_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, level) for every route and method (HEAD left out)."""
    out = []
    for path, methods, route, extra in _walk(app.router.routes):
        for method in sorted(methods - {"HEAD"}):
            out.append((method, path, level(app, route, extra)))
    return out


def concrete(path: str) -> str:
    """The path with each {param} filled (an id nobody has)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def status_of(client: httpx.Client, method: str, path: str, csrf: str | None) -> httpx.Response:
    """The response's head only (a live stream is not read to its end)."""
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    with client.stream(method, concrete(path), headers=headers) as r:
        return r


def signed_in(live: Live, agent_id: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=live.url, follow_redirects=False, timeout=10)
    assert http_login(client, agent_id).status_code == 303
    return client, csrf_from(client.get("/desk").text)


def test_every_route_declares_its_level(live: Live) -> None:
    routes = all_routes(live.app)
    found = {path for _, path, _ in routes}
    assert set(MUST_EXIST) <= found
    unguarded = sorted({(m, p) for m, p, lvl in routes if lvl == "public" and not PUBLIC.match(p)})
    assert unguarded == [], "routes without an auth dependency (switchboard.auth)"
    for method, path, lvl in routes:
        if path in EXPECTED:
            assert lvl.removeprefix("page-") == EXPECTED[path], (method, path, lvl)


def test_the_boundary_holds_for_every_route(live: Live) -> None:
    routes = [(m, p, lvl) for m, p, lvl in all_routes(live.app) if lvl != "public"]
    routes.sort(key=lambda r: r[1] == "/logout")  # signing out last, or the rest would be 401
    assert routes
    anon = httpx.Client(base_url=live.url, follow_redirects=False, timeout=10)
    agent, agent_csrf = signed_in(live, "janet")
    admin, admin_csrf = signed_in(live, "may.tove")
    problems = []
    for method, path, lvl in routes:
        r = status_of(anon, method, path, None)
        if lvl.startswith("page-"):
            ok = r.status_code == 302 and r.headers.get("location") == "/login"
        else:
            ok = r.status_code == 401
        if not ok:
            problems.append(("signed out", method, path, r.status_code))
        r = status_of(agent, method, path, agent_csrf)
        wanted_agent = lvl.endswith("admin")
        if (r.status_code == 403) != wanted_agent or r.status_code == 401:
            problems.append(("agent", method, path, r.status_code))
        r = status_of(admin, method, path, admin_csrf)
        if r.status_code in (401, 403):
            problems.append(("admin", method, path, r.status_code))
    for c in (anon, agent, admin):
        c.close()
    # An agent's 403 on a route declared for agents means a check of its own inside the
    # route: declare auth.page_admin / auth.admin instead, so the boundary is one dependency.
    assert problems == [], "(who, method, path, status) where the boundary did not hold"


@pytest.mark.parametrize("path", ["/admin", "/api/admin/agents/janet"])
def test_an_agent_on_admin_gets_403(live: Live, path: str) -> None:
    known = {p for _, p, _ in all_routes(live.app)}
    if not any(re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path) for p in known):
        pytest.skip(f"{path} is not in the app yet")
    agent, _ = signed_in(live, "janet")
    r = agent.get(path)
    assert r.status_code == 403
    if not path.startswith("/api/"):
        assert "Du har ikke tilgang til denne siden." in r.text
    admin, _ = signed_in(live, "may.tove")
    assert admin.get(path).status_code == 200
    agent.close()
    admin.close()

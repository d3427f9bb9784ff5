"""The console's web base: templates, static files, and `render()` for every page.

A page route declares `user: Principal = Depends(auth.page_user)` (or `auth.page_admin`), does
its work, and returns `render(request, "page.html", {...})`. Templates extend `base.html` and
get, besides their own context: `user` (the Principal), `csrf_token` (put it in every form
that changes something as `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`,
or send it as the `X-CSRF-Token` header), `lang` ("nb" or "en") and `t(key, **values)`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from console.i18n import LANG_COOKIE, pick_lang, translate
from switchboard.auth import PRE_COOKIE, SESSION_COOKIE, Authenticator

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
YEAR = 365 * 24 * 3600

# The nav's entries: (path, key in i18n, admins only).
NAV = (("/desk", "nav.desk", False), ("/tickets", "nav.tickets", False),
       ("/wallboard", "nav.wallboard", False), ("/reports", "nav.reports", False),
       ("/admin", "nav.admin", True))


def lang_of(request: Request) -> str:
    """The browser's chosen language ("nb" unless it chose English)."""
    return pick_lang(request.cookies.get(LANG_COOKIE))


def auth_of(request: Request) -> Authenticator:
    """The app's Authenticator."""
    return request.app.state.auth  # type: ignore[no-any-return]


def secure_cookies(request: Request) -> bool:
    """Cookies carry Secure whenever PUBLIC_URL is https."""
    return auth_of(request).secure_cookies


def set_cookie(request: Request, response: Response, name: str, value: str, *,
               max_age: int | None = None) -> None:
    """A first-party cookie: HttpOnly, SameSite=Lax, Secure under https."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=secure_cookies(request))


def page_context(request: Request, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """The user, CSRF token, language and nav every template gets, plus context."""
    lang = lang_of(request)
    user = getattr(request.state, "principal", None)
    path = request.url.path
    nav = [{"path": p, "label": translate(lang, key), "current": path.startswith(p)}
           for p, key, admin_only in NAV if not admin_only or (user and user.is_admin)]
    ctx: dict[str, Any] = {
        "request": request, "user": user, "csrf_token": auth_of(request).csrf_token(request),
        "lang": lang, "t": partial(translate, lang), "nav": nav, "path": path,
    }
    ctx.update(context or {})
    return ctx


def fragment(request: Request, template: str, context: dict[str, Any] | None = None) -> str:
    """A template rendered to text with the page context (for server-sent events)."""
    return templates.get_template(template).render(page_context(request, context))


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Render a template with the user, CSRF token and language every page needs."""
    ctx = page_context(request, context)
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code,
                                          headers=headers)
    new_pre = getattr(request.state, "new_pre", None)
    if new_pre:
        set_cookie(request, response, PRE_COOKIE, new_pre)
    return response


def install_static(app: FastAPI) -> None:
    """Serve console/static at /static (after the IVR's /static/hold.wav route, which wins)."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")


__all__ = ["NAV", "SESSION_COOKIE", "auth_of", "fragment", "install_static", "lang_of",
           "page_context", "render", "set_cookie", "templates"]

"""Wires the admin side into the app: the admin API and pages, agents' state, the
return-date job."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI

from console import admin_api, admin_log_pages, admin_pages, agent_state, agent_state_pages
from console.admin_edit import OrgEditor
from ivr.context import FlowContext
from switchboard.auth import Authenticator


def install(app: FastAPI, *, ctx: FlowContext, auth: Authenticator) -> OrgEditor:
    """Mount the admin API and pages, the state API and form; register the return-date job."""

    def clock() -> datetime:
        return ctx.clock()  # looked up per call: tests swap ctx.clock after the app is built

    editor = OrgEditor(ctx.engine, ctx.cache, clock, ctx.settings.timezone)
    app.state.org_editor = editor
    app.include_router(admin_api.build_router(editor=editor, auth=auth))
    app.include_router(agent_state.build_router(engine=ctx.engine, cache=ctx.cache,
                                                clock=clock, auth=auth))
    app.include_router(admin_pages.build_router(editor=editor, auth=auth))
    app.include_router(admin_log_pages.build_router(editor=editor, auth=auth))
    app.include_router(agent_state_pages.build_router(engine=ctx.engine, cache=ctx.cache,
                                                      clock=clock, auth=auth))
    jobs = getattr(app.state, "jobs", None)
    if jobs is not None:
        jobs.append(agent_state.back_on_job(ctx.engine, ctx.cache, clock))
    return editor

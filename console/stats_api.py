"""The statistics API (docs/statistics.md): the loops now, and reports as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from console.stats_report import loops_now, report, report_csv
from ivr.context import FlowContext
from switchboard.auth import Authenticator, Principal

Period = Literal["day", "week", "month"]


def build_router(*, ctx: FlowContext, auth: Authenticator) -> APIRouter:
    """GET /api/stats/loops, /api/stats/report and /api/stats/report.csv."""
    router = APIRouter(prefix="/api/stats", tags=["statistics"])

    def read_report(period: str, day: date | None) -> dict[str, Any]:
        snap = ctx.cache.get()
        now = ctx.clock()
        day = day or now.astimezone(ZoneInfo(snap.timezone)).date()
        with ctx.engine.connect() as conn:
            return report(conn, snap, period=period, day=day, now=now)

    @router.get("/loops", summary="Per loop: waiting now, longest wait, answered and abandoned "
                                  "today, service level, offerable and not offerable by reason")
    def stats_loops(_: Principal = Depends(auth.any_user)) -> list[dict[str, Any]]:
        snap = ctx.cache.get()
        with ctx.engine.connect() as conn:
            now = loops_now(conn, snap, now=ctx.clock())
        return [{k: v for k, v in lp.items() if k != "members"} for lp in now["loops"]]

    @router.get("/report", summary="Per loop and per agent for a day, ISO week or month")
    def stats_report(
        period: Period = Query("day", description="day, week (ISO, Monday first) or month"),
        date_: date | None = Query(None, alias="date",
                                   description="a day in the period (YYYY-MM-DD); today if none"),
        format_: Literal["json", "csv"] = Query("json", alias="format"),
        _: Principal = Depends(auth.any_user),
    ) -> Any:
        rep = read_report(period, date_)
        if format_ == "csv":
            return _csv(rep)
        return rep

    @router.get("/report.csv", summary="The same report as CSV")
    def stats_report_csv(
        period: Period = Query("day"),
        date_: date | None = Query(None, alias="date"),
        _: Principal = Depends(auth.any_user),
    ) -> Response:
        return _csv(read_report(period, date_))

    return router


def _csv(rep: dict[str, Any]) -> Response:
    name = f"switchboard-{rep['period']}-{rep['date']}.csv"
    return Response(report_csv(rep), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

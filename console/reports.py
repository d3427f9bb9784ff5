"""The reports page (/reports): a day, ISO week or month per loop and per agent, as tables and
a server-drawn SVG chart, with the same report as CSV (/api/stats/report.csv)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.responses import Response

from console.i18n import register, translate
from console.reports_chart import chart_svg
from console.stats import PERIODS
from console.stats_report import report
from console.wallboard import clock_text, percent
from console.web import lang_of, render
from ivr.context import FlowContext
from switchboard.auth import Authenticator, Principal

register({
    "nb": {
        "nav.reports": "Rapporter",
        "rep.title": "Rapporter", "rep.period": "Periode", "rep.date": "Dato",
        "rep.show": "Vis rapport", "rep.csv": "Last ned som CSV",
        "rep.day": "Dag", "rep.week": "Uke", "rep.month": "Måned",
        "rep.loops": "Sløyfer", "rep.agents": "Agenter", "rep.total": "Totalt",
        "rep.name": "Navn", "rep.offered": "Tilbudt", "rep.answered": "Besvart",
        "rep.abandoned": "Tapt", "rep.abandon_time": "Tapt etter (snitt / lengst)",
        "rep.overflowed": "Videresendt", "rep.voicemail": "Talebeskjed",
        "rep.callbacks": "Tilbakeringinger", "rep.service_level": "Servicenivå",
        "rep.wait": "Ventetid (snitt / lengst)", "rep.talk": "Samtaletid (sum / snitt)",
        "rep.other": "Annet", "rep.chart": "Samtaler {period} {date}",
        "rep.bad_date": "Dato: «{value}» er ikke en dato (ÅÅÅÅ-MM-DD).",
        "rep.bad_period": "Periode: velg dag, uke eller måned.",
        "rep.hours": "{hours} timer (sommertid/vintertid)",
    },
    "en": {
        "nav.reports": "Reports",
        "rep.title": "Reports", "rep.period": "Period", "rep.date": "Date",
        "rep.show": "Show report", "rep.csv": "Download as CSV",
        "rep.day": "Day", "rep.week": "Week", "rep.month": "Month",
        "rep.loops": "Loops", "rep.agents": "Agents", "rep.total": "Total",
        "rep.name": "Name", "rep.offered": "Offered", "rep.answered": "Answered",
        "rep.abandoned": "Abandoned", "rep.abandon_time": "Abandoned after (avg / max)",
        "rep.overflowed": "Overflowed", "rep.voicemail": "Voicemail",
        "rep.callbacks": "Callbacks", "rep.service_level": "Service level",
        "rep.wait": "Wait (avg / max)", "rep.talk": "Talk time (total / avg)",
        "rep.other": "Other", "rep.chart": "Calls {period} {date}",
        "rep.bad_date": "Date: \"{value}\" is not a date (YYYY-MM-DD).",
        "rep.bad_period": "Period: choose day, week or month.",
        "rep.hours": "{hours} hours (daylight saving change)",
    },
})


def _pair(a: float | None, b: float | None) -> str:
    return "–" if a is None else f"{clock_text(a)} / {clock_text(b)}"


def rows_for_page(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Report rows with their times and shares as text."""
    return [{**r, "level": percent(r["service_level"]),
             "abandon_time": _pair(r["abandon_avg_s"], r["abandon_max_s"]),
             "wait": _pair(r["wait_avg_s"], r["wait_max_s"]),
             "talk": _pair(r["talk_s"] if r["answered"] else None, r["talk_avg_s"])}
            for r in rows]


def build_router(*, ctx: FlowContext, auth: Authenticator) -> APIRouter:
    """GET /reports."""
    router = APIRouter(tags=["reports"], include_in_schema=False)

    @router.get("/reports")
    def reports(request: Request, _: Principal = Depends(auth.page_user)) -> Response:
        lang = lang_of(request)

        def t(key: str, **v: Any) -> str:
            return translate(lang, key, **v)

        snap = ctx.cache.get()
        now = ctx.clock()
        period = request.query_params.get("period", "day")
        raw = request.query_params.get("date", "").strip()
        errors = []
        if period not in PERIODS:
            errors.append(t("rep.bad_period"))
            period = "day"
        day = now.astimezone(ZoneInfo(snap.timezone)).date()
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                errors.append(t("rep.bad_date", value=raw[:40]))
        context: dict[str, Any] = {"period": period, "date": raw or day.isoformat(),
                                   "periods": PERIODS, "errors": errors}
        if errors:
            return render(request, "reports.html", context, status_code=422)
        with ctx.engine.connect() as conn:
            rep = report(conn, snap, period=period, day=day, now=now)
        labels = {k: t(f"rep.{k}") for k in ("offered", "answered", "abandoned", "other")}
        title = t("rep.chart", period=t(f"rep.{period}").lower(), date=day.isoformat())
        context.update(
            report=rep, loops=rows_for_page(rep["loops"]), agents=rows_for_page(rep["agents"]),
            total=rows_for_page([{"id": "", "name": t("rep.total"), **rep["total"]}])[0],
            chart=Markup(chart_svg(rep["series"], title=title, labels=labels)),
            csv_url="/api/stats/report.csv?" + urlencode({"period": period,
                                                          "date": day.isoformat()}),
            odd_hours=period == "day" and rep["hours"] != 24)
        return render(request, "reports.html", context)

    return router

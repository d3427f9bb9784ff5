"""The team lead's overruns page (/reports/overruns, docs/tickets.md#overruns): per agent,
tickets done late, promises made late or missed, escalations; counts and dates, no member data;
for admins and escalation contacts only; the same figures as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.tickets.conftest import TICKET_ORG, World, give_tokens
from tests.twilio_harness import make_app
from tickets.escalation import run_escalations

TEXT = "Medlemmet lurer på en faktura fra oktober."
ORG = (TICKET_ORG
       .replace("email: a1@union.example}", "email: a1@union.example, access: admin}")
       .replace("escalation: leder@union.example", "escalation: a2@union.example"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def ow(settings, engine) -> World:  # type: ignore[no-untyped-def]
    """Overruns by a2 and a3 between Wednesday 25 November and Thursday 3 December 2026."""
    tw = make_app(settings, engine, ORG)
    w = World(tw=tw, engine=engine, tokens=give_tokens(engine, ["a1", "a2", "a3"]))
    a = w.create("a3", text=TEXT).json()  # innkreving: due at the end of Wed 2 Dec
    a = w.patch(a["id"], a["version"], "a3", owner="a3").json()
    b = w.create("a1", department="lonn", text=TEXT).json()  # 24 hours: Thursday 10:00
    w.clock.now = utc(2026, 11, 27, 9, 0)  # Friday: B's deadline has passed
    r = w.client.post(f"/api/tickets/{b['id']}/promise", headers=w.auth("a2"),
                      json={"promised_by": "2026-11-30", "note": "Svar mandag."})
    assert r.status_code == 201 and r.json()["late"] is True
    w.clock.now = utc(2026, 12, 3, 9, 0)  # Thursday 3 Dec
    w.patch(a["id"], a["version"], "a3", status="done")  # a day late
    run_escalations(w.engine, now=w.clock())  # B: promise missed, overdue, untouched;
    return w  # a2's phone task: overdue, untouched


def cells(html: str, agent: str) -> str:
    start = html.index(f'data-testid="overruns-{agent}"')
    return html[start:html.index("</tr>", start)]


def test_overruns_per_agent_with_counts_and_dates_and_no_member_data(ow: World) -> None:
    r = ow.client.get("/reports/overruns", headers=ow.auth("a1"))
    assert r.status_code == 200
    html = r.text
    order = [html.index(f'data-testid="overruns-{a}"') for a in ("a2", "nobody", "a3")]
    assert order == sorted(order)  # most overruns first
    a2 = cells(html, "a2")
    assert "Agent To" in a2
    assert '<td class="num" data-kind="late_promises">1<div class="dates">27.11</div>' in a2
    assert '<td class="num" data-kind="missed_promises">1<div class="dates">03.12</div>' in a2
    assert '<td class="num" data-kind="escalations">2<div class="dates">03.12, 03.12</div>' in a2
    a3 = cells(html, "a3")
    assert '<td class="num" data-kind="late_done">1<div class="dates">03.12</div>' in a3
    assert '<td class="num" data-kind="escalations">0</td>' in a3
    nobody = cells(html, "nobody")
    assert "Ingen eier" in nobody and 'data-kind="escalations">3<' in nobody
    assert TEXT not in html and "Svar mandag" not in html and "faktura" not in html


def test_a_shorter_period_counts_only_what_happened_in_it(ow: World) -> None:
    html = ow.client.get("/reports/overruns?from=2026-12-01&to=2026-12-03",
                         headers=ow.auth("a1")).text
    assert 'data-kind="late_promises">0<' in cells(html, "a2")
    empty = ow.client.get("/reports/overruns?from=2026-11-01&to=2026-11-20",
                          headers=ow.auth("a1")).text
    assert 'data-testid="overruns-none"' in empty


def test_the_csv_has_the_same_figures(ow: World) -> None:
    r = ow.client.get("/reports/overruns.csv?from=2026-11-25&to=2026-12-03",
                      headers=ow.auth("a1"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="overruns-2026-11-25-2026-12-03.csv"' in r.headers["content-disposition"]
    rows = {row["agent"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert set(rows) == {"a2", "a3", ""}
    assert (rows["a2"]["late_promises"], rows["a2"]["missed_promises"],
            rows["a2"]["escalations"], rows["a2"]["total"]) == ("1", "1", "2", "4")
    assert rows["a3"]["late_done_dates"] == "2026-12-03"
    assert rows[""]["escalations"] == "3"
    assert TEXT not in r.text


def test_admins_and_escalation_contacts_may_see_it_others_not(ow: World) -> None:
    assert 'data-testid="overruns-link"' in ow.client.get("/tickets", headers=ow.auth("a1")).text
    assert 'data-testid="overruns-link"' not in ow.client.get("/tickets",
                                                              headers=ow.auth("a3")).text
    assert ow.client.get("/reports/overruns", headers=ow.auth("a2")).status_code == 200
    assert ow.client.get("/reports/overruns", headers=ow.auth("a3")).status_code == 403
    assert ow.client.get("/reports/overruns.csv", headers=ow.auth("a3")).status_code == 403
    signed_out = ow.client.get("/reports/overruns", follow_redirects=False)
    assert signed_out.status_code == 302 and signed_out.headers["location"] == "/login"


def test_a_bad_period_names_the_field(ow: World) -> None:
    bad = ow.client.get("/reports/overruns?from=2026-13-01", headers=ow.auth("a1"))
    assert bad.status_code == 422 and "from: «2026-13-01» er ikke en dato" in bad.text
    backwards = ow.client.get("/reports/overruns?from=2026-12-03&to=2026-12-01",
                              headers=ow.auth("a1"))
    assert backwards.status_code == 422 and 'data-testid="overruns-problem"' in backwards.text
    assert ow.client.get("/reports/overruns.csv?to=nope",
                         headers=ow.auth("a1")).status_code == 422

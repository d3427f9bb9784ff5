"""The desk over HTTP: own status, colleagues, the agent's own calls (and nobody else's),
the all-day trap and its one-click routing stop, and the live stream's events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert, select, text

from calendar_sync.models import BusyInterval
from console.desk_stop import STOP_REASON, end_of_day, lift_due
from routing.models import Agent
from tests.console.conftest import DIRECT, Live, TwilioCall, csrf_from, http_login

OSLO = ZoneInfo("Europe/Oslo")


@contextmanager
def signed_in(live: Live, agent_id: str) -> Iterator[httpx.Client]:
    """An HTTP client signed in as agent_id."""
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as client:
        assert http_login(client, agent_id).status_code == 303
        yield client


def my_calls(client: httpx.Client) -> list[dict]:
    r = client.get("/api/me/calls")
    assert r.status_code == 200
    return r.json()["items"]  # type: ignore[no-any-return]


def test_desk_signed_out_goes_to_login(live: Live, http: httpx.Client) -> None:
    r = http.get("/desk")
    assert r.status_code == 302 and r.headers["location"] == "/login"
    assert http.get("/api/me/calls").status_code == 401
    assert http.get("/desk/events").status_code == 302


def test_desk_shows_own_status_and_colleagues(live: Live) -> None:
    with signed_in(live, "janet") as janet:
        page = janet.get("/desk")
        assert page.status_code == 200
        assert 'data-testid="status-badge" class="badge available">Tilgjengelig<' in page.text
        for name in ("May Tove Hansen", "Ole Hansen", "Per Berg"):
            assert name in page.text
        assert "Logget inn som Janet Olsen" in page.text
        assert 'data-testid="screen-pop"' not in page.text
        assert "Heldagsavtalen din" not in page.text
        # the nav: no Admin for an agent
        assert 'href="/admin"' not in page.text and 'href="/tickets"' in page.text
    with signed_in(live, "may.tove") as may:
        assert 'href="/admin"' in may.get("/desk").text


def test_ringall_pop_for_every_ringing_agent_then_only_the_answerer(live: Live) -> None:
    stack = ExitStack()
    clients = {a: stack.enter_context(signed_in(live, a))
               for a in ("janet", "ole.hansen", "per", "may.tove")}
    call = TwilioCall(live, from_="+4791234567")
    call.start(press="2")  # Lønn: ringall to janet, ole.hansen and per
    assert set(call.rings) == {"janet", "ole.hansen", "per"}
    for agent in ("janet", "ole.hansen", "per"):
        items = my_calls(clients[agent])
        assert [(i["call_id"], i["status"]) for i in items] == [(call.sid, "ringing")]
        item = items[0]
        assert item["caller_id_number"] == "+47 91 23 45 67" and not item["caller_withheld"]
        assert (item["line"], item["loop_name"], item["menu_choice"]) == ("switchboard", "Lønn",
                                                                          "2")
    first = {"janet": "Janet", "ole.hansen": "Ole", "per": "Per"}
    for agent, name in first.items():
        pop = clients[agent].get("/desk/pop").text
        assert f"Arbeidsmandsforbundet, du snakker med {name}." in pop
        assert "+47 91 23 45 67" in pop
    # not rung: nothing, by the list, by the call's id, or on the desk
    assert my_calls(clients["may.tove"]) == []
    assert clients["may.tove"].get(f"/api/me/calls/{call.sid}").status_code == 404
    assert 'data-testid="screen-pop"' not in clients["may.tove"].get("/desk").text

    assert call.answer("ole.hansen")
    assert [i["status"] for i in my_calls(clients["ole.hansen"])] == ["up"]
    assert clients["ole.hansen"].get(f"/api/me/calls/{call.sid}").json()["status"] == "up"
    for agent in ("janet", "per"):
        assert my_calls(clients[agent]) == []
        assert clients[agent].get(f"/api/me/calls/{call.sid}").status_code == 404
    call.hang_up()
    assert my_calls(clients["ole.hansen"]) == []
    stack.close()


def test_direct_line_withheld_number_and_english(live: Live) -> None:
    with signed_in(live, "may.tove") as may, signed_in(live, "janet") as janet:
        call = TwilioCall(live, to=DIRECT, from_="anonymous")
        call.start()
        [item] = my_calls(may)
        assert (item["line"], item["caller_id_number"], item["caller_withheld"]) == (
            "direct", None, True)
        assert "skjult nummer" in may.get("/desk/pop").text
        call.hang_up()
        english = TwilioCall(live, from_="+447700900123")
        english.start(press="9")  # English: the sentralbord loop, janet
        [item] = my_calls(janet)
        assert item["lang"] == "en" and item["menu_choice"] == "9"
        assert item["greeting_line"] == "General Workers Union, Janet speaking."
        assert item["caller_id_number"] == "+44 7700 900123"
        english.hang_up()


def test_greeting_line_from_the_org_file(live: Live) -> None:
    from switchboard.orgapply import apply_org
    from switchboard.orgfile import parse_org_text
    from tests.console.conftest import ORG

    custom = ORG.replace("  timezone: Europe/Oslo\n", "  timezone: Europe/Oslo\n"
                         "  greeting_line: {nb: \"Hei, det er {agent} i forbundet.\"}\n")
    apply_org(live.engine, parse_org_text(custom, "x.yaml", default_timezone="Europe/Oslo"),
              now=datetime.now(UTC))
    live.app.state.flow.cache.invalidate()
    with signed_in(live, "janet") as janet:
        call = TwilioCall(live)
        call.start(press="2")
        assert my_calls(janet)[0]["greeting_line"] == "Hei, det er Janet i forbundet."
        call.hang_up()


def add_all_day_free(live: Live, agent_id: str) -> None:
    """An all-day event marked Free today in the agent's calendar, as a sync stores it."""
    today = datetime.now(OSLO).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=OSLO).astimezone(UTC)
    with live.engine.begin() as conn:
        conn.execute(insert(BusyInterval.__table__).values(  # type: ignore[attr-defined]
            agent_id=agent_id, start=start, end=start + timedelta(days=1), status="free",
            all_day=True, blocks=False, note="all_day_free"))
    live.app.state.flow.cache.invalidate()


def test_all_day_trap_offers_a_routing_stop_until_the_end_of_the_day(live: Live) -> None:
    add_all_day_free(live, "per")
    with signed_in(live, "per") as per:
        page = per.get("/desk").text
        assert "Heldagsavtalen din i dag er merket Ledig, så køsamtaler kommer fortsatt" in page
        assert "Vis som: Opptatt" in page
        r = per.post("/desk/stop-today", data={"csrf_token": csrf_from(page)})
        assert r.status_code == 303
        after = per.get("/desk").text
        assert 'class="badge routing_stop">Rutingstopp<' in after
        presence = per.get("/api/presence").json()
        me = next(p for p in presence if p["id"] == "per")
        assert me["reasons"] == ["routing_stop"] and me["stop_reason"] == STOP_REASON
    # a loop call no longer rings per
    call = TwilioCall(live)
    call.start(press="2")
    assert set(call.rings) == {"janet", "ole.hansen"}
    call.hang_up()
    # the stop ends at local midnight (the job's work, on an injected clock)
    midnight = end_of_day(datetime.now(UTC), "Europe/Oslo")
    assert lift_due(live.engine, now=midnight - timedelta(seconds=1)) == []
    assert lift_due(live.engine, now=midnight) == ["per"]
    with live.engine.connect() as conn:
        row = conn.execute(select(Agent.routing_stop, Agent.stop_reason)  # type: ignore[call-overload]
                           .where(Agent.id == "per")).first()
        audited = conn.execute(text("SELECT who, action FROM audit WHERE object_id = 'per'"
                                    " ORDER BY id")).all()
    assert tuple(row) == (False, None)
    assert [tuple(a) for a in audited] == [("per", "state"), ("system", "state")]


def test_stop_today_needs_the_csrf_token(live: Live) -> None:
    with signed_in(live, "per") as per:
        assert per.post("/desk/stop-today").status_code == 403
        assert "Tilgjengelig" in per.get("/desk").text


def test_events_stream_sends_the_pop_when_the_phone_rings(live: Live) -> None:
    with signed_in(live, "janet") as janet:
        with janet.stream("GET", "/desk/events", timeout=20) as stream:
            lines = stream.iter_lines()
            events: list[str] = []
            call: TwilioCall | None = None
            for line in lines:
                if line.startswith("event: "):
                    events.append(line[7:])
                if "status" in events and "pop" in events and call is None:
                    call = TwilioCall(live, from_="+4791234567")
                    call.start(press="2")
                if call is not None and 'data-testid="screen-pop"' in line:
                    break
            assert call is not None
            call.hang_up()


def test_events_stream_ends_when_the_session_does(live: Live) -> None:
    with signed_in(live, "janet") as janet:
        token = csrf_from(janet.get("/desk").text)
        with janet.stream("GET", "/desk/events", timeout=20) as stream:
            seen: list[str] = []
            call: TwilioCall | None = None
            for line in stream.iter_lines():
                seen.append(line)
                if line == "event: status" and call is None:
                    # signed out in another tab, then her phone rings
                    assert janet.post("/logout", data={"csrf_token": token}).status_code == 303
                    call = TwilioCall(live, from_="+4791234567")
                    call.start(press="2")
            # the server ended the stream without sending the pop
            assert call is not None
            assert not any('data-testid="screen-pop"' in line for line in seen)
            call.hang_up()


def test_a_meeting_shows_until_when(live: Live) -> None:
    now = datetime.now(UTC)
    ends = (now + timedelta(hours=2)).replace(minute=30, second=0, microsecond=0)
    with live.engine.begin() as conn:
        conn.execute(insert(BusyInterval.__table__).values(  # type: ignore[attr-defined]
            agent_id="janet", start=now - timedelta(hours=1), end=ends, status="busy",
            all_day=False, blocks=True, note=None))
    live.app.state.flow.cache.invalidate()
    until = ends.astimezone(OSLO).strftime("%H:%M")
    with signed_in(live, "janet") as janet:
        assert f'class="badge calendar_busy">I møte til {until}<' in janet.get("/desk").text
    with signed_in(live, "per") as per:
        row = per.get("/desk").text.split('data-agent="janet"')[1].split("</tr>")[0]
        assert f"I møte til {until}" in row


def test_wrap_up_and_logged_out_badges(live: Live) -> None:
    from sqlalchemy import update

    with live.engine.begin() as conn:
        conn.execute(update(Agent.__table__).where(Agent.__table__.c.id == "per")  # type: ignore[attr-defined]
                     .values(wrap_up_until=datetime.now(UTC) + timedelta(minutes=5)))
        conn.execute(update(Agent.__table__).where(Agent.__table__.c.id == "janet")  # type: ignore[attr-defined]
                     .values(logged_in=False, logout_reason="holiday"))
    with signed_in(live, "per") as per:
        assert 'class="badge wrap_up">Etterarbeid<' in per.get("/desk").text
    with signed_in(live, "janet") as janet:
        assert 'class="badge logged_out">Logget ut<' in janet.get("/desk").text

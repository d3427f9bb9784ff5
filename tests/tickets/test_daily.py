"""The daily look (docs/tickets.md#the-daily-look) with an injected clock: one mail per
department's people at opening time on working days, counts and links only, once a day even
from several processes; and the wallboard flags a department whose list nobody opened."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select, update

from switchboard.db import make_engine, migrate
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from tests.conftest import PUBLIC
from tests.fakes.smtp_server import Mailbox, smtp_server
from tests.tickets.conftest import TICKET_ORG, World
from tests.tickets.test_claims import callback
from tickets.daily import DAILY, opening_time, run_daily
from tickets.mail import OUTBOX, SmtpSender, send_pending
from tickets.service import TICKET

TEXT = "Medlemmet lurer på en faktura fra oktober."
NUMBER = "+4791234567"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def morning_mails(tk: World) -> Mailbox:
    with smtp_server() as (url, box):
        send_pending(tk.engine, SmtpSender(url, "sentralbord@union.example"), now=tk.clock(),
                     public_url=PUBLIC)
    box.messages = [m for m in box.messages if m["Subject"].startswith("Dagens saker")]
    return box


def test_opening_time_follows_the_week_and_special_days() -> None:
    week = {"opening_hours": {"mon": "08:30-15:30", "sat": None},
            "special_hours": {"2026-12-24": "closed", "2026-12-23": "10:00-14:00"}}
    assert opening_time(week, date(2026, 11, 30)) == time(8, 30)  # a Monday
    assert opening_time(week, date(2026, 11, 28)) is None  # Saturday: not open
    assert opening_time(week, date(2026, 12, 24)) is None
    assert opening_time(week, date(2026, 12, 23)) == time(10, 0)
    assert opening_time({}, date(2026, 11, 30)) == time(8, 0)  # always open: 08:00


def test_each_departments_people_get_one_mail_at_opening_with_counts(tk: World) -> None:
    tk.create(text=TEXT)  # innkreving, due next week
    due_today = tk.create(department="lonn", text=TEXT).json()  # 24 h: Thursday 10:00
    overdue = tk.create(department="lonn", text=TEXT).json()
    with tk.engine.begin() as conn:
        conn.execute(update(TICKET).where(TICKET.c.id == overdue["id"])
                     .values(due_at=utc(2026, 11, 25, 11, 0)))
    callback(tk.engine, tk.clock(), number=NUMBER)  # innkreving, waiting for a call back
    done = tk.create().json()
    tk.patch(done["id"], done["version"], status="done")

    assert run_daily(tk.engine, now=utc(2026, 11, 25, 9, 0)) == ["innkreving", "lonn"]
    tk.clock.now = utc(2026, 11, 26, 6, 59)  # Thursday 07:59 in Oslo: not open yet
    assert run_daily(tk.engine, now=tk.clock()) == []
    morning_mails(tk)  # Wednesday's are gone
    tk.clock.now = utc(2026, 11, 26, 7, 0)  # 08:00, the opening time
    assert run_daily(tk.engine, now=tk.clock()) == ["innkreving", "lonn"]
    assert run_daily(tk.engine, now=tk.clock()) == []  # once a day
    tk.clock.advance(3 * 3600)
    assert run_daily(tk.engine, now=tk.clock()) == []

    box = morning_mails(tk)
    assert sorted(m["To"] for m in box.messages) == [
        "a2@union.example", "innkreving@union.example", "lonn@union.example"]
    inn = Mailbox.text(box.to("innkreving@union.example")[0]).replace("\r\n", "\n")
    assert Mailbox.text(box.to("a2@union.example")[0]).replace("\r\n", "\n") == inn
    assert ("Åpne saker: 2\nFrist i dag: 0\nOver fristen: 0\n"
            "Tilbakeringinger som venter: 1\n") in inn
    assert f"{PUBLIC}/tickets?department=innkreving" in inn
    (lonn_msg,) = box.to("lonn@union.example")
    lonn = Mailbox.text(lonn_msg).replace("\r\n", "\n")
    assert "Åpne saker: 2\nFrist i dag: 1\nOver fristen: 1\n" in lonn
    assert lonn_msg["Subject"] == "Dagens saker i Lønn og tariff: 2 åpne, 1 over fristen"
    for body in (inn, lonn):
        assert TEXT not in body and "faktura" not in body and "91234567" not in body
        assert f"#{due_today['id']}" not in body  # counts, not tickets


def test_no_mail_on_weekends_and_holidays_and_again_on_the_next_working_day(tk: World) -> None:
    for at in (utc(2026, 11, 28, 9, 0), utc(2026, 11, 29, 9, 0),  # Saturday, Sunday
               utc(2026, 12, 25, 9, 0), utc(2026, 12, 26, 9, 0)):  # Christmas
        assert run_daily(tk.engine, now=at) == [], at
    assert run_daily(tk.engine, now=utc(2026, 11, 30, 7, 0)) == ["innkreving", "lonn"]
    assert run_daily(tk.engine, now=utc(2026, 12, 1, 7, 0)) == ["innkreving", "lonn"]
    with tk.engine.connect() as conn:
        rows = conn.execute(select(DAILY.c.department_id, DAILY.c.day, DAILY.c.recipients)
                            .order_by(DAILY.c.day, DAILY.c.department_id)).all()
    assert [tuple(r) for r in rows] == [
        ("innkreving", date(2026, 11, 30), 2), ("lonn", date(2026, 11, 30), 1),
        ("innkreving", date(2026, 12, 1), 2), ("lonn", date(2026, 12, 1), 1)]


def _flags(tk: World) -> dict[str, str]:
    wall = tk.client.get("/wallboard/live", headers=tk.auth("a1")).text
    return dict(re.findall(r'data-testid="wallboard-department-(\w+)" data-unwatched="(\w+)"',
                           wall))


def test_a_department_nobody_looked_at_is_flagged_on_the_wallboard(tk: World) -> None:
    assert _flags(tk) == {"innkreving": "true", "lonn": "true"}  # nobody since Tuesday
    wall = tk.client.get("/wallboard/live", headers=tk.auth("a1")).text
    assert 'data-testid="dept-unwatched-lonn"' in wall
    # a2 opens /tickets: it opens on their department's list, which counts as a look.
    assert tk.client.get("/tickets", headers=tk.auth("a2")).status_code == 200
    assert _flags(tk) == {"innkreving": "false", "lonn": "true"}
    assert tk.client.get("/tickets?department=lonn", headers=tk.auth("a3")).status_code == 200
    assert _flags(tk) == {"innkreving": "false", "lonn": "false"}
    tk.clock.now = utc(2026, 11, 26, 14, 0)  # Thursday: Wednesday's looks still count
    assert _flags(tk) == {"innkreving": "false", "lonn": "false"}
    tk.clock.now = utc(2026, 11, 27, 8, 0)  # Friday: nobody looked on Thursday
    assert _flags(tk) == {"innkreving": "true", "lonn": "true"}
    tk.client.get("/tickets?department=lonn", headers=tk.auth("a1"))
    assert _flags(tk) == {"innkreving": "true", "lonn": "false"}
    tk.clock.now = utc(2026, 11, 30, 8, 0)  # Monday: Friday's look counts over the weekend
    assert _flags(tk)["lonn"] == "false"


@pytest.mark.postgres
def test_two_processes_at_opening_send_one_mail_per_department(pg_url: str) -> None:
    engines = [make_engine(pg_url) for _ in range(4)]
    migrate(engines[0])
    apply_org(engines[0], parse_org_text(TICKET_ORG), now=utc(2026, 11, 25, 9, 0))
    results: list[list[str]] = []
    barrier = threading.Barrier(len(engines))

    def one(engine) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        results.append(run_daily(engine, now=utc(2026, 11, 26, 7, 5)))

    threads = [threading.Thread(target=one, args=(e,)) for e in engines]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(d for r in results for d in r) == ["innkreving", "lonn"]
    with engines[0].connect() as conn:
        assert conn.execute(select(func.count()).select_from(DAILY)).scalar_one() == 2
        outbox = conn.execute(select(func.count()).select_from(OUTBOX)).scalar_one()
    assert outbox == 3  # innkreving's inbox and a2, lonn's inbox
    for e in engines:
        e.dispose()

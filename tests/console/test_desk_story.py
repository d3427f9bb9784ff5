"""The desk's whole story in headless Chromium, with the call simulator playing Twilio
(`--answer may.tove --talk …`): the pop with the greeting line and the caller's number, the
member's own verification and a returned-mail fix, the on-behalf invoice script with a KID from
the demo register, and a ticket to a department that lands on its /tickets list and in a local
SMTP server. Every page, HTMX fragment, server-sent event, mail and log line of the story is
captured and searched for national IDs and KIDs: only the masked form may appear.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pydantic import SecretStr
from stdnum import luhn

from switchboard.app import create_app
from switchboard.db import make_engine, migrate
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from switchboard.passwords import set_password
from tests.console.conftest import (
    AGENTS,
    ORG,
    PASSWORD,
    Live,
    free_port,
    live_settings,
    login,
    readme_shot,
)
from tests.console.desk_panel_helpers import KARI, OLA, add_departments, import_register
from tests.fakes.smtp_server import Mailbox, smtp_server

pytestmark = pytest.mark.browser
FAILED = ("Opplysningene kunne ikke bekreftes. Ingenting om medlemmet kan bekreftes overfor "
          "innringeren.")
# Records the messages the desk's EventSource receives, as the page's own script sees them.
SSE_RECORDER = """
window.__sse = [];
(function () {
  var ES = window.EventSource;
  function Recorded(url, opts) {
    var es = new ES(url, opts);
    ["pop", "status", "panel", "message"].forEach(function (name) {
      es.addEventListener(name, function (e) { window.__sse.push(name + ":" + e.data); });
    });
    return es;
  }
  Recorded.prototype = ES.prototype;
  window.EventSource = Recorded;
})();
"""


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


class Hold:
    """Ends a simulated call's talk when the test says so (the simulator's injected sleep)."""

    def __init__(self) -> None:
        self.done = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.done.wait(seconds)


class Lines(logging.Handler):
    """Every log line written while the story runs, formatted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Captured:
    """Everything the story showed or sent."""

    pages: list[str] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    mails: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.pages + self.fragments + self.events + self.mails + self.logs


@pytest.fixture
def mail_live(tmp_path: Path) -> Iterator[tuple[Live, Mailbox, Lines]]:
    """The real app (as the `live` fixture), mailing through a local SMTP server, with its
    log lines (the access log included) captured."""
    lines = Lines()
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.access", "uvicorn.error")]
    with smtp_server() as (smtp_url, box):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = live_settings(tmp_path, url).model_copy(
            update={"smtp_url": SecretStr(smtp_url)})
        engine = make_engine(settings.database_url)
        migrate(engine)
        now = datetime.now(UTC)
        apply_org(engine, parse_org_text(ORG, "story.yaml", default_timezone="Europe/Oslo"),
                  now=now)
        for agent in AGENTS:
            set_password(engine, agent, PASSWORD, now=now)
        app = create_app(settings, engine)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="info", timeout_graceful_shutdown=1))
        root_level = logging.getLogger().level
        logging.getLogger().setLevel(logging.DEBUG)
        for logger in loggers:
            logger.addHandler(lines)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        live = Live(url=url, engine=engine, settings=settings, app=app)
        try:
            yield live, box, lines
        finally:
            for handle in live.calls:
                handle.thread.join(30)
            server.should_exit = True
            thread.join(15)
            for logger in loggers:
                logger.removeHandler(lines)
            logging.getLogger().setLevel(root_level)
            engine.dispose()


def record_fragments(page: Any, live: Live, captured: Captured) -> None:
    """Keep the body of every page and HTMX fragment the browser fetches (not the stream)."""

    def wanted(url: str) -> bool:
        return url.startswith(live.url) and "/desk/events" not in url and "/static/" not in url

    def handle(route: Any) -> None:
        response = route.fetch(max_redirects=0)
        captured.fragments.append(response.text())
        route.fulfill(response=response)

    page.route(wanted, handle)


def snap(page: Any, captured: Captured) -> None:
    """The page's HTML as it stands."""
    captured.pages.append(page.content())


def secrets_in(texts: list[str], *numbers: str) -> list[str]:
    """Which of the numbers (compact, or as people write them) appear in any text."""
    forms = set()
    for n in numbers:
        forms |= {n, f"{n[:6]} {n[6:]}", f"{n[:6]}-{n[6:]}"}
    return sorted(f for f in forms for t in texts if f in t)


def mails_to(box: Mailbox, address: str, containing: str = "") -> list[str]:
    """Wait (bounded) for the outbox job to deliver a mail holding `containing` to address;
    subject and body of each mail there (the live server's daily-look job may mail it too)."""

    def mails() -> list[str]:
        return [f"{m['Subject']}\n{Mailbox.text(m)}" for m in box.to(address)]

    deadline = time.monotonic() + 30
    while not any(containing in m for m in mails()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return mails()


def test_story_pop_member_fix_invoice_script_and_ticket_without_leaking_ids(
        mail_live: tuple[Live, Mailbox, Lines], page: Any) -> None:
    live, box, lines = mail_live
    import_register(live)
    add_departments(live)
    captured = Captured()
    page.add_init_script(SSE_RECORDER)
    login(page, live, "may.tove")
    record_fragments(page, live, captured)
    page.reload()
    hold = Hold()
    call = live.call(press="1", from_=OLA["phone"], answer="may.tove", talk=120,
                     sleep=hold.sleep)

    # The pop: greeting line and the caller's number; the member matched, not verified.
    pop = page.get_by_test_id("screen-pop")
    expect(pop).to_contain_text("I samtale")
    expect(pop.get_by_test_id("greeting-line")).to_have_text(
        "Arbeidsmandsforbundet, du snakker med May.")
    expect(pop.get_by_test_id("caller-number")).to_have_text("+47 91 00 00 02")
    expect(pop).to_contain_text("Ola Fiktivsen (ikke verifisert)")
    call_sid = pop.get_attribute("data-call-id")
    snap(page, captured)

    # Script 1: Ola verifies himself; his returned mail gets a new address.
    result = page.get_by_test_id("identity-result")
    expect(result).to_have_text("Ikke verifisert")
    page.get_by_role("button", name="Medlemmet ringer selv").click()
    expect(page.get_by_text("«Kan jeg få medlemsnummeret ditt")).to_be_visible()
    form = page.locator("#id-member")
    form.get_by_label("Medlemsnummer").fill(OLA["membership_number"])
    form.get_by_label("Fødselsnummer (11 siffer)").fill(OLA["national_id"])
    form.get_by_role("button", name="Sjekk").click()
    expect(result).to_have_text("Verifisert: medlemmet selv")
    expect(page.get_by_test_id("masked-national-id")).to_have_text("029165 *****")
    checks = page.get_by_test_id("data-checks")
    expect(checks).to_contain_text("Post til medlemmet har kommet i retur")
    snap(page, captured)
    readme_shot(page, "desk.png")  # the README's picture of the desk
    checks.get_by_label("Gateadresse").fill("Nygata 5")
    checks.get_by_label("Postnummer").fill("")  # left out: refused next to the field
    checks.get_by_label("Poststed").fill("Bergen")
    checks.get_by_role("button", name="Lagre adressen").click()
    expect(page.locator("#dc-address-postal_code-err")).to_have_text("Fyll ut feltet.")
    expect(checks.get_by_label("Gateadresse")).to_have_value("Nygata 5")  # nothing lost
    checks.get_by_label("Postnummer").fill("5003")
    checks.get_by_role("button", name="Lagre adressen").click()
    expect(result).to_have_text("Lagret: adresse.")
    expect(page.get_by_test_id("data-checks")).not_to_contain_text("kommet i retur")
    expect(page.get_by_test_id("verified-member")).to_contain_text("Nygata 5, 5003 Bergen")
    expect(page.get_by_test_id("ticket-member")).to_have_text("Ola Fiktivsen")
    snap(page, captured)

    # Script 2: Ola also pays Kari's invoice. Her name shows only after he has said it.
    page.get_by_text("Bytt situasjon").click()
    page.get_by_role("button", name="Betaler en faktura for et medlem").click()
    expect(page.get_by_text("«Hva er KID-nummeret på fakturaen?»")).to_be_visible()
    expect(page.get_by_test_id("data-checks")).to_have_count(0)
    page.get_by_label("KID-nummer").fill(KARI["kid"])
    page.get_by_role("button", name="Sjekk").click()
    expect(result).to_have_text("KID-en gjelder et medlem. Spør om navnet.")
    snap(page, captured)
    assert "Prøvesen" not in page.content()
    page.get_by_label("Navnet innringeren sa").fill("Kari Prøvesen")
    page.get_by_role("button", name="Sammenlign navnet").click()
    expect(page.get_by_test_id("registered-name")).to_have_text("Kari Prøvesen")
    page.get_by_role("button", name="Ja, navnet stemmer").click()
    expect(page.get_by_text("«Hva er fødselsnummeret til medlemmet")).to_be_visible()
    page.locator("#id-invoice-id").get_by_label("Fødselsnummer (11 siffer)").fill(
        KARI["national_id"])
    page.locator("#id-invoice-id").get_by_role("button", name="Sjekk").click()
    expect(result).to_have_text("Verifisert: betaler faktura på vegne av medlemmet")
    expect(page.get_by_test_id("verified-member")).to_contain_text("Kari Prøvesen")
    expect(page.get_by_test_id("verified-member")).not_to_contain_text("Demoveien")
    snap(page, captured)

    # The ticket: to Innkreving, with the call, Kari and the level reached.
    expect(page.get_by_test_id("ticket-member")).to_have_text("Kari Prøvesen")
    ticket = page.get_by_test_id("ticket-form")
    ticket.get_by_label("Avdeling").select_option(label="Innkreving og kontingent")
    ticket.get_by_label("Kategori").fill("Faktura")
    ticket.get_by_label("Melding").fill("Betaler marsfakturaen for medlemmet, ber om ny "
                                        "forfallsdato.")
    ticket.get_by_label("Oppfølging").select_option(label="Vi ringer")
    ticket.get_by_label("Gi meg beskjed når saken er ferdig").check()
    ticket.get_by_role("button", name="Send saken").click()
    created = page.get_by_test_id("ticket-created")
    expect(created).to_contain_text("er sendt til Innkreving og kontingent")
    snap(page, captured)
    captured.events = page.evaluate("window.__sse")
    assert any("Ola Fiktivsen" in e for e in captured.events), "the pop came by the stream"

    # The ticket's page, the department's list and the call record.
    page.get_by_role("link", name="Åpne sak").click()
    expect(page.get_by_text("Betaler marsfakturaen for medlemmet")).to_be_visible()
    snap(page, captured)
    page.goto(f"{live.url}/tickets?department=innkreving")
    expect(page.get_by_test_id("ticket-list")).to_contain_text("Faktura")
    snap(page, captured)
    page.goto(f"{live.url}/calls/{call_sid}")
    expect(page.get_by_test_id("record-fixed")).to_contain_text("adresse")
    expect(page.get_by_test_id("record-level")).to_have_text(
        "Verifisert: betaler faktura på vegne av medlemmet")
    expect(page.get_by_test_id("record-answered-by")).to_have_text("May Tove Hansen")
    expect(page.get_by_test_id("record-tickets")).to_contain_text("Innkreving og kontingent")
    snap(page, captured)

    hold.done.set()
    assert call.join() == "connected"
    captured.mails = mails_to(box, "innkreving@example.org", containing="Ny sak #")
    assert [m for m in captured.mails if "Ny sak #" in m and "/tickets/" in m]
    captured.logs = list(lines.lines)
    assert captured.logs, "the story's log lines were captured"
    assert any("029165 *****" in p for p in captured.pages)
    leaks = secrets_in(captured.all(), OLA["national_id"], KARI["national_id"])
    assert leaks == []
    assert not [t for t in captured.all() if KARI["kid"] in t]


def test_failed_verification_shows_one_generic_message_and_no_member_data(
        live: Live, page: Any) -> None:
    import_register(live)
    login(page, live, "may.tove")
    hold = Hold()
    call = live.call(press="1", from_="+4799887766", answer="may.tove", talk=120,
                     sleep=hold.sleep)
    expect(page.get_by_test_id("screen-pop")).to_contain_text("I samtale")
    result = page.get_by_test_id("identity-result")
    page.get_by_role("button", name="Medlemmet ringer selv").click()
    form = page.locator("#id-member")
    form.get_by_label("Medlemsnummer").fill(KARI["membership_number"])
    form.get_by_label("Fødselsnummer (11 siffer)").fill(OLA["national_id"])
    form.get_by_role("button", name="Sjekk").click()
    expect(result).to_have_text(FAILED)
    first = page.content()
    page.get_by_text("Bytt situasjon").click()
    page.get_by_role("button", name="Betaler en faktura for et medlem").click()
    nobody = "99999900000"
    page.get_by_label("KID-nummer").fill(nobody + luhn.calc_check_digit(nobody))  # no member
    page.get_by_role("button", name="Sjekk").click()
    expect(result).to_have_text(FAILED)
    second = page.content()
    page.get_by_label("KID-nummer").fill(nobody + luhn.calc_check_digit(nobody))
    page.get_by_role("button", name="Sjekk").click()  # the third failure locks
    expect(result).to_have_text("Verifiseringen er låst etter gjentatte mislykkede forsøk.")
    locked = page.get_by_test_id("identity-locked")
    expect(locked).to_contain_text("Tilby å ringe medlemmet tilbake på nummeret i registeret")
    locked.get_by_role("button", name="Skriv en tilbakeringing til registrert nummer").click()
    expect(page.get_by_test_id("ticket-form").get_by_label("Kategori")).to_have_value(
        "Tilbakeringing til registrert nummer")
    for html in (first, second, page.content()):
        for member_data in ("Prøvesen", "Fiktivsen", "Demoveien", "kari.provesen", "148378",
                            "029165", "Avd. 1 Oslo", "data-checks", "verified-member",
                            "+47 91"):
            assert member_data not in html
    hold.done.set()
    assert call.join() == "connected"


def test_a_ticket_typed_during_the_call_survives_the_caller_hanging_up(
        live: Live, page: Any) -> None:
    add_departments(live)
    login(page, live, "may.tove")
    hold = Hold()
    call = live.call(press="1", from_="+4799887766", answer="may.tove", talk=120,
                     sleep=hold.sleep)
    expect(page.get_by_test_id("screen-pop")).to_contain_text("I samtale")
    ticket = page.get_by_test_id("ticket-form")
    ticket.get_by_label("Avdeling").select_option(label="Medlemsservice")
    ticket.get_by_label("Melding").fill("Vil melde seg inn, ringer tilbake i morgen.")
    hold.done.set()  # the caller hangs up while the agent writes
    assert call.join() == "connected"
    expect(page.get_by_text("Samtalen er avsluttet.")).to_be_visible()
    expect(page.get_by_test_id("screen-pop")).to_have_count(0)
    expect(ticket.get_by_label("Melding")).to_have_value(
        "Vil melde seg inn, ringer tilbake i morgen.")
    ticket.get_by_role("button", name="Send saken").click()
    expect(page.get_by_test_id("ticket-created")).to_contain_text("er sendt til Medlemsservice")

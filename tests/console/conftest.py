"""The console's test harness, for every page family's tests.

- `live` : the real app (`switchboard.app.create_app`) served by uvicorn in a thread on a free
  127.0.0.1 port, with a fresh SQLite database, the small org file below applied and every
  agent's password set to PASSWORD. It has `.url`, `.engine`, `.settings`, `.app`, and
  `.call(...)`, which plays Twilio's part of a call (ivr.simulator) in a thread.
- `browser` (session) / `page` : headless Chromium through Playwright (the Debian chromium,
  never a downloaded one); `page` saves a screenshot to test-artifacts/ when its test fails.
- `login(page, live, agent_id)` : signs in through the form, as a person would.
- `http(live)` : an httpx client for the live server (cookies kept, redirects not followed).

Browser tests carry `@pytest.mark.browser`; without /usr/bin/chromium they skip with a clear
message, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from switchboard.app import create_app
from switchboard.db import make_engine, migrate
from switchboard.orgapply import apply_org
from switchboard.orgfile import parse_org_text
from switchboard.passwords import set_password
from switchboard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TOKEN = "console-test-twilio-token-0123"
ADMIN_TOKEN = "console-test-admin-token"
PASSWORD = "riktig-hest-batteri"
SWITCHBOARD = "+4722000000"
DIRECT = "+4722000111"

ORG = """
organisation:
  name: Arbeidsmandsforbundet
  name_en: General Workers Union
  timezone: Europe/Oslo
numbers:
  - {number: "+4722000000", kind: switchboard}
  - {number: "+4722000111", kind: direct, agent: may.tove}
menu:
  "1": okonomi
  "2": lonn
english: {digit: "9", loop: sentralbord}
agents:
  - {id: may.tove, name: May Tove Hansen, phone: "+4790000001", access: admin}
  - {id: janet, name: Janet Olsen, phone: "+4790000002"}
  - {id: ole.hansen, name: Ole Hansen, phone: "+4790000003"}
  - {id: per, name: Per Berg, phone: "+4790000004"}
loops:
  - {id: okonomi, name: Økonomi, members: [may.tove], strategy: linear, ring_timeout: 20}
  - {id: lonn, name: Lønn, members: [janet, ole.hansen, per], strategy: ringall,
     ring_timeout: 20}
  - {id: sentralbord, name: Switchboard, members: [janet], ring_timeout: 20}
"""
AGENTS = ("may.tove", "janet", "ole.hansen", "per")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium through Playwright")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can see whether it failed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class CallHandle:
    """A simulated call running in its own thread."""

    thread: threading.Thread
    lines: list[str] = field(default_factory=list)
    error: BaseException | None = None
    outcome: str | None = None

    def join(self, timeout: float = 60) -> str | None:
        """Wait for the call to end; re-raise what went wrong in it."""
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError("the simulated call did not end")
        if self.error is not None:
            raise self.error
        return self.outcome


@dataclass
class Live:
    """A running server and what the tests need to drive it."""

    url: str
    engine: Engine
    settings: Settings
    app: FastAPI
    calls: list[CallHandle] = field(default_factory=list)

    def call(self, *, to: str = SWITCHBOARD, from_: str = "+4791234567", press: str = "",
             dial_status: str = "no-answer", **extra: Any) -> CallHandle:
        """Start a simulated call in a thread (extra: the simulator's answer=, talk=, …)."""
        from ivr.simulator import Simulator

        handle = CallHandle(thread=threading.Thread(target=lambda: None))

        def run() -> None:
            try:
                sim = Simulator(public_base=self.url, token=TOKEN, to=to, from_=from_,
                                press=press, dial_status=dial_status, out=handle.lines.append,
                                **extra)
                handle.outcome = sim.run()
            except BaseException as exc:  # noqa: BLE001 - handed to the test by join()
                handle.error = exc

        handle.thread = threading.Thread(target=run, daemon=True)
        handle.thread.start()
        self.calls.append(handle)
        return handle


class TwilioCall:
    """One call played step by step, signed like Twilio (for tests that must stop mid-call)."""

    def __init__(self, live: Live, *, to: str = SWITCHBOARD, from_: str = "+4791234567") -> None:
        import secrets

        from twilio.request_validator import RequestValidator

        self.live = live
        self.sid = "CA" + secrets.token_hex(16)
        self.base = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": from_,
                     "To": to, "Direction": "inbound", "CallStatus": "in-progress"}
        self.validator = RequestValidator(TOKEN)
        self.http = httpx.Client(timeout=10)
        self.rings: dict[str, str] = {}  # agent id -> whisper URL of the current <Dial>
        self.dial_action: str | None = None

    def post(self, url: str, params: dict[str, str]) -> str:
        """POST params to url (absolute, or a path) with Twilio's signature; the TwiML."""
        if not url.startswith("http"):
            url = self.live.url + url
        r = self.http.post(url, data=params, headers={
            "X-Twilio-Signature": self.validator.compute_signature(url, params)})
        r.raise_for_status()
        self._read(r.text)
        return r.text

    def _read(self, twiml: str) -> None:
        import xml.etree.ElementTree as ET
        from urllib.parse import parse_qs, urlparse

        root = ET.fromstring(twiml)
        dial = root.find("Dial")
        if dial is not None:
            self.dial_action = dial.get("action")
            self.rings = {parse_qs(urlparse(n.get("url", "")).query)["agent"][0]: n.get("url", "")
                          for n in dial.iter("Number")}

    def start(self, press: str | None = None) -> None:
        """The call comes in; press a menu digit if given."""
        self.post("/twilio/voice", self.base | {"CallStatus": "ringing"})
        if press is not None:
            self.post("/twilio/menu", self.base | {"Digits": press})

    def answer(self, agent_id: str) -> bool:
        """The agent's phone answers, hears the whisper and presses 1; True when bridged."""
        leg = {"CallSid": "CA" + "9" * 16 + agent_id.encode().hex()[:16],
               "ParentCallSid": self.sid, "From": self.base["From"], "To": "+4790000000",
               "Direction": "outbound-dial", "CallStatus": "in-progress",
               "AccountSid": "AC" + "0" * 32}
        import xml.etree.ElementTree as ET

        gather = ET.fromstring(self.post(self.rings[agent_id], leg)).find("Gather")
        assert gather is not None
        confirmed = self.post(gather.get("action", ""), leg | {"Digits": "1"})
        return ET.fromstring(confirmed).find("Hangup") is None

    def hang_up(self) -> None:
        """The caller hangs up: the <Dial> ends, then the final status callback."""
        if self.dial_action:
            self.post(self.dial_action, self.base | {"DialCallStatus": "completed",
                                                     "DialCallDuration": "30"})
        self.post("/twilio/status", self.base | {"CallStatus": "completed",
                                                 "CallDuration": "40"})
        self.http.close()


def live_settings(tmp: Path, url: str) -> Settings:
    """Settings for a live test server at url, with its database under tmp."""
    return Settings(
        SWITCHBOARD_DATABASE_URL=f"sqlite:///{tmp}/live.db", SWITCHBOARD_PUBLIC_URL=url,
        TWILIO_AUTH_TOKEN=TOKEN, SWITCHBOARD_ADMIN_TOKEN=ADMIN_TOKEN,
        SWITCHBOARD_PII_KEY="console-test-pii-key", SWITCHBOARD_SECRET_KEY="console-test-secret",
        SWITCHBOARD_ALLOW_TEST_IDS=True, SWITCHBOARD_ALWAYS_OPEN=True, _env_file=None,
    )


def prepare(engine: Engine) -> None:
    """Migrate, apply the org file above and give every agent PASSWORD."""
    migrate(engine)
    now = datetime.now(UTC)
    apply_org(engine, parse_org_text(ORG, "console-test.yaml", default_timezone="Europe/Oslo"),
              now=now)
    for agent in AGENTS:
        set_password(engine, agent, PASSWORD, now=now)


@contextmanager
def serving(settings: Settings, engine: Engine, port: int) -> Iterator[Live]:
    """The real app (`create_app`) under uvicorn in a thread on 127.0.0.1:port."""
    app = create_app(settings, engine)
    # Server-sent events keep connections open: give them a second at shut-down, not forever.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live test server did not start")
        time.sleep(0.02)
    live = Live(url=f"http://127.0.0.1:{port}", engine=engine, settings=settings, app=app)
    try:
        yield live
    finally:
        for handle in live.calls:
            handle.thread.join(30)
        server.should_exit = True
        thread.join(15)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The real app on a free port, with the org above applied and passwords set."""
    port = free_port()
    settings = live_settings(tmp_path, f"http://127.0.0.1:{port}")
    engine = make_engine(settings.database_url)
    prepare(engine)
    with serving(settings, engine, port) as running:
        yield running
    engine.dispose()


@pytest.fixture
def http(live: Live) -> Iterator[httpx.Client]:
    """An HTTP client for the live server: keeps cookies, does not follow redirects."""
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as client:
        yield client


def http_login(client: httpx.Client, agent_id: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the form with an httpx client (fetching the form's CSRF token first)."""
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"username": agent_id, "password": password,
                                       "csrf_token": token})


def csrf_from(html: str) -> str:
    """The CSRF token a page embeds (its <meta name="csrf-token">)."""
    marker = '<meta name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright, shared by one module's tests.

    Module scope, not session: Playwright's sync API keeps an event loop running on the test
    thread while it is started, and later tests that call asyncio.run() (the IVR's group commit,
    the mail job) would fail inside it. Stopping it after each module hands the thread back.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium): browser tests need it"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " and CI=true")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (its own cookies), with
    screenshots of every page saved to test-artifacts/ when the test fails."""
    contexts: list[Any] = []
    pages: list[Any] = []

    def make() -> Any:
        context = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        pages.append(page)
        return page

    yield make
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, page in enumerate(pages):
            name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}-{i}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - a page that is gone has nothing to show
                pass
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Any) -> Any:
    """One browser page (see new_page)."""
    return new_page()


def login(page: Any, live: Live, agent_id: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would, and land on the desk."""
    page.goto(live.url + "/login")
    page.get_by_label("Brukernavn").fill(agent_id)
    page.get_by_label("Passord").fill(password)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(live.url + "/desk")


def readme_shot(page: Any, name: str) -> Path:
    """A screenshot for the README: into docs/img/ when SWITCHBOARD_README_SHOTS=1 (to refresh
    the committed pictures), else into test-artifacts/, so a test run leaves the tree clean."""
    folder = ROOT / "docs" / "img" if os.environ.get("SWITCHBOARD_README_SHOTS") == "1" \
        else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    return path

"""The desk in headless Chromium, with the call simulator (`switchboard call --answer AGENT
--talk SECONDS`) playing Twilio: the answering agent's screen pop while the call lasts, the
English greeting line, and a ringall's pop leaving the two desks that did not answer.

The simulator's `sleep` is injected: the call stays connected until the test ends it, so no
test waits on a clock; an httpx event hook holds the agents' phones before they pick up,
while the test looks at every ringing desk.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from tests.console.conftest import Live, login

pytestmark = pytest.mark.browser


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


class Hold:
    """Ends a simulated call's talk (its injected sleep returns when the test says so)."""

    def __init__(self) -> None:
        self.done = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.done.wait(seconds)


def gated_client() -> tuple[httpx.Client, threading.Event]:
    """An httpx client whose requests to an agent's whisper wait until the gate opens."""
    gate = threading.Event()

    def hold_whisper(request: httpx.Request) -> None:
        if request.url.path == "/twilio/whisper":
            gate.wait(30)

    return httpx.Client(timeout=10, event_hooks={"request": [hold_whisper]}), gate


def test_answered_call_pops_with_greeting_and_number_while_it_lasts(live: Live,
                                                                    page: Any) -> None:
    login(page, live, "may.tove")
    hold = Hold()
    call = live.call(press="1", from_="+4791234567", answer="may.tove", talk=120,
                     sleep=hold.sleep)
    pop = page.get_by_test_id("screen-pop")
    expect(pop).to_contain_text("I samtale")
    expect(pop.get_by_test_id("greeting-line")).to_have_text(
        "Arbeidsmandsforbundet, du snakker med May.")
    expect(pop.get_by_test_id("caller-number")).to_have_text("+47 91 23 45 67")
    expect(page.get_by_test_id("status-badge")).to_have_text("I samtale")
    hold.done.set()  # the caller hangs up
    assert call.join() == "connected"
    expect(page.get_by_test_id("screen-pop")).to_have_count(0)


def test_english_caller_pops_with_the_english_greeting(live: Live, page: Any) -> None:
    login(page, live, "janet")
    hold = Hold()
    call = live.call(press="9", from_="+447700900123", answer="janet", talk=120,
                     sleep=hold.sleep)
    pop = page.get_by_test_id("screen-pop")
    expect(pop.get_by_test_id("greeting-line")).to_have_text(
        "General Workers Union, Janet speaking.")
    expect(pop.get_by_test_id("caller-number")).to_have_text("+44 7700 900123")
    hold.done.set()
    assert call.join() == "connected"
    expect(page.get_by_test_id("screen-pop")).to_have_count(0)


def test_ringall_to_three_pop_leaves_the_two_who_did_not_answer(live: Live,
                                                                new_page: Any) -> None:
    desks = {agent: new_page() for agent in ("janet", "ole.hansen", "per")}
    for agent, desk in desks.items():
        login(desk, live, agent)
    client, gate = gated_client()
    hold = Hold()
    call = live.call(press="2", answer="ole.hansen", talk=120, sleep=hold.sleep, client=client)
    for desk in desks.values():  # all three phones ring
        expect(desk.get_by_test_id("screen-pop")).to_contain_text("Ringer")
    gate.set()  # ole.hansen's phone picks up and confirms
    for agent in ("janet", "per"):
        expect(desks[agent].get_by_test_id("screen-pop")).to_have_count(0)
    ole = desks["ole.hansen"].get_by_test_id("screen-pop")
    expect(ole).to_contain_text("I samtale")
    expect(ole.get_by_test_id("greeting-line")).to_have_text(
        "Arbeidsmandsforbundet, du snakker med Ole.")
    hold.done.set()
    assert call.join() == "connected"
    expect(desks["ole.hansen"].get_by_test_id("screen-pop")).to_have_count(0)
    client.close()

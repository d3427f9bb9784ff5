"""The desk in headless Chromium: sign-in, the screen pop arriving without a reload, the
greeting line in the caller's language, a ringall's pop leaving the desks that did not answer,
and the all-day trap's one-click routing stop."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import Live, TwilioCall, login
from tests.console.test_desk import add_all_day_free

pytestmark = pytest.mark.browser


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


def test_sign_in_and_out_in_the_browser(live: Live, page: Any) -> None:
    page.goto(live.url + "/desk")
    assert page.url == live.url + "/login"  # signed out: to the sign-in form
    page.get_by_label("Brukernavn").fill("janet")
    page.get_by_label("Passord").fill("wrong-password")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("alert")).to_have_text("Feil brukernavn eller passord.")
    login(page, live, "janet")
    expect(page.get_by_test_id("status-badge")).to_have_text("Tilgjengelig")
    expect(page.get_by_text("Logget inn som Janet Olsen")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    # the language switch, then sign out
    page.get_by_role("button", name="English").click()
    expect(page.get_by_test_id("status-badge")).to_have_text("Available")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live.url + "/login")
    page.goto(live.url + "/desk")
    assert page.url == live.url + "/login"


def test_screen_pop_arrives_without_reload_and_goes_when_the_call_ends(live: Live,
                                                                       page: Any) -> None:
    login(page, live, "may.tove")
    expect(page.get_by_text("Ingen samtale akkurat nå.")).to_be_visible()
    page.wait_for_function("document.readyState === 'complete'")
    call = TwilioCall(live, from_="+4791234567")
    call.start(press="1")  # Økonomi: May Tove
    pop = page.get_by_test_id("screen-pop")
    expect(pop).to_be_visible()
    expect(pop.get_by_test_id("greeting-line")).to_have_text(
        "Arbeidsmandsforbundet, du snakker med May.")
    expect(pop.get_by_test_id("caller-number")).to_have_text("+47 91 23 45 67")
    expect(pop).to_contain_text("sentralbord")
    expect(pop).to_contain_text("Økonomi (menyvalg 1)")
    expect(page.get_by_test_id("status-badge")).to_have_text("Ringer")
    assert call.answer("may.tove")
    expect(page.get_by_test_id("status-badge")).to_have_text("I samtale")
    expect(pop).to_contain_text("I samtale")
    call.hang_up()
    expect(page.get_by_test_id("screen-pop")).to_have_count(0)
    expect(page.get_by_text("Ingen samtale akkurat nå.")).to_be_visible()


def test_english_callers_pop_has_the_english_greeting(live: Live, page: Any) -> None:
    login(page, live, "janet")
    call = TwilioCall(live, from_="+447700900123")
    call.start(press="9")  # "For English, press 9": the sentralbord loop, janet
    pop = page.get_by_test_id("screen-pop")
    expect(pop.get_by_test_id("greeting-line")).to_have_text(
        "General Workers Union, Janet speaking.")
    expect(pop.get_by_test_id("caller-number")).to_have_text("+44 7700 900123")
    call.hang_up()
    expect(page.get_by_test_id("screen-pop")).to_have_count(0)


def test_ringall_pop_leaves_the_desks_that_did_not_answer(live: Live, new_page: Any) -> None:
    desks = {}
    for agent in ("janet", "ole.hansen", "per"):
        desks[agent] = new_page()
        login(desks[agent], live, agent)
    call = TwilioCall(live, from_="+4791234567")
    call.start(press="2")  # Lønn: ringall to all three
    for agent, first in (("janet", "Janet"), ("ole.hansen", "Ole"), ("per", "Per")):
        pop = desks[agent].get_by_test_id("screen-pop")
        expect(pop.get_by_test_id("greeting-line")).to_have_text(
            f"Arbeidsmandsforbundet, du snakker med {first}.")
    assert call.answer("per")
    for agent in ("janet", "ole.hansen"):
        expect(desks[agent].get_by_test_id("screen-pop")).to_have_count(0)
    expect(desks["per"].get_by_test_id("screen-pop")).to_contain_text("I samtale")
    call.hang_up()
    expect(desks["per"].get_by_test_id("screen-pop")).to_have_count(0)


def test_all_day_trap_one_click_routing_stop(live: Live, page: Any) -> None:
    add_all_day_free(live, "ole.hansen")
    login(page, live, "ole.hansen")
    expect(page.get_by_text("Heldagsavtalen din i dag er merket Ledig, så køsamtaler kommer "
                            "fortsatt")).to_be_visible()
    expect(page.get_by_text("Vis som: Opptatt", exact=False)).to_be_visible()
    page.get_by_role("button", name="Ta rutingstopp resten av dagen").click()
    expect(page.get_by_test_id("status-badge")).to_have_text("Rutingstopp")


def test_without_server_sent_events_the_desk_polls(live: Live, page: Any) -> None:
    page.add_init_script("delete window.EventSource;")  # a browser or proxy without SSE
    login(page, live, "janet")
    call = TwilioCall(live, from_="+4791234567")
    call.start(press="2")
    pop = page.get_by_test_id("screen-pop")
    expect(pop.get_by_test_id("greeting-line")).to_have_text(
        "Arbeidsmandsforbundet, du snakker med Janet.")
    expect(page.get_by_test_id("status-badge")).to_have_text("Ringer")
    call.hang_up()
    expect(page.get_by_test_id("screen-pop")).to_have_count(0)
    expect(page.get_by_test_id("status-badge")).to_have_text("Tilgjengelig")

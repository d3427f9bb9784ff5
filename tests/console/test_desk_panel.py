"""The desk's call panel over HTTP (the pages a browser's HTMX requests get): identity steps,
data checks, the ticket form and the call record, each scoped to the agent's own call."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from stdnum import luhn

from tests.console.conftest import Live, TwilioCall
from tests.console.desk_panel_helpers import (
    KARI,
    OLA,
    add_departments,
    import_register,
    signed_in,
)

FAILED = "Opplysningene kunne ikke bekreftes. Ingenting om medlemmet kan bekreftes overfor " \
         "innringeren."


@pytest.fixture
def world(live: Live) -> Live:
    """The live app with the demo register and two departments."""
    import_register(live)
    add_departments(live)
    return live


@pytest.fixture
def clients(world: Live) -> Iterator[dict[str, tuple[httpx.Client, str]]]:
    """Signed-in clients for may.tove (admin), janet and ole.hansen."""
    out = {a: signed_in(world, a) for a in ("may.tove", "janet", "ole.hansen")}
    yield out
    for client, _ in out.values():
        client.close()


def answered(live: Live, agent: str, *, press: str, from_: str) -> TwilioCall:
    """A call from from_ through menu digit press, answered by agent (still connected)."""
    call = TwilioCall(live, from_=from_)
    call.start(press)
    assert call.answer(agent)
    return call


def post(client: httpx.Client, csrf: str, path: str, **data: str) -> httpx.Response:
    """A form post as the desk's HTMX makes it (CSRF header included)."""
    return client.post(path, data=data, headers={"X-CSRF-Token": csrf, "HX-Request": "true"})


def result_of(html: str) -> str:
    """The text of the identity-result line."""
    m = re.search(r'data-testid="identity-result"[^>]*>(.*?)</p>', html, re.S)
    assert m, "the panel has a result line"
    return " ".join(m.group(1).split())


def test_an_agent_reaches_only_their_own_call_by_page_and_api(world: Live, clients) -> None:
    call = answered(world, "janet", press="2", from_=KARI["phone"])
    base = f"/desk/call/{call.sid}"
    janet, j_csrf = clients["janet"]
    ole, o_csrf = clients["ole.hansen"]
    may, m_csrf = clients["may.tove"]
    assert janet.get(f"{base}/identity").status_code == 200
    # Lønn's department is chosen first on janet's ticket form.
    assert '<option value="medlem" selected>' in janet.get(f"{base}/ticket").text
    for client, csrf in ((ole, o_csrf), (may, m_csrf)):
        assert client.get(f"{base}/identity").status_code == 403
        assert client.get(f"{base}/ticket").status_code == 403
        assert post(client, csrf, f"{base}/identity/start", script="member").status_code == 403
        assert post(client, csrf, f"{base}/fix/email", email="a@example.org").status_code == 403
        assert post(client, csrf, f"{base}/ticket", department="medlem",
                    text="hei").status_code == 403
        assert client.get(f"/api/calls/{call.sid}/identity").status_code == 403
    # The call record: the agent who answered and an admin; not another agent.
    assert ole.get(f"/calls/{call.sid}").status_code == 403
    assert may.get(f"/calls/{call.sid}").status_code == 200
    assert janet.get(f"/calls/{call.sid}").status_code == 200
    # Nobody's half-done script moved: janet's call is still at the start.
    assert "Velg situasjonen" in janet.get(f"{base}/identity").text
    # A step without the CSRF token is refused.
    assert janet.post(f"{base}/identity/start", data={"script": "member"}).status_code == 403
    call.hang_up()


def test_member_script_then_returned_mail_fix_validated_like_the_api(world: Live,
                                                                      clients) -> None:
    call = answered(world, "may.tove", press="1", from_=OLA["phone"])
    may, csrf = clients["may.tove"]
    base = f"/desk/call/{call.sid}"
    html = post(may, csrf, f"{base}/identity/start", script="member").text
    assert "Kan jeg få medlemsnummeret ditt" in html
    assert "data-checks" not in html
    # A malformed national ID: the error next to its field, the form kept (nothing swapped),
    # and the value never repeated.
    bad = post(may, csrf, f"{base}/identity/member",
               membership_number=OLA["membership_number"], national_id="02916523450")
    assert bad.headers["HX-Reswap"] == "none"
    assert 'id="id-member-national_id-err"' in bad.text
    assert "Ikke et gyldig fødselsnummer" in bad.text
    assert "02916523450" not in bad.text
    ok = post(may, csrf, f"{base}/identity/member", membership_number=OLA["membership_number"],
              national_id=OLA["national_id"]).text
    assert result_of(ok) == "Verifisert: medlemmet selv"
    assert "029165 *****" in ok and OLA["national_id"] not in ok
    assert 'data-testid="data-checks"' in ok
    assert "Post til medlemmet har kommet i retur" in ok
    # The address fix, validated as the API validates it.
    bad = post(may, csrf, f"{base}/fix/address", address="Nygata 5", postal_code="",
               city="Bergen")
    assert bad.headers["HX-Reswap"] == "none"
    assert re.search(r'id="dc-address-postal_code-err"[^>]*>Fyll ut feltet.<', bad.text)
    assert re.search(r'id="dc-address-city-err"[^>]*><', bad.text)
    fixed = post(may, csrf, f"{base}/fix/address", address="Nygata 5", postal_code="5003",
                 city="Bergen").text
    assert result_of(fixed) == "Lagret: adresse."
    assert "Nygata 5, 5003 Bergen" in fixed
    assert "Post til medlemmet har kommet i retur" not in fixed
    record = may.get(f"/calls/{call.sid}").text
    assert re.search(r'data-testid="record-fixed">adresse', record)
    assert "Verifisert: medlemmet selv" in record
    call.hang_up()


def test_invoice_script_shows_the_registered_name_only_after_the_name_said(world: Live,
                                                                           clients) -> None:
    call = answered(world, "may.tove", press="1", from_="+4799887766")
    may, csrf = clients["may.tove"]
    base = f"/desk/call/{call.sid}"
    post(may, csrf, f"{base}/identity/start", script="invoice")
    bad = post(may, csrf, f"{base}/identity/kid", kid=KARI["kid"][:-1] + "8")
    assert "kontrollsiffer" in bad.text and KARI["kid"][:-1] not in bad.text
    after_kid = post(may, csrf, f"{base}/identity/kid", kid=KARI["kid"]).text
    assert "Hva heter medlemmet" in after_kid
    assert "Prøvesen" not in after_kid and KARI["membership_number"] not in after_kid
    named = post(may, csrf, f"{base}/identity/name", name="kari prøvesen").text
    assert re.search(r'data-testid="registered-name">Kari Prøvesen<', named)
    assert "Navnene ser like ut." in named
    post(may, csrf, f"{base}/identity/confirm", matches="true")
    done = post(may, csrf, f"{base}/identity/invoice-id", national_id=KARI["national_id"]).text
    assert result_of(done) == "Verifisert: betaler faktura på vegne av medlemmet"
    assert "Du kan snakke om fakturaen" in done
    # The errand's view: no contact details, no data checks, no national ID even masked.
    for private in ("Demoveien", "kari.provesen@", "148378", "data-checks", "member-tickets",
                    "+47 91"):
        assert private not in done
    call.hang_up()


def test_failures_give_one_generic_message_then_the_lock_offers_a_callback(world: Live,
                                                                          clients) -> None:
    call = answered(world, "may.tove", press="1", from_="+4799887766")
    may, csrf = clients["may.tove"]
    base = f"/desk/call/{call.sid}"
    post(may, csrf, f"{base}/identity/start", script="invoice")
    nobody = "999999000001"
    wrong_kid = nobody + str(luhn.calc_check_digit(nobody))  # valid check digit, no member
    first = post(may, csrf, f"{base}/identity/kid", kid=wrong_kid).text
    assert result_of(first) == FAILED
    post(may, csrf, f"{base}/identity/start", script="member")
    second = post(may, csrf, f"{base}/identity/member", membership_number="100001",
                  national_id=OLA["national_id"]).text
    assert result_of(second) == FAILED  # the same words, whichever factor was wrong
    assert "Forsøk igjen før låsing: 1." in second
    third = post(may, csrf, f"{base}/identity/member", membership_number="100001",
                 national_id=OLA["national_id"]).text
    assert result_of(third) == "Verifiseringen er låst etter gjentatte mislykkede forsøk."
    assert "Tilby å ringe medlemmet tilbake på nummeret i registeret" in third
    page = may.get(f"{base}/identity").text
    for html in (first, second, third, page):
        for private in ("Prøvesen", "Fiktivsen", "Demoveien", "148378", "029165", "+47 91"):
            assert private not in html
    callback = may.get(f"{base}/ticket", params={"callback": 1}).text
    assert 'value="Tilbakeringing til registrert nummer"' in callback
    assert re.search(r'<option value="we_call" selected>', callback)
    assert "Ring medlemmet tilbake på nummeret i registeret." in callback
    call.hang_up()


def test_ticket_form_names_the_bad_fields_and_links_the_verified_member(world: Live,
                                                                       clients) -> None:
    call = answered(world, "may.tove", press="1", from_=KARI["phone"])
    may, csrf = clients["may.tove"]
    base = f"/desk/call/{call.sid}"
    form = may.get(f"{base}/ticket").text
    assert 'data-testid="ticket-form"' in form and "Ingen verifisert medlem" in form
    bad = post(may, csrf, f"{base}/ticket", department="", category="Faktura",
               text=f"fnr {KARI['national_id']}", follow_up="we_call")
    assert bad.headers["HX-Reswap"] == "none"
    assert re.search(r'id="tf-department-err"[^>]*>Velg en avdeling.<', bad.text)
    assert re.search(r'id="tf-text-err"[^>]*>Ser ut som et fødselsnummer', bad.text)
    assert KARI["national_id"] not in bad.text
    post(may, csrf, f"{base}/identity/start", mode="known")
    known = may.get(f"{base}/identity").text
    member_id = re.search(r'<option value="(\d+)">Kari Prøvesen', known)
    assert member_id is None  # the known form shows only after choosing "I know this member"
    chosen = post(may, csrf, f"{base}/identity/start", mode="known").text
    member_id = re.search(r'<option value="(\d+)">Kari Prøvesen', chosen)
    assert member_id
    short = post(may, csrf, f"{base}/identity/known", member_id=member_id.group(1), reason="x")
    assert re.search(r'id="id-known-reason-err"[^>]*>Fyll ut feltet.<', short.text)
    ok = post(may, csrf, f"{base}/identity/known", member_id=member_id.group(1),
              reason="tillitsvalgt jeg jobber med").text
    assert result_of(ok) == "Kjent av deg: medlemmet selv"
    assert "Kari Prøvesen" in may.get(f"{base}/ticket/about").text
    made = post(may, csrf, f"{base}/ticket", department="medlem", category="Adresse",
                text="Vil ha medlemskortet sendt på nytt.", follow_up="none",
                confirm_to_agent="on").text
    ticket_id = re.search(r'href="/tickets/(\d+)"', made)
    assert ticket_id and "er sendt til Medlemsservice" in made
    api = may.get(f"/api/tickets/{ticket_id.group(1)}").json()
    ticket = api.get("ticket", api)
    assert ticket["department"] == "medlem" and ticket["confirm_to_agent"] is True
    assert ticket["verification_level"] == "known_by_agent" and ticket["member_id"]
    panel = may.get(f"{base}/identity").text  # the member's open tickets, now verified
    listed = re.search(r'data-testid="member-tickets".*?</section>', panel, re.S)
    assert listed and f'href="/tickets/{ticket_id.group(1)}"' in listed.group(0)
    record = may.get(f"/calls/{call.sid}").text
    assert f'href="/tickets/{ticket_id.group(1)}"' in record
    assert re.search(r'data-testid="record-menu">1<', record)
    assert re.search(r'data-testid="record-answered-by">May Tove Hansen<', record)
    call.hang_up()

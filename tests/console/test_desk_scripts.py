"""The desk's identity steps and data checks over HTTP, beyond the story: the birth-date route
and the national-ID correction, e-mail and phone fixes, the case script's consent step, the
English words, and a call that has ended."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stdnum import luhn
from stdnum.no import fodselsnummer

from identity import fnr
from tests.console.conftest import Live
from tests.console.desk_panel_helpers import add_departments, import_register, signed_in
from tests.console.test_desk_panel import answered, post, result_of


def valid_id(birth: str) -> str:
    """A valid national ID number for the birth date DDMMYY (python-stdnum's check digits)."""
    for individual in range(123, 500):
        body = birth + f"{individual:03d}"
        k1 = fodselsnummer.calc_check_digit1(body)
        k2 = fodselsnummer.calc_check_digit2(body + k1) if len(k1) == 1 else "10"
        if len(k2) == 1:
            return body + k1 + k2
    raise AssertionError("no valid number for " + birth)


@pytest.fixture
def may(live: Live) -> Iterator[tuple[httpx.Client, str]]:
    """may.tove signed in, with the demo register and departments in place."""
    import_register(live)
    add_departments(live)
    client, csrf = signed_in(live, "may.tove")
    yield client, csrf
    client.close()


def test_birth_date_route_then_the_national_id_is_corrected(live: Live, may) -> None:
    client, csrf = may
    call = answered(live, "may.tove", press="1", from_="+4791000003")  # Ingrid
    base = f"/desk/call/{call.sid}"
    post(client, csrf, f"{base}/identity/start", script="member")
    bad = post(client, csrf, f"{base}/identity/birth", membership_number="100003",
               birth_date="1. februar")
    assert re.search(r'id="id-birth-birth_date-err"[^>]*>Skriv en dato', bad.text)
    ok = post(client, csrf, f"{base}/identity/birth", membership_number="100003",
              birth_date="1978-02-01").text
    assert result_of(ok) == "Verifisert: medlemmet selv"
    assert "Fødselsnummeret i registeret er feil eller mangler" in ok
    other = valid_id("311299")  # valid, but another birth date
    wrong = post(client, csrf, f"{base}/fix/national-id", national_id=other)
    assert "Fødselsdatoen i nummeret er ikke medlemmets." in wrong.text
    assert other not in wrong.text
    right = valid_id("010278")
    fixed = post(client, csrf, f"{base}/fix/national-id", national_id=right).text
    assert result_of(fixed) == "Lagret: fødselsnummer."
    assert "010278 *****" in fixed and right not in fixed
    assert "Fødselsnummeret i registeret er feil" not in fixed
    call.hang_up()


def test_known_member_gets_email_and_phone_fixes(live: Live, may) -> None:
    client, csrf = may
    call = answered(live, "may.tove", press="1", from_="+4791000004")  # Per Testmann-Lie
    base = f"/desk/call/{call.sid}"
    chosen = post(client, csrf, f"{base}/identity/start", mode="known").text
    member_id = re.search(r'<option value="(\d+)">Per Testmann-Lie', chosen)
    assert member_id
    options = re.findall(r'<option value="(\d+)">', chosen)
    assert options == [member_id.group(1)]  # only the calling number's match is offered
    other = str(int(member_id.group(1)) + 1)  # a member not registered with this number
    refused = post(client, csrf, f"{base}/identity/known", member_id=other,
                   reason="kjenner henne godt").text
    assert result_of(refused).startswith("Bare medlemmer registrert med nummeret")
    post(client, csrf, f"{base}/identity/known", member_id=member_id.group(1),
         reason="klubbleder på Forus")
    html = client.get(f"{base}/identity").text
    assert "Ingen e-postadresse i registeret" in html
    bad = post(client, csrf, f"{base}/fix/email", email="per@")
    assert re.search(r'id="dc-email-email-err"[^>]*>Ikke en gyldig e-postadresse.<', bad.text)
    fixed = post(client, csrf, f"{base}/fix/email", email="per.lie@example.org").text
    assert result_of(fixed) == "Lagret: e-post." and "per.lie@example.org" in fixed
    assert "Ingen e-postadresse" not in fixed
    call.hang_up()
    # Another call from a number not on file offers to add it.
    call = answered(live, "may.tove", press="1", from_="+4799990004")
    base = f"/desk/call/{call.sid}"
    post(client, csrf, f"{base}/identity/start", script="member")
    html = post(client, csrf, f"{base}/identity/member", membership_number="100004",
                national_id="23869034533").text
    assert "Nummeret det ringes fra er ikke registrert på medlemmet." in html
    added = post(client, csrf, f"{base}/fix/phone", mode="add").text
    assert result_of(added) == "Lagret: telefon."
    assert "+4799990004" in added and "ikke registrert på medlemmet" not in added
    call.hang_up()


def test_case_script_takes_consent_as_its_own_step(live: Live, may) -> None:
    client, csrf = may
    call = answered(live, "may.tove", press="1", from_="+4799887766")
    base = f"/desk/call/{call.sid}"
    post(client, csrf, f"{base}/identity/start", script="case")
    consent = post(client, csrf, f"{base}/identity/case-member", membership_number="100005").text
    assert "Medlemmet har 2 registrerte nummer." in consent
    assert "Demodatter" not in consent  # nothing about the member before the script allows it
    assert re.search(r'value="member_on_call" disabled', consent)
    missing = post(client, csrf, f"{base}/identity/consent", method="callback_registered_number",
                   given_to="Nils Advokatsen", scope="oppsigelsessaken", consented="true")
    assert "Si hvilket registrert nummer du ringte" in missing.text
    said_no = post(client, csrf, f"{base}/identity/consent", method="callback_registered_number",
                   phone_position="2", given_to="Nils Advokatsen", scope="oppsigelsessaken",
                   consented="false").text
    assert result_of(said_no) == "Uten medlemmets samtykke kan ingenting om saken tas opp."
    given = post(client, csrf, f"{base}/identity/consent", method="callback_registered_number",
                 phone_position="2", given_to="Nils Advokatsen", scope="oppsigelsessaken",
                 consented="true").text
    assert result_of(given) == "Samtykket er registrert. Still kontrollspørsmålene."
    done = post(client, csrf, f"{base}/identity/case-mobile", mobile="+4791000005").text
    assert result_of(done) == "Verifisert: sak på vegne av medlemmet, med samtykke"
    assert "Samtykke fra medlemmet til Nils Advokatsen om «oppsigelsessaken»" in done
    for private in ("solveig.demodatter@", "Eksempelvegen", "+4791000005", "data-checks"):
        assert private not in done
    call.hang_up()


def test_the_panel_speaks_english_when_the_ui_is_english(live: Live, may) -> None:
    client, csrf = may
    call = answered(live, "may.tove", press="1", from_="+4799887766")
    client.cookies.set("sb_lang", "en")
    base = f"/desk/call/{call.sid}"
    assert "Pick the situation that fits:" in client.get(f"{base}/identity").text
    html = post(client, csrf, f"{base}/identity/start", script="invoice").text
    assert "“What is the KID number on the invoice?”" in html
    assert "Write a ticket" in client.get(f"{base}/ticket").text
    call.hang_up()


def test_after_the_call_no_factor_is_taken_but_a_ticket_is(live: Live, may) -> None:
    client, csrf = may
    call = answered(live, "may.tove", press="1", from_="+4799887766")
    base = f"/desk/call/{call.sid}"
    post(client, csrf, f"{base}/identity/start", script="member")
    call.hang_up()
    late = post(client, csrf, f"{base}/identity/member", membership_number="100001",
                national_id="14837812314").text
    assert result_of(late) == "Samtalen er avsluttet: ingen kan gi opplysninger nå."
    made = post(client, csrf, f"{base}/ticket", department="medlem", category="Etterarbeid",
                text="Innringer la på før vi var ferdige.", follow_up="caller_calls").text
    assert "er sendt til Medlemsservice" in made


def test_invoice_for_a_member_whose_id_needs_correction_uses_the_birth_date(live: Live,
                                                                           may) -> None:
    client, csrf = may
    call = answered(live, "may.tove", press="1", from_="+4799887766")
    base = f"/desk/call/{call.sid}"
    post(client, csrf, f"{base}/identity/start", script="invoice")
    body = "1000030000042"  # Ingrid's membership number first, as the org's KID rule says
    post(client, csrf, f"{base}/identity/kid", kid=body + luhn.calc_check_digit(body))
    post(client, csrf, f"{base}/identity/name", name="Ingrid Eksempelsen")
    post(client, csrf, f"{base}/identity/confirm", matches="true")
    empty = post(client, csrf, f"{base}/identity/invoice-birth", birth_date="")
    assert re.search(r'id="id-invoice-birth-birth_date-err"[^>]*>Fyll ut feltet.<', empty.text)
    done = post(client, csrf, f"{base}/identity/invoice-birth", birth_date="1978-02-01").text
    assert result_of(done) == "Verifisert: betaler faktura på vegne av medlemmet"
    assert "Ingrid Eksempelsen" in done and "Skisseveien" not in done
    call.hang_up()


def placeholder_id() -> str:
    """A number with a placeholder suffix that still passes the checksum (a possible
    placeholder: the member is asked to confirm it)."""
    for year in range(60, 99):
        for day in range(1, 29):
            number = f"{day:02d}03{year:02d}00100"
            if fnr.checksum_ok(number):
                return number
    raise AssertionError("no such number")


def test_a_possible_placeholder_id_is_confirmed_by_the_member(live: Live, may,
                                                              tmp_path: Path) -> None:
    client, csrf = may
    number = placeholder_id()
    register = tmp_path / "members.csv"
    register.write_text(
        "membership_number;name;national_id;birth_date;phone;email;address;postal_code;city;"
        "returned_mail;branch;status\n"
        f"200001;Tora Plassholder;{number};;+4791000099;tora@example.org;Vei 1;0150;Oslo;nei;"
        "Avd. 1 Oslo;active\n", encoding="utf-8")
    import_register(live, register)
    call = answered(live, "may.tove", press="1", from_="+4791000099")
    base = f"/desk/call/{call.sid}"
    post(client, csrf, f"{base}/identity/start", script="member")
    html = post(client, csrf, f"{base}/identity/member", membership_number="200001",
                national_id=number).text
    assert "kan være et plassholdernummer" in html and number not in html
    confirmed = post(client, csrf, f"{base}/fix/national-id-confirm").text
    assert result_of(confirmed) == "Lagret: fødselsnummer."
    assert "plassholdernummer" not in confirmed
    again = post(client, csrf, f"{base}/fix/national-id-confirm").text
    assert result_of(again) == "Fødselsnummeret i registeret trenger ingen retting."
    call.hang_up()

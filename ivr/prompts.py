"""What the caller and the agent hear, in Norwegian (nb-NO) and English (en-GB)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

LANG = {"nb": "nb-NO", "en": "en-GB"}

TEXT: dict[str, dict[str, str]] = {
    "nb": {
        "greeting": "Velkommen til {name}.",
        "choice": "Tast {digit} for {loop}.",
        "english": "For English, press {digit}.",
        "invalid": "Det var ikke et gyldig valg.",
        "closed": "{name} er stengt nå. Sentralbordet er åpent {hours}.",
        "closed_holiday": "{name} er stengt i dag.",
        "closed_now": "{name} er stengt nå.",
        "connecting": "Et øyeblikk, vi setter deg over til {loop}.",
        "overflow": "Alle er opptatt. Vi setter deg over til {loop}.",
        "position": "Du er nummer {n} i køen.",
        "still_waiting": "Takk for at du venter. Du blir satt over så snart noen er ledig.",
        "voicemail": "Legg igjen en beskjed etter tonen, så ringer vi deg tilbake. "
                     "Trykk firkant når du er ferdig.",
        "voicemail_none": "Vi fikk ingen beskjed. Ha det bra.",
        "thanks": "Takk for beskjeden. Vi ringer deg tilbake. Ha det bra.",
        "direct_logged_out": "{agent} er ikke til stede nå.",
        "direct_busy": "{agent} er i en annen samtale.",
        "direct_no_answer": "{agent} svarer ikke.",
        "direct_closed": "{agent} er ikke tilgjengelig nå, vi er stengt.",
        "error": "Beklager, vi har tekniske problemer.",
        "already_answered": "Samtalen er allerede besvart.",
    },
    "en": {
        "greeting": "Welcome to {name}.",
        "choice": "Press {digit} for {loop}.",
        "english": "For English, press {digit}.",
        "invalid": "That was not a valid choice.",
        "closed": "We are closed now. The switchboard is open {hours}.",
        "closed_holiday": "We are closed today.",
        "closed_now": "We are closed now.",
        "connecting": "One moment, we are putting you through to {loop}.",
        "overflow": "Everyone is busy. We are putting you through to {loop}.",
        "position": "You are number {n} in the queue.",
        "still_waiting": "Thank you for waiting. You will be put through as soon as someone "
                         "is free.",
        "voicemail": "Please leave a message after the tone, and we will call you back. "
                     "Press the hash key when you are done.",
        "voicemail_none": "We did not receive a message. Goodbye.",
        "thanks": "Thank you for your message. We will call you back. Goodbye.",
        "direct_logged_out": "{agent} is not available now.",
        "direct_busy": "{agent} is on another call.",
        "direct_no_answer": "{agent} does not answer.",
        "direct_closed": "{agent} is not available now, we are closed.",
        "error": "Sorry, we have technical problems.",
        "already_answered": "The call has already been answered.",
    },
}

# What the agent hears when the phone is picked up (always Norwegian: it is the staff's language).
WHISPER = "Anrop fra {source}{lang}. Trykk en tast for å ta samtalen."
WHISPER_LANG = {"nb": "", "en": ", engelsktalende innringer"}
WHISPER_MISSED = "Ingen tast trykket. Samtalen går videre."


def say(lang: str, key: str, **kw: object) -> str:
    """A prompt text in the caller's language."""
    return TEXT.get(lang, TEXT["nb"])[key].format(**kw)


def menu_texts(
    *,
    name: str,
    name_en: str | None,
    prompts: Mapping[str, Mapping[str, str]],
    menu: Sequence[tuple[str, str]],
    english_digit: str | None,
) -> list[tuple[str, str]]:
    """The greeting and menu as (language, text) pieces: Norwegian, then the English digit."""
    nb = prompts.get("nb", {})
    out = [("nb", nb.get("greeting") or say("nb", "greeting", name=name))]
    out.append(("nb", nb.get("menu") or " ".join(
        say("nb", "choice", digit=d, loop=loop) for d, loop in menu)))
    if english_digit:
        out.append(("en", english_offer(prompts=prompts, digit=english_digit)))
    return out


def english_offer(*, prompts: Mapping[str, Mapping[str, str]], digit: str) -> str:
    """"For English, press 9" (or the org file's `prompts.en.menu`)."""
    return prompts.get("en", {}).get("menu") or say("en", "english", digit=digit)


def english_name(name_en: str | None, name: str) -> str:
    """The organisation's name inside an English sentence: "the General Workers Union".

    A name of several words ("General Workers Union") is a description and takes "the"; one
    word ("Unio", or the Norwegian name when there is no English one) is a proper name and
    does not. A name that already starts with "the" keeps it. The org file's
    `prompts.en.greeting` overrides the whole greeting where this guess is wrong.
    """
    if not name_en:
        return name
    words = name_en.split()
    if len(words) < 2 or words[0].lower() == "the":
        return name_en
    return "the " + name_en


def english_greeting(*, name_en: str | None, name: str,
                     prompts: Mapping[str, Mapping[str, str]]) -> str:
    """The English greeting after the English digit."""
    en = prompts.get("en", {})
    return en.get("greeting") or say("en", "greeting", name=english_name(name_en, name))

"""TwiML builders: pure functions returning twilio VoiceResponse objects."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml import TwiML
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from ivr.prompts import LANG, say

# One hold segment of music. With the spoken position (and, the first time, the "connecting"
# line) before it, the caller is re-checked well within the 20 seconds of docs/routing.md.
HOLD_SECONDS = 12


@dataclass(frozen=True)
class Ring:
    """One <Number> of a <Dial>: the agent, their phone, and the whisper URL."""

    agent_id: str
    phone: str
    whisper_url: str


def add_say(vr: VoiceResponse | Gather, lang: str, text: str) -> None:
    """A <Say> in the caller's language."""
    vr.say(text, language=LANG.get(lang, "nb-NO"))


def gather_menu(pieces: Sequence[tuple[str, str]], action: str, *, prefix: str | None = None,
                prefix_lang: str = "nb") -> VoiceResponse:
    """Speak the greeting/menu inside a one-digit <Gather> that posts even on silence."""
    vr = VoiceResponse()
    if prefix:
        add_say(vr, prefix_lang, prefix)
    g = Gather(num_digits=1, timeout=6, action=action, method="POST", action_on_empty_result=True)
    for lang, text in pieces:
        add_say(g, lang, text)
    vr.append(g)
    # Reached only if Twilio ignores actionOnEmptyResult: never leave the caller in silence.
    vr.redirect(action, method="POST")
    return vr


def dial(vr: VoiceResponse, rings: Sequence[Ring], *, action: str, timeout: int) -> VoiceResponse:
    """A <Dial> from the caller's own call; each <Number> whispers and waits for a key."""
    d = Dial(action=action, method="POST", timeout=timeout)
    for r in rings:
        d.number(r.phone, url=r.whisper_url, method="POST")
    vr.append(d)
    return vr


def hold(vr: VoiceResponse, lang: str, position: int, music_url: str,
         redirect: str) -> VoiceResponse:
    """Position in line, one hold segment of music, then back for a re-check."""
    add_say(vr, lang, say(lang, "position", n=position))
    vr.play(music_url)
    vr.redirect(redirect, method="POST")
    return vr


def voicemail(vr: VoiceResponse, lang: str, action: str) -> VoiceResponse:
    """Record a message; if nothing is recorded, say so and hang up."""
    add_say(vr, lang, say(lang, "voicemail"))
    vr.record(action=action, method="POST", max_length=180, timeout=8, finish_on_key="#",
              play_beep=True)
    add_say(vr, lang, say(lang, "voicemail_none"))
    vr.hangup()
    return vr


def whisper(text: str, action: str) -> VoiceResponse:
    """The agent's leg: say where the call is from and wait for one key; silence hangs up."""
    from ivr.prompts import WHISPER_MISSED

    vr = VoiceResponse()
    g = Gather(num_digits=1, timeout=5, action=action, method="POST")
    add_say(g, "nb", text)
    vr.append(g)
    add_say(vr, "nb", WHISPER_MISSED)
    vr.hangup()
    return vr


def fallback(public_base: str) -> str:
    """Static TwiML for when the database is down: a message, then voicemail."""
    vr = VoiceResponse()
    add_say(vr, "nb", say("nb", "error"))
    voicemail(vr, "nb", f"{public_base}/twilio/recorded?fallback=1")
    return str(vr)


_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _text(text: str) -> str:
    # ElementTree's _escape_cdata.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attr(text: str) -> str:
    # ElementTree's _escape_attrib.
    text = _text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def _render(node: TwiML, out: list[str]) -> None:
    out.append("<" + node.name)
    for key in sorted(node.attrs):
        value = node.attrs[key]
        value = str(value).lower() if isinstance(value, bool) else str(value)
        out.append(f' {key}="{_attr(value)}"')
    text = node.value
    if isinstance(text, dict):
        text = json.dumps(text)
    # As TwiML.xml(): a string among the verbs is the text, or the tail of the verb before it.
    children: list[list[TwiML | str | None]] = []
    for verb in node.verbs:
        if isinstance(verb, str):
            if children:
                children[-1][1] = verb
            else:
                text = verb
        else:
            children.append([verb, None])
    if not text and not children:
        out.append(" />")
        return
    out.append(">")
    if text:
        out.append(_text(text))
    for child, tail in children:
        _render(child, out)  # type: ignore[arg-type]
        if tail:
            out.append(_text(tail))  # type: ignore[arg-type]
    out.append(f"</{node.name}>")


def render(node: TwiML) -> str:
    """The same text as str(node), twilio's TwiML.to_xml(), for answers on the hot path.

    A hand-written serializer, on purpose: to_xml builds an ElementTree and runs its
    serializer, which is pure Python and took about 60 us per answer, as much as three SQL
    statements of the step (README, Performance). This walks the same twilio TwiML objects
    and escapes as ElementTree does; tests/test_twiml_render.py holds it to str() byte for byte.
    """
    out = [_DECLARATION]
    _render(node, out)
    return "".join(out)

"""ivr.twiml.render gives the same text as twilio's own str() for every answer the flow builds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr import twiml
from ivr.prompts import say

# Text as org files and prompts may hold it: markup characters, quotes, line breaks, tabs,
# Norwegian letters; no surrogates (they are not text).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
BASE = "https://switchboard.test"


def test_every_answer_shape_of_the_flow() -> None:
    rings = [twiml.Ring("a", "+4790000001", f"{BASE}/twilio/whisper?o=1&agent=a"),
             twiml.Ring("b", "+4790000002", f"{BASE}/twilio/whisper?o=2&agent=b")]
    menu = twiml.gather_menu([("nb", "Velkommen til Kø & «bord»"), ("en", 'Press "9"')],
                             f"{BASE}/twilio/menu?play=2", prefix=say("nb", "invalid"))
    dial = VoiceResponse()
    twiml.add_say(dial, "nb", say("nb", "connecting", loop="Kø <1>"))
    twiml.dial(dial, rings, action=f"{BASE}/twilio/dial?a=1", timeout=20)
    hold = twiml.hold(VoiceResponse(), "en", 3, f"{BASE}/static/hold.wav",
                      f"{BASE}/twilio/wait?a=1&w=2")
    mail = twiml.voicemail(VoiceResponse(), "nb", f"{BASE}/twilio/recorded?a=0")
    hangup = VoiceResponse()
    hangup.hangup()
    shapes = [menu, dial, hold, mail, hangup, VoiceResponse(),
              twiml.whisper("Anrop fra Kø 1", f"{BASE}/twilio/whisper/confirm?o=7")]
    for vr in shapes:
        assert twiml.render(vr) == str(vr)


@settings(max_examples=300, deadline=None)
@given(say_text=TEXT, attr=TEXT, tail=TEXT, timeout=st.integers(0, 99), flag=st.booleans())
def test_escaping_matches_elementtree(say_text: str, attr: str, tail: str, timeout: int,
                                      flag: bool) -> None:
    vr = VoiceResponse()
    g = Gather(num_digits=1, timeout=timeout, action=attr, action_on_empty_result=flag)
    g.say(say_text, language="nb-NO")
    vr.append(g)
    vr.nest(tail)  # a bare string after a verb becomes that verb's tail
    vr.redirect(attr, method="POST")
    vr.pause(length=timeout)
    assert twiml.render(vr) == str(vr)

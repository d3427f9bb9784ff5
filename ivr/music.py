"""Hold music, made once in memory: a soft repeating chord, so a waiting caller never hears
silence and the demo needs no audio file from outside."""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import lru_cache

RATE = 8000
SECONDS = 12  # one hold segment (ivr.twiml.HOLD_SECONDS)


@lru_cache(maxsize=1)
def hold_wav() -> bytes:
    """12 seconds of 8 kHz mono 16-bit PCM: arpeggiated C major chords."""
    notes = [261.63, 329.63, 392.00, 523.25, 392.00, 329.63]
    frames = bytearray()
    per_note = RATE // 2
    for i in range(SECONDS * 2):
        f = notes[i % len(notes)]
        for n in range(per_note):
            env = min(1.0, n / 400) * max(0.0, 1 - n / per_note) ** 0.5
            v = int(6000 * env * math.sin(2 * math.pi * f * n / RATE))
            frames += struct.pack("<h", v)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return buf.getvalue()

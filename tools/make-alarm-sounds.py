#!/usr/bin/env python3
"""Makes the desk's alarm sounds, so they are the project's own (no licence to track).

    python3 tools/make-alarm-sounds.py

writes src-tauri/crates/station/sounds/critical.wav and high.wav (16-bit mono 22050 Hz, a few
tens of KB each). The crate embeds them with include_bytes!, so rebuild after running this and
commit the WAVs. Python's standard library only; the output is the same byte for byte on every run.
"""

import math
import struct
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parent.parent / "src-tauri/crates/station/sounds"


def ramp(i, n, edge):
    """Fades the first and last `edge` samples, so no tone starts or stops with a click."""
    return min(1.0, i / edge, (n - 1 - i) / edge)


def critical():
    """About 1 s: two tones, high-low-high-low, a quarter second each. A softened square wave
    (odd harmonics) cuts through plant noise and small laptop speakers better than a sine. The
    player repeats it with a short gap until the alarm is acknowledged or silenced."""
    samples = []
    for k in range(4):
        freq = 988.0 if k % 2 == 0 else 740.0
        n = int(RATE * 0.25)
        for i in range(n):
            t = i / RATE
            wave_ = sum(math.sin(2 * math.pi * freq * h * t) / h for h in (1, 3, 5))
            samples.append(0.55 * wave_ * ramp(i, n, 110))
    return samples


def high():
    """About 0.6 s: one bell-like chime (a struck tone and two partials, dying away)."""
    n = int(RATE * 0.6)
    samples = []
    for i in range(n):
        t = i / RATE
        tone = (
            math.sin(2 * math.pi * 1047.0 * t)
            + 0.4 * math.sin(2 * math.pi * 2094.0 * t)
            + 0.15 * math.sin(2 * math.pi * 3140.0 * t)
        )
        samples.append(0.5 * tone * math.exp(-t / 0.2) * ramp(i, n, 110))
    return samples


def write(name, samples):
    peak = max(abs(s) for s in samples)
    scale = 0.7 / peak  # loud enough to be heard, with headroom: never clips
    frames = b"".join(struct.pack("<h", round(s * scale * 32767)) for s in samples)
    OUT.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT / name), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)
    print(f"{OUT / name}: {len(samples) / RATE:.2f} s, {len(frames) + 44} bytes")


if __name__ == "__main__":
    write("critical.wav", critical())
    write("high.wav", high())

"""Make the kiosk's four short sounds (own work, same licence as the project).

Deterministic: the same WAV bytes every run (stdlib ``wave`` + ``math`` only). 16-bit mono at
22050 Hz, each under 0.3 s, with short fades so nothing clicks. Run from anywhere:
``python assets/sounds/make_sounds.py``.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
FADE_S = 0.006
VOLUME = 0.45  # of full scale: loud enough in a busy co-op, never harsh

# name → notes as (frequency Hz, seconds); 0 Hz is a rest.
SOUNDS: dict[str, list[tuple[float, float]]] = {
    "touch": [(1320.0, 0.035)],  # a short tick
    "counted": [(880.0, 0.06), (1175.0, 0.09)],  # rising: a note went in
    "done": [(784.0, 0.07), (988.0, 0.07), (1319.0, 0.13)],  # a small chime
    "error": [(330.0, 0.11), (0.0, 0.03), (262.0, 0.13)],  # low, falling
}


def note(frequency: float, seconds: float) -> list[float]:
    """A sine with a second harmonic, faded in and out."""
    count = int(RATE * seconds)
    fade = max(1, int(RATE * FADE_S))
    samples = []
    for i in range(count):
        if frequency <= 0:
            samples.append(0.0)
            continue
        t = i / RATE
        value = math.sin(2 * math.pi * frequency * t) + 0.25 * math.sin(4 * math.pi * frequency * t)
        envelope = min(1.0, i / fade, (count - 1 - i) / fade)
        samples.append(value / 1.25 * envelope)
    return samples


def render(notes: list[tuple[float, float]]) -> bytes:
    samples = [s for frequency, seconds in notes for s in note(frequency, seconds)]
    return b"".join(struct.pack("<h", round(s * VOLUME * 32767)) for s in samples)


def write(path: Path, frames: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)


def main() -> None:
    here = Path(__file__).resolve().parent
    for name, notes in SOUNDS.items():
        write(here / f"{name}.wav", render(notes))


if __name__ == "__main__":
    main()

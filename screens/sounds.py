"""Short sounds for what the member should notice without looking: a press, a note counted, the
charge done, something wrong. When a change of view makes a sound is the one cue rule
(:func:`kiosk.core.cues.cue_for`, the buzzer's too); :data:`SPEAKER` says which file plays it,
and :class:`Sounds` plays it. No audio (no device, offscreen tests) or ``PAYKIOSK_SOUND=0``:
silent, logged once, never an error."""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.core.cues import Cue, cue_for
from kiosk.core.view import SessionView

log = logging.getLogger("paykiosk.sounds")

SOUND_DIR = Path(__file__).resolve().parents[1] / "assets" / "sounds"
SOUND_ENV = "PAYKIOSK_SOUND"  # "0": no sound


class Wav(StrEnum):
    """The speaker's sounds: ``assets/sounds/<value>.wav`` (made by ``make_sounds.py``)."""

    TOUCH = "touch"  # a button pressed (the screens' own: not a change of view)
    COUNTED = "counted"
    DONE = "done"
    ERROR = "error"


# What the speaker plays for each cue. A card read stays quiet: the screen answers at once
# (and the panel's buzzer beeps at the reader, where there is one).
SPEAKER: dict[Cue, Wav | None] = {
    Cue.CARD_READ: None,
    Cue.COUNTED: Wav.COUNTED,
    Cue.DONE: Wav.DONE,
    Cue.ERROR: Wav.ERROR,
}


def sound_for(previous: SessionView, view: SessionView) -> Wav | None:
    """The sound the change from ``previous`` to ``view`` makes on the speaker, if any."""
    cue = cue_for(previous, view)
    return SPEAKER[cue] if cue is not None else None


def has_audio_device() -> bool:
    """A sound card, or a sound server to reach one (a desktop's PulseAudio/PipeWire)."""
    if Path("/dev/snd").is_dir() or os.environ.get("PULSE_SERVER"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return runtime is not None and (Path(runtime) / "pulse" / "native").exists()


class Sounds:
    """A :data:`screens.app.ViewObserver` that plays :func:`sound_for`, and ``touch`` for
    presses (``screens.widgets.on_press_sound``). Loads the WAVs on first use."""

    def __init__(self, enabled: bool | None = None, sound_dir: Path = SOUND_DIR) -> None:
        if enabled is None:
            enabled = os.environ.get(SOUND_ENV, "1").strip() != "0"
        self.enabled = enabled
        self.sound_dir = sound_dir
        self._sounds: dict[Wav, Any] | None = None  # kivy Sound objects, once loaded

    def __call__(self, previous: SessionView, view: SessionView) -> None:
        sound = sound_for(previous, view)
        if sound is not None:
            self.play(sound)

    def touch(self) -> None:
        self.play(Wav.TOUCH)

    def play(self, sound: Wav) -> None:
        if not self.enabled:
            return
        sounds = self._load() if self._sounds is None else self._sounds
        loaded = sounds.get(sound)
        if loaded is None:
            return
        try:
            loaded.stop()  # a quick second press restarts the sound rather than queueing it
            loaded.play()
        except Exception as error:  # an audio backend failing mid-way: quiet from now on
            self._silence(f"{type(error).__name__}: {error}")

    def _load(self) -> dict[Wav, Any]:
        self._sounds = {}
        if not has_audio_device():  # do not let the audio library probe (and print) for one
            self._silence("no audio device (/dev/snd) or sound server")
            return self._sounds
        try:
            from kivy.core.audio import SoundLoader

            for sound in Wav:
                loaded = SoundLoader.load(str(self.sound_dir / f"{sound.value}.wav"))
                # Without a device Kivy may still give a Sound object, of no length.
                if loaded is None or not loaded.length:
                    self._silence(f"{sound.value}.wav could not be loaded (no audio device?)")
                    return self._sounds
                self._sounds[sound] = loaded
        except Exception as error:
            self._silence(f"{type(error).__name__}: {error}")
        return self._sounds

    def _silence(self, why: str) -> None:
        if self.enabled:
            log.info("no sound: %s", why)
        self.enabled = False
        self._sounds = {}

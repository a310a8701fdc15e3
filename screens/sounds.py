"""Short sounds for what the member should notice without looking: a press, a note counted, the
charge done, something wrong. Which sound a change of view makes is :func:`sound_for` (pure);
:class:`Sounds` plays it. No audio (no device, offscreen tests) or ``PAYKIOSK_SOUND=0``: silent,
logged once, never an error."""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.core.events import CreditOutcome, MoveOutcome, Notice
from kiosk.core.session import State
from kiosk.core.view import SessionView

log = logging.getLogger("paykiosk.sounds")

SOUND_DIR = Path(__file__).resolve().parents[1] / "assets" / "sounds"
SOUND_ENV = "PAYKIOSK_SOUND"  # "0": no sound


class Sound(StrEnum):
    TOUCH = "touch"
    COUNTED = "counted"
    DONE = "done"
    ERROR = "error"


_ERROR_STATES = {State.UNKNOWN_CARD, State.ACCOUNT_SUSPENDED, State.WALLET_UNAVAILABLE}
_MEMBER_STATES = {
    State.ACCOUNT,
    State.HISTORY,
    State.CHOOSE_MONEY,
    State.ACCEPTING,
    State.MOVE_ROUTE,
    State.MOVE_AMOUNT,
    State.MOVE_CONFIRM,
}
_ERROR_NOTICES = {
    Notice.NOTE_RETURNED,
    Notice.NOTE_REJECTED,
    Notice.HISTORY_UNAVAILABLE,
    Notice.MONEY_NOT_CHARGEABLE,
}
_TAKING = {State.ACCEPTING, State.CREDITING}


def sound_for(previous: SessionView, view: SessionView) -> Sound | None:
    """The sound the change from ``previous`` to ``view`` makes, if any (an error first)."""
    if view is previous:
        return None  # the same view again (the language toggle): a button press already clicked
    entered = view.state is not previous.state
    if entered and view.state in _ERROR_STATES:
        return Sound.ERROR
    # Out of service in front of a member (not at start-up or on an idle kiosk).
    if entered and view.state is State.OUT_OF_SERVICE and previous.state in _MEMBER_STATES:
        return Sound.ERROR
    if view.notice in _ERROR_NOTICES and (
        view.notice is not previous.notice or view.notice_amount != previous.notice_amount
    ):
        return Sound.ERROR
    if view.state is State.DONE and view.outcome is not previous.outcome:
        if view.outcome is CreditOutcome.CONFIRMED:
            return Sound.DONE
        if view.outcome in (
            CreditOutcome.REFUSED,
            CreditOutcome.NOTE_HELD,
            CreditOutcome.KIOSK_FAULT,
        ):
            return Sound.ERROR
    if entered and view.state is State.MOVED and view.move_result is not None:
        moved = view.move_result.outcome
        if moved is MoveOutcome.MOVED:
            return Sound.DONE
        if moved in (MoveOutcome.REFUSED, MoveOutcome.NOT_STARTED):
            return Sound.ERROR
    if view.state in _TAKING and previous.state in _TAKING and view.inserted > previous.inserted:
        return Sound.COUNTED
    return None


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
        self._sounds: dict[Sound, Any] | None = None  # kivy Sound objects, once loaded

    def __call__(self, previous: SessionView, view: SessionView) -> None:
        sound = sound_for(previous, view)
        if sound is not None:
            self.play(sound)

    def touch(self) -> None:
        self.play(Sound.TOUCH)

    def play(self, sound: Sound) -> None:
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

    def _load(self) -> dict[Sound, Any]:
        self._sounds = {}
        if not has_audio_device():  # do not let the audio library probe (and print) for one
            self._silence("no audio device (/dev/snd) or sound server")
            return self._sounds
        try:
            from kivy.core.audio import SoundLoader

            for sound in Sound:
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

"""Short sounds for what the member should notice without looking: a press, a note counted, the
charge done, something wrong. When a change of view makes a sound is the one cue rule
(:func:`kiosk.core.cues.cue_for`, the buzzer's too); :data:`SPEAKER` says which file plays it,
and :class:`Sounds` plays it. No audio (no device, offscreen tests), a sound system that fails
or hangs, or ``PAYKIOSK_SOUND=0``: silent, logged once, never an error, never a wait.

Sound never stops the screen. Kivy's SDL audio holds the GIL through every SDL call, and SDL's
PulseAudio back end, while it opens, hands the devices it finds to the window's event filter,
which needs the GIL: in the kiosk's process the first sound deadlocked the UI (and from a
thread, the whole process); a server that never answers hangs it too. So the sounds play in a
player process of their own (``python -m screens.sounds``, no window there), driven by one
thread of :class:`Sounds` with deadlines: a player that hangs or dies is killed, and the kiosk
goes on silent. The UI thread only hands a cue over."""

from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
import threading
import time
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from kiosk.core.cues import Cue, cue_for
from kiosk.core.view import SessionView

log = logging.getLogger("paykiosk.sounds")

SOUND_DIR = Path(__file__).resolve().parents[1] / "assets" / "sounds"
SOUND_ENV = "PAYKIOSK_SOUND"  # "0": no sound
OPEN_S = 10.0  # the player up and its sounds loaded (~0.1 s here; a Pi's cold start, more)
ANSWER_S = 2.0  # a cue handed to the player is playing
STALE_S = 1.0  # a cue not started by then is dropped: a late sound tells the member nothing
READY, PLAYED = "ready", "played"  # the player's answers; any other line says why it is silent


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
    """A sound card, a sound server to reach one (a desktop's PulseAudio/PipeWire), or an SDL
    audio driver chosen on purpose (``SDL_AUDIODRIVER``, e.g. ``disk`` to record what plays)."""
    if Path("/dev/snd").is_dir() or os.environ.get("PULSE_SERVER"):
        return True
    if os.environ.get("SDL_AUDIODRIVER"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return runtime is not None and (Path(runtime) / "pulse" / "native").exists()


class Silent(Exception):
    """Why the speaker goes silent (said once in the log)."""


class Sounds:
    """A :data:`screens.app.ViewObserver` that plays :func:`sound_for`, and ``touch`` for
    presses (``screens.widgets.on_press_sound``). ``start`` opens the player (off the UI
    thread), ``stop`` ends it. A cue is handed to the player's thread and never waited for; one
    cue waits at most (a newer one takes its place) and a newer sound cuts the one playing."""

    def __init__(
        self,
        enabled: bool | None = None,
        sound_dir: Path = SOUND_DIR,
        *,
        open_s: float | None = None,
        answer_s: float | None = None,
    ) -> None:
        if enabled is None:
            enabled = os.environ.get(SOUND_ENV, "1").strip() != "0"
        self.enabled = enabled
        self.sound_dir = sound_dir
        self.open_s = OPEN_S if open_s is None else open_s
        self.answer_s = ANSWER_S if answer_s is None else answer_s
        self._changed = threading.Condition()
        self._next: tuple[Wav, float] | None = None  # the cue waiting, when it came
        self._stopping = False
        self._player: Player | None = None
        self._thread: threading.Thread | None = None

    def __call__(self, previous: SessionView, view: SessionView) -> None:
        sound = sound_for(previous, view)
        if sound is not None:
            self.play(sound)

    def touch(self) -> None:
        self.play(Wav.TOUCH)

    def play(self, sound: Wav) -> None:
        """Hand ``sound`` to the player's thread (returns at once)."""
        if not self.enabled or self._thread is None:
            return
        with self._changed:
            self._next = (sound, time.monotonic())
            self._changed.notify()

    def start(self) -> None:
        """The player's thread: it opens the player and plays what it is handed."""
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="sounds", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the player (killed: it may be hung) and its thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
            player = self._player
        if player is not None:
            player.kill()  # the thread, waiting on it, sees it end and cleans up
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    @property
    def playing(self) -> bool:
        """The player is up and its sounds loaded."""
        player = self._player
        return self.enabled and player is not None and player.ready

    def _run(self) -> None:
        try:
            if not has_audio_device():  # do not let the audio library probe (and print) for one
                raise Silent("no audio device (/dev/snd) or sound server")
            with self._changed:
                if self._stopping:
                    return
                self._player = player = Player(self.sound_dir)
            player.open(self.open_s)
            while (sound := self._take()) is not None:
                player.play(sound, self.answer_s)
        except Silent as why:
            if not self._stopping:
                self._silence(str(why))
        except Exception as error:  # whatever fails here: silent all the same, never the UI's
            self._silence(f"{type(error).__name__}: {error}")
        finally:
            if self._player is not None:
                self._player.close()

    def _take(self) -> Wav | None:
        """The next cue still worth playing; None once stopping."""
        with self._changed:
            while True:
                if self._stopping:
                    return None
                if self._next is not None:
                    (sound, since), self._next = self._next, None
                    if time.monotonic() - since <= STALE_S:
                        return sound
                self._changed.wait()

    def _silence(self, why: str) -> None:
        if self.enabled:
            log.info("no sound: %s", why)
        self.enabled = False


# The player process runs :func:`main` as ``python -m screens.sounds SOUND_DIR`` would, with this
# package's folder last on its path: found from a source checkout as from an install, and
# shadowing nothing.
_ROOT = Path(__file__).resolve().parents[1]
_PLAYER = (
    "import sys; sys.path.append(sys.argv[1]); "
    "from screens.sounds import main; sys.exit(main(sys.argv[2:]))"
)


class Player:
    """The player process as :class:`Sounds`' thread sees it: each step answered within its
    deadline, else :class:`Silent` (and the process killed)."""

    def __init__(self, sound_dir: Path) -> None:
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _PLAYER, str(_ROOT), str(sound_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError as error:
            raise Silent(f"the sound player did not start: {error}") from None
        self.ready = False
        self._buffer = b""

    def open(self, within: float) -> None:
        self._expect(READY, within, "to open the sound device")
        self.ready = True

    def play(self, sound: Wav, within: float) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{sound.value}\n".encode())
            self.process.stdin.flush()
        except OSError:  # a broken pipe: it ended
            raise Silent(f"the sound player ended (exit {self.process.poll()})") from None
        self._expect(PLAYED, within, f"to play {sound.value}.wav")

    def kill(self) -> None:
        """End the process (from any thread; it may be hung in the sound system)."""
        if self.process.poll() is None:
            self.process.kill()

    def close(self) -> None:
        """End the process and free its pipes (the thread that reads them)."""
        self.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def _expect(self, answer: str, within: float, what: str) -> None:
        line = self._line(within, what)
        if line != answer:
            raise Silent(line)

    def _line(self, within: float, what: str) -> str:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + within
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.kill()
                raise Silent(f"the sound system took over {within:g} s {what} (hung?)")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise Silent(f"the sound player ended (exit {self.process.wait()})")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode(errors="replace").strip()


def serve(sound_dir: Path, commands: IO[str], answers: IO[str]) -> int:
    """The player process: load the WAVs, answer ``ready`` (or why not), then play each sound
    named on ``commands`` and answer ``played``; a newer sound cuts the one playing."""

    def say(line: str) -> None:
        answers.write(line + "\n")
        answers.flush()

    try:
        from kivy.core.audio import SoundLoader

        sounds: dict[Wav, Any] = {}
        for wav in Wav:
            loaded = SoundLoader.load(str(sound_dir / f"{wav.value}.wav"))
            # Without a device Kivy may still give a Sound object, of no length.
            if loaded is None or not loaded.length:
                say(f"{wav.value}.wav could not be loaded (no audio device?)")
                return 1
            sounds[wav] = loaded
    except Exception as error:
        say(f"{type(error).__name__}: {error}")
        return 1
    say(READY)
    playing: Any = None
    for line in commands:
        if playing is not None:
            playing.stop()
        playing = sounds[Wav(line.strip())]
        playing.play()
        say(PLAYED)
    return 0


def main(argv: list[str]) -> int:
    """The player process (``python -m screens.sounds SOUND_DIR``; :class:`Player` starts it)."""
    # Kivy: no command line of its own, no config or log files, warnings to stderr only.
    os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1", KIVY_LOG_MODE="PYTHON")
    # The answers get stdout to themselves: whatever a library prints goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return serve(Path(argv[0]), sys.stdin, answers)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

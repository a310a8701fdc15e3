"""The speaker: short sounds for what the member should notice without looking (a press, a note
counted, the charge done, something wrong) and the voice's prompts (:mod:`screens.voice`). When a
change of view makes a sound is the one cue rule (:func:`kiosk.core.cues.cue_for`, the buzzer's
too); :data:`SPEAKER` says which file plays it; what is said is :func:`screens.voice.prompt_for`;
:class:`Sounds` hands both over as one utterance (the sound, then the sentences). No audio (no
device, offscreen tests), a sound system that fails or hangs, or ``PAYKIOSK_SOUND=0``: silent,
logged once, never an error, never a wait. No synthesizer: the sounds without the voice, said
once too.

Sound never stops the screen. Kivy's SDL audio holds the GIL through every SDL call, and SDL's
PulseAudio back end, while it opens, hands the devices it finds to the window's event filter,
which needs the GIL: in the kiosk's process the first sound deadlocked the UI (and from a
thread, the whole process); a server that never answers hangs it too. So the sounds play and
the sentences are synthesized in a player process of their own (``python -m screens.sounds``, no
window there), driven by one thread of :class:`Sounds` with deadlines: a player that hangs or
dies is killed, and the kiosk goes on silent. The UI thread only hands an utterance over. One
utterance at a time: a newer one cuts the one being said (never two voices at once)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.core.cues import Cue, cue_for
from kiosk.core.view import SessionView
from screens.voice import INSERT, WARN_S, Prompt, prompt_for, warning_for

log = logging.getLogger("paykiosk.sounds")

SOUND_DIR = Path(__file__).resolve().parents[1] / "assets" / "sounds"
SOUND_ENV = "PAYKIOSK_SOUND"  # "0": no sound
OPEN_S = 10.0  # the player up and its sounds loaded (~0.1 s here; a Pi's cold start, more)
ANSWER_S = 3.0  # an utterance handed to the player is playing (its first sentence synthesized)
STALE_S = 1.0  # an utterance not started by then is dropped: a late sound tells nothing
GAP_S = 0.25  # silence between a prompt's sentences
READY, PLAYED = "ready", "played"  # the player's answers; any other line says why it is silent
NO_VOICE = "no voice:"  # begins an answer's remark: the sentences were not said (why)


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


def sound_enabled() -> bool:
    """Sound is not switched off for this process (``PAYKIOSK_SOUND=0``)."""
    return os.environ.get(SOUND_ENV, "1").strip() != "0"


def audio_library_missing() -> str | None:
    """Why Kivy could play no sound file here, or None: none of its audio providers that play
    WAV files is installed. Looked up on disk, without importing Kivy's audio (which picks a
    provider, and may open the sound system, when imported)."""
    kivy = importlib.util.find_spec("kivy")
    if kivy is None or kivy.origin is None:
        return "Kivy is not installed"
    root = Path(kivy.origin).parent
    built = [
        *(root / "core" / "audio").glob("audio_sdl2.*"),  # SDL2_mixer, in Kivy's own wheels
        *(root / "lib" / "gstplayer").glob("_gstplayer.*"),  # GStreamer
    ]
    if built or importlib.util.find_spec("ffpyplayer") is not None:
        return None
    return f"Kivy at {root} has no audio provider (its SDL2 audio, audio_sdl2, is missing)"


@dataclass(frozen=True)
class Utterance:
    """What the speaker does for one change: a sound, then sentences in ``lang``; ``pause_s``:
    only if nothing newer came within that long."""

    sound: Wav | None = None
    lang: str = ""
    sentences: tuple[str, ...] = ()
    pause_s: float = 0.0

    def command(self) -> str:
        """The player's command line: ``say`` and tab-separated fields (``-``: none)."""
        words = (s.replace("\t", " ").replace("\n", " ") for s in self.sentences)
        sound = self.sound.value if self.sound is not None else "-"
        return "\t".join(("say", sound, self.lang or "-", *words))


class Silent(Exception):
    """Why the speaker goes silent (said once in the log)."""


class Sounds:
    """A :data:`screens.app.ViewObserver` that plays :func:`sound_for` and says
    :func:`screens.voice.prompt_for` in the member's language (``texts``: the app's; None: no
    voice), and ``touch`` for presses (``screens.widgets.on_press_sound``). ``start`` opens the
    player (off the UI thread), ``stop`` ends it. An utterance is handed to the player's thread
    and never waited for; one waits at most (a newer one takes its place), and a newer one cuts
    the one playing. ``voice`` and ``volume`` (0–100) may change at any time (staff)."""

    def __init__(
        self,
        enabled: bool | None = None,
        sound_dir: Path = SOUND_DIR,
        *,
        texts: Any = None,
        voice: bool = True,
        volume: int = 100,
        cache_dir: Path | None = None,
        open_s: float | None = None,
        answer_s: float | None = None,
    ) -> None:
        if enabled is None:
            enabled = sound_enabled()
        self.enabled = enabled
        self.sound_dir = sound_dir
        self.texts = texts  # screens.i18n.Texts: the language and its catalog, now
        self.voice = voice and texts is not None and cache_dir is not None
        self.volume = volume
        self.cache_dir = cache_dir
        self.open_s = OPEN_S if open_s is None else open_s
        self.answer_s = ANSWER_S if answer_s is None else answer_s
        self._changed = threading.Condition()
        self._next: tuple[Utterance, float] | None = None  # waiting, and when it is due
        self._warning: tuple[Utterance, float] | None = None  # the time-out warning, due then
        self._stopping = False
        self._player: Player | None = None
        self._thread: threading.Thread | None = None
        self._said_why: set[str] = set()
        self.said: list[Utterance] = []  # every utterance handed to the player, oldest first

    def __call__(self, previous: SessionView, view: SessionView) -> None:
        sound = sound_for(previous, view) if view is not previous else None
        prompt = prompt_for(previous, view) if self.voice else None
        with self._changed:
            self._warning = None
            warning = warning_for(view) if self.voice else None
            if warning is not None and view.deadline is not None:
                # the deadline is time.monotonic()'s, as every time here
                self._warning = (self._utterance(None, warning), view.deadline - WARN_S)
                self._changed.notify()
        if sound is not None or prompt is not None:
            self._hand(self._utterance(sound, prompt))

    def touch(self) -> None:
        self._hand(Utterance(Wav.TOUCH))

    def play(self, sound: Wav) -> None:
        """Hand ``sound`` alone to the player's thread (returns at once)."""
        self._hand(Utterance(sound))

    def hush(self) -> None:
        """Stop what is being said (and anything waiting): nothing to say any more."""
        with self._changed:
            self._warning = None
        self._hand(Utterance())

    def sample(self) -> None:
        """A prompt at the current voice and volume (staff changed them): the touch sound and,
        with the voice on, "please insert your notes"."""
        prompt = Prompt((INSERT,)) if self.voice else None
        self._hand(self._utterance(Wav.TOUCH, prompt))

    def set_voice(self, on: bool) -> None:
        self.voice = on and self.texts is not None and self.cache_dir is not None
        if not self.voice:
            with self._changed:
                self._warning = None

    def set_volume(self, percent: int) -> None:
        with self._changed:
            self.volume = max(0, min(100, percent))
            self._changed.notify()

    def _utterance(self, sound: Wav | None, prompt: Prompt | None) -> Utterance:
        if prompt is None or self.texts is None:
            return Utterance(sound)
        lang = self.texts.lang
        return Utterance(sound, lang, prompt.text(self.texts, lang), prompt.pause_s)

    def _hand(self, utterance: Utterance) -> None:
        if not self.enabled or self._thread is None:
            return
        with self._changed:
            self._next = (utterance, time.monotonic() + utterance.pause_s)
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
                self._player = player = Player(self.sound_dir, self.cache_dir)
            remark = player.open(self.open_s)
            if remark:
                self._remark(remark)
            volume = 100
            while (utterance := self._take()) is not None:
                if self.volume != volume:
                    volume = self.volume
                    player.set_volume(volume)
                if utterance is _VOLUME:
                    continue
                self.said.append(utterance)
                remark = player.say(utterance, self.answer_s)
                if remark:
                    self._remark(remark)
        except Silent as why:
            if not self._stopping:
                self._silence(str(why))
        except Exception as error:  # whatever fails here: silent all the same, never the UI's
            self._silence(f"{type(error).__name__}: {error}")
        finally:
            if self._player is not None:
                self._player.close()

    def _take(self) -> Utterance | None:
        """The next utterance due and still worth saying (or :data:`_VOLUME`); None once
        stopping."""
        with self._changed:
            volume = self.volume
            while True:
                if self._stopping:
                    return None
                if self.volume != volume:
                    return _VOLUME
                now = time.monotonic()
                due: list[float] = []
                if self._next is not None:
                    utterance, at = self._next
                    if at <= now:
                        self._next = None
                        if now - at <= STALE_S:
                            return utterance
                        continue
                    due.append(at)
                if self._warning is not None:
                    warning, at = self._warning
                    if at <= now:
                        self._warning = None
                        if now - at <= STALE_S:
                            return warning
                        continue
                    due.append(at)
                self._changed.wait(min(due) - now if due else None)

    def _remark(self, why: str) -> None:
        if why not in self._said_why:
            self._said_why.add(why)
            log.warning("%s", why)

    def _silence(self, why: str) -> None:
        if self.enabled:
            log.info("no sound: %s", why)
        self.enabled = False


_VOLUME = Utterance()  # what _take returns when only the volume changed


# The player process runs :func:`main` as ``python -m screens.sounds SOUND_DIR CACHE_DIR`` would,
# with this package's folder last on its path: found from a source checkout as from an install,
# and shadowing nothing.
_ROOT = Path(__file__).resolve().parents[1]
_PLAYER = (
    "import sys; sys.path.append(sys.argv[1]); "
    "from screens.sounds import main; sys.exit(main(sys.argv[2:]))"
)


class Player:
    """The player process as :class:`Sounds`' thread sees it: each step answered within its
    deadline, else :class:`Silent` (and the process killed)."""

    def __init__(self, sound_dir: Path, cache_dir: Path | None) -> None:
        cache = str(cache_dir) if cache_dir is not None else "-"
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _PLAYER, str(_ROOT), str(sound_dir), cache],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError as error:
            raise Silent(f"the sound player did not start: {error}") from None
        self.ready = False
        self._buffer = b""

    def open(self, within: float) -> str:
        """Wait for the player to be ready; returns its remark (why there is no voice) or ""."""
        remark = self._expect(READY, within, "to open the sound device")
        self.ready = True
        return remark

    def say(self, utterance: Utterance, within: float) -> str:
        self._send(utterance.command())
        return self._expect(PLAYED, within, f"to play {utterance.sound or 'a prompt'}")

    def set_volume(self, percent: int) -> None:
        self._send(f"volume\t{percent}")

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

    def _send(self, line: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{line}\n".encode())
            self.process.stdin.flush()
        except OSError:  # a broken pipe: it ended
            raise Silent(f"the sound player ended (exit {self.process.poll()})") from None

    def _expect(self, answer: str, within: float, what: str) -> str:
        line = self._line(within, what)
        word, _, remark = line.partition("\t")
        if word != answer:
            raise Silent(line)
        return remark

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


# ---- the player process ---------------------------------------------------------------------
class _Speaker:
    """The player process's side: the sounds loaded, the sentences said one after another (the
    next synthesized while one plays), a newer utterance cutting the current one."""

    def __init__(self, sounds: dict[Wav, Any], speech: Any, load: Callable[[str], Any]) -> None:
        self.sounds, self.speech, self.load = sounds, speech, load
        self.volume = 1.0
        self.playing: Any = None
        self.queue: list[tuple[str, str]] = []  # (lang, sentence) still to say
        self.next_at = 0.0
        self.loaded: dict[Path, Any] = {}
        self.failed: str = ""

    def say(self, fields: list[str]) -> str:
        """Start an utterance (``say`` command's fields); returns a remark or ""."""
        self.stop()
        sound, lang, sentences = fields[0], fields[1], fields[2:]
        self.failed = ""
        if lang != "-" and sentences:
            if self.speech is None:
                self.failed = f"{NO_VOICE} no cache folder for the voice"
            else:
                self.failed = self.speech.missing(lang) or ""
                self.failed = f"{NO_VOICE} {self.failed}" if self.failed else ""
            if not self.failed:
                self.queue = [(lang, s) for s in sentences]
        self.next_at = time.monotonic()
        if sound != "-":
            self.next_at += self._play(self.sounds[Wav(sound)]) + GAP_S / 2
        self.tick()
        return self.failed

    def tick(self) -> None:
        """Say the next sentence if it is due; synthesize the one after while it plays."""
        if not self.queue or time.monotonic() < self.next_at:
            return
        lang, sentence = self.queue.pop(0)
        sound = self._sentence(lang, sentence)
        if sound is not None:
            self.next_at = time.monotonic() + self._play(sound) + GAP_S
        if self.queue:
            self._sentence(*self.queue[0])  # ready before it is due

    def due_in(self) -> float | None:
        return max(0.0, self.next_at - time.monotonic()) if self.queue else None

    def stop(self) -> None:
        self.queue = []
        if self.playing is not None:
            self.playing.stop()
            self.playing = None

    def _play(self, sound: Any) -> float:
        if self.playing is not None:
            self.playing.stop()
        sound.volume = self.volume
        sound.play()
        self.playing = sound
        return float(sound.length or 0.0)

    def _sentence(self, lang: str, sentence: str) -> Any:
        from screens.speech import SpeechError

        for _attempt in range(2):
            try:
                path = self.speech.wav(lang, sentence)
            except SpeechError as error:
                self.failed = f"{NO_VOICE} {error}"
                self.queue = []
                return None
            sound = self.loaded.get(path)
            if sound is None:
                sound = self.load(str(path))
                if sound is None or not sound.length:  # a damaged file (a power cut?): again
                    path.unlink(missing_ok=True)
                    continue
                if len(self.loaded) > 64:
                    self.loaded.pop(next(iter(self.loaded)))
                self.loaded[path] = sound
            return sound
        self.failed = f"{NO_VOICE} {sentence!r} could not be loaded"
        return None


def _fixed_sentences() -> Iterator[tuple[str, str]]:
    """The voice's fixed sentences in every language (what the cache renders ahead)."""
    from kiosk.core.view import LANGUAGES
    from screens.i18n import Texts
    from screens.voice import FIXED, Prompt

    for lang in LANGUAGES:
        texts = Texts(lang)
        for sentence in Prompt(FIXED).text(texts, lang):
            yield lang, sentence


def serve(sound_dir: Path, cache_dir: Path | None, commands: int, answers: Any) -> int:
    """The player process: load the WAVs, answer ``ready`` (or why not), then carry out each
    command read from the fd ``commands`` (``say`` → ``played``, ``volume``); while idle, the
    voice's fixed sentences are rendered into the cache on a thread of their own."""

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
    speech = None
    remark = ""
    if cache_dir is not None:
        from screens.speech import Speech

        speech = Speech(cache_dir)
        missing = {why for lang in ("ja", "en") if (why := Speech.missing(lang))}
        remark = f"{NO_VOICE} {'; '.join(sorted(missing))}" if missing else ""
        threading.Thread(target=_prepare, args=(speech,), name="prepare", daemon=True).start()
    say(f"{READY}\t{remark}" if remark else READY)
    speaker = _Speaker(sounds, speech, SoundLoader.load)
    buffer = b""
    while True:
        ready = select.select([commands], [], [], speaker.due_in())[0]
        if not ready:
            speaker.tick()
            continue
        chunk = os.read(commands, 4096)
        if not chunk:
            return 0
        buffer += chunk
        while b"\n" in buffer:
            raw, _, buffer = buffer.partition(b"\n")
            fields = raw.decode(errors="replace").split("\t")
            if fields[0] == "say":
                why = speaker.say(fields[1:])
                say(f"{PLAYED}\t{why}" if why else PLAYED)
            elif fields[0] == "volume":
                speaker.volume = max(0, min(100, int(fields[1]))) / 100


def _prepare(speech: Any) -> None:
    """Render the fixed sentences not cached yet (a first start, a changed catalog), slowly:
    below the player's own priority, one at a time."""
    from screens.speech import SpeechError

    with contextlib.suppress(OSError):
        os.nice(10)  # the thread's own (Linux: per thread), not the player's
    try:
        for _path in speech.prepare(_fixed_sentences()):
            pass
    except (SpeechError, OSError) as error:
        print(f"voice: the fixed sentences were not all rendered: {error}", file=sys.stderr)


def main(argv: list[str]) -> int:
    """The player process (``python -m screens.sounds SOUND_DIR CACHE_DIR``; :class:`Player`
    starts it; ``-`` for no cache: no voice)."""
    # Kivy: no command line of its own, no config or log files, warnings to stderr only.
    os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1", KIVY_LOG_MODE="PYTHON")
    # The answers get stdout to themselves: whatever a library prints goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    cache = None if len(argv) < 2 or argv[1] == "-" else Path(argv[1])
    return serve(Path(argv[0]), cache, sys.stdin.fileno(), answers)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Speech: a sentence → a WAV file, offline, with the machine's own synthesizers, cached.

- Japanese: Open JTalk (Debian's ``open-jtalk`` 1.11, its dictionary
  ``open-jtalk-mecab-naist-jdic``) with the HTS voice "Mei" in ``assets/voice/`` (CC BY 3.0,
  Nagoya Institute of Technology: credited on the attract screen and in ``assets/README.md``).
- English: eSpeak NG (Debian's ``espeak-ng``).

Both are programs, run once per sentence (tens of ms here); why these and not a Python binding:
docs/voice.md. Runs in the sound player process only (:mod:`screens.sounds`), never on the UI's
thread. A sentence's WAV is kept in the cache folder under a name made from the synthesizer,
its settings, the language and the text: a changed catalog text is a new file, and
:meth:`Speech.prepare` removes the fixed sentences no catalog has any more."""

from __future__ import annotations

import array
import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

VOICE_DIR = Path(__file__).resolve().parents[1] / "assets" / "voice"
JA_VOICE = VOICE_DIR / "mei_normal.htsvoice"
JA_DICTIONARY = Path("/var/lib/mecab/dic/open-jtalk/naist-jdic")  # Debian's naist-jdic
RATE = 22050  # both synthesizers' output, the speaker's sounds' rate too
SYNTH_S = 10.0  # one sentence synthesized (~0.1 s here; a Pi's first, after a cold boot, more)
KEPT_SAID = 200  # sentences with amounts kept in the cache (the newest)


class SpeechError(RuntimeError):
    """A sentence could not be synthesized (the reason, for the log)."""


@dataclass(frozen=True)
class Synthesizer:
    """One language's program and its settings (the cache's names depend on them)."""

    lang: str
    program: str
    args: tuple[str, ...]  # before the output file's option
    text_on_stdin: bool

    def missing(self) -> str | None:
        """Why this synthesizer cannot run here, or None."""
        if shutil.which(self.program) is None:
            return f"{self.program} is not installed"
        if self.lang == "ja" and not JA_DICTIONARY.is_dir():
            return f"Open JTalk's dictionary {JA_DICTIONARY} is missing"
        if self.lang == "ja" and not JA_VOICE.is_file():
            return f"the voice {JA_VOICE} is missing"
        return None

    def key(self, text: str) -> str:
        settings = "\0".join((self.lang, self.program, *self.args, text))
        return hashlib.sha256(settings.encode()).hexdigest()[:32]

    def render(self, text: str, out: Path) -> None:
        if self.text_on_stdin:
            command = [self.program, *self.args, "-ow", str(out)]
        else:
            command = [self.program, *self.args, "-w", str(out), text]
        try:
            done = subprocess.run(
                command,
                input=text.encode() if self.text_on_stdin else None,
                capture_output=True,
                timeout=SYNTH_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SpeechError(f"{self.program}: {error}") from None
        if done.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
            said = done.stderr.decode(errors="replace").strip()[-200:]
            raise SpeechError(f"{self.program} exited {done.returncode}: {said}")


SYNTHESIZERS = {
    "ja": Synthesizer(
        "ja",
        "open_jtalk",
        # -p: the frame period at 22,050 Hz (the voice's 240 at 48 kHz, ~5 ms)
        ("-x", str(JA_DICTIONARY), "-m", str(JA_VOICE), "-s", str(RATE), "-p", "110"),
        text_on_stdin=True,
    ),
    "en": Synthesizer("en", "espeak-ng", ("-v", "en-us", "-s", "150"), text_on_stdin=False),
}


class Speech:
    """Sentences as WAV files in ``cache_dir``: ``fixed/`` for the catalogs' fixed sentences
    (rendered ahead), ``said/`` for those with amounts (rendered when said, the newest kept)."""

    def __init__(self, cache_dir: Path) -> None:
        self.fixed = cache_dir / "fixed"
        self.said = cache_dir / "said"
        for folder in (self.fixed, self.said):
            folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def missing(lang: str) -> str | None:
        synthesizer = SYNTHESIZERS.get(lang)
        return f"no voice for {lang!r}" if synthesizer is None else synthesizer.missing()

    def cached(self, lang: str, text: str) -> Path | None:
        name = f"{SYNTHESIZERS[lang].key(text)}.wav"
        for folder in (self.fixed, self.said):
            if (folder / name).is_file():
                return folder / name
        return None

    def wav(self, lang: str, text: str) -> Path:
        """The sentence's WAV, synthesized now unless cached (:class:`SpeechError`)."""
        return self.cached(lang, text) or self._render(lang, text, self.said)

    def prepare(self, sentences: Iterable[tuple[str, str]]) -> Iterable[Path]:
        """Render each fixed ``(lang, text)`` not cached yet, one per step (the caller may stop
        between steps); then remove fixed files no sentence names and the oldest said ones."""
        keep: set[str] = set()
        for lang, text in sentences:
            if lang not in SYNTHESIZERS or self.missing(lang):
                continue
            name = f"{SYNTHESIZERS[lang].key(text)}.wav"
            keep.add(name)
            if not (self.fixed / name).is_file():
                yield self._render(lang, text, self.fixed)
        for stale in self.fixed.glob("*.wav"):
            if stale.name not in keep and not stale.name.startswith("tmp"):
                stale.unlink(missing_ok=True)
        # renders cut short (a crash, a power cut); not one the player is making just now
        cut_short = time.time() - SYNTH_S * 6
        for folder in (self.fixed, self.said):
            for left in folder.glob("tmp*.wav"):
                with contextlib.suppress(FileNotFoundError):
                    if left.stat().st_mtime < cut_short:
                        left.unlink()
        said = sorted(self.said.glob("*.wav"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in said[KEPT_SAID:]:
            old.unlink(missing_ok=True)

    def _render(self, lang: str, text: str, folder: Path) -> Path:
        synthesizer = SYNTHESIZERS[lang]
        target = folder / f"{synthesizer.key(text)}.wav"
        handle, temporary = tempfile.mkstemp(suffix=".wav", dir=folder)
        os.close(handle)
        try:
            synthesizer.render(text, Path(temporary))
            _trim(Path(temporary))
            # on the card before its name: after a power cut the name is there with the whole
            # WAV or not at all (a half-written file under the name would be served for good)
            with open(temporary, "rb") as written:
                os.fsync(written.fileno())
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        return target


QUIET = 100  # a sample below this (of 32,767) is silence
MARGIN_S = 0.02  # kept of the silence before and after the voice


def _trim(path: Path) -> None:
    """Cut the synthesizer's silence before and after the voice: the first word sooner after
    the view changes, and no long pause between a prompt's sentences."""
    with wave.open(str(path)) as wav:
        params = wav.getparams()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    if params.nchannels != 1 or params.sampwidth != 2:
        return  # not what the synthesizers write: left as it is
    first = next((i for i, s in enumerate(samples) if abs(s) > QUIET), None)
    if first is None:
        return  # nothing but silence: said as it is (a failure shows elsewhere)
    last = len(samples) - next(i for i, s in enumerate(reversed(samples)) if abs(s) > QUIET)
    margin = int(MARGIN_S * params.framerate)
    kept = samples[max(0, first - margin) : min(len(samples), last + margin)]
    with wave.open(str(path), "wb") as wav:
        wav.setparams(params)
        wav.writeframes(kept.tobytes())

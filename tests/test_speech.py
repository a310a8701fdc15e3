"""Speech (screens/speech.py): the machine's own synthesizers render a sentence to a WAV, once;
the cache follows the catalogs' texts and survives a damaged file."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from screens.speech import RATE, SYNTHESIZERS, Speech, SpeechError


def duration(path: Path) -> float:
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        return wav.getnframes() / wav.getframerate()


@pytest.mark.parametrize(
    ("lang", "text"),
    [("ja", "合計六千円です。"), ("en", "6,000 yen in total.")],
)
def test_a_sentence_is_rendered_once_and_then_taken_from_the_cache(
    tmp_path: Path, lang: str, text: str
) -> None:
    assert Speech.missing(lang) is None, "the README's apt line installs the synthesizers"
    speech = Speech(tmp_path)
    assert speech.cached(lang, text) is None
    first = speech.wav(lang, text)
    assert 0.7 < duration(first) < 4.0  # a short sentence, spoken
    made = first.stat().st_mtime_ns
    again = speech.wav(lang, text)
    assert again == first and again.stat().st_mtime_ns == made  # not rendered again
    other = speech.wav(lang, text.replace("6,000", "7,000").replace("六千", "七千"))
    assert other != first


def test_the_fixed_sentences_follow_the_catalog(tmp_path: Path) -> None:
    speech = Speech(tmp_path)
    first = [("ja", "お札を入れてください。"), ("en", "Please insert your notes.")]
    made = list(speech.prepare(first))
    assert len(made) == 2 and all(p.parent == speech.fixed for p in made)
    assert not list(speech.prepare(first))  # nothing to do the second time
    # the Japanese text changed in the catalog: the new one rendered, the old one gone
    changed = [("ja", "お札を一枚ずつ入れてください。"), ("en", "Please insert your notes.")]
    made = list(speech.prepare(changed))
    assert len(made) == 1
    assert speech.cached("ja", "お札を入れてください。") is None
    assert {p.name for p in speech.fixed.glob("*.wav")} == {
        p.name for p in (speech.cached(lang, text) for lang, text in changed) if p
    }
    assert not list(speech.fixed.glob("tmp*"))  # no half-written file left


def test_a_synthesizer_that_fails_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import screens.speech

    broken = replace(SYNTHESIZERS["en"], args=("--no-such-option",))
    monkeypatch.setitem(screens.speech.SYNTHESIZERS, "en", broken)
    with pytest.raises(SpeechError, match="espeak-ng"):
        Speech(tmp_path).wav("en", "Hello.")
    assert not list((tmp_path / "said").iterdir())  # nothing half-made kept
    missing = replace(SYNTHESIZERS["ja"], program="no-such-open-jtalk")
    assert "not installed" in (missing.missing() or "")


def test_a_render_cut_short_is_cleaned_up_but_not_one_being_made(tmp_path: Path) -> None:
    import os
    import time

    speech = Speech(tmp_path)
    old, fresh = speech.said / "tmpold.wav", speech.fixed / "tmpnew.wav"
    for left in (old, fresh):
        left.write_bytes(b"RIFF")  # what a power cut leaves of a render
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    list(speech.prepare([("en", "Thank you.")]))
    assert not old.exists()  # an hour old: cut short, removed
    assert fresh.exists()  # the player may be writing it now

"""Voice latency: a change of view → the first sample of what it says, played.

    python -m bench.voice_latency [--count 120] [--lang ja]

In this process: the kiosk's speaker (:class:`screens.sounds.Sounds`, as the touch UI makes it)
with its real player process, Open JTalk / eSpeak NG and a voice cache in a new folder; SDL's
``disk`` audio driver writes every sample the player plays to a file, which this process watches
(every 1 ms). Once the player has rendered its fixed sentences (what a kiosk's first start
does, timed too), each trial hands the speaker one change of view — the observer call the app
makes on the UI thread — and times until the first non-silent sample is in the file; then hushes
it and waits for silence. The changes cycle through a charge's: the account shown, the money
chosen, notes counted (a sound, then the total), a note handed back, the result (a sound, then
the money charged and the balance: synthesized then), an error screen, and the result said
again after the language toggle (no sound first: the sentence with the money and the amount is
synthesized before anything is heard). Amounts differ every trial, so the sentences with amounts
are synthesized each time.

The disk driver writes one mixer buffer at a time (1,024 frames at 44.1 kHz, 23 ms): the figure
includes up to that much. Goal: p50 < 250 ms, p99 < 600 ms on a full core of this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.stats import describe_ms, percentile
from kiosk.core.events import CreditOutcome, Notice
from kiosk.core.session import State
from kiosk.core.view import SessionView

LEVEL = 200  # a sample louder than this is sound, not silence


def changes(number: int) -> list[tuple[str, SessionView, SessionView]]:
    """One round of view changes, amounts made from ``number`` (new sentences each round)."""
    inserted = 1_000 * (number % 40 + 1)
    account = SessionView(State.ACCOUNT)
    accepting = SessionView(State.ACCEPTING, bucket="base", remaining=90_000, largest_note=10_000)
    counted = replace(accepting, inserted=inserted)
    more = replace(counted, inserted=inserted + 1_000)
    back = replace(more, notice=Notice.NOTE_RETURNED, notice_amount=5_000)
    crediting = replace(more, state=State.CREDITING)
    balance = 10_000 + 37 * number
    done = replace(
        crediting, state=State.DONE, outcome=CreditOutcome.CONFIRMED, new_balance=balance
    )
    again = replace(done, new_balance=balance + 1)  # the same screen said again, toggled
    return [
        ("result said again (synthesized first)", again, again),
        ("account shown (fixed sentence)", SessionView(State.LOOKING_UP), account),
        ("money chosen (fixed)", SessionView(State.CHOOSE_MONEY), accepting),
        ("note counted (sound, then the total)", counted, more),
        ("note handed back (sound, then the amount)", more, back),
        ("charged (sound, then money and balance)", crediting, done),
        (
            "card not registered (sound, then fixed)",
            SessionView(State.LOOKING_UP),
            SessionView(State.UNKNOWN_CARD),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=120, help="view changes timed")
    parser.add_argument("--lang", default="ja", choices=("ja", "en"))
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="pk-voice-"))
    played = folder / "speaker.raw"
    os.environ.update(SDL_AUDIODRIVER="disk", SDL_DISKAUDIOFILE=str(played))
    os.environ.pop("PULSE_SERVER", None)

    from screens.i18n import Texts
    from screens.sounds import Sounds
    from screens.speech import Speech
    from screens.voice import FIXED

    texts = Texts(args.lang)
    cache = folder / "cache"
    sounds = Sounds(enabled=True, texts=texts, cache_dir=cache, volume=80)
    started = time.perf_counter()
    sounds.start()
    while not sounds.playing:
        if not sounds.enabled:
            print("no sound: the player did not open", file=sys.stderr)
            return 1
        time.sleep(0.005)
    opened = time.perf_counter() - started
    fixed = len(FIXED) * 2
    while len(list((cache / "fixed").glob("*.wav"))) < fixed:
        time.sleep(0.05)
    prepared = time.perf_counter() - started
    missing = [lang for lang in ("ja", "en") if Speech.missing(lang)]
    print(
        f"player open {opened:.2f} s; {fixed} fixed sentences rendered "
        f"{prepared:.2f} s after start{'; missing: ' + ', '.join(missing) if missing else ''}"
    )

    watched = open(played, "rb")  # noqa: SIM115 (read as it grows, closed at the end)
    watched.seek(0, os.SEEK_END)

    def first_sound(since: float, timeout: float = 5.0) -> float | None:
        """Seconds from ``since`` until a loud sample is written; None if none by timeout."""
        while time.perf_counter() - since < timeout:
            chunk = watched.read()
            if chunk:
                samples = memoryview(chunk[: len(chunk) // 2 * 2]).cast("h")
                if any(abs(s) > LEVEL for s in samples):
                    return time.perf_counter() - since
            time.sleep(0.001)
        return None

    def silence(seconds: float = 0.15) -> None:
        quiet_since = time.perf_counter()
        while time.perf_counter() - quiet_since < seconds:
            chunk = watched.read()
            if chunk and any(
                abs(s) > LEVEL for s in memoryview(chunk[: len(chunk) // 2 * 2]).cast("h")
            ):
                quiet_since = time.perf_counter()
            time.sleep(0.005)

    by_kind: dict[str, list[float]] = {}
    every: list[float] = []
    lost = 0
    trial = 0
    try:
        silence(0.3)
        while trial < args.count:
            for kind, before, after in changes(trial):
                if trial >= args.count:
                    break
                trial += 1
                since = time.perf_counter()
                sounds(before, after)  # what the app does on its UI thread
                took = first_sound(since)
                if took is None:
                    lost += 1
                else:
                    by_kind.setdefault(kind, []).append(took)
                    every.append(took)
                time.sleep(0.1)  # a little of it heard, as a member would
                sounds.hush()
                silence()
    finally:
        sounds.stop()
        watched.close()
    print(f"view change → first sample played ({args.lang}), {len(every)} changes, {lost} unheard:")
    print(f"  all                                          {describe_ms(every)}")
    for kind, values in by_kind.items():
        print(f"  {kind:<44} p50 {statistics.median(values) * 1000:6.1f} ms")
    p50, p99 = statistics.median(every) * 1000, percentile(every, 99) * 1000
    ok = p50 < 250 and p99 < 600 and not lost
    print(
        f"goal p50 < 250 ms, p99 < 600 ms: {'met' if ok else 'NOT met'} "
        f"(p50 {p50:.1f}, p99 {p99:.1f})"
    )
    return 1 if lost else 0  # a figure, not a verdict: only a prompt never heard fails


if __name__ == "__main__":
    raise SystemExit(main())

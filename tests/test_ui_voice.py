"""The kiosk speaks, tested as heard: a charge through the touch UI on the production path
(tests/support/ui.py) with SDL's ``disk`` audio driver, which writes every sample the sound
player process plays to a file. Each prompt the member should hear is found in that recording,
in order, by matching the samples of the sentence the kiosk rendered — not by asking the kiosk
what it meant to say."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.session import State
from screens.speech import Speech
from tests.support.sound import DiskCapture, find_clip, read_wav
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.timeout(240)
MATCH = 0.9  # normalized correlation of a sentence found in the recording (another: < 0.5)


def test_a_member_who_never_looks_hears_what_to_do_and_what_happened(
    tmp_path: Path,
    sim: SimulatorProcess,
    wallet: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recording = tmp_path / "speaker.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(recording))
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    capture = DiskCapture(recording)
    user = wallet.member({"base": 3_200})
    card = wallet.card_of(user)

    async def said_and_done(before: int) -> None:
        """Until the prompt started after ``before`` samples has been said to its end."""
        await ui.until(lambda: capture.loud_since(before), "a prompt heard", 15)
        await ui.until(lambda: capture.quiet_tail(1.2), "the prompt said to its end", 30)

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        assert ui.front is not None and ui.front.sounds is not None
        sounds = ui.front.sounds
        await ui.until(lambda: sounds.playing or not sounds.enabled, "the player open", 20)
        assert sounds.playing and sounds.voice
        said.append(sounds.said)
        mark = len(capture.samples())
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await said_and_done(mark)
        for press, state in (("チャージ", State.CHOOSE_MONEY), ("ベース", State.ACCEPTING)):
            mark = len(capture.samples())
            await ui.press(press)
            await ui.wait_shown(state)
            await said_and_done(mark)
        for note, total in ((1_000, "¥1,000"), (5_000, "¥6,000")):
            mark = len(capture.samples())
            await ui.feed(note)
            await ui.wait_label(total)
            await said_and_done(mark)
        mark = len(capture.samples())
        await ui.press("完了")
        await ui.wait_shown(State.DONE, timeout=30)
        await said_and_done(mark)

    ui = KioskUI(tmp_path, sim, wallet)
    said: list[object] = []  # what the kiosk meant to say: for the failure's message only
    with caplog.at_level(logging.INFO, logger="paykiosk.sounds"):
        assert ui.run(scenario, "voice", timeout=180) == 0
    assert not [r for r in caplog.records if r.name == "paykiosk.sounds"], caplog.text
    balance = wallet.balance(user, "base")
    assert balance == 9_200
    expected = [
        "現金でチャージするときは、チャージを押してください。",
        "チャージするマネーを選んでください。",
        "お札を入れてください。",
        "合計千円です。",
        "続けてお札を入れるか、終わったら完了を押してください。",
        "合計六千円です。",
        "ベースに六千円チャージしました。",
        "残高は九千二百円です。",
    ]
    speech = Speech(tmp_path / "data" / "cache" / "voice")
    heard = capture.samples()
    at = 0
    for sentence in expected:
        rendered = speech.cached("ja", sentence)
        assert rendered is not None, f"never rendered: {sentence}"
        where, score = find_clip(heard, read_wav(rendered), at)
        assert score > MATCH, (
            f"not heard after {at / 22050:.1f} s: {sentence} ({score:.2f}); handed over: {said}"
        )
        at = where + 1
    # and nothing else was said: a sentence the member should not hear is not in the recording
    wrong = speech.wav("ja", "ご利用ありがとうございました。")
    assert find_clip(heard, read_wav(wrong))[1] < MATCH


def test_a_member_who_went_quiet_is_warned_before_the_screen_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The speaker alone (as the touch UI makes it), its real player: the warning is said
    WARN_S before the deadline of the view on screen, and not once the member touched on."""
    import time

    from kiosk.core.view import SessionView
    from screens.i18n import Texts
    from screens.sounds import Sounds
    from screens.voice import WARN_S

    recording = tmp_path / "speaker.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(recording))
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    capture = DiskCapture(recording)
    sounds = Sounds(enabled=True, texts=Texts("ja"), cache_dir=tmp_path / "voice")
    warning = "操作がないため、まもなく終了します。"
    sounds.start()
    try:
        deadline = time.monotonic() + 20
        while not sounds.playing:
            assert sounds.enabled and time.monotonic() < deadline, "the player did not open"
            time.sleep(0.02)
        history = SessionView(State.HISTORY)
        # the member touched something 1 s before the warning: a new deadline, no warning yet
        sounds(history, SessionView(State.HISTORY, deadline=time.monotonic() + WARN_S + 1.0))
        time.sleep(0.5)
        sounds(history, SessionView(State.HISTORY, deadline=time.monotonic() + WARN_S + 60))
        time.sleep(1.5)
        assert not [u for u in sounds.said if warning in u.sentences]
        # left alone: the warning comes once, WARN_S before the deadline
        mark = len(capture.samples())
        sounds(history, SessionView(State.HISTORY, deadline=time.monotonic() + WARN_S + 0.5))
        while not [u for u in sounds.said if warning in u.sentences]:
            assert time.monotonic() < deadline + 10, "no warning"
            time.sleep(0.02)
        while not (capture.loud_since(mark) and capture.quiet_tail(0.8)):
            assert time.monotonic() < deadline + 20, "the warning never ended"
            time.sleep(0.05)
    finally:
        sounds.stop()
    rendered = Speech(tmp_path / "voice").cached("ja", warning)
    assert rendered is not None
    assert find_clip(capture.samples(), read_wav(rendered))[1] > MATCH

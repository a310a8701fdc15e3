"""Sound never stops the screen, through the touch UI on the production path (tests/support/ui.py)
with a real sound server where ``PULSE_SERVER`` points: one that never answers (the kiosk is
answered all the same, then goes silent and says so once) and a PulseAudio server with a null
sink (a press is answered, and heard on the sink)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import screens.sounds
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.core.session import State
from tests.support.sound import HAS_PULSEAUDIO, PulseServer, SilentSoundServer
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.timeout(120)
# How long the kiosk waits for the sound system to open: longer than this test needs to reach
# its presses from the kiosk's start, so they are made while the open still hangs.
OPEN_S = 20.0


def no_sound(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "paykiosk.sounds"]


@pytest.fixture
def silent_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentSoundServer]:
    server = SilentSoundServer()
    monkeypatch.setenv("PULSE_SERVER", server.address)
    monkeypatch.delenv("SDL_AUDIODRIVER", raising=False)
    yield server
    server.close()


@pytest.fixture
def pulse(monkeypatch: pytest.MonkeyPatch) -> Iterator[PulseServer]:
    if not HAS_PULSEAUDIO:
        pytest.skip("needs pulseaudio and parec (apt-get install pulseaudio)")
    server = PulseServer()
    monkeypatch.setenv("PULSE_SERVER", server.address)
    monkeypatch.delenv("SDL_AUDIODRIVER", raising=False)
    yield server
    server.close()


def test_presses_are_answered_while_the_sound_server_hangs_then_the_kiosk_is_silent_once(
    tmp_path: Path,
    sim: AcceptorSimulator,
    wallet: Sandbox,
    silent_server: SilentSoundServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(screens.sounds, "OPEN_S", OPEN_S)
    card = wallet.card_of(wallet.member({"base": 3_200}))

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.until(silent_server.open_clients, "the sound player at the sound server")
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("チャージ")  # the press that froze the screen for good
        await ui.wait_shown(State.CHOOSE_MONEY)
        await ui.press("ベース")
        await ui.wait_shown(State.ACCEPTING)
        # Both answered while the sound system still hangs: its client waits at the server.
        assert silent_server.open_clients() == 1 and not no_sound(caplog)
        await ui.until(lambda: no_sound(caplog), "the kiosk says it is silent", OPEN_S + 10)
        await ui.until(lambda: not silent_server.open_clients(), "the hung player ended")
        await ui.press("キャンセル")
        await ui.wait_shown(State.IDLE)
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("チャージ")
        await ui.wait_shown(State.CHOOSE_MONEY)

    with caplog.at_level(logging.INFO, logger="paykiosk.sounds"):
        assert KioskUI(tmp_path, sim, wallet).run(scenario, "sound-hangs") == 0
    said = no_sound(caplog)
    assert len(said) == 1 and said[0].startswith("no sound:"), said
    assert len(silent_server.clients) == 1  # given up for good: not tried again


def test_with_a_pulseaudio_server_a_press_is_answered_and_heard(
    tmp_path: Path,
    sim: AcceptorSimulator,
    wallet: Sandbox,
    pulse: PulseServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The set-up that froze the screen at the first press (a desktop's sound server)."""
    card = wallet.card_of(wallet.member({"base": 3_200}))

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        assert ui.front is not None and ui.front.sounds is not None
        sounds = ui.front.sounds
        await ui.until(lambda: sounds.playing or not sounds.enabled, "the sound player open")
        assert sounds.playing, no_sound(caplog)
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        pulse.forget()
        await ui.press("チャージ")
        await ui.wait_shown(State.CHOOSE_MONEY)
        await ui.until(pulse.loudest, "the press heard on the speaker")
        await ui.press("ベース")
        await ui.wait_shown(State.ACCEPTING)

    with caplog.at_level(logging.INFO, logger="paykiosk.sounds"):
        assert KioskUI(tmp_path, sim, wallet).run(scenario, "sound-pulse") == 0
    assert not no_sound(caplog)

"""Sound never stops the screen, through the touch UI on the production path (tests/support/ui.py)
with a real sound server where ``PULSE_SERVER`` points: one that never answers (every press is
answered all the same; given up, the kiosk goes on silent and says so once) and a PulseAudio
server with a null sink (a press is answered, and heard on the sink)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import screens.sounds
from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.session import State
from tests.support.sound import HAS_PULSEAUDIO, PulseServer, SilentSoundServer
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.timeout(120)


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


def test_every_press_is_answered_while_the_sound_server_hangs(
    tmp_path: Path,
    sim: SimulatorProcess,
    wallet: Sandbox,
    silent_server: SilentSoundServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kiosk waits longer for the sound system than this test lasts: it hangs throughout.
    monkeypatch.setattr(screens.sounds, "OPEN_S", 600.0)
    card = wallet.card_of(wallet.member({"base": 3_200}))

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.until(silent_server.open_clients, "the sound player at the sound server")
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("チャージ")  # the press that froze the screen for good
        await ui.wait_shown(State.CHOOSE_MONEY)
        await ui.press(ui.t("Back"))
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("English")
        await ui.wait_text("Charge")
        await ui.press("Charge")
        await ui.wait_shown(State.CHOOSE_MONEY)
        # All answered while the sound system hangs: its client still waits at the server.
        assert silent_server.open_clients() == 1 and not no_sound(caplog)

    with caplog.at_level(logging.INFO, logger="paykiosk.sounds"):
        assert KioskUI(tmp_path, sim, wallet).run(scenario, "sound-hangs") == 0
    assert silent_server.open_clients() == 0  # the hung player ended with the kiosk
    assert len(silent_server.clients) == 1


def test_a_sound_server_that_never_answers_is_given_up_and_said_once(
    tmp_path: Path,
    sim: SimulatorProcess,
    wallet: Sandbox,
    silent_server: SilentSoundServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # long enough for the player process to start and reach the server on a busy machine
    # (tests side by side: its Python and Kivy's audio import took over 1 s), short for a test
    monkeypatch.setattr(screens.sounds, "OPEN_S", 8.0)
    card = wallet.card_of(wallet.member({"base": 3_200}))

    async def scenario(ui: KioskUI) -> None:
        await ui.ready()
        await ui.until(lambda: no_sound(caplog), "the kiosk says it is silent")
        await ui.until(lambda: not silent_server.open_clients(), "the hung player ended")
        await ui.touch_card(card)
        await ui.wait_shown(State.ACCOUNT)
        await ui.press("チャージ")
        await ui.wait_shown(State.CHOOSE_MONEY)
        await ui.press(ui.t("Back"))
        await ui.wait_shown(State.ACCOUNT)

    with caplog.at_level(logging.INFO, logger="paykiosk.sounds"):
        assert KioskUI(tmp_path, sim, wallet).run(scenario, "sound-given-up") == 0
    said = no_sound(caplog)
    assert len(said) == 1 and said[0].startswith("no sound:"), said
    assert "took over 8 s to open the sound device (hung?)" in said[0], said
    assert len(silent_server.clients) == 1  # given up for good: not tried again


def test_with_a_pulseaudio_server_a_press_is_answered_and_heard(
    tmp_path: Path,
    sim: SimulatorProcess,
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

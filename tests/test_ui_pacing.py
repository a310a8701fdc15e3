"""A resting kiosk wakes rarely (idle CPU), yet a touch is answered at once: a new view is drawn
on the next free turn of the loop, not at the next idle-rate frame (screens/pacing.py).

Not timed: after the pacer has set the idle rate, the test puts the next idle-rate frame
100 s away, so an account screen drawn within the wait's bound was drawn by the wake-up,
however busy the machine (a lookup alone took 0.3 s with tests side by side)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.session import State
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.timeout(120)
IDLE_FPS = 2  # the lowest [ui] idle_fps
FAR_FPS = 0.01  # the idle frame after the touch: 100 s away, were it not for the wake-up


def test_a_card_touch_on_a_resting_kiosk_is_drawn_before_the_next_idle_frame(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    card = wallet.card_of(wallet.member({"base": 1_000}))

    async def scenario(ui: KioskUI) -> None:
        from kivy.clock import Clock

        await ui.ready()
        await ui.wait_shown(State.IDLE)
        assert Clock._max_fps == IDLE_FPS  # the pacer's idle rate on the attract screen
        # The clock reads the rate as it goes to sleep after a frame: from the next idle frame
        # on, it sleeps 100 s between frames unless the pacer wakes it.
        Clock._max_fps = FAR_FPS
        frames = Clock.frames_displayed
        await ui.until(lambda: Clock.frames_displayed > frames, "an idle frame", 5)
        assert ui.engine is not None
        ui.engine.inbox.card_touched(card)
        await ui.wait_shown(State.ACCOUNT, timeout=30)
        shown = Clock.frames_displayed
        # well before the idle frame 100 s away: drawn because the new view woke the clock
        await ui.until(lambda: Clock.frames_displayed > shown, "the account drawn", 30)

    ui = KioskUI(tmp_path, sim, wallet, extra=f"\n[ui]\nidle_fps = {IDLE_FPS}\n")
    assert ui.run(scenario, "pacing") == 0

"""A resting kiosk wakes rarely (idle CPU), yet a touch is answered at once: a new view is drawn
on the next free turn of the loop, not at the next idle-rate frame (screens/pacing.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.core.session import State
from tests.support.ui import KioskUI
from tests.support.wallet import Sandbox

pytestmark = pytest.mark.timeout(120)
IDLE_FPS = 2  # the lowest [ui] idle_fps: a missed wake-up shows as up to 0.5 s


def test_a_card_touch_on_a_resting_kiosk_is_drawn_before_the_next_idle_frame(
    tmp_path: Path, sim: AcceptorSimulator, wallet: Sandbox
) -> None:
    card = wallet.card_of(wallet.member({"base": 1_000}))
    seen: dict[str, float] = {}

    async def scenario(ui: KioskUI) -> None:
        from kivy.clock import Clock

        await ui.ready()
        await ui.wait_shown(State.IDLE)
        assert Clock._max_fps == IDLE_FPS
        frames = Clock.frames_displayed
        await ui.until(lambda: Clock.frames_displayed > frames, "an idle frame", 5)
        # Just after an idle frame: without the wake-up the next one is ~0.5 s away.
        assert ui.engine is not None
        touched = time.perf_counter()
        ui.engine.inbox.card_touched(card)
        await ui.wait_shown(State.ACCOUNT)
        shown = Clock.frames_displayed
        await ui.until(lambda: Clock.frames_displayed > shown, "the account drawn", 5)
        seen["drawn_after"] = time.perf_counter() - touched
        seen["frames"] = Clock.frames_displayed - frames

    ui = KioskUI(tmp_path, sim, wallet, extra=f"\n[ui]\nidle_fps = {IDLE_FPS}\n")
    assert ui.run(scenario, "pacing") == 0
    # The wallet lookup and two frames (looking up, account) take tens of ms here.
    assert seen["drawn_after"] < 0.5 / IDLE_FPS, seen

"""The receipt's time: the engine's views of a finished charge carry the wall-clock time the
charge ended, the same on every view of that done screen, and none once the next one starts."""

from __future__ import annotations

import time
from pathlib import Path

from hardware.id003.sim.process import SimulatorProcess
from kiosk.core.session import State
from tests.support.engine import EngineHarness
from tests.support.wallet import Sandbox


def test_a_done_view_carries_when_the_charge_ended(
    tmp_path: Path, sim: SimulatorProcess, wallet: Sandbox
) -> None:
    kiosk = EngineHarness(tmp_path, sim, wallet, idle_finish_s=5.0)
    try:
        user = wallet.member({"base": 1000})
        kiosk.start_charging(wallet.card_of(user))
        assert kiosk.views[-1].finished_at is None
        kiosk.feed(1000)
        kiosk.wait_view(lambda v: v.inserted == 1000, what="1,000 in")
        before = time.time()
        kiosk.call(lambda e: e.finish())
        done = kiosk.wait_state(State.DONE)
        after = time.time()
        assert done.finished_at is not None and before <= done.finished_at <= after
        seen = len(kiosk.views)
        time.sleep(0.05)
        kiosk.call(lambda e: e.activity())  # a touch on the done screen: a new view
        again = kiosk.wait_view(lambda v: len(kiosk.views) > seen, what="the view again")
        assert again.state is State.DONE and again.finished_at == done.finished_at
        kiosk.call(lambda e: e.acknowledge())
        assert kiosk.wait_state(State.IDLE).finished_at is None
    finally:
        kiosk.stop()

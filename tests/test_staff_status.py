"""``paykiosk staff status`` beside the real kiosk process: whether it runs (never taking its
lock), credits waiting for a wallet that is down and their age, devices at fault, the journal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.kiosk_process import run_kiosk
from tests.rig import CRASH_TIMING, make_rig
from tests.support import wait_until
from tests.wallet_support import Sandbox


def status(config: Path) -> str:
    result = run_kiosk(config, "staff", "status")
    assert result.returncode == 0 and result.stderr == "", result
    return result.stdout


@pytest.mark.slow
def test_status_follows_the_running_kiosk_its_waiting_credits_and_its_faults(
    tmp_path: Path, wallet: Sandbox
) -> None:
    with make_rig(tmp_path, wallet, CRASH_TIMING) as rig:
        config = rig.kiosk.config
        first = status(config)
        assert "NOT RUNNING" in first and "journal: ok" in first, first
        assert "credits: 0 waiting" in first and "staff cases open: 0" in first, first

        user, card = rig.member()
        rig.kiosk.start()
        rig.kiosk.wait_ready()
        assert rig.kiosk.process is not None
        assert f"running (pid {rig.kiosk.process.pid})" in status(config)

        wallet.faults(unavailable_for=user)  # the credit waits for the wallet
        rig.start_session(card)
        rig.feed(1000)
        wait_until(lambda: "credits: 1 waiting" in status(config), 30, "the credit waiting")
        shown = status(config)
        assert re.search(r"1 waiting for the wallet, the oldest for \d+ (s|min)", shown), shown
        assert "cash box: 1 note, ¥1,000" in shown, shown

        rig.sim.control(lambda d, now: setattr(d, "stacker_open", True))
        wait_until(lambda: "acceptor: FAULT" in status(config), 20, "the acceptor's fault")
        rig.sim.control(lambda d, now: setattr(d, "stacker_open", False))
        wait_until(lambda: "acceptor: ok since" in status(config), 20, "the fault cleared")

        rig.kiosk.kill()  # SIGKILL: the lock file still names its pid
        assert "NOT RUNNING" in status(config)
        wallet.faults(unavailable_for="")
        rig.kiosk.start()  # the status never held the lock: the kiosk starts
        rig.kiosk.wait_ready()
        wait_until(lambda: "credits: 0 waiting" in status(config), 30, "the credit delivered")

"""The real ``paykiosk --no-ui`` process under a wall-clock step (libfaketime, Debian's
``faketime`` package): a credit waiting for its retry is delivered on time after the clock is
set back 400 s, as NTP does to a clock that ran fast.

libfaketime moves the process's wall clock only (``FAKETIME_DONT_FAKE_MONOTONIC``), read again
from a file each second, so the test steps it while the kiosk runs. The wallet sandbox's clock
is moved with it (its ``clock_offset_s`` fault): the two agree throughout, so the wallet takes
every request and the step alone is under test.
"""

from __future__ import annotations

import glob
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from hardware.felica.emulator import CardEmulator, EmulatedCard, free_udp_port
from hardware.id003.device import SimulatedDevice
from hardware.id003.simulator import AcceptorSimulator
from kiosk.journal.records import Credit
from kiosk.sandbox_config import write_sandbox_config
from tests.kiosk_process import KioskProcess
from tests.support import FAST_TIMING, wait_until
from tests.wallet_support import Sandbox

pytestmark = pytest.mark.slow

STEP_S = 400


def _libfaketime() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        pytest.skip("needs libfaketime: apt-get install faketime")
    return found[0]


@dataclass
class ClockRig:
    sim: AcceptorSimulator
    card: CardEmulator
    kiosk: KioskProcess
    clock_file: Path

    def set_clock(self, offset_s: int) -> None:
        """The kiosk process's wall clock, ``offset_s`` off (read again within a second)."""
        self.clock_file.write_text(f"{offset_s:+d}s\n")

    def credit(self) -> Credit | None:
        """The one credit of the test, read from the kiosk's journal (at most 5 times a s)."""
        time.sleep(0.2)
        journal = self.kiosk.journal()
        try:
            row = journal.db.one("SELECT id FROM credits ORDER BY id LIMIT 1")
            return None if row is None else journal.credits.get(int(row["id"]))
        finally:
            journal.close()


@pytest.fixture
def rig(tmp_path: Path, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClockRig]:
    library = _libfaketime()
    sim = AcceptorSimulator(
        SimulatedDevice(timing=replace(FAST_TIMING, escrow_timeout=2.0)),
        link=str(tmp_path / "acc"),
    )
    sim.start()
    card = CardEmulator(free_udp_port())
    config = write_sandbox_config(
        tmp_path, wallet.info, sim.path, card.device_path, idle_finish_s=1.5
    )
    running = ClockRig(sim, card, KioskProcess(config), tmp_path / "faketime")
    running.set_clock(0)
    # for the kiosk process only (the sandbox process runs already; this one is not preloaded)
    monkeypatch.setenv("LD_PRELOAD", library)
    monkeypatch.setenv("FAKETIME_TIMESTAMP_FILE", str(running.clock_file))
    monkeypatch.setenv("FAKETIME_CACHE_DURATION", "1")
    monkeypatch.setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1")
    try:
        yield running
    finally:
        running.kiosk.stop()
        card.close()
        sim.stop()


def test_a_credit_waiting_for_its_retry_is_delivered_on_time_after_the_clock_is_set_back(
    rig: ClockRig, wallet: Sandbox
) -> None:
    # the kiosk's clock runs 400 s fast, and so does the wallet's: they agree
    rig.set_clock(STEP_S)
    wallet.faults(clock_offset_s=float(STEP_S))
    user = wallet.member({"base": 0})
    rig.kiosk.start()
    rig.kiosk.wait_ready()
    assert rig.sim.wait_for(lambda d: not d.busy and d.inhibited, 15), rig.sim.status
    rig.card.touch(EmulatedCard(wallet.card_of(user)), hold=3.0)
    assert rig.sim.wait_for(lambda d: not d.inhibited, 15), "\n".join(rig.kiosk.output[-20:])
    wallet.faults(unavailable_for=user)  # this member's top-ups answer 503 for now
    assert rig.sim.insert(1000), rig.sim.status

    def waiting() -> bool:
        credit = rig.credit()
        return credit is not None and credit.attempts >= 1 and credit.last_error is not None

    wait_until(waiting, 30, "the credit's first attempt to fail")
    # NTP sets both clocks right: 400 s back; the wallet takes top-ups again
    rig.set_clock(0)
    wallet.faults(clock_offset_s=0.0, unavailable_for="")

    def confirmed() -> bool:
        credit = rig.credit()
        return credit is not None and credit.state == "confirmed"

    # the retry was due 1.5–2.5 s after the failure (then the wallet client's own retries)
    wait_until(confirmed, 20, "the credit to be delivered after the clock step")
    assert wallet.balance(user, "base") == 1000

"""The real ``paykiosk --no-ui`` process with its wall clock under libfaketime (Debian's
``faketime`` package), for the clock tests: only the wall clock is moved
(``FAKETIME_DONT_FAKE_MONOTONIC``), read again from a file each second, so a test steps it
while the kiosk runs. Skips without libfaketime."""

from __future__ import annotations

import contextlib
import glob
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from hardware.felica.sim import CardEmulator, free_udp_port
from hardware.id003.sim.process import SimulatorProcess
from kiosk.journal.records import Credit
from kiosk.sim.config import write_sandbox_config
from tests.support.common import FAST_TIMING
from tests.support.kiosk_process import KioskProcess
from tests.support.wallet import Sandbox


def _libfaketime() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        pytest.skip("needs libfaketime: apt-get install faketime")
    return found[0]


@dataclass
class ClockRig:
    sim: SimulatorProcess
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


@contextlib.contextmanager
def clock_rig(
    tmp_path: Path, wallet: Sandbox, monkeypatch: pytest.MonkeyPatch, fake_clock: bool = True
) -> Iterator[ClockRig]:
    """The kiosk process (not started yet) on the acceptor simulator and the card emulator,
    with its wall clock under libfaketime (at first right, see :meth:`ClockRig.set_clock`)
    unless ``fake_clock`` is False."""
    library = _libfaketime() if fake_clock else None
    # started before LD_PRELOAD is set: libfaketime is for the kiosk process only
    sim = SimulatorProcess(tmp_path / "acc", replace(FAST_TIMING, escrow_timeout=2.0)).start()
    card = CardEmulator(free_udp_port())
    config = write_sandbox_config(
        tmp_path, wallet.info, sim.path, card.device_path, idle_finish_s=1.5
    )
    running = ClockRig(sim, card, KioskProcess(config), tmp_path / "faketime")
    running.set_clock(0)
    if library is not None:
        # for the kiosk process only (the sandbox runs already; this process is not preloaded)
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

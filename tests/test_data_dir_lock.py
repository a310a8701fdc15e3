"""One kiosk process per data dir: a second one started by mistake refuses at once (exit 75,
one line naming the first one's pid) instead of replaying the journal under the first one and
crediting its live session; the read-only reports still run beside a kiosk."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.felica.sim import CardEmulator, EmulatedCard, free_udp_port
from hardware.id003.sim.process import SimulatorProcess, simulator_process
from kiosk.ops.datadir import EXIT_LOCKED, DataDirBusy, DataDirLock
from kiosk.sim.config import write_sandbox_config
from tests.support.common import wait_until
from tests.support.kiosk_process import KioskProcess, run_kiosk
from tests.support.rig import CRASH_TIMING
from tests.support.wallet import ROOT, Sandbox


@pytest.fixture
def acceptor(tmp_path: Path) -> Iterator[SimulatorProcess]:
    with simulator_process(tmp_path / "acc", CRASH_TIMING) as simulator:
        yield simulator


@pytest.fixture
def card() -> Iterator[CardEmulator]:
    with CardEmulator(free_udp_port()) as emulator:
        yield emulator


def test_a_second_kiosk_on_the_same_data_dir_refuses_and_the_first_is_unharmed(
    tmp_path: Path, acceptor: SimulatorProcess, card: CardEmulator, wallet: Sandbox
) -> None:
    config = write_sandbox_config(
        tmp_path, wallet.info, acceptor.path, card.device_path, idle_finish_s=8.0
    )
    user = wallet.member({"base": 0})
    first = KioskProcess(config)
    first.start()
    try:
        first.wait_ready()
        assert acceptor.wait_for(lambda d: not d.busy and d.inhibited, 15), acceptor.status
        card.touch(EmulatedCard(wallet.card_of(user)), hold=3.0)
        assert acceptor.wait_for(lambda d: not d.inhibited, 15), "\n".join(first.output[-20:])
        assert acceptor.insert(1000), acceptor.status
        wait_until(lambda: acceptor.stacked == [1000], 10, "the first note stacked")

        # the same kiosk started again, by mistake, while the first one's session is open
        second = run_kiosk(config, "--no-ui")
        assert second.returncode == EXIT_LOCKED, second
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert first.process is not None
        assert f"pid {first.process.pid}" in lines[0] and str(tmp_path / "data") in lines[0]
        assert "Traceback" not in second.stderr

        # the first one still has its session: the next note goes into it, one credit of both
        assert first.process.poll() is None, "\n".join(first.output[-20:])
        journal = first.journal()
        try:
            open_sessions = journal.db.one("SELECT COUNT(*) AS n FROM sessions WHERE state='open'")
            assert open_sessions is not None and open_sessions["n"] == 1
            assert journal.credits.open_credits() == []
        finally:
            journal.close()
        assert acceptor.wait_for(lambda d: not d.busy, 15), acceptor.status
        assert acceptor.insert(2000), acceptor.status
        wait_until(lambda: acceptor.stacked == [1000, 2000], 10, "the second note stacked")
        for command in ("pending", "journal"):  # the reports run beside the kiosk
            report = run_kiosk(config, command)
            assert report.returncode == 0 and "Traceback" not in report.stderr, report
        first.wait_settled(timeout=40)
        assert wallet.balance(user, "base") == 3000, "\n".join(first.output[-30:])
        journal = first.journal()
        try:
            credits = journal.db.query("SELECT amount, state FROM credits")
            assert [(c["amount"], c["state"]) for c in credits] == [(3000, "confirmed")]
        finally:
            journal.close()
        assert first.process.poll() is None
    finally:
        first.stop()
    assert first.process.returncode == 0, "\n".join(first.output[-30:])


def test_the_lock_names_its_holder_and_goes_with_it(tmp_path: Path) -> None:
    with DataDirLock(tmp_path) as held:
        assert held.path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(DataDirBusy) as caught:
            DataDirLock(tmp_path).acquire()  # another open file: flock refuses it too
        assert caught.value.pid == os.getpid()
        assert f"(pid {os.getpid()})" in str(caught.value)
    with DataDirLock(tmp_path):  # released: free again
        pass


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    """SIGKILL (a crash, the watchdog): the kernel drops the lock, the next kiosk starts."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from kiosk.ops.datadir import DataDirLock;"
            f"DataDirLock(Path({str(tmp_path)!r})).acquire(); print('held', flush=True);"
            "time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirBusy) as caught:
            DataDirLock(tmp_path).acquire()
        assert caught.value.pid == holder.pid
    finally:
        holder.kill()
        holder.wait(10)
    with DataDirLock(tmp_path) as lock:
        assert lock.path.read_text() == f"{os.getpid()}\n"

"""Host restarts around VEND VALID: a real host process is SIGKILLed and started again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.acceptor import NoteState
from hardware.id003.codes import Command, Status
from hardware.id003.sim.process import SimulatorProcess, simulator_process
from kiosk.journal import Journal
from tests.support.acceptor_host import HostProcess
from tests.support.common import FAST_TIMING


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorProcess]:
    """The unit in a process of its own, as the host is (see hardware/id003/sim/process.py)."""
    with simulator_process(tmp_path / "acc", FAST_TIMING) as simulator:
        yield simulator


@pytest.fixture
def hosts() -> Iterator[list[HostProcess]]:
    started: list[HostProcess] = []
    yield started
    for host in started:
        if host.process.poll() is None:
            host.kill()


def _kill_host_at_vend_valid(
    sim: SimulatorProcess, ledger: Path, hang: str, value: int, hosts: list[HostProcess]
) -> None:
    """Start a host that freezes in the stacked hook, feed a note, SIGKILL the host there."""
    host = HostProcess(sim.path, ledger, hang)
    hosts.append(host)
    host.wait("online")
    assert sim.wait_for(lambda d: not d.inhibited, 3)
    assert sim.insert(value)
    host.wait("hanging")
    host.kill()


def _acks(sim: SimulatorProcess) -> int:
    return sum(1 for t in sim.trace if t.direction == "rx" and t.frame.code == Command.ACK)


@pytest.mark.parametrize("hang", ["before-stacked", "after-stacked"])
def test_host_killed_at_vend_valid_counts_the_note_exactly_once(
    sim: SimulatorProcess, tmp_path: Path, hosts: list[HostProcess], hang: str
) -> None:
    ledger_path = tmp_path / "host.sqlite3"
    _kill_host_at_vend_valid(sim, ledger_path, hang, 10000, hosts)
    assert sim.status.code == Status.VEND_VALID  # still repeating: no ACK ever went out
    assert _acks(sim) == 0

    second = HostProcess(sim.path, ledger_path)
    hosts.append(second)
    second.wait("online")
    assert sim.wait_for(lambda d: not d.busy, 5)
    kinds = second.kinds()
    journal = Journal(ledger_path, "T01")
    try:
        assert journal.notes.stacked_values() == [10000] == sim.stacked
        assert [n.state for n in journal.notes.all()] == [NoteState.STACKED]
        assert journal.cashbox.count().counts == {10000: 1}
    finally:
        journal.close()
    # Recorded by the first host → the second only ACKs; not recorded → the second counts it.
    assert kinds.count("stacked") == (1 if hang == "before-stacked" else 0)
    assert "uncredited_note" not in kinds
    assert _acks(sim) >= 1


def test_vend_valid_with_no_record_is_acked_and_raises_the_alarm(
    sim: SimulatorProcess, tmp_path: Path, hosts: list[HostProcess]
) -> None:
    _kill_host_at_vend_valid(sim, tmp_path / "lost.sqlite3", "before-stacked", 2000, hosts)
    second = HostProcess(sim.path, tmp_path / "empty.sqlite3")  # the record is gone
    hosts.append(second)
    alarm = second.wait("uncredited_note")
    assert alarm["detail"] == "vend valid without a record"
    second.wait("online")
    assert sim.wait_for(lambda d: not d.busy, 5)  # ACKed: the unit did not hang
    assert sim.stacked == [2000]
    assert "stacked" not in second.kinds()


def test_host_restarted_while_a_note_waits_in_escrow_hands_it_back(
    sim: SimulatorProcess, tmp_path: Path, hosts: list[HostProcess]
) -> None:
    first = HostProcess(sim.path, tmp_path / "escrow.sqlite3")
    hosts.append(first)
    first.wait("online")
    assert sim.wait_for(lambda d: not d.inhibited, 3)
    first.kill()  # the unit keeps its settings: still enabled
    assert sim.insert(5000)
    assert sim.wait_for(lambda d: d.status.code == Status.ESCROW, 3)
    second = HostProcess(sim.path, tmp_path / "escrow.sqlite3")
    hosts.append(second)
    second.wait("returned")
    second.wait("online")
    assert sim.stacked == [] and sim.device.counters.returned == 1

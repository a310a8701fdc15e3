"""PAUSE (0x47): a second note pushed in while the first is stacking.

The unit reports PAUSE for a while, then resumes stacking and goes on to VEND VALID. The
driver reports `paused` and still counts the note exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.acceptor import EventKind, NoteState
from hardware.id003.codes import Command, Status
from hardware.id003.driver import Id003Acceptor
from hardware.id003.frames import Frame
from hardware.id003.sim.device import SimulatedDevice, Timing
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.journal import Journal
from kiosk.journal.notes import JournalNotes
from tests.support.acceptor_host import HostProcess
from tests.support.common import EventLog

STATUS = Frame(Command.STATUS_REQUEST)


@pytest.fixture
def sim(sim_thread: AcceptorSimulator) -> AcceptorSimulator:
    """A thread of this process: these tests reach into the simulator (see conftest.py)."""
    return sim_thread


@pytest.fixture
def host_processes() -> Iterator[list[HostProcess]]:
    started: list[HostProcess] = []
    yield started
    for host in started:
        if host.process.poll() is None:
            host.kill()


def _stacking(device: SimulatedDevice, value: int) -> float:
    """Power-up → enabled → a note escrowed → STACK-2 sent; returns the time of STACK-2."""
    device.handle(Frame(Command.RESET), 0.0)
    device.handle(Frame(Command.SET_INHIBIT, b"\x00"), 0.0)
    now = device.timing.initialize
    assert device.insert(device.code_of(value), now)
    now += device.timing.accepting
    assert device.handle(STATUS, now).code == Status.ESCROW
    assert device.handle(Frame(Command.STACK_2), now) == Frame(Status.ACK)
    return now


def test_pause_while_stacking_then_vend_valid() -> None:
    device = SimulatedDevice(timing=Timing(stack_2=1.0))
    now = _stacking(device, 5000) + 0.4
    assert device.pause(now, 2.0)
    assert device.handle(STATUS, now) == Frame(Status.PAUSE)
    assert device.handle(Frame(Command.STACK_2), now) == Frame(Status.INVALID_COMMAND)
    assert not device.insert(0x61, now)  # the unit is busy
    assert device.handle(STATUS, now + 1.99) == Frame(Status.PAUSE)
    assert device.counters.stacked == []
    assert device.handle(STATUS, now + 2.0) == Frame(Status.STACKING)  # 0.6 s left
    assert device.handle(STATUS, now + 2.59) == Frame(Status.STACKING)
    assert device.handle(STATUS, now + 2.6) == Frame(Status.VEND_VALID)
    assert device.counters.stacked == [5000]
    device.handle(Frame(Command.ACK), now + 2.6)
    assert device.handle(STATUS, now + 5.0) == Frame(Status.IDLING)
    assert device.counters.stacked == [5000]


def test_armed_pause_comes_halfway_through_the_next_stacking() -> None:
    device = SimulatedDevice(timing=Timing(stack_2=1.0, pause=0.5))
    assert not device.pause(0.0, None)  # nothing is stacking
    device.pause_next = 0.5
    now = _stacking(device, 2000)
    assert device.handle(STATUS, now + 0.49) == Frame(Status.STACKING)
    assert device.handle(STATUS, now + 0.5) == Frame(Status.PAUSE)
    assert device.handle(STATUS, now + 1.0) == Frame(Status.STACKING)
    assert device.handle(STATUS, now + 1.5) == Frame(Status.VEND_VALID)
    assert device.pause_next is None  # one note only
    assert device.counters.stacked == [2000]


def test_power_cut_during_pause_leaves_the_note_in_the_stacker() -> None:
    device = SimulatedDevice(timing=Timing(stack_2=1.0))
    now = _stacking(device, 10000) + 0.2
    assert device.pause(now, 5.0)
    device.power_cut()
    device.power_on()
    assert device.handle(STATUS, now) == Frame(Status.POWER_UP_BILL_IN_STACKER)
    device.handle(Frame(Command.RESET), now)
    assert device.counters.stacked == [10000]


def _tx(sim: AcceptorSimulator, code: int) -> int:
    return sum(1 for t in sim.trace if t.direction == "tx" and t.frame.code == code)


def _acks(sim: AcceptorSimulator) -> int:
    return sum(1 for t in sim.trace if t.direction == "rx" and t.frame.code == Command.ACK)


@pytest.mark.parametrize("when", ["armed", "while-stacking"])
def test_driver_reports_pause_and_counts_the_note_once(
    sim: AcceptorSimulator,
    acceptor: Id003Acceptor,
    ledger: JournalNotes,
    events: EventLog,
    when: str,
) -> None:
    if when == "armed":
        assert not sim.pause(0.4)  # nothing stacking: the next note pauses
        assert sim.insert(5000)
    else:
        sim.device.timing.stack_2 = 1.0
        assert sim.insert(5000)
        assert sim.wait_for(lambda d: d.status.code == Status.STACKING, 3)
        assert sim.pause(0.4)
    paused = events.wait(EventKind.PAUSED)[0]
    assert paused.value == 5000
    assert not events.of(EventKind.STACKED)  # not counted while paused
    assert events.wait(EventKind.STACKED)[0].value == 5000
    assert sim.wait_for(lambda d: not d.busy, 5)
    kinds = [e.kind for e in events.events]
    assert kinds.index(EventKind.ESCROW) < kinds.index(EventKind.PAUSED)
    assert kinds.index(EventKind.PAUSED) < kinds.index(EventKind.STACKED)
    assert _tx(sim, Status.PAUSE) >= 3  # polled through the pause
    assert ledger.stacked_values() == [5000] == sim.stacked
    assert [n.state for n in ledger.all()] == [NoteState.STACKED]
    assert len(events.of(EventKind.STACKED)) == 1 and _acks(sim) == 1
    assert not events.of(EventKind.FAILURE) and not events.of(EventKind.OFFLINE)
    assert sim.insert(1000)  # and the next note goes through as usual
    assert [e.value for e in events.wait(EventKind.STACKED, 2)] == [5000, 1000]
    assert len(events.of(EventKind.PAUSED)) == 1


def test_power_cut_during_pause_counts_the_note_once(
    sim: AcceptorSimulator, acceptor: Id003Acceptor, ledger: JournalNotes, events: EventLog
) -> None:
    sim.pause(5.0)
    assert sim.insert(2000)
    events.wait(EventKind.PAUSED)
    sim.power_cut()
    events.wait(EventKind.OFFLINE)
    sim.power_on()
    power_up = events.wait(EventKind.POWER_UP, 2)[-1]
    assert (power_up.value, power_up.detail) == (2000, "note in stacker counted")
    events.wait(EventKind.ONLINE, 2)
    assert sim.wait_for(lambda d: not d.busy, 5)
    assert ledger.stacked_values() == [2000] == sim.stacked
    assert [e.value for e in events.of(EventKind.STACKED)] == [2000]


def test_host_restarted_during_pause_counts_the_note_once(
    sim: AcceptorSimulator,
    tmp_path: Path,
    host_processes: list[HostProcess],
) -> None:
    hosts = host_processes
    ledger_path = tmp_path / "pause.sqlite3"
    first = HostProcess(sim.path, ledger_path)
    hosts.append(first)
    first.wait("online")
    assert sim.wait_for(lambda d: not d.inhibited, 3)
    sim.pause(3.0)
    assert sim.insert(10000)
    first.wait("paused")
    first.kill()  # the record is stack_sent; the unit goes on pausing
    killed_at = time.monotonic()
    second = HostProcess(sim.path, ledger_path)
    hosts.append(second)
    second.wait("online")
    assert sim.wait_for(lambda d: not d.busy, 5)
    first_reply = next(t for t in sim.trace if t.direction == "tx" and t.at > killed_at)
    assert first_reply.frame == Frame(Status.PAUSE)  # the new host started during the pause
    assert second.kinds().count("stacked") == 1
    journal = Journal(ledger_path, "T01")
    try:
        assert journal.notes.stacked_values() == [10000] == sim.stacked
        assert [n.state for n in journal.notes.all()] == [NoteState.STACKED]
    finally:
        journal.close()
    assert _acks(sim) == 1

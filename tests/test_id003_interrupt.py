"""Interrupt mode (C2 01 / C2 02): the simulated unit sends ENQ on each status change.

A host that only asks for the status after an ENQ (as an interrupt-mode driver does) must be
able to take a note through to the cash box; polling keeps working alongside.
"""

from __future__ import annotations

import time

import pytest

from hardware.acceptor import EventKind, NoteRecord, NoteState
from hardware.id003.codes import Command, Status
from hardware.id003.device import SimulatedDevice, Timing
from hardware.id003.driver import Id003Acceptor
from hardware.id003.frames import Frame
from hardware.id003.protocol import HostProtocol, Phase
from hardware.id003.simulator import AcceptorSimulator
from kiosk.journal.notes import JournalNotes
from tests.acceptor_wire import RawHost, wire
from tests.support import FAST_DRIVER, EventLog

ENQ = bytes.fromhex("FC 05 05 82 00")  # ENQ framed as an ordinary frame with code 05
STATUS = Frame(Command.STATUS_REQUEST)


def test_enq_frame_bytes() -> None:
    assert wire(0x05) == ENQ == Frame(Status.ENQ).encode()


@pytest.mark.parametrize("mode", [1, 2])
def test_model_announces_each_change_once(mode: int) -> None:
    device = SimulatedDevice(timing=Timing(initialize=0.5, accepting=0.3))
    assert device.handle(STATUS, 0.0) == Frame(Status.POWER_UP)
    assert device.unsolicited(0.0) is None  # polling mode: never
    setting = Frame(Command.SET_COMMUNICATION_MODE, bytes((mode,)))
    assert device.handle(setting, 0.0) == setting
    assert device.interrupt_mode
    assert device.unsolicited(0.0) is None  # nothing changed since the host last asked
    device.handle(Frame(Command.RESET), 0.1)  # → INITIALIZE
    assert device.unsolicited(0.1) == Frame(Status.ENQ)
    assert device.unsolicited(0.2) is None  # one ENQ per change
    device.handle(Frame(Command.SET_INHIBIT, b"\x00"), 0.2)
    assert device.unsolicited(0.7) == Frame(Status.ENQ)  # INITIALIZE → IDLING
    assert device.handle(STATUS, 0.7) == Frame(Status.IDLING)
    assert device.insert(0x61, 0.8)
    # The host asks at once after the ENQ: the reply brings it up to date, no second ENQ.
    assert device.unsolicited(0.8) == Frame(Status.ENQ)
    assert device.handle(STATUS, 1.2) == Frame(Status.ESCROW, b"\x61")  # ACCEPTING is over
    assert device.unsolicited(1.2) is None


def test_model_changes_back_to_polling_and_loses_the_mode_with_power() -> None:
    device = SimulatedDevice()
    device.handle(Frame(Command.SET_COMMUNICATION_MODE, b"\x01"), 0.0)
    device.handle(Frame(Command.SET_COMMUNICATION_MODE, b"\x00"), 0.0)
    device.handle(Frame(Command.RESET), 0.0)
    assert device.unsolicited(0.0) is None
    device.handle(Frame(Command.SET_COMMUNICATION_MODE, b"\x01"), 0.0)
    device.power_cut()
    assert device.unsolicited(0.0) is None  # no power, no ENQ
    device.power_on()
    assert not device.interrupt_mode
    assert device.unsolicited(1.0) is None


def _serve_enqs(host: RawHost, timeout: float = 5.0) -> list[bytes]:
    """An interrupt-mode host: speaks only after an ENQ; stacks one note and ACKs it.

    Returns the statuses it was told, until the unit is idle after the note.
    """
    told: list[bytes] = []
    deadline = time.monotonic() + timeout
    while (frame := host.read(max(deadline - time.monotonic(), 0.0))) is not None:
        assert frame == ENQ, f"unasked frame {frame.hex(' ')}"
        status = host.ask(Command.STATUS_REQUEST)
        assert status is not None
        told.append(status)
        code = status[2]
        if code == Status.ESCROW:
            assert host.ask(Command.STACK_1) == wire(Status.ACK)
        elif code == Status.VEND_VALID:
            host.send(Command.ACK)  # no reply
        elif code == Status.IDLING and any(s[2] == Status.STACKED for s in told):
            return told
    raise AssertionError(f"no ENQ for {timeout} s; told {[s.hex(' ') for s in told]}")


@pytest.mark.parametrize("mode", [1, 2])
def test_interrupt_host_on_the_pty_hears_enq_and_stacks_a_note(
    sim: AcceptorSimulator, mode: int
) -> None:
    with RawHost(sim.path) as host:
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.POWER_UP)
        assert host.ask(Command.RESET) == wire(Status.ACK)
        assert host.ask(Command.SET_COMMUNICATION_MODE, bytes((mode,))) == wire(
            Command.SET_COMMUNICATION_MODE, bytes((mode,))
        )
        assert host.ask(Command.SET_INHIBIT, b"\x00") == wire(Command.SET_INHIBIT, b"\x00")
        # The unit left POWER UP for INITIALIZE, then IDLING: ENQs, and nothing else.
        enqs = host.drain(0.3)
        assert enqs and set(enqs) == {ENQ}
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.IDLING)  # polling still works
        assert host.drain(0.2) == []  # no change, no ENQ
        assert host.ask(Command.GET_COMMUNICATION_MODE) == wire(0x82, bytes((mode,)))

        assert sim.insert(1000)
        told = _serve_enqs(host)
        codes = [s[2] for s in told]
        assert wire(Status.ESCROW, b"\x61") in told
        assert codes.index(Status.ESCROW) < codes.index(Status.VEND_VALID)
        assert codes.index(Status.VEND_VALID) < codes.index(Status.STACKED)
        assert sim.stacked == [1000]
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.IDLING)
        assert host.drain(0.2) == []


def test_driver_copes_with_a_unit_left_in_interrupt_mode(
    sim: AcceptorSimulator, ledger: JournalNotes, events: EventLog
) -> None:
    # Another host set interrupt mode and went away; ours polls and sets C2 00 after RESET.
    sim.control(lambda d, now: d.settings.__setitem__(Command.SET_COMMUNICATION_MODE, b"\x01"))
    driver = Id003Acceptor(sim.path, ledger, FAST_DRIVER)
    driver.add_listener(events)
    driver.start()
    try:
        assert driver.wait_online(5), events.summary()
        assert any(t.direction == "tx" and t.frame.code == Status.ENQ for t in sim.trace)
        assert not sim.device.interrupt_mode
        driver.enable()
        assert sim.wait_for(lambda d: not d.inhibited, 2)
        assert sim.insert(2000)
        assert events.wait(EventKind.STACKED)[0].value == 2000
        assert ledger.stacked_values() == [2000]
        assert not events.of(EventKind.FAILURE) and not events.of(EventKind.OFFLINE)
    finally:
        driver.stop()


class _NoNotes:
    def escrow(self, escrow_code: int, value: int) -> NoteRecord | None:
        return None

    def stacked(self, note_id: int) -> None:
        raise AssertionError("nothing is stacked here")

    def closed(self, note_id: int, state: NoteState) -> None:
        pass

    def last_note(self) -> NoteRecord | None:
        return None


def test_host_protocol_does_not_take_enq_for_a_status() -> None:
    protocol = HostProtocol(_NoNotes())
    protocol.start(0.0)
    assert protocol.tick(0.0) == Frame(Command.STATUS_REQUEST).encode()
    protocol.receive(Frame(Status.ENQ), 0.01)
    assert protocol.phase is Phase.START  # still waiting for the status
    assert protocol.tick(0.02) is None
    protocol.receive(Frame(Status.POWER_UP), 0.03)
    assert protocol.phase is Phase.VERSION

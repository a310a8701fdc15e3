"""Interrupt mode (C2 01 / C2 02): the simulated unit sends ENQ on each status change.

A host that only asks for the status after an ENQ (as an interrupt-mode driver does) must be
able to take a note through to the cash box; polling keeps working alongside.
"""

from __future__ import annotations

import select
import time

import pytest

from hardware.acceptor import EventKind, NoteRecord, NoteState
from hardware.id003.codes import Command, Status
from hardware.id003.driver import Id003Acceptor
from hardware.id003.frames import Frame
from hardware.id003.protocol import HostProtocol, Phase
from hardware.id003.sim.device import SimulatedDevice, Timing
from hardware.id003.sim.process import SimulatorProcess
from hardware.id003.sim.simulator import BYTE_TIME
from kiosk.journal.notes import JournalNotes
from tests.support.acceptor_wire import RawHost, wire
from tests.support.common import FAST_DRIVER, EventLog, wait_until

ENQ = bytes.fromhex("FC 05 05 82 00")  # ENQ framed as an ordinary frame with code 05
STATUS = Frame(Command.STATUS_REQUEST)


def test_enq_frame_bytes() -> None:
    assert wire(0x05) == ENQ == Frame(Status.ENQ).encode()


@pytest.mark.parametrize("mode", [1, 2])
def test_model_sends_one_enq_until_the_host_asks(mode: int) -> None:
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
    assert device.unsolicited(0.7) is None  # → IDLING, but the first ENQ is unanswered
    assert device.handle(STATUS, 0.7) == Frame(Status.IDLING)  # the host catches up
    assert device.unsolicited(0.7) is None
    assert device.insert(0x61, 0.8)
    assert device.unsolicited(0.8) == Frame(Status.ENQ)  # → ACCEPTING
    assert device.unsolicited(1.1) is None  # → ESCROW, still one ENQ
    assert device.handle(STATUS, 1.2) == Frame(Status.ESCROW, b"\x61")
    assert device.unsolicited(1.2) is None
    assert device.handle(Frame(Command.STACK_1), 1.2) == Frame(Status.ACK)
    assert device.unsolicited(1.2) == Frame(Status.ENQ)  # → STACKING


def test_polling_in_interrupt_mode_answers_without_enq() -> None:
    device = SimulatedDevice(timing=Timing(initialize=0.5))
    device.handle(Frame(Command.SET_COMMUNICATION_MODE, b"\x01"), 0.0)
    device.handle(Frame(Command.RESET), 0.0)
    for now in (0.0, 0.2, 0.4):  # the host polls before the unit could announce anything
        assert device.handle(STATUS, now) == Frame(Status.INITIALIZE)
        assert device.unsolicited(now) is None
    assert device.handle(STATUS, 0.6) == Frame(Status.DISABLED)
    assert device.unsolicited(0.6) is None


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

    Returns the statuses it was told, until the unit is idle after the ACK. (STACKED lasts
    50 ms: a host that asks late after its ENQ is told IDLING, as the protocol allows.)
    """
    told: list[bytes] = []
    acked = False
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
            acked = True
        elif code == Status.IDLING and acked:
            return told
    raise AssertionError(f"no ENQ for {timeout} s; told {[s.hex(' ') for s in told]}")


@pytest.mark.parametrize("mode", [1, 2])
def test_interrupt_host_on_the_pty_hears_enq_and_stacks_a_note(
    sim: SimulatorProcess, mode: int
) -> None:
    with RawHost(sim.path) as host:
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.POWER_UP)
        assert host.ask(Command.RESET) == wire(Status.ACK)
        assert host.ask(Command.SET_COMMUNICATION_MODE, bytes((mode,))) == wire(
            Command.SET_COMMUNICATION_MODE, bytes((mode,))
        )
        assert host.ask(Command.SET_INHIBIT, b"\x00") == wire(Command.SET_INHIBIT, b"\x00")
        # The unit left POWER UP for INITIALIZE, then IDLING: one ENQ, unanswered so far.
        enqs = host.drain(0.3)
        assert set(enqs) <= {ENQ} and len(enqs) + host.skipped_enqs == 1
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.IDLING)  # polling still works
        assert host.drain(0.2) == []  # no change, no ENQ
        assert host.ask(Command.GET_COMMUNICATION_MODE) == wire(0x82, bytes((mode,)))

        assert sim.insert(1000)
        told = _serve_enqs(host)
        codes = [s[2] for s in told]
        assert wire(Status.ESCROW, b"\x61") in told
        # each told only after an ENQ: the escrow, VEND VALID, and after the ACK the change on
        assert codes.index(Status.ESCROW) < codes.index(Status.VEND_VALID) < len(codes) - 1
        states = list(sim.device.states)
        assert states[-3:] == [Status.VEND_VALID, Status.STACKED, Status.IDLING]
        assert sim.stacked == [1000]
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.IDLING)
        assert host.drain(0.2) == []


def test_replies_go_out_at_line_speed(sim: SimulatorProcess) -> None:
    """Two requests written at once: the replies come one after the other, the second no
    sooner than the first's 5 bytes take at 9600 baud after the requests went out.

    Measured from the write, not between the two reads: a host thread that wakes late for the
    first reply (a busy machine) shortens the gap between its reads, never this time."""
    with RawHost(sim.path) as host:
        sent = time.monotonic()
        host.port.write(wire(Command.STATUS_REQUEST) + wire(Command.STATUS_REQUEST))
        arrivals: list[tuple[float, bytes]] = []
        deadline = time.monotonic() + 2
        while sum(len(c) for _, c in arrivals) < 10 and time.monotonic() < deadline:
            select.select([host.port.fileno()], [], [], 0.1)
            if chunk := host.port.read(64):
                arrivals.append((time.monotonic(), chunk))
        assert b"".join(c for _, c in arrivals) == wire(Status.POWER_UP) * 2
        assert arrivals[-1][0] - sent >= 5 * BYTE_TIME


def test_host_decoding_one_frame_per_read_in_interrupt_mode(sim: SimulatorProcess) -> None:
    """A fragile interrupt-mode host: it decodes at most one frame per pass of its loop, keeps
    polling until the C2 echo (so commands overlap polls) and then speaks only after an ENQ.

    A frame left in its buffer is taken on the next pass even when nothing new arrives: a host
    reading late (a busy machine) gets two paced frames in one read, and one left waiting for
    bytes that never come (after the C2 echo the unit speaks only on a change) made it deaf.
    That frames leave one at a time at line speed is test_replies_go_out_at_line_speed's."""
    with RawHost(sim.path) as host:
        port, backlog = host.port, b""
        polling, last_poll, last_status, fed, stacked = True, 0.0, -1, 0, 0
        steps = {
            Status.POWER_UP: (Command.RESET, b""),
            Status.INITIALIZE: (Command.SET_COMMUNICATION_MODE, b"\x01"),
            Status.DISABLED: (Command.SET_INHIBIT, b"\x00"),
            Status.ESCROW: (Command.STACK_1, b""),
            Status.VEND_VALID: (Command.ACK, b""),
        }
        deadline = time.monotonic() + 10
        while stacked < 3:
            assert time.monotonic() < deadline, f"host went deaf; stacked {stacked}"
            if polling and time.monotonic() - last_poll > 0.05:
                port.write(wire(Command.STATUS_REQUEST))
                last_poll = time.monotonic()
            if select.select([port.fileno()], [], [], 0.01)[0]:
                backlog += port.read(256)
            start = backlog.find(b"\xfc")
            if start < 0 or len(backlog) < start + 2 or len(backlog) < start + backlog[start + 1]:
                continue
            frame = backlog[start : start + backlog[start + 1]]
            backlog = backlog[start + len(frame) :]  # only this one frame; the rest waits
            code = frame[2]
            if code == Status.ENQ:
                port.write(wire(Command.STATUS_REQUEST))
            elif code == Command.SET_COMMUNICATION_MODE:
                polling = False
            elif code in (*steps, Status.IDLING, Status.STACKED) and code != last_status:
                last_status = code  # statuses act on a change only
                if code == Status.INITIALIZE:  # the mode goes out together with a poll
                    port.write(wire(*steps[code]) + wire(Command.STATUS_REQUEST))
                elif code in steps:
                    port.write(wire(*steps[code]))
                if code == Status.STACKED:
                    stacked += 1
                if code == Status.IDLING and not polling and fed == stacked:
                    fed += sim.insert(1000)
        assert not polling and sim.stacked == [1000] * 3


def test_driver_copes_with_a_unit_left_in_interrupt_mode(
    sim: SimulatorProcess, ledger: JournalNotes, events: EventLog
) -> None:
    # Another host set interrupt mode, took notes and went away while one was going in; ours
    # polls it out (its status changes between polls: ENQs) and sets C2 00 after RESET.
    with RawHost(sim.path) as other:
        assert other.ask(Command.RESET) == wire(Status.ACK)
        assert other.ask(Command.SET_COMMUNICATION_MODE, b"\x01") is not None
        assert other.ask(Command.SET_INHIBIT, b"\x00") is not None
        assert sim.wait_for(lambda d: d.status == Frame(Status.IDLING), 2)
        assert other.ask(Command.STATUS_REQUEST) == wire(Status.IDLING)
    wait_until(lambda: not sim.host_connected, 2, "the unit saw that host go")
    assert sim.insert(1000)
    driver = Id003Acceptor(sim.path, ledger, FAST_DRIVER)
    driver.add_listener(events)
    driver.start()
    try:
        assert driver.wait_online(5), events.summary()
        polling = Frame(Command.SET_COMMUNICATION_MODE, b"\x00")
        polling_set = next(t for t in sim.trace if t.direction == "rx" and t.frame == polling)
        assert any(
            t.direction == "tx" and t.frame.code == Status.ENQ and t.at < polling_set.at
            for t in sim.trace
        )  # ENQs came before the driver set polling mode
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

    def closed(self, note_id: int, state: NoteState, why: str = "") -> None:
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

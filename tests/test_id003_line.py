"""The simulator's line: bytes paced as a 9600-baud UART sends them, through the real pty.

A host that answers the moment it has read a frame (as py-id003 does at start-up: RESET right
after the version) must meet each reply at line speed — the command's bytes in, then the
reply's out — never held back for the line time of a frame it has already read. The times
checked are the simulator's own (its trace), and the host's reads only bound them from after.
"""

from __future__ import annotations

import time
from itertools import pairwise

import pytest

from hardware.id003.codes import Command, Status
from hardware.id003.frames import Frame
from hardware.id003.sim.simulator import BYTE_TIME, ENQ_GAP, AcceptorSimulator, TraceEntry
from tests.support.acceptor_wire import RawHost, wire

ENQ = wire(Status.ENQ)


@pytest.fixture
def sim(sim_thread: AcceptorSimulator) -> AcceptorSimulator:
    """The simulator as a thread here: its hooks write to the line while it waits for them."""
    return sim_thread


def _line_time(frame: Frame) -> float:
    return len(frame.encode()) * BYTE_TIME


def _exchanges(trace: list[TraceEntry]) -> list[tuple[TraceEntry, TraceEntry]]:
    """Each command the unit read and the reply it queued for it (polling mode: no ENQ)."""
    pairs = []
    for command, reply in pairwise(trace):
        if command.direction == "rx":
            assert reply.direction == "tx", f"no reply to {command.frame}"
            pairs.append((command, reply))
    return pairs


def test_a_host_answering_at_once_meets_every_reply_at_line_speed(
    sim: AcceptorSimulator,
) -> None:
    """py-id003's start-up: every request goes out as soon as the last reply is read. The
    46-byte version reply takes 53 ms on the line; the RESET sent right after reading it is
    answered 10 byte times (11.5 ms) after it went out, as on a real line."""
    requests = [
        (Command.STATUS_REQUEST, b""),
        (Command.VERSION_REQUEST, b""),
        (Command.RESET, b""),
        (Command.CURRENCY_ASSIGN_REQUEST, b""),
        (Command.STATUS_REQUEST, b""),
        (Command.SET_INHIBIT, b"\x00"),
        (Command.VERSION_REQUEST, b""),
        (Command.STATUS_REQUEST, b""),
    ]
    read_at: list[float] = []
    with RawHost(sim.path) as host:
        first = len(sim.trace)
        for code, data in requests:
            host.send(code, data)
            assert host.read(2.0) is not None
            read_at.append(time.monotonic())  # the host has the whole reply by now
    pairs = _exchanges(sim.trace[first:])
    assert [command.frame for command, _ in pairs] == [Frame(c, d) for c, d in requests]
    for (command, reply), got in zip(pairs, read_at, strict=True):
        # the command is in after its own bytes; the reply starts then, whatever came before
        assert command.until == pytest.approx(command.at + _line_time(command.frame))
        assert reply.at == pytest.approx(command.until), (command.frame, reply.frame)
        assert reply.until == pytest.approx(reply.at + _line_time(reply.frame))
        assert got >= reply.until  # byte by byte: the last one is not there before its time
    version, reset = pairs[1], pairs[2]
    assert len(version[1].frame.encode()) == 46
    assert reset[1].until - reset[0].at == pytest.approx(10 * BYTE_TIME)  # ~11.5 ms


def test_a_command_while_an_enq_waits_for_a_quiet_line_is_answered_first(
    sim: AcceptorSimulator,
) -> None:
    """Interrupt mode: a note goes in while a long reply is on the line, so an ENQ is due
    once the line has been quiet for ENQ_GAP. A command that arrives before that is answered
    as in polling mode — right after the reply on the line — and the ENQ waits for quiet
    again. The second command is written the moment the unit takes the first (``on_receive``),
    so it always arrives within that window."""
    with RawHost(sim.path) as host:
        assert host.ask(Command.RESET) == wire(Status.ACK)
        assert host.ask(Command.SET_COMMUNICATION_MODE, b"\x01") is not None
        assert host.ask(Command.SET_INHIBIT, b"\x00") is not None
        assert sim.wait_for(lambda d: d.status == Frame(Status.IDLING), 2)
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.IDLING)
        assert host.drain(0.1) == []

        def note_and_second_command(frame: Frame) -> None:
            if frame.code == Command.VERSION_REQUEST:
                sim.on_receive = None
                assert sim.insert(1000)  # ACCEPTING: a change to announce
                host.send(Command.GET_COMMUNICATION_MODE)

        sim.on_receive = note_and_second_command
        first = len(sim.trace)
        host.send(Command.VERSION_REQUEST)
        frames = [host.read(2.0) for _ in range(3)]
    assert frames[0] is not None and frames[0][2] == Command.VERSION_REQUEST
    assert frames[1:] == [wire(Command.GET_COMMUNICATION_MODE, b"\x01"), ENQ]
    version, mode, enq = (t for t in sim.trace[first:] if t.direction == "tx")
    assert mode.at == pytest.approx(version.until)  # not held back for the ENQ
    assert enq.at >= mode.until + ENQ_GAP


def test_a_status_request_while_an_enq_waits_leaves_nothing_to_announce(
    sim: AcceptorSimulator,
) -> None:
    """The same, the second command a STATUS REQUEST: its reply tells the host the new status
    (ACCEPTING), so no ENQ follows for that change; the next one (ESCROW) gets its ENQ."""
    with RawHost(sim.path) as host:
        assert host.ask(Command.RESET) == wire(Status.ACK)
        assert host.ask(Command.SET_COMMUNICATION_MODE, b"\x01") is not None
        assert host.ask(Command.SET_INHIBIT, b"\x00") is not None
        assert sim.wait_for(lambda d: d.status == Frame(Status.IDLING), 2)
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.IDLING)
        assert host.drain(0.1) == []

        def note_and_status_request(frame: Frame) -> None:
            if frame.code == Command.VERSION_REQUEST:
                sim.on_receive = None
                assert sim.insert(1000)
                host.send(Command.STATUS_REQUEST)

        sim.on_receive = note_and_status_request
        first = len(sim.trace)
        host.send(Command.VERSION_REQUEST)
        frames = [host.read(2.0) for _ in range(3)]
        assert host.ask(Command.STATUS_REQUEST) == wire(Status.ESCROW, b"\x61")
    assert frames[0] is not None and frames[0][2] == Command.VERSION_REQUEST
    assert frames[1:] == [wire(Status.ACCEPTING), ENQ]  # the ENQ is ESCROW's
    version, status, enq = [t for t in sim.trace[first:] if t.direction == "tx"][:3]
    assert status.at == pytest.approx(version.until)
    assert enq.at >= status.until + ENQ_GAP

"""The host protocol when replies take time to come back (as at 9600 baud on a real line)."""

from __future__ import annotations

import time

import pytest

from hardware.id003.codes import Command, Status
from hardware.id003.driver import Id003Acceptor
from hardware.id003.frames import Frame, decode_frame
from hardware.id003.protocol import HostProtocol
from hardware.id003.sim.device import SimulatedDevice, Timing
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.journal.notes import JournalNotes
from tests.support.common import wait_until

INHIBIT = Frame(Command.SET_INHIBIT, b"\x01")
ENABLE = Frame(Command.SET_INHIBIT, b"\x00")


@pytest.fixture
def sim(sim_thread: AcceptorSimulator) -> AcceptorSimulator:
    """A thread of this process: these tests reach into the simulator (see conftest.py)."""
    return sim_thread


def _exchange(protocol: HostProtocol, device: SimulatedDevice, now: float) -> Frame | None:
    """One request out (if any) and, straight away, the unit's reply in."""
    out = protocol.tick(now)
    if out is None:
        return None
    sent = decode_frame(out)
    reply = device.handle(sent, now)
    if reply is not None:
        protocol.receive(reply, now)
    return sent


def _online(ledger: JournalNotes) -> tuple[HostProtocol, SimulatedDevice, float]:
    protocol, device = HostProtocol(ledger), SimulatedDevice(timing=Timing(initialize=0.1))
    protocol.start(0.0)
    now = 0.0
    while not protocol.online:
        assert now < 5, protocol.phase
        _exchange(protocol, device, now)
        now += 0.01
    return protocol, device, now


def test_inhibit_while_the_enable_awaits_its_echo_is_not_lost(ledger: JournalNotes) -> None:
    protocol, device, now = _online(ledger)
    protocol.enable()
    assert protocol.tick(now) == ENABLE.encode()  # C3 00 out, its echo still on the wire
    protocol.inhibit()  # the engine changes its mind at once
    assert protocol.settings_pending
    protocol.receive(device.handle(ENABLE, now) or Frame(0), now)  # the echo of C3 00
    assert protocol.tick(now) == INHIBIT.encode()
    protocol.receive(device.handle(INHIBIT, now) or Frame(0), now)
    assert device.inhibited and not protocol.settings_pending


def test_enable_again_while_its_echo_is_awaited_sends_nothing_more(
    ledger: JournalNotes,
) -> None:
    protocol, _, now = _online(ledger)
    protocol.enable()
    assert protocol.tick(now) == ENABLE.encode()
    protocol.enable()
    assert not protocol.settings_pending


def test_stop_waits_for_a_reply_in_flight_then_inhibits(
    sim: AcceptorSimulator, acceptor: Id003Acceptor
) -> None:
    assert not sim.device.inhibited
    sim.faults.reply_delay = 0.08  # a poll is nearly always in flight
    time.sleep(0.3)  # the enable's echo is long back; only slow polls now
    acceptor.stop()
    wait_until(lambda: sim.device.inhibited, 2, "inhibit on stop")
    trace = sim.trace  # in the order the unit read and wrote (not timed: tests run side by side)
    inhibit = max(
        (i for i, t in enumerate(trace) if t.direction == "rx" and t.frame == INHIBIT), default=None
    )
    assert inhibit is not None, "no C3 01 on stop"
    asked = [t for t in trace[:inhibit] if t.direction == "rx" and t.frame.code != Command.ACK]
    answered = [t for t in trace[:inhibit] if t.direction == "tx"]
    # One request at a time: C3 01 went out once every request before it had its reply (one
    # nearly always in flight as the driver stopped, 80 ms late).
    assert len(answered) == len(asked), trace[-6:]
    assert sim.status.code == Status.DISABLED

"""Hypothesis fuzz of the wire between the simulator and the driver, through the pty.

Random garbage and mutated replies are injected while notes go through. Whatever happens on
the wire: nothing crashes, no note is counted that did not reach the cash box (or twice), and
the driver resynchronises and keeps working.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.acceptor import EventKind
from hardware.id003.driver import Id003Acceptor
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.journal.notes import JournalNotes
from tests.support.common import EventLog, wait_until


@pytest.fixture
def sim(sim_thread: AcceptorSimulator) -> AcceptorSimulator:
    """A thread of this process: these tests reach into the simulator (see conftest.py)."""
    return sim_thread


def _flip(bit: int):  # type: ignore[no-untyped-def]
    def mangle(wire: bytes) -> bytes:
        position = bit % (len(wire) * 8)
        mutated = bytearray(wire)
        mutated[position // 8] ^= 1 << (position % 8)
        return bytes(mutated)

    return mangle


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    garbage=st.binary(max_size=48),
    flip=st.none() | st.integers(0, 10_000),
    drop=st.integers(0, 2),
    value=st.sampled_from([1000, 2000, 5000, 10000]),
    delay_ms=st.integers(0, 400),
)
def test_fuzzed_wire_never_miscounts(
    sim: AcceptorSimulator,
    acceptor: Id003Acceptor,
    ledger: JournalNotes,
    events: EventLog,
    garbage: bytes,
    flip: int | None,
    drop: int,
    value: int,
    delay_ms: int,
) -> None:
    assert sim.wait_for(lambda d: not d.busy, 10)
    wait_until(lambda: acceptor.online, 10, "driver online")
    assert sim.wait_for(lambda d: not d.inhibited, 5)
    faults = sim.faults
    faults.garbage, faults.drop_replies = garbage, drop
    faults.mangle = _flip(flip) if flip is not None else None
    assert sim.insert(value)
    # Let the faults land somewhere in the accept sequence, then more garbage mid-flight.
    time.sleep(delay_ms / 1000)
    faults.garbage = garbage[::-1]
    assert sim.wait_for(lambda d: not d.busy, 10), sim.status
    wait_until(lambda: acceptor.online, 10, "driver back online")
    stacked = [e.value for e in events.of(EventKind.STACKED)]
    assert stacked == ledger.stacked_values() == sim.stacked
    assert not events.of(EventKind.UNCREDITED_NOTE)

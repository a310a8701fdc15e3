from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.id003.device import SimulatedDevice
from hardware.id003.driver import Id003Acceptor
from hardware.id003.simulator import AcceptorSimulator
from kiosk.note_store import SqliteNoteLedger
from tests.support import FAST_DRIVER, FAST_TIMING, EventLog


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[AcceptorSimulator]:
    simulator = AcceptorSimulator(SimulatedDevice(timing=FAST_TIMING), link=str(tmp_path / "acc"))
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqliteNoteLedger]:
    store = SqliteNoteLedger(tmp_path / "notes.sqlite3")
    yield store
    store.close()


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def acceptor(
    sim: AcceptorSimulator, ledger: SqliteNoteLedger, events: EventLog
) -> Iterator[Id003Acceptor]:
    """A driver on the simulator's pty, online and taking every note."""
    driver = Id003Acceptor(sim.path, ledger, FAST_DRIVER)
    driver.add_listener(events)
    driver.start()
    assert driver.wait_online(5), events.summary()
    driver.enable()
    sim.wait_for(lambda d: not d.inhibited, 2)
    yield driver
    driver.stop()

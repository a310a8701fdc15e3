from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from hardware.id003.driver import Id003Acceptor
from hardware.id003.sim.process import Simulator, SimulatorProcess, simulator_process
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.journal.notes import JournalNotes
from tests.support.common import (
    FAST_DRIVER,
    FAST_TIMING,
    EventLog,
    accepting_journal,
    running_simulator,
)
from tests.support.wallet import Sandbox, start_sandbox, stop_sandbox

# Fixtures shared by several test modules, registered once here (a test module never imports
# another): the filled-disk rig and the staff tests' configuration and journal.
pytest_plugins = ["tests.support.disk", "tests.support.staff_files"]

# Kivy reads these when first imported (tests/test_screens.py, collected after this file):
# render offscreen with a real GL context and no X (DISPLAY is left alone, so an xvfb-run still
# works), keep Kivy off the command line, the root logger and the user's ~/.kivy.
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_WINDOW", "sdl2")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
# Each test process (pytest-xdist's workers inherit the first process's environment) has a Kivy
# home and a pcscd socket of its own (tests/support/pcsc.py; libpcsclite reads the path once, at
# its first call, so it is set here, before any).
if "PYTEST_XDIST_WORKER" in os.environ or "KIVY_HOME" not in os.environ:
    os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="paykiosk-kivy-")
_PCSCD_DIR = tempfile.mkdtemp(prefix="paykiosk-pcscd-")
atexit.register(shutil.rmtree, _PCSCD_DIR, ignore_errors=True)
os.environ["PCSCLITE_CSOCK_NAME"] = str(Path(_PCSCD_DIR) / "pcscd.comm")
# Open the window at the largest size a test uses: the offscreen driver's framebuffer does not
# grow when the window is made larger later (the extra area renders as garbage).
os.environ.setdefault("KCFG_GRAPHICS_WIDTH", "1280")
os.environ.setdefault("KCFG_GRAPHICS_HEIGHT", "800")


@pytest.fixture(autouse=True)
def _environment_as_it_was() -> Iterator[None]:
    """A kiosk run in this process sets Kivy's, Mesa's and fontconfig's variables to its own
    data dir (screens/front.py, ``setdefault``): they go with the test, or a later test's kiosk
    process would inherit another test's (removed) dirs — and write outside its own."""
    before = dict(os.environ)
    yield
    if os.environ != before:
        zone = os.environ.get("TZ")
        os.environ.clear()
        os.environ.update(before)
        if os.environ.get("TZ") != zone:
            time.tzset()  # a kiosk's [kiosk] time_zone set in this process: local time back too


@pytest.fixture
def in_japan(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The kiosk's local time is Japan's (receipts and history show local time), and back to
    what it was afterwards."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorProcess]:
    """The acceptor simulator in a process of its own, as a unit is a device of its own: the
    load of tests side by side does not silence it (hardware/id003/sim/process.py)."""
    with simulator_process(tmp_path / "acc", FAST_TIMING) as simulator:
        yield simulator


@pytest.fixture
def sim_thread(tmp_path: Path) -> Iterator[AcceptorSimulator]:
    """The simulator as a thread of this process, for the driver's and the simulator's own
    tests that reach into it (wire faults, timing, the console): their module's ``sim``."""
    with running_simulator(tmp_path) as simulator:
        yield simulator


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[JournalNotes]:
    """The journal's note ledger, with a session open that takes every note."""
    journal = accepting_journal(tmp_path / "journal.sqlite3")
    yield journal.notes
    journal.close()


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def acceptor(sim: Simulator, ledger: JournalNotes, events: EventLog) -> Iterator[Id003Acceptor]:
    """A driver on the simulator's pty, online and taking every note."""
    driver = Id003Acceptor(sim.path, ledger, FAST_DRIVER)
    driver.add_listener(events)
    driver.start()
    assert driver.wait_online(5), events.summary()
    driver.enable()
    sim.wait_for(lambda d: not d.inhibited, 2)
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One real sandbox server process (HTTPS + mutual TLS on loopback) for the session."""
    running = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    yield running
    stop_sandbox(running)


@pytest.fixture
def wallet(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, with faults cleared before and after the test."""
    sandbox.clear_faults()
    yield sandbox
    sandbox.clear_faults()


@pytest.fixture(scope="module")
def tls_files() -> dict[str, bytes]:
    """A client certificate, its key and a CA bundle, as real PEM files (the config loads them)."""
    ca = trustme.CA()
    client = ca.issue_cert("kiosk.example")
    return {
        "client.pem": client.cert_chain_pems[0].bytes(),
        "client.key": client.private_key_pem.bytes(),
        "ca.pem": ca.cert_pem.bytes(),
    }


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """This test process's own pcscd with vsmartcard's virtual reader, started for the test run
    (stopped after it); a pcscd of the machine's own is never used nor disturbed."""
    from tests.support.pcsc import Pcscd

    daemon = Pcscd(tmp_path_factory.mktemp("pcscd") / "pcscd.log")
    daemon.start()
    yield daemon
    daemon.stop()

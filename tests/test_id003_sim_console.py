"""The simulator's text commands (`paykiosk acceptor-sim`, the demo's console)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hardware.id003.codes import Command, RejectReason, Status
from hardware.id003.frames import Frame
from hardware.id003.sim.console import HELP, NOTE_KEYS, run_command
from hardware.id003.sim.device import SimulatedDevice
from hardware.id003.sim.simulator import AcceptorSimulator
from tests.support.acceptor_wire import RawHost, wire

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sim(sim_thread: AcceptorSimulator) -> AcceptorSimulator:
    """A thread of this process: these tests reach into the simulator (see conftest.py)."""
    return sim_thread


def _enabled(sim: AcceptorSimulator) -> None:
    """Reset and enable the unit as a host would (straight on the model, no pty)."""

    def setup(device: SimulatedDevice, now: float) -> None:
        assert device.handle(Frame(Command.RESET), now) == Frame(Status.ACK)
        device.handle(Frame(Command.SET_INHIBIT, b"\x00"), now)

    sim.control(setup)
    assert sim.wait_for(lambda d: d.status == Frame(Status.IDLING), 2), sim.status


def _host(sim: AcceptorSimulator, command: int) -> Frame | None:
    return sim.control(lambda d, now: d.handle(Frame(command), now))


def _escrowed(sim: AcceptorSimulator, value: int) -> None:
    code = sim.device.code_of(value)
    assert sim.wait_for(lambda d: d.status == Frame(Status.ESCROW, bytes((code,))), 2), sim.status


def test_pause_armed_for_the_next_note(sim: AcceptorSimulator) -> None:
    _enabled(sim)
    assert run_command(sim, "pause 0.3") == "the next note pauses 0.3 s while stacking"
    assert sim.device.pause_next == 0.3
    assert run_command(sim, "insert 5000") == "note fed"
    _escrowed(sim, 5000)
    assert _host(sim, Command.STACK_2) == Frame(Status.ACK)
    assert sim.wait_for(lambda d: d.status.code == Status.VEND_VALID, 3)  # until the ACK
    # PAUSE part-way through stacking, then the rest of it: the states in order (the second
    # STACKING lasts 50 ms, too short to be sure to see by looking while tests run side by side)
    assert list(sim.device.states)[-4:] == [
        Status.STACKING,
        Status.PAUSE,
        Status.STACKING,
        Status.VEND_VALID,
    ]
    assert sim.stacked == [5000]


def test_pause_while_stacking(sim: AcceptorSimulator) -> None:
    sim.device.timing.stack_2 = 1.0
    _enabled(sim)
    run_command(sim, "insert 1000")
    _escrowed(sim, 1000)
    _host(sim, Command.STACK_2)
    assert run_command(sim, "pause") == "PAUSE for 1 s"  # the default
    assert sim.status == Frame(Status.PAUSE)
    assert sim.device.pause_next is None
    assert sim.wait_for(lambda d: d.status.code == Status.VEND_VALID, 3)


def test_help_puts_insert_1000_first_and_lists_the_keys(sim: AcceptorSimulator) -> None:
    lines = HELP.splitlines()
    assert lines[0].startswith("insert 1000 ")
    assert lines[1].startswith("1 2 5 0 ")
    assert "¥1,000 / ¥2,000 / ¥5,000 / ¥10,000" in lines[1]
    assert run_command(sim, "help") == HELP == run_command(sim, "?")
    with pytest.raises(ValueError, match="unknown command 'dance'") as error:
        run_command(sim, "dance")
    assert HELP in str(error.value)


@pytest.mark.parametrize(("key", "value"), [("1", 1000), ("2", 2000), ("5", 5000), ("0", 10000)])
def test_note_keys_feed_notes(sim: AcceptorSimulator, key: str, value: int) -> None:
    assert NOTE_KEYS[key] == value
    _enabled(sim)
    assert run_command(sim, key) == "note fed"
    _escrowed(sim, value)


def test_x_feeds_an_unreadable_note(sim: AcceptorSimulator) -> None:
    _enabled(sim)
    assert run_command(sim, "x") == "note fed"
    rejected = Frame(Status.REJECTING, bytes((RejectReason.DENOMINATION,)))
    assert sim.wait_for(lambda d: d.status == rejected, 2), sim.status


def test_keys_need_a_ready_unit(sim: AcceptorSimulator) -> None:
    assert run_command(sim, "1") == "unit busy (power_up): note not taken"  # no host reset it
    with pytest.raises(ValueError, match="no 3000 note"):
        run_command(sim, "insert 3000")


def _faults(sim: AcceptorSimulator) -> tuple[object, ...]:
    f = sim.faults
    return (f.reply_delay, f.drop_replies, f.corrupt_replies, f.garbage != b"", f.silent)


@pytest.mark.parametrize(
    ("line", "answer", "holds"),
    [
        (
            "jam before",
            "the next note jams before VEND VALID",
            lambda s: s.device.jam_next == "before_vend",
        ),
        (
            "jam after",
            "the next note jams after VEND VALID",
            lambda s: s.device.jam_next == "after_vend",
        ),
        ("stacker open", "stacker open", lambda s: s.device.stacker_open),
        ("fail a6", "failure 0xA6", lambda s: s.device.failure_code == 0xA6),
        ("cheat", "the next note is a cheat attempt", lambda s: s.device.cheat_next),
        ("full", "cash box full", lambda s: s.device.capacity == 0),
        ("collect", "collected 0 notes, ¥0", lambda s: s.stacked == []),
        (
            "delay 0.05",
            "replies delayed 0.050 s",
            lambda s: _faults(s) == (0.05, 0, 0, False, False),
        ),
        ("drop 2", "drop the next 2 replies", lambda s: _faults(s) == (0, 2, 0, False, False)),
        (
            "corrupt 1",
            "corrupt the next 1 replies",
            lambda s: _faults(s) == (0, 0, 1, False, False),
        ),
        ("garbage", "junk before the next reply", lambda s: _faults(s) == (0, 0, 0, True, False)),
        ("silent on", "silent", lambda s: _faults(s) == (0, 0, 0, False, True)),
        ("power-cut 0", "power restored", lambda s: s.status == Frame(Status.POWER_UP)),
        ("unplug 0.05", "plugged back", lambda s: Path(s.path).resolve().exists()),
    ],
)
def test_fault_commands(
    sim: AcceptorSimulator, line: str, answer: str, holds: Callable[[AcceptorSimulator], bool]
) -> None:
    assert run_command(sim, line) == answer
    assert holds(sim)


def test_clear_stacker_close_silent_off_and_status(sim: AcceptorSimulator) -> None:
    _enabled(sim)
    run_command(sim, "stacker open")
    assert sim.status == Frame(Status.STACKER_OPEN)
    assert run_command(sim, "stacker close") == "stacker close"
    assert run_command(sim, "silent on") == "silent"
    assert run_command(sim, "silent off") == "answering"
    assert not sim.faults.silent
    sim.device.timing.stack_2 = 0.05
    run_command(sim, "jam before")
    run_command(sim, "2")
    _escrowed(sim, 2000)
    _host(sim, Command.STACK_2)
    assert sim.wait_for(lambda d: d.status.code == Status.STACKER_JAM, 2)
    assert run_command(sim, "clear") == "jam cleared"
    assert sim.device.counters.removed_by_staff == 1
    assert run_command(sim, "status") == "status 11 · cash box 0 notes ¥0"


class _Console:
    """`python -m kiosk acceptor-sim --link PATH` with its stdin and stdout."""

    def __init__(self, link: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "acceptor-sim", "--link", str(link)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def say(self, command: str) -> str:
        """Type a command; the answer (the prompt stripped)."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.next_line().removeprefix("sim> ")

    def next_line(self, timeout: float = 5.0) -> str:
        return self.lines.get(timeout=timeout)


def test_acceptor_sim_console_takes_the_note_keys(tmp_path: Path) -> None:
    link = tmp_path / "acceptor"
    console = _Console(link)
    try:
        assert console.next_line(10) == f"ID-003 simulator on {link}"
        assert console.next_line().startswith("insert 1000 ")
        deadline = time.monotonic() + 5
        while not link.exists():
            assert time.monotonic() < deadline, "no link"
            time.sleep(0.01)
        with RawHost(str(link)) as host:
            assert host.ask(Command.STATUS_REQUEST) == wire(Status.POWER_UP)
            host.ask(Command.RESET)
            host.ask(Command.SET_INHIBIT, b"\x00")
            while host.ask(Command.STATUS_REQUEST) != wire(Status.IDLING):
                assert time.monotonic() < deadline + 5, "never idle"
                time.sleep(0.05)
            while not console.next_line().startswith("help "):
                pass  # the rest of the help, down to its last line
            assert console.say("1") == "note fed"
            escrow = wire(Status.ESCROW, b"\x61")
            while (status := host.ask(Command.STATUS_REQUEST)) != escrow:
                assert status == wire(Status.ACCEPTING), status
                time.sleep(0.05)
            assert console.say("status") == "status 13 61 · cash box 0 notes ¥0"
            assert console.say("5") == "unit busy (escrow): note not taken"
        assert console.process.stdin is not None
        console.process.stdin.write("quit\n")
        console.process.stdin.flush()
        assert console.process.wait(10) == 0
    finally:
        if console.process.poll() is None:
            console.process.kill()
            console.process.wait(5)

"""Shared test helpers: an event log with waits, fast simulator/driver settings, screenshots."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hardware.acceptor import AcceptorEvent, EventKind
from hardware.id003.driver import DriverConfig
from hardware.id003.protocol import ProtocolConfig
from hardware.id003.sim.device import SimulatedDevice, Timing
from hardware.id003.sim.simulator import AcceptorSimulator
from kiosk.journal import Journal

# Screenshots for a look (README); tests read back their own copy, never this folder's, which
# other test processes (and other runs on the machine) write beside them.
SHOTS = Path(os.environ.get("PAYKIOSK_SCREENSHOTS", "/tmp/paykiosk-screens"))
_own_shots: list[Path] = []  # this process's folder for the copies it reads back

FAST_TIMING = Timing(
    accepting=0.05,
    stack_1=0.05,
    stack_2=0.1,
    stacked=0.05,
    returning=0.1,
    # A refused note is only ever seen as this status, and the kiosk polls every 100 ms: shorter,
    # a poll that comes late on a busy machine (tests side by side) misses the refusal.
    rejecting=0.6,
    initialize=0.1,
    cheated=0.2,
    escrow_timeout=10.0,
)
FAST_DRIVER = DriverConfig(
    protocol=ProtocolConfig(poll_interval=0.05, response_timeout=0.1, start_response_timeout=0.3),
    reconnect_min=0.1,
    reconnect_max=0.5,
)


class EventLog:
    """Collects acceptor events (a listener) and waits for them."""

    def __init__(self) -> None:
        self.events: list[AcceptorEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: AcceptorEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: EventKind) -> list[AcceptorEvent]:
        with self._cond:
            return [e for e in self.events if e.kind is kind]

    def wait(self, kind: EventKind, count: int = 1, timeout: float = 5.0) -> list[AcceptorEvent]:
        """Wait until ``count`` events of ``kind`` arrived; returns them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := [e for e in self.events if e.kind is kind]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"waited {timeout}s for {count}x {kind.value}; got {self.summary()}"
                    )
                self._cond.wait(left)
            return found

    def summary(self) -> list[str]:
        with self._cond:
            return [str(e) for e in self.events]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


def accepting_journal(path: Path, headroom: int = 10**9) -> Journal:
    """A journal with a charge session open and taking notes up to ``headroom``."""
    journal = Journal(path, "T01")
    session = journal.sessions.open("TEST…00", "user-test", "テスト", "base", "money-test")
    journal.gate.open(session, headroom)
    return journal


@contextlib.contextmanager
def running_simulator(tmp_path: Path, timing: Timing = FAST_TIMING) -> Iterator[AcceptorSimulator]:
    """The ID-003 simulator on a pty, linked at ``tmp_path/acc``, for the test's length."""
    simulator = AcceptorSimulator(SimulatedDevice(timing=timing), link=str(tmp_path / "acc"))
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """A command refused with exit 1 and one line on stderr naming ``words``, no traceback."""
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def stop_process(process: subprocess.Popen[Any] | None, grace: float = 10.0) -> None:
    """SIGTERM, and SIGKILL if it has not ended within ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def window_shot(name: str, folder: Path = SHOTS) -> str:
    """Kivy's last frame: written to this process's own folder (the path returned, for the test
    to read back) and published as ``folder/<name>.png`` for a look, replacing the last run's in
    one step (a reader never sees half a file)."""
    from kivy.core.window import Window

    if not _own_shots:
        _own_shots.append(Path(tempfile.mkdtemp(prefix="paykiosk-shots-")))
        atexit.register(shutil.rmtree, _own_shots[0], ignore_errors=True)
    own: str = Window.screenshot(name=str(_own_shots[0] / f"{name}-.png"))
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.{os.getpid()}.part"
    shutil.copyfile(own, partial)
    os.replace(partial, folder / f"{name}.png")
    return own

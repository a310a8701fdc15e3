"""The ID-003 device simulator on a pseudo-terminal: the driver opens its path like a real port.

Wire faults (delay, dropped replies, garbage, bad CRC, silence) are injected here; device faults
(jam, stacker, power) live in :class:`~hardware.id003.sim.device.SimulatedDevice`. When a host
sets an interrupt mode (C2 01 / C2 02), the unit's ENQ frames go out here too. Every control
method is thread-safe.
"""

from __future__ import annotations

import contextlib
import os
import select
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from hardware.id003.codes import Command
from hardware.id003.frames import Frame, FrameParser
from hardware.id003.sim.device import SimulatedDevice

T = TypeVar("T")

BYTE_TIME = 11 / 9600  # start, 8 data, parity and stop bit at 9600 baud: a 5-byte frame ~6 ms
ENQ_GAP = 0.02  # quiet line before an ENQ


@dataclass
class WireFaults:
    reply_delay: float = 0.0  # seconds before each reply goes out
    drop_replies: int = 0  # the next N replies are not sent
    corrupt_replies: int = 0  # the next N replies go out with a broken CRC
    garbage: bytes = b""  # sent once, just before the next reply
    silent: bool = False  # answer nothing (a unit that hangs)
    lose_acks: int = 0  # the next N ACKs from the host are lost on the wire
    mangle: Callable[[bytes], bytes] | None = None  # rewrites the next reply's bytes once


@dataclass(frozen=True)
class TraceEntry:
    at: float  # time.monotonic(): when read from the host (rx) or written to it (tx)
    direction: str  # "rx" (from host) or "tx" (to host)
    frame: Frame


@dataclass
class _Port:
    master: int
    pts: str
    termios_at_open: list = field(default_factory=list)  # type: ignore[type-arg]


class AcceptorSimulator:
    """Runs a :class:`SimulatedDevice` behind a pty. ``path`` is what the driver opens."""

    def __init__(self, device: SimulatedDevice | None = None, link: str | None = None) -> None:
        self.device = device or SimulatedDevice()
        self.faults = WireFaults()
        self.link = Path(link) if link else None
        self.trace: list[TraceEntry] = []
        self.trace_limit = 100_000
        self.on_receive: Callable[[Frame], None] | None = None  # tests: act on a host frame
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: _Port | None = None
        self._outbox: list[tuple[float, bytes, Frame]] = []  # due, bytes, what they carry
        self._line_free = 0.0  # when the last queued frame has left at line speed
        self._host_present = False
        self._parser = FrameParser()
        self._plug()

    # ---- lifecycle -------------------------------------------------------------------
    @property
    def path(self) -> str:
        if self.link is not None:
            return str(self.link)
        assert self._port is not None
        return self._port.pts

    def start(self) -> AcceptorSimulator:
        self._thread = threading.Thread(target=self._run, name="id003-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            self._unplug()

    def __enter__(self) -> AcceptorSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- control ---------------------------------------------------------------------
    def control(self, action: Callable[[SimulatedDevice, float], T]) -> T:
        """Run ``action(device, now)`` under the simulator's lock."""
        with self._lock:
            return action(self.device, time.monotonic())

    def insert(self, value: int | None) -> bool:
        """Feed a note of this value (None: a note the unit does not recognise)."""
        return self.control(
            lambda d, now: d.insert(None if value is None else d.code_of(value), now)
        )

    def pause(self, seconds: float | None = None) -> bool:
        """PAUSE (a second note pushed in while one is stacking) for ``seconds``: now if a note
        is stacking (True), else while the next note stacks (False)."""

        def act(device: SimulatedDevice, now: float) -> bool:
            if device.pause(now, seconds):
                return True
            device.pause_next = device.timing.pause if seconds is None else seconds
            return False

        return self.control(act)

    def power_cut(self) -> None:
        self.control(lambda d, now: d.power_cut())

    def power_on(self) -> None:
        self.control(lambda d, now: d.power_on())

    def unplug(self) -> None:
        """The USB serial adapter is pulled: the port disappears."""
        with self._lock:
            self._unplug()

    def plug(self) -> None:
        with self._lock:
            if self._port is None:
                self._plug()

    @property
    def stacked(self) -> list[int]:
        """Values of the notes in the cash box, in order."""
        with self._lock:
            return list(self.device.counters.stacked)

    @property
    def status(self) -> Frame:
        with self._lock:
            self.device.advance(time.monotonic())
            return self.device.status

    @property
    def host_connected(self) -> bool:
        return self._host_present

    def wait_for(self, predicate: Callable[[SimulatedDevice], bool], timeout: float) -> bool:
        """Wait until ``predicate(device)`` holds (checked under the lock)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                self.device.advance(time.monotonic())
                if predicate(self.device):
                    return True
            time.sleep(0.01)
        return False

    # ---- pty plumbing ----------------------------------------------------------------
    def _plug(self) -> None:
        master, slave = os.openpty()
        port = _Port(master, os.ttyname(slave), termios.tcgetattr(slave))
        os.close(slave)  # with no slave open here, the master sees POLLHUP when the host leaves
        os.set_blocking(master, False)
        self._port = port
        self._host_present = False
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(port.pts)
            tmp.replace(self.link)

    def _unplug(self) -> None:
        port, self._port = self._port, None
        if port is None:
            return
        if self.link is not None and self.link.is_symlink():
            self.link.unlink()
        os.close(port.master)
        self._outbox.clear()
        self._parser.reset()

    def _host_left(self, port: _Port) -> None:
        """Restore the slave's original termios: pyserial cannot re-open a pty it configured
        as 8E1 and closed (EINVAL), so a restarted host could not reconnect otherwise."""
        self._host_present = False
        self._outbox.clear()
        self._parser.reset()
        with contextlib.suppress(OSError, termios.error):
            fd = os.open(port.pts, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                termios.tcsetattr(fd, termios.TCSANOW, port.termios_at_open)
                termios.tcflush(fd, termios.TCIOFLUSH)
            finally:
                os.close(fd)

    def _run(self) -> None:
        while not self._stop.is_set():
            port = self._port
            if port is None:
                time.sleep(0.01)
                continue
            poller = select.poll()
            poller.register(port.master, select.POLLIN)
            try:
                events = dict(poller.poll(2)).get(port.master, 0)
            except (OSError, ValueError):
                continue  # unplugged under us
            with self._lock:
                if self._port is port:
                    self._service(port, events)
            if events & select.POLLHUP and not self._host_present:
                time.sleep(0.01)  # nobody has the port open

    def _service(self, port: _Port, events: int) -> None:
        now = time.monotonic()
        self.device.advance(now)
        if events & select.POLLHUP and not events & select.POLLIN:
            if self._host_present:
                self._host_left(port)
            return
        self._host_present = True
        if events & select.POLLIN:
            try:
                data = os.read(port.master, 4096)
            except OSError:
                return
            for frame in self._parser.feed(data):
                self._record("rx", frame, now)
                if self.on_receive is not None:
                    self.on_receive(frame)
                if frame.code == Command.ACK and self.faults.lose_acks > 0:
                    self.faults.lose_acks -= 1
                    continue
                reply = self.device.handle(frame, now)
                if reply is not None:
                    self._queue_reply(reply, now)
        now = time.monotonic()
        enq = self.device.unsolicited(now)  # interrupt mode: status changed since last heard
        if enq is not None:
            self._queue_reply(enq, now, not_before=self._line_free + ENQ_GAP)
        self._flush(port, now)

    def _queue_reply(self, reply: Frame, now: float, not_before: float = 0.0) -> None:
        """Queue a frame to the host; ENQ comes here too, so wire faults apply to it."""
        faults = self.faults
        if faults.silent:
            return
        if faults.drop_replies > 0:
            faults.drop_replies -= 1
            return
        wire = reply.encode()
        if faults.corrupt_replies > 0:
            faults.corrupt_replies -= 1
            wire = wire[:-1] + bytes(((wire[-1] ^ 0x5A),))
        if faults.mangle is not None:
            wire, faults.mangle = faults.mangle(wire), None
        if faults.garbage:
            wire, faults.garbage = faults.garbage + wire, b""
        # A frame starts once the previous one has gone at 9600 baud, as on a real line: a
        # host never gets two replies in one read just because they were queued together.
        due = max(now + faults.reply_delay, not_before, self._line_free)
        self._line_free = due + len(wire) * BYTE_TIME
        self._outbox.append((due, wire, reply))

    def _flush(self, port: _Port, now: float) -> None:
        if self._outbox and self._outbox[0][0] <= now:  # one frame per pass: never two at once
            _, wire, reply = self._outbox.pop(0)
            with contextlib.suppress(OSError):
                os.write(port.master, wire)
                # traced as it goes out (a delayed reply later than its command was handled)
                self._record("tx", reply, now)

    def _record(self, direction: str, frame: Frame, now: float) -> None:
        if len(self.trace) < self.trace_limit:
            self.trace.append(TraceEntry(now, direction, frame))

"""The ID-003 device simulator on a pseudo-terminal: the driver opens its path like a real port.

Wire faults (delay, dropped replies, garbage, bad CRC, silence) are injected here; device faults
(jam, stacker, power) live in :class:`~hardware.id003.sim.device.SimulatedDevice`. When a host
sets an interrupt mode (C2 01 / C2 02), the unit's ENQ frames go out here too. Every control
method is thread-safe.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import termios
import threading
import time
from collections import deque
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
IDLE_POLL_MS = 2  # how often the unit looks at its state when nothing is on the line


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
    """One frame on the line. ``at`` (``time.monotonic()``): for "tx", when its first byte
    starts to leave; for "rx", when the unit read it. ``until``: when its last byte is through
    at 9600 baud (for "rx", counted from the read: a pty hands over a write at once)."""

    at: float
    direction: str  # "rx" (from host) or "tx" (to host)
    frame: Frame
    until: float = 0.0


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
        self._outbox: deque[tuple[float, int]] = deque()  # (when it has left, byte) to the host
        self._line_free = 0.0  # when the last queued byte has left at line speed
        self._rx_free = 0.0  # when the host's last frame would be through at line speed
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
                events = dict(poller.poll(self._poll_ms())).get(port.master, 0)
            except (OSError, ValueError):
                continue  # unplugged under us
            with self._lock:
                if self._port is port:
                    self._service(port, events)
            if events & select.POLLHUP and not self._host_present:
                time.sleep(0.01)  # nobody has the port open

    def _poll_ms(self) -> int:
        """Sleep until the next byte is due (a byte takes ~1.1 ms), or a short idle pass."""
        with self._lock:
            if not self._outbox:
                return IDLE_POLL_MS
            wait = self._outbox[0][0] - time.monotonic()
        return min(IDLE_POLL_MS, max(0, math.ceil(wait * 1000)))

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
                # The pty hands the host's write over at once; on a line the unit has the
                # frame only when its last byte is in, and frames written together queue up.
                arrived = max(now, self._rx_free) + len(frame.encode()) * BYTE_TIME
                self._rx_free = arrived
                self._record("rx", frame, now, arrived)
                if self.on_receive is not None:
                    self.on_receive(frame)
                if frame.code == Command.ACK and self.faults.lose_acks > 0:
                    self.faults.lose_acks -= 1
                    continue
                reply = self.device.handle(frame, now)
                if reply is not None:
                    self._queue_reply(reply, arrived)
        now = time.monotonic()
        # Interrupt mode: an ENQ goes out after ENQ_GAP of quiet line both ways. Until then
        # nothing is reserved for it, so a command that comes meanwhile is answered first, as
        # in polling mode (and a STATUS REQUEST's reply may leave no change to announce).
        if now >= max(self._line_free, self._rx_free) + ENQ_GAP:
            enq = self.device.unsolicited(now)  # the status changed since the host last asked
            if enq is not None:
                self._queue_reply(enq, now)
        self._flush(port, now)

    def _queue_reply(self, reply: Frame, ready: float) -> None:
        """Queue a frame to the host from ``ready`` on; ENQ comes here too, so wire faults
        apply to it."""
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
        # A UART: the frame starts once the line is free, and each byte reaches the host when
        # its stop bit is through, one byte time after the one before.
        start = max(ready + faults.reply_delay, self._line_free)
        for n, byte in enumerate(wire, 1):
            self._outbox.append((start + n * BYTE_TIME, byte))
        self._line_free = start + len(wire) * BYTE_TIME
        self._record("tx", reply, start, self._line_free)

    def _flush(self, port: _Port, now: float) -> None:
        """Hand the pty every byte whose time has come (a late pass sends a few at once, as a
        host reading late finds them in its buffer)."""
        due = bytearray()
        while self._outbox and self._outbox[0][0] <= now:
            due.append(self._outbox.popleft()[1])
        if due:
            with contextlib.suppress(OSError):
                os.write(port.master, bytes(due))

    def _record(self, direction: str, frame: Frame, at: float, until: float) -> None:
        if len(self.trace) < self.trace_limit:
            self.trace.append(TraceEntry(at, direction, frame, until))

"""ID-003 serial driver: a thread that moves bytes between a serial port and the protocol.

Opens the port with pyserial at 9600 8E1, polls, and reconnects with backoff when the port
vanishes or the unit stops answering. Ledger hooks and event listeners run on this thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import serial

from hardware.acceptor import AcceptorEvent, EventKind, NoteLedger
from hardware.id003.codes import Command
from hardware.id003.frames import Frame, FrameParser
from hardware.id003.protocol import HostProtocol, ProtocolConfig
from hardware.listeners import notify

log = logging.getLogger("paykiosk.acceptor")
# pyserial lets termios.error (not an OSError) out of tcsetattr when a port is reopened
_PORT_ERRORS = (serial.SerialException, OSError, termios.error)

Listener = Callable[[AcceptorEvent], None]
_INHIBIT = Frame(Command.SET_INHIBIT, b"\x01").encode()


@dataclass(frozen=True)
class DriverConfig:
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    reconnect_min: float = 0.25
    reconnect_max: float = 8.0


class Id003Acceptor:
    """A JCM ID-003 bill acceptor on a serial port (a :class:`~hardware.acceptor.BillAcceptor`)."""

    def __init__(self, port: str, ledger: NoteLedger, config: DriverConfig | None = None) -> None:
        self.port = port
        self.config = config or DriverConfig()
        self._protocol = HostProtocol(ledger, self.config.protocol)
        self._listeners: list[Listener] = []
        self._requests: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._online = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None

    # ---- engine API ------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="id003", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def enable(self, values: set[int] | None = None) -> None:
        self._request(lambda: self._protocol.enable(values))

    def inhibit(self) -> None:
        self._request(self._protocol.inhibit)

    def test(self, values: set[int] | None = None) -> None:
        self._request(lambda: self._protocol.enable(values, hand_back=True))

    def reset(self) -> bool:
        if not self.online:
            return False
        self._request(lambda: self._protocol.reset(time.monotonic()))
        return True

    @property
    def denominations(self) -> list[int]:
        currency = self._protocol.currency
        return currency.values if currency and self.online else []

    @property
    def online(self) -> bool:
        return self._online.is_set()

    @property
    def version(self) -> str:
        return self._protocol.version

    def wait_online(self, timeout: float) -> bool:
        return self._online.wait(timeout)

    def _request(self, action: Callable[[], None]) -> None:
        with self._lock:
            self._requests.append(action)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")

    # ---- I/O thread ------------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.config.reconnect_min
        while not self._stop.is_set():
            try:
                port = serial.Serial(
                    self.port,
                    9600,
                    bytesize=8,
                    parity="E",
                    stopbits=1,
                    timeout=0,
                    write_timeout=1.0,
                    exclusive=True,
                )
            except _PORT_ERRORS as error:
                self._protocol.lost(time.monotonic(), f"cannot open {self.port}: {error}")
                self._dispatch()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.config.reconnect_max)
                continue
            log.info("acceptor port %s open", self.port)
            try:
                self._serve(port)
                if self._protocol.online:
                    backoff = self.config.reconnect_min
            except _PORT_ERRORS as error:
                self._protocol.lost(time.monotonic(), f"port error: {error}")
            finally:
                port.close()
                self._dispatch()
            if not self._stop.is_set():
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.config.reconnect_max)

    def _serve(self, port: serial.Serial) -> None:
        protocol = self._protocol
        parser = FrameParser()
        protocol.start(time.monotonic())
        fd = port.fileno()
        while not self._stop.is_set():
            self._run_requests()
            now = time.monotonic()
            if parser.pending and now >= protocol.next_deadline():
                for frame in parser.expire():
                    protocol.receive(frame, now)
            out = protocol.tick(now)
            if out:
                port.write(out)
            self._dispatch()
            if protocol.wants_reconnect:
                return
            if out:
                continue
            wait = min(max(protocol.next_deadline() - time.monotonic(), 0.0), 0.5)
            ready, _, _ = select.select([fd, self._wake_r], [], [], wait)
            if self._wake_r in ready:
                os.read(self._wake_r, 512)
            if fd in ready:
                data = port.read(port.in_waiting or 1)
                now = time.monotonic()
                for frame in parser.feed(data):
                    protocol.receive(frame, now)
        self._inhibit_on_stop(port, parser)

    def _inhibit_on_stop(self, port: serial.Serial, parser: FrameParser) -> None:
        """Best effort on a clean stop: leave the unit refusing notes. Still one request at a
        time: a reply in flight (a few ms at 9600 baud) is waited for, a time-out at most."""
        protocol = self._protocol
        protocol.inhibit()
        fd = port.fileno()
        deadline = time.monotonic() + protocol.config.start_response_timeout
        while protocol.settings_pending and time.monotonic() < deadline:
            out = protocol.tick(time.monotonic())
            if out:
                port.write(out)
                if out == _INHIBIT:
                    return  # its echo is not waited for
            wait = min(protocol.next_deadline(), deadline) - time.monotonic()
            if select.select([fd], [], [], max(wait, 0.0))[0]:
                data = port.read(port.in_waiting or 1)
                for frame in parser.feed(data):
                    protocol.receive(frame, time.monotonic())

    def _run_requests(self) -> None:
        with self._lock:
            requests, self._requests = self._requests, []
        for request in requests:
            request()

    def _dispatch(self) -> None:
        for event in self._protocol.take_events():
            if event.kind is EventKind.ONLINE:
                self._online.set()
            elif event.kind in (EventKind.OFFLINE, EventKind.RESETTING):
                self._online.clear()
            log.info("acceptor event: %s", event)
            notify(self._listeners, event, log)

"""FeliCa card emulator on nfcpy's udp driver, and a stand-in plug for a udp reader.

The emulator is a second nfcpy frontend in card mode: it binds ``0.0.0.0:PORT`` (one port per
emulator) and answers a reader opened at ``udp:127.0.0.1:PORT`` as a Type 3 card (polling,
presence checks, Read Without Encryption from its blocks). Taking the card away closes the port:
the reader's presence check fails and it sees the card leave, as on a real reader.

    python -m hardware.felica.sim --port 54321 --idm 0123456789ABCDEF --hold 2
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hardware.felica import nfcpy  # noqa: F401  # before nfc: its import without a gcc run

# isort: split

import nfc
import nfc.clf

from hardware.felica.udp import MonotonicUdp

# IC type 0x20 (a FeliCa Standard chip, so nfcpy uses RequestResponse as the presence check);
# bytes 2-7 declare generous maximum response times (about 77 ms per command) so that a reader
# in the same process does not give up on the card when the machine is busy.
DEFAULT_PMM = "0120BFBFBFBFBFBF"
_SLICE = 0.05  # card-side waits are cut into slices of this length to notice removal


def _hex8(value: str, name: str) -> bytes:
    raw = bytes.fromhex(value)
    if len(raw) != 8:
        raise ValueError(f"{name} must be 8 bytes (16 hex chars), got {value!r}")
    return raw


def number_block(number: str, offset: int = 0) -> bytes:
    """A 16-byte block holding ``number`` as ASCII at ``offset``, padded with spaces."""
    data = b" " * offset + number.encode("ascii")
    if len(data) > 16:
        raise ValueError("number does not fit in a block")
    return data.ljust(16, b" ")


@dataclass(frozen=True)
class EmulatedCard:
    """A FeliCa card: IDm/PMm as hex, the system code it answers for, and readable blocks
    (``{service_code: {block_number: 16 bytes}}``, services readable without a key)."""

    idm: str
    pmm: str = DEFAULT_PMM
    system_code: int = 0xFE00  # the FeliCa common area, where member/student cards keep data
    brty: str = "212F"  # or "424F"
    blocks: Mapping[int, Mapping[int, bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _hex8(self.idm, "idm")
        _hex8(self.pmm, "pmm")
        if self.brty not in ("212F", "424F"):
            raise ValueError(f"brty {self.brty!r} is not 212F or 424F")
        for service, blocks in self.blocks.items():
            if any(len(data) != 16 for data in blocks.values()):
                raise ValueError(f"service {service:04X}: every block must be 16 bytes")

    @property
    def sensf_res(self) -> bytearray:
        system = self.system_code.to_bytes(2, "big")
        return bytearray(b"\x01" + _hex8(self.idm, "idm") + _hex8(self.pmm, "pmm") + system)


def free_udp_port() -> int:
    """A UDP port nothing is bound to right now (for one emulator), and one without a service
    name: nfcpy's udp driver reads the port back through ``getnameinfo`` without
    ``NI_NUMERICSERV`` and fails on a named one (57000 is "dircproxy" in /etc/services)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("0.0.0.0", 0))
            port: int = probe.getsockname()[1]
        if _as_nfcpy_reads_it(port).isdigit():
            return port


def _as_nfcpy_reads_it(port: int) -> str:
    return socket.getnameinfo(("127.0.0.1", port), socket.NI_NUMERICHOST)[1]


class _CardSideUdp(MonotonicUdp):
    """nfcpy's udp driver for the card side; any wait ends once the card is taken away, and a
    card taken away answers nothing."""

    def __init__(
        self, host: str, port: int, gone: Callable[[], bool], answered: Callable[[], None]
    ):
        super().__init__(host, port)
        self._gone, self._answered = gone, answered
        self._vendor_name, self._device_name, self._chipset_name = "Pay Spot", "card", "UDP"
        self._path = f"udp:{host}:{port}"

    def _recv_data(self, timeout: float | None, *brty_list: str) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._gone():
            step = _SLICE if deadline is None else min(_SLICE, deadline - time.monotonic())
            if step <= 0:
                break
            try:
                return super()._recv_data(step, *brty_list)
            except nfc.clf.TimeoutError:
                continue
        raise nfc.clf.TimeoutError("card taken away" if self._gone() else "no data received")

    def _send_data(self, brty: str, data: bytes, addr: Any) -> None:
        if not self._gone():
            self._answered()  # first: the reader may act on the reply before this thread runs on
            super()._send_data(brty, data, addr)


class CardEmulator:
    """Presents one emulated card at a time on ``udp:HOST:PORT`` (``device_path``)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.touched_at: float | None = None  # monotonic: the card entered the field
        self.answered_at: float | None = None  # monotonic: first reply to a reader this touch
        self.activations = 0  # how often a reader activated a card (all touches)
        self.replies = 0  # responses sent to readers (polls, presence checks, reads)
        self._lock = threading.Lock()
        self._removed = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def device_path(self) -> str:
        return f"udp:{self.host}:{self.port}"

    @property
    def present(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def touch(self, card: EmulatedCard, hold: float | None = None, timeout: float = 5.0) -> None:
        """Put ``card`` on the reader (taking any other card away first), for ``hold`` seconds
        or until :meth:`remove`. Returns once the card is listening. The same card put back
        less than the reader's ``min_interval`` after it saw the card leave (e.g. touched again
        while still held) is, by design, the same touch: no second event."""
        self.remove()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("0.0.0.0", self.port))  # fail here, not in a busy loop inside nfcpy
        removed, ready = threading.Event(), threading.Event()
        with self._lock:
            self.touched_at = self.answered_at = None
            self._removed = removed
        args = (card, removed, ready, None if hold is None else time.monotonic() + hold)
        self._thread = threading.Thread(target=self._present, args=args, daemon=True)
        self._thread.name = "felica-card"
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("card emulator did not start")

    def remove(self, timeout: float = 5.0) -> None:
        """Take the card away; returns when it no longer answers."""
        self._removed.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def close(self) -> None:
        self.remove()

    def __enter__(self) -> CardEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answered(self) -> None:
        with self._lock:
            self.replies += 1
            if self.answered_at is None:
                self.answered_at = time.monotonic()

    def _present(
        self,
        card: EmulatedCard,
        removed: threading.Event,
        ready: threading.Event,
        until: float | None,
    ) -> None:
        def gone() -> bool:
            return removed.is_set() or (until is not None and time.monotonic() >= until)

        def on_startup(target: Any) -> Any:
            target.brty, target.sensf_res = card.brty, card.sensf_res
            if not ready.is_set():
                self.touched_at = time.monotonic()
                ready.set()
            return target

        def on_connect(tag: Any) -> bool:
            for service, blocks in card.blocks.items():
                tag.add_service(service, _block_reader(blocks), None)
            self.activations += 1
            return True  # keep answering until the reader lets go or the card is taken away

        clf = nfc.ContactlessFrontend()
        clf.device = _CardSideUdp(self.host, self.port, gone, self._answered)
        options = {"on-startup": on_startup, "on-connect": on_connect, "timeout": 3600.0}
        try:
            while not gone():
                clf.connect(card=options, terminate=gone)
        finally:
            clf.close()


def _block_reader(blocks: Mapping[int, bytes]) -> Callable[[int, bool, bool], bytes | None]:
    def read(number: int, first: bool, last: bool) -> bytes | None:
        return blocks.get(number)

    return read


class UdpReaderPlug:
    """Opens real nfcpy udp frontends for :class:`~hardware.felica.reader.FelicaReader` (as its
    ``open_frontend``) and can pull their plug.

    nfcpy's udp driver has no cable to lose, so this stands in for one. While unplugged, an open
    frontend's device raises ``OSError(ENODEV)`` on its next poll or exchange — what nfcpy's USB
    transport raises when the reader vanishes, and what makes ``connect()`` return False — and
    opening finds no reader (None, as ``ContactlessFrontend.open('usb:054c:06c3')`` returns
    False with nothing plugged in). :meth:`hang` makes the driver's next poll or exchange block
    until :meth:`resume`, as a USB transfer that never completes (or a poll of nfcpy's own udp
    driver waiting on a wall clock set back). Everything else is the real nfcpy stack over
    loopback.
    """

    def __init__(self) -> None:
        self._plugged = threading.Event()
        self._plugged.set()
        self._running = threading.Event()
        self._running.set()
        self.opens = 0

    @property
    def plugged(self) -> bool:
        return self._plugged.is_set()

    def unplug(self) -> None:
        self._plugged.clear()

    def plug(self) -> None:
        self._plugged.set()

    def hang(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def open(self, path: str) -> nfc.ContactlessFrontend | None:
        if not self.plugged:
            return None
        kind, host, port = path.split(":")
        if kind != "udp":
            raise ValueError(f"{path!r} is not a udp path")
        clf = nfc.ContactlessFrontend()
        clf.device = _PluggedUdp(host, int(port), self._plugged.is_set, self._running.wait)
        self.opens += 1
        return clf


class _PluggedUdp(MonotonicUdp):
    def __init__(
        self, host: str, port: int, plugged: Callable[[], bool], running: Callable[[], object]
    ) -> None:
        super().__init__(host, port)
        self._plugged, self._running = plugged, running
        self._vendor_name, self._device_name, self._chipset_name = "Pay Spot", "reader", "UDP"
        self._path = f"udp:{host}:{port}"

    def _check(self) -> None:
        self._running()  # returns at once unless the driver hangs
        if not self._plugged():
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))

    def sense_ttf(self, target: Any) -> Any:
        self._check()
        return super().sense_ttf(target)

    def send_cmd_recv_rsp(self, target: Any, data: Any, timeout: float) -> Any:
        self._check()
        return super().send_cmd_recv_rsp(target, data, timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description="Touch an emulated FeliCa card on a udp reader.")
    parser.add_argument("--port", type=int, default=54321)
    parser.add_argument("--idm", default="0123456789ABCDEF")
    parser.add_argument("--hold", type=float, default=2.0, help="seconds on the reader")
    parser.add_argument("--number", help="member number to store in a block")
    parser.add_argument("--service", default="1A8B", help="service code (hex) for --number")
    parser.add_argument("--block", type=int, default=0)
    args = parser.parse_args()
    blocks = {}
    if args.number:
        blocks = {int(args.service, 16): {args.block: number_block(args.number)}}
    emulator = CardEmulator(args.port)
    emulator.touch(EmulatedCard(args.idm.upper(), blocks=blocks), hold=args.hold)
    while emulator.present:
        time.sleep(0.1)
    print(f"card {'read' if emulator.activations else 'NOT read'} by a reader")


if __name__ == "__main__":
    main()

"""A bare ID-003 host for wire-level tests: raw bytes over the simulator's pty.

Frames are built and checked here without :mod:`hardware.id003.frames` (a bitwise CRC instead of
its table), so the tests compare the simulator's bytes with an independent computation.
"""

from __future__ import annotations

import time
from types import TracebackType

import serial

SYNC = 0xFC


def crc16_kermit_bitwise(data: bytes) -> int:
    """CRC-16/KERMIT bit by bit: poly 0x1021 reflected (0x8408), init 0, no final xor."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def wire(code: int, data: bytes = b"") -> bytes:
    """``FC LNG CODE DATA CRC_lo CRC_hi``, LNG counting the whole frame."""
    body = bytes((SYNC, 5 + len(data), code)) + data
    crc = crc16_kermit_bitwise(body)
    return body + bytes((crc & 0xFF, crc >> 8))


class RawHost:
    """Opens the port 9600 8E1 like a real host; sends frames and reads whole raw frames."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 9600, bytesize=8, parity="E", stopbits=1, timeout=0)
        self._buffer = bytearray()
        self.skipped_enqs = 0  # ENQs that came while :meth:`ask` waited for a reply

    def __enter__(self) -> RawHost:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.port.close()

    def send(self, code: int, data: bytes = b"") -> None:
        self.port.write(wire(code, data))

    def read(self, timeout: float = 1.0) -> bytes | None:
        """The next whole frame's raw bytes (CRC checked), or None if none came in time."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._take()
            if frame is not None:
                return frame
            if time.monotonic() > deadline:
                return None
            chunk = self.port.read(256)
            if not chunk:
                time.sleep(0.002)
            self._buffer += chunk

    def ask(self, code: int, data: bytes = b"", timeout: float = 1.0) -> bytes | None:
        """Send a request and return the first frame that is not ENQ (the reply)."""
        self.send(code, data)
        deadline = time.monotonic() + timeout
        while (frame := self.read(max(deadline - time.monotonic(), 0.0))) is not None:
            if frame != wire(0x05):
                return frame
            self.skipped_enqs += 1
        return None

    def drain(self, quiet: float = 0.1) -> list[bytes]:
        """Every frame that arrives until the line stays quiet for ``quiet`` seconds."""
        frames = []
        while (frame := self.read(quiet)) is not None:
            frames.append(frame)
        return frames

    def _take(self) -> bytes | None:
        buf = self._buffer
        start = buf.find(SYNC)
        if start < 0:
            buf.clear()
            return None
        del buf[:start]
        if len(buf) < 2 or len(buf) < buf[1]:
            return None
        frame = bytes(buf[: buf[1]])
        del buf[: buf[1]]
        crc = crc16_kermit_bitwise(frame[:-2])
        assert frame[-2:] == bytes((crc & 0xFF, crc >> 8)), f"bad CRC: {frame.hex(' ')}"
        return frame

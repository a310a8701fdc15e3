"""ID-003 framing: CRC-16/KERMIT, frame encode/decode and a resynchronising stream parser.

Frame: ``SYNC(0xFC) LNG CODE DATA... CRC_lo CRC_hi`` where LNG is the whole frame length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYNC = 0xFC
MIN_LENGTH = 5  # SYNC, LNG, CODE, CRC_lo, CRC_hi
MAX_LENGTH = 0xFF


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc16_kermit(data: bytes) -> int:
    """CRC-16/KERMIT (poly 0x1021 reflected, init 0, no final xor)."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


@dataclass(frozen=True)
class Frame:
    """One decoded frame: a command (host→acceptor) or a status (acceptor→host) code plus data."""

    code: int
    data: bytes = field(default=b"")

    def encode(self) -> bytes:
        return encode_frame(self.code, self.data)

    def __str__(self) -> str:
        return f"{self.code:02X}" + (f" {self.data.hex(' ').upper()}" if self.data else "")


def encode_frame(code: int, data: bytes = b"") -> bytes:
    """Build the wire bytes of a frame, CRC low byte first."""
    length = MIN_LENGTH + len(data)
    if length > MAX_LENGTH:
        raise ValueError(f"frame data too long: {len(data)} bytes")
    if not 0 <= code <= 0xFF:
        raise ValueError(f"code out of range: {code}")
    body = bytes((SYNC, length, code)) + bytes(data)
    crc = crc16_kermit(body)
    return body + bytes((crc & 0xFF, crc >> 8))


def decode_frame(raw: bytes) -> Frame:
    """Decode exactly one complete frame; raises ValueError on any defect."""
    if len(raw) < MIN_LENGTH or raw[0] != SYNC or raw[1] != len(raw):
        raise ValueError(f"not a frame: {raw.hex(' ')}")
    crc = crc16_kermit(raw[:-2])
    if raw[-2] != crc & 0xFF or raw[-1] != crc >> 8:
        raise ValueError(f"bad CRC: {raw.hex(' ')}")
    return Frame(raw[2], bytes(raw[3:-2]))


class FrameParser:
    """Turns a byte stream into frames.

    Survives garbage, split reads, bad CRCs and impossible lengths: on any defect it drops the
    SYNC byte it started from and rescans for the next SYNC, so it never wedges.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.discarded = 0  # bytes thrown away while resynchronising (diagnostics)
        self.bad_frames = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        buf = self._buffer
        while buf:
            start = buf.find(SYNC)
            if start < 0:
                self.discarded += len(buf)
                buf.clear()
                break
            if start:
                self.discarded += start
                del buf[:start]
            if len(buf) < 2:
                break
            length = buf[1]
            if length < MIN_LENGTH:
                self._skip_sync()
                continue
            if len(buf) < length:
                break
            try:
                frames.append(decode_frame(bytes(buf[:length])))
            except ValueError:
                self._skip_sync()
                continue
            del buf[:length]
        return frames

    def _skip_sync(self) -> None:
        self.bad_frames += 1
        self.discarded += 1
        del self._buffer[:1]

    def expire(self) -> list[Frame]:
        """Give up on a partial frame (called on a response timeout) and rescan what is left.

        A garbage header such as ``FC FF`` would otherwise hold back a real frame behind it
        until 255 bytes had arrived.
        """
        if not self._buffer:
            return []
        self._skip_sync()
        return self.feed(b"")

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buffer)

    def reset(self) -> None:
        self._buffer.clear()

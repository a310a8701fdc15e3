"""Which characters a font file has glyphs for, read from its ``cmap`` table.

The UI asks this of every text it shows, so that a member name with a character the main font
lacks (e.g. 𠮷) is drawn with the fallback font rather than as an empty box.

Hand-written on purpose: fontTools reads the same table, but importing it keeps ~9.5 MB in the
process for good (measured), and the kiosk's memory goal is what chose a small main font. Only
what Japanese fonts use is read: TrueType/OpenType files and face 0 of a collection (``.ttc``),
``cmap`` formats 4 (Unicode BMP) and 12 (all of Unicode). A file without either is reported as
covering nothing, which sends every text to the fallback: visible, never wrong.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

UNICODE_SIZE = 0x110000
Buffer = bytes | mmap.mmap
# (platform, encoding) of the Unicode subtables, best first: full Unicode, then the BMP.
_PREFERRED = ((3, 10), (0, 4), (0, 6), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))


class FontFileError(ValueError):
    pass


class Coverage:
    """A bit per Unicode code point: set when the font maps it to a real glyph."""

    def __init__(self, bits: bytearray) -> None:
        self._bits = bits

    @classmethod
    def of_file(cls, path: Path) -> Coverage:
        with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return cls(_read_bits(data))

    def __contains__(self, char: str) -> bool:
        code = ord(char)
        return bool(self._bits[code >> 3] >> (code & 7) & 1)

    def __len__(self) -> int:
        return sum(bin(byte).count("1") for byte in self._bits)

    def missing(self, text: str) -> str:
        """The characters of ``text`` without a glyph (controls and spaces count as present)."""
        return "".join(c for c in text if not (c in self or c.isspace() or ord(c) < 0x20))


def _read_bits(data: Buffer) -> bytearray:
    try:
        return _cmap_bits(data, _face_offset(data))
    except struct.error as error:
        raise FontFileError(f"not a font file (truncated: {error})") from None


def _face_offset(data: Buffer) -> int:
    if data[:4] == b"ttcf":  # a collection: its first face
        return int(struct.unpack_from(">I", data, 12)[0])
    return 0


def _table(data: Buffer, face: int, tag: bytes) -> int:
    sfnt = data[face : face + 4]
    if sfnt not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        raise FontFileError(f"not a TrueType/OpenType font (starts with {sfnt!r})")
    (count,) = struct.unpack_from(">H", data, face + 4)
    for entry in range(count):
        name, _sum, offset, _size = struct.unpack_from(">4sIII", data, face + 12 + 16 * entry)
        if name == tag:
            return int(offset)
    raise FontFileError(f"the font has no {tag.decode()} table")


def _cmap_bits(data: Buffer, face: int) -> bytearray:
    cmap = _table(data, face, b"cmap")
    (count,) = struct.unpack_from(">2xH", data, cmap)
    subtables: dict[tuple[int, int], int] = {}
    for entry in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * entry)
        subtables.setdefault((platform, encoding), cmap + offset)
    bits = bytearray(UNICODE_SIZE // 8)
    for key in _PREFERRED:
        at = subtables.get(key)
        if at is None:
            continue
        (kind,) = struct.unpack_from(">H", data, at)
        if kind == 12:
            _format_12(data, at, bits)
            return bits
        if kind == 4:
            _format_4(data, at, bits)
            return bits
    return bits


def _set(bits: bytearray, code: int) -> None:
    if 0 <= code < UNICODE_SIZE:
        bits[code >> 3] |= 1 << (code & 7)


def _format_12(data: Buffer, at: int, bits: bytearray) -> None:
    (groups,) = struct.unpack_from(">12xI", data, at)
    for group in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, at + 16 + 12 * group)
        for code in range(first, min(last, UNICODE_SIZE - 1) + 1):
            if glyph + (code - first):  # glyph 0 is .notdef: no glyph
                _set(bits, code)


def _format_4(data: Buffer, at: int, bits: bytearray) -> None:
    (seg_x2,) = struct.unpack_from(">6xH", data, at)
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", data, at + 14)
    starts = struct.unpack_from(f">{segs}H", data, at + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 2 * seg_x2)
    range_at = at + 16 + 3 * seg_x2
    range_offsets = struct.unpack_from(f">{segs}H", data, range_at)
    for seg in range(segs):
        start, end, delta, range_offset = starts[seg], ends[seg], deltas[seg], range_offsets[seg]
        for code in range(start, end + 1):
            if code == 0xFFFF:
                continue
            if range_offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:  # the spec's pointer arithmetic, from this segment's idRangeOffset entry
                where = range_at + 2 * seg + range_offset + 2 * (code - start)
                (glyph,) = struct.unpack_from(">H", data, where)
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                _set(bits, code)

"""The APDUs a PC/SC FeliCa reader answers (PC/SC part 3 storage-card commands, as the RC-S300
and libccid implement them) and the ATR that marks a FeliCa card. Pure: no pcscd, no pyscard.

- GET DATA ``FF CA 00 00 00``: the IDm (8 bytes); ``FF CA 01 00 00``: the PMm.
- SELECT FILE ``FF A4 00 01 02 <service code, little-endian>``, then READ BINARY
  ``FF B0 00 <block> 00``: one 16-byte block of a service readable without a key.
Every answer ends with the status word; ``90 00`` is success.
"""

from __future__ import annotations

# PC/SC part 3: 3B 8F 80 01 80 4F 0C, RID A0 00 00 03 06, standard 11 (FeliCa), card name
# 00 3B (FeliCa), 4 bytes RFU, TCK. A Type A/B card has another standard or name.
FELICA_ATR = bytes.fromhex("3B8F8001804F0CA0000003061100 3B00000000 42".replace(" ", ""))
MIFARE_1K_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
OK = b"\x90\x00"

GET_IDM = bytes.fromhex("FFCA000000")
GET_PMM = bytes.fromhex("FFCA010000")


def select_service(service_code: int) -> bytes:
    return bytes.fromhex("FFA4000102") + service_code.to_bytes(2, "little")


def read_block(block: int) -> bytes:
    if not 0 <= block <= 0xFF:
        raise ValueError(f"block {block} cannot be read with READ BINARY (0..255)")
    return bytes([0xFF, 0xB0, 0x00, block, 0x00])


def is_felica(atr: bytes) -> bool:
    return atr == FELICA_ATR


class ApduError(Exception):
    """An answer that is not ``90 00``, or not the length asked for."""


def data_of(answer: bytes, length: int, what: str) -> bytes:
    """The data of a successful answer of ``length`` bytes; :class:`ApduError` otherwise."""
    if len(answer) < 2 or answer[-2:] != OK:
        status = answer[-2:].hex().upper() if len(answer) >= 2 else "none"
        raise ApduError(f"{what}: status {status}")
    if len(answer) - 2 != length:
        raise ApduError(f"{what}: {len(answer) - 2} bytes, not {length}")
    return answer[:-2]

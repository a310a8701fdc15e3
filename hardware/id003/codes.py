"""ID-003 code tables, split by direction (the same byte means different things each way)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum


class Command(IntEnum):
    """Host → acceptor."""

    STATUS_REQUEST = 0x11
    ACK = 0x50
    RESET = 0x40
    STACK_1 = 0x41
    STACK_2 = 0x42
    RETURN = 0x43
    HOLD = 0x44
    WAIT = 0x45
    SET_DENOMINATION = 0xC0
    SET_SECURITY = 0xC1
    SET_COMMUNICATION_MODE = 0xC2
    SET_INHIBIT = 0xC3
    SET_DIRECTION = 0xC4
    SET_OPTIONAL_FUNCTION = 0xC5
    SET_BARCODE_FUNCTION = 0xC6
    SET_BAR_INHIBIT = 0xC7
    GET_DENOMINATION = 0x80
    GET_SECURITY = 0x81
    GET_COMMUNICATION_MODE = 0x82
    GET_INHIBIT = 0x83
    GET_DIRECTION = 0x84
    GET_OPTIONAL_FUNCTION = 0x85
    GET_BARCODE_FUNCTION = 0x86
    GET_BAR_INHIBIT = 0x87
    VERSION_REQUEST = 0x88
    BOOT_VERSION_REQUEST = 0x89
    CURRENCY_ASSIGN_REQUEST = 0x8A


SETTING_COMMANDS = frozenset(c for c in Command if 0xC0 <= c <= 0xC7)
# Data bytes of each setting (C0..C7), and so of its read-back (80..87).
SETTING_SIZES: dict[int, int] = {
    Command.SET_DENOMINATION: 2,
    Command.SET_SECURITY: 2,
    Command.SET_COMMUNICATION_MODE: 1,
    Command.SET_INHIBIT: 1,
    Command.SET_DIRECTION: 1,
    Command.SET_OPTIONAL_FUNCTION: 2,
    Command.SET_BARCODE_FUNCTION: 2,
    Command.SET_BAR_INHIBIT: 1,
}
OPERATION_COMMANDS = frozenset(
    {Command.RESET, Command.STACK_1, Command.STACK_2, Command.RETURN, Command.HOLD, Command.WAIT}
)


class CommunicationMode(IntEnum):
    """Data of SET_COMMUNICATION_MODE (C2). In both interrupt modes the acceptor sends ENQ."""

    POLLING = 0x00
    INTERRUPT_1 = 0x01
    INTERRUPT_2 = 0x02


class Status(IntEnum):
    """Acceptor → host."""

    ENQ = 0x05  # interrupt modes only: "my status changed, ask me"
    IDLING = 0x11
    ACCEPTING = 0x12
    ESCROW = 0x13
    STACKING = 0x14
    VEND_VALID = 0x15
    STACKED = 0x16
    REJECTING = 0x17
    RETURNING = 0x18
    HOLDING = 0x19
    DISABLED = 0x1A
    INITIALIZE = 0x1B
    POWER_UP = 0x40
    POWER_UP_BILL_IN_ACCEPTOR = 0x41
    POWER_UP_BILL_IN_STACKER = 0x42
    STACKER_FULL = 0x43
    STACKER_OPEN = 0x44
    ACCEPTOR_JAM = 0x45
    STACKER_JAM = 0x46
    PAUSE = 0x47
    CHEATED = 0x48
    FAILURE = 0x49
    COMMUNICATION_ERROR = 0x4A
    INVALID_COMMAND = 0x4B
    ACK = 0x50


POWER_UP_STATUSES = frozenset(
    {Status.POWER_UP, Status.POWER_UP_BILL_IN_ACCEPTOR, Status.POWER_UP_BILL_IN_STACKER}
)
ERROR_STATUSES = frozenset(
    {
        Status.STACKER_FULL,
        Status.STACKER_OPEN,
        Status.ACCEPTOR_JAM,
        Status.STACKER_JAM,
        Status.PAUSE,
        Status.CHEATED,
        Status.FAILURE,
        Status.COMMUNICATION_ERROR,
    }
)


class RejectReason(IntEnum):
    """Data byte of REJECTING (0x17)."""

    INSERTION = 0x71
    MAGNETIC = 0x72
    REMAINING_BILL_IN_HEAD = 0x73
    COMPENSATION = 0x74
    CONVEYING = 0x75
    DENOMINATION = 0x76
    PHOTO_PATTERN_1 = 0x77
    PHOTO_LEVEL = 0x78
    INHIBITED = 0x79
    RESERVED = 0x7A
    OPERATION = 0x7B
    REMAINING_BILL_IN_STACKER = 0x7C
    LENGTH = 0x7D
    PHOTO_PATTERN_2 = 0x7E
    TRUE_BILL_FEATURE = 0x7F


class FailureCode(IntEnum):
    """Data byte of FAILURE (0x49)."""

    STACKER_MOTOR = 0xA2
    TRANSPORT_MOTOR_SPEED = 0xA5
    TRANSPORT_MOTOR = 0xA6
    ALIGNING_MOTOR = 0xA7
    CASH_BOX_NOT_READY = 0xAB
    HEAD_REMOVED = 0xAF
    BOOT_ROM = 0xB0
    EXTERNAL_ROM = 0xB1
    ROM = 0xB2
    EXTERNAL_ROM_WRITE = 0xB3


def enum_name(table: type[IntEnum], value: int) -> str:
    """Name of a code, or its hex for codes the table does not know."""
    try:
        return table(value).name.lower()
    except ValueError:
        return f"0x{value:02X}"


FIRST_ESCROW_CODE = 0x61
DENOMINATION_BITS = 16  # C0 carries two mask bytes: escrow codes 0x61..0x70


@dataclass(frozen=True)
class Denomination:
    escrow_code: int
    country: int
    value: int


class CurrencyTable:
    """Escrow code → note value, built from the acceptor's 0x8A reply (never hard-coded)."""

    def __init__(self, denominations: list[Denomination]) -> None:
        self._by_code = {d.escrow_code: d for d in denominations}

    @classmethod
    def parse(cls, data: bytes) -> CurrencyTable:
        """Parse 0x8A data: N blocks of ``[escrow code][country][base][exponent]``."""
        if len(data) % 4 or not data:
            raise ValueError(f"currency table must be whole 4-byte blocks, got {len(data)} bytes")
        entries = []
        for i in range(0, len(data), 4):
            code, country, base, exponent = data[i : i + 4]
            value = base * 10**exponent
            if value and country:
                entries.append(Denomination(code, country, value))
        if not entries:
            raise ValueError("currency table lists no notes")
        return cls(entries)

    def __iter__(self) -> Iterator[Denomination]:
        return iter(sorted(self._by_code.values(), key=lambda d: d.escrow_code))

    def value_of(self, escrow_code: int) -> int | None:
        d = self._by_code.get(escrow_code)
        return d.value if d else None

    @property
    def values(self) -> list[int]:
        return sorted({d.value for d in self})

    def disabled_mask(self, enabled_values: set[int] | None) -> bytes:
        """C0 data: bit n (byte n//8) set = escrow code 0x61+n refused. None enables every note."""
        mask = 0
        for bit in range(DENOMINATION_BITS):
            d = self._by_code.get(FIRST_ESCROW_CODE + bit)
            if d is None or (enabled_values is not None and d.value not in enabled_values):
                mask |= 1 << bit
        return bytes((mask & 0xFF, mask >> 8))

    def enabled_codes(self, mask: bytes) -> set[int]:
        """Escrow codes a C0 mask leaves enabled."""
        bits = int.from_bytes(mask[:2].ljust(2, b"\0"), "little")
        return {
            FIRST_ESCROW_CODE + bit
            for bit in range(DENOMINATION_BITS)
            if not bits >> bit & 1 and FIRST_ESCROW_CODE + bit in self._by_code
        }

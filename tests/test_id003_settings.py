"""Settings C0..C7 and their read-back 80..87: every answer has the setting's real size.

Expected frames are written out byte by byte (computed with a bitwise CRC-16/KERMIT, not with
the project's table) and checked on the simulator's pty as well as on the model.
"""

from __future__ import annotations

import pytest

from hardware.id003.codes import Command, Status
from hardware.id003.frames import Frame
from hardware.id003.sim.device import SimulatedDevice
from hardware.id003.sim.process import SimulatorProcess
from tests.support.acceptor_wire import RawHost, crc16_kermit_bitwise, wire

# Read-back request → the unit's answer at power-on, as wire bytes.
POWER_ON_READ_BACK = {
    0x80: "FC 07 80 00 00 5B B3",  # denominations: 2 bytes, all enabled
    0x81: "FC 07 81 00 00 87 E9",  # security: 2 bytes, normal
    0x82: "FC 06 82 00 BA 89",  # communication mode: polling
    0x83: "FC 06 83 01 EB 81",  # inhibit: refusing notes
    0x84: "FC 06 84 00 6A DD",  # direction: all taken
    0x85: "FC 07 85 00 00 E6 8A",  # optional functions: none
    0x86: "FC 07 86 00 00 82 65",  # barcode function: none
    0x87: "FC 06 87 FC E1 CA",  # bar inhibit: nothing refused
}
SIZES = {0xC0: 2, 0xC1: 2, 0xC2: 1, 0xC3: 1, 0xC4: 1, 0xC5: 2, 0xC6: 2, 0xC7: 1}
INVALID = "FC 05 4B F8 AB"


def test_the_expected_frames_are_right() -> None:
    assert crc16_kermit_bitwise(b"123456789") == 0x2189  # the catalogue check value
    for code, text in POWER_ON_READ_BACK.items():
        assert wire(code, bytes.fromhex(text)[3:-2]) == bytes.fromhex(text)
        assert len(bytes.fromhex(text)) == 5 + SIZES[code + 0x40]
    assert wire(0x4B).hex(" ").upper() == INVALID


@pytest.mark.parametrize("code", sorted(POWER_ON_READ_BACK), ids=lambda c: f"{c:02X}")
def test_power_on_read_back_has_the_setting_size(code: int) -> None:
    reply = SimulatedDevice().handle(Frame(code), 0.0)
    assert reply is not None
    assert reply.encode() == bytes.fromhex(POWER_ON_READ_BACK[code])


@pytest.mark.parametrize(
    ("setting", "data"),
    [
        (0xC0, b"\xfc\xff"),
        (0xC1, b"\x0f\x00"),
        (0xC2, b"\x02"),
        (0xC3, b"\x00"),
        (0xC4, b"\x0c"),
        (0xC5, b"\x03\x00"),
        (0xC6, b"\x01\x12"),
        (0xC7, b"\xfe"),
    ],
    ids=lambda v: f"{v:02X}" if isinstance(v, int) else v.hex(),
)
def test_a_setting_is_echoed_and_read_back_whole(setting: int, data: bytes) -> None:
    device = SimulatedDevice()
    assert device.handle(Frame(setting, data), 0.0) == Frame(setting, data)
    reply = device.handle(Frame(setting - 0x40), 0.0)
    assert reply is not None and reply.encode() == wire(setting - 0x40, data)
    device.power_cut()
    device.power_on()  # settings are lost with the power
    reply = device.handle(Frame(setting - 0x40), 0.0)
    assert reply is not None
    assert reply.encode() == bytes.fromhex(POWER_ON_READ_BACK[setting - 0x40])


@pytest.mark.parametrize("setting", sorted(SIZES), ids=lambda c: f"{c:02X}")
def test_a_setting_of_the_wrong_size_is_refused_and_kept(setting: int) -> None:
    device = SimulatedDevice()
    before = device.handle(Frame(setting - 0x40), 0.0)
    for size in (0, SIZES[setting] + 1):
        reply = device.handle(Frame(setting, b"\x00" * size), 0.0)
        assert reply == Frame(Status.INVALID_COMMAND)
    assert device.handle(Frame(setting - 0x40), 0.0) == before


def test_an_unknown_communication_mode_is_refused() -> None:
    device = SimulatedDevice()
    assert device.handle(Frame(Command.SET_COMMUNICATION_MODE, b"\x03"), 0.0) == Frame(
        Status.INVALID_COMMAND
    )
    assert device.handle(Frame(Command.GET_COMMUNICATION_MODE), 0.0) == Frame(
        Command.GET_COMMUNICATION_MODE, b"\x00"
    )


def test_read_back_bytes_on_the_pty(sim: SimulatorProcess) -> None:
    with RawHost(sim.path) as host:
        for code, text in POWER_ON_READ_BACK.items():
            assert host.ask(code) == bytes.fromhex(text), f"{code:02X}"
        assert host.ask(0xC0, b"\x01\x00") == wire(0xC0, b"\x01\x00")  # the echo
        assert host.ask(0x80) == wire(0x80, b"\x01\x00")
        assert host.ask(0xC0, b"\x01") == bytes.fromhex(INVALID)
